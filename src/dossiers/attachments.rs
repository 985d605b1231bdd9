//! Attachments: type by bytes, size from configuration, contents behind a blob store.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::schema::{attachments, blobs};
use crate::error::AppError;
use crate::lang::Msg;
use crate::sniff;

/// Where file contents live. The default keeps them in the tenant's own schema, so a
/// province's export carries its files; an object store can take its place.
pub trait BlobStore: Send + Sync {
    fn put(&self, conn: &mut PgConnection, data: &[u8]) -> Result<uuid::Uuid, AppError>;
    fn get(&self, conn: &mut PgConnection, id: uuid::Uuid) -> Result<Vec<u8>, AppError>;
}

/// Blobs in the tenant schema's `blobs` table.
#[derive(Debug, Default, Clone, Copy)]
pub struct SchemaBlobs;

impl BlobStore for SchemaBlobs {
    fn put(&self, conn: &mut PgConnection, data: &[u8]) -> Result<uuid::Uuid, AppError> {
        let id = uuid::Uuid::new_v4();
        diesel::insert_into(blobs::table)
            .values((blobs::id.eq(id), blobs::data.eq(data)))
            .execute(conn)?;
        Ok(id)
    }

    fn get(&self, conn: &mut PgConnection, id: uuid::Uuid) -> Result<Vec<u8>, AppError> {
        Ok(blobs::table.find(id).select(blobs::data).first(conn)?)
    }
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = attachments)]
pub struct AttachmentMeta {
    pub id: uuid::Uuid,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    /// The stored bytes' SHA-256, lowercase hex (printed short on the dossier's receipt).
    #[serde(skip)]
    pub sha256: String,
    #[serde(skip)]
    pub blob_id: uuid::Uuid,
    pub field: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Checks an upload and returns its real type; 422 for anything not PDF, JPEG or PNG.
pub fn check_type(bytes: &[u8], accept: Option<&[String]>) -> Result<&'static str, AppError> {
    let kind = sniff::content_type(bytes).ok_or_else(|| {
        AppError::invalid(
            "file",
            Msg::new(
                "Chỉ nhận tệp PDF, JPEG hoặc PNG (kiểm tra theo nội dung tệp, không theo tên).",
                "Only PDF, JPEG or PNG files are accepted (checked by content, not by name).",
            ),
        )
    })?;
    if let Some(accept) = accept
        && !accept.iter().any(|a| a == kind)
    {
        return Err(AppError::invalid(
            "file",
            Msg::owned(
                format!("Mục này chỉ nhận: {}.", accept.join(", ")),
                format!("This document accepts only: {}.", accept.join(", ")),
            ),
        ));
    }
    Ok(kind)
}

/// One checked file, ready to store.
#[derive(Debug)]
pub struct Upload<'a> {
    /// The dossier's procedure, whose form says which types each document takes.
    pub procedure_code: &'a str,
    /// The form's document this file answers, if named.
    pub field: Option<&'a str>,
    pub given_name: &'a str,
    /// From [`check_type`], never from the client.
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub uploaded_by: &'a str,
}

/// Stores one file for a dossier (inside the tenant door).
pub fn add(
    conn: &mut PgConnection,
    store: &dyn BlobStore,
    dossier_id: i64,
    upload: &Upload<'_>,
) -> Result<AttachmentMeta, AppError> {
    let Upload {
        procedure_code,
        field,
        given_name,
        content_type,
        bytes,
        uploaded_by,
    } = *upload;
    // A phone photo is kept as a PDF wrapping it, where the document takes PDFs.
    let wrapped;
    let (content_type, bytes) = if wraps_photo(procedure_code, field, content_type, bytes) {
        wrapped = crate::uploads::jpeg_as_pdf(bytes)
            .map_err(|why| AppError::invalid("file", why.message()))?;
        ("application/pdf", wrapped.as_slice())
    } else {
        (content_type, bytes)
    };
    let blob_id = store.put(conn, bytes)?;
    let digest = Sha256::digest(bytes);
    let sha256: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(diesel::insert_into(attachments::table)
        .values((
            attachments::id.eq(uuid::Uuid::new_v4()),
            attachments::dossier_id.eq(dossier_id),
            attachments::field.eq(field),
            attachments::name.eq(sniff::safe_name(given_name, content_type)),
            attachments::content_type.eq(content_type),
            attachments::size.eq(bytes.len() as i64),
            attachments::sha256.eq(sha256),
            attachments::blob_id.eq(blob_id),
            attachments::uploaded_by.eq(uploaded_by),
        ))
        .returning(AttachmentMeta::as_returning())
        .get_result(conn)?)
}

/// Whether a file is a phone photo (a JPEG of [`crate::uploads::PHOTO_PDF_MIN_BYTES`] or more)
/// for a document that takes PDFs (or any type).
fn wraps_photo(
    procedure_code: &str,
    field: Option<&str>,
    content_type: &str,
    bytes: &[u8],
) -> bool {
    if content_type != "image/jpeg" || bytes.len() < crate::uploads::PHOTO_PDF_MIN_BYTES {
        return false;
    }
    let document = field.and_then(|name| {
        crate::catalog::national()
            .get(procedure_code)?
            .file_fields()
            .find(|f| f.name == name)
    });
    match document.map(|f| &f.kind) {
        Some(crate::catalog::FieldKind::File { accept, .. }) => {
            accept.is_empty() || accept.iter().any(|a| a == "application/pdf")
        }
        _ => true,
    }
}

/// Opens the file far enough to know it is whole, readable and not blank; 422 with the reason.
pub fn check_readable(content_type: &str, bytes: &[u8]) -> Result<(), AppError> {
    crate::uploads::check(content_type, bytes)
        .map_err(|why| AppError::invalid("file", why.message()))
}

/// [`add`], then the province's stored bytes as a usage gauge (the plan's storage cap refuses
/// the upload: the whole transaction rolls back).
pub fn add_metered(
    conn: &mut PgConnection,
    tenant: &crate::tenancy::Tenant,
    store: &dyn BlobStore,
    dossier_id: i64,
    upload: &Upload<'_>,
) -> Result<AttachmentMeta, AppError> {
    let meta = add(conn, store, dossier_id, upload)?;
    let bytes = crate::metering::sampling::storage_bytes(conn)?;
    let key = format!("upload:{}", meta.id);
    crate::metering::record(
        conn,
        tenant,
        crate::metering::Metric::StorageBytes,
        bytes,
        &key,
        meta.created_at,
    )?;
    Ok(meta)
}

pub fn list(conn: &mut PgConnection, dossier_id: i64) -> Result<Vec<AttachmentMeta>, AppError> {
    Ok(attachments::table
        .filter(attachments::dossier_id.eq(dossier_id))
        .order(attachments::created_at.asc())
        .select(AttachmentMeta::as_select())
        .load(conn)?)
}

pub fn find(
    conn: &mut PgConnection,
    dossier_id: i64,
    id: uuid::Uuid,
) -> Result<Option<AttachmentMeta>, AppError> {
    Ok(attachments::table
        .filter(attachments::dossier_id.eq(dossier_id))
        .filter(attachments::id.eq(id))
        .select(AttachmentMeta::as_select())
        .first(conn)
        .optional()?)
}
