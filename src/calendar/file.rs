//! The operator's calendar file: the Government's yearly decisions, in TOML.
//!
//! ```toml
//! [[day]]
//! date = "2026-01-02"   # or unquoted: date = 2026-01-02
//! kind = "holiday"      # or "working"
//! note = "Swapped with Saturday 10 Jan 2026"   # optional
//! ```

use chrono::NaiveDate;
use toml::Value;

use super::{DayKind, DayOverride};

/// Years a calendar entry may name: anything else is a typo.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
const NOTE_MAX_CHARS: usize = 200;

/// Reads a calendar file. Every problem is reported, each naming its entry (`day #N`, counted
/// from 1 in file order) and field.
pub fn parse_file(text: &str) -> Result<Vec<DayOverride>, Vec<String>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| vec![format!("not TOML: {e}")])?;
    let mut errors = Vec::new();
    for key in table.keys().filter(|k| *k != "day") {
        errors.push(format!(
            "{key}: unknown key (the file holds [[day]] entries only)"
        ));
    }
    let entries = match table.get("day") {
        None => {
            errors.push("day: no [[day]] entries".to_string());
            return Err(errors);
        }
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            errors.push("day: must be a list of [[day]] tables".to_string());
            return Err(errors);
        }
    };

    let mut days: Vec<DayOverride> = Vec::new();
    let mut first_entry: Vec<(NaiveDate, usize)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let n = i + 1;
        let mut fail = |field: &str, why: String| errors.push(format!("day #{n}: {field}: {why}"));
        let Value::Table(entry) = entry else {
            fail("day", "must be a table ([[day]])".into());
            continue;
        };
        for key in entry.keys() {
            if !matches!(key.as_str(), "date" | "kind" | "note") {
                fail(key, "unknown field (expected date, kind, note)".into());
            }
        }
        let date = match entry.get("date") {
            None => {
                fail("date", "missing".into());
                None
            }
            Some(value) => match parse_date(value) {
                Ok(d) => Some(d),
                Err(why) => {
                    fail("date", why);
                    None
                }
            },
        };
        let kind = match entry.get("kind") {
            None => {
                fail("kind", "missing (\"holiday\" or \"working\")".into());
                None
            }
            Some(Value::String(s)) => DayKind::parse(s).or_else(|| {
                fail(
                    "kind",
                    format!("{s:?} is neither \"holiday\" nor \"working\""),
                );
                None
            }),
            Some(_) => {
                fail("kind", "must be the text \"holiday\" or \"working\"".into());
                None
            }
        };
        let note = match entry.get("note") {
            None => Some(String::new()),
            Some(Value::String(s)) if s.chars().count() > NOTE_MAX_CHARS => {
                fail("note", format!("longer than {NOTE_MAX_CHARS} characters"));
                None
            }
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                fail("note", "must be one line of text".into());
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(_) => {
                fail("note", "must be text".into());
                None
            }
        };
        if let Some(date) = date {
            if let Some((_, earlier)) = first_entry.iter().find(|(d, _)| *d == date) {
                fail("date", format!("{date} is already given by day #{earlier}"));
                continue;
            }
            first_entry.push((date, n));
        }
        if let (Some(day), Some(kind), Some(note)) = (date, kind, note) {
            days.push(DayOverride { day, kind, note });
        }
    }
    if errors.is_empty() {
        Ok(days)
    } else {
        Err(errors)
    }
}

fn parse_date(value: &Value) -> Result<NaiveDate, String> {
    let date = match value {
        Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| format!("{s:?} is not a valid date (YYYY-MM-DD)"))?,
        Value::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(|| format!("{dt} is not a real date"))?
            }
            _ => return Err(format!("{dt} is not a plain date (YYYY-MM-DD)")),
        },
        _ => return Err("must be a date written YYYY-MM-DD".into()),
    };
    if !YEARS.contains(&chrono::Datelike::year(&date)) {
        return Err(format!(
            "{date} is outside {}–{}",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_parses_with_both_date_spellings() {
        let days = parse_file(
            "[[day]]\ndate = \"2026-01-02\"\nkind = \"holiday\"\nnote = \" Bridge \"\n\
             [[day]]\ndate = 2026-01-10\nkind = \"working\"\n",
        )
        .unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].day, NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
        assert_eq!(days[0].kind, DayKind::Holiday);
        assert_eq!(days[0].note, "Bridge");
        assert_eq!(days[1].kind, DayKind::Working);
        assert_eq!(days[1].note, "");
    }

    #[test]
    fn errors_name_the_entry_and_the_field() {
        let errors = parse_file(
            "[[day]]\ndate = \"2026-01-02\"\nkind = \"holiday\"\n\
             [[day]]\ndate = \"2026-02-30\"\nkind = \"holiday\"\n\
             [[day]]\ndate = \"2026-03-01\"\nkind = \"weekend\"\n\
             [[day]]\ndate = \"2026-01-02\"\nkind = \"working\"\ncolour = 1\n\
             [[day]]\nkind = \"working\"\nnote = 5\n",
        )
        .unwrap_err();
        let all = errors.join("\n");
        assert!(all.contains("day #2: date:"), "{all}");
        assert!(all.contains("day #3: kind:"), "{all}");
        assert!(all.contains("day #4: colour:"), "{all}");
        assert!(
            all.contains("day #4: date: 2026-01-02 is already given by day #1"),
            "{all}"
        );
        assert!(all.contains("day #5: date: missing"), "{all}");
        assert!(all.contains("day #5: note:"), "{all}");
    }

    #[test]
    fn a_file_without_entries_or_with_syntax_errors_is_refused() {
        assert!(parse_file("").unwrap_err().join("").contains("no [[day]]"));
        assert!(parse_file("[[day]\n").unwrap_err()[0].starts_with("not TOML"));
        assert!(
            parse_file("year = 2026\n[[day]]\ndate = \"2026-01-02\"\nkind = \"holiday\"\n")
                .unwrap_err()[0]
                .starts_with("year: unknown key")
        );
        assert!(
            parse_file("[[day]]\ndate = \"1026-01-02\"\nkind = \"holiday\"\n").unwrap_err()[0]
                .contains("outside")
        );
    }
}
