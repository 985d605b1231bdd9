//! Multipart forms of the pages and the API: short text parts, and files read only up to their
//! limit (reading stops at the first file past it, so an oversize upload costs little).

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::error::AppError;
use crate::lang::Msg;

/// A text part longer than this is not from our forms.
const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Nor is a form with more parts than this.
const MAX_PARTS: usize = 100;

/// One chosen file: the form's field, the name the browser gave, the bytes.
#[derive(Debug)]
pub struct UploadedFile {
    pub field: String,
    pub given_name: String,
    pub bytes: Vec<u8>,
}

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

fn malformed() -> AppError {
    AppError::bad_request(
        "malformed",
        Msg::new("Dữ liệu tải lên không hợp lệ.", "The upload is malformed."),
    )
}

/// Reads the whole form; `limit(field)` is the most bytes a file of that field may have.
/// A file input left empty (no name, no bytes) is skipped, as browsers send one anyway.
pub async fn read(
    mut payload: Multipart,
    limit: impl Fn(&str) -> u64,
) -> Result<FormParts, AppError> {
    let mut parts = FormParts::default();
    let mut seen = 0;
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(|_| malformed())?;
        seen += 1;
        if seen > MAX_PARTS {
            return Err(malformed());
        }
        let name = part.name().unwrap_or_default().to_string();
        let filename = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let Some(given_name) = filename else {
            let mut text = Vec::new();
            while let Some(chunk) = part.next().await {
                text.extend_from_slice(&chunk.map_err(|_| malformed())?);
                if text.len() > MAX_TEXT_BYTES {
                    return Err(malformed());
                }
            }
            let text = String::from_utf8(text).map_err(|_| malformed())?;
            parts.texts.push((name, text));
            continue;
        };
        let max = limit(&name);
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|_| malformed())?;
            if (bytes.len() + chunk.len()) as u64 > max {
                parts.too_large = Some(name);
                return Ok(parts);
            }
            bytes.extend_from_slice(&chunk);
        }
        if !(given_name.is_empty() && bytes.is_empty()) {
            parts.files.push(UploadedFile {
                field: name,
                given_name,
                bytes,
            });
        }
    }
    Ok(parts)
}
