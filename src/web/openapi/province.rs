//! A province site's operations (`<slug>.<base>` or its custom domain): public facts, the
//! citizen's dossiers, tracking without sign-in, and the staff's and admin's API.

#![allow(dead_code)] // The functions only carry `#[utoipa::path]`; the handlers live elsewhere.

use super::schemas::{
    AttachmentStored, CheckoutStarted, CounterSubmitted, ErrorEnvelope, FileUpload, LogoStored,
    LogoUpload, ManagedProcedure, ProcedureItem, ProcedureSwitch, QueueItem, Rated, ResultUpload,
    Submitted, TokenSubject,
};
use crate::accounts::staff::StaffAccount;
use crate::app::payments::Reconciliation;
use crate::billing::invoice::Invoice;
use crate::catalog::Procedure;
use crate::dossiers::view::{DossierSummary, DossierView, TrackingView};
use crate::metering::usage::Usage;
use crate::payments::transfer::{AccountInput, LineResult, ReceivingAccount, StatementLine};
use crate::tenancy::branding::{Branding, BrandingInput};
use crate::web::payments_api::StatementForm;
use crate::web::province::SiteInfo;
use crate::web::province::admin_api::{AcceptForm, InviteForm, ToggleForm};
use crate::web::province::dossier_api::{CitizenMoveForm, RatingForm, SubmitForm, TrackingForm};
use crate::web::province::manage_api::{
    ActionForm, CounterForm, PaperResultForm, VoidFeeReceiptForm,
};

#[utoipa::path(get, path = "/api/v1/site", tag = "province",
    responses((status = 200, description = "Who this province is and how it looks", body = SiteInfo)))]
fn site_info() {}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The token's account and role", body = TokenSubject)))]
fn who_am_i() {}

#[utoipa::path(get, path = "/api/v1/procedures", tag = "province",
    responses((status = 200, description = "Enabled procedures", body = Vec<ProcedureItem>)))]
fn list_procedures() {}

#[utoipa::path(get, path = "/api/v1/units", tag = "province",
    description = "Every unit in force: the centre, branches and departments, then every \
                   commune, ward and special zone of the province from the national list. \
                   With `q`, the units whose name or former name (before a reorganisation) \
                   holds it, ignoring case and diacritics.",
    params(("q" = Option<String>, Query, description = "A name or former name, or part of one")),
    responses((status = 200, description = "The province's units", body = Vec<crate::web::province::dossier_api::UnitItem>)))]
fn list_units() {}

#[utoipa::path(get, path = "/api/v1/procedures/{code}", tag = "province",
    params(("code" = String, Path, example = "GPLX-001")),
    responses((status = 200, description = "One enabled procedure with its form", body = Procedure)))]
fn get_procedure() {}

#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", security(("bearer" = [])),
    description = "Files a dossier online. Every form has `full_name` and `id_number` (12 digits).",
    request_body = SubmitForm,
    responses(
        (status = 201, description = "Submitted", body = Submitted),
        (status = 422, description = "Unknown or disabled procedure, or a field is missing or wrong",
         body = ErrorEnvelope),
    ))]
fn submit_dossier() {}

#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", security(("bearer" = [])),
    responses((status = 200, description = "The citizen's own dossiers", body = Vec<DossierSummary>)))]
fn list_my_dossiers() {}

#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers", security(("bearer" = [])),
    params(("code" = String, Path, description = "Tracking code")),
    responses((status = 200, description = "The dossier (owner only, else 404)", body = DossierView)))]
fn get_dossier() {}

#[utoipa::path(post, path = "/api/v1/dossiers/{code}/attachments", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path)),
    description = "Adds a PDF, JPEG or PNG (checked by content) while the dossier is new or a \
                   supplement is requested.",
    request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = AttachmentStored),
        (status = 409, description = "The dossier takes no files now", body = ErrorEnvelope),
        (status = 422, description = "No file, empty, or not an accepted type", body = ErrorEnvelope),
    ))]
fn upload_attachment() {}

#[utoipa::path(get, path = "/api/v1/dossiers/{code}/attachments/{id}", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The file, as a download",
               content((String = "application/pdf"), (String = "image/jpeg"), (String = "image/png")))))]
