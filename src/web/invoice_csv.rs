//! The operator's invoices as a CSV file (`/invoices.csv` for the console's session,
//! `/api/v1/invoices.csv` for a bearer token): a header row, one line per invoice, UTF-8 with
//! a byte order mark so that Excel reads Vietnamese names; no cell can be taken for a formula.

use actix_web::HttpResponse;

use crate::billing::table::Row;
use crate::error::AppError;

/// The header row (stable column names: scripts read them).
pub const HEADER: [&str; 13] = [
    "number",
    "period",
    "province",
    "province_name",
    "status",
    "subtotal_vnd",
    "vat_vnd",
    "total_vnd",
    "paid_vnd",
    "issued_on",
    "due_on",
    "paid_on",
    "payment_reference",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) gets a leading apostrophe, so it is shown as the text it is.
pub fn safe_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// The bytes of the file: the mark, the header, one line per invoice.
pub fn render(rows: &[Row]) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::with_capacity(64 + rows.len() * 160);
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut w = csv::Writer::from_writer(out);
    let bad = |e: csv::Error| AppError::internal(format!("csv: {e}"));
    w.write_record(HEADER).map_err(bad)?;
    let day = |t: chrono::DateTime<chrono::Utc>| crate::clock::vn_date(t).to_string();
    for r in rows {
        let cells = [
            r.number.clone(),
            r.period.clone(),
            r.slug.clone(),
            r.name.clone(),
            r.status()?.as_str().to_string(),
            r.subtotal_vnd.to_string(),
            r.vat_vnd.to_string(),
            r.total_vnd.to_string(),
            r.paid_vnd().to_string(),
            day(r.issued_at),
            r.due_on().to_string(),
            r.paid_at.map(day).unwrap_or_default(),
            r.payment_reference.clone().unwrap_or_default(),
        ];
        w.write_record(cells.iter().map(|c| safe_cell(c)))
            .map_err(bad)?;
    }
    w.into_inner()
        .map_err(|e| AppError::internal(format!("csv: {e}")))
}

/// The file as a download named after what it holds.
pub fn response(rows: &[Row], what: &str) -> Result<HttpResponse, AppError> {
    let body = render(rows)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"hoa-don-{what}.csv\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn a_cell_that_starts_like_a_formula_is_text() {
        for bad in ["=1+2", "+SUM(A1)", "-2", "@cmd", "\t=1", "\r=1"] {
            assert_eq!(safe_cell(bad), format!("'{bad}"));
        }
        for ok in ["Hà Nội", "40000000", "", "a=b", "bank:VCB"] {
            assert_eq!(safe_cell(ok), ok);
        }
    }
}
