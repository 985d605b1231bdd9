//! A move from the dossier page's form, made exactly as
//! `POST /api/v1/manage/dossiers/{code}/actions` makes it; a refusal comes back on the page
//! (422 beside its field, 409 above the moves).

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::NaiveDate;
use serde::Deserialize;

use super::dossier::{Attempt, load, render};
use crate::app::results::ResultInput;
use crate::app::{self, staff::MoveInput};
use crate::dossiers::deficiencies::DeficiencyInput;
use crate::dossiers::results::PaperResult;
use crate::dossiers::tracking;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::session::{self, Csrf, PageStaff};

#[derive(Debug, Default)]
pub struct MoveFormData {
    csrf: Option<String>,
    action: String,
    note: String,
    due_on: String,
    fee_vnd: String,
    override_reason: String,
    /// The rows of a refusal or supplement request (`d_item`, `d_problem`, `d_note`, repeated
    /// in page order); a row left blank is no row.
    deficiencies: Vec<DeficiencyInput>,
}

impl MoveFormData {
    fn from_pairs(pairs: Vec<(String, String)>) -> MoveFormData {
        let mut form = MoveFormData::default();
        let (mut items, mut problems, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => form.csrf = Some(v),
                "action" => form.action = v,
                "note" => form.note = v,
                "due_on" => form.due_on = v,
                "fee_vnd" => form.fee_vnd = v,
                "override_reason" => form.override_reason = v,
                "d_item" => items.push(v),
                "d_problem" => problems.push(v),
                "d_note" => notes.push(v),
                _ => {}
            }
        }
        for (i, item) in items.into_iter().enumerate() {
            let problem = problems.get(i).cloned().unwrap_or_default();
            let note = notes.get(i).cloned().filter(|n| !n.trim().is_empty());
            if item.trim().is_empty() && problem.trim().is_empty() && note.is_none() {
                continue;
            }
            form.deficiencies.push(DeficiencyInput {
                item,
                problem,
                note,
            });
        }
        form
    }
}

/// `135.000`, `135 000` or `135000` đồng → 135000.
fn parse_money(text: &str) -> Option<i64> {
    let digits: String = text
        .trim()
        .trim_end_matches(['đ', 'd', 'Đ'])
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 15 {
        return None;
    }
    digits.parse().ok()
}

/// Makes one move from its form, then shows the dossier again (303), or the refusal (422/409).
#[post("/manage/dossiers/{code}/actions")]
pub async fn move_dossier(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let form = MoveFormData::from_pairs(form.into_inner());
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then(&format!("/manage/dossiers/{code}")));
    };
    let parsed = app::staff::parse_action(&form.action);
    let action = parsed.as_ref().ok().copied();
    let mut attempt = Attempt {
        action,
        note: form.note.clone(),
        due_on: form.due_on.trim().to_string(),
        fee_vnd: form.fee_vnd.trim().to_string(),
        ..Attempt::default()
    };
    if let Err(AppError::Invalid(fields)) = parsed {
        attempt.errors.extend(fields);
    }
    let due_on = match attempt.due_on.as_str() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                attempt.errors.insert(
                    "due_on".into(),
                    Msg::new(
                        "Ngày không hợp lệ: chọn ngày, hoặc nhập theo dạng năm-tháng-ngày.",
                        "Not a date: pick one, or type it as year-month-day.",
                    ),
                );
                None
            }
        },
    };
    let fee_vnd = match attempt.fee_vnd.as_str() {
        "" => None,
        text => {
            let fee = parse_money(text);
            if fee.is_none() {
                attempt.errors.insert(
                    "fee_vnd".into(),
                    Msg::new(
                        "Nhập số tiền bằng chữ số, ví dụ 135000.",
                        "Enter the amount in digits, for example 135000.",
                    ),
                );
            }
            fee
        }
    };
    if attempt.errors.is_empty() {
        let input = MoveInput {
            action: form.action,
            note: Some(form.note),
            due_on,
            fee_vnd,
            deficiencies: form.deficiencies,
            override_reason: Some(form.override_reason).filter(|r| !r.trim().is_empty()),
            ..MoveInput::default()
        };
        let moved =
            app::staff::move_dossier(&state, &staff.actor(), &staff.province.tenant, &code, input)
                .await;
        match moved {
            Ok(d) => {
                let done = action.map(|a| a.as_str()).unwrap_or_default();
                return Ok(session::see_other(&format!(
                    "/manage/dossiers/{}?done={done}",
                    d.dossier.tracking_code
                )));
            }
            Err(AppError::Invalid(fields)) => attempt.errors = fields,
            Err(AppError::Conflict { msg, .. }) => attempt.conflict = Some(msg),
            Err(e) => return Err(e),
        }
    }
    let loaded = load(&state, &staff, &code).await?;
    render(&req, &staff, &csrf, lang, loaded, attempt, None)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnitFormData {
    csrf: Option<String>,
    unit_code: String,
    assignee_id: String,
    note: String,
}

