//! Plans edited on the operator console: a form with the plan's terms, errors next to the
//! fields with the values kept, saved through the API's action (`app::leasing::put_plan`),
//! and the plan's history read from the audit log.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use crate::accounts::operators::OperatorRole;
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::leasing::plans::{MetricTerms, Plan, PlanInput};
use crate::metering::Metric;
use crate::web::AppState;
use crate::web::operator_pages::PageOperator;
use crate::web::pages::Layout;
use crate::web::session::{self, Csrf};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(edit_plan).service(save_plan);
}

/// One metric's three fields, as typed.
struct MetricFields {
    key: &'static str,
    label: String,
    included: String,
    price: String,
    cap: String,
    error: String,
}

/// One saved version in the history.
struct ChangeView {
    at: String,
    actor: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "operator/plan_edit.html")]
struct PlanEditPage {
    layout: Layout,
    code: String,
    values: HashMap<String, String>,
    metrics: Vec<MetricFields>,
    errors: BTreeMap<String, String>,
    history: Vec<ChangeView>,
    saved: bool,
    can_change: bool,
}

impl PlanEditPage {
    fn value(&self, field: &str) -> &str {
        self.values.get(field).map(String::as_str).unwrap_or("")
    }

    fn error(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

fn plan_values(plan: &Plan) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("name".into(), plan.name.clone());
    v.insert("monthly_fee_vnd".into(), plan.monthly_fee_vnd.to_string());
    v.insert("rate_limit_rps".into(), plan.rate_limit_rps.to_string());
    v.insert("rate_burst".into(), plan.rate_burst.to_string());
    for (m, t) in &plan.metrics {
        v.insert(format!("{m}.included"), t.included.to_string());
        v.insert(format!("{m}.price"), t.unit_price_vnd.to_string());
        v.insert(
            format!("{m}.cap"),
            t.hard_cap.map(|c| c.to_string()).unwrap_or_default(),
        );
    }
    v
}

fn summary(saved: &serde_json::Value) -> String {
    format!(
        "{} · {} đ · {}/s",
        saved["name"].as_str().unwrap_or_default(),
        crate::web::invoice_print::group(saved["monthly_fee_vnd"].as_i64().unwrap_or_default()),
        saved["rate_limit_rps"].as_i64().unwrap_or_default()
    )
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    who: &crate::accounts::operators::OperatorAccount,
    code: &str,
    typed: Option<(HashMap<String, String>, FieldErrors)>,
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(req);
    let (plan, changes) = crate::app::leasing::plan_with_history(state, code).await?;
    let (values, errors, status) = match typed {
        Some((v, e)) => (v, e, StatusCode::UNPROCESSABLE_ENTITY),
        None => (plan_values(&plan), FieldErrors::new(), StatusCode::OK),
    };
    let errors: BTreeMap<String, String> = errors
        .into_iter()
        .map(|(k, m)| (k, m.get(lang).to_string()))
        .collect();
    let get = |k: String| values.get(&k).cloned().unwrap_or_default();
    let metrics = Metric::ALL
        .iter()
        .map(|m| MetricFields {
            key: m.as_str(),
            label: m.label(lang).to_string(),
            included: get(format!("{}.included", m.as_str())),
            price: get(format!("{}.price", m.as_str())),
            cap: get(format!("{}.cap", m.as_str())),
            error: errors
                .get(&format!("metrics.{}", m.as_str()))
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let history = changes
        .iter()
        .map(|c| ChangeView {
            at: crate::web::province::citizen_pages::view::local_time(c.at),
            actor: c.actor.clone(),
            summary: summary(&c.saved),
        })
        .collect();
    let layout = Layout::operator(req).with_session(csrf.token(), Some(&who.email));
    let page = PlanEditPage {
        layout,
        code: plan.code,
        values,
        metrics,
        errors,
        history,
        saved,
        can_change: who.role == OperatorRole::Operator,
    };
    session::page(req, status, &page, csrf)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

#[get("/plans/{code}")]
async fn edit_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    code: web::Path<String>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = who.0 else {
        return Ok(session::see_other("/sign-in"));
    };
    let saved = query.saved.is_some();
    render(&req, &state, &csrf, &user, &code, None, saved).await
}

/// A whole number typed in a field, spaces and dots (thousands) allowed; `None` when empty.
fn number(
    form: &HashMap<String, String>,
    field: &str,
    errors: &mut FieldErrors,
    error_key: &str,
) -> Option<i64> {
    let raw: String = form
        .get(field)
        .map(String::as_str)
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .collect();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors
                .entry(error_key.to_string())
                .or_insert(Msg::new("Nhập một số nguyên.", "Enter a whole number."));
            None
        }
    }
}

/// The form as the API's input, or every field's problem.
fn parse_form(form: &HashMap<String, String>) -> Result<PlanInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let fee = number(form, "monthly_fee_vnd", &mut e, "monthly_fee_vnd");
    let rate = number(form, "rate_limit_rps", &mut e, "rate_limit_rps");
    let burst = number(form, "rate_burst", &mut e, "rate_burst");
    let mut metrics = BTreeMap::new();
    for m in Metric::ALL {
        let key = format!("metrics.{}", m.as_str());
        let included = number(form, &format!("{}.included", m.as_str()), &mut e, &key);
        let price = number(form, &format!("{}.price", m.as_str()), &mut e, &key);
        let cap = number(form, &format!("{}.cap", m.as_str()), &mut e, &key);
        if let (Some(included), Some(price)) = (included, price) {
            metrics.insert(
                m.as_str().to_string(),
                MetricTerms {
                    included,
                    unit_price_vnd: price,
                    hard_cap: cap,
                },
            );
        }
    }
    let input = PlanInput {
        name: form.get("name").cloned().unwrap_or_default(),
        monthly_fee_vnd: fee.unwrap_or(-1),
        rate_limit_rps: rate.and_then(|r| i32::try_from(r).ok()).unwrap_or(0),
        rate_burst: burst.map(|b| i32::try_from(b).unwrap_or(0)),
        metrics,
    };
    if let Err(more) = input.validate("plan") {
        for (k, v) in more {
            e.entry(k).or_insert(v);
        }
    }
    if e.is_empty() { Ok(input) } else { Err(e) }
}

#[post("/plans/{code}")]
async fn save_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageOperator,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    csrf.verify(form.remove("csrf").as_deref())?;
    let user = who.0.ok_or_else(AppError::unauthorized)?;
    if user.role != OperatorRole::Operator {
        return Err(AppError::forbidden());
    }
    let code = code.into_inner();
    match parse_form(&form) {
        Err(errors) => {
            render(
                &req,
                &state,
                &csrf,
                &user,
                &code,
                Some((form, errors)),
                false,
            )
            .await
        }
        Ok(input) => {
            let (app, actor, c) = (state.app.clone(), user.actor(), code.clone());
            let saved = crate::web::in_span(move || {
                crate::app::leasing::put_plan(&app, &actor, &c, &input)
            })
            .await?;
            match saved {
                Ok(_) => Ok(session::see_other(&format!("/plans/{code}?saved=1"))),
                Err(AppError::Invalid(errors)) => {
                    render(
                        &req,
                        &state,
                        &csrf,
                        &user,
                        &code,
                        Some((form, errors)),
                        false,
                    )
                    .await
                }
                Err(e) => Err(e),
            }
        }
    }
}
