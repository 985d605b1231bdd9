//! The citizen's pages on a province site: server-rendered, working without JavaScript, in the
//! national layout. They mirror the JSON API (same doors, same domain functions).

pub(crate) mod account;
mod apply;
mod documents;
mod dossiers;
mod home;
mod paying;
mod replies;
mod replying;
mod resumable;
mod review;
mod tracking;
pub mod view;

use actix_web::{HttpRequest, web};

use crate::accounts::citizens::Citizen;
use crate::error::AppError;
use crate::tenancy::branding::Branding;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::Layout;
use crate::web::session::Csrf;

/// The province's home page (`GET /`), registered first of the province's routes
/// (`web::serve`): actix tries routes in order, and a path with `{…}` is matched by a regex,
/// which made routing about a fifth of the home page's CPU when it came after them all.
pub fn home_route(cfg: &mut web::ServiceConfig) {
    cfg.service(home::show_home);
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home::show_procedure)
        .service(account::show_sign_in)
        .service(account::sign_in_citizen)
        .service(account::show_register)
        .service(account::register_account)
        .service(account::sign_out_citizen)
        .service(apply::start_application)
        .service(apply::show_step)
        .service(apply::save_step)
        .service(documents::show_documents)
        .service(documents::upload_documents)
        .service(resumable::create_upload)
        .service(resumable::show_upload)
        .service(resumable::append_upload)
        .service(resumable::cancel_upload)
        .service(review::show_check)
        .service(review::submit_application)
        .service(dossiers::list_dossiers)
        .service(dossiers::show_confirmation)
        .service(dossiers::show_dossier)
        .service(dossiers::confirm_withdraw)
        .service(dossiers::withdraw_dossier)
        .service(dossiers::download_file)
        .service(dossiers::download_result)
        .service(replying::supplement_dossier_page)
        .service(paying::show_pay)
        .service(paying::show_transfer)
        .service(paying::show_counter)
        .service(paying::pay_dossier_page)
        .service(replying::rate_dossier_page)
        .service(replying::show_owner_apology)
        .service(tracking::show_tracking)
        .service(tracking::submit_tracking);
}

/// A form that carries nothing but its CSRF token (sign out, withdraw, submit).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// The province layout with the visitor's form token and name.
pub(crate) fn layout(
    req: &HttpRequest,
    branding: &Branding,
    csrf: &Csrf,
    who: Option<&Citizen>,
) -> Layout {
    Layout::province(req, &branding.display_name, branding)
        .with_session(csrf.token(), who.map(|c| c.full_name.as_str()))
}

/// The province's look, from its site cache.
pub(crate) async fn branding(req: &HttpRequest, province: &Province) -> Result<Branding, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    Ok(province.site(state).await?.branding.clone())
}
