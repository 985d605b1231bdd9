//! The printable receipt of a dossier (giấy tiếp nhận hồ sơ và hẹn trả kết quả, A4 or A5; for
//! the staff who reach it and for its owner) and the workspace's CSV export for the page's
//! session.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

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
use crate::web::qr::{self, QrSvg};
use crate::web::session::{self, Csrf, PageCitizen, PageStaff};

/// `?size=a5` (or `?paper=a5`, as the fee receipt's) prints on A5; anything else on A4.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SizeQuery {
    size: Option<String>,
    paper: Option<String>,
}

impl SizeQuery {
    fn a5(&self) -> bool {
        [&self.size, &self.paper]
            .iter()
            .any(|v| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("a5")))
    }
}

/// One document received: what the form calls it, the file's name, its short hash.
struct DocumentLine {
    label: String,
    name: String,
    /// The first 16 hex digits of the SHA-256, in groups of four.
    short_hash: String,
    sha256: String,
}

/// The first 16 hex digits of a SHA-256, as `1a2b 3c4d 5e6f 7a8b`.
fn short_hash(sha256: &str) -> String {
    let head: Vec<char> = sha256.chars().take(16).collect();
    head.chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template)]
#[template(path = "staff/receipt.html")]
struct ReceiptPage {
    layout: Layout,
    back: String,
    /// This page's path, for the A4/A5 links.
    here: String,
    a5: bool,
    province: String,
    code: String,
    procedure: String,
    applicant: String,
    received_at: String,
    competent: String,
    /// The unit issuing the receipt: where it was received, else the deciding unit.
    issuer: String,
    received_on: String,
    due: String,
    /// Before acceptance: the expected date (see `app::workspace::Receipt::expected_due`).
    expected_due: String,
    documents: Vec<DocumentLine>,
    /// The public tracking page, prefilled with the code (never the citizen ID).
    tracking_url: String,
    qr: Option<QrSvg>,
}

/// Where and how the page is shown (besides the dossier).
struct Frame {
    layout: Layout,
    province: String,
    back: String,
    here: String,
    a5: bool,
    /// The province site's address (`https://ha-noi.…`).
    site_url: String,
}

fn page(frame: Frame, r: Receipt, lang: Lang) -> ReceiptPage {
    let d = &r.dossier;
    let form = crate::catalog::national().get(&d.procedure_code);
    let documents = r
        .files
        .iter()
        .map(|f| {
            let label = f
                .field
                .as_deref()
                .and_then(|name| form?.file_fields().find(|x| x.name == name))
                .map(|x| x.label.get(lang).to_string())
                .unwrap_or_default();
            DocumentLine {
                label,
                name: f.name.clone(),
                short_hash: short_hash(&f.sha256),
                sha256: f.sha256.clone(),
            }
        })
        .collect();
    let tracking_url = format!("{}/tracking?code={}", frame.site_url, d.tracking_code);
    ReceiptPage {
        layout: frame.layout,
        back: frame.back,
        here: frame.here,
        a5: frame.a5,
        province: frame.province,
        procedure: procedure_name(&d.procedure_code, lang),
        applicant: d.applicant_name.clone(),
        received_at: received_text(d, &r.desk, lang),
        competent: competent_text(d, &r.desk, lang),
        issuer: match &d.received_at_unit {
            Some(u) => r.desk.unit_name(u),
            None => competent_text(d, &r.desk, lang),
        },
        received_on: local_time(d.submitted_at),
        due: d.due_on.map(date).unwrap_or_default(),
        expected_due: r.expected_due.map(date).unwrap_or_default(),
        documents,
        qr: qr::svg(&tracking_url),
        tracking_url,
        code: d.tracking_code.clone(),
    }
}

/// The province site's address, for the QR code to tracking.
fn site_url(state: &AppState, province: &Province) -> String {
    crate::web::province::dossier_api::mail_context(province, state).site_url
}

/// `GET /manage/dossiers/{code}/receipt[?size=a5]`: for staff whose units reach the dossier.
#[get("/manage/dossiers/{code}/receipt")]
#[allow(clippy::too_many_arguments)]
pub async fn show_staff_receipt(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
    size: web::Query<SizeQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let tenant = &staff.province.tenant;
    let r = app::workspace::staff_receipt(&state, &staff.actor(), tenant, &code).await?;
    let branding = app::province_admin::branding(&state, tenant).await?;
    let back = format!("/manage/dossiers/{}", r.dossier.tracking_code);
    let frame = Frame {
        layout: layout(&req, &branding, &csrf, &staff),
        province: branding.display_name.clone(),
        here: format!("{back}/receipt"),
        back,
        a5: size.a5(),
        site_url: site_url(&state, &staff.province),
    };
    let view = page(frame, r, lang);
    session::page(&req, StatusCode::OK, &view, &csrf)
}

/// `GET /dossiers/{code}/receipt[?size=a5]`: for the citizen who owns the dossier (anyone else
/// 404).
#[get("/dossiers/{code}/receipt")]
#[allow(clippy::too_many_arguments)]
pub async fn show_citizen_receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
    size: web::Query<SizeQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let r = app::workspace::citizen_receipt(&state, &province.db, citizen.id, &code).await?;
    let branding = citizen_pages::branding(&req, &province).await?;
    let back = format!("/dossiers/{}", r.dossier.tracking_code);
    let frame = Frame {
        layout: citizen_pages::layout(&req, &branding, &csrf, Some(&citizen)),
        province: branding.display_name.clone(),
        here: format!("{back}/receipt"),
        back,
        a5: size.a5(),
        site_url: site_url(&state, &province),
    };
    let view = page(frame, r, lang);
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
