//! The mail server away for a while: mail waits in the outbox (attempts recorded), then every
//! mail arrives exactly once and is counted once.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Integer, Text};
use portal::accounts::staff::StaffRole;

use super::count;
use crate::helpers::{TestApp, TestDb, test_settings};
use crate::mail_sink::MailSink;

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    to_email: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    sent: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    last_error: Option<String>,
}

fn outbox(conn: &mut PgConnection) -> Vec<Row> {
    let mut rows = Vec::new();
    for schema in ["t_ha_noi", "t_hue"] {
        rows.extend(
            sql_query(format!(
                "SELECT to_email, subject, attempts, sent_at IS NOT NULL AS sent, last_error \
                 FROM {schema}.outbox"
            ))
            .load::<Row>(conn)
            .unwrap(),
        );
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_away_keeps_mail_in_the_outbox_then_delivers_each_exactly_once() {
    let mut sink = MailSink::start().await;
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_tenant("hue", "Huế").await;
    sink.stop().await;

    // While the mail server is away: dossiers in two provinces, and staff accepting some of
    // them (each move mails the citizen again).
    let mut expected = 0;
    for slug in ["ha-noi", "hue"] {
        let host = format!("{slug}.localhost");
        let token = app
            .citizen_token(&host, &format!("mail-{slug}@example.vn"))
            .await;
        let staff = app
            .staff_token(slug, &format!("staff@{slug}.vn"), StaffRole::Official)
            .await;
        for n in 0..8 {
            let code = app.submit_licence_renewal(&host, &token).await;
            expected += 1;
            if n % 2 == 0 {
                // Its required documents first (uploads send no mail).
                app.attach_licence_documents(&host, &token, &code).await;
                let res = app
                    .act(
                        &host,
                        &staff,
                        &code,
                        serde_json::json!({"action": "accept"}),
                    )
                    .await;
                assert_eq!(res.status(), 200);
                expected += 1;
            }
        }
    }

    // Every mail is tried, fails, and waits with its attempts and error recorded.
    let mut conn = app.raw_connection();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = outbox(&mut conn);
        assert_eq!(rows.len(), expected);
        assert!(
            rows.iter().all(|r| !r.sent),
            "nothing can be sent: {rows:?}"
        );
        if rows.iter().all(|r| r.attempts >= 2) {
            assert!(
                rows.iter()
                    .all(|r| r.last_error.as_deref().unwrap_or("").starts_with("smtp")),
                "{rows:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every mail tried twice in 30 s: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sink.received().is_empty());
    let attempts_while_away: i32 = outbox(&mut conn).iter().map(|r| r.attempts).sum();

    // The mail server returns: everything arrives, each once.
    sink.restart().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = outbox(&mut conn);
        if rows.iter().all(|r| r.sent) && sink.received().len() >= rows.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} sent, {} received",
            rows.iter().filter(|r| r.sent).count(),
            rows.len(),
            sink.received().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second delivery would show up now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let mut queued: Vec<(String, String)> = outbox(&mut conn)
        .into_iter()
        .map(|r| (r.to_email, squeeze(&r.subject)))
        .collect();
    let mut delivered: Vec<(String, String)> = sink
        .received()
        .into_iter()
        .map(|m| (m.to, squeeze(&m.subject)))
        .collect();
    queued.sort();
    delivered.sort();
    assert_eq!(delivered, queued, "each queued mail delivered exactly once");
    // Counted once each, as sent mail.
    assert_eq!(
        count(
            &mut conn,
            "SELECT coalesce(sum(quantity), 0)::int8 AS n FROM public.usage_period \
             WHERE metric = 'emails'"
        ),
        expected as i64
    );
    println!(
        "{expected} mails queued while SMTP was away ({attempts_while_away} failed attempts \
         recorded); all delivered once after it returned"
    );
}
