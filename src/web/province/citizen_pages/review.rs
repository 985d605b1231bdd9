//! Check your answers, then submit: the dossier, its files and the draft's removal in one
//! tenant transaction, exactly as the JSON API submits.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde_json::{Map, Value};

use super::apply::{answer_str, page_of, question_pages, total_steps};
use super::view::{self, ErrorLink};
use super::{CsrfForm, branding, layout};
use crate::accounts::citizens::Citizen;
use crate::app::drafts::{self, Applicant};
use crate::catalog::Procedure;
use crate::dossiers::drafts::DraftFileMeta;
use crate::dossiers::limits::SubmissionLimits;
use crate::error::{AppError, FieldErrors};
use crate::ids::CitizenId;
use crate::lang::Lang;
use crate::tenancy::branding::Branding;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::province::dossier_api::mail_context;
use crate::web::session::{self, Csrf, PageCitizen};

/// One line of the summary list, with its "Change" link.
struct AnswerRow {
    label: String,
    value: String,
    change: String,
}

#[derive(Template)]
#[template(path = "citizen/check_answers.html")]
struct CheckPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    procedure_name: String,
    answers: Vec<AnswerRow>,
    files: Vec<AnswerRow>,
    step: usize,
    total: usize,
    back: String,
    action: String,
}

/// Where a field is answered: its question page, or the upload page.
fn change_link(p: &Procedure, field: &str) -> String {
    if p.file_fields().any(|f| f.name == field) {
        format!("/procedures/{}/apply/documents#{field}", p.code)
    } else {
        format!(
            "/procedures/{}/apply/{}?change=1#{field}",
            p.code,
            page_of(p, field)
        )
    }
}

struct Draft {
    branding: Branding,
    procedure: &'static Procedure,
    answers: Map<String, Value>,
    files: Vec<DraftFileMeta>,
}

/// The draft to review; `None` when there is none (the journey starts again).
async fn load(
    req: &HttpRequest,
    province: &Province,
    citizen: CitizenId,
    code: String,
) -> Result<Option<Draft>, AppError> {
    let Some(review) = drafts::review(&province.db, citizen, code).await? else {
        return Ok(None);
    };
    Ok(Some(Draft {
        branding: branding(req, province).await?,
        procedure: review.procedure,
        files: review.files,
        answers: review.answers,
    }))
}

fn check_page(
    req: &HttpRequest,
    csrf: &Csrf,
    citizen: &Citizen,
    lang: Lang,
    d: &Draft,
    errors: &FieldErrors,
) -> CheckPage {
    let p = d.procedure;
    let answers = p
        .fields
        .iter()
        .filter(|f| !f.is_file())
        .map(|f| {
            let raw = answer_str(&d.answers, &f.name);
            AnswerRow {
                label: f.label.get(lang).to_string(),
                value: if raw.is_empty() {
                    tr(lang, "not_answered").to_string()
                } else {
                    view::answer_text(f, &raw, lang)
                },
                change: change_link(p, &f.name),
            }
        })
        .collect();
    let files = p
        .file_fields()
        .map(|f| AnswerRow {
            label: f.label.get(lang).to_string(),
            value: d
                .files
                .iter()
                .find(|u| u.field == f.name)
                .map_or_else(|| tr(lang, "not_uploaded").to_string(), |u| u.name.clone()),
            change: change_link(p, &f.name),
        })
        .collect();
    // Errors link to where they can be fixed, in form order.
    let errors = p
        .fields
        .iter()
        .filter_map(|f| {
            errors.get(&f.name).map(|m| ErrorLink {
                href: change_link(p, &f.name),
                message: format!("{}: {}", f.label.get(lang), m.get(lang)),
            })
        })
        .collect();
    let total = total_steps(p);
    let back = if p.file_fields().next().is_some() {
        format!("/procedures/{}/apply/documents", p.code)
    } else {
        format!("/procedures/{}/apply/{}", p.code, question_pages(p).len())
    };
    CheckPage {
        layout: layout(req, &d.branding, csrf, Some(citizen)),
        errors,
        procedure_name: p.name.get(lang).to_string(),
        answers,
        files,
        step: total,
        total,
        back,
        action: req.path().to_string(),
    }
}

#[get("/procedures/{code}/apply/check")]
pub async fn show_check(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = code.into_inner();
    let Some(draft) = load(&req, &province, citizen.id, code.clone()).await? else {
        return Ok(session::see_other(&format!("/procedures/{code}/apply")));
    };
    let page = check_page(&req, &csrf, &citizen, lang, &draft, &FieldErrors::new());
    session::page(&req, StatusCode::OK, &page, &csrf)
}

/// Submits the draft: dossier, attachments from the draft's files, draft removed, all in one
/// transaction; then the confirmation. Invalid answers come back on the check page.
#[post("/procedures/{code}/apply/check")]
pub async fn submit_application(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    // The language from the request itself keeps the handler within seven arguments.
    let lang = Lang::of(&req);
    csrf.verify(form.csrf.as_deref())?;
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = code.into_inner();
    let ctx = mail_context(&province, &state);
    let tenant = province.tenant.clone();
    let level = <crate::web::extract::SessionLevel as actix_web::FromRequest>::extract(&req)
        .await
        .map_or(1, |l| l.0);
    let who = Applicant {
        id: citizen.id,
        email: citizen.email.clone(),
        assurance_level: level,
    };
    let limits = SubmissionLimits::from_settings(&state.settings.limits);
    let outcome = drafts::submit_draft(&state, tenant, ctx, who, code.clone(), lang, limits).await;
    let errors = match outcome {
        Ok(Some(tracking)) => {
            return Ok(session::see_other(&format!(
                "/dossiers/{tracking}/confirmation"
            )));
        }
        Ok(None) => return Ok(session::see_other("/dossiers")),
        // A procedure that needs a higher level: sign in again at that level (step-up), then
        // come back to this check page with the draft as it was.
        Err(AppError::AssuranceRequired { required }) if state.national.is_some() => {
            let next = session::percent_encode(&format!("/procedures/{code}/apply/check"));
            return Ok(session::see_other(&format!(
                "/auth/oidc/start?level={required}&next={next}"
            )));
        }
        Err(AppError::Invalid(errors)) => errors,
        Err(e) => return Err(e),
    };
    let Some(draft) = load(&req, &province, citizen.id, code.clone()).await? else {
        return Ok(session::see_other(&format!("/procedures/{code}/apply")));
    };
    let page = check_page(&req, &csrf, &citizen, lang, &draft, &errors);
    session::page(&req, StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
}
