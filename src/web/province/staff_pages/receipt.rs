//! The printable receipt of a dossier (for the staff who reach it and for its owner) and the
//! workspace's CSV export for the page's session.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;

use super::layout;
use super::queue::{PER_PAGE, competent_text, received_text};
use crate::app::{self, workspace::Receipt};
use crate::dossiers::queue::QueueParams;
use crate::dossiers::view::procedure_name;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::Layout;
use crate::web::province::citizen_pages;
use crate::web::province::citizen_pages::view::{date, local_time};
use crate::web::province::queue_csv;
use crate::web::session::{self, Csrf, PageCitizen, PageStaff};

#[derive(Template)]
#[template(path = "staff/receipt.html")]
struct ReceiptPage {
    layout: Layout,
    back: String,
    province: String,
    code: String,
    procedure: String,
    procedure_code: String,
    applicant: String,
    received_at: String,
    competent: String,
    /// The unit issuing the receipt: where it was received, else the deciding unit.
    issuer: String,
    received_on: String,
    due: String,
    documents: Vec<String>,
}

fn page(layout: Layout, province: String, back: String, r: Receipt, lang: Lang) -> ReceiptPage {
    let d = &r.dossier;
    ReceiptPage {
        layout,
        back,
        province,
        procedure: procedure_name(&d.procedure_code, lang),
        procedure_code: d.procedure_code.clone(),
        applicant: d.applicant_name.clone(),
        received_at: received_text(d, &r.desk, lang),
        competent: competent_text(d, &r.desk, lang),
        issuer: match &d.received_at_unit {
            Some(u) => r.desk.unit_name(u),
            None => competent_text(d, &r.desk, lang),
        },
        received_on: local_time(d.submitted_at),
        due: d.due_on.map(date).unwrap_or_default(),
        documents: r.files.iter().map(|f| f.name.clone()).collect(),
        code: d.tracking_code.clone(),
    }
}

/// `GET /manage/dossiers/{code}/receipt`: for staff whose units reach the dossier.
#[get("/manage/dossiers/{code}/receipt")]
pub async fn show_staff_receipt(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let tenant = &staff.province.tenant;
    let r = app::workspace::staff_receipt(&state, &staff.actor(), tenant, &code).await?;
    let branding = app::province_admin::branding(&state, tenant).await?;
    let back = format!("/manage/dossiers/{}", r.dossier.tracking_code);
    let view = page(
        layout(&req, &branding, &csrf, &staff),
        branding.display_name.clone(),
        back,
        r,
        lang,
    );
    session::page(&req, StatusCode::OK, &view, &csrf)
}

/// `GET /dossiers/{code}/receipt`: for the citizen who owns the dossier (anyone else 404).
#[get("/dossiers/{code}/receipt")]
pub async fn show_citizen_receipt(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let r = app::workspace::citizen_receipt(&province.db, citizen.id, &code).await?;
    let branding = citizen_pages::branding(&req, &province).await?;
    let back = format!("/dossiers/{}", r.dossier.tracking_code);
    let view = page(
        citizen_pages::layout(&req, &branding, &csrf, Some(&citizen)),
        branding.display_name.clone(),
        back,
        r,
        lang,
    );
    session::page(&req, StatusCode::OK, &view, &csrf)
}

/// `GET /manage/dossiers.csv?<the workspace's parameters>`: exactly the page's view, every page.
#[get("/manage/dossiers.csv")]
pub async fn export_queue_csv(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    lang: Lang,
    query: web::Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let filter = query.into_inner().filter(PER_PAGE)?;
    let (rows, desk) =
        app::staff::queue_export(&state, &staff.actor(), &staff.province.tenant, filter).await?;
    queue_csv::response(&rows, &desk, lang)
}
