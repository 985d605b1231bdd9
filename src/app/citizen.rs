//! A citizen's actions on their own dossiers, and reading a dossier (owner or staff).

use crate::app::App;
use crate::app::documents;
use crate::catalog;
use crate::db::TenantDb;
use crate::dossiers::attachments::{self, AttachmentMeta, SchemaBlobs};
use crate::dossiers::fee_receipts::FeeReceiptView;
use crate::dossiers::status::Status;
use crate::dossiers::store;
use crate::dossiers::tracking;
use crate::dossiers::view::DossierView;
use crate::error::AppError;
use crate::ids::CitizenId;
use crate::lang::{Lang, Msg};
use crate::tenancy::Tenant;

/// Who reads a dossier of this province.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// Its owner: their own dossiers only.
    Citizen(crate::ids::CitizenId),
    /// An active official or admin of the province: every dossier of the province.
    Staff,
}

/// `GET /api/v1/dossiers/{code}`: the owner or the province's staff read it; anybody else
/// gets 404, the same as for a code that does not exist (no 403 that confirms it exists).
pub async fn read_dossier(
    db: &TenantDb,
    reader: Reader,
    code: String,
    lang: Lang,
) -> Result<DossierView, AppError> {
    db.run(move |conn| {
        let d = match reader {
            Reader::Citizen(id) => store::find_owned(conn, &code, id)?,
            Reader::Staff => store::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?,
        };
        let events = store::events(conn, d.id)?;
        let files = attachments::list(conn, d.id)?;
        let result = match reader {
            Reader::Citizen(_) => crate::dossiers::results::find_for_owner(conn, &d)?,
            Reader::Staff => crate::dossiers::results::find(conn, d.id)?,
        };
        let receipt = FeeReceiptView::current(conn, d.id)?;
        Ok(DossierView::new(d, events, files, lang)
            .with_result(result)
            .with_fee_receipt(receipt))
    })
    .await
}

/// A file the citizen sends for a dossier, as received (not yet checked).
#[derive(Debug)]
pub struct NewAttachment {
    /// The form's document it answers, if named.
    pub field: Option<String>,
    pub given_name: String,
    pub bytes: Vec<u8>,
}

/// Adds a file to the citizen's own dossier while it is new or a supplement is requested:
/// the document's own size limit and types apply (the same check as the pages'), the file is
/// metered in the same transaction.
pub async fn attach(
    db: &TenantDb,
    tenant: std::sync::Arc<Tenant>,
    site_max: u64,
    citizen: CitizenId,
    code: String,
    file: NewAttachment,
) -> Result<AttachmentMeta, AppError> {
    db.run(move |conn| {
        let d = store::lock_owned(conn, &code, citizen)?;
        if !matches!(d.status(), Status::Submitted | Status::SupplementRequested) {
            return Err(AppError::conflict(
                "invalid_transition",
                Msg::new(
                    "Chỉ bổ sung tệp khi hồ sơ vừa nộp hoặc đang được yêu cầu bổ sung.",
                    "Files can be added only to a new dossier or when a supplement is requested.",
                ),
            ));
        }
        let field = match (&file.field, catalog::national().get(&d.procedure_code)) {
            (Some(name), Some(p)) => Some(documents::document(p, name)?),
            _ => None,
        };
        let kind = documents::check(field, &file.bytes, site_max)?;
        attachments::add_metered(
            conn,
            &tenant,
            &SchemaBlobs,
            d.id,
            &attachments::Upload {
                procedure_code: &d.procedure_code,
                field: file.field.as_deref(),
                given_name: &file.given_name,
                content_type: kind,
                bytes: &file.bytes,
                uploaded_by: &format!("citizen:{citizen}"),
            },
        )
    })
    .await
}

/// Whether the province offers `code` (its switch is on).
pub async fn procedure_enabled(db: &TenantDb, code: String) -> Result<bool, AppError> {
    db.run(move |conn| crate::tenancy::procedures::procedure_enabled(conn, &code))
        .await
}

/// A citizen's verified token, its account not read yet: the id and token version that the
/// account check of [`submit_online`] reads in the province's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitizenSession {
    pub id: CitizenId,
    pub version: i64,
}

