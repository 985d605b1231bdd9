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
/// document's limit (413), a type the document takes by its content (422). Returns the type.
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
    attachments::check_type(bytes, field.map(accepted))
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
