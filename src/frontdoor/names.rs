//! Names people use for a province: its name today, the names of the provinces merged into it
//! on 1 July 2025 (`reference/provinces-2025-merge.csv`, compiled in), and common aliases
//! ("Sài Gòn", "hcm"). Matching ignores case and Vietnamese diacritics.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::catalog::fold_vietnamese;

/// Common names that are not official ones, by the province's national code. Short ones
/// (abbreviations) match only the whole query, so "hn" does not find every name with an "hn".
const ALIASES: &[(&str, &[&str])] = &[
    ("01", &["hn", "hanoi", "thu do"]),
    ("31", &["hp", "haiphong"]),
    ("46", &["hue", "co do"]),
    ("48", &["dn", "danang"]),
    (
        "79",
        &[
            "sai gon",
            "saigon",
            "sg",
            "hcm",
            "hcmc",
            "tphcm",
            "tp hcm",
            "ho chi minh city",
        ],
    ),
    ("92", &["ct", "cantho"]),
];

/// Words that say "province" or "city" and tell nothing about which one.
const GENERIC: &[&str] = &["tinh", "thanh", "pho", "tp", "province", "city"];

/// Every name of one province, folded for matching.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// Former provinces' names (the 2025 merger), as written.
    pub former: Vec<String>,
    folded_names: Vec<String>,
    aliases: Vec<String>,
}

#[derive(serde::Deserialize)]
struct MergeRow {
    #[allow(dead_code)]
    old_code: String,
    old_name: String,
    new_code: String,
    #[allow(dead_code)]
    new_name: String,
}

/// The former names of each province of 2025, by its national code.
pub fn former_names() -> &'static HashMap<String, Vec<String>> {
    static MAP: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        let mut reader = csv::Reader::from_reader(
            include_str!("../../reference/provinces-2025-merge.csv").as_bytes(),
        );
        for row in reader.deserialize::<MergeRow>() {
            // A unit test reads the same file: a bad line fails the build's tests.
            let row = row.unwrap_or_else(|e| panic!("provinces-2025-merge.csv: {e}"));
            map.entry(row.new_code).or_default().push(row.old_name);
        }
        map
    })
}

/// Folded, with punctuation as spaces and single spaces: "TP. Hồ Chí Minh" → "tp ho chi minh".
fn plain(text: &str) -> String {
    fold_vietnamese(text)
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Strips what every province name starts with ("Tỉnh", "Thành phố"), folded.
fn core(folded: &str) -> String {
    folded
        .split_whitespace()
        .filter(|w| !GENERIC.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Names {
    /// The names of a province called `name` today, with national code `code` if it has one.
    pub fn of(name: &str, slug: &str, code: Option<&str>) -> Names {
        let mut names = vec![name.to_string(), slug.replace('-', " ")];
        let mut former = Vec::new();
        let mut aliases = Vec::new();
        if let Some(code) = code {
            if let Some(list) = former_names().get(code) {
                former = list.clone();
                names.extend(list.iter().cloned());
            }
            if let Some(national) = crate::units::national::province_name(code) {
                names.push(national.to_string());
            }
            if let Some((_, list)) = ALIASES.iter().find(|(c, _)| *c == code) {
                aliases = list.iter().map(|a| a.to_string()).collect();
            }
        }
        Names {
            former,
            folded_names: names.iter().map(|n| core(&plain(n))).collect(),
            aliases,
        }
    }

    /// Adds names the province was known by in the platform (a rename, provinces merged into
    /// it by a reorganisation), listed as former names like those of 2025.
    pub fn with_former(mut self, names: &[String]) -> Names {
        for n in names {
            if !self.former.contains(n) {
                self.former.push(n.clone());
            }
            self.folded_names.push(core(&plain(n)));
        }
        self
    }

    /// Whether `query` names this province: every meaningful word of it is in one of its
    /// names, or the whole query is one of its aliases.
    pub fn matches(&self, query: &str) -> bool {
        let folded = plain(query);
        if folded.is_empty() {
            return false;
        }
        if self
            .aliases
            .iter()
            .any(|a| *a == folded || a.replace(' ', "") == folded.replace(' ', ""))
        {
            return true;
        }
        let wanted = core(&folded);
        let words: Vec<&str> = wanted.split_whitespace().collect();
        if words.is_empty() {
            return false;
        }
        self.folded_names.iter().any(|n| {
            let have: Vec<&str> = n.split_whitespace().collect();
            // Whole words, so "an" does not find every name with "an" inside a word.
            words.iter().all(|w| have.contains(w))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ho_chi_minh_city_is_found_by_every_name_people_use() {
        let hcm = Names::of("Thành phố Hồ Chí Minh", "ho-chi-minh", Some("79"));
        for q in [
            "Bình Dương",
            "binh duong",
            "BÌNH DƯƠNG",
            "Bà Rịa - Vũng Tàu",
            "vung tau",
            "Sài Gòn",
            "sai gon",
            "hcm",
            "HCM",
            "TP HCM",
            "tp. hồ chí minh",
            "Hồ Chí Minh",
        ] {
            assert!(hcm.matches(q), "{q}");
        }
        for q in ["", "tỉnh", "Hà Nội", "quang nam", "h"] {
            assert!(!hcm.matches(q), "{q}");
        }
    }

    #[test]
    fn da_nang_is_found_by_quang_nam() {
        let dn = Names::of("Thành phố Đà Nẵng", "da-nang", Some("48"));
        assert!(dn.matches("Quảng Nam"));
        assert!(dn.matches("quang nam"));
        assert!(dn.former.iter().any(|n| n.contains("Quảng Nam")));
    }

    #[test]
    fn the_merger_file_names_63_former_provinces_into_34() {
        let map = former_names();
        assert_eq!(map.len(), 34);
        assert_eq!(map.values().map(Vec::len).sum::<usize>(), 63);
    }
}
