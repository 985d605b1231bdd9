//! `portal up --demo`: an operator, a citizen and a few dossiers to look at.

use rand::Rng;

use super::Failure;
use crate::accounts::operators::{self, OperatorRole};
use crate::accounts::staff::{self, StaffRole};
use crate::accounts::{Email, citizens, password};
use crate::config::Settings;
use crate::db::Db;
use crate::dossiers::store;
use crate::dossiers::submit::{Channel, Submission, submit};
use crate::error::AppError;
use crate::lang::Lang;
use crate::notify::messages::MailContext;
use crate::tenancy::store as tenants;

pub const DEMO_OPERATOR: &str = "operator@demo.portal.vn";
pub const DEMO_CITIZEN: &str = "citizen@demo.portal.vn";
pub const DEMO_OFFICIAL: &str = "canbo@demo.portal.vn";
pub const DEMO_ADMIN: &str = "quantri@demo.portal.vn";
const DEMO_PROVINCES: [&str; 3] = ["ha-noi", "ho-chi-minh", "quang-ninh"];

/// Printed at start so a person can sign in.
pub struct DemoAccounts {
    pub operator_password: String,
    pub citizen_password: String,
    /// An official and an admin of Hà Nội share this password.
    pub staff_password: String,
}

fn random_password() -> String {
    let mut rng = rand::rng();
    (0..4)
        .map(|_| format!("{:04x}", rng.random::<u16>()))
        .collect::<Vec<_>>()
        .join("-")
}

/// Resets the demo accounts with fresh passwords, and files sample dossiers once.
pub fn seed(settings: &Settings) -> Result<DemoAccounts, Failure> {
    let db = Db::new(&settings.database);
    let accounts = DemoAccounts {
        operator_password: random_password(),
        citizen_password: random_password(),
        staff_password: random_password(),
    };
    let op_email = Email::parse(DEMO_OPERATOR).map_err(|m| Failure::new(1, m.en.to_string()))?;
    let op_hash = password::hash(&accounts.operator_password)?;
    db.control(|conn| {
        operators::upsert(
            conn,
            &op_email,
            "Demo operator",
            OperatorRole::Operator,
            &op_hash,
        )
    })?;
    let email = Email::parse(DEMO_CITIZEN).map_err(|m| Failure::new(1, m.en.to_string()))?;
    let hash = password::hash(&accounts.citizen_password)?;
    let citizen = db.control(|conn| citizens::upsert(conn, &email, "Nguyễn Văn Dân", &hash))?;

    let staff_hash = password::hash(&accounts.staff_password)?;
    if let Some(hanoi) = db.control(|conn| tenants::find_by_slug(conn, "ha-noi"))? {
        db.tenant(hanoi.db_ref()).tx(|conn| {
            for (email, name, role) in [
                (DEMO_OFFICIAL, "Cán bộ Trần Thị Hoa", StaffRole::Official),
                (DEMO_ADMIN, "Quản trị viên Lê Văn Nam", StaffRole::Admin),
            ] {
                let email = Email::parse(email).map_err(|m| AppError::internal(m.en))?;
                let s = staff::upsert_with_password(conn, &email, name, role, &staff_hash)?;
                crate::metering::record_seats(conn, &hanoi, &format!("staff:{}:granted", s.id))?;
            }
            Ok(())
        })?;
    }
    for slug in DEMO_PROVINCES {
        let Some(tenant) = db.control(|conn| tenants::find_by_slug(conn, slug))? else {
            continue;
        };
        let ctx = MailContext {
            province: tenant.name.clone(),
            site_url: settings.url_for_host(&format!("{slug}.{}", settings.server.base_domain)),
        };
        db.control(|conn| crate::frontdoor::holdings::record(conn, citizen.id, tenant.id))?;
        db.tenant(tenant.db_ref()).tx(|conn| {
            if !store::list_for_citizen(conn, citizen.id)?.is_empty() {
                return Ok(());
            }
            for (code, fields) in sample_dossiers() {
                let sub = Submission {
                    procedure_code: code.to_string(),
                    answers: fields,
                    channel: Channel::Online,
                    citizen_id: Some(citizen.id),
                    contact_email: citizen.email.clone(),
                    lang: Lang::Vi,
                    actor: format!("citizen:{}", citizen.id),
                    // Sample data, not a citizen's own filing.
                    limits: None,
                    unit_code: None,
                    received_at: None,
                    assurance_level: None,
                    offered: None,
                    unit_mapping: None,
                };
                submit(conn, &tenant, &ctx, &sub)?;
            }
            Ok(())
        })?;
    }
    Ok(accounts)
}

fn sample_dossiers() -> Vec<(&'static str, serde_json::Map<String, serde_json::Value>)> {
    let obj = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    vec![
        (
            "GPLX-001",
            obj(serde_json::json!({
                "full_name": "Nguyễn Văn Dân",
                "id_number": "001090012345",
                "licence_number": "790123456789",
                "licence_class": "B2",
                "expiry_date": "2026-12-31",
                "delivery_address": "12 Phố Huế, phường Hai Bà Trưng",
                "phone": "0912345678"
            })),
        ),
        (
            "LLTP-001",
            obj(serde_json::json!({
                "full_name": "Nguyễn Văn Dân",
                "id_number": "001090012345",
                "date_of_birth": "1990-05-17",
                "sex": "male",
                "permanent_address": "12 Phố Huế, phường Hai Bà Trưng, Hà Nội",
                "certificate_type": "type_1",
                "copies": 1,
                "purpose": "Bổ sung hồ sơ xin việc",
                "delivery": "pickup",
                "phone": "0912345678"
            })),
        ),
    ]
}

#[cfg(test)]
mod tests {
    /// `up --demo` files these: they must pass the catalog's own forms.
    #[test]
    fn the_sample_dossiers_are_valid_applications() {
        for (code, fields) in super::sample_dossiers() {
            let procedure = crate::catalog::national().get(code).expect(code);
            if let Err(errors) = procedure.validate(&fields) {
                panic!("{code}: {:?}", errors.keys().collect::<Vec<_>>());
            }
        }
    }
}
