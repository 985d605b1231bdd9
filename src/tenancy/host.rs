//! From a `Host` header to the kind of site it names; pure, so it can be fuzzed.

/// What a host names before the registry is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKind {
    National,
    Operator,
    /// `<label>.<base>`: a province's subdomain (or an alias kept after a rename).
    Subdomain(String),
    /// Any other host: maybe a custom domain of a province.
    Custom(String),
    /// Not a host name at all.
    Invalid,
}

/// Lower-cases, strips the port and a trailing dot, and classifies against `base`.
pub fn classify(host_header: &str, base: &str) -> HostKind {
    let host = normalize(host_header);
    let Some(host) = host else {
        return HostKind::Invalid;
    };
    if host == base || host.strip_prefix("www.") == Some(base) {
        return HostKind::National;
    }
    if host.strip_prefix("ops.") == Some(base) {
        return HostKind::Operator;
    }
    if let Some(label) = host
        .strip_suffix(base)
        .and_then(|rest| rest.strip_suffix('.'))
        && !label.is_empty()
        && !label.contains('.')
    {
        return HostKind::Subdomain(label.to_string());
    }
    HostKind::Custom(host)
}

/// `Ha-Noi.Localhost:8080.` → `ha-noi.localhost`; `None` for anything that is not a DNS name.
pub fn normalize(host_header: &str) -> Option<String> {
    let host = host_header.trim();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classifies_hosts() {
        let cases = [
            ("localhost", HostKind::National),
            ("www.localhost:8080", HostKind::National),
            ("OPS.LOCALHOST", HostKind::Operator),
            (
                "ha-noi.localhost:8080",
                HostKind::Subdomain("ha-noi".into()),
            ),
            ("Ha-Noi.Localhost.", HostKind::Subdomain("ha-noi".into())),
            ("a.b.localhost", HostKind::Custom("a.b.localhost".into())),
            (
                "dichvucong.hanoi.gov.vn",
                HostKind::Custom("dichvucong.hanoi.gov.vn".into()),
            ),
            ("", HostKind::Invalid),
            ("bad host", HostKind::Invalid),
            ("[::1]:8080", HostKind::Invalid),
            ("evil.com/x", HostKind::Invalid),
            ("-x.localhost", HostKind::Invalid),
        ];
        for (input, want) in cases {
            assert_eq!(classify(input, "localhost"), want, "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_normalized(s in "\\PC{0,80}") {
            match classify(&s, "localhost") {
                HostKind::Subdomain(l) => prop_assert!(!l.contains('.') && l == l.to_ascii_lowercase()),
                HostKind::Custom(h) => prop_assert!(h == h.to_ascii_lowercase() && !h.contains(':')),
                _ => {}
            }
        }
    }
}
