//! `portal tenant import FILE`: loading a province's export (`tenancy::backup` describes the
//! file and writes it): provisioned through the ordinary path (tenants row, role,
//! schema, tenant migrations), then its rows, all in ONE control-plane transaction: a refused
//! or broken file leaves nothing behind.
//!
//! The file is the operator's (signed with `export.signing_key`, checked before anything is
//! written) but its rows are still held to what the platform accepts on input (#15):
//! - every control-plane row names the imported province, else the whole import is refused;
//!   moved dossiers' codes (#18) are the file's own dossiers' and held by no other province;
//!   hosts are valid and nobody's here, plans exist, usage is within what the file's own
//!   dossiers, mail, staff and documents can account for;
//! - national accounts only for the file's own dossiers and drafts, and without a password
//!   (exports carry none): the citizen sets one anew;
//! - branding and the province's name pass the same checks as on input;
//! - unsent mail is kept, marked failed, and never sent from here;
//! - staff password hashes of other argon2 parameters than the platform's are dropped (the
//!   official is invited again).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use hmac::Mac;
use serde_json::Value;

use super::provisioning::provision_as;
use crate::audit;
use crate::db::migrate::{TENANT_MIGRATIONS, latest_version};
use crate::db::{Db, TenantRef, quote_ident, tenant_enter, tenant_leave};
use crate::error::AppError;
use crate::lang::Msg;
use crate::metering::Metric;
use crate::tenancy::backup::signature::{self, Signer};
use crate::tenancy::backup::{
    CONTROL_SECTIONS, FORMAT, Header, TableInfo, Trailer, applied_version, tenant_tables,
};
use crate::tenancy::branding::{Branding, BrandingInput};
use crate::tenancy::host::{HostKind, classify, normalize};
use crate::tenancy::provision::NewTenant;
use crate::tenancy::{Slug, Tenant, TenantId, store};

/// What an import loaded.
#[derive(Debug)]
pub struct ImportSummary {
    pub tenant: Tenant,
    pub counts: BTreeMap<String, u64>,
    /// National accounts of the file already present here (same id or same address): kept as
    /// they are here.
    pub citizens_kept: u64,
    /// Unsent mails of the file, kept as failed (not sent from here).
    pub mails_held: u64,
}

/// Who imports, and what the file is checked against.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    pub actor: &'a str,
    /// `server.base_domain`: custom domains must lie outside it.
    pub base_domain: &'a str,
    /// `export.signing_key`.
    pub key: &'a [u8],
}

/// What an imported national account holds instead of a password hash: no password matches
/// it (it is not a hash), so the citizen sets a new password before signing in.
pub const NO_PASSWORD: &str = "!imported: no password yet";

/// What an imported unsent mail says of itself.
pub const HELD_MAIL: &str =
    "imported from another installation: not sent from here (see docs/operations.md)";

fn refused(en: String) -> AppError {
    AppError::conflict(
        "import_refused",
        Msg::owned(format!("Không thể nhập: {en}"), en),
    )
}

fn bad_file(en: impl std::fmt::Display) -> AppError {
    AppError::invalid(
        "file",
        Msg::owned(
            format!("Tệp xuất không hợp lệ: {en}"),
            format!("not a valid export: {en}"),
        ),
    )
}

fn fields_text(fields: &crate::error::FieldErrors) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.en))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(serde::Deserialize)]
struct RowLine {
    t: String,
    r: Value,
}

/// Rows waiting to be inserted, one section at a time.
struct Batch {
    section: String,
    rows: Vec<String>,
    bytes: usize,
}

/// Checks the file's signature without writing anything: the first of the import's two
/// passes (the second checks it again over what it loads).
pub fn verify(input: &mut dyn BufRead, key: &[u8]) -> Result<(), AppError> {
    let mut mac = signature::signer(key);
    let mut line = String::new();
    let mut trailer: Option<Trailer> = None;
    loop {
        line.clear();
        if input.read_line(&mut line).map_err(bad_file)? == 0 {
            break;
        }
        if trailer.is_some() {
            return Err(bad_file("lines after the end"));
        }
        if line.starts_with("{\"end\"") {
            trailer = Some(serde_json::from_str(&line).map_err(bad_file)?);
            continue;
        }
        mac.update(line.as_bytes());
    }
    let Some(trailer) = trailer else {
        return Err(bad_file("the file ends before its last line (truncated?)"));
    };
    signature::check(mac, &trailer.end, trailer.signature.as_deref())
}

