//! A file's type from its bytes, never its name; and a harmless name to store. A leaf: dossiers
//! (attachments) and tenancy (logos) both sniff.

/// The accepted types, recognised by their signatures.
pub fn content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "bin",
    }
}

/// Keeps the last path segment, letters (Vietnamese included), digits, `.`, `-`, `_`, spaces
/// and parentheses; at most 100 characters; the extension always matches the real type.
pub fn safe_name(given: &str, content_type: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim();
    let ext = extension(content_type);
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => cleaned,
    };
    let stem: String = stem.trim_matches('.').chars().take(90).collect();
    let stem = if stem.trim().is_empty() {
        "tep-dinh-kem".to_string()
    } else {
        stem
    };
    format!("{stem}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_bytes() {
        assert_eq!(content_type(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(content_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(content_type(b"MZ\x90\x00 this is an exe"), None);
        assert_eq!(content_type(b""), None);
    }

    #[test]
    fn names_are_harmless() {
        assert_eq!(
            safe_name("../../etc/passwd", "application/pdf"),
            "passwd.pdf"
        );
        assert_eq!(
            safe_name("C:\\x\\giấy tờ.PDF", "application/pdf"),
            "giấy tờ.pdf"
        );
        assert_eq!(safe_name("virus.exe", "image/png"), "virus.png");
        assert_eq!(safe_name("<script>.pdf", "application/pdf"), "_script_.pdf");
        assert_eq!(safe_name("", "image/jpeg"), "tep-dinh-kem.jpg");
        assert_eq!(safe_name("....", "image/jpeg"), "tep-dinh-kem.jpg");
        assert!(
            safe_name(&"a".repeat(500), "application/pdf")
                .chars()
                .count()
                <= 100
        );
    }
}