/// Files a dossier online for the citizen whose token this is (the API; the pages file their
/// draft). The account check (active, token of the current version: a sign-out, a new password
/// or a deactivation on any replica counts at once) is the first statement of the province's
/// write transaction, which it also enters (`TenantDb::tx_entered_by`): one transaction
/// instead of two. A refused token gets 401 and writes nothing. The submission's contact
/// address is the account's, read there.
pub async fn submit_online(
    app: &super::App,
    db: &TenantDb,
    tenant: std::sync::Arc<Tenant>,
    mail: crate::notify::messages::MailContext,
    session: CitizenSession,
    mut sub: crate::dossiers::submit::Submission,
) -> Result<store::DossierRow, AppError> {
    note_holding_checked(app, session, tenant.id).await?;
    // The province's switch from the site cache (what its pages show), not a read per filing.
    let site = app.registry.sites().get(&tenant.schema, db).await?;
    sub.offered = Some(site.enabled(&sub.procedure_code));
    // The procedure's deciding unit likewise (a round trip less per filing).
    let directory = app.registry.sites().units(&tenant.schema, db).await?;
    sub.unit_mapping = Some(directory.mapped.get(&sub.procedure_code).cloned());
    db.run_entered_by(
        move |conn, entry| {
            crate::accounts::citizens::find_session_entering(
                conn,
                session.id,
                session.version,
                entry,
            )?
            .ok_or_else(AppError::unauthorized)
        },
        move |conn, citizen| {
            sub.contact_email = citizen.email;
            crate::dossiers::submit::submit(conn, &tenant, &mail, &sub)
        },
    )
    .await
}

/// The citizen's own dossiers, newest first.
pub async fn my_dossiers(
    db: &TenantDb,
    citizen: CitizenId,
) -> Result<Vec<store::DossierRow>, AppError> {
    db.run(move |conn| store::list_for_citizen(conn, citizen))
        .await
}

/// One of the citizen's files of their own dossier, with its bytes.
pub async fn download(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
    id: uuid::Uuid,
) -> Result<(AttachmentMeta, Vec<u8>), AppError> {
    db.run(move |conn| {
        let d = store::find_owned(conn, &code, citizen)?;
        let meta = attachments::find(conn, d.id, id)?.ok_or(AppError::NotFound)?;
        let bytes = attachments::BlobStore::get(&SchemaBlobs, conn, meta.blob_id)?;
        Ok((meta, bytes))
    })
    .await
}

/// A citizen's move on their own dossier (withdraw, supplement), with its mail.
pub async fn citizen_move(
    db: &TenantDb,
    cx: crate::payments::MoveContext,
    citizen: CitizenId,
    code: String,
    mv: crate::dossiers::moves::Move,
    lang: Lang,
) -> Result<DossierView, AppError> {
    db.run(move |conn| {
        let d = store::lock_owned(conn, &code, citizen)?;
        let d = crate::dossiers::moves::apply_by_citizen(
            conn,
            &cx.tenant,
            &cx.mail,
            cx.calendar.as_ref(),
            &d,
            &mv,
        )?;
        let events = store::events(conn, d.id)?;
        let files = attachments::list(conn, d.id)?;
        let receipt = FeeReceiptView::current(conn, d.id)?;
        Ok(DossierView::new(d, events, files, lang).with_fee_receipt(receipt))
    })
    .await
}

/// The dossier as its reader sees it, after a move made elsewhere (payment).
pub async fn view(
    db: &TenantDb,
    d: store::DossierRow,
    lang: Lang,
) -> Result<DossierView, AppError> {
    db.run(move |conn| {
        let events = store::events(conn, d.id)?;
        let files = attachments::list(conn, d.id)?;
        let receipt = FeeReceiptView::current(conn, d.id)?;
        Ok(DossierView::new(d, events, files, lang).with_fee_receipt(receipt))
    })
    .await
}

/// Rates the citizen's own finished dossier, once.
pub async fn rate(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
    score: i64,
    comment: Option<String>,
) -> Result<(), AppError> {
    db.run(move |conn| {
        let d = store::lock_owned(conn, &code, citizen)?;
        crate::dossiers::ratings::rate(conn, &d, score, comment.as_deref())
    })
    .await
}

/// An anonymous lookup: a tracking code, the applicant's citizen ID as typed, and the client
/// (its address) asking.
#[derive(Debug, Clone)]
pub struct TrackingLookup {
    pub code: String,
    pub id_number: String,
    pub client: String,
}