/// The `$argon2id$v=…$m=…,t=…,p=…$` head of the platform's own hashes.
fn platform_hash_head() -> &'static str {
    static HEAD: OnceLock<String> = OnceLock::new();
    HEAD.get_or_init(|| {
        let h = crate::accounts::password::hash("parameters only").unwrap_or_default();
        // "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
        let parts: Vec<&str> = h.split('$').collect();
        if parts.len() < 4 {
            return "$argon2id$".to_string();
        }
        format!("{}$", parts[..4].join("$"))
    })
}

/// Upper bounds of usage the file's own rows can account for, read once its province's
/// tables are loaded.
struct Bounds {
    dossiers: i64,
    emails: i64,
    seats: i64,
    storage_bytes: i64,
}

impl Bounds {
    fn read(conn: &mut PgConnection, door: &TenantRef) -> Result<Bounds, AppError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            dossiers: i64,
            #[diesel(sql_type = BigInt)]
            emails: i64,
            #[diesel(sql_type = BigInt)]
            seats: i64,
        }
        tenant_enter(conn, door)?;
        let r: Row = sql_query(
            "SELECT (SELECT count(*) FROM dossiers) AS dossiers, \
                    (SELECT count(*) FROM outbox) AS emails, \
                    (SELECT count(*) FROM staff) AS seats",
        )
        .get_result(conn)?;
        let storage = crate::metering::sampling::storage_bytes(conn)?;
        tenant_leave(conn)?;
        Ok(Bounds {
            dossiers: r.dossiers,
            emails: r.emails,
            seats: r.seats,
            // Sampled over the period: documents since deleted (drafts) leave some room.
            storage_bytes: storage.saturating_mul(2).saturating_add(1 << 30),
        })
    }

    fn of(&self, metric: Metric) -> (i64, &'static str) {
        match metric {
            Metric::Dossiers => (self.dossiers, "the dossiers in the file"),
            Metric::Emails => (self.emails, "the mails in the file's outbox"),
            Metric::Seats => (self.seats, "the staff accounts in the file"),
            Metric::StorageBytes => (self.storage_bytes, "twice the documents' bytes + 1 GiB"),
            Metric::ApiCalls => (1_000_000_000, "a billion calls"),
        }
    }
}

/// What the checks of one import remember between rows.
struct Checks<'a> {
    id_text: String,
    base_domain: &'a str,
    door: TenantRef,
    bounds: Option<Bounds>,
    /// Per section and counter metric: the sum so far.
    sums: HashMap<(String, Metric), i64>,
    /// National accounts the file's dossiers and drafts name.
    citizens: Option<BTreeSet<String>>,
    /// Tracking codes of the file's dossiers.
    codes: Option<BTreeSet<String>>,
    mails_held: u64,
}

