//! The national site's operations (`<base>`, `www.<base>`).

#![allow(dead_code)] // The functions only carry `#[utoipa::path]`; the handlers live elsewhere.

use super::schemas::{ErrorEnvelope, SubscriptionAccepted};
use crate::web::leasing_api::SubscriptionForm;
use crate::web::national::ProvinceItem;
use crate::web::national_index::IndexRow;

#[utoipa::path(get, path = "/api/v1/provinces", tag = "national",
    description = "Active provinces.",
    responses((status = 200, description = "Active provinces", body = Vec<ProvinceItem>)))]
fn list_provinces() {}

#[utoipa::path(get, path = "/api/v1/index", tag = "national",
    description = "The evaluation index of a month, best score first; computed from dossier \
                   history only. Rates in 0..1 (null when there is nothing to rate), score 0..100.",
    params(("period" = Option<String>, Query, description = "`YYYY-MM`; this month when absent",
            example = "2026-11")),
    responses(
        (status = 200, description = "One line per active province", body = Vec<IndexRow>),
        (status = 422, description = "Not a period", body = ErrorEnvelope),
    ))]
fn index_api() {}

#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "national",
    description = "A province or commune asks for the service; the operator approves or declines.",
    request_body = SubscriptionForm,
    responses(
        (status = 202, description = "Filed, pending", body = SubscriptionAccepted),
        (status = 409, description = "The slug is a province already or pending in another request",
         body = ErrorEnvelope),
        (status = 422, description = "A field is not valid", body = ErrorEnvelope),
    ))]
fn request_subscription() {}
