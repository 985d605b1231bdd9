//! The staff's API on a province site: the queue, counter registration and every move.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::dossier_api::file_response;
use crate::app::{
    self,
    staff::{CounterInput, MoveInput},
};
use crate::dossiers::queue::QueueParams;
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
        .service(act_on_dossier);
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
    };
    let moved =
        app::staff::move_dossier(&state, &staff.actor(), &staff.province.tenant, &code, input)
            .await?;
    Ok(HttpResponse::Ok().json(moved.view(lang)))
}