impl Checks<'_> {
    /// Checks one row (and rewrites what it must); `conn` is between batches, in `public`.
    fn row(
        &mut self,
        conn: &mut PgConnection,
        n: u64,
        section: &str,
        r: &mut Value,
    ) -> Result<(), AppError> {
        let at = |what: String| refused(format!("line {n} ({section}): {what}"));
        if !r.is_object() {
            return Err(at("a row is a JSON object".into()));
        }
        if section.starts_with("public:") {
            let named = r["tenant_id"].as_str().unwrap_or("(none)").to_string();
            if named != self.id_text {
                return Err(at(format!(
                    "the row names province {named}, not the imported one ({}); every row of an import must belong to the imported province",
                    self.id_text
                )));
            }
        }
        match section {
            "public:tenant_domains" => {
                let host = r["host"].as_str().unwrap_or_default();
                let ok = match r["kind"].as_str() {
                    Some("subdomain") => Slug::parse(host).is_ok(),
                    Some("custom") => {
                        normalize(host).as_deref() == Some(host)
                            && host.contains('.')
                            && matches!(classify(host, self.base_domain), HostKind::Custom(_))
                    }
                    _ => false,
                };
                if !ok {
                    return Err(at(format!(
                        "{host:?} is not a valid host of its kind ({})",
                        r["kind"]
                    )));
                }
                let owner: Option<uuid::Uuid> = crate::db::schema::tenant_domains::table
                    .find(host)
                    .select(crate::db::schema::tenant_domains::tenant_id)
                    .first(conn)
                    .optional()?;
                if owner.is_some() {
                    return Err(at(format!(
                        "the host {host:?} belongs to another province here"
                    )));
                }
            }
            "public:leases" => {
                let plan = r["plan_code"].as_str().unwrap_or_default();
                if !store::plan_exists(conn, plan)? {
                    return Err(at(format!("there is no plan {plan:?} here")));
                }
            }
            "public:usage_events" | "public:usage_daily" | "public:usage_period" => {
                let name = r["metric"].as_str().unwrap_or_default();
                let Some(metric) = Metric::parse(name) else {
                    return Err(at(format!("no usage metric {name:?}")));
                };
                let Some(q) = r["quantity"].as_i64().filter(|q| *q >= 0) else {
                    return Err(at(format!("the quantity {} is not a count", r["quantity"])));
                };
                if self.bounds.is_none() {
                    self.bounds = Some(Bounds::read(conn, &self.door)?);
                }
                let (bound, what) = self
                    .bounds
                    .as_ref()
                    .map(|b| b.of(metric))
                    .unwrap_or((0, ""));
                let total = if metric.is_gauge() {
                    q
                } else {
                    let sum = self.sums.entry((section.to_string(), metric)).or_default();
                    *sum = sum.saturating_add(q);
                    *sum
                };
                if total > bound {
                    return Err(at(format!(
                        "{total} {name} is more than the file accounts for (at most {bound}: {what})"
                    )));
                }
                if section == "public:usage_period"
                    && !matches!(r["notified"].as_i64(), Some(0 | 80 | 100) | None)
                {
                    return Err(at(format!(
                        "notified {} is not 0, 80 or 100",
                        r["notified"]
                    )));
                }
            }
            "public:moved_dossiers" => {
                // Only codes of the file's own dossiers, and none another province here holds:
                // else tracking would send someone else's code to this province.
                let code = r["tracking_code"].as_str().unwrap_or_default().to_string();
                if self.codes.is_none() {
                    tenant_enter(conn, &self.door)?;
                    let codes: Vec<String> = crate::db::schema::dossiers::table
                        .select(crate::db::schema::dossiers::tracking_code)
                        .load(conn)?;
                    tenant_leave(conn)?;
                    self.codes = Some(codes.into_iter().collect());
                }
                if !self.codes.as_ref().is_some_and(|c| c.contains(&code)) {
                    return Err(at(format!(
                        "the tracking code {code:?} is not a dossier of the file; an import brings only its own moved dossiers"
                    )));
                }
                if crate::reorg::moves::holder(conn, &code)?.is_some() {
                    return Err(at(format!(
                        "the tracking code {code:?} is recorded here as moved to another province"
                    )));
                }
            }
            "identity:citizens" => {
                if self.citizens.is_none() {
                    tenant_enter(conn, &self.door)?;
                    #[derive(QueryableByName)]
                    struct Id {
                        #[diesel(sql_type = Text)]
                        v: String,
                    }
                    let ids: Vec<Id> = sql_query(
                        "SELECT DISTINCT citizen_id::text AS v FROM \
                         (SELECT citizen_id FROM dossiers UNION SELECT citizen_id FROM drafts) c \
                         WHERE citizen_id IS NOT NULL",
                    )
                    .load(conn)?;
                    tenant_leave(conn)?;
                    self.citizens = Some(ids.into_iter().map(|i| i.v).collect());
                }
                let email = r["email"].as_str().unwrap_or_default().to_string();
                let named = self
                    .citizens
                    .as_ref()
                    .is_some_and(|c| r["id"].as_str().is_some_and(|id| c.contains(id)));
                if !named {
                    return Err(at(format!(
                        "the national account {email:?} is not named by any dossier or draft of the file; an import brings only its own citizens"
                    )));
                }
                let same = crate::accounts::Email::parse(&email).is_ok_and(|e| e.as_str() == email);
                let full_name = r["full_name"].as_str().unwrap_or_default();
                if !same
                    || full_name.trim().is_empty()
                    || full_name.chars().count() > 120
                    || full_name.chars().any(char::is_control)
                {
                    return Err(at(format!("the national account {email:?} is not valid")));
                }
                // Never a password from a file.
                if let Some(o) = r.as_object_mut() {
                    o.remove("password_hash");
                }
            }
            "tenant:branding" => {
                let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                let input = BrandingInput {
                    display_name: text("display_name"),
                    accent_color: text("accent_color"),
                    hotline: text("hotline"),
                    address: text("address"),
                    banner: text("banner"),
                };
                let b = Branding::parse(&input)
                    .map_err(|f| at(format!("the branding is not valid: {}", fields_text(&f))))?;
                r["display_name"] = b.display_name.into();
                r["accent_color"] = b.accent_color.as_str().into();
                r["hotline"] = b.hotline.into();
                r["address"] = b.address.into();
                r["banner"] = b.banner.into();
            }
            "tenant:outbox" if r["sent_at"].is_null() => {
                r["next_attempt_at"] = "infinity".into();
                r["claimed_until"] = Value::Null;
                r["last_error"] = HELD_MAIL.into();
                self.mails_held += 1;
            }
            "tenant:staff" => {
                let foreign = r["password_hash"]
                    .as_str()
                    .is_some_and(|h| !h.starts_with(platform_hash_head()));
                if foreign {
                    r["password_hash"] = Value::Null;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Reads an export from `input` and creates the province it holds. The caller checked the
/// signature with [`verify`] first; it is checked again here over what was loaded, before the
/// transaction commits.
pub fn import(
    db: &Db,
    input: &mut dyn BufRead,
    opts: &ImportOptions<'_>,
) -> Result<ImportSummary, AppError> {
    let mut mac: Signer = signature::signer(opts.key);
    let mut line = String::new();
    input.read_line(&mut line).map_err(bad_file)?;
    mac.update(line.as_bytes());
    let header: Header = serde_json::from_str(&line).map_err(bad_file)?;
    if header.portal_export != FORMAT {
        return Err(bad_file(format!(
            "format {} (this release reads {FORMAT})",
            header.portal_export
        )));
    }
    let field = |k: &str| header.tenant[k].as_str().map(str::to_string);
    let (Some(name), Some(plan), Some(code), Some(status)) = (
        field("name"),
        field("plan_code"),
        field("code"),
        field("status"),
    ) else {
        return Err(bad_file("the tenants row lacks name, plan, code or status"));
    };
    // The same checks as a province created here.
    let parsed = NewTenant::parse(&header.slug, &name, &plan, &[], opts.base_domain)
        .map_err(|f| refused(format!("the file's province: {}", fields_text(&f))))?;
    if name != name.trim() {
        return Err(refused(
            "the file's province: name: leading or trailing spaces".into(),
        ));
    }
    if !(2..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(refused(format!(
            "the file's province: code {code:?} is not 2 to 4 capital letters"
        )));
    }
    if !matches!(status.as_str(), "active" | "suspended") {
        return Err(refused(format!("the file's province: status {status:?}")));
    }
    if header.tenant["id"].as_str() != Some(header.tenant_id.to_string().as_str()) {
        return Err(bad_file(
            "the header's tenant id and its tenants row differ",
        ));
    }
    let slug = parsed.slug.clone();
    let id = TenantId(header.tenant_id);

    db.control(|conn| {
        sql_query("SELECT set_config('statement_timeout', '0', true)").execute(conn)?;
        let here_public = applied_version(conn, "public.__diesel_schema_migrations")?;
        let here_tenant = latest_version(&TENANT_MIGRATIONS).map_err(AppError::internal)?;
        if header.public_schema_version != here_public
            || header.tenant_schema_version != here_tenant
        {
            return Err(refused(format!(
                "the export's schema versions (public {}, tenant {}) differ from this installation's (public {here_public}, tenant {here_tenant}); migrate both to the same release first",
                header.public_schema_version, header.tenant_schema_version
            )));
        }
        if store::find_by_slug(conn, slug.as_str())?.is_some() {
            return Err(refused(format!("a province \"{}\" exists here already", slug.as_str())));
        }
        let id_taken: i64 = crate::db::schema::tenants::table
            .find(id.0)
            .count()
            .get_result(conn)?;
        if id_taken > 0 {
            return Err(refused(format!("a province with id {id} exists here already")));
        }

        // The ordinary path: the same checks, role, schema, migrations and registry rows.
        let new = NewTenant {
            code: Some(code),
            ..parsed
        };
        let role = format!("pt_{}", uuid::Uuid::new_v4().simple());
        let tenant = provision_as(conn, &new, id, &role, opts.actor, |_| Ok(()))?;
        let door = tenant.db_ref();

        // What provisioning seeded gives way to the file's rows.
        tenant_enter(conn, &door)?;
        let tables = tenant_tables(conn, &door.schema)?;
        for t in tables.iter().rev() {
            sql_query(format!("DELETE FROM {}", quote_ident(&t.name))).execute(conn)?;
        }
        tenant_leave(conn)?;
        sql_query("DELETE FROM tenant_domains WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(id.0)
            .execute(conn)?;
        sql_query("DELETE FROM leases WHERE tenant_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(id.0)
            .execute(conn)?;

        let mut checks = Checks {
            id_text: id.to_string(),
            base_domain: opts.base_domain,
            door: door.clone(),
            bounds: None,
            sums: HashMap::new(),
            citizens: None,
            codes: None,
            mails_held: 0,
        };
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut kept = 0u64;
        let mut batch: Option<Batch> = None;
        let mut trailer: Option<Trailer> = None;
        let mut n = 1u64;
        loop {
            line.clear();
            if input.read_line(&mut line).map_err(bad_file)? == 0 {
                break;
            }
            n += 1;
            if trailer.is_some() {
                return Err(bad_file("lines after the end"));
            }
            if line.starts_with("{\"end\"") {
                trailer = Some(serde_json::from_str(&line).map_err(bad_file)?);
                continue;
            }
            mac.update(line.as_bytes());
            let mut row: RowLine = serde_json::from_str(&line).map_err(bad_file)?;
            let same = batch.as_ref().is_some_and(|b| b.section == row.t);
            let full = batch
                .as_ref()
                .is_some_and(|b| b.rows.len() >= 500 || b.bytes > 8 << 20);
            if !same || full {
                if let Some(b) = batch.take() {
                    kept += load(conn, &door, &tables, &b, &mut counts)?;
                }
                batch = Some(Batch {
                    section: row.t.clone(),
                    rows: Vec::new(),
                    bytes: 0,
                });
            }
            // Checked once every earlier section is in (usage against the file's own rows).
            checks.row(conn, n, &row.t, &mut row.r)?;
            let text = row.r.to_string();
            let b = batch.as_mut().expect("a batch");
            b.bytes += text.len();
            b.rows.push(text);
        }
        if let Some(b) = batch.take() {
            kept += load(conn, &door, &tables, &b, &mut counts)?;
        }
        let Some(trailer) = trailer else {
            return Err(bad_file("the file ends before its last line (truncated?)"));
        };
        // What was loaded is what was signed (the file may not change between the passes).
        signature::check(mac, &trailer.end, trailer.signature.as_deref())?;
        let mut expected = trailer.end;
        expected.retain(|_, n| *n > 0);
        if expected != counts {
            return Err(bad_file(format!(
                "row counts differ from the file's own: {expected:?} != {counts:?}"
            )));
        }

        finish(conn, &door, &tables)?;
        sql_query(
            "UPDATE tenants SET status = $2, created_at = ($3::json ->> 'created_at')::timestamptz \
             WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id.0)
        .bind::<Text, _>(&status)
        .bind::<Text, _>(header.tenant.to_string())
        .execute(conn)?;
        crate::leasing::sync_current_plan(conn, id, crate::clock::today_vn())?;
        // The national "my dossiers" asks the provinces that hold an account's dossiers.
        tenant_enter(conn, &door)?;
        let holders: Vec<uuid::Uuid> = crate::db::schema::dossiers::table
            .filter(crate::db::schema::dossiers::citizen_id.is_not_null())
            .select(crate::db::schema::dossiers::citizen_id.assume_not_null())
            .distinct()
            .load(conn)?;
        // Results verify on every host through the control plane's index of their codes.
        let verifications = crate::dossiers::results::entries_here(conn, id.0)?;
        tenant_leave(conn)?;
        let holders: Vec<crate::ids::CitizenId> =
            holders.into_iter().map(crate::ids::CitizenId).collect();
        crate::frontdoor::holdings::record_many(conn, &holders, id)?;
        crate::dossiers::results::index_many(conn, &verifications)?;
        audit::record(
            conn,
            opts.actor,
            crate::audit::Action::TenantImport,
            slug.as_str(),
            serde_json::json!({
                "exported_at": header.exported_at,
                "rows": counts,
                "mails_held": checks.mails_held,
            }),
        )?;
        let tenant = store::find_by_slug(conn, slug.as_str())?
            .ok_or_else(|| AppError::internal("imported tenant vanished"))?;
        Ok(ImportSummary {
            tenant,
            counts,
            citizens_kept: kept,
            mails_held: checks.mails_held,
        })
    })
}

/// Inserts one batch; returns how many rows were skipped as already present (citizens only).
fn load(
    conn: &mut PgConnection,
    door: &TenantRef,
    tables: &[TableInfo],
    batch: &Batch,
    counts: &mut BTreeMap<String, u64>,
) -> Result<u64, AppError> {
    let json = format!("[{}]", batch.rows.join(","));
    let n = batch.rows.len() as u64;
    *counts.entry(batch.section.clone()).or_default() += n;
    if let Some(table) = batch.section.strip_prefix("tenant:") {
        if !tables.iter().any(|t| t.name == table) {
            return Err(bad_file(format!("no table {table:?} in a province here")));
        }
        let t = quote_ident(table);
        tenant_enter(conn, door)?;
        sql_query(format!(
            "INSERT INTO {t} SELECT * FROM json_populate_recordset(NULL::{t}, $1::json)"
        ))
        .bind::<Text, _>(&json)
        .execute(conn)?;
        tenant_leave(conn)?;
        return Ok(0);
    }
    if !CONTROL_SECTIONS.contains(&batch.section.as_str()) {
        return Err(bad_file(format!("unknown section {:?}", batch.section)));
    }
    // (table, columns taken from the file, what is inserted for them, on conflict)
    let (table, columns, values, on_conflict) = match batch.section.as_str() {
        "public:tenant_domains" => ("public.tenant_domains", "*", "*", ""),
        // Their own ids are this installation's to give.
        "public:leases" => (
            "public.leases",
            "tenant_id, plan_code, starts_on, created_at, created_by, last_day",
            "tenant_id, plan_code, starts_on, created_at, created_by, last_day",
            "",
        ),
        "public:usage_events" => (
            "public.usage_events",
            "tenant_id, metric, quantity, occurred_at, received_at, idempotency_key",
            "tenant_id, metric, quantity, occurred_at, received_at, idempotency_key",
            "",
        ),
        "public:usage_daily" => ("public.usage_daily", "*", "*", ""),
        "public:usage_period" => ("public.usage_period", "*", "*", ""),
        "public:moved_dossiers" => ("public.moved_dossiers", "*", "*", ""),
        // No password from a file: the citizen sets one anew.
        _ => (
            "identity.citizens",
            "id, email, full_name, password_hash, active, created_at",
            "id, email, full_name, $2, coalesce(active, true), coalesce(created_at, now())",
            "ON CONFLICT DO NOTHING",
        ),
    };
    let into = if columns == "*" {
        String::new()
    } else {
        format!("({columns})")
    };
    let query = sql_query(format!(
        "INSERT INTO {table} {into} SELECT {values} FROM json_populate_recordset(NULL::{table}, $1::json) {on_conflict}"
    ))
    .bind::<Text, _>(&json);
    let inserted = if table == "identity.citizens" {
        query.bind::<Text, _>(NO_PASSWORD).execute(conn)
    } else {
        query.execute(conn)
    }
    .map_err(|e| match &e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) if table == "public.tenant_domains" => {
            refused("a host of the province belongs to another province here".into())
        }
        _ => AppError::from(e),
    })?;
    Ok(n - inserted as u64)
}

#[derive(QueryableByName)]
struct Serial {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    sequence: String,
}

/// Every sequence of the schema continues after the highest id loaded.
fn finish(conn: &mut PgConnection, door: &TenantRef, tables: &[TableInfo]) -> Result<(), AppError> {
    tenant_enter(conn, door)?;
    let serials: Vec<Serial> = sql_query(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = $1 AND c.relkind = 'r' \
           AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL",
    )
    .bind::<Text, _>(&door.schema)
    .load(conn)?;
    for s in serials {
        if !tables.iter().any(|t| t.name == s.table_name) {
            continue;
        }
        #[derive(QueryableByName)]
        struct Next {
            #[diesel(sql_type = BigInt)]
            next: i64,
        }
        // Two statements: in one (`SELECT setval(…) FROM table`) Citus would run `setval` on
        // the province's worker, whose copy of the sequence has that node's own range
        // ("value 3 is out of bounds"); the coordinator's is the one its inserts use.
        let highest = sql_query(format!(
            "SELECT coalesce(max({}), 0)::int8 AS next FROM {}",
            quote_ident(&s.column_name),
            quote_ident(&s.table_name)
        ))
        .get_result::<Next>(conn)?;
        sql_query("SELECT setval($1::regclass, $2 + 1, false) AS next")
            .bind::<Text, _>(&s.sequence)
            .bind::<BigInt, _>(highest.next)
            .get_result::<Next>(conn)?;
    }
    tenant_leave(conn)?;
    Ok(())
}
