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

    /// Host names as clients send them: labels of letters, digits and inner hyphens.
    fn dns_name() -> impl Strategy<Value = String> {
        let label = "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?";
        proptest::collection::vec(label, 1..4).prop_map(|labels| labels.join("."))
    }

    /// The same name in mixed case.
    fn recase(name: &str, mask: u64) -> String {
        name.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }

    const BASES: [&str; 2] = ["localhost", "dichvucong.gov.vn"];

    /// An independent statement of the rules, for valid lower-case names.
    fn expected(host: &str, base: &str) -> HostKind {
        if host == base || host == format!("www.{base}") {
            HostKind::National
        } else if host == format!("ops.{base}") {
            HostKind::Operator
        } else if let Some(label) = host.strip_suffix(&format!(".{base}"))
            && !label.contains('.')
        {
            HostKind::Subdomain(label.to_string())
        } else {
            HostKind::Custom(host.to_string())
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

        #[test]
        fn arbitrary_text_never_panics_and_accepted_hosts_are_plain_names(
            s in any::<String>(),
            base in proptest::sample::select(&BASES[..]),
        ) {
            let name = match classify(&s, base) {
                HostKind::Invalid => return Ok(()),
                HostKind::National | HostKind::Operator => return Ok(()),
                HostKind::Subdomain(l) => l,
                HostKind::Custom(h) => h,
            };
            prop_assert!(!name.is_empty());
            prop_assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
        }

        /// Every valid name lands on exactly the site the rules say, and only there.
        #[test]
        fn each_accepted_host_maps_to_exactly_one_site(
            name in dns_name(),
            prefix in proptest::sample::select(&["", "www.", "ops.", "x.", "a.b."][..]),
            base in proptest::sample::select(&BASES[..]),
            under_base in any::<bool>(),
        ) {
            let host = if under_base { format!("{prefix}{base}") } else { format!("{prefix}{name}") };
            let kind = classify(&host, base);
            prop_assert_eq!(&kind, &expected(&host, base));
            let sites = [
                kind == HostKind::National,
                kind == HostKind::Operator,
                matches!(kind, HostKind::Subdomain(_)),
                matches!(kind, HostKind::Custom(_)),
            ];
            prop_assert_eq!(sites.iter().filter(|s| **s).count(), 1);
            // What a host names is stable: naming it again by its normalised form agrees.
            match &kind {
                HostKind::Subdomain(l) => {
                    prop_assert!(l != "www" && l != "ops");
                    prop_assert_eq!(classify(&format!("{l}.{base}"), base), kind.clone());
                }
                HostKind::Custom(h) => prop_assert_eq!(classify(h, base), kind.clone()),
                _ => {}
            }
        }

        /// Case, a port and one trailing dot never change the site.
        #[test]
        fn case_port_and_trailing_dot_are_ignored(
            name in dns_name(),
            prefix in proptest::sample::select(&["", "www.", "ops.", "ha-noi."][..]),
            base in proptest::sample::select(&BASES[..]),
            under_base in any::<bool>(),
            mask in any::<u64>(),
            port in proptest::option::of(any::<u16>()),
            dot in any::<bool>(),
        ) {
            let host = if under_base { format!("{prefix}{base}") } else { format!("{prefix}{name}") };
            let mut sent = recase(&host, mask);
            if dot {
                sent.push('.');
            }
            if let Some(p) = port {
                sent.push_str(&format!(":{p}"));
            }
            prop_assert_eq!(classify(&sent, base), classify(&host, base), "{}", sent);
            prop_assert_ne!(classify(&sent, base), HostKind::Invalid);
        }

        /// Anything but letters, digits, hyphens and dots in the name is refused (surrounding
        /// whitespace is trimmed, so none is inserted here).
        #[test]
        fn names_with_other_characters_are_invalid(
            name in dns_name(),
            at in any::<proptest::sample::Index>(),
            bad in proptest::sample::select(&['/', '@', '_', '\\', '[', ']', '%', '?', '#', '\u{e9}', '\0'][..]),
        ) {
            let mut chars: Vec<char> = name.chars().collect();
            chars.insert(at.index(chars.len() + 1), bad);
            let host: String = chars.into_iter().collect();
            prop_assert_eq!(classify(&host, "localhost"), HostKind::Invalid, "{:?}", host);
        }
    }
}
