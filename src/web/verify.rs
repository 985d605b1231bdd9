//! Verifying a result (issue 19): `GET /api/v1/verify/{code}` and the page `GET /verify/{code}`,
//! on every province host and the national one, public, without personal data. An unknown code
//! is 404 after the same single lookup as a known one ([`crate::app::results::verify`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use crate::app::results::{self, Verification};
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::Layout;
use crate::web::province::citizen_pages;
use crate::web::session::{self, Csrf, PageCitizen};

/// The national host's routes.
pub fn national_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(verify_result)
        .service(verify_form)
        .service(show_verification);
}

/// A province host's routes: the same answers, the page in the province's colours.
pub fn province_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(verify_result)
        .service(province_verify_form)
        .service(show_province_verification);
}

/// `GET /api/v1/verify/{code}` → `{province, procedure_code, issued_on, sha256}`; unknown 404.
#[get("/api/v1/verify/{code}")]
async fn verify_result(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = results::verify(&state, &code).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(found))
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    layout: Layout,
    title: String,
    code: String,
    found: Option<Verification>,
    procedure_name: String,
    issued_on: String,
    valid_text: String,
    unknown_text: String,
    province_label: String,
    procedure_label: String,
    issued_label: String,
    hash_hint: String,
    code_label: String,
    check_label: String,
}

fn t(lang: Lang, vi: &'static str, en: &'static str) -> String {
    Msg::new(vi, en).get(lang).to_string()
}

/// The page for `code` (blank: the form alone): 200 when known, 404 otherwise. `csrf`: the
/// layout carries a signed-in citizen's sign-out form.
async fn page(
    req: &HttpRequest,
    state: &AppState,
    layout: Layout,
    code: &str,
    csrf: Option<&Csrf>,
) -> Result<HttpResponse, AppError> {
    let lang = layout.lang;
    let found = if code.trim().is_empty() {
        None
    } else {
        match results::verify(state, code).await {
            Ok(v) => Some(v),
            Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        }
    };
    let status = match (&found, code.trim().is_empty()) {
        (None, false) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let page = VerifyPage {
        title: t(lang, "Xác thực kết quả", "Verify a result"),
        code: code.trim().to_string(),
        procedure_name: found
            .as_ref()
            .map(|v| crate::dossiers::view::procedure_name(&v.procedure_code, lang))
            .unwrap_or_default(),
        issued_on: found
            .as_ref()
            .map(|v| v.issued_on.format("%d/%m/%Y").to_string())
            .unwrap_or_default(),
        found,
        valid_text: t(
            lang,
            "Mã xác thực hợp lệ: kết quả này do cơ quan dưới đây cấp.",
            "The code is valid: this result was issued as shown below.",
        ),
        unknown_text: if code.trim().is_empty() {
            t(
                lang,
                "Nhập mã xác thực in trên kết quả.",
                "Enter the verification code printed on the result.",
            )
        } else {
            t(
                lang,
                "Không tìm thấy kết quả với mã này. Kiểm tra lại mã in trên kết quả.",
                "No result has this code. Check the code printed on the result.",
            )
        },
        province_label: t(lang, "Cơ quan cấp", "Issued by"),
        procedure_label: t(lang, "Thủ tục", "Procedure"),
        issued_label: t(lang, "Ngày cấp", "Issued on"),
        hash_hint: t(
            lang,
            "Tệp kết quả điện tử đúng bản gốc khi mã SHA-256 của tệp trùng với mã trên; với kết quả giấy, mã này là SHA-256 của số quyết định.",
            "The e-copy is the original when its SHA-256 matches the one above; for a paper result it is the SHA-256 of the decision number.",
        ),
        code_label: t(lang, "Mã xác thực", "Verification code"),
        check_label: t(lang, "Kiểm tra", "Check"),
        layout,
    };
    match csrf {
        Some(csrf) => session::page(req, status, &page, csrf),
        None => session::page_without_form(req, status, &page),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CodeQuery {
    code: String,
}

/// `GET /verify?code=`: the form (and its answer, so it works without JavaScript).
#[get("/verify")]
async fn verify_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, AppError> {
    page(&req, &state, Layout::national(&req), &query.code, None).await
}

/// `GET /verify/{code}`: where the QR code points.
#[get("/verify/{code}")]
async fn show_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    page(&req, &state, Layout::national(&req), &code, None).await
}

/// The province's page frame, with the citizen's name and sign-out when signed in (as on
/// every other page of the province), not a "sign in" link.
async fn province_layout(
    req: &HttpRequest,
    province: &Province,
    who: &PageCitizen,
    csrf: &Csrf,
) -> Result<Layout, AppError> {
    let branding = citizen_pages::branding(req, province).await?;
    Ok(citizen_pages::layout(req, &branding, csrf, who.0.as_ref()))
}

#[get("/verify")]
async fn province_verify_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, AppError> {
    let layout = province_layout(&req, &province, &who, &csrf).await?;
    page(&req, &state, layout, &query.code, Some(&csrf)).await
}

#[get("/verify/{code}")]
async fn show_province_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let layout = province_layout(&req, &province, &who, &csrf).await?;
    page(&req, &state, layout, &code, Some(&csrf)).await
}
