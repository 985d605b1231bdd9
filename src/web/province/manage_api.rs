//! The staff's API on a province site: the queue, counter registration and every move.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use super::dossier_api::{file_response, mail_context};
use crate::dossiers::attachments::{self, BlobStore, SchemaBlobs};
use crate::dossiers::moves::{self, Move};
use crate::dossiers::queue::{self, QueueFilter};
use crate::dossiers::status::{Action, Actor, Status};
use crate::dossiers::store;
use crate::dossiers::submit::{Channel, Submission, submit};
use crate::dossiers::tracking;
use crate::dossiers::view::DossierView;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::extract::StaffUser;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_queue)
        .service(register_counter_dossier)
        .service(get_managed_dossier)
        .service(download_managed_attachment)
        .service(act_on_dossier);
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

/// `GET /api/v1/manage/dossiers?status=&q=&page=`.
#[get("/api/v1/manage/dossiers")]
async fn list_queue(
    staff: StaffUser,
    lang: Lang,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            AppError::invalid(
                "status",
                Msg::new("Trạng thái không hợp lệ.", "Unknown status."),
            )
        })?),
        None => None,
    };
    let filter = QueueFilter {
        status,
        query: query.q,
        limit: 50,
        // Bounded as the queue page is: `page * 50` must not overflow.
        offset: (query.page.unwrap_or(1).clamp(1, 10_000) - 1) * 50,
    };
    let rows = staff
        .province
        .db
        .run(move |conn| queue::list(conn, &filter))
        .await?;
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
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CounterForm {
    procedure_code: String,
    fields: serde_json::Map<String, serde_json::Value>,
    /// The citizen's email for notices, if they gave one at the counter.
    contact_email: Option<String>,
    #[serde(default)]
    channel: Option<String>,
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
    let contact_email = form
        .contact_email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(crate::accounts::Email::parse)
        .transpose()
        .map_err(|m| AppError::invalid("contact_email", m))?;
    let ctx = mail_context(&staff.province, &state);
    let tenant = staff.province.tenant.clone();
    let sub = Submission {
        procedure_code: form.procedure_code,
        answers: form.fields,
        channel: Channel::Counter,
        citizen_id: None,
        contact_email: contact_email.map(|e| e.to_string()),
        lang,
        actor: staff.label(),
    };
    let d = staff
        .province
        .db
        .run(move |conn| submit(conn, &tenant, &ctx, &sub))
        .await?;
    Ok(HttpResponse::Created().json(
        json!({ "tracking_code": d.tracking_code, "status": d.status, "channel": d.channel }),
    ))
}

#[get("/api/v1/manage/dossiers/{code}")]
async fn get_managed_dossier(
    staff: StaffUser,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = tracking::normalize(&code);
    let view = staff
        .province
        .db
        .run(move |conn| {
            let d = store::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            let events = store::events(conn, d.id)?;
            let files = attachments::list(conn, d.id)?;
            Ok(DossierView::new(d, events, files, lang))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[get("/api/v1/manage/dossiers/{code}/attachments/{id}")]
async fn download_managed_attachment(
    staff: StaffUser,
    path: web::Path<(String, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let code = tracking::normalize(&code);
    let (meta, bytes) = staff
        .province
        .db
        .run(move |conn| {
            let d = store::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            let meta = attachments::find(conn, d.id, id)?.ok_or(AppError::NotFound)?;
            let bytes = SchemaBlobs.get(conn, meta.blob_id)?;
            Ok((meta, bytes))
        })
        .await?;
    Ok(file_response(&meta, bytes))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionForm {
    action: String,
    note: Option<String>,
    due_on: Option<NaiveDate>,
    fee_vnd: Option<i64>,
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
    let action = Action::parse(&form.action)
        .filter(|a| *a != Action::Submit)
        .ok_or_else(|| {
            AppError::invalid(
                "action",
                Msg::new("Thao tác không hợp lệ.", "Unknown action."),
            )
        })?;
    let ctx = mail_context(&staff.province, &state);
    let tenant = staff.province.tenant.clone();
    let code = tracking::normalize(&code);
    let mut mv = Move::new(action, Actor::Staff, staff.label());
    mv.note = form.note;
    mv.due_on = form.due_on;
    mv.fee_vnd = form.fee_vnd;
    mv.staff_id = Some(staff.account.id);
    let cal = state.calendar.get(&state.db).await?;
    let view = staff
        .province
        .db
        .run(move |conn| {
            let d = store::lock_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            let d = moves::apply(conn, &tenant, &ctx, cal.as_ref(), &d, &mv)?;
            let events = store::events(conn, d.id)?;
            let files = attachments::list(conn, d.id)?;
            Ok(DossierView::new(d, events, files, lang))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
