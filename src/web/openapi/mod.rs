//! The JSON API in OpenAPI 3.1 (utoipa), served at `GET /api/v1/openapi.json` on every site.
//! Each site describes its own operations (the Host header picks the document, as it picks the
//! routes): national, operator, and one document shared by every province. Bodies are the
//! types the handlers serialise (`ToSchema` derived on them) or, for bodies built in place,
//! `schemas.rs`; the errors every operation can meet are added once, by [`Conventions`].

mod national;
mod operator;
mod province;
mod schemas;
mod shared;

use std::sync::OnceLock;

use actix_web::{HttpResponse, get, web};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    Content, HeaderBuilder, Object, Ref, RefOr, Response, ResponseBuilder, Type,
};

pub use schemas::ErrorEnvelope;

use crate::tenancy::Site;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_document);
}

/// The document of the site named by the Host header (built once per kind of site).
#[get("/api/v1/openapi.json")]
async fn openapi_document(site: Site) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(document(SiteKind::of(&site)))
}

/// Which document: the province one does not depend on the province.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    National,
    Operator,
    Province,
}

impl SiteKind {
    pub fn of(site: &Site) -> SiteKind {
        match site {
            Site::National => SiteKind::National,
            Site::Operator => SiteKind::Operator,
            Site::Province(_) => SiteKind::Province,
        }
    }
}

/// The document as JSON text, built at the first request for it.
pub fn document(kind: SiteKind) -> &'static str {
    static DOCS: [OnceLock<String>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    DOCS[kind as usize].get_or_init(|| {
        openapi(kind)
            .to_json()
            .expect("an OpenAPI document always serialises")
    })
}

/// The document as a value, for tests and tools.
pub fn openapi(kind: SiteKind) -> utoipa::openapi::OpenApi {
    let mut doc = match kind {
        SiteKind::National => NationalApi::openapi(),
        SiteKind::Operator => OperatorApi::openapi(),
        SiteKind::Province => ProvinceApi::openapi(),
    };
    Conventions { kind }.apply(&mut doc);
    doc
}

const DESCRIPTION: &str = "The JSON API of one site of the public-service portal, chosen by \
the Host header: `<base>` national, `ops.<base>` operator, `<slug>.<base>` a province. Money is \
an integer number of VND (`…_vnd`), times RFC 3339 UTC, dates `YYYY-MM-DD`, periods `YYYY-MM`. \
Every error is `{\"error\": {\"code\", \"message\", \"fields\"?}}`; `Accept-Language: en` gives \
English messages. Tokens come from `POST /api/v1/auth/token` and are valid on the issuing site only.";