/// What came of a transfer or an assignment from the page: back to the dossier (303), or the
/// page again with the refusal beside its select (422), or 404 once the dossier left the
/// staff member's units.
async fn after(
    req: &HttpRequest,
    state: &AppState,
    staff: &crate::web::extract::StaffUser,
    csrf: &Csrf,
    code: &str,
    done: &str,
    result: Result<app::staff::ManagedDossier, AppError>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(req);
    match result {
        Ok(d) => Ok(session::see_other(&format!(
            "/manage/dossiers/{}?done={done}",
            d.dossier.tracking_code
        ))),
        Err(AppError::Invalid(fields)) => {
            let attempt = Attempt {
                unit_errors: fields,
                ..Attempt::default()
            };
            let loaded = load(state, staff, code).await?;
            render(req, staff, csrf, lang, loaded, attempt, None)
        }
        Err(e) => Err(e),
    }
}

/// `POST /manage/dossiers/{code}/transfer` (heads of unit and admins), as the API's
/// `transfer` action.
#[post("/manage/dossiers/{code}/transfer")]
pub async fn transfer_dossier(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<UnitFormData>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then(&format!("/manage/dossiers/{code}")));
    };
    let note = Some(form.note.trim().to_string()).filter(|n| !n.is_empty());
    let result = if form.unit_code.trim().is_empty() {
        Err(AppError::invalid(
            "unit_code",
            Msg::new("Chọn đơn vị nhận hồ sơ.", "Choose the unit to transfer to."),
        ))
    } else {
        app::staff::transfer(
            &state,
            &staff.actor(),
            &staff.province.tenant,
            &code,
            form.unit_code.trim(),
            note,
        )
        .await
    };
    after(&req, &state, &staff, &csrf, &code, "transfer", result).await
}

/// `POST /manage/dossiers/{code}/assign` (heads of unit and admins), as the API's `assign`.
#[post("/manage/dossiers/{code}/assign")]
pub async fn assign_dossier(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<UnitFormData>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then(&format!("/manage/dossiers/{code}")));
    };
    let result = match uuid::Uuid::parse_str(form.assignee_id.trim()) {
        Ok(id) => {
            app::staff::assign(
                &state,
                &staff.actor(),
                &staff.province.tenant,
                &code,
                crate::ids::StaffId(id),
            )
            .await
        }
        Err(_) => Err(AppError::invalid(
            "assignee_id",
            Msg::new("Chọn cán bộ được giao.", "Choose the official to assign."),
        )),
    };
    after(&req, &state, &staff, &csrf, &code, "assign", result).await
}

#[cfg(test)]
mod tests {
    use super::parse_money;

    #[test]
    fn money_is_read_as_people_write_it() {
        assert_eq!(parse_money("135.000"), Some(135_000));
        assert_eq!(parse_money("135 000 đ"), Some(135_000));
        assert_eq!(parse_money("0"), Some(0));
        for bad in ["", "abc", "-5", "1e3"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
    }
}

/// `POST /manage/dossiers/{code}/result?csrf=` (multipart): the e-copy when a file is chosen,
/// else the paper decision's number and pickup, as `POST /api/v1/manage/dossiers/{code}/result`.
#[post("/manage/dossiers/{code}/result")]
pub async fn attach_result(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    code: web::Path<String>,
    payload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let code = tracking::normalize(&code);
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then(&format!("/manage/dossiers/{code}")));
    };
    let site_max = state.settings.storage.max_upload_bytes;
    let parts =
        crate::web::province::upload_form::read_page_form(&req, &csrf, payload, site_max, |name| {
            (name == "file").then_some(site_max)
        })
        .await?;
    if parts.too_large.is_some() {
        return Err(crate::app::documents::too_large(site_max));
    }
    let text = |k: &str| parts.text(k).unwrap_or_default().to_string();
    let (number, pickup) = (text("decision_number"), text("pickup"));
    let file = parts.files.into_iter().next();
    let input = match file {
        Some(f) => Ok(ResultInput::File {
            given_name: f.given_name.clone(),
            bytes: f.bytes()?,
        }),
        None => PaperResult::parse(&number, &pickup).map(ResultInput::Paper),
    };
    let done = match input {
        Ok(input) => {
            app::results::attach_result(
                &state,
                &staff.actor(),
                &staff.province.tenant,
                &code,
                input,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let mut attempt = Attempt::default();
    match done {
        Ok(d) => {
            return Ok(session::see_other(&format!(
                "/manage/dossiers/{}#result",
                d.dossier.tracking_code
            )));
        }
        Err(AppError::Invalid(fields)) => attempt.result_errors = fields,
        Err(AppError::Conflict { msg, .. }) => attempt.conflict = Some(msg),
        Err(e) => return Err(e),
    }
    let loaded = load(&state, &staff, &code).await?;
    render(&req, &staff, &csrf, lang, loaded, attempt, None)
}
