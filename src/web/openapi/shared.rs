//! Operations every site answers: the probes, this document, and (national and province
//! sites) a citizen's registration and sign-in, and verifying a result.

#![allow(dead_code)] // The functions only carry `#[utoipa::path]`; the handlers live elsewhere.

use super::schemas::{ErrorEnvelope, Probe};
use crate::accounts::citizens::Citizen;
use crate::app::results::Verification;
use crate::web::citizen_auth::{RegisterForm, TokenForm};
use crate::web::operator::TokenResponse;

#[utoipa::path(get, path = "/healthz", tag = "probes",
    description = "The process is alive (any host, no site needed).",
    responses((status = 200, description = "Alive", body = Probe)))]
fn healthz() {}

#[utoipa::path(get, path = "/readyz", tag = "probes",
    description = "The database answers (any host).",
    responses(
        (status = 200, description = "Ready", body = Probe),
        (status = 503, description = "The database does not answer", body = ErrorEnvelope),
    ))]
fn readyz() {}

#[utoipa::path(get, path = "/metrics", tag = "probes",
    description = "Prometheus text exposition: the operator host only, with \
`Authorization: Bearer` and the scraper's token (`server.metrics_token`) or an operator's \
token. Any other host: 404.",
    responses(
        (status = 200, description = "Metrics", content_type = "text/plain", body = String),
        (status = 401, description = "No or wrong metrics token", body = ErrorEnvelope),
        (status = 404, description = "Not the operator host", body = ErrorEnvelope),
    ))]
fn metrics_text() {}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    description = "This document: the JSON API of the site named by the Host header.",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
fn openapi_document() {}

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    description = "Creates a national citizen account, usable on every province's site.",
    request_body = RegisterForm,
    responses(
        (status = 201, description = "Registered", body = Citizen),
        (status = 409, description = "The email is taken", body = ErrorEnvelope),
        (status = 422, description = "Bad email, weak password or bad name", body = ErrorEnvelope),
    ))]
fn register_citizen() {}

#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    description = "Signs in (on a province: its staff first, then national citizen accounts). \
                   The token is valid only on this site. Five failures for one address in 15 \
                   minutes: 429.",
    request_body = TokenForm,
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = ErrorEnvelope),
        (status = 429, description = "Too many failures for this address",
         headers(("Retry-After" = u64, description = "Seconds to wait")), body = ErrorEnvelope),
    ))]
fn citizen_token() {}

#[utoipa::path(get, path = "/api/v1/verify/{code}", tag = "results",
    description = "Verifies a dossier's result by the code printed on it, without sign-in and \
                   without personal data: the issuing province, the procedure, the day it was \
                   issued and the SHA-256 of the e-copy (or of the paper decision's text), to \
                   compare with the document in hand. The same answer on the national site and \
                   every province's. A replaced result's code no longer verifies.",
    params(("code" = String, Path, description = "The verification code printed on the result")),
    responses(
        (status = 200, description = "The result is genuine", body = Verification),
        (status = 404, description = "No result has this code (or it was replaced)", body = ErrorEnvelope),
    ))]
fn verify_result() {}
