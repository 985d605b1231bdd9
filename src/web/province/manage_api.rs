//! The staff's API on a province site: the queue, counter registration and every move.

use actix_web::{FromRequest, HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::dossier_api::file_response;
use crate::app::results::ResultInput;
use crate::app::{
    self,
    staff::{CounterInput, MoveInput},
};
use crate::dossiers::deficiencies::DeficiencyInput;
use crate::dossiers::queue::QueueParams;
use crate::dossiers::results::PaperResult;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::extract::StaffUser;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_queue)
        .service(export_queue)
        .service(register_counter_dossier)
        .service(get_managed_dossier)
        .service(download_managed_attachment)
        .service(act_on_dossier)
        .service(attach_dossier_result)
        .service(void_fee_receipt);
}

/// `GET /api/v1/manage/dossiers?status=&q=&procedure=&unit=&channel=&assignee=&flag=&open=&sort=&page=`.
#[get("/api/v1/manage/dossiers")]
async fn list_queue(
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    query: web::Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner().filter(50)?;
    let rows = app::staff::queue(&state, &staff.actor(), &staff.province.tenant, filter).await?;
    let items: Vec<_> = rows
        .into_iter()
        .map(|d| {
            json!({
                "tracking_code": d.tracking_code,
                "procedure_code": d.procedure_code,
                "procedure_name": crate::dossiers::view::procedure_name(&d.procedure_code, lang),
                "applicant_name": d.applicant_name,
                "channel": d.channel,
                "status": d.status,
                "submitted_at": d.submitted_at,
                "due_on": d.due_on,
                "due_flag": d.due_flag,
                "competent_unit": d.competent_unit,
                "received_at": crate::dossiers::view::received_at(&d),
                "assignee_id": d.assignee_id,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// `GET /api/v1/manage/dossiers.csv?<the same parameters>`: the whole view as CSV.
#[get("/api/v1/manage/dossiers.csv")]
async fn export_queue(
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    query: web::Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner().filter(50)?;
    let (rows, desk) =
        app::staff::queue_export(&state, &staff.actor(), &staff.province.tenant, filter).await?;
    super::queue_csv::response(&rows, &desk, lang)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CounterForm {
    procedure_code: String,
    fields: serde_json::Map<String, serde_json::Value>,
    /// The citizen's email for notices, if they gave one at the counter.
    contact_email: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    /// The competent unit (default: the province's choice for the procedure, or the
    /// receiving commune for a commune-level one).
    #[serde(default)]
    unit_code: Option<String>,
    /// The service point receiving it (default: the staff member's own).
    #[serde(default)]
    received_at: Option<String>,
}

/// `POST /api/v1/manage/dossiers`: a dossier received at the counter (`channel: counter`).
#[post("/api/v1/manage/dossiers")]
async fn register_counter_dossier(
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    form: web::Json<CounterForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    if form.channel.as_deref().is_some_and(|c| c != "counter") {
        return Err(AppError::invalid(
            "channel",
            Msg::new(
                "Kênh tiếp nhận phải là counter.",
                "The channel must be counter.",
            ),
        ));
    }
    let input = CounterInput {
        procedure_code: form.procedure_code,
        answers: form.fields,
        contact_email: form.contact_email,
        lang,
        unit_code: form.unit_code,
        received_at: form.received_at,
    };
    let d = app::staff::register_at_counter(&state, &staff.actor(), &staff.province.tenant, input)
        .await?;
    Ok(HttpResponse::Created().json(
        json!({ "tracking_code": d.tracking_code, "status": d.status, "channel": d.channel }),
    ))
}

#[get("/api/v1/manage/dossiers/{code}")]
async fn get_managed_dossier(
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = app::staff::dossier(&state, &staff.actor(), &staff.province.tenant, &code).await?;
    Ok(HttpResponse::Ok().json(found.view(lang)))
}

#[get("/api/v1/manage/dossiers/{code}/attachments/{id}")]
async fn download_managed_attachment(
    staff: StaffUser,
    state: web::Data<AppState>,
    path: web::Path<(String, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let (meta, bytes) =
        app::staff::attachment(&state, &staff.actor(), &staff.province.tenant, &code, id).await?;
    Ok(file_response(&meta, bytes))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionForm {
    action: String,
    note: Option<String>,
    due_on: Option<NaiveDate>,
    fee_vnd: Option<i64>,
    /// `transfer`: the unit that decides the dossier from now on.
    unit_code: Option<String>,
    /// `assign`: the official of the unit.
    assignee_id: Option<uuid::Uuid>,
    /// `refuse`, `request_supplement`: what is missing or wrong (a `note` alone is one row
    /// `{item: "dossier", problem: "other"}`).
    #[serde(default)]
    deficiencies: Vec<DeficiencyInput>,
    /// A second `request_supplement`: a head of unit's reason (recorded in the history).
    #[serde(default)]
    override_reason: Option<String>,
}

/// `POST /api/v1/manage/dossiers/{code}/actions` `{action, note?, due_on?, fee_vnd?}` → 200 dossier.
/// A citizen's move here is 403; a move the status does not allow is 409 `invalid_transition`.
#[post("/api/v1/manage/dossiers/{code}/actions")]
async fn act_on_dossier(
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    form: web::Json<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = MoveInput {
        action: form.action,
        note: form.note,
        due_on: form.due_on,
        fee_vnd: form.fee_vnd,
        unit_code: form.unit_code,
        assignee_id: form.assignee_id,
        deficiencies: form.deficiencies,
        override_reason: form.override_reason,
    };
    let moved =
        app::staff::move_dossier(&state, &staff.actor(), &staff.province.tenant, &code, input)
            .await?;
    Ok(HttpResponse::Ok().json(moved.view(lang)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PaperResultForm {
    decision_number: String,
    /// Where and when the citizen collects the paper decision.
    pickup: String,
}

/// `POST /api/v1/manage/dossiers/{code}/result`: multipart `file` (the signed PDF) or JSON
/// `{decision_number, pickup}` → 200 dossier with its `result`. Not a PDF: 422 on `file`,
/// nothing stored; another province's or an unreachable dossier: 404.
#[post("/api/v1/manage/dossiers/{code}/result")]
async fn attach_dossier_result(
    req: actix_web::HttpRequest,
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let input = if is_json {
        let form = web::Json::<PaperResultForm>::from_request(&req, &mut payload.into_inner())
            .await
            .map_err(|_| {
                AppError::bad_request(
                    "malformed",
                    Msg::new(
                        "Cần số quyết định và nơi nhận kết quả.",
                        "decision_number and pickup are required.",
                    ),
                )
            })?
            .into_inner();
        ResultInput::Paper(PaperResult::parse(&form.decision_number, &form.pickup)?)
    } else {
        let multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
        let site_max = state.settings.storage.max_upload_bytes;
        let parts = super::upload_form::read(multipart, site_max, |name| {
            (name == "file").then_some(site_max)
        })
        .await?;
        if parts.too_large.is_some() {
            return Err(crate::app::documents::too_large(site_max));
        }
        let file = parts.files.into_iter().next().ok_or_else(|| {
            AppError::invalid("file", Msg::new("Chưa chọn tệp.", "No file was sent."))
        })?;
        ResultInput::File {
            given_name: file.given_name.clone(),
            bytes: file.bytes()?,
        }
    };
    let managed =
        app::results::attach_result(&state, &staff.actor(), &staff.province.tenant, &code, input)
            .await?;
    Ok(HttpResponse::Ok().json(managed.view(lang)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VoidFeeReceiptForm {
    /// Why the receipt in force is voided (required, at most 500 characters).
    reason: String,
}

/// `POST /api/v1/manage/dossiers/{code}/fee-receipt/void` `{reason}` → 200 dossier whose
/// `fee_receipt` is the replacement (the next number, `replaces_number` the voided one). No
/// receipt in force: 409 `no_fee_receipt`; no reason: 422; out of reach or another
/// province's code: 404.
#[post("/api/v1/manage/dossiers/{code}/fee-receipt/void")]
async fn void_fee_receipt(
    staff: StaffUser,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    form: web::Json<VoidFeeReceiptForm>,
) -> Result<HttpResponse, AppError> {
    let managed = app::fee_receipts::void(
        &state,
        &staff.actor(),
        &staff.province.tenant,
        &code,
        &form.reason,
    )
    .await?;
    Ok(HttpResponse::Ok().json(managed.view(lang)))
}
