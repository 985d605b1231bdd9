//! The operator site's operations (`ops.<base>`): tenants, plans, subscriptions, billing.
//! Every one but sign-in and the Stripe webhook takes an operator's bearer token; role
//! `billing` may read and close periods, changes need role `operator` (else 403).

#![allow(dead_code)] // The functions only carry `#[utoipa::path]`; the handlers live elsewhere.

use super::schemas::{BuyerView, ClosedPeriod, ErrorEnvelope, LeasedTenant, WebhookReceived};
use crate::accounts::operators::OperatorAccount;
use crate::app::payments::Reconciliation;
use crate::billing::invoice::Invoice;
use crate::einvoice::buyer::BuyerDetails;
use crate::einvoice::store::IssuedEInvoice;
use crate::leasing::plans::{Plan, PlanInput};
use crate::leasing::subscriptions::Request;
use crate::metering::usage::Usage;
use crate::web::billing_api::{CloseForm, PayForm, VoidForm};
use crate::web::einvoice_api::ReplaceForm;
use crate::web::leasing_api::SubscriptionPage;
use crate::web::leasing_api::{DeclineForm, LeaseEndForm, LeaseForm};
use crate::web::operator::{CreateTenantForm, TenantView, TokenForm, TokenResponse};
use crate::web::payments_api::StatementForm;

#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    description = "Signs an operator in; the token is valid on the operator site only.",
    request_body = TokenForm,
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = ErrorEnvelope),
    ))]
fn issue_token() {}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in operator", body = OperatorAccount)))]
fn who_am_i() {}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, description = "Every province", body = Vec<TenantView>)))]
fn list_tenants() {}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", security(("bearer" = [])),
    description = "Provisions a province (schema, role, registry); usable on return.",
    request_body = CreateTenantForm,
    responses(
        (status = 201, description = "Provisioned", body = TenantView),
        (status = 409, description = "The slug is taken", body = ErrorEnvelope),
        (status = 422, description = "Bad slug, name, plan or admin email", body = ErrorEnvelope),
    ))]
fn create_tenant() {}

#[utoipa::path(get, path = "/api/v1/tenants/{slug}", tag = "tenants", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, description = "The province", body = TenantView)))]
fn get_tenant() {}

#[utoipa::path(post, path = "/api/v1/tenants/{slug}/suspend", tag = "tenants",
    security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, description = "Suspended: its site answers 503", body = TenantView)))]
fn suspend_tenant() {}

#[utoipa::path(post, path = "/api/v1/tenants/{slug}/resume", tag = "tenants",
    security(("bearer" = [])), params(("slug" = String, Path)),
    responses((status = 200, description = "Active again", body = TenantView)))]
fn resume_tenant() {}

#[utoipa::path(put, path = "/api/v1/tenants/{slug}/lease", tag = "leasing",
    security(("bearer" = [])), params(("slug" = String, Path)),
    description = "Puts the province on a plan from a date (at most a year back).",
    request_body = LeaseForm,
    responses(
        (status = 200, description = "The tenant and its leases", body = LeasedTenant),
        (status = 422, description = "Unknown plan or a start too far back", body = ErrorEnvelope),
    ))]
fn put_lease() {}

#[utoipa::path(post, path = "/api/v1/tenants/{slug}/lease/end", tag = "leasing",
    security(("bearer" = [])), params(("slug" = String, Path)),
    description = "Ends the province's latest lease: it is billed up to and including \
        `last_day` (at most a year back); ending again moves the day. A lease put later starts \
        open-ended. The day after `last_day`, unless a later lease starts, the plan job \
        suspends the province (its site answers 503; audited `tenant.suspend` by \
        `job:lease-end`), once: the operator's resume afterwards stands.",
    request_body = LeaseEndForm,
    responses(
        (status = 200, description = "The tenant and its leases", body = LeasedTenant),
        (status = 422, description = "No lease to end, a day before the latest lease starts, or too far back", body = ErrorEnvelope),
    ))]
fn end_lease() {}

#[utoipa::path(get, path = "/api/v1/tenants/{slug}/usage", tag = "leasing",
    security(("bearer" = [])),
    params(("slug" = String, Path),
           ("period" = Option<String>, Query, description = "`YYYY-MM`; this month when absent",
            example = "2026-11")),
    responses(
        (status = 200, description = "Used against included, per metric", body = Usage),
        (status = 422, description = "Not a period", body = ErrorEnvelope),
    ))]
fn get_tenant_usage() {}

#[utoipa::path(get, path = "/api/v1/plans", tag = "leasing", security(("bearer" = [])),
    responses((status = 200, description = "Every plan", body = Vec<Plan>)))]
fn list_plans() {}

#[utoipa::path(put, path = "/api/v1/plans/{code}", tag = "leasing", security(("bearer" = [])),
    params(("code" = String, Path)),
    description = "Creates or replaces a plan; provinces on it get its rate at once.",
    request_body = PlanInput,
    responses(
        (status = 200, description = "The plan as stored", body = Plan),
        (status = 422, description = "A field is not valid", body = ErrorEnvelope),
    ))]
