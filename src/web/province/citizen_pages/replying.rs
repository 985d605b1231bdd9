//! The citizen's replies from the dossier page, each the same move as the JSON API's:
//! supplement (answers and files in one transaction), rate; and the letter of apology (paying
//! is in `paying`).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::dossiers::render_dossier;
use super::replies::{Attempt, accepted, limit, supplementable};
use super::view;
use super::{branding, layout};
use crate::app::citizen;
use crate::catalog::{self, Procedure};
use crate::dossiers::attachments::check_type;
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::province::dossier_api::move_context;
use crate::web::province::staff_pages::apology::apology_page;
use crate::web::province::upload_form;
use crate::web::session::{self, Csrf, PageCitizen};

/// The answers and files of the supplement form (multipart), then the `supplement` move with
/// the files added in the same transaction; refusals come back on the dossier page.
#[post("/dossiers/{code}/supplement")]
pub async fn supplement_dossier_page(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let code = tracking::normalize(&code);
    // Who and the form token first: the body of a stranger's request is never read.
    let Some(citizen) = who.0 else {
        return Ok(session::citizen_sign_in_then(
            &req,
            &format!("/dossiers/{code}"),
        ));
    };
    // The form's procedure sets the files' limits; an unknown dossier, or another citizen's,
    // reads nothing.
    let procedure_code = citizen::mine(&province.db, citizen.id, code.clone())
        .await?
        .procedure_code;
    let procedure: &Procedure = catalog::national()
        .get(&procedure_code)
        .ok_or(AppError::NotFound)?;
    let site_max = state.settings.storage.max_upload_bytes;
    let parts = upload_form::read_page_form(&req, &csrf, payload, site_max, |name| {
        let field = procedure.file_fields().find(|f| f.name == name)?;
        Some(limit(Some(field), &state))
    })
    .await?;
    let mut answers = Map::new();
    for f in procedure.fields.iter().filter(|f| supplementable(f)) {
        let value = parts.text(&f.name).unwrap_or_default().trim().to_string();
        answers.insert(f.name.clone(), Value::String(value));
    }
    let mut attempt = Attempt {
        values: answers.clone(),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        ..Attempt::default()
    };
    if let Some(name) = &parts.too_large {
        let max = view::human_size(limit(
            procedure.file_fields().find(|f| &f.name == name),
            &state,
        ));
        attempt.status = StatusCode::PAYLOAD_TOO_LARGE;
        attempt.errors.insert(
            name.clone(),
            Msg::owned(
                format!("Tệp quá lớn. Vui lòng chọn tệp không quá {max}."),
                format!("The file is too large. Please choose a file of {max} or less."),
            ),
        );
    }
    let mut files = Vec::new();
    // One file's bytes in memory at a time: checked here, read again when stored.
    for file in parts.files {
        let Some(field) = procedure.file_fields().find(|f| f.name == file.field) else {
            continue;
        };
        let bytes = match file.size {
            0 => None,
            _ => Some(file.bytes()?),
        };
        let checked = bytes
            .as_deref()
            .and_then(|b| check_type(b, Some(accepted(field))).ok());
        // Whole, readable and not blank: else the reason, under the document.
        let unreadable = match (&bytes, checked) {
            (Some(b), Some(k)) => crate::uploads::check(k, b).err(),
            _ => None,
        };
        drop(bytes);
        match (checked, unreadable) {
            (Some(_), Some(why)) => {
                attempt.errors.insert(field.name.clone(), why.message());
            }
            (Some(kind), None) => files.push(citizen::CheckedFile {
                file,
                content_type: kind,
            }),
            _ => {
                let types = view::type_names(accepted(field));
                attempt.errors.insert(
                    field.name.clone(),
                    Msg::owned(
                        format!("Tệp phải là {types} (kiểm tra theo nội dung tệp, không theo tên) và không được rỗng."),
                        format!("The file must be {types} (checked by its content, not its name) and not empty."),
                    ),
                );
            }
        }
    }
    if attempt.errors.is_empty() {
        let cx = move_context(&province, &state).await?;
        let moved =
            citizen::supplement(&province.db, cx, citizen.id, code.clone(), files, answers).await;
        match moved {
            Ok(()) => return Ok(session::see_other(&format!("/dossiers/{code}"))),
            Err(AppError::Invalid(fields)) => attempt.errors = fields,
            Err(AppError::Conflict { msg, .. }) => {
                attempt.status = StatusCode::CONFLICT;
                attempt.conflict = Some(("history", msg));
            }
            Err(e) => return Err(e),
        }
    }
    render_dossier(&req, &province, &state, &citizen, &csrf, code, attempt).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RatingFormData {
    csrf: Option<String>,
    score: String,
    comment: String,
}

/// Rates the finished dossier once, as `POST …/rating` does.
#[post("/dossiers/{code}/rating")]
pub async fn rate_dossier_page(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<RatingFormData>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(citizen) = who.0 else {
        return Ok(session::citizen_sign_in_then(
            &req,
            &format!("/dossiers/{code}"),
        ));
    };
    let mut attempt = Attempt {
        values: Map::from_iter([
            ("score".to_string(), Value::String(form.score.clone())),
            ("comment".to_string(), Value::String(form.comment.clone())),
        ]),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        ..Attempt::default()
    };
    let Ok(score) = form.score.trim().parse::<i64>() else {
        attempt.errors.insert(
            "score".into(),
            Msg::new(
                "Vui lòng chọn mức độ hài lòng.",
                "Please choose how satisfied you are.",
            ),
        );
        return render_dossier(&req, &province, &state, &citizen, &csrf, code, attempt).await;
    };
    let rated = citizen::rate(
        &province.db,
        citizen.id,
        code.clone(),
        score,
        Some(form.comment),
    )
    .await;
    match rated {
        Ok(()) => return Ok(session::see_other(&format!("/dossiers/{code}#rating"))),
        Err(AppError::Invalid(fields)) => attempt.errors = fields,
        Err(AppError::Conflict { msg, .. }) => {
            attempt.status = StatusCode::CONFLICT;
            attempt.conflict = Some(("rating", msg));
        }
        Err(e) => return Err(e),
    }
    render_dossier(&req, &province, &state, &citizen, &csrf, code, attempt).await
}

/// The letter of apology for the citizen's own extended dossier; 404 otherwise.
#[get("/dossiers/{code}/apology")]
pub async fn show_owner_apology(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = tracking::normalize(&code);
    let (d, events) = citizen::mine_with_history(&province.db, citizen.id, code).await?;
    let branding = branding(&req, &province).await?;
    let page = apology_page(
        layout(&req, &branding, &csrf, Some(&citizen)),
        format!("/dossiers/{}", d.tracking_code),
        &province.tenant.name,
        &d,
        &events,
        lang,
    )?;
    session::page(&req, StatusCode::OK, &page, &csrf)
}
