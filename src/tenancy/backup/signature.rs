//! Exports are signed with the operator's key (`export.signing_key`): HMAC-SHA256 over every
//! line before the trailer (each with its newline), then `end:` and the trailer's counts as
//! JSON. An import checks it before it writes anything, and again over what it loaded.

use std::collections::BTreeMap;
use std::io::Write;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::AppError;
use crate::lang::Msg;

/// How a signature starts in the trailer's `signature` field.
pub const SCHEME: &str = "hmac-sha256:";

pub type Signer = Hmac<Sha256>;

pub fn signer(key: &[u8]) -> Signer {
    // HMAC takes a key of any length.
    <Signer as Mac>::new_from_slice(key).expect("an HMAC key of any length")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn add_end(mac: &mut Signer, end: &BTreeMap<String, u64>) {
    mac.update(b"end:");
    mac.update(serde_json::to_string(end).unwrap_or_default().as_bytes());
}

/// The trailer's signature for the lines `mac` has seen and the counts `end`.
pub fn sign(mut mac: Signer, end: &BTreeMap<String, u64>) -> String {
    add_end(&mut mac, end);
    format!("{SCHEME}{}", hex(&mac.finalize().into_bytes()))
}

fn refused(vi: &str, en: &str) -> AppError {
    AppError::conflict(
        "import_refused",
        Msg::owned(format!("Không thể nhập: {vi}"), en.to_string()),
    )
}

/// Checks `given` (the trailer's signature) in constant time.
pub fn check(
    mut mac: Signer,
    end: &BTreeMap<String, u64>,
    given: Option<&str>,
) -> Result<(), AppError> {
    let Some(given) = given else {
        return Err(refused(
            "tệp xuất không được ký (không có chữ ký của nhà vận hành); không ghi gì cả.",
            "the export is not signed (no operator signature in its last line); nothing was written.",
        ));
    };
    let bytes = given.strip_prefix(SCHEME).and_then(unhex);
    add_end(&mut mac, end);
    match bytes {
        Some(b) if mac.verify_slice(&b).is_ok() => Ok(()),
        _ => Err(refused(
            "chữ ký của tệp xuất không khớp (tệp đã bị sửa, hoặc được ký bằng khoá khác); không ghi gì cả.",
            "the export's signature does not match (the file was altered, or signed with another key); nothing was written.",
        )),
    }
}

/// Passes writes through to `out` and feeds them to the signature.
pub struct SigningWriter<'a> {
    pub out: &'a mut dyn Write,
    pub mac: Signer,
}

impl Write for SigningWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.mac.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_checks_with_its_key_only() {
        let end: BTreeMap<String, u64> = [("tenant:dossiers".to_string(), 2)].into();
        let mut m = signer(b"k1");
        m.update(b"line\n");
        let sig = sign(m.clone(), &end);
        assert!(check(m.clone(), &end, Some(&sig)).is_ok());
        let mut other = signer(b"k2");
        other.update(b"line\n");
        assert!(check(other, &end, Some(&sig)).is_err());
        let more: BTreeMap<String, u64> = [("tenant:dossiers".to_string(), 3)].into();
        assert!(check(m.clone(), &more, Some(&sig)).is_err());
        assert!(check(m.clone(), &end, None).is_err());
        assert!(check(m, &end, Some("hmac-sha256:zz")).is_err());
    }
}
