//! Registering a dossier received at the counter: pick a procedure, fill its form for the
//! citizen, optionally give their email for notices; filed as `POST /api/v1/manage/dossiers`
//! files it (`channel: counter`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{labelled_errors, layout};
use crate::app::{self, staff::CounterInput};
use crate::catalog::{self, Procedure};
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, FieldView, OptionView};
use crate::web::session::{self, CSRF_FIELD, Csrf, PageStaff};

/// The chosen procedure's form.
struct Chosen {
    code: String,
    name: String,
    fields: Vec<FieldView>,
    /// The units that may decide it (the province's choice first selected).
    units: Vec<OptionView>,
    /// The service points the staff member may receive at, when more than one.
    points: Vec<OptionView>,
    unit_error: String,
    point_error: String,
}

#[derive(Template)]
#[template(path = "staff/counter.html")]
struct CounterPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    /// The procedures this province offers, for the choice.
    procedures: Vec<OptionView>,
    chosen: Option<Chosen>,
}

/// What the page shows: the choice, or the chosen form with its answers and errors.
struct Shown<'a> {
    procedure: Option<&'static Procedure>,
    values: &'a Map<String, Value>,
    errors: &'a FieldErrors,
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    staff: &StaffUser,
    csrf: &Csrf,
    lang: Lang,
    status: StatusCode,
    shown: Shown<'_>,
) -> Result<HttpResponse, AppError> {
    let site = staff.province.site(state).await?;
    let (scope, desk) = app::workspace::desk(state, &staff.actor(), &staff.province.tenant).await?;
    let procedures = catalog::national()
        .all()
        .iter()
        .filter(|p| site.enabled(&p.code))
        .map(|p| OptionView {
            id: format!("procedure-{}", p.code),
            value: p.code.clone(),
            label: format!("{} ({})", p.name.get(lang), p.code),
            selected: shown.procedure.is_some_and(|c| c.code == p.code),
        })
        .collect();
    let text = |name: &str| match shown.values.get(name) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let chosen = shown.procedure.map(|p| {
        let mut fields: Vec<FieldView> = p
            .fields
            .iter()
            .filter(|f| !f.is_file())
            .map(|f| {
                let error = shown.errors.get(&f.name).map(|m| m.get(lang));
                let mut v = FieldView::new(f, &text(&f.name), error, lang);
                // The staff member types someone else's details: never offer their own.
                v.autocomplete = "off";
                v
            })
            .collect();
        let mut contact = FieldView::plain(
            "contact_email",
            tr(lang, "contact_email"),
            "email",
            "off",
            &text("contact_email"),
            shown.errors.get("contact_email").map(|m| m.get(lang)),
        )
        .with_hint(tr(lang, "contact_email_hint"));
        contact.required = false;
        fields.push(contact);
        let (deciders, mapped) = desk.deciders(&p.code);
        let asked_unit = text("unit_code");
        let units = deciders
            .iter()
            .map(|u| OptionView {
                id: format!("unit-{}", u.code),
                value: u.code.to_string(),
                label: u.name.clone(),
                selected: if asked_unit.is_empty() {
                    mapped.as_ref() == Some(&u.code)
                } else {
                    asked_unit == u.code.as_str()
                },
            })
            .collect();
        let asked_point = text("received_at");
        let service_points = desk.service_points(&scope);
        let points = if service_points.len() > 1 {
            service_points
                .iter()
                .enumerate()
                .map(|(i, u)| OptionView {
                    id: format!("point-{}", u.code),
                    value: u.code.to_string(),
                    label: u.name.clone(),
                    selected: if asked_point.is_empty() {
                        i == 0
                    } else {
                        asked_point == u.code.as_str()
                    },
                })
                .collect()
        } else {
            Vec::new()
        };
        let err = |k: &str| {
            shown
                .errors
                .get(k)
                .map(|m| m.get(lang).to_string())
                .unwrap_or_default()
        };
        Chosen {
            code: p.code.clone(),
            name: p.name.get(lang).to_string(),
            fields,
            units,
            points,
            unit_error: err("unit_code"),
            point_error: err("received_at"),
        }
    });
    let mut errors = shown.errors.clone();
    let procedure_error = errors
        .remove("procedure_code")
        .or_else(|| errors.remove("procedure"));
    let mut links: Vec<ErrorLink> = procedure_error
        .iter()
        .map(|m| ErrorLink {
            href: "#procedure".into(),
            message: m.get(lang).to_string(),
        })
        .collect();
    if let Some(c) = &chosen {
        links.extend(labelled_errors(&c.fields, &errors, lang));
        for (msg, href) in [
            (&c.unit_error, "#unit_code"),
            (&c.point_error, "#received_at"),
        ] {
            if !msg.is_empty() {
                links.push(ErrorLink {
                    href: href.into(),
                    message: msg.clone(),
                });
            }
        }
    }
    let page = CounterPage {
        layout: layout(req, &site.branding, csrf, staff),
        errors: links,
        procedures,
        chosen,
    };
    session::page(req, status, &page, csrf)
}

