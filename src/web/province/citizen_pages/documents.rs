//! The upload page: the form's documents, checked by their bytes and size, kept with the draft
//! until the dossier is submitted.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::apply::{question_pages, total_steps};
use super::view::{self, ErrorLink};
use super::{branding, layout};
use crate::accounts::citizens::Citizen;
use crate::app::drafts;
use crate::catalog::{self, Field, Procedure};
use crate::dossiers::attachments::check_type;
use crate::dossiers::drafts::DraftFileMeta;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::sniff;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::province::upload_form;
use crate::web::session::{self, Csrf, PageCitizen};

/// One document of the form, with what is already uploaded for it.
struct FileFieldView {
    name: String,
    label: String,
    hint: String,
    error: String,
    accept: String,
    uploaded: Option<String>,
    required: bool,
}

#[derive(Template)]
#[template(path = "citizen/documents.html")]
struct DocumentsPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    fields: Vec<FileFieldView>,
    procedure_name: String,
    step: usize,
    total: usize,
    action: String,
    back: String,
    /// Where the page's script opens resumable uploads (`resumable.rs`).
    uploads: String,
    progress_label: String,
    /// The script's words in the page's language, as `data-t-*` attributes of the form.
    script_texts: Vec<(&'static str, String)>,
}

/// What `/static/uploads.js` says; `{pct}` is the share sent.
fn script_texts(lang: Lang) -> Vec<(&'static str, String)> {
    let texts = [
        (
            "uploading",
            Msg::new("Đang tải lên: {pct}%", "Uploading: {pct}%"),
        ),
        (
            "paused",
            Msg::new(
                "Mất kết nối ở {pct}%. Sẽ tự động tải tiếp khi có mạng, không cần chọn lại tệp.",
                "Connection lost at {pct}%. The upload will carry on by itself when the network is back; no need to choose the file again.",
            ),
        ),
        ("done", Msg::new("Đã tải lên xong.", "Upload complete.")),
        ("uploaded", Msg::new("Đã tải lên", "Uploaded")),
        (
            "wait",
            Msg::new(
                "Vui lòng chờ các tệp tải lên xong rồi bấm tiếp tục.",
                "Please wait until the files finish uploading, then continue.",
            ),
        ),
        (
            "failed",
            Msg::new(
                "Không tải lên được tệp. Vui lòng thử lại.",
                "The file could not be uploaded. Please try again.",
            ),
        ),
    ];
    texts
        .into_iter()
        .map(|(k, m)| (k, m.get(lang).to_string()))
        .collect()
}

/// The smaller of the document's own limit and the site's.
fn limit(field: &Field, state: &AppState) -> u64 {
    documents::limit(Some(field), state.settings.storage.max_upload_bytes)
}

use crate::app::documents::{self, accepted};

/// Field name → message, in form order.
type Problems = Vec<(String, Msg)>;

struct PageInput<'a> {
    procedure: &'a Procedure,
    citizen: &'a Citizen,
    files: &'a [DraftFileMeta],
    problems: &'a Problems,
}

fn documents_page(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    lang: Lang,
    status: StatusCode,
    branding: &crate::tenancy::branding::Branding,
    input: PageInput<'_>,
) -> Result<HttpResponse, AppError> {
    let p = input.procedure;
    let message = |name: &str| {
        input
            .problems
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m.get(lang).to_string())
    };
    let fields = p
        .file_fields()
        .map(|f| FileFieldView {
            name: f.name.clone(),
            label: f.label.get(lang).to_string(),
            hint: format!(
                "{} {}, {} {}.",
                tr(lang, "file_types"),
                view::type_names(accepted(f)),
                tr(lang, "at_most"),
                view::human_size(limit(f, state))
            ),
            error: message(&f.name).unwrap_or_default(),
            accept: accepted(f).join(","),
            uploaded: input
                .files
                .iter()
                .find(|u| u.field == f.name)
                .map(|u| format!("{} ({})", u.name, view::human_size(u.size.unsigned_abs()))),
            required: f.required,
        })
        .collect();
    let errors = input
        .problems
        .iter()
        .map(|(n, m)| ErrorLink {
            href: format!("#{n}"),
            // Prefixed with the file's label, as on the question pages.
            message: match p.fields.iter().find(|f| &f.name == n) {
                Some(f) => format!("{}: {}", f.label.get(lang), m.get(lang)),
                None => m.get(lang).to_string(),
            },
        })
        .collect();
    let pages = question_pages(p).len();
    let page = DocumentsPage {
        layout: layout(req, branding, csrf, Some(input.citizen)),
        errors,
        fields,
        procedure_name: p.name.get(lang).to_string(),
        step: pages + 1,
        total: total_steps(p),
        // The form token rides in the action: it is checked before the files are read.
        action: format!("{}?csrf={}", req.path(), csrf.token()),
        back: format!("/procedures/{}/apply/{pages}", p.code),
        uploads: format!("/procedures/{}/apply/uploads", p.code),
        progress_label: Msg::new("Tiến độ tải lên", "Upload progress")
            .get(lang)
            .to_string(),
        script_texts: script_texts(lang),
    };
    session::page(req, status, &page, csrf)
}

