//! The workspace's view as a CSV file (`/manage/dossiers.csv` for the page's session,
//! `/api/v1/manage/dossiers.csv` for a bearer token): the rows of `app::staff::queue_export`,
//! in its order, with names instead of codes, UTF-8 with a byte order mark so that Excel reads
//! Vietnamese correctly.

use actix_web::HttpResponse;

use crate::app::staff::Desk;
use crate::dossiers::store::DossierRow;
use crate::dossiers::view::procedure_name;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::pages::tr;
use crate::web::province::citizen_pages::view::{date, local_time};
use crate::web::province::staff_pages::{assignee_text, competent_text, due_flag, received_text};

/// The file's header row, in the language asked.
pub fn header(lang: Lang) -> [&'static str; 12] {
    [
        "tracking_code",
        "procedure_code",
        "procedure",
        "applicant_name",
        "status",
        "channel",
        "received_at",
        "competent_unit",
        "assignee",
        "submitted_at",
        "due_on",
        "due_mark",
    ]
    .map(|k| tr(lang, k))
}

/// The bytes of the file: the mark, the header, one line per dossier.
pub fn render(rows: &[DossierRow], desk: &Desk, lang: Lang) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::with_capacity(64 + rows.len() * 200);
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut w = csv::Writer::from_writer(out);
    let bad = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    w.write_record(header(lang)).map_err(bad)?;
    for d in rows {
        let flag = match due_flag(d).as_str() {
            "" => "",
            f => tr(lang, f),
        };
        w.write_record([
            d.tracking_code.as_str(),
            d.procedure_code.as_str(),
            &procedure_name(&d.procedure_code, lang),
            d.applicant_name.as_str(),
            d.status().label(lang),
            tr(lang, &format!("channel_{}", d.channel)),
            &received_text(d, desk, lang),
            &competent_text(d, desk, lang),
            &assignee_text(d, desk),
            &local_time(d.submitted_at),
            &d.due_on.map(date).unwrap_or_default(),
            flag,
        ])
        .map_err(bad)?;
    }
    w.into_inner()
        .map_err(|e| AppError::internal(format!("csv: {e}")))
}

/// The file as a download named after the province and the day.
pub fn response(rows: &[DossierRow], desk: &Desk, lang: Lang) -> Result<HttpResponse, AppError> {
    let body = render(rows, desk, lang)?;
    let day = crate::clock::today_vn().format("%Y-%m-%d");
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"ho-so-{day}.csv\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body))
}