fn download_attachment() {}

#[utoipa::path(post, path = "/api/v1/dossiers/{code}/withdraw", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path)),
    request_body(content = Option<CitizenMoveForm>, description = "Optional: a note"),
    responses(
        (status = 200, description = "Withdrawn", body = DossierView),
        (status = 409, description = "`invalid_transition`", body = ErrorEnvelope),
    ))]
fn withdraw_dossier() {}

#[utoipa::path(post, path = "/api/v1/dossiers/{code}/supplement", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path)),
    request_body = CitizenMoveForm,
    responses(
        (status = 200, description = "Back in processing; the deadline moves", body = DossierView),
        (status = 409, description = "`invalid_transition`", body = ErrorEnvelope),
    ))]
fn supplement_dossier() {}

#[utoipa::path(post, path = "/api/v1/dossiers/{code}/pay", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path)),
    responses(
        (status = 200, description = "Paid at once (the sandbox, only with `stripe.sandbox_confirms_fees`)", body = DossierView),
        (status = 202, description = "Pay on the provider's page", body = CheckoutStarted),
        (status = 409, description = "`invalid_transition`; `pay_at_desk` (no online payment: the message says how much to pay and where)", body = ErrorEnvelope),
    ))]
fn pay_dossier() {}

#[utoipa::path(get, path = "/api/v1/dossiers/{code}/result", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path, description = "Tracking code")),
    description = "The owner downloads the e-copy of the dossier's result (the signed PDF staff \
                   attached). A paper result has no file: its decision number and where to \
                   collect it are in the dossier's `result`.",
    responses(
        (status = 200, description = "The signed PDF, as a download", content_type = "application/pdf", body = String),
        (status = 404, description = "No e-copy attached (none yet, or a paper result), or not the caller's dossier", body = ErrorEnvelope),
    ))]
fn download_result() {}

#[utoipa::path(post, path = "/api/v1/dossiers/{code}/rating", tag = "dossiers",
    security(("bearer" = [])), params(("code" = String, Path)),
    description = "Once per dossier, when it is returned, refused or stopped.",
    request_body = RatingForm,
    responses(
        (status = 201, description = "Rated", body = Rated),
        (status = 409, description = "Not finished, or rated already", body = ErrorEnvelope),
        (status = 422, description = "Score outside 1..5 or comment too long", body = ErrorEnvelope),
    ))]
fn rate_dossier() {}

#[utoipa::path(get, path = "/api/v1/tracking/{code}", tag = "dossiers",
    description = "Tracking without sign-in: 404 unless `id_number` is the applicant's. Kept for \
        existing clients; `POST /api/v1/tracking` keeps the citizen ID out of the URL. Failed \
        lookups are limited per code (every client together) and per client: then 429.",
    params(("code" = String, Path),
           ("id_number" = String, Query, description = "The applicant's 12-digit citizen ID")),
    responses(
        (status = 200, description = "Status only, no personal data", body = TrackingView),
        (status = 404, description = "Wrong ID or no such code (the same answer)", body = ErrorEnvelope),
        (status = 429, description = "Too many failed lookups of this code or from this client",
         headers(("Retry-After" = u64, description = "Seconds to wait")), body = ErrorEnvelope),
    ))]
pub(super) fn track_dossier() {}

#[utoipa::path(post, path = "/api/v1/tracking", tag = "dossiers",
    description = "Tracking without sign-in, the citizen ID in the body: the same answers as \
        `GET /api/v1/tracking/{code}`.",
    request_body = TrackingForm,
    responses(
        (status = 200, description = "Status only, no personal data", body = TrackingView),
        (status = 404, description = "Wrong ID or no such code (the same answer)", body = ErrorEnvelope),
        (status = 429, description = "Too many failed lookups of this code or from this client",
         headers(("Retry-After" = u64, description = "Seconds to wait")), body = ErrorEnvelope),
    ))]
pub(super) fn track_dossier_post() {}