fn no_such_procedure() -> FieldErrors {
    FieldErrors::from([(
        "procedure".to_string(),
        Msg::new(
            "Chọn một thủ tục tỉnh đang cung cấp.",
            "Choose a procedure this province offers.",
        ),
    )])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChooseQuery {
    procedure: Option<String>,
}

/// `GET /manage/dossiers/new` (`?procedure=CODE` shows that procedure's form).
#[get("/manage/dossiers/new")]
pub async fn show_counter_form(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<ChooseQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let asked = query.into_inner().procedure.unwrap_or_default();
    let procedure = match asked.as_str() {
        "" => None,
        code => {
            let site = staff.province.site(&state).await?;
            catalog::national()
                .get(code)
                .filter(|p| site.enabled(&p.code))
        }
    };
    let errors = if procedure.is_none() && !asked.is_empty() {
        no_such_procedure()
    } else {
        FieldErrors::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let shown = Shown {
        procedure,
        values: &Map::new(),
        errors: &errors,
    };
    render(&req, &state, &staff, &csrf, lang, status, shown).await
}

/// Files the dossier (`channel: counter`) and opens it; or shows the form again with errors.
#[post("/manage/dossiers/new")]
pub async fn register_at_counter(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let sent = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    csrf.verify(Some(&sent(CSRF_FIELD)))?;
    let Some(staff) = who.0 else {
        return Ok(session::sign_in_then("/manage/dossiers/new"));
    };
    let Some(procedure) = catalog::national().get(&sent("procedure_code")) else {
        let shown = Shown {
            procedure: None,
            values: &Map::new(),
            errors: &no_such_procedure(),
        };
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render(&req, &state, &staff, &csrf, lang, status, shown).await;
    };
    let mut values = Map::new();
    for f in procedure.fields.iter().filter(|f| !f.is_file()) {
        values.insert(f.name.clone(), Value::String(sent(&f.name)));
    }
    let contact = sent("contact_email");
    // An empty box is no answer: the form's rules say whether it may be left empty.
    let answers: Map<String, Value> = values
        .iter()
        .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    values.insert("contact_email".into(), Value::String(contact.clone()));
    values.insert("unit_code".into(), Value::String(sent("unit_code")));
    values.insert("received_at".into(), Value::String(sent("received_at")));
    let input = CounterInput {
        procedure_code: procedure.code.clone(),
        answers,
        contact_email: Some(contact),
        lang,
        unit_code: Some(sent("unit_code")),
        received_at: Some(sent("received_at")),
    };
    let filed =
        app::staff::register_at_counter(&state, &staff.actor(), &staff.province.tenant, input)
            .await;
    let errors = match filed {
        Ok(d) => {
            return Ok(session::see_other(&format!(
                "/manage/dossiers/{}/receipt",
                d.tracking_code
            )));
        }
        Err(AppError::Invalid(fields)) => fields,
        Err(e) => return Err(e),
    };
    let shown = Shown {
        procedure: Some(procedure),
        values: &values,
        errors: &errors,
    };
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render(&req, &state, &staff, &csrf, lang, status, shown).await
}
