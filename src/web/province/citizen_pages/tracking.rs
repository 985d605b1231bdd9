//! Tracking without sign-in: a tracking code and the applicant's citizen ID give the status
//! and the due date, nothing personal; a wrong pair is a friendly 404.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::view::{ErrorLink, FieldView, date, error_links};
use super::{branding, layout};
use crate::app::citizen;
use crate::dossiers::status::Status;
use crate::dossiers::tracking;
use crate::dossiers::view::procedure_name;
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::client_addr::ClientAddr;
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::session::{self, Csrf, PageCitizen};

/// What a successful lookup shows.
struct TrackingResult {
    code: String,
    procedure: String,
    status: String,
    status_key: String,
    due: String,
}

#[derive(Template)]
#[template(path = "citizen/tracking.html")]
struct TrackingPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    fields: Vec<FieldView>,
    result: Option<TrackingResult>,
    not_found: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TrackingQuery {
    code: Option<String>,
    id_number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TrackingForm {
    csrf: Option<String>,
    code: Option<String>,
    id_number: Option<String>,
}

/// The form (a link may prefill the code). A link carrying `id_number` is still answered,
/// for old bookmarks; the form itself posts, so the ID never lands in a URL.
#[get("/tracking")]
#[allow(clippy::too_many_arguments)]
pub async fn show_tracking(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    client: ClientAddr,
    query: web::Query<TrackingQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let page = Asked {
        code: query.code,
        id_number: query.id_number,
    };
    answer(&req, &state, &province, &who, &csrf, lang, client, page).await
}

/// The form's lookup: the code and the citizen ID in the body, never in the URL.
#[post("/tracking")]
#[allow(clippy::too_many_arguments)]
pub async fn submit_tracking(
    req: HttpRequest,
    state: web::Data<AppState>,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    client: ClientAddr,
    form: web::Form<TrackingForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let page = Asked {
        code: Some(form.code.unwrap_or_default()),
        id_number: Some(form.id_number.unwrap_or_default()),
    };
    answer(&req, &state, &province, &who, &csrf, lang, client, page).await
}

/// What the visitor asked, if anything.
struct Asked {
    code: Option<String>,
    id_number: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn answer(
    req: &HttpRequest,
    state: &AppState,
    province: &Province,
    who: &PageCitizen,
    csrf: &Csrf,
    lang: Lang,
    client: ClientAddr,
    query: Asked,
) -> Result<HttpResponse, AppError> {
    let asked = query.code.is_some() || query.id_number.is_some();
    let code = tracking::normalize(query.code.as_deref().unwrap_or_default());
    let id_number: String = query
        .id_number
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut errors = FieldErrors::new();
    if asked && code.is_empty() {
        errors.insert(
            "code".into(),
            Msg::new("Vui lòng nhập mã hồ sơ.", "Enter the tracking code."),
        );
    }
    if asked && (id_number.len() != 12 || !id_number.bytes().all(|b| b.is_ascii_digit())) {
        errors.insert(
            "id_number".into(),
            Msg::new(
                "Số định danh cá nhân gồm đúng 12 chữ số.",
                "A citizen ID number has exactly 12 digits.",
            ),
        );
    }
    let lookup = asked && errors.is_empty();
    let mut limited = None;
    let found = if lookup {
        let ask = citizen::TrackingLookup {
            code: code.clone(),
            id_number,
            client: client.0,
        };
        match citizen::track(&state.app, &province.db, ask).await {
            Ok(view) => Some(view),
            Err(AppError::NotFound) => None,
            Err(AppError::TooMany {
                msg,
                retry_after_secs,
                ..
            }) => {
                errors.insert("code".into(), msg);
                limited = Some(retry_after_secs);
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let branding = branding(req, province).await?;
    let not_found = lookup && found.is_none() && limited.is_none();
    let status = match (&found, not_found, errors.is_empty()) {
        _ if limited.is_some() => StatusCode::TOO_MANY_REQUESTS,
        (_, _, false) => StatusCode::UNPROCESSABLE_ENTITY,
        (_, true, _) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let err = |k: &str| errors.get(k).map(|m| m.get(lang).to_string());
    // The citizen ID is never echoed back: the page may be read over someone's shoulder.
    let fields = vec![
        FieldView::plain(
            "code",
            tr(lang, "tracking_code"),
            "text",
            "off",
            &code,
            err("code").as_deref(),
        )
        .with_hint(tr(lang, "tracking_code_hint")),
        FieldView::plain(
            "id_number",
            tr(lang, "id_number"),
            "text",
            "off",
            "",
            err("id_number").as_deref(),
        )
        .numeric(12),
    ];
    let result = found.map(|d| TrackingResult {
        procedure: procedure_name(&d.procedure_code, lang),
        status: Status::parse(&d.status)
            .map_or_else(|_| d.status.clone(), |s| s.label(lang).to_string()),
        due: d
            .due_on
            .map_or_else(|| tr(lang, "not_yet").to_string(), date),
        status_key: d.status,
        code: d.tracking_code,
    });
    let page = TrackingPage {
        layout: layout(req, &branding, csrf, who.0.as_ref()),
        errors: error_links(&["code", "id_number"], &errors, lang),
        fields,
        result,
        not_found,
    };
    let mut res = session::page(req, status, &page, csrf)?;
    if let Some(secs) = limited {
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(secs),
        );
    }
    Ok(res)
}
