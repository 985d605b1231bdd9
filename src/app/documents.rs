//! The rules every uploaded document passes, whichever surface received it (the API, the
//! application pages, the supplement page): one limit per document, one type check.

use crate::catalog::{Field, FieldKind, Procedure};
use crate::dossiers::attachments;
use crate::error::AppError;
use crate::lang::Msg;

/// The most bytes a file may have: the document's own limit or the site's, the smaller.
pub fn limit(field: Option<&Field>, site_max: u64) -> u64 {
    match field.map(|f| &f.kind) {
        Some(FieldKind::File { max_bytes, .. }) => (*max_bytes).min(site_max),
        _ => site_max,
    }
}

/// The types a document takes (empty: any type the platform stores).
pub fn accepted(field: &Field) -> &[String] {
    match &field.kind {
        FieldKind::File { accept, .. } => accept,
        _ => &[],
    }
}

/// The form's document named `name`, or 422 naming `field`.
pub fn document<'p>(procedure: &'p Procedure, name: &str) -> Result<&'p Field, AppError> {
    procedure
        .file_fields()
        .find(|f| f.name == name)
        .ok_or_else(|| {
            AppError::invalid(
                "field",
                Msg::new(
                    "Không có mục tài liệu này.",
                    "No such document in this form.",
                ),
            )
        })
}

/// The 413 for a file over `max` bytes.
pub fn too_large(max: u64) -> AppError {
    let size = human_size(max);
    AppError::TooLarge(Msg::owned(
        format!("Tệp quá lớn: tối đa {size}."),
        format!("The file is too large: {size} at most."),
    ))
}

/// Checks one file for `field` (or for the dossier in general): not empty, within the
/// document's limit (413), a type the document takes by its content (422), whole, readable and
/// not blank (422 with the reason). Returns the type.
pub fn check(field: Option<&Field>, bytes: &[u8], site_max: u64) -> Result<&'static str, AppError> {
    if bytes.is_empty() {
        return Err(AppError::invalid(
            "file",
            Msg::new("Tệp rỗng.", "The file is empty."),
        ));
    }
    let max = limit(field, site_max);
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    let kind = attachments::check_type(bytes, field.map(accepted))?;
    attachments::check_readable(kind, bytes)?;
    Ok(kind)
}

/// "2 MB", "640 KB": limits as people read them.
pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    match bytes {
        b if b >= MB && b % MB == 0 => format!("{} MB", b / MB),
        b if b >= MB => format!("{:.1} MB", b as f64 / MB as f64),
        b if b >= 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{b} B"),
    }
}

/// A file as received from a form, kept on disk until it is stored: a request's files are
/// never all in memory at once (only the one being checked or stored is). The file is
/// removed when this is dropped.
#[derive(Debug)]
pub struct Received {
    /// The form's field it came in.
    pub field: String,
    /// The name the browser gave.
    pub given_name: String,
    /// Its size in bytes.
    pub size: u64,
    path: std::path::PathBuf,
    /// Open while it is being written.
    writer: Option<std::fs::File>,
}

impl Received {
    /// An empty spool file in the system's temporary folder, to be filled by [`Received::append`].
    pub fn create(field: String, given_name: String) -> std::io::Result<Received> {
        let path =
            std::env::temp_dir().join(format!("portal-upload-{}", uuid::Uuid::new_v4().simple()));
        let writer = std::fs::File::create_new(&path)?;
        Ok(Received {
            field,
            given_name,
            size: 0,
            path,
            writer: Some(writer),
        })
    }

    /// Adds a chunk at the end. A plain write: it goes to the page cache, and a chunk is at
    /// most a socket read's size.
    pub fn append(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        match &mut self.writer {
            Some(f) => f.write_all(chunk)?,
            None => return Err(std::io::Error::other("the upload is already complete")),
        }
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Ends the writing.
    pub fn finish(&mut self) {
        self.writer = None;
    }

    /// Its bytes (one file's, bounded by the document's limit).
    pub fn bytes(&self) -> Result<Vec<u8>, AppError> {
        std::fs::read(&self.path).map_err(|e| AppError::internal(format!("upload spool: {e}")))
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
