//! The province staff's pages under `/manage` (queue, dossier and its moves, counter
//! registration, apology letter), the admin's under `/manage/admin`, and the invitation page.
//! Server-rendered like the citizen's pages, in the national layout with the staff menu; they
//! mirror the manage and admin APIs (same rules, same domain functions).

mod admin;
pub mod apology;
mod counter;
mod dossier;
mod fee_payment;
mod fee_receipt;
mod invitation;
mod moves;
mod payment_account;
mod procedures;
mod queue;
mod receipt;
mod team;
mod usage;

use actix_web::{HttpRequest, web};
use serde::Deserialize;

use crate::accounts::staff::StaffRole;
use crate::dossiers::status::Action;
use crate::error::FieldErrors;
use crate::lang::Lang;
use crate::tenancy::branding::Branding;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{ErrorLink, FieldView};
use crate::web::session::Csrf;

pub use queue::{assignee_text, competent_text, due_flag, received_text};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/manage/dossiers/new` before `/manage/dossiers/{code}`: the first match wins.
    cfg.service(queue::show_queue)
        .service(receipt::export_queue_csv)
        .service(receipt::show_staff_receipt)
        .service(receipt::show_citizen_receipt)
        .service(fee_receipt::show_staff_fee_receipt)
        .service(fee_receipt::show_citizen_fee_receipt)
        .service(fee_receipt::confirm_void_fee_receipt)
        .service(fee_receipt::void_fee_receipt)
        .service(fee_payment::confirm_transfer_page)
        .service(fee_payment::confirm_transfer_received)
        .service(counter::show_counter_form)
        .service(counter::register_at_counter)
        .service(dossier::show_managed_dossier)
        .service(moves::move_dossier)
        .service(moves::attach_result)
        .service(dossier::download_managed_file)
        .service(dossier::view_managed_file)
        .service(moves::transfer_dossier)
        .service(moves::assign_dossier)
        .service(apology::show_staff_apology)
        .service(admin::show_admin)
        .service(payment_account::show_payment_account)
        .service(payment_account::save_payment_account)
        .service(admin::save_branding_form)
        .service(admin::upload_logo_form)
        .service(admin::remove_logo_form)
        .service(procedures::show_procedure_switches)
        .service(procedures::switch_procedure)
        .service(team::show_team)
        .service(team::invite_member)
        .service(team::deactivate_member)
        .service(team::activate_member)
        .service(invitation::show_invitation_done)
        .service(invitation::show_invitation)
        .service(invitation::set_invited_password)
        .service(usage::show_usage);
}

/// A form that carries nothing but its CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// The province layout with the staff menu.
pub(crate) fn layout(
    req: &HttpRequest,
    branding: &Branding,
    csrf: &Csrf,
    staff: &StaffUser,
) -> Layout {
    Layout::province(req, &branding.display_name, branding).with_staff(
        csrf.token(),
        &staff.account.full_name,
        staff.account.role == StaffRole::Admin,
    )
}

/// A move as people name it ("Tiếp nhận", "Accept"), for forms, history and notices.
pub fn action_label(action: &str, lang: Lang) -> String {
    match (Action::parse(action), action) {
        (Some(a), _) => tr(lang, &format!("act_{}", a.as_str())).to_string(),
        (None, "transfer" | "assign") => tr(lang, &format!("act_{action}")).to_string(),
        (None, _) => tr(lang, "act_other").to_string(),
    }
}

/// The error summary's lines, in the form's order, each prefixed with its question so the
/// link says where it leads ("Tên hiển thị: Không được để trống.").
fn labelled_errors(fields: &[FieldView], errors: &FieldErrors, lang: Lang) -> Vec<ErrorLink> {
    fields
        .iter()
        .filter_map(|f| {
            errors.get(&f.name).map(|m| ErrorLink {
                href: format!("#{}", f.name),
                message: format!("{}: {}", f.label, m.get(lang)),
            })
        })
        .collect()
}