#[utoipa::path(get, path = "/api/v1/manage/dossiers", tag = "staff", security(("bearer" = [])),
    description = "The dossiers the staff member's units decide or received (every dossier \
                   for staff at the province level), filtered and sorted.",
    params(("status" = Option<String>, Query, description = "One of the ten statuses"),
           ("q" = Option<String>, Query, description = "Tracking code, 12-digit citizen ID, or part of the applicant's name"),
           ("procedure" = Option<String>, Query, description = "A procedure code"),
           ("unit" = Option<String>, Query, description = "The competent unit's code"),
           ("channel" = Option<String>, Query, description = "online or counter"),
           ("assignee" = Option<uuid::Uuid>, Query, description = "The assigned official"),
           ("flag" = Option<String>, Query, description = "overdue or due_soon"),
           ("open" = Option<String>, Query, description = "open, closed or all (default)"),
           ("sort" = Option<String>, Query, description = "deadline (default), newest or oldest"),
           ("page" = Option<i64>, Query, description = "50 per page, from 1")),
    responses(
        (status = 200, description = "The queue", body = Vec<QueueItem>),
        (status = 422, description = "A filter's value is unknown", body = ErrorEnvelope),
    ))]
fn list_queue() {}

#[utoipa::path(get, path = "/api/v1/manage/dossiers.csv", tag = "staff", security(("bearer" = [])),
    description = "The same view as `GET /api/v1/manage/dossiers` with the same parameters, every \
                   page (at most 10,000 rows), in the same order, as CSV (UTF-8 with a byte \
                   order mark, a header row; names instead of codes, Vietnam time). `page` is \
                   ignored.",
    params(("status" = Option<String>, Query, description = "One of the ten statuses"),
           ("q" = Option<String>, Query, description = "Tracking code, 12-digit citizen ID, or part of the applicant's name"),
           ("procedure" = Option<String>, Query, description = "A procedure code"),
           ("unit" = Option<String>, Query, description = "The competent unit's code"),
           ("channel" = Option<String>, Query, description = "online or counter"),
           ("assignee" = Option<uuid::Uuid>, Query, description = "The assigned official"),
           ("flag" = Option<String>, Query, description = "overdue or due_soon"),
           ("open" = Option<String>, Query, description = "open, closed or all (default)"),
           ("sort" = Option<String>, Query, description = "deadline (default), newest or oldest")),
    responses(
        (status = 200, description = "The view as CSV", content_type = "text/csv", body = String),
        (status = 422, description = "A filter's value is unknown", body = ErrorEnvelope),
    ))]
fn export_queue() {}

#[utoipa::path(post, path = "/api/v1/manage/dossiers", tag = "staff", security(("bearer" = [])),
    description = "Registers a dossier received at the counter (`channel: counter`).",
    request_body = CounterForm,
    responses(
        (status = 201, description = "Registered", body = CounterSubmitted),
        (status = 422, description = "A field is missing or wrong", body = ErrorEnvelope),
    ))]
fn register_counter_dossier() {}

#[utoipa::path(get, path = "/api/v1/manage/dossiers/{code}", tag = "staff",
    security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, description = "The dossier", body = DossierView)))]
fn get_managed_dossier() {}

#[utoipa::path(get, path = "/api/v1/manage/dossiers/{code}/attachments/{id}", tag = "staff",
    security(("bearer" = [])), params(("code" = String, Path), ("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The file, as a download",
               content((String = "application/pdf"), (String = "image/jpeg"), (String = "image/png")))))]
fn download_managed_attachment() {}

#[utoipa::path(post, path = "/api/v1/manage/dossiers/{code}/actions", tag = "staff",
    security(("bearer" = [])), params(("code" = String, Path)),
    description = "A staff move: accept, refuse, process, request_supplement, request_payment, \
                   extend, stop, resolve, return_result; and between units: transfer \
                   (`unit_code`, `note`; a head of unit or an admin) and assign (`assignee_id`).",
    request_body = ActionForm,
    responses(
        (status = 200, description = "The dossier after the move", body = DossierView),
        (status = 409, description = "`invalid_transition`", body = ErrorEnvelope),
        (status = 422, description = "Unknown action, or a note, date or fee is missing", body = ErrorEnvelope),
    ))]
