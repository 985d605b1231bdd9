//! The application's question pages: a few fields per page, in form order, each a POST form;
//! answers are kept in the citizen's draft between pages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::view::{ErrorLink, FieldView};
use super::{branding, layout};
use crate::app::drafts;
use crate::catalog::{Field, Procedure};
use crate::error::{AppError, FieldErrors};
use crate::ids::CitizenId;
use crate::lang::Lang;
use crate::tenancy::branding::Branding;
use crate::web::extract::Province;
use crate::web::pages::Layout;
use crate::web::session::{self, CSRF_FIELD, Csrf, PageCitizen};

/// Questions per page: few enough for a small phone screen.
pub const PER_PAGE: usize = 3;

/// The form's non-file fields, page by page.
pub fn question_pages(p: &Procedure) -> Vec<Vec<&Field>> {
    let fields: Vec<&Field> = p.fields.iter().filter(|f| !f.is_file()).collect();
    fields.chunks(PER_PAGE).map(<[&Field]>::to_vec).collect()
}

/// The 1-based page that asks `field`.
pub fn page_of(p: &Procedure, field: &str) -> usize {
    question_pages(p)
        .iter()
        .position(|page| page.iter().any(|f| f.name == field))
        .map_or(1, |i| i + 1)
}

/// Where the questions lead: the upload page when the form asks for files, else the check.
pub fn after_questions(p: &Procedure) -> String {
    if p.file_fields().next().is_some() {
        format!("/procedures/{}/apply/documents", p.code)
    } else {
        format!("/procedures/{}/apply/check", p.code)
    }
}

/// Pages in the whole journey: questions, documents (if any), check.
pub fn total_steps(p: &Procedure) -> usize {
    question_pages(p).len() + usize::from(p.file_fields().next().is_some()) + 1
}

/// A stored answer as the text a form control holds.
pub fn answer_str(answers: &Map<String, Value>, name: &str) -> String {
    match answers.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[derive(Template)]
#[template(path = "citizen/apply_step.html")]
struct StepPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    fields: Vec<FieldView>,
    procedure_name: String,
    step: usize,
    total: usize,
    /// The first page asks about the applicant; the others about the application.
    heading: &'static str,
    action: String,
    back: String,
    /// Came from "Change" on the check page: go back there after saving.
    change: bool,
}

struct StepView<'a> {
    procedure: &'a Procedure,
    step: usize,
    values: &'a Map<String, Value>,
    errors: &'a FieldErrors,
    change: bool,
}

fn step_page(req: &HttpRequest, layout: Layout, lang: Lang, v: StepView<'_>) -> StepPage {
    let pages = question_pages(v.procedure);
    let fields = &pages[v.step - 1];
    let code = &v.procedure.code;
    let back = if v.change {
        format!("/procedures/{code}/apply/check")
    } else if v.step == 1 {
        format!("/procedures/{code}")
    } else {
        format!("/procedures/{code}/apply/{}", v.step - 1)
    };
    // The questions' messages are generic ("Please fill in this field"): in the summary each
    // one is prefixed with its question, as on the check page, so the links say where they go.
    let errors = fields
        .iter()
        .filter_map(|f| {
            v.errors.get(&f.name).map(|m| ErrorLink {
                href: format!("#{}", f.name),
                message: format!("{}: {}", f.label.get(lang), m.get(lang)),
            })
        })
        .collect();
    StepPage {
        errors,
        fields: fields
            .iter()
            .map(|f| {
                let error = v.errors.get(&f.name).map(|m| m.get(lang));
                FieldView::new(f, &answer_str(v.values, &f.name), error, lang)
            })
            .collect(),
        procedure_name: v.procedure.name.get(lang).to_string(),
        step: v.step,
        total: total_steps(v.procedure),
        heading: if v.step == 1 {
            "applicant"
        } else {
            "application"
        },
        action: req.path().to_string(),
        back,
        change: v.change,
        layout,
    }
}

/// `GET /procedures/{code}/apply`: the start; sign-in first, then the first page.
#[get("/procedures/{code}/apply")]
pub async fn start_application(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    if who.0.is_none() {
        return Ok(session::to_citizen_sign_in(&req));
    }
    let code = code.into_inner();
    drafts::offered_procedure(&province.db, code.clone()).await?;
    Ok(session::see_other(&format!("/procedures/{code}/apply/1")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangeQuery {
    change: Option<String>,
}

/// The procedure, the page number (404 when out of range), the draft's answers and the look.
async fn load_step(
    req: &HttpRequest,
    province: &Province,
    citizen: CitizenId,
    code: String,
    step: usize,
) -> Result<(Branding, &'static Procedure, Map<String, Value>), AppError> {
    let (procedure, answers) = drafts::answers(&province.db, citizen, code).await?;
    if step == 0 || step > question_pages(procedure).len() {
        return Err(AppError::NotFound);
    }
    Ok((branding(req, province).await?, procedure, answers))
}

#[get("/procedures/{code}/apply/{step:\\d+}")]
pub async fn show_step(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    path: web::Path<(String, usize)>,
    query: web::Query<ChangeQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let (code, step) = path.into_inner();
    let (branding, procedure, mut answers) =
        load_step(&req, &province, citizen.id, code, step).await?;
    // A new application starts with the account's name; the citizen may change it.
    if answers.is_empty() {
        answers.insert("full_name".into(), Value::String(citizen.full_name.clone()));
    }
    let view = StepView {
        procedure,
        step,
        values: &answers,
        errors: &FieldErrors::new(),
        change: query.change.is_some(),
    };
    let page = step_page(
        &req,
        layout(&req, &branding, &csrf, Some(&citizen)),
        lang,
        view,
    );
    session::page(&req, StatusCode::OK, &page, &csrf)
}

/// Checks this page's answers; saves them and moves on, or shows them again with the errors.
#[post("/procedures/{code}/apply/{step:\\d+}")]
pub async fn save_step(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    path: web::Path<(String, usize)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let sent = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    csrf.verify(sent(CSRF_FIELD))?;
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let change = sent("change").is_some();
    let (code, step) = path.into_inner();
    let (branding, procedure, stored) =
        load_step(&req, &province, citizen.id, code.clone(), step).await?;
    let fields = &question_pages(procedure)[step - 1];
    let mut page_answers = Map::new();
    for f in fields {
        let value = sent(&f.name).unwrap_or_default().trim().to_string();
        page_answers.insert(f.name.clone(), Value::String(value));
    }
    // The whole form is checked, but only this page's fields can be wrong here.
    let mut merged = stored;
    merged.extend(page_answers.clone());
    let mut errors = procedure.validate(&merged).err().unwrap_or_default();
    errors.retain(|name, _| fields.iter().any(|f| &f.name == name));
    if !errors.is_empty() {
        let view = StepView {
            procedure,
            step,
            values: &page_answers,
            errors: &errors,
            change,
        };
        let layout = layout(&req, &branding, &csrf, Some(&citizen));
        let page = step_page(&req, layout, lang, view);
        return session::page(&req, StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    // An optional field left empty is removed rather than kept as "".
    for v in page_answers.values_mut() {
        if v.as_str().is_some_and(str::is_empty) {
            *v = Value::Null;
        }
    }
    drafts::save_answers(&province.db, citizen.id, code.clone(), page_answers).await?;
    let next = if change {
        format!("/procedures/{code}/apply/check")
    } else if step < question_pages(procedure).len() {
        format!("/procedures/{code}/apply/{}", step + 1)
    } else {
        after_questions(procedure)
    };
    Ok(session::see_other(&next))
}
