//! PostgreSQL away in the middle of a write load, as the app sees a restart: through a proxy
//! the test cuts (every connection dropped, new ones refused) and restores.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::app::provisioning::provision;
use portal::db::Db;
use portal::tenancy::provision::NewTenant;
use secrecy::SecretString;

use super::proxy::PgProxy;
use super::{
    Log, Outcome, Worker, assert_no_committed_dossier_lost, check_every_dossier_is_whole,
    lift_rate_limits, load_client, statuses,
};
use crate::helpers::{TestApp, TestDb, server_url, test_settings};
use crate::mail_sink::MailSink;

/// `postgres://user@host:port` → (`user@`, `host:port`).
fn split_server_url(url: &str) -> (String, String) {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .expect("TEST_PG_URL starts with postgres://");
    let rest = rest.split('/').next().unwrap();
    match rest.rsplit_once('@') {
        Some((user, addr)) => (format!("{user}@"), addr.to_string()),
        None => (String::new(), rest.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_away_mid_write_load_answers_503_then_recovers_losing_no_dossier() {
    let db = TestDb::create();
    let (user, addr) = split_server_url(&server_url());
    let upstream = tokio::net::lookup_host(&addr)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = PgProxy::start(upstream).await;
    lift_rate_limits(&mut PgConnection::establish(&db.url).unwrap());
    // The app knows PostgreSQL only through the proxy: pool, registry listener, mail worker.
    let sink = MailSink::start().await;
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = SecretString::from(sink.url());
    let through_proxy = format!(
        "postgres://{user}127.0.0.1:{}/{}?sslmode=disable",
        proxy.port, db.name
    );
    settings.database.url = SecretString::from(through_proxy);
    // A request waits this long for a connection while PostgreSQL is away, then gets 503.
    settings.database.acquire_timeout_ms = 500;
    settings.database.pool_size = 8;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_tenant("hue", "Huế").await;

    let log = Log::default();
    let stop = Arc::new(AtomicBool::new(false));
    let client = load_client();
    let mut workers = Vec::new();
    for slug in ["ha-noi", "hue"] {
        let host = format!("{slug}.localhost");
        let token = app
            .citizen_token(&host, &format!("load-{slug}@example.vn"))
            .await;
        for _ in 0..4 {
            let w = Worker {
                client: client.clone(),
                base: app.url(""),
                host: host.clone(),
                token: token.clone(),
                submit: true,
            };
            workers.push(w.spawn(log.clone(), stop.clone()));
        }
    }
    let created = |o: &[Outcome]| o.iter().filter(|o| o.status == Some(201)).count();
    log.wait_until(60, "20 dossiers before the fault", |o| created(o) >= 20)
        .await;

    // PostgreSQL goes away.
    let cut_at = Instant::now();
    proxy.cut().await;
    let during = |o: &Outcome| o.sent > cut_at;
    log.wait_until(30, "503s while PostgreSQL is away", |o| {
        o.iter()
            .filter(|o| during(o) && o.status == Some(503))
            .count()
            >= 20
    })
    .await;
    let ready = app.get("localhost", "/readyz").await;
    assert_eq!(ready.status(), 503, "not ready while PostgreSQL is away");
    assert_eq!(app.get("localhost", "/healthz").await.status(), 200);

    // It comes back: ready and filing again within seconds.
    let restored_at = Instant::now();
    proxy.restore().await;
    let deadline = restored_at + Duration::from_secs(30);
    while app.get("localhost", "/readyz").await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready 30 s after PostgreSQL returned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready_after = restored_at.elapsed();
    let after = |o: &Outcome| o.sent > restored_at;
    log.wait_until(30, "a 201 after PostgreSQL returned", |o| {
        o.iter().any(|o| after(o) && o.status == Some(201))
    })
    .await;
    let first_ok = log
        .all()
        .into_iter()
        .filter(|o| after(o) && o.status == Some(201))
        .map(|o| o.done)
        .min()
        .unwrap();
    // Keep the load on a while longer: every request from then on succeeds.
    log.wait_until(60, "20 more dossiers after recovery", |o| {
        o.iter()
            .filter(|o| o.sent > first_ok && o.status == Some(201))
            .count()
            >= 20
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    let outcomes = log.all();
    println!(
        "PostgreSQL away {:.1} s; statuses {:?}; ready {:.2} s and first 201 {:.2} s after its return",
        (restored_at - cut_at).as_secs_f64(),
        statuses(&outcomes),
        ready_after.as_secs_f64(),
        (first_ok - restored_at).as_secs_f64()
    );
    // Every request got an answer: 201, or 503 in the contract's envelope with Retry-After.
    for o in &outcomes {
        match o.status {
            Some(201) => {}
            Some(503) => {
                assert_eq!(o.code.as_deref(), Some("unavailable"), "{o:?}");
                assert!(o.retry_after, "503 without Retry-After: {o:?}");
            }
            _ => panic!("neither 201 nor 503: {o:?}"),
        }
    }
    // Before the fault and after recovery, nothing but 201.
    for o in outcomes
        .iter()
        .filter(|o| o.done < cut_at || o.sent > first_ok)
    {
        assert_eq!(o.status, Some(201), "outside the fault: {o:?}");
    }
    let mut conn = PgConnection::establish(&app.db.url).unwrap();
    let stored = check_every_dossier_is_whole(&mut conn);
    assert_no_committed_dossier_lost(&outcomes, &stored);
    let answered = outcomes.iter().filter(|o| o.status == Some(201)).count();
    // A commit whose answer was cut off is stored without a 201 (the client got a 503).
    assert!(stored.tracking_codes.len() >= answered);
    println!(
        "dossiers answered 201: {answered}; stored: {} (committed, answer lost: {})",
        stored.tracking_codes.len(),
        stored.tracking_codes.len() - answered
    );

    // The registry's LISTEN connection is back: a province made elsewhere (another replica,
    // psql) is served here without a restart.
    let direct = Db::new(&test_settings(&app.db.url).database);
    tokio::task::spawn_blocking(move || {
        let new = NewTenant::parse("da-nang", "Đà Nẵng", "standard", &[], "localhost").unwrap();
        provision(&direct, &new, "test").unwrap();
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .get("da-nang.localhost", "/api/v1/procedures")
        .await
        .status()
        != 200
    {
        assert!(
            Instant::now() < deadline,
            "a new province unknown 30 s later: the registry listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The mail worker is back: every mail goes out, each exactly once. Those it had handed to
    // the mail server when the connection went are marked sent when PostgreSQL returns (not
    // sent again when their claim lapses); those claimed but not tried are given back. Only a
    // claim whose commit was cut off may wait out its 120 s (such mails were never sent).
    let settled = |conn: &mut PgConnection| {
        let rows = outbox_rows(conn);
        let mut sent: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r.sent)
            .map(|r| (r.to_email.clone(), squeeze(&r.subject)))
            .collect();
        let claimed = rows.iter().filter(|r| !r.sent && r.claimed).count();
        let mut delivered: Vec<(String, String)> = sink
            .received()
            .into_iter()
            .map(|m| (m.to, squeeze(&m.subject)))
            .collect();
        sent.sort();
        delivered.sort();
        let done = sent.len() + claimed == rows.len() && delivered == sent;
        (done, rows.len(), sent.len(), claimed, delivered.len())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (done, rows, sent, claimed, delivered) = settled(&mut conn);
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "30 s after recovery: {rows} mails, {sent} marked sent, {claimed} claimed, \
             {delivered} delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A second delivery would show up now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (done, rows, sent, claimed, delivered) = settled(&mut conn);
    assert!(
        done,
        "{rows} mails, {sent} marked sent, {claimed} claimed, {delivered} delivered"
    );
    assert!(claimed <= 40, "{claimed} mails still claimed");
    println!(
        "mails: {sent} of {rows} delivered once each and marked sent within seconds of the \
         return; {claimed} under a claim cut at its commit"
    );
}

#[derive(QueryableByName)]
struct MailRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    to_email: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    sent: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    claimed: bool,
}

fn outbox_rows(conn: &mut PgConnection) -> Vec<MailRow> {
    diesel::sql_query(
        "SELECT to_email, subject, sent_at IS NOT NULL AS sent, \
                coalesce(claimed_until > now(), false) AS claimed FROM t_ha_noi.outbox \
         UNION ALL SELECT to_email, subject, sent_at IS NOT NULL, \
                coalesce(claimed_until > now(), false) FROM t_hue.outbox",
    )
    .load(conn)
    .unwrap()
}

/// Subjects compared without spaces: the sink's header decoding may drop one next to an
/// encoded word.
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect()
}

/// #24 Low: the registry listener's connection stalls (open, silent: no error, no
/// notification). A province suspended meanwhile must stop being served within the
/// registry's reload interval, not after the listener's old 60 s full reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_listener_connection_leaves_a_suspension_unseen_for_seconds_at_most() {
    let db = TestDb::create();
    let (user, addr) = split_server_url(&server_url());
    let upstream = tokio::net::lookup_host(&addr)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = PgProxy::start(upstream).await;
    let mut settings = test_settings(&db.url);
    // Only the sessions of our own (LISTEN) go through the proxy; the pool goes direct.
    settings.database.direct_url = SecretString::from(format!(
        "postgres://{user}127.0.0.1:{}/{}?sslmode=disable",
        proxy.port, db.name
    ));
    settings.database.registry_reload_ms = 500;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    assert_eq!(
        app.get("ha-noi.localhost", "/api/v1/site").await.status(),
        200
    );
    // Let the listener connect and settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.stall();
    diesel::sql_query("UPDATE public.tenants SET status = 'suspended' WHERE slug = 'ha-noi'")
        .execute(&mut app.raw_connection())
        .unwrap();
    let started = Instant::now();
    let mut status = 200;
    while started.elapsed() < Duration::from_secs(3) {
        status = app
            .get("ha-noi.localhost", "/api/v1/site")
            .await
            .status()
            .as_u16();
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    proxy.unstall();
    assert_eq!(
        status,
        503,
        "still served {:?} after its suspension, the listener stalled",
        started.elapsed()
    );
}
