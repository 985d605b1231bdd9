//! The one multipart reader of the pages and the API: short text parts, and files written to
//! a temporary file each as they arrive (never a request's files all in memory), read only up
//! to their limit (reading stops at the first file past it, so an oversize upload costs
//! little), at most one file per field, at most `MAX_PARTS` parts and `budget` bytes of files
//! in all. Callers authenticate and check the form token before they call it (the token comes
//! in the query string or a header), so an anonymous body is never read.

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::error::AppError;
use crate::lang::Msg;

/// A text part longer than this is not from our forms.
const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Nor is a form with more parts than this (the longest, the supplement form, has about 20).
const MAX_PARTS: usize = 40;

/// One chosen file: the form's field, the name the browser gave, the bytes kept on disk (a
/// request's files are never all in memory at once).
pub use crate::app::documents::Received as UploadedFile;

/// What the body held.
#[derive(Debug, Default)]
pub struct FormParts {
    pub texts: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
    /// The file field whose file passed its limit; nothing after it was read.
    pub too_large: Option<String>,
}

impl FormParts {
    /// The first text part of that name.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A part that failed to arrive: past the global payload limit is 413, else malformed.
fn part_error(e: actix_multipart::MultipartError) -> AppError {
    match e {
        actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow) => {
            crate::web::middleware::body_too_large()
        }
        _ => malformed(),
    }
}

fn spool_error(e: std::io::Error) -> AppError {
    AppError::internal(format!("upload spool: {e}"))
}

fn malformed() -> AppError {
    AppError::bad_request(
        "malformed",
        Msg::new("Dữ liệu tải lên không hợp lệ.", "The upload is malformed."),
    )
}

/// Reads the whole form. `limit(name)` is the most bytes a file part of that name may have;
/// `None`: not a file this form takes (skipped unread past its chunks; a part with a file name
/// is never kept as text). `budget` bounds the bytes of all files together.
/// A file input left empty (no name, no bytes) is skipped, as browsers send one anyway.
pub async fn read(
    mut payload: Multipart,
    budget: u64,
    limit: impl Fn(&str) -> Option<u64>,
) -> Result<FormParts, AppError> {
    read_checked(&mut payload, budget, limit).await
}

/// A page's form: the token in the action's query string (or the `X-CSRF-Token` header), or
/// else as the form's first part (where our templates put it, and browsers send fields in
/// page order). Either way it is checked before a byte of any file is read.
pub async fn read_page_form(
    req: &actix_web::HttpRequest,
    csrf: &crate::web::session::Csrf,
    mut payload: Multipart,
    budget: u64,
    limit: impl Fn(&str) -> Option<u64>,
) -> Result<FormParts, AppError> {
    if csrf.verify_before_body(req).is_err() {
        let Some(first) = payload.next().await else {
            return csrf.verify(None).map(|_| FormParts::default());
        };
        let mut first = first.map_err(part_error)?;
        if first.name() != Some(crate::web::session::CSRF_FIELD) {
            csrf.verify(None)?;
        }
        let mut text = Vec::new();
        while let Some(chunk) = first.next().await {
            text.extend_from_slice(&chunk.map_err(part_error)?);
            if text.len() > 128 {
                return Err(malformed());
            }
        }
        csrf.verify(std::str::from_utf8(&text).ok())?;
    }
    read_checked(&mut payload, budget, limit).await
}

async fn read_checked(
    payload: &mut Multipart,
    budget: u64,
    limit: impl Fn(&str) -> Option<u64>,
) -> Result<FormParts, AppError> {
    let mut parts = FormParts::default();
    let mut seen = 0;
    let mut kept: u64 = 0;
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(part_error)?;
        seen += 1;
        if seen > MAX_PARTS {
            return Err(malformed());
        }
        let name = part.name().unwrap_or_default().to_string();
        let filename = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let file_limit = limit(&name);
        if file_limit.is_none() && filename.is_some() {
            while part.next().await.is_some() {}
            continue;
        }
        let Some(max) = file_limit else {
            let mut text = Vec::new();
            while let Some(chunk) = part.next().await {
                text.extend_from_slice(&chunk.map_err(part_error)?);
                if text.len() > MAX_TEXT_BYTES {
                    return Err(malformed());
                }
            }
            let text = String::from_utf8(text).map_err(|_| malformed())?;
            parts.texts.push((name, text));
            continue;
        };
        if parts.files.iter().any(|f| f.field == name) {
            // Two files for one document: which one would count? And a way to multiply memory.
            return Err(malformed());
        }
        let given_name = filename.unwrap_or_default();
        let mut file = UploadedFile::create(name.clone(), given_name).map_err(spool_error)?;
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(part_error)?;
            if file.size + chunk.len() as u64 > max {
                parts.too_large = Some(name);
                return Ok(parts);
            }
            if kept + file.size + chunk.len() as u64 > budget {
                return Err(AppError::TooLarge(Msg::new(
                    "Tổng dung lượng các tệp quá lớn.",
                    "The files are too large together.",
                )));
            }
            file.append(&chunk).map_err(spool_error)?;
        }
        file.finish();
        kept += file.size;
        if !(file.given_name.is_empty() && file.size == 0) {
            parts.files.push(file);
        }
    }
    Ok(parts)
}
