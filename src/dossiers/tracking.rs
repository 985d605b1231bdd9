//! Tracking codes: `HNI-2611-4F7K2Q`: province code, year and month, six characters that are
//! easy to read aloud (no 0/O, 1/I/L, U).

use chrono::{Datelike, NaiveDate};
use rand::Rng;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn generate(province_code: &str, today: NaiveDate) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!(
        "{province_code}-{:02}{:02}-{tail}",
        today.year() % 100,
        today.month()
    )
}

/// Upper-cases, trims and drops spaces, so a code read over the phone still matches.
pub fn normalize(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_documented_shape() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let code = generate("HNI", d);
        assert!(code.starts_with("HNI-2611-"), "{code}");
        assert_eq!(code.len(), "HNI-2611-".len() + 6);
        assert!(code[9..].bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(normalize(" hni-2611-4f7k2q "), "HNI-2611-4F7K2Q");
    }
}
