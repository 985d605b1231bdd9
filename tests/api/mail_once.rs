//! Each mail leaves once (#24 finding 2): a timeout after the server took the mail is one
//! attempt of a bounded number, every attempt with the same Message-ID; a claim that lapsed
//! while its worker was still sending is not sent by a second worker too; attempts end in a
//! failed row an operator sees; and `jobs.enabled = false` runs no mail worker.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use portal::startup::Application;

use crate::helpers::{METRICS_TOKEN, TestApp, TestDb, test_settings};
use crate::mail_sink::MailSink;

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Bool)]
    sent: bool,
    #[diesel(sql_type = Bool)]
    failed: bool,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

fn rows(conn: &mut PgConnection) -> Vec<Row> {
    sql_query(
        "SELECT subject, attempts, sent_at IS NOT NULL AS sent, \
                (sent_at IS NULL AND next_attempt_at = 'infinity') AS failed, last_error \
         FROM t_ha_noi.outbox ORDER BY id",
    )
    .load(conn)
    .unwrap()
}

/// Queues `n` mails in Hà Nội's outbox (subjects `mail-0`…) and wakes the workers.
fn queue(conn: &mut PgConnection, tenant: &portal::tenancy::Tenant, n: usize) {
    for i in 0..n {
        sql_query(
            "INSERT INTO t_ha_noi.outbox (kind, to_email, subject, body) \
             VALUES ('test', 'dan@example.vn', $1, 'xin chào')",
        )
        .bind::<Text, _>(format!("mail-{i}"))
        .execute(conn)
        .unwrap();
    }
    sql_query("SELECT pg_notify('portal_outbox', $1)")
        .bind::<Text, _>(tenant.id.to_string())
        .execute(conn)
        .unwrap();
}

async fn wait_until(secs: f64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_after_the_server_took_the_mail_is_retried_a_bounded_number_of_times_with_one_message_id()
 {
    let sink = MailSink::start().await;
    // The server keeps each mail, then answers after the client gave up.
    sink.delay_final_reply(Duration::from_millis(700));
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    settings.mail.smtp_timeout_ms = 300;
    settings.mail.claim_ms = 2000;
    settings.mail.retry_base_ms = 100;
    settings.mail.max_attempts = 3;
    let app = TestApp::spawn_with(db, settings).await;
    let tenant = app.create_tenant("ha-noi", "Hà Nội").await;
    let mut conn = app.raw_connection();
    queue(&mut conn, &tenant, 1);

    wait_until(3.5, || rows(&mut conn)[0].failed).await;
    // A little longer: no fourth attempt comes.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let row = &rows(&mut conn)[0];
    let got = sink.received();
    assert_eq!(row.subject, "mail-0");
    assert!(
        row.failed && row.attempts == 3 && !row.sent,
        "the mail is marked failed after 3 attempts: {row:?}"
    );
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or("")
            .contains("3 attempts"),
        "{row:?}"
    );
    assert!(
        !got.is_empty() && got.len() <= 3,
        "at most 3 copies reached the server, got {}",
        got.len()
    );
    let ids: std::collections::BTreeSet<&str> = got.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 1, "one Message-ID for every attempt: {ids:?}");
    let id = ids.into_iter().next().unwrap();
    assert!(
        id.starts_with('<') && id.contains(&tenant.id.to_string()),
        "{id}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_that_lapses_while_its_worker_still_sends_is_not_sent_by_a_second_worker() {
    let sink = MailSink::start().await;
    // Each mail takes ~250 ms: the first worker claims all eight and sends them one by one.
    sink.delay_final_reply(Duration::from_millis(250));
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    let app = TestApp::spawn_with(db, settings.clone()).await;
    // A second replica on the same database, idle: its own mail worker.
    let second = Application::build(settings).expect("second replica");
    let second_state = second.state();
    tokio::spawn(second.run_until_stopped());
    let tenant = app.create_tenant("ha-noi", "Hà Nội").await;
    second_reload(&second_state);
    let mut conn = app.raw_connection();
    queue(&mut conn, &tenant, 8);

    // While the first mail is on the wire, the claim on the others lapses, as a 120 s claim
    // did on a slow batch (the clock jumps: claimed_until is moved into the past).
    wait_until(3.0, || !sink.received().is_empty()).await;
    sql_query(
        "UPDATE t_ha_noi.outbox SET claimed_until = now() - interval '1 second' \
         WHERE sent_at IS NULL AND subject NOT IN ('mail-0', 'mail-1')",
    )
    .execute(&mut conn)
    .unwrap();

    wait_until(6.0, || rows(&mut conn).iter().all(|r| r.sent)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for m in sink.received() {
        *copies.entry(m.subject).or_default() += 1;
    }
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "sent more than once: {twice:?} (all: {copies:?})"
    );
    assert_eq!(copies.len(), 8, "{copies:?}");
}

fn second_reload(state: &std::sync::Arc<portal::web::AppState>) {
    state.registry.reload().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_the_server_refuses_is_tried_a_bounded_number_of_times_with_backoff_then_marked_failed()
 {
    let mut sink = MailSink::start().await;
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    settings.mail.smtp_timeout_ms = 500;
    settings.mail.claim_ms = 2000;
    settings.mail.retry_base_ms = 150;
    settings.mail.max_attempts = 3;
    let app = TestApp::spawn_with(db, settings).await;
    let tenant = app.create_tenant("ha-noi", "Hà Nội").await;
    sink.stop().await;
    let mut conn = app.raw_connection();
    let started = Instant::now();
    queue(&mut conn, &tenant, 1);
    wait_until(3.0, || rows(&mut conn)[0].failed).await;
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let row = &rows(&mut conn)[0];
    assert!(row.failed && row.attempts == 3, "{row:?}");
    // Two waits between three attempts: 150 ms, then 300 ms.
    assert!(
        took >= Duration::from_millis(450),
        "backoff: all done in {took:?}"
    );
    // The operator sees it.
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("Host", "ops.localhost")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.lines().any(|l| l == "portal_outbox_failed 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_jobs_disabled_a_replica_runs_no_mail_worker() {
    let sink = MailSink::start().await;
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    settings.jobs.enabled = false;
    settings.jobs.mail_worker = None;
    let app = TestApp::spawn_with(db, settings).await;
    let tenant = app.create_tenant("ha-noi", "Hà Nội").await;
    let mut conn = app.raw_connection();
    queue(&mut conn, &tenant, 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        sink.received().is_empty(),
        "a mail left a replica without jobs"
    );
    let row = &rows(&mut conn)[0];
    assert!(!row.sent && row.attempts == 0, "{row:?}");
}
