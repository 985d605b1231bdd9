//! National sign-in (#17.1): the platform as an OpenID Connect relying party of the national
//! identity provider (VNeID). Authorization code with PKCE, `state` and `nonce`; the ID token
//! is checked against the provider's keys from its discovery document (issuer, audience,
//! signature, expiry with a bounded clock skew, nonce) and the keys are read again when a token
//! names a key id they do not have (the provider rotated them).
//!
//! Claims used: `citizen_id` (12 digits), `name`, `birthdate`, `email` (only when
//! `email_verified`), and the assurance level in `acr`: `vneid:1` or `vneid:2`.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, reqwest,
};
use openidconnect::{ClaimsVerificationError, TokenResponse};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::Email;
use super::citizens::NationalIdentity;
use crate::config::OidcSettings;

/// The `acr` value of assurance level `n`: `vneid:1`, `vneid:2`.
pub const ACR_PREFIX: &str = "vneid:";

/// The claims beyond the standard ones: the citizen ID.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NationalClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
}

impl AdditionalClaims for NationalClaims {}

type Fields = IdTokenFields<
    NationalClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type NationalTokenResponse = StandardTokenResponse<Fields, CoreTokenType>;
type NationalClient = Client<
    NationalClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    NationalTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;
type Claims = IdTokenClaims<NationalClaims, CoreGenderClaim>;

/// Why a national sign-in did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The provider could not be reached or answered nonsense (its discovery, keys or token
    /// endpoint): the page says national sign-in is unavailable for now.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The answer is not acceptable (a refused or replayed code, a bad signature, another
    /// audience, expired, another nonce, missing or malformed claims): nothing is created.
    #[error("national sign-in refused: {0}")]
    Refused(String),
}

/// What the browser carries between the start and the provider's return (signed, short-lived,
/// HttpOnly; see `web::oidc`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub level: u8,
    pub next: String,
    pub redirect_uri: String,
    /// Unix seconds after which the return is refused.
    pub exp: i64,
}

/// A verified sign-in: who, and at which level.
#[derive(Debug, Clone)]
pub struct Verified {
    pub identity: NationalIdentity,
    pub level: u8,
}

/// The configured identity provider. Its discovery document (with its keys) is read at the
/// first sign-in, not at start: a provider that is down never stops the platform.
pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    secret: ClientSecret,
    http: reqwest::Client,
    skew: chrono::Duration,
    flow_ttl_secs: i64,
    metadata: Mutex<Option<Arc<CoreProviderMetadata>>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer.as_str())
            .finish()
    }
}

impl Provider {
    /// The provider of the settings; `Ok(None)` when national sign-in is off.
    pub fn from_settings(s: &OidcSettings) -> Result<Option<Provider>, String> {
        let Some((issuer, client_id, secret)) = s.enabled() else {
            return Ok(None);
        };
        let issuer = IssuerUrl::new(issuer.to_string()).map_err(|e| format!("oidc.issuer: {e}"))?;
        // No redirects: a provider's endpoint never sends our secret or code elsewhere.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(s.timeout_secs.max(1)))
            .build()
            .map_err(|e| format!("oidc: http client: {e}"))?;
        Ok(Some(Provider {
            issuer,
            client_id: ClientId::new(client_id.to_string()),
            secret: ClientSecret::new(secret.expose_secret().to_string()),
            http,
            skew: chrono::Duration::seconds(i64::try_from(s.clock_skew_secs).unwrap_or(60)),
            flow_ttl_secs: s.flow_ttl_secs,
            metadata: Mutex::new(None),
        }))
    }

