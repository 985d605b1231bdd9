//! The province admin's actions: branding, logo, procedures on and off, the team (invite,
//! deactivate, reactivate), and accepting an invitation. The admin API
//! (`/api/v1/manage/…`) and the admin's pages (`/manage/admin…`) both call these; each one
//! forgets the province's site cache after its commit when the public site shows the change.

use std::sync::Arc;

use diesel::RunQueryDsl;

use super::staff::door;
use super::{Actor, App};
use crate::accounts::citizens::check_password;
use crate::accounts::staff::{self, StaffAccount, StaffRole};
use crate::accounts::{Email, password};
use crate::catalog;
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;
use crate::metering::usage::{self, Usage};
use crate::notify::outbox::{self, NewMail};
use crate::period::Period;
use crate::tenancy::Tenant;
use crate::tenancy::branding::{self, Branding, BrandingInput};
use crate::tenancy::logo::{self, Logo};
use crate::tenancy::procedures;

/// Each metric's use, day by day.
pub type Daily = std::collections::BTreeMap<String, Vec<(chrono::NaiveDate, i64)>>;

/// The site cache serves branding, logo version and switches: drop the province's entry here
/// at once, and tell the other replicas from the control plane. On one PostgreSQL the schema's
/// trigger tells them too; on Citus it cannot (the tables live on a worker: see the
/// `site_notify_citus` tenant migration), so this notification is the one they get. A lost one
/// costs at most the cache's age limit.
async fn forget_site(app: &App, tenant: &Tenant) {
    app.registry.sites().forget(&tenant.schema);
    let schema = tenant.schema.clone();
    let sent = app
        .db
        .control_async(move |conn| {
            diesel::sql_query("SELECT pg_notify('portal_site', $1)")
                .bind::<diesel::sql_types::Text, _>(schema)
                .execute(conn)?;
            Ok(())
        })
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "site change not announced; other replicas see it within the cache's age");
    }
}

/// The stored branding (anyone may read it through the site; here for the admin).
pub async fn branding(app: &App, tenant: &Tenant) -> Result<Branding, AppError> {
    door(app, tenant).run(branding::load).await
}

/// Saves the branding when every field passes `Branding::parse` (422 with every field's
/// reason otherwise).
pub async fn save_branding(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    input: &BrandingInput,
) -> Result<Branding, AppError> {
    actor.province_admin()?;
    let b = Branding::parse(input).map_err(AppError::Invalid)?;
    let saved = b.clone();
    door(app, tenant)
        .run(move |conn| branding::save(conn, &saved))
        .await?;
    forget_site(app, tenant).await;
    Ok(b)
}

/// The province's logo, if it has one.
pub async fn logo(app: &App, tenant: &Tenant) -> Result<Option<Logo>, AppError> {
    door(app, tenant).run(logo::load).await
}

/// Replaces the logo: PNG or JPEG by its bytes (422), 200 KB at most (413). Returns its type.
pub async fn store_logo(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    bytes: Vec<u8>,
) -> Result<&'static str, AppError> {
    actor.province_admin()?;
    let kind = logo::check(&bytes)?;
    door(app, tenant)
        .run(move |conn| logo::save(conn, kind, &bytes))
        .await?;
    forget_site(app, tenant).await;
    Ok(kind)
}

/// Removes the logo; 404 when there was none.
pub async fn delete_logo(app: &App, actor: &Actor, tenant: &Tenant) -> Result<(), AppError> {
    actor.province_admin()?;
    let deleted = door(app, tenant).run(logo::delete).await?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    forget_site(app, tenant).await;
    Ok(())
}

/// One catalog procedure with this province's switch.
#[derive(Debug, Clone)]
pub struct ProcedureSwitch {
    pub procedure: &'static catalog::Procedure,
    pub enabled: bool,
}

/// Every catalog procedure, in catalog order, with this province's switch.
pub async fn procedures(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
) -> Result<Vec<ProcedureSwitch>, AppError> {
    actor.province_admin()?;
    let disabled = door(app, tenant)
        .run(procedures::disabled_procedures)
        .await?;
    Ok(catalog::national()
        .all()
        .iter()
        .map(|p| ProcedureSwitch {
            enabled: !disabled.contains(&p.code),
            procedure: p,
        })
        .collect())
}

/// Switches one catalog procedure on or off for the province (404 for a code the catalog
/// does not have).
pub async fn set_procedure_enabled(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    code: &str,
    enabled: bool,
) -> Result<(), AppError> {
    actor.province_admin()?;
    catalog::national().get(code).ok_or(AppError::NotFound)?;
    let c = code.to_string();
    door(app, tenant)
        .run(move |conn| procedures::set_procedure_enabled(conn, &c, enabled))
        .await?;
    forget_site(app, tenant).await;
    Ok(())
}

/// The province's staff, by email.
pub async fn team(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
) -> Result<Vec<StaffAccount>, AppError> {
    actor.province_admin()?;
    door(app, tenant).run(staff::list).await
}