fn put_plan() {}

#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "leasing", security(("bearer" = [])),
    description = "Verified requests from the national site (a request is listed once its contact \
        address has followed the link mailed to it), newest first, a page at a time: follow \
        `next` until it is null.",
    params(("cursor" = Option<String>, Query, description = "From the previous page's `next`"),
           ("limit" = Option<i64>, Query, description = "1..=200; the configured page size by default")),
    responses(
        (status = 200, description = "A page of requests", body = SubscriptionPage),
        (status = 422, description = "Not a cursor", body = ErrorEnvelope),
    ))]
fn list_subscriptions() {}

#[utoipa::path(post, path = "/api/v1/subscriptions/{id}/approve", tag = "leasing",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    description = "Provisions, leases and invites the contact as first admin, in one transaction.",
    responses(
        (status = 201, description = "The new province", body = TenantView),
        (status = 404, description = "No such verified request", body = ErrorEnvelope),
        (status = 409, description = "Not pending, or the slug was taken meanwhile", body = ErrorEnvelope),
    ))]
fn approve_subscription() {}

#[utoipa::path(post, path = "/api/v1/subscriptions/{id}/decline", tag = "leasing",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = DeclineForm,
    responses(
        (status = 200, description = "Declined; the reason is mailed", body = Request),
        (status = 409, description = "Not pending", body = ErrorEnvelope),
        (status = 422, description = "No reason, or over 1000 characters", body = ErrorEnvelope),
    ))]
fn decline_subscription() {}

#[utoipa::path(post, path = "/api/v1/billing/close", tag = "billing", security(("bearer" = [])),
    description = "Closes a period: one invoice per province; the same result when repeated.",
    request_body = CloseForm,
    responses(
        (status = 200, description = "The period's invoices", body = ClosedPeriod),
        (status = 409, description = "`amount_out_of_range`: a quantity beyond any real month or an amount past 64 bits; nothing issued", body = ErrorEnvelope),
        (status = 422, description = "Not a period, or one in the future", body = ErrorEnvelope),
    ))]
fn close_period() {}

#[utoipa::path(get, path = "/api/v1/invoices", tag = "billing", security(("bearer" = [])),
    params(("period" = Option<String>, Query, description = "`YYYY-MM`; last month when absent",
            example = "2026-10")),
    responses(
        (status = 200, description = "The period's invoices", body = Vec<Invoice>),
        (status = 422, description = "Not a period", body = ErrorEnvelope),
    ))]
fn list_invoices() {}

#[utoipa::path(get, path = "/api/v1/invoices.csv", tag = "billing", security(("bearer" = [])),
    description = "The period's invoices as CSV (UTF-8 with a byte order mark, a header row: \
        number, period, province, province_name, status, subtotal_vnd, vat_vnd, total_vnd, \
        paid_vnd, issued_on, due_on, paid_on, payment_reference). A cell starting with =, +, -, \
        @, a tab or a carriage return is prefixed with an apostrophe.",
    params(
        ("period" = Option<String>, Query, description = "`YYYY-MM`; last month when absent", example = "2026-10"),
        ("status" = Option<String>, Query, description = "`finalized`, `paid` or `void`"),
        ("province" = Option<String>, Query, description = "Part of a province's name or slug"),
    ),
    responses(
        (status = 200, description = "The CSV file", content_type = "text/csv", body = String),
        (status = 422, description = "Not a period, or an unknown status", body = ErrorEnvelope),
    ))]
fn export_invoices() {}

#[utoipa::path(get, path = "/api/v1/invoices/{number}", tag = "billing",
    security(("bearer" = [])), params(("number" = String, Path)),
    responses((status = 200, description = "The invoice", body = Invoice)))]
fn get_invoice() {}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/pay", tag = "billing",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "Records a bank transfer: `finalized` → `paid`.",
    request_body = PayForm,
    responses(
        (status = 200, description = "Paid", body = Invoice),
        (status = 409, description = "Not finalized (also when a void won the race)", body = ErrorEnvelope),
        (status = 422, description = "No reference", body = ErrorEnvelope),
    ))]
fn pay_invoice() {}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/void", tag = "billing",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "Voids an unpaid invoice with a credit note.",
    request_body = VoidForm,
    responses(
        (status = 200, description = "Void", body = Invoice),
        (status = 409, description = "Paid or void already (also when another void or a payment won the race)", body = ErrorEnvelope),
        (status = 422, description = "No reason", body = ErrorEnvelope),
    ))]
fn void_invoice() {}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/send", tag = "billing",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "Pushes a finalized invoice to the payment provider (Stripe); repeatable.",
    responses(
        (status = 200, description = "Sent (or voided there)", body = Invoice),
        (status = 409, description = "`no_provider`, `bank_transfer_only` or not payable",
         body = ErrorEnvelope),
    ))]
fn send_invoice() {}