fn act_on_dossier() {}

#[utoipa::path(post, path = "/api/v1/manage/dossiers/{code}/result", tag = "staff",
    security(("bearer" = [])), params(("code" = String, Path)),
    description = "Attaches (or replaces) the result of a dossier the staff member's units \
                   decide, while it is processing or resolved: the signed e-copy as a multipart \
                   `file` (a PDF, checked by its bytes), or a paper decision as JSON. The result \
                   gets a verification code (`GET /api/v1/verify/{code}`); a replaced result's \
                   code stops verifying.",
    request_body(description = "The e-copy, or the paper decision",
        content((ResultUpload = "multipart/form-data"), (PaperResultForm = "application/json"))),
    responses(
        (status = 200, description = "The dossier with its `result`", body = DossierView),
        (status = 400, description = "JSON without `decision_number` and `pickup` (`malformed`)", body = ErrorEnvelope),
        (status = 409, description = "`invalid_transition`: the dossier is not processing or resolved", body = ErrorEnvelope),
        (status = 413, description = "The file is over the site's upload limit", body = ErrorEnvelope),
        (status = 422, description = "No file, not a PDF, or a paper decision's field empty or too long (`fields`)", body = ErrorEnvelope),
    ))]
fn attach_dossier_result() {}

#[utoipa::path(post, path = "/api/v1/manage/dossiers/{code}/fee-receipt/void", tag = "staff",
    security(("bearer" = [])), params(("code" = String, Path)),
    description = "Voids the fee e-receipt in force and issues its replacement with the next \
                   number of the series (`replaces_number` names the voided one); nothing is \
                   erased. Staff whose units decide the dossier.",
    request_body = VoidFeeReceiptForm,
    responses(
        (status = 200, description = "The dossier; its `fee_receipt` is the replacement", body = DossierView),
        (status = 409, description = "`no_fee_receipt`: the dossier has no receipt in force", body = ErrorEnvelope),
        (status = 422, description = "No reason, or over 500 characters", body = ErrorEnvelope),
    ))]
fn void_fee_receipt() {}

#[utoipa::path(post, path = "/api/v1/manage/dossiers/{code}/transfer-received", tag = "payments",
    security(("bearer" = [])), params(("code" = String, Path)),
    description = "Staff whose units decide the dossier confirm the bank transfer of its fee as \
                   their statement shows it: the transfer's reference (any case, spaces \
                   ignored) and the amount received. Matched at the exact amount, the fee is \
                   paid, the dossier moves on, its e-receipt is issued and the citizen mailed, in \
                   one transaction. Anything else changes nothing and says why in `outcome`: \
                   `already_paid`, `amount_mismatch` (with `expected_vnd`), \
                   `unknown_reference` (also another dossier's reference), `not_awaiting_payment`.",
    request_body = StatementLine,
    responses(
        (status = 200, description = "What became of the line", body = LineResult),
    ))]
fn confirm_transfer() {}

#[utoipa::path(get, path = "/api/v1/manage/payment-account", tag = "payments",
    security(("bearer" = [])),
    description = "The bank account that receives fees paid by transfer (the province admin).",
    responses(
        (status = 200, description = "The account", body = ReceivingAccount),
        (status = 404, description = "The admin has not set one yet", body = ErrorEnvelope),
    ))]
fn get_payment_account() {}

#[utoipa::path(put, path = "/api/v1/manage/payment-account", tag = "payments",
    security(("bearer" = [])),
    description = "Sets the account that receives fees by transfer (the province admin; \
                   audited). Normalised as banks print it: the account number without spaces \
                   in capitals, the holder's name in capitals without diacritics.",
    request_body = AccountInput,
    responses(
        (status = 200, description = "The account as stored", body = ReceivingAccount),
        (status = 422, description = "`bank_bin` not 6 digits, `account_number` not 4 to 19 letters or digits, `account_name` empty, over 50 characters or not letters and digits (every bad field in `fields`)", body = ErrorEnvelope),
    ))]
fn put_payment_account() {}