/// Tracking without sign-in (the API's GET and POST, the /tracking page): the status and due
/// date when the citizen ID is the applicant's, else 404. When limits are on, failures are
/// counted per code (every client together) and per client in the province's schema (so
/// every replica sees them): past the limit, 429 for that code or client, the right ID
/// included. A wrong ID and an unknown code do the same work, count alike and answer alike,
/// and every answer takes at least `tracking.answer_floor_ms`. A success clears no count.
pub async fn track(
    app: &App,
    db: &TenantDb,
    lookup: TrackingLookup,
) -> Result<crate::dossiers::view::TrackingView, AppError> {
    let started = tokio::time::Instant::now();
    // A dossier moved with its unit to another province (#18) keeps its code, whose prefix
    // names the province it was filed in: the province holding it now answers, on any host.
    let code = lookup.code.clone();
    let moved = app
        .db
        .control_async(move |conn| crate::reorg::moves::holder(conn, &code))
        .await?
        .and_then(|id| app.registry.get(crate::tenancy::TenantId(id)))
        .and_then(|t| app.registry.serving(&t))
        .map(|t| app.db.tenant(t.db_ref()));
    let db = moved.as_ref().unwrap_or(db);
    let settings = &app.settings.tracking;
    let floor = std::time::Duration::from_millis(settings.answer_floor_ms);
    let limits = app
        .settings
        .limits
        .enabled
        .then_some(tracking::FailureLimits {
            per_code: settings.failures_per_code,
            per_client: settings.failures_per_client,
            window_secs: settings.failure_window_secs,
        });
    let found = db
        .run(move |conn| {
            let TrackingLookup {
                code,
                id_number,
                client,
            } = lookup;
            if let Some(l) = &limits {
                tracking::lock_and_check(conn, &code, &client, l)?;
            }
            let row = store::find_by_code(conn, &code)?;
            let stored = row.as_ref().map(|d| d.applicant_id_number.as_str());
            if tracking::id_matches(stored, &id_number) {
                return Ok(row.map(crate::dossiers::view::TrackingView::from));
            }
            if let Some(l) = &limits {
                tracking::record_failure(conn, &code, &client, l)?;
            }
            // Committed: the failure counts.
            Ok(None)
        })
        .await;
    tokio::time::sleep_until(started + floor).await;
    found?.ok_or(AppError::NotFound)
}

