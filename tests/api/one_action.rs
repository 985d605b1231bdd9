//! Issue #10 (the seam): an action offered on several surfaces (API, console, CLI, job) is
//! one `app::` function, so each surface writes the same audit row.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;

use crate::browser::Browser;
use crate::helpers::{OPERATOR_EMAIL, TestApp};

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    target: String,
}

fn audit(app: &TestApp, like: &str) -> Vec<Row> {
    sql_query("SELECT actor, action, target FROM public.audit_log WHERE action LIKE $1 ORDER BY id")
        .bind::<Text, _>(like)
        .load(&mut app.raw_connection())
        .unwrap()
}

/// `portal ARGS` as `$USER=ops-oncall`, which must succeed.
fn portal_cli(db_url: &str, args: &[&str]) {
    let (code, _, err) = crate::app_operator::portal_cli(db_url, args);
    assert_eq!(code, 0, "{args:?}: {err}");
}

#[tokio::test]
async fn suspending_and_resuming_a_province_is_audited_with_one_verb_from_every_surface() {
    let app = TestApp::spawn().await;
    for (slug, name) in [
        ("api-tinh", "Tỉnh API"),
        ("trang-tinh", "Tỉnh Trang"),
        ("cli-tinh", "Tỉnh CLI"),
    ] {
        app.create_tenant(slug, name).await;
    }
    let op = app.operator_token().await;

    // The API.
    for verb in ["suspend", "resume"] {
        let res = app
            .post_json(
                "ops.localhost",
                &format!("/api/v1/tenants/api-tinh/{verb}"),
                Some(&op),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    // The console.
    let mut ops = Browser::operator_console(&app).await;
    for status in ["suspended", "active"] {
        let page = ops.get("/tenants/trang-tinh").await;
        let csrf = ops.csrf(&page);
        let res = ops
            .post(
                "/tenants/trang-tinh/status",
                &[("csrf", &csrf), ("status", status)],
            )
            .await;
        assert_eq!(res.status, 303);
    }
    // The command line.
    let cli = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        portal_cli(&cli, &["tenant", "suspend", "cli-tinh"]);
        portal_cli(&cli, &["tenant", "resume", "cli-tinh"]);
    })
    .await
    .unwrap();

    let rows = audit(&app, "tenant.%");
    let of = |slug: &str| -> Vec<(&str, &str)> {
        rows.iter()
            .filter(|r| r.target == slug && r.action != "tenant.create")
            .map(|r| (r.actor.as_str(), r.action.as_str()))
            .collect()
    };
    let operator = format!("operator:{OPERATOR_EMAIL}");
    assert_eq!(
        of("api-tinh"),
        [
            (operator.as_str(), "tenant.suspend"),
            (operator.as_str(), "tenant.resume")
        ]
    );
    assert_eq!(
        of("trang-tinh"),
        [
            (operator.as_str(), "tenant.suspend"),
            (operator.as_str(), "tenant.resume")
        ]
    );
    assert_eq!(
        of("cli-tinh"),
        [
            ("cli:ops-oncall", "tenant.suspend"),
            ("cli:ops-oncall", "tenant.resume")
        ]
    );
}

#[tokio::test]
async fn a_billing_close_is_audited_from_the_api_the_cli_and_the_monthly_job() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    // Leased for long enough that three past months can be closed.
    let mut conn = app.raw_connection();
    sql_query("UPDATE public.leases SET starts_on = starts_on - 120")
        .execute(&mut conn)
        .unwrap();
    let this = portal::period::Period::of(portal::clock::today_vn());
    let (p1, p2, p3) = (this.prev().prev().prev(), this.prev().prev(), this.prev());

    let op = app.operator_token().await;
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": p1.to_string()}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let cli = app.db.url.clone();
    let p2s = p2.to_string();
    tokio::task::spawn_blocking(move || {
        portal_cli(&cli, &["billing", "close", "--period", &p2s]);
    })
    .await
    .unwrap();
    // The job closes the previous month on the 1st (called with that day, as it would be).
    let db = app.database().clone();
    let first = this.first_day().and_hms_opt(3, 0, 0).unwrap().and_utc();
    let made = tokio::task::spawn_blocking(move || portal::jobs::billing::close_due(&db, 6, first))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(made, Some(1));

    let rows = audit(&app, "billing.%");
    let got: Vec<(&str, &str, String)> = rows
        .iter()
        .map(|r| (r.actor.as_str(), r.action.as_str(), r.target.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                format!("operator:{OPERATOR_EMAIL}").as_str(),
                "billing.close",
                p1.to_string()
            ),
            ("cli:ops-oncall", "billing.close", p2.to_string()),
            ("job:billing-close", "billing.close", p3.to_string()),
        ]
    );
}
