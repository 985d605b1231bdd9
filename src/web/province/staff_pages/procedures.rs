//! The admin switches the catalog's procedures on and off for this province, one form each.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::layout;
use crate::app::province_admin;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::pages::Layout;
use crate::web::session::{self, Csrf, PageAdmin};

struct ProcedureSwitch {
    code: String,
    name: String,
    group: String,
    enabled: bool,
}

#[derive(Template)]
#[template(path = "staff/procedures.html")]
struct ProcedureSwitchesPage {
    layout: Layout,
    procedures: Vec<ProcedureSwitch>,
    /// The procedure just switched, to say so.
    switched: Option<ProcedureSwitch>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchedQuery {
    switched: Option<String>,
}

#[get("/manage/admin/procedures")]
pub async fn show_procedure_switches(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    lang: Lang,
    query: web::Query<SwitchedQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(admin) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let tenant = &admin.province.tenant;
    let branding = province_admin::branding(&state, tenant).await?;
    let switches = province_admin::procedures(&state, &admin.actor(), tenant).await?;
    let procedures: Vec<ProcedureSwitch> = switches
        .into_iter()
        .map(|s| ProcedureSwitch {
            code: s.procedure.code.clone(),
            name: s.procedure.name.get(lang).to_string(),
            group: s.procedure.group.get(lang).to_string(),
            enabled: s.enabled,
        })
        .collect();
    let switched = query.switched.as_deref().and_then(|code| {
        procedures
            .iter()
            .find(|p| p.code == code)
            .map(|p| ProcedureSwitch {
                code: p.code.clone(),
                name: p.name.clone(),
                group: p.group.clone(),
                enabled: p.enabled,
            })
    });
    let page = ProcedureSwitchesPage {
        layout: layout(&req, &branding, &csrf, &admin),
        procedures,
        switched,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SwitchForm {
    csrf: Option<String>,
    enabled: String,
}

/// `enabled=true|false`, as `PUT /api/v1/manage/procedures/{code}`.
#[post("/manage/admin/procedures/{code}")]
pub async fn switch_procedure(
    state: web::Data<AppState>,
    who: PageAdmin,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let Some(admin) = who.0 else {
        return Ok(session::sign_in_then("/manage/admin/procedures"));
    };
    let code = code.into_inner();
    let enabled = form.enabled == "true";
    let (actor, tenant) = (admin.actor(), &admin.province.tenant);
    province_admin::set_procedure_enabled(&state, &actor, tenant, &code, enabled).await?;
    Ok(session::see_other(&format!(
        "/manage/admin/procedures?switched={code}#{code}"
    )))
}
