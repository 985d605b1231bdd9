//! `Slug`: a province's name in URLs, schema names and role names.

use std::fmt;

use crate::lang::Msg;

/// `^[a-z][a-z0-9-]{1,29}$`, not starting with `pg`, no trailing or doubled hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Slug, Msg> {
        let bytes = input.as_bytes();
        let well_formed = (2..=30).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if !well_formed {
            return Err(Msg::new(
                "Mã tỉnh gồm 2–30 ký tự: chữ thường không dấu, số, dấu gạch ngang, bắt đầu bằng chữ.",
                "A slug has 2–30 characters: lower-case ASCII letters, digits and hyphens, starting with a letter.",
            ));
        }
        if input.starts_with("pg") {
            return Err(Msg::new(
                "Mã tỉnh không được bắt đầu bằng \"pg\".",
                "A slug may not start with \"pg\".",
            ));
        }
        if input.ends_with('-') || input.contains("--") {
            return Err(Msg::new(
                "Mã tỉnh không được kết thúc bằng hoặc lặp dấu gạch ngang.",
                "A slug may not end with or repeat a hyphen.",
            ));
        }
        if RESERVED.contains(&input) {
            return Err(Msg::new(
                "Mã tỉnh này được hệ thống dành riêng.",
                "This slug is reserved.",
            ));
        }
        Ok(Slug(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `ha-noi` → `t_ha_noi`. Injective because a slug has no underscore.
    pub fn schema_name(&self) -> String {
        format!("t_{}", self.0.replace('-', "_"))
    }
}

/// Labels that name the platform's own sites or would confuse people.
const RESERVED: [&str; 8] = [
    "www", "ops", "api", "admin", "static", "mail", "status", "public",
];

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_province_slugs() {
        for ok in [
            "ha-noi",
            "ho-chi-minh",
            "hue",
            "dak-lak",
            "x1",
            "a2345678901234567890123456789b",
        ] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Slug::parse("ha-noi").unwrap().schema_name(), "t_ha_noi");
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "a",
            "Ha-noi",
            "1abc",
            "pg-x",
            "pgadmin",
            "a'b",
            "a\"b",
            "a;b",
            "a b",
            "hà-nội",
            "a_b",
            "ab-",
            "a--b",
            "ops",
            "www",
            "a23456789012345678901234567890b",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
    }
}
