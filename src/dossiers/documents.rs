//! The documents a dossier still owes: its procedure's file fields marked required in the
//! catalog that no attachment answers. A dossier may be filed online without them; staff
//! cannot `accept` it until the citizen has attached them. A dossier registered at the counter
//! owes none here: its documents are handed over on paper to the official who registers it
//! (and nobody could attach a file to it: it has no owner's account).

use serde::Serialize;

use super::attachments::AttachmentMeta;
use super::store::DossierRow;
use super::submit::Channel;
use crate::catalog::{self, Field};
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};

/// One required document not attached yet, as the dossier views show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MissingDocument {
    /// The form's file field (`portrait_photo`).
    pub field: String,
    /// Its label in the reader's language.
    pub label: String,
}

/// The required documents the dossier still owes (none for a counter dossier).
pub fn missing(dossier: &DossierRow, files: &[AttachmentMeta]) -> Vec<&'static Field> {
    if dossier.channel == Channel::Counter.as_str() {
        return Vec::new();
    }
    missing_from(&dossier.procedure_code, files)
}

/// The procedure's required file fields that no attachment names (an attachment answers a
/// document only when it was uploaded with that document's `field`).
fn missing_from(procedure_code: &str, files: &[AttachmentMeta]) -> Vec<&'static Field> {
    let Some(procedure) = catalog::national().get(procedure_code) else {
        return Vec::new();
    };
    procedure
        .file_fields()
        .filter(|f| f.required)
        .filter(|f| !files.iter().any(|a| a.field.as_deref() == Some(&f.name)))
        .collect()
}

/// [`missing`], for a view in `lang`.
pub fn missing_for_view(
    dossier: &DossierRow,
    files: &[AttachmentMeta],
    lang: Lang,
) -> Vec<MissingDocument> {
    missing(dossier, files)
        .into_iter()
        .map(|f| MissingDocument {
            field: f.name.clone(),
            label: f.label.get(lang).to_string(),
        })
        .collect()
}

/// `Ok` when every required document is attached; else 409 `documents_missing`, naming them
/// in the message (both languages) and in `fields`.
pub fn require_all(dossier: &DossierRow, files: &[AttachmentMeta]) -> Result<(), AppError> {
    refuse_missing(missing(dossier, files))
}

fn refuse_missing(missing: Vec<&Field>) -> Result<(), AppError> {
    if missing.is_empty() {
        return Ok(());
    }
    let list = |lang: Lang| {
        missing
            .iter()
            .map(|f| f.label.get(lang))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let fields: FieldErrors = missing
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                Msg::new(
                    "Chưa đính kèm giấy tờ này.",
                    "This document is not attached.",
                ),
            )
        })
        .collect();
    Err(AppError::conflict_with_fields(
        "documents_missing",
        Msg::owned(
            format!(
                "Chưa thể tiếp nhận: hồ sơ còn thiếu giấy tờ bắt buộc: {}.",
                list(Lang::Vi)
            ),
            format!(
                "Cannot accept yet: required documents are missing: {}.",
                list(Lang::En)
            ),
        ),
        fields,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(field: Option<&str>) -> AttachmentMeta {
        AttachmentMeta {
            id: uuid::Uuid::new_v4(),
            name: "x.png".into(),
            size: 1,
            content_type: "image/png".into(),
            sha256: String::new(),
            blob_id: uuid::Uuid::new_v4(),
            field: field.map(str::to_string),
            created_at: chrono::Utc::now(),
        }
    }

    fn names(files: &[AttachmentMeta]) -> Vec<&'static str> {
        missing_from("GPLX-001", files)
            .into_iter()
            .map(|f| f.name.as_str())
            .collect()
    }

    #[test]
    fn a_required_document_is_attached_only_under_its_own_name() {
        assert_eq!(names(&[]), ["portrait_photo", "licence_scan"]);
        assert_eq!(names(&[file(None)]), ["portrait_photo", "licence_scan"]);
        assert_eq!(names(&[file(Some("portrait_photo"))]), ["licence_scan"]);
        let both = [file(Some("licence_scan")), file(Some("portrait_photo"))];
        assert!(names(&both).is_empty());
        assert!(refuse_missing(missing_from("GPLX-001", &both)).is_ok());
        assert!(missing_from("NOPE-001", &[]).is_empty());
    }

    #[test]
    fn the_refusal_names_every_missing_document_in_both_languages() {
        let err =
            refuse_missing(missing_from("GPLX-001", &[file(Some("portrait_photo"))])).unwrap_err();
        assert_eq!(err.code(), "documents_missing");
        let body = err.body(Lang::En);
        assert!(body["error"]["fields"]["licence_scan"].is_string());
        assert!(body["error"]["fields"]["portrait_photo"].is_null());
        let en = err.message().get(Lang::En).to_string();
        assert!(en.contains("Scan of both sides of the licence"), "{en}");
        assert!(!en.contains("Portrait"), "{en}");
        let vi = err.message().get(Lang::Vi).to_string();
        assert!(vi.contains("Ảnh chụp hai mặt giấy phép"), "{vi}");
    }
}
