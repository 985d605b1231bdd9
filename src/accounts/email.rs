//! `Email`: trimmed, lower-cased, plausibly deliverable.

use std::fmt;

use crate::lang::Msg;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, Msg> {
        let email = input.trim().to_lowercase();
        let bad = || {
            Msg::new(
                "Địa chỉ email không hợp lệ.",
                "The email address is not valid.",
            )
        };
        let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && !local.contains(char::is_whitespace)
            && !local.contains(['<', '>', '"', '@', ',', ';'])
            && crate::hostname::normalize(domain).as_deref() == Some(domain)
            && domain.contains('.');
        if ok { Ok(Email(email)) } else { Err(bad()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses() {
        assert_eq!(
            Email::parse("  An.Nguyen@Example.VN ").unwrap().as_str(),
            "an.nguyen@example.vn"
        );
        for bad in [
            "",
            "x",
            "a@b",
            "@b.vn",
            "a b@c.vn",
            "a@-b.vn",
            "<a>@b.vn",
            "a@b.vn:25",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
