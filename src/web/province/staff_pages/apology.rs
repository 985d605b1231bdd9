//! The letter of apology for an extended dossier ("Thư xin lỗi"): the province, the dossier,
//! the reason given when extending and the new date; printable (the print stylesheet hides
//! everything but the letter). Staff reach it from the dossier, the citizen from theirs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::layout;
use crate::app;
use crate::dossiers::store::{DossierRow, EventRow};
use crate::dossiers::view::procedure_name;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{date, local_time};
use crate::web::session::{self, Csrf, PageStaff};

#[derive(Template)]
#[template(path = "staff/apology.html")]
pub struct ApologyPage {
    pub layout: Layout,
    /// The dossier's page, for the way back.
    pub back: String,
    pub province: String,
    pub code: String,
    pub procedure: String,
    pub applicant: String,
    pub submitted: String,
    pub reason: String,
    pub new_due: String,
    /// The day of the extension, as the letter's date.
    pub dated: String,
}

/// The letter for the dossier's latest extension; 404 when it was never extended.
pub fn apology_page(
    layout: Layout,
    back: String,
    province: &str,
    d: &DossierRow,
    events: &[EventRow],
    lang: Lang,
) -> Result<ApologyPage, AppError> {
    let extension = events
        .iter()
        .rev()
        .find(|e| e.action == "extend")
        .ok_or(AppError::NotFound)?;
    let dated = local_time(extension.at);
    Ok(ApologyPage {
        layout,
        back,
        province: province.to_string(),
        code: d.tracking_code.clone(),
        procedure: procedure_name(&d.procedure_code, lang),
        applicant: d.applicant_name.clone(),
        submitted: local_time(d.submitted_at),
        reason: extension.note.clone().unwrap_or_default(),
        new_due: d
            .due_on
            .map_or_else(|| tr(lang, "not_yet").to_string(), date),
        dated: dated.split(' ').next().unwrap_or_default().to_string(),
    })
}

#[get("/manage/dossiers/{code}/apology")]
pub async fn show_staff_apology(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageStaff,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let tenant = &staff.province.tenant;
    let found = app::staff::dossier(&state, &staff.actor(), tenant, &code).await?;
    let branding = app::province_admin::branding(&state, tenant).await?;
    let (d, events) = (found.dossier, found.events);
    let page = apology_page(
        layout(&req, &branding, &csrf, &staff),
        format!("/manage/dossiers/{}", d.tracking_code),
        &staff.province.tenant.name,
        &d,
        &events,
        lang,
    )?;
    session::page(&req, StatusCode::OK, &page, &csrf)
}
