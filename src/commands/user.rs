//! `portal user create`: bootstrap accounts of a province (staff) or national (citizen).

use super::{Failure, Outcome};
use crate::accounts::staff::{self, StaffRole};
use crate::accounts::{Email, citizens, password};
use crate::config::Settings;
use crate::db::Db;
use crate::tenancy::store;

pub fn create(
    settings: &Settings,
    tenant: &str,
    email: &str,
    role: &str,
    name: Option<&str>,
    units: &[String],
    pw: &str,
) -> Outcome {
    let email = Email::parse(email).map_err(|m| Failure::new(2, format!("--email: {}", m.en)))?;
    citizens::check_password(pw, Some(&email))
        .map_err(|m| Failure::new(2, format!("password: {}", m.en)))?;
    let name = name.unwrap_or(email.as_str()).trim().to_string();
    let db = Db::new(&settings.database);
    let t = db
        .control(|conn| store::find_by_slug(conn, tenant))?
        .ok_or_else(|| Failure::new(1, format!("error: no tenant {tenant:?}")))?;
    let hash = password::hash(pw)?;
    match role {
        "citizen" if !units.is_empty() => {
            return Err(Failure::new(2, "--unit: only staff work in units"));
        }
        "citizen" => {
            // Citizens hold national accounts: usable on every province's site.
            let c = db.control(|conn| citizens::upsert(conn, &email, &name, &hash))?;
            println!(
                "citizen {} ready (national account, usable on {} and every other province)",
                c.email.as_deref().unwrap_or_default(),
                t.slug
            );
        }
        other => {
            let role = StaffRole::parse(other).map_err(|_| {
                Failure::new(
                    2,
                    "--role: must be citizen, receiver, official, head or admin",
                )
            })?;
            let (s, codes) = db.tenant(t.db_ref()).tx(|conn| {
                let codes = crate::units::routing::units_of_province(conn, "unit", units)?;
                let s = staff::upsert_with_password(conn, &email, &name, role, &hash)?;
                // Given units are the account's units from now on; none leaves them as they were.
                if !codes.is_empty() {
                    crate::units::store::set_staff_units(conn, s.id, &codes)?;
                }
                crate::metering::record_seats(conn, &t, &format!("staff:{}:granted", s.id))?;
                Ok((s, codes))
            })?;
            let at: Vec<String> = codes.iter().map(ToString::to_string).collect();
            match at.is_empty() {
                true => println!("{} {} ready in {}", s.role.as_str(), s.email, t.slug),
                false => println!(
                    "{} {} ready in {} (units {})",
                    s.role.as_str(),
                    s.email,
                    t.slug,
                    at.join(", ")
                ),
            }
        }
    }
    Ok(())
}