#[derive(OpenApi)]
#[openapi(
    info(title = "portal — national site", description = DESCRIPTION),
    paths(
        shared::healthz, shared::readyz, shared::openapi_document,
        shared::register_citizen, shared::citizen_token,
        national::list_provinces, national::index_api, national::request_subscription,
        national::search, national::my_dossiers, province::track_dossier, province::track_dossier_post,
        national::where_to_file, shared::verify_result,
    ),
    components(schemas(ErrorEnvelope)),
)]
struct NationalApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "portal — operator site", description = DESCRIPTION),
    paths(
        shared::healthz, shared::readyz, shared::metrics_text, shared::openapi_document,
        operator::issue_token, operator::who_am_i,
        operator::list_tenants, operator::create_tenant, operator::get_tenant,
        operator::suspend_tenant, operator::resume_tenant, operator::put_lease,
        operator::end_lease,
        operator::get_tenant_usage, operator::list_plans, operator::put_plan,
        operator::list_subscriptions, operator::approve_subscription,
        operator::decline_subscription, operator::close_period, operator::list_invoices,
        operator::export_invoices,
        operator::get_invoice, operator::pay_invoice, operator::void_invoice,
        operator::send_invoice, operator::receive_provider_event,
        operator::get_buyer, operator::put_buyer, operator::get_einvoice_xml,
        operator::issue_einvoice, operator::adjust_einvoice, operator::replace_einvoice,
        operator::reconcile_tenant_statement,
    ),
    components(schemas(ErrorEnvelope)),
)]
struct OperatorApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "portal — province site", description = DESCRIPTION),
    paths(
        shared::healthz, shared::readyz, shared::openapi_document,
        shared::register_citizen, shared::citizen_token,
        province::site_info, province::who_am_i, province::list_procedures, province::list_units,
        province::get_procedure, province::submit_dossier, province::list_my_dossiers,
        province::get_dossier, province::upload_attachment, province::download_attachment,
        province::download_result, shared::verify_result,
        province::withdraw_dossier, province::supplement_dossier, province::pay_dossier,
        province::rate_dossier, province::track_dossier, province::track_dossier_post,
        province::list_queue, province::export_queue, province::register_counter_dossier, province::get_managed_dossier,
        province::download_managed_attachment, province::act_on_dossier,
        province::get_branding, province::update_branding, province::list_managed_procedures,
        province::toggle_procedure, province::list_staff, province::invite_staff,
        province::deactivate_staff, province::activate_staff, province::accept_invitation,
        province::get_own_usage, province::list_own_invoices, province::upload_logo,
        province::delete_logo, province::attach_dossier_result, province::void_fee_receipt,
        province::confirm_transfer, province::get_payment_account, province::put_payment_account,
        province::reconcile_statement,
    ),
    components(schemas(ErrorEnvelope)),
)]
struct ProvinceApi;

/// What holds for every operation and is said once here: the bearer scheme, and the error
/// answers the pipeline can give besides each operation's own (which it may describe better).
struct Conventions {
    kind: SiteKind,
}

impl Conventions {
    fn apply(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let api = path.starts_with("/api/");
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                self.add_errors(api, path, op);
            }
            // Account doors: each client's budget of them, on every site.
            if let Some(op) = &mut item.post
                && api
                && crate::web::middleware::is_account_door("POST", path)
            {
                op.responses
                    .responses
                    .entry("429".to_string())
                    .or_insert_with(|| {
                        RefOr::T(error(
                            "Too many sign-in, registration or request attempts from this client",
                            "429",
                        ))
                    });
            }
        }
    }

    fn add_errors(&self, api: bool, path: &str, op: &mut Operation) {
        if !api {
            return; // The probes answer on any host, before any site is chosen.
        }
        let has_query = op.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == ParameterIn::Query,
            RefOr::Ref(_) => false,
        });
        let has_body = op.request_body.is_some();
        let secured = op.security.is_some();
        let mut add = |status: &str, why: &str| {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::T(error(why, status)));
        };
        if has_body || has_query || path.contains('{') {
            add(
                "400",
                "Malformed: not JSON, a wrong content type, bad query parameters, or a NUL \
                 character in text",
            );
        }
        if secured {
            add(
                "401",
                "No token, a bad or expired one, or one of another site",
            );
            add("403", "The token's role may not do this");
        }
        if path.contains('{') {
            add("404", "Not found (or not yours)");
        }
        if has_body {
            add(
                "408",
                "The body did not arrive within the server's time limit",
            );
            add("413", "The body is too large");
            add(
                "422",
                "A field is missing or not valid (`fields` says which)",
            );
        }
        if self.kind == SiteKind::Province {
            add(
                "429",
                "The province's request rate or a plan's hard cap was reached",
            );
        }
        add(
            "503",
            match self.kind {
                SiteKind::Province => "The province is suspended, or the database is away",
                _ => "The database is away",
            },
        );
    }
}

/// An error answer: the envelope, and `Retry-After` where the status promises one.
fn error(description: &str, status: &str) -> Response {
    let mut builder = ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("ErrorEnvelope"))),
    );
    if matches!(status, "429" | "503") {
        builder = builder.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds to wait"))
                .build(),
        );
    }
    builder.build()
}

#[cfg(test)]
mod tests;
