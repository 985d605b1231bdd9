//! Access tokens: HS256 JWTs whose `aud` is the site that issued them.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The account id.
    pub sub: String,
    /// The site: `portal:operator`, `portal:national` or `portal:tenant:<uuid>`.
    pub aud: String,
    pub role: String,
    pub iat: u64,
    pub exp: u64,
    /// The account's token version when issued: refused once the account's has moved on
    /// (sign-out, new password, deactivation). Tokens from before versions count as 0.
    #[serde(default)]
    pub ver: i64,
    /// The assurance level the session was signed in at (#17.2): 1 for a password or national
    /// sign-in at level 1, 2 for national sign-in at level 2. Older tokens count as 1.
    #[serde(default = "level_one")]
    pub loa: u8,
}

fn level_one() -> u8 {
    1
}

#[derive(Clone)]
pub struct Jwt {
    encoding: EncodingKey,
    /// The current key first, then the previous one during a rotation.
    decoding: Vec<DecodingKey>,
    ttl_secs: u64,
    /// Derives the CSRF token bound to a session (never leaves the process).
    binding_key: Vec<u8>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

impl Jwt {
    pub fn new(secret: &SecretString, ttl_secs: u64) -> Jwt {
        let key = secret.expose_secret().as_bytes();
        Jwt {
            encoding: EncodingKey::from_secret(key),
            decoding: vec![DecodingKey::from_secret(key)],
            ttl_secs,
            binding_key: key.to_vec(),
        }
    }

    /// Also accepts tokens signed with `previous` (never signs with it): rotating the key
    /// without signing anyone out.
    pub fn with_previous(mut self, previous: Option<&SecretString>) -> Jwt {
        if let Some(p) = previous.filter(|p| !p.expose_secret().is_empty()) {
            self.decoding
                .push(DecodingKey::from_secret(p.expose_secret().as_bytes()));
        }
        self
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// A value bound to `data` (a session token) by the server's secret: HMAC-SHA256 of a
    /// labelled message, hex. Nobody without the secret can compute it for a given session.
    pub fn bind(&self, label: &str, data: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.binding_key)
            .expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn issue(&self, sub: &str, aud: &str, role: &str, ver: i64) -> Result<String, AppError> {
        self.issue_at_level(sub, aud, role, ver, 1)
    }

    /// [`Jwt::issue`] for a session signed in at assurance level `loa`.
    pub fn issue_at_level(
        &self,
        sub: &str,
        aud: &str,
        role: &str,
        ver: i64,
        loa: u8,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let claims = Claims {
            sub: sub.to_string(),
            aud: aud.to_string(),
            role: role.to_string(),
            iat: now,
            exp: now + self.ttl_secs,
            ver,
            loa,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("jwt encode: {e}")))
    }

    /// Checks signature, algorithm (HS256 only), expiry and audience.
    pub fn verify(&self, token: &str, aud: &str) -> Result<Claims, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[aud]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 30;
        self.decoding
            .iter()
            .find_map(|key| decode::<Claims>(token, key, &validation).ok())
            .map(|data| data.claims)
            .ok_or_else(AppError::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str) -> Jwt {
        Jwt::new(&SecretString::from(secret.to_string()), 60)
    }

    #[test]
    fn a_token_is_valid_only_for_its_audience_and_key() {
        let a = jwt("0123456789abcdef0123456789abcdef");
        let token = a.issue("u1", "portal:operator", "operator", 0).unwrap();
        assert_eq!(a.verify(&token, "portal:operator").unwrap().sub, "u1");
        assert!(a.verify(&token, "portal:national").is_err());
        let b = jwt("fedcba9876543210fedcba9876543210");
        assert!(b.verify(&token, "portal:operator").is_err());
    }

    #[test]
    fn during_a_rotation_the_previous_key_still_verifies_but_never_signs() {
        let old = jwt("0123456789abcdef0123456789abcdef");
        let before = old.issue("u1", "portal:operator", "operator", 0).unwrap();
        let previous = SecretString::from("0123456789abcdef0123456789abcdef".to_string());
        let new = jwt("fedcba9876543210fedcba9876543210").with_previous(Some(&previous));
        assert_eq!(new.verify(&before, "portal:operator").unwrap().sub, "u1");
        let after = new.issue("u2", "portal:operator", "operator", 0).unwrap();
        assert!(
            old.verify(&after, "portal:operator").is_err(),
            "signed with the new key"
        );
        assert!(
            new.verify(&before, "portal:national").is_err(),
            "audience still checked"
        );
        let without = jwt("fedcba9876543210fedcba9876543210");
        assert!(without.verify(&before, "portal:operator").is_err());
    }

    #[test]
    fn alg_none_is_refused() {
        let a = jwt("0123456789abcdef0123456789abcdef");
        // {"alg":"none","typ":"JWT"} . {"sub":"u1","aud":"portal:operator","role":"operator","iat":0,"exp":9999999999}
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSIsImF1ZCI6InBvcnRhbDpvcGVyYXRvciIsInJvbGUiOiJvcGVyYXRvciIsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ.";
        assert!(a.verify(token, "portal:operator").is_err());
    }
}
