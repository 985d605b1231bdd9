//! The citizen's satisfaction: one rating per finished dossier.

use diesel::prelude::*;

use super::status::Status;
use super::store::DossierRow;
use crate::db::schema::ratings;
use crate::error::AppError;
use crate::lang::Msg;

pub fn rate(
    conn: &mut PgConnection,
    d: &DossierRow,
    score: i64,
    comment: Option<&str>,
) -> Result<(), AppError> {
    if !(1..=5).contains(&score) {
        return Err(AppError::invalid(
            "score",
            Msg::new("Điểm đánh giá từ 1 đến 5.", "The score is from 1 to 5."),
        ));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 1000) {
        return Err(AppError::invalid(
            "comment",
            Msg::new(
                "Nhận xét tối đa 1000 ký tự.",
                "A comment has at most 1000 characters.",
            ),
        ));
    }
    if !matches!(
        d.status(),
        Status::Returned | Status::Refused | Status::Stopped
    ) {
        return Err(AppError::conflict(
            "not_finished",
            Msg::new(
                "Chỉ đánh giá khi hồ sơ đã trả kết quả, bị từ chối hoặc dừng xử lý.",
                "A dossier can be rated once it is returned, refused or stopped.",
            ),
        ));
    }
    let inserted = diesel::insert_into(ratings::table)
        .values((
            ratings::dossier_id.eq(d.id),
            ratings::score.eq(score as i16),
            ratings::comment.eq(comment),
            ratings::created_at.eq(crate::clock::now()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Err(AppError::conflict(
            "already_rated",
            Msg::new(
                "Hồ sơ này đã được đánh giá.",
                "This dossier has been rated already.",
            ),
        ));
    }
    Ok(())
}

/// The dossier's rating, once given: score and comment.
pub fn find(
    conn: &mut PgConnection,
    dossier_id: i64,
) -> Result<Option<(i16, Option<String>)>, AppError> {
    Ok(ratings::table
        .find(dossier_id)
        .select((ratings::score, ratings::comment))
        .first(conn)
        .optional()?)
}
