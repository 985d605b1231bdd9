//! Schemas of the bodies that handlers build in place (`json!`) and of the error envelope.
//! Only the document uses these types; `tests/api/openapi.rs` checks them against real answers.

#![allow(dead_code)] // Fields are read by the `ToSchema` derive, never by code.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;

use crate::dossiers::view::DossierView;
use crate::web::operator::TenantView;

/// Every error: `{"error": {"code", "message", "fields"?}}`.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(ToSchema)]
pub struct ErrorBody {
    /// A snake_case code: `malformed`, `unauthorized`, `forbidden`, `not_found`,
    /// `validation_failed`, `invalid_transition`, `rate_limited`, `unavailable`, …
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Human text in the request's language (Vietnamese unless `Accept-Language: en`).
    pub message: String,
    /// With 422 only: field name → why it was refused.
    #[schema(nullable = false)]
    pub fields: Option<BTreeMap<String, String>>,
}

/// `GET /healthz`, `GET /readyz`.
#[derive(ToSchema)]
pub struct Probe {
    #[schema(example = "ok")]
    pub status: String,
}

/// A province site's `GET /api/v1/me`: the token's subject and role.
#[derive(ToSchema)]
pub struct TokenSubject {
    pub id: String,
    #[schema(example = "citizen")]
    pub role: String,
}

/// One enabled procedure in `GET /api/v1/procedures`.
#[derive(ToSchema)]
pub struct ProcedureItem {
    pub code: String,
    pub name: String,
    /// 4 = wholly online, 3 = partly online.
    pub level: u8,
    /// The national sign-in level needed to file it online: 1 (a password or VNeID level 1)
    /// or 2 (VNeID level 2); below it, `POST /api/v1/dossiers` answers 403
    /// `assurance_level_required`.
    pub assurance_level: u8,
    pub fee_vnd: i64,
    pub processing_days: u32,
}

/// `POST /api/v1/dossiers` → 201.
#[derive(ToSchema)]
pub struct Submitted {
    pub tracking_code: String,
    #[schema(example = "submitted")]
    pub status: String,
}

/// `POST /api/v1/manage/dossiers` → 201.
#[derive(ToSchema)]
pub struct CounterSubmitted {
    pub tracking_code: String,
    #[schema(example = "submitted")]
    pub status: String,
    #[schema(example = "counter")]
    pub channel: String,
}

/// `POST /api/v1/dossiers/{code}/attachments` → 201.
#[derive(ToSchema)]
pub struct AttachmentStored {
    pub id: uuid::Uuid,
    pub name: String,
    pub size: i64,
}

/// `POST /api/v1/dossiers/{code}/rating` → 201.
#[derive(ToSchema)]
pub struct Rated {
    pub score: i64,
}

/// `POST /api/v1/dossiers/{code}/pay` → 202 when the citizen pays on the provider's page.
#[derive(ToSchema)]
pub struct CheckoutStarted {
    pub checkout_url: String,
    pub dossier: DossierView,
}

/// One line of the staff's queue.
#[derive(ToSchema)]
pub struct QueueItem {
    pub tracking_code: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub applicant_name: String,
    pub channel: String,
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    pub due_on: Option<NaiveDate>,
    /// `overdue`, `due_soon` or none.
    pub due_flag: Option<String>,
    /// The unit that decides it (null: the province itself).
    pub competent_unit: Option<String>,
    /// The service point that received it, or `online`.
    pub received_at: Option<String>,
    /// The official it is assigned to.
    pub assignee_id: Option<uuid::Uuid>,
}

/// A catalog procedure with this province's switch (`GET /api/v1/manage/procedures`).
#[derive(ToSchema)]
pub struct ManagedProcedure {
    pub code: String,
    pub name: String,
    pub level: u8,
    pub enabled: bool,
}

/// `PUT /api/v1/manage/procedures/{code}` → 200.
#[derive(ToSchema)]
pub struct ProcedureSwitch {
    pub code: String,
    pub enabled: bool,
}

/// `PUT /api/v1/manage/logo` → 200.
#[derive(ToSchema)]
pub struct LogoStored {
    #[schema(example = "image/png")]
    pub content_type: String,
    pub size: i64,
    #[schema(example = "/logo")]
    pub url: String,
}

/// A result's e-copy: one `file` part (`POST /api/v1/manage/dossiers/{code}/result`).
#[derive(ToSchema)]
pub struct ResultUpload {
    /// The signed e-copy of the result: a PDF, checked by its bytes.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// An attachment: one `file` part and at most one `field` part (each twice: 400).
#[derive(ToSchema)]
pub struct FileUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The form's document this file answers (optional; a part is never null).
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// A logo: one `file` part (twice: 400).
#[derive(ToSchema)]
pub struct LogoUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// `POST /api/v1/subscriptions` → 202.
#[derive(ToSchema)]
pub struct SubscriptionAccepted {
    pub id: uuid::Uuid,
    #[schema(example = "pending")]
    pub status: String,
}

/// `PUT /api/v1/tenants/{slug}/lease` → 200: the tenant and its leases, oldest first.
#[derive(ToSchema)]
pub struct LeasedTenant {
    #[schema(inline)]
    #[serde(flatten)]
    pub tenant: TenantView,
    pub leases: Vec<crate::leasing::LeaseView>,
}

/// `GET|PUT /api/v1/tenants/{slug}/buyer` → 200: the buyer details and what the law still
/// needs of them.
#[derive(ToSchema)]
pub struct BuyerView {
    #[schema(inline)]
    #[serde(flatten)]
    pub details: crate::einvoice::buyer::BuyerDetails,
    /// What is still missing before an e-invoice can be issued (`buyer.name`,
    /// `buyer.tax_code`, `buyer.address`); empty when complete.
    pub missing: Vec<String>,
}

/// `POST /api/v1/billing/close` → 200.
#[derive(ToSchema)]
pub struct ClosedPeriod {
    pub invoices: Vec<crate::billing::invoice::Invoice>,
}

/// `POST /api/v1/stripe/webhook` → 200.
#[derive(ToSchema)]
pub struct WebhookReceived {
    pub received: bool,
    pub outcome: String,
}
