//! Mail over a real SMTP conversation, through the outbox: nothing lost, nothing twice.

use crate::helpers::{TestApp, TestDb, test_settings};
use crate::mail_sink::MailSink;

async fn app_with_sink(sink: &MailSink) -> TestApp {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    TestApp::spawn_with(db, settings).await
}

#[tokio::test]
async fn the_received_mail_arrives_over_smtp_in_the_citizens_language() {
    let sink = MailSink::start().await;
    let app = app_with_sink(&sink).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let token = app
        .citizen_token("ha-noi.localhost", "mail@example.vn")
        .await;
    let code = app.submit_licence_renewal("ha-noi.localhost", &token).await;
    let mails = sink.wait_for(1, 10).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.to, "mail@example.vn");
    assert!(m.subject.contains(&code), "{}", m.subject);
    assert!(m.subject.contains("Đã nhận hồ sơ"), "{}", m.subject);
    assert!(m.body.contains("Đổi giấy phép lái xe"), "{}", m.body);
    assert!(m.body.contains(&format!("/dossiers/{code}")), "{}", m.body);

    // English when the citizen applied in English; a status change mails again.
    let res = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("Host", "ha-noi.localhost")
        .header("Accept-Language", "en")
        .bearer_auth(&token)
        .json(&crate::helpers::licence_renewal())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let en_code = res.json::<serde_json::Value>().await.unwrap()["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_json(
        "ha-noi.localhost",
        &format!("/api/v1/dossiers/{en_code}/withdraw"),
        Some(&token),
        &serde_json::json!({}),
    )
    .await;
    let mails = sink.wait_for(3, 10).await;
    assert_eq!(mails.len(), 3);
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("received") && m.body.contains("Renew a driving licence"))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains(&en_code) && m.body.contains("Withdrawn"))
    );
}

#[tokio::test]
async fn with_the_mail_server_down_mail_waits_then_arrives_exactly_once() {
    let mut sink = MailSink::start().await;
    let app = app_with_sink(&sink).await;
    app.create_tenant("hue", "Thành phố Huế").await;
    sink.stop().await;
    let token = app.citizen_token("hue.localhost", "wait@example.vn").await;
    let code = app.submit_licence_renewal("hue.localhost", &token).await;
    // The worker tries, fails and backs off; the mail stays in the outbox.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(sink.received().is_empty());
    let t = app.state.registry.by_slug("hue").unwrap();
    let door = app.database().tenant(t.db_ref());
    let (pending, attempts) = tokio::task::spawn_blocking(move || {
        door.tx(|conn| {
            use diesel::prelude::*;
            use portal::db::schema::outbox;
            Ok(outbox::table
                .filter(outbox::sent_at.is_null())
                .select((
                    diesel::dsl::count_star(),
                    diesel::dsl::max(outbox::attempts),
                ))
                .first::<(i64, Option<i32>)>(conn)?)
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(pending, 1);
    assert!(attempts.unwrap_or(0) >= 1, "the worker tried");

    sink.restart().await;
    let mails = sink.wait_for(1, 15).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains(&code));
    // And never again.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1);
}