#[utoipa::path(post, path = "/api/v1/stripe/webhook", tag = "billing",
    description = "Stripe's events; the `Stripe-Signature` header is the credential.",
    params(("Stripe-Signature" = String, Header, description = "`t=…,v1=…`")),
    request_body(content = Object, content_type = "application/json"),
    responses(
        (status = 200, description = "Received (also when ignored or replayed)", body = WebhookReceived),
        (status = 400, description = "Bad signature or not an event", body = ErrorEnvelope),
        (status = 422, description = "The event has no id", body = ErrorEnvelope),
    ))]
fn receive_provider_event() {}

#[utoipa::path(get, path = "/api/v1/tenants/{slug}/buyer", tag = "einvoice",
    security(("bearer" = [])), params(("slug" = String, Path)),
    description = "The province as the buyer of its e-invoices (docs/einvoice.md), and what the \
        law still needs of the details before one can be issued.",
    responses((status = 200, description = "The buyer details and `missing`", body = BuyerView)))]
fn get_buyer() {}

#[utoipa::path(put, path = "/api/v1/tenants/{slug}/buyer", tag = "einvoice",
    security(("bearer" = [])), params(("slug" = String, Path)),
    description = "Replaces the buyer details. Incomplete details may be saved (`missing` says \
        what is still needed); ill-formed ones may not (a tax code of 10 or 10-3 digits, a \
        budget-relationship unit code of 7 digits, at most 400 characters of name and address).",
    request_body = BuyerDetails,
    responses(
        (status = 200, description = "Saved; the details and `missing`", body = BuyerView),
        (status = 422, description = "An ill-formed value (`fields` names it)", body = ErrorEnvelope),
    ))]
fn put_buyer() {}

#[utoipa::path(get, path = "/api/v1/invoices/{number}/einvoice.xml", tag = "einvoice",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "The invoice's e-invoice in the tax authority's XML (message 2.1.0, valid \
        against `reference/einvoice-2.1.0.xsd`): the one issued, or before issue a preview with \
        the series' next number (not taken).",
    responses(
        (status = 200, description = "The XML", content_type = "application/xml", body = String),
        (status = 409, description = "`einvoice_incomplete`: the buyer or the seller lacks what the law requires (`fields`)", body = ErrorEnvelope),
    ))]
fn get_einvoice_xml() {}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/einvoice", tag = "einvoice",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "Issues the invoice's e-invoice through the provider now (what the monthly \
        job does by the 7th); repeated, the same answer and no second e-invoice. Our invoice id \
        is the provider's idempotency key.",
    responses(
        (status = 200, description = "Issued (or issued before)", body = IssuedEInvoice),
        (status = 409, description = "`einvoice_incomplete` (`fields`), `einvoice_invalid`, `invalid_transition` (a void invoice) or `no_einvoice_provider`", body = ErrorEnvelope),
        (status = 503, description = "The provider failed or timed out: recorded, and retried with the same number and key", body = ErrorEnvelope),
    ))]
fn issue_einvoice() {}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/einvoice/adjust", tag = "einvoice",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "The credit of void invoice `number` as an adjustment e-invoice (`TCHDon=2`) \
        naming the original's template, series, number and date; repeated, the same one.",
    responses(
        (status = 200, description = "Issued (or issued before)", body = IssuedEInvoice),
        (status = 409, description = "`invalid_transition`: not void, or its original e-invoice was never issued; or `einvoice_incomplete`, `no_einvoice_provider`", body = ErrorEnvelope),
        (status = 503, description = "The provider failed or timed out: recorded, and retried with the same key", body = ErrorEnvelope),
    ))]
fn adjust_einvoice() {}

#[utoipa::path(post, path = "/api/v1/invoices/{number}/einvoice/replace", tag = "einvoice",
    security(("bearer" = [])), params(("number" = String, Path)),
    description = "Issues invoice `by`'s e-invoice as the replacement (`TCHDon=1`) of void \
        invoice `number`'s: `by` must be live, of the same province, without an e-invoice.",
    request_body = ReplaceForm,
    responses(
        (status = 200, description = "Issued (or issued before)", body = IssuedEInvoice),
        (status = 409, description = "`invalid_transition`: `number` not void or never e-invoiced, or `by` not a live invoice of the same province; or `einvoice_incomplete`, `no_einvoice_provider`", body = ErrorEnvelope),
        (status = 503, description = "The provider failed or timed out: recorded, and retried with the same key", body = ErrorEnvelope),
    ))]
fn replace_einvoice() {}

#[utoipa::path(post, path = "/api/v1/tenants/{slug}/payments/reconcile", tag = "payments",
    security(("bearer" = [])), params(("slug" = String, Path)),
    description = "An operator posts a province's bank statement for it (role `operator`): the \
                   same matching and report as the province admin's \
                   `POST /api/v1/manage/payments/reconcile`, audited under the operator's name.",
    request_body = StatementForm,
    responses(
        (status = 200, description = "Each line's outcome, and the counts", body = Reconciliation),
        (status = 404, description = "No such province", body = ErrorEnvelope),
        (status = 422, description = "No lines, or more than 1000", body = ErrorEnvelope),
    ))]
fn reconcile_tenant_statement() {}
