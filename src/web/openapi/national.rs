//! The national site's operations (`<base>`, `www.<base>`).

#![allow(dead_code)] // The functions only carry `#[utoipa::path]`; the handlers live elsewhere.

use super::schemas::{ErrorEnvelope, SubscriptionAccepted};
use crate::web::index_units::UnitIndexRow;
use crate::web::leasing_api::SubscriptionForm;
use crate::web::national::ProvinceItem;
use crate::web::national_index::IndexRow;

/// A line of the index: a province's, or (with `province=`) one of its units'.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum IndexLine {
    Province(IndexRow),
    Unit(UnitIndexRow),
}

#[utoipa::path(get, path = "/api/v1/provinces", tag = "national",
    description = "Active provinces.",
    responses((status = 200, description = "Active provinces", body = Vec<ProvinceItem>)))]
fn list_provinces() {}

#[utoipa::path(get, path = "/api/v1/search", tag = "national",
    description = "Provinces by their current names, their names before the 2025 merger and \
                   common aliases; procedures by code or name, with the provinces offering them. \
                   With or without Vietnamese diacritics.",
    params(("q" = String, Query, example = "binh duong")),
    responses((status = 200, description = "What matched", body = crate::app::national::SearchResult)))]
fn search() {}

#[utoipa::path(get, path = "/api/v1/me/dossiers", tag = "national", security(("bearer" = [])),
    description = "Every dossier of the signed-in national account in every province, newest \
                   first; only the provinces that hold one are asked.",
    responses((status = 200, description = "The account's dossiers",
               body = Vec<crate::app::national::NationalDossier>)))]
fn my_dossiers() {}

#[utoipa::path(get, path = "/api/v1/procedures/{code}/where", tag = "national",
    description = "Where a procedure can be filed: the active provinces whose switch for it is \
                   on and, in each, the units that decide it (every commune-level unit for a \
                   commune-level procedure; the unit the province mapped it to, else its \
                   departments and centre, above the commune; empty: the province itself).",
    params(("code" = String, Path, example = "LLTP-001")),
    responses(
        (status = 200, description = "The provinces offering it",
         body = crate::app::national_catalog::WhereToFile),
        (status = 404, description = "No procedure of the catalog has this code", body = ErrorEnvelope),
    ))]
fn where_to_file() {}

#[utoipa::path(get, path = "/api/v1/index", tag = "national",
    description = "The evaluation index of a month, best score first; computed from dossier \
                   history only. Rates in 0..1 (null when there is nothing to rate), score 0..100. \
                   With `province`, one line per unit of that province (communes, wards, special \
                   zones, departments, the centre and its branches) plus `code`, `kind`, \
                   `informed_rate`, `rank` and `enough_data`: a unit with fewer decided dossiers \
                   in the month than the minimum sample (`index.min_decided`, 20 by default) has \
                   `score` and `rank` null. A line with `code` null is the province level \
                   (dossiers with no unit), listed when it counts something.",
    params(
        ("period" = Option<String>, Query, description = "`YYYY-MM`; this month when absent",
            example = "2026-11"),
        ("province" = Option<String>, Query,
            description = "A province's slug: its units instead of the provinces", example = "ha-noi"),
    ),
    responses(
        (status = 200, description = "One line per active province, or per unit of `province`",
         body = Vec<IndexLine>),
        (status = 404, description = "`province` is no active province", body = ErrorEnvelope),
        (status = 422, description = "Not a period", body = ErrorEnvelope),
    ))]
fn index_api() {}

#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "national",
    description = "A province or commune asks for the service. A link is mailed to the contact \
        address; once followed, the request is listed to the operator, who approves or declines.",
    request_body = SubscriptionForm,
    responses(
        (status = 202, description = "Filed, pending; waiting for the contact's confirmation", body = SubscriptionAccepted),
        (status = 409, description = "The slug is a province already or held by a confirmed request",
         body = ErrorEnvelope),
        (status = 422, description = "A field is not valid", body = ErrorEnvelope),
        (status = 429, description = "Too many unconfirmed requests for this address or from this client",
         headers(("Retry-After" = u64, description = "Seconds to wait")), body = ErrorEnvelope),
    ))]
fn request_subscription() {}