#[utoipa::path(post, path = "/api/v1/manage/payments/reconcile", tag = "payments",
    security(("bearer" = [])),
    description = "The province admin posts a bank statement (a day at a time): each line is \
                   matched against the province's open transfers by reference and exact amount, \
                   as `POST /api/v1/manage/dossiers/{code}/transfer-received` matches one. One \
                   transaction; a line seen before changes nothing (`already_paid`).",
    request_body = StatementForm,
    responses(
        (status = 200, description = "Each line's outcome, and the counts", body = Reconciliation),
        (status = 422, description = "No lines, or more than 1000", body = ErrorEnvelope),
    ))]
fn reconcile_statement() {}

#[utoipa::path(get, path = "/api/v1/manage/branding", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The province's branding", body = Branding)))]
fn get_branding() {}

#[utoipa::path(put, path = "/api/v1/manage/branding", tag = "admin", security(("bearer" = [])),
    request_body = BrandingInput,
    responses(
        (status = 200, description = "Saved", body = Branding),
        (status = 422, description = "Invalid colour, low contrast, over-long text or markup",
         body = ErrorEnvelope),
    ))]
fn update_branding() {}

#[utoipa::path(get, path = "/api/v1/manage/procedures", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Every catalog procedure with its switch",
               body = Vec<ManagedProcedure>)))]
fn list_managed_procedures() {}

#[utoipa::path(put, path = "/api/v1/manage/procedures/{code}", tag = "admin",
    security(("bearer" = [])), params(("code" = String, Path)),
    request_body = ToggleForm,
    responses((status = 200, description = "Switched", body = ProcedureSwitch)))]
fn toggle_procedure() {}

#[utoipa::path(get, path = "/api/v1/manage/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "The province's staff", body = Vec<StaffAccount>)))]
fn list_staff() {}

#[utoipa::path(post, path = "/api/v1/manage/users", tag = "admin", security(("bearer" = [])),
    description = "Invites an official or admin; the one-time link is mailed.",
    request_body = InviteForm,
    responses(
        (status = 201, description = "Invited", body = StaffAccount),
        (status = 409, description = "The email is taken", body = ErrorEnvelope),
        (status = 422, description = "Bad email or role", body = ErrorEnvelope),
    ))]
fn invite_staff() {}

#[utoipa::path(post, path = "/api/v1/manage/users/{id}/deactivate", tag = "admin",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "Deactivated", body = StaffAccount),
        (status = 409, description = "One's own account", body = ErrorEnvelope),
    ))]
fn deactivate_staff() {}

#[utoipa::path(post, path = "/api/v1/manage/users/{id}/activate", tag = "admin",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "Active", body = StaffAccount)))]
fn activate_staff() {}

#[utoipa::path(post, path = "/api/v1/auth/invitations/{token}", tag = "auth",
    description = "An invited official sets a password; the one-time token is the credential.",
    params(("token" = String, Path)),
    request_body = AcceptForm,
    responses(
        (status = 200, description = "The account, now with a password", body = StaffAccount),
        (status = 422, description = "Weak password", body = ErrorEnvelope),
    ))]
fn accept_invitation() {}

#[utoipa::path(get, path = "/api/v1/manage/usage", tag = "admin", security(("bearer" = [])),
    params(("period" = Option<String>, Query, description = "`YYYY-MM`; this month when absent",
            example = "2026-11")),
    responses(
        (status = 200, description = "This province's usage", body = Usage),
        (status = 422, description = "Not a period", body = ErrorEnvelope),
    ))]
fn get_own_usage() {}

#[utoipa::path(get, path = "/api/v1/manage/invoices", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "This province's invoices", body = Vec<Invoice>)))]
fn list_own_invoices() {}

#[utoipa::path(put, path = "/api/v1/manage/logo", tag = "admin", security(("bearer" = [])),
    description = "PNG or JPEG by its bytes, 200 KB at most.",
    request_body(content = LogoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored", body = LogoStored),
        (status = 422, description = "No file, or not PNG or JPEG", body = ErrorEnvelope),
    ))]
fn upload_logo() {}

#[utoipa::path(delete, path = "/api/v1/manage/logo", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "There was none", body = ErrorEnvelope),
    ))]
fn delete_logo() {}