/// An invitation as typed.
#[derive(Debug, Clone, Default)]
pub struct InviteInput {
    pub email: String,
    pub full_name: String,
    pub role: String,
    /// The units the staff member works in (none: the province level).
    pub units: Vec<String>,
}

/// Invites a new official or admin: every field's mistake at once (422), a taken email 409
/// `email_taken`; the account, its seat and the mail with the one-time link in one
/// transaction (outbox).
pub async fn invite(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    inviter_name: &str,
    input: InviteInput,
) -> Result<StaffAccount, AppError> {
    actor.province_admin()?;
    let mut errors = FieldErrors::new();
    let email = Email::parse(input.email.trim())
        .map_err(|m| errors.insert("email".into(), m))
        .ok();
    let role = StaffRole::parse(input.role.trim())
        .map_err(|m| errors.insert("role".into(), m))
        .ok();
    if let Err(m) = staff::check_full_name(&input.full_name) {
        errors.insert("full_name".into(), m);
    }
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let ctx = app.mail_context(tenant);
    let door = door(app, tenant);
    let tenant = tenant.clone();
    let inviter = inviter_name.to_string();
    door.run(move |conn| {
        let units = crate::units::routing::units_of_province(conn, "units", &input.units)?;
        let (account, token) = staff::invite(conn, &email, &input.full_name, role)?;
        crate::units::store::set_staff_units(conn, account.id, &units)?;
        crate::metering::record_seats(conn, &tenant, &format!("staff:{}:granted", account.id))?;
        let link = format!("{}/invitations/{token}", ctx.site_url);
        let (subject, body) =
            invitation_mail(&ctx.province, &inviter, &account.full_name, role, &link);
        outbox::enqueue(
            conn,
            tenant.id,
            &NewMail {
                kind: "staff_invitation",
                dossier_id: None,
                to: &account.email,
                subject: &subject,
                body: &body,
            },
        )?;
        Ok(account)
    })
    .await
}

pub use crate::notify::invitation::invitation_mail;

/// Deactivates or reactivates a staff account (never one's own deactivation: 409
/// `self_deactivation`); a reactivation counts a seat. Takes effect on that account's next
/// request.
pub async fn set_active(
    app: &App,
    actor: &Actor,
    tenant: &Arc<Tenant>,
    id: crate::ids::StaffId,
    active: bool,
) -> Result<StaffAccount, AppError> {
    let me = actor.province_admin()?;
    if id == me && !active {
        return Err(AppError::conflict(
            "self_deactivation",
            Msg::new(
                "Không thể tự khóa tài khoản của mình.",
                "You cannot deactivate yourself.",
            ),
        ));
    }
    let door = door(app, tenant);
    let tenant = tenant.clone();
    door.run(move |conn| {
        let account = staff::set_active(conn, id, active)?;
        if active {
            let key = format!(
                "staff:{id}:activated:{}",
                chrono::Utc::now().timestamp_millis()
            );
            crate::metering::record_seats(conn, &tenant, &key)?;
        }
        Ok(account)
    })
    .await
}

/// The province's usage of a period as the operator sees it, and, when asked, day by day.
pub async fn usage(
    app: &App,
    actor: &Actor,
    tenant: &Tenant,
    period: Period,
    with_days: bool,
) -> Result<(Usage, Option<Daily>), AppError> {
    actor.province_admin()?;
    let id = tenant.id;
    app.db
        .control_async(move |conn| {
            let totals = usage::for_period(conn, id, period)?;
            let days = match with_days {
                true => Some(usage::daily(conn, id, period)?),
                false => None,
            };
            Ok((totals, days))
        })
        .await
}

/// The account an invitation link is for, while it still works (unused, unexpired, active).
pub async fn pending_invitation(
    app: &App,
    tenant: &Tenant,
    token: &str,
) -> Result<Option<StaffAccount>, AppError> {
    let t = token.to_string();
    door(app, tenant)
        .run(move |conn| staff::pending_invitation(conn, &t))
        .await
}

/// Sets the password of an invited account once (the one-time token is the credential):
/// an unknown, used or expired link is 404; a weak password (also one containing the
/// account's email) 422 on `password`.
pub async fn accept_invitation(
    app: &App,
    tenant: &Tenant,
    token: &str,
    given: String,
) -> Result<StaffAccount, AppError> {
    let account = pending_invitation(app, tenant, token)
        .await?
        .ok_or(AppError::NotFound)?;
    let email = Email::parse(&account.email).ok();
    check_password(&given, email.as_ref()).map_err(|m| AppError::invalid("password", m))?;
    // Hashed under the process's bound, after the link was found (no CPU for unknown links).
    let hash = app.hashing.run(move || password::hash(&given)).await??;
    let t = token.to_string();
    door(app, tenant)
        .run(move |conn| staff::accept_invitation(conn, &t, &hash))
        .await
}
