//! A province's logo for the masthead: PNG or JPEG recognised by its bytes, 200 KB at most,
//! one per province, kept in its own schema.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::logo;
use crate::error::AppError;
use crate::lang::Msg;
use crate::sniff;

/// The largest logo accepted: 200 KB.
pub const MAX_BYTES: usize = 200 * 1024;

/// A stored logo.
#[derive(Debug, Clone)]
pub struct Logo {
    pub content_type: String,
    pub data: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}

/// What an upload over the limit is told (413).
pub fn too_large() -> AppError {
    AppError::TooLarge(Msg::new(
        "Logo quá lớn: tối đa 200 KB.",
        "The logo is too large: 200 KB at most.",
    ))
}

/// The logo's real type from its bytes: PNG or JPEG, else 422; over 200 KB is 413.
pub fn check(bytes: &[u8]) -> Result<&'static str, AppError> {
    if bytes.len() > MAX_BYTES {
        return Err(too_large());
    }
    match sniff::content_type(bytes) {
        Some(kind @ ("image/png" | "image/jpeg")) => Ok(kind),
        _ => Err(AppError::invalid(
            "file",
            Msg::new(
                "Logo phải là ảnh PNG hoặc JPEG (kiểm tra theo nội dung tệp, không theo tên).",
                "The logo must be a PNG or JPEG image (checked by its content, not its name).",
            ),
        )),
    }
}

/// The logo, if the province has one (inside the tenant door).
pub fn load(conn: &mut PgConnection) -> Result<Option<Logo>, AppError> {
    let row: Option<(String, Vec<u8>, DateTime<Utc>)> = logo::table
        .select((logo::content_type, logo::data, logo::updated_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(content_type, data, updated_at)| Logo {
        content_type,
        data,
        updated_at,
    }))
}

/// When the logo last changed, without reading its bytes; `None` when there is none.
pub fn updated_at(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(logo::table
        .select(logo::updated_at)
        .first(conn)
        .optional()?)
}

/// Stores a logo that passed [`check`], replacing any other.
pub fn save(conn: &mut PgConnection, content_type: &str, data: &[u8]) -> Result<(), AppError> {
    let values = (
        logo::id.eq(1i16),
        logo::content_type.eq(content_type),
        logo::data.eq(data),
        logo::updated_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(logo::table)
        .values(values)
        .on_conflict(logo::id)
        .do_update()
        // The same values with the inserted row's time: Citus refuses `now()` in DO UPDATE.
        .set((
            values.0,
            values.1,
            values.2,
            logo::updated_at.eq(diesel::upsert::excluded(logo::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the logo; false when there was none.
pub fn delete(conn: &mut PgConnection) -> Result<bool, AppError> {
    Ok(diesel::delete(logo::table).execute(conn)? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_png_or_jpeg_passes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check(png).unwrap(), "image/png");
        assert_eq!(check(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), "image/jpeg");
        assert!(matches!(check(b"%PDF-1.4"), Err(AppError::Invalid(_))));
        assert!(matches!(check(b"just text"), Err(AppError::Invalid(_))));
        let mut big = png.to_vec();
        big.resize(MAX_BYTES + 1, 0);
        assert!(matches!(check(&big), Err(AppError::TooLarge(_))));
        big.truncate(MAX_BYTES);
        assert!(check(&big).is_ok());
    }
}