    /// The discovery document with its keys: the cached one, or read now (`refresh`: read
    /// again even if cached, after a token named an unknown key id).
    async fn metadata(&self, refresh: bool) -> Result<Arc<CoreProviderMetadata>, SignInError> {
        if !refresh && let Some(m) = self.metadata.lock().expect("metadata lock").clone() {
            return Ok(m);
        }
        let found = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| SignInError::Unavailable(format!("discovery: {e}")))?;
        let found = Arc::new(found);
        *self.metadata.lock().expect("metadata lock") = Some(found.clone());
        Ok(found)
    }

    fn client(
        &self,
        metadata: &CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<NationalClient, SignInError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| SignInError::Refused(format!("redirect uri: {e}")))?;
        Ok(NationalClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            Some(self.secret.clone()),
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's address to send the browser to, and the flow to keep until it returns.
    pub async fn start(
        &self,
        level: u8,
        next: &str,
        redirect_uri: &str,
    ) -> Result<(String, Flow), SignInError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_auth_context_value(AuthenticationContextClass::new(format!(
                "{ACR_PREFIX}{level}"
            )))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            level,
            next: next.to_string(),
            redirect_uri: redirect_uri.to_string(),
            exp: Utc::now().timestamp() + self.flow_ttl_secs,
        };
        Ok((url.to_string(), flow))
    }

    /// Trades the code for tokens (with the PKCE verifier) and checks the ID token. The
    /// caller has already checked `state` against the flow.
    pub async fn finish(&self, code: &str, flow: &Flow) -> Result<Verified, SignInError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata, &flow.redirect_uri)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SignInError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                // The provider refused the code: replayed, expired, or not for this verifier.
                RequestTokenError::ServerResponse(r) => {
                    SignInError::Refused(format!("token endpoint: {r}"))
                }
                other => SignInError::Unavailable(format!("token endpoint: {other}")),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| SignInError::Refused("no id_token in the answer".into()))?;
        let claims = match self.verify(&client, id_token, flow) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key id we do not know: the provider rotated its keys. Read them again
                // (only ever for a token from the provider's own token endpoint) and retry once.
                let metadata = self.metadata(true).await?;
                let client = self.client(&metadata, &flow.redirect_uri)?;
                self.verify(&client, id_token, flow)
            }
            other => other,
        }
        .map_err(|e| SignInError::Refused(format!("id token: {e}")))?;
        let level = level_of(&claims)?;
        if level < flow.level {
            return Err(SignInError::Refused(format!(
                "level {level} given, {} asked",
                flow.level
            )));
        }
        Ok(Verified {
            identity: identity_of(&claims)?,
            level,
        })
    }

    fn verify(
        &self,
        client: &NationalClient,
        id_token: &openidconnect::IdToken<
            NationalClaims,
            CoreGenderClaim,
            CoreJweContentEncryptionAlgorithm,
            CoreJwsSigningAlgorithm,
        >,
        flow: &Flow,
    ) -> Result<Claims, ClaimsVerificationError> {
        let skew = self.skew;
        let verifier = client
            .id_token_verifier()
            // `exp` may be up to the skew behind our clock, `iat` up to the skew ahead of it.
            .set_time_fn(move || Utc::now() - skew)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > Utc::now() + skew {
                    Err(format!("issued in the future ({iat})"))
                } else {
                    Ok(())
                }
            });
        id_token
            .claims(&verifier, &Nonce::new(flow.nonce.clone()))
            .cloned()
    }
}

/// The level in `acr` (`vneid:1` or `vneid:2`); anything else is refused.
fn level_of(claims: &Claims) -> Result<u8, SignInError> {
    let acr = claims
        .auth_context_ref()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    match acr.strip_prefix(ACR_PREFIX) {
        Some("1") => Ok(1),
        Some("2") => Ok(2),
        _ => Err(SignInError::Refused(format!("acr {acr:?}"))),
    }
}

/// The citizen ID, name, birth date and (verified) address, checked.
fn identity_of(claims: &Claims) -> Result<NationalIdentity, SignInError> {
    let citizen_id = claims
        .additional_claims()
        .citizen_id
        .clone()
        .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| SignInError::Refused("citizen_id missing or not 12 digits".into()))?;
    let full_name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().trim().to_string())
        .filter(|n| {
            let len = n.chars().count();
            (1..=120).contains(&len) && !n.chars().any(char::is_control) && !n.contains(['<', '>'])
        })
        .ok_or_else(|| SignInError::Refused("name missing or malformed".into()))?;
    let birth_date = claims
        .birthdate()
        .map(|b| NaiveDate::parse_from_str(b.as_str(), "%Y-%m-%d"))
        .transpose()
        .map_err(|_| SignInError::Refused("birthdate not YYYY-MM-DD".into()))?;
    let email = match (claims.email(), claims.email_verified()) {
        (Some(e), Some(true)) => Email::parse(e.as_str()).ok(),
        _ => None,
    };
    Ok(NationalIdentity {
        citizen_id,
        full_name,
        birth_date,
        email,
    })
}