/// One of the citizen's own dossiers (404 for anyone else's or an unknown code).
pub async fn mine(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<store::DossierRow, AppError> {
    db.run(move |conn| store::find_owned(conn, &code, citizen))
        .await
}

/// One of the citizen's own dossiers with its history.
pub async fn mine_with_history(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<(store::DossierRow, Vec<store::EventRow>), AppError> {
    db.run(move |conn| {
        let d = store::find_owned(conn, &code, citizen)?;
        let events = store::events(conn, d.id)?;
        Ok((d, events))
    })
    .await
}

/// Everything the owner's dossier page shows.
#[derive(Debug)]
pub struct OwnDossier {
    pub dossier: store::DossierRow,
    pub events: Vec<store::EventRow>,
    pub files: Vec<AttachmentMeta>,
    /// The citizen's score, once rated.
    pub rating: Option<i16>,
    /// The result, once attached.
    pub result: Option<crate::dossiers::results::ResultRow>,
}

/// The citizen's own dossier with its history, files and rating.
pub async fn own_dossier(
    db: &TenantDb,
    citizen: CitizenId,
    code: String,
) -> Result<OwnDossier, AppError> {
    db.run(move |conn| {
        let dossier = store::find_owned(conn, &code, citizen)?;
        let events = store::events(conn, dossier.id)?;
        let files = attachments::list(conn, dossier.id)?;
        let rating = crate::dossiers::ratings::find(conn, dossier.id)?.map(|(score, _)| score);
        Ok(OwnDossier {
            result: crate::dossiers::results::find_for_owner(conn, &dossier)?,
            dossier,
            events,
            files,
            rating,
        })
    })
    .await
}

/// A file the citizen sends with a supplement, already checked (type by content, size),
/// still on disk: read when it is stored, one at a time.
#[derive(Debug)]
pub struct CheckedFile {
    pub file: documents::Received,
    pub content_type: &'static str,
}

/// The `supplement` move with the files added in the same transaction (the page's form:
/// answers and files at once).
pub async fn supplement(
    db: &TenantDb,
    cx: crate::payments::MoveContext,
    citizen: CitizenId,
    code: String,
    files: Vec<CheckedFile>,
    answers: serde_json::Map<String, serde_json::Value>,
) -> Result<(), AppError> {
    db.run(move |conn| {
        let by = format!("citizen:{citizen}");
        let d = store::lock_owned(conn, &code, citizen)?;
        for f in &files {
            let bytes = f.file.bytes()?;
            attachments::add_metered(
                conn,
                &cx.tenant,
                &SchemaBlobs,
                d.id,
                &attachments::Upload {
                    procedure_code: &d.procedure_code,
                    field: Some(&f.file.field),
                    given_name: &f.file.given_name,
                    content_type: f.content_type,
                    bytes: &bytes,
                    uploaded_by: &by,
                },
            )?;
        }
        let mut mv = crate::dossiers::moves::Move::new(
            crate::dossiers::status::Action::Supplement,
            crate::dossiers::status::Actor::Citizen,
            by,
        );
        mv.answers = Some(answers);
        crate::dossiers::moves::apply_by_citizen(
            conn,
            &cx.tenant,
            &cx.mail,
            cx.calendar.as_ref(),
            &d,
            &mv,
        )
        .map(|_| ())
    })
    .await
}

/// Notes, before a dossier of the account is filed in the province, that the province holds
/// dossiers of the account (the national "my dossiers" asks only such provinces). Before, not
/// after: a failed filing leaves a harmless row; a lost row would hide a dossier.
pub async fn note_holding(
    app: &super::App,
    citizen: crate::ids::CitizenId,
    tenant: crate::ids::TenantId,
) -> Result<(), AppError> {
    if app.holdings_seen.contains(citizen, tenant) {
        return Ok(());
    }
    app.db
        .control_async(move |conn| crate::frontdoor::holdings::record(conn, citizen, tenant))
        .await?;
    app.holdings_seen.insert(citizen, tenant);
    Ok(())
}

/// [`note_holding`] for a token whose account has not been read yet: when the holding must be
/// written, its transaction first checks the account as the province's transaction will, so a
/// refused token writes nothing (401). Once the holding is seen, nothing is read here.
async fn note_holding_checked(
    app: &super::App,
    session: CitizenSession,
    tenant: crate::ids::TenantId,
) -> Result<(), AppError> {
    if app.holdings_seen.contains(session.id, tenant) {
        return Ok(());
    }
    app.db
        .control_async(move |conn| {
            crate::accounts::citizens::find_session(conn, session.id, session.version)?
                .ok_or_else(AppError::unauthorized)?;
            crate::frontdoor::holdings::record(conn, session.id, tenant)
        })
        .await?;
    app.holdings_seen.insert(session.id, tenant);
    Ok(())
}

/// One of the citizen's dossiers that a reorganisation moved with its unit from this province
/// to another (#18): it is no longer here, and the old site points to where it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedAway {
    pub code: String,
    pub province: std::sync::Arc<crate::tenancy::Tenant>,
    pub moved_on: chrono::NaiveDate,
}

/// The citizen's dossiers filed in `here` (its prefix, or a province merged into it) that
/// were moved to another province, as that province holds them (the citizen's own only).
pub async fn moved_away(
    app: &App,
    here: &crate::tenancy::Tenant,
    citizen: CitizenId,
) -> Result<Vec<MovedAway>, AppError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        tracking_code: String,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        tenant_id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Date)]
        moved_on: chrono::NaiveDate,
    }
    let id = here.id.0;
    let rows: Vec<Row> = app
        .db
        .control_async(move |conn| {
            use diesel::RunQueryDsl;
            // Only provinces that hold some dossier of the citizen's: one indexed read each.
            Ok(diesel::sql_query(
                "SELECT m.tracking_code, m.tenant_id, m.moved_on FROM public.moved_dossiers m \
                 WHERE m.tenant_id IN (SELECT tenant_id FROM identity.citizen_provinces \
                                       WHERE citizen_id = $2 AND tenant_id <> $1) \
                   AND split_part(m.tracking_code, '-', 1) IN \
                       (SELECT code FROM public.tenants WHERE id = $1 OR successor_id = $1)",
            )
            .bind::<diesel::sql_types::Uuid, _>(id)
            .bind::<diesel::sql_types::Uuid, _>(citizen.0)
            .load(conn)?)
        })
        .await?;
    let mut by_holder: std::collections::BTreeMap<uuid::Uuid, Vec<(String, chrono::NaiveDate)>> =
        Default::default();
    for r in rows {
        by_holder
            .entry(r.tenant_id)
            .or_default()
            .push((r.tracking_code, r.moved_on));
    }
    let mut out = Vec::new();
    for (holder, codes) in by_holder {
        let Some(t) = app
            .registry
            .get(crate::tenancy::TenantId(holder))
            .and_then(|t| app.registry.serving(&t))
        else {
            continue;
        };
        let wanted: Vec<String> = codes.iter().map(|(c, _)| c.clone()).collect();
        // The holder says which of them are the citizen's.
        let own: Vec<String> = app
            .db
            .tenant(t.db_ref())
            .run(move |conn| {
                use crate::db::schema::dossiers;
                use diesel::prelude::*;
                Ok(dossiers::table
                    .filter(dossiers::tracking_code.eq_any(&wanted))
                    .filter(dossiers::citizen_id.eq(citizen.0))
                    .select(dossiers::tracking_code)
                    .load::<String>(conn)?)
            })
            .await?;
        for (code, moved_on) in codes {
            if own.contains(&code) {
                out.push(MovedAway {
                    code,
                    province: t.clone(),
                    moved_on,
                });
            }
        }
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}