#[get("/procedures/{code}/apply/documents")]
pub async fn show_documents(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = code.into_inner();
    let (procedure, files) = drafts::files(&province.db, citizen.id, code).await?;
    let branding = branding(&req, &province).await?;
    let input = PageInput {
        procedure,
        citizen: &citizen,
        files: &files,
        problems: &Vec::new(),
    };
    documents_page(&req, &state, &csrf, lang, StatusCode::OK, &branding, input)
}

/// Takes the chosen files: oversize → 413, wrong type or empty → 422, each explained on the
/// page; then the check page once every required document is there.
#[post("/procedures/{code}/apply/documents")]
pub async fn upload_documents(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    // The language from the request itself keeps the handler within seven arguments.
    let lang = Lang::of(&req);
    let code = code.into_inner();
    // Who and the form token first: the body of a stranger's request is never read.
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let procedure = catalog::national().get(&code).ok_or(AppError::NotFound)?;
    let site_max = state.settings.storage.max_upload_bytes;
    let parts = upload_form::read_page_form(&req, &csrf, payload, site_max * 4, |name| {
        let field = procedure.file_fields().find(|f| f.name == name)?;
        Some(limit(field, &state))
    })
    .await?;
    let mut problems: Problems = Vec::new();
    let mut checked = Vec::new();
    if let Some(name) = &parts.too_large {
        let field = procedure.file_fields().find(|f| &f.name == name);
        let max = view::human_size(field.map_or(0, |f| limit(f, &state)));
        problems.push((
            name.clone(),
            Msg::owned(
                format!("Tệp quá lớn. Vui lòng chọn tệp không quá {max}."),
                format!("The file is too large. Please choose a file of {max} or less."),
            ),
        ));
    }
    // One file's bytes in memory at a time: each is checked here, then read again from its
    // spool file when it is stored.
    for file in parts.files {
        let name = file.field.clone();
        let Some(field) = procedure.file_fields().find(|f| f.name == name) else {
            continue;
        };
        let bytes = match file.size {
            0 => None,
            _ => Some(file.bytes()?),
        };
        let kind = bytes
            .as_deref()
            .and_then(|b| check_type(b, Some(accepted(field))).ok());
        // Whole, readable and not blank: else the reason, under the document.
        let unreadable = match (&bytes, kind) {
            (Some(b), Some(k)) => crate::uploads::check(k, b).err(),
            _ => None,
        };
        drop(bytes);
        match (kind, unreadable) {
            (Some(_), Some(why)) => problems.push((name.clone(), why.message())),
            (Some(kind), None) => checked.push(drafts::CheckedUpload {
                name: sniff::safe_name(&file.given_name, kind),
                content_type: kind,
                file,
            }),
            (None, _) => {
                let types = view::type_names(accepted(field));
                problems.push((
                    name.clone(),
                    Msg::owned(
                        format!("Tệp phải là {types} (kiểm tra theo nội dung tệp, không theo tên) và không được rỗng."),
                        format!("The file must be {types} (checked by its content, not its name) and not empty."),
                    ),
                ));
            }
        }
    }
    let status = if parts.too_large.is_some() {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // Nothing is stored from a request with a bad file: the page explains, the citizen retries.
    let files = if problems.is_empty() {
        drafts::put_files(&province.db, citizen.id, code.clone(), checked).await?
    } else {
        drafts::files(&province.db, citizen.id, code.clone())
            .await?
            .1
    };
    let branding = branding(&req, &province).await?;
    if problems.is_empty() {
        for f in procedure.file_fields().filter(|f| f.required) {
            if !files.iter().any(|u| u.field == f.name) {
                let label = f.label.get(Lang::Vi);
                let label_en = f.label.get(Lang::En);
                problems.push((
                    f.name.clone(),
                    Msg::owned(
                        format!("Vui lòng chọn tệp: {label}."),
                        format!("Please choose a file: {label_en}."),
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(session::see_other(&format!(
            "/procedures/{code}/apply/check"
        )));
    }
    let input = PageInput {
        procedure,
        citizen: &citizen,
        files: &files,
        problems: &problems,
    };
    documents_page(&req, &state, &csrf, lang, status, &branding, input)
}
