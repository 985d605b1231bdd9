//! Issue #10 on the operator's and the national site's actions: each is one `app::` function,
//! so every surface that offers it (API, console, national form, CLI) gets the same outcome
//! and writes the same audit row.

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;
use serde_json::json;

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
    #[diesel(sql_type = Text)]
    details: String,
}

/// The audit rows on `target`, oldest first, as `(actor, action, details)`.
fn audit_of(app: &TestApp, target: &str) -> Vec<(String, String, serde_json::Value)> {
    let rows: Vec<Row> = sql_query(
        "SELECT actor, action, target, details::text AS details FROM public.audit_log \
         WHERE target = $1 ORDER BY id",
    )
    .bind::<Text, _>(target)
    .load(&mut app.raw_connection())
    .unwrap();
    rows.into_iter()
        .map(|r| {
            assert_eq!(r.target, target);
            (r.actor, r.action, serde_json::from_str(&r.details).unwrap())
        })
        .collect()
}

/// Runs `portal ARGS` as `$USER=ops-oncall`; returns (exit code, stdout, stderr).
pub(crate) fn portal_cli(db_url: &str, args: &[&str]) -> (i32, String, String) {
    crate::helpers::portal_cli_with(db_url, &[("USER", "ops-oncall")], args)
}

async fn cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let url = app.db.url.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        portal_cli(&url, &args)
    })
    .await
    .unwrap()
}

/// The operator signed in on the console (the account exists already).
async fn console(app: &TestApp) -> Browser<'_> {
    Browser::operator_console(app).await
}

fn operator() -> String {
    format!("operator:{OPERATOR_EMAIL}")
}

#[tokio::test]
async fn creating_a_province_from_the_api_and_the_cli_validates_and_audits_alike() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;

    // A bad admin email is refused by both, with the slug's error reported beside it.
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&op),
            &json!({"slug": "Bad Slug", "name": "Tỉnh", "plan": "basic", "admin_email": "nope"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    let fields = &body["error"]["fields"];
    assert!(
        fields["slug"].is_string() && fields["admin_email"].is_string(),
        "{body}"
    );
    let (code, _, err) = cli(
        &app,
        &[
            "tenant",
            "create",
            "Bad Slug",
            "--name",
            "Tỉnh",
            "--admin-email",
            "nope",
        ],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("slug") && err.contains("admin_email"), "{err}");

    // Created from each surface, with its first admin named.
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/tenants",
            Some(&op),
            &json!({"slug": "api-tinh", "name": "Tỉnh API", "plan": "basic",
                    "admin_email": "Admin@API-Tinh.gov.vn"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (code, out, err) = cli(
        &app,
        &[
            "tenant",
            "create",
            "cli-tinh",
            "--name",
            "Tỉnh CLI",
            "--plan",
            "basic",
            "--admin-email",
            "Admin@CLI-Tinh.gov.vn",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created cli-tinh"), "{out}");

    // The same outcome: active on the plan asked for, served here at once.
    for slug in ["api-tinh", "cli-tinh"] {
        let res = app
            .get_with_token("ops.localhost", &format!("/api/v1/tenants/{slug}"), &op)
            .await;
        let t: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            (t["status"].as_str(), t["plan"].as_str()),
            (Some("active"), Some("basic"))
        );
    }
    // (The CLI ran in another process: this replica learns of it on the next reload.)
    app.state.registry.reload().unwrap();
    for slug in ["api-tinh", "cli-tinh"] {
        assert_eq!(
            app.get(&format!("{slug}.localhost"), "/api/v1/procedures")
                .await
                .status(),
            200
        );
    }

    // The same audit rows, the actor aside.
    let verbs = |slug: &str, actor: &str| {
        let rows = audit_of(&app, slug);
        assert!(rows.iter().all(|r| r.0 == actor), "{rows:?}");
        rows.into_iter()
            .map(|(_, action, details)| (action, details["admin_email"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        verbs("api-tinh", &operator()),
        [
            ("tenant.create".to_string(), serde_json::Value::Null),
            (
                "tenant.admin_requested".to_string(),
                json!("admin@api-tinh.gov.vn")
            ),
        ]
    );
    assert_eq!(
        verbs("cli-tinh", "cli:ops-oncall"),
        [
            ("tenant.create".to_string(), serde_json::Value::Null),
            (
                "tenant.admin_requested".to_string(),
                json!("admin@cli-tinh.gov.vn")
            ),
        ]
    );
}

/// Files a subscription request through the national API or the national form.
async fn request(app: &TestApp, via_form: bool, name: &str, slug: &str) -> u16 {
    let email = format!("lien-he@{}.gov.vn", slug.trim().replace(' ', "-"));
    if !via_form {
        let res = app
            .post_json(
                "localhost",
                "/api/v1/subscriptions",
                None,
                &json!({"province_name": name, "slug": slug, "contact_email": email, "plan": "basic"}),
            )
            .await;
        return res.status().as_u16();
    }
    let mut public = Browser::new(app, "localhost");
    let page = public.get("/subscribe").await;
    let csrf = public.csrf(&page);
    public
        .post(
            "/subscribe",
            &[
                ("csrf", &csrf),
                ("province_name", name),
                ("slug", slug),
                ("contact_email", &email),
                ("plan", "basic"),
            ],
        )
        .await
        .status
}

fn request_id(app: &TestApp, slug: &str) -> String {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let rows: Vec<Id> =
        sql_query("SELECT id::text AS id FROM public.subscription_requests WHERE slug = $1")
            .bind::<Text, _>(slug)
            .load(&mut app.raw_connection())
            .unwrap();
    rows.into_iter().next().expect("a request").id
}

#[tokio::test]
async fn subscriptions_are_requested_approved_and_declined_alike_from_the_api_and_the_pages() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;

    // Requested: the API and the form refuse the same slug (spaces around it too), accept the
    // same good ones.
    for via_form in [false, true] {
        assert_eq!(request(&app, via_form, "Xã Sai", " xa-sai ").await, 422);
    }
    for (via_form, slug) in [
        (false, "xa-api-duyet"),
        (false, "xa-api-tu-choi"),
        (true, "xa-trang-duyet"),
        (true, "xa-trang-tu-choi"),
    ] {
        assert_eq!(request(&app, via_form, "Xã Mới", slug).await, 202, "{slug}");
    }
    app.verify_subscriptions().await;

    // Decided through the API and through the console.
    let id = request_id(&app, "xa-api-duyet");
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/approve"),
            Some(&op),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = request_id(&app, "xa-api-tu-choi");
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/decline"),
            Some(&op),
            &json!({"reason": "  Trùng địa bàn  "}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut ops = console(&app).await;
    let page = ops.get("/subscriptions").await;
    let csrf = ops.csrf(&page);
    let id = request_id(&app, "xa-trang-duyet");
    let done = ops
        .post(
            &format!("/subscriptions/{id}"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/tenants/xa-trang-duyet")
    );
    let id = request_id(&app, "xa-trang-tu-choi");
    let done = ops
        .post(
            &format!("/subscriptions/{id}"),
            &[
                ("csrf", &csrf),
                ("decision", "decline"),
                ("reason", "  Trùng địa bàn  "),
            ],
        )
        .await;
    assert_eq!(done.status, 303);

    // The same outcome: both approved provinces served at once, both declines recorded.
    for slug in ["xa-api-duyet", "xa-trang-duyet"] {
        assert_eq!(
            app.get(&format!("{slug}.localhost"), "/api/v1/procedures")
                .await
                .status(),
            200,
            "{slug}"
        );
        let rows = audit_of(&app, slug);
        let verbs: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        assert_eq!(
            verbs,
            [
                (operator().as_str(), "tenant.create"),
                (operator().as_str(), "subscription.approve")
            ],
            "{slug}"
        );
    }
    for slug in ["xa-api-tu-choi", "xa-trang-tu-choi"] {
        let rows = audit_of(&app, slug);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(
            (rows[0].0.as_str(), rows[0].1.as_str(), &rows[0].2["reason"]),
            (
                operator().as_str(),
                "subscription.decline",
                &json!("Trùng địa bàn")
            ),
            "{slug}"
        );
    }
    // A decided request cannot be decided again, from either surface.
    let id = request_id(&app, "xa-trang-duyet");
    let res = app
        .post_json(
            "ops.localhost",
            &format!("/api/v1/subscriptions/{id}/decline"),
            Some(&op),
            &json!({"reason": "muộn"}),
        )
        .await;
    assert_eq!(res.status(), 409);
    let id = request_id(&app, "xa-api-duyet");
    let page = ops.get("/subscriptions").await;
    let csrf = ops.csrf(&page);
    let again = ops
        .post(
            &format!("/subscriptions/{id}"),
            &[("csrf", &csrf), ("decision", "decline"), ("reason", "muộn")],
        )
        .await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn an_invoice_is_sent_paid_and_voided_alike_from_the_api_and_the_console() {
    let app = TestApp::spawn().await;
    for (slug, name) in [
        ("ha-noi", "Thành phố Hà Nội"),
        ("hue", "Thành phố Huế"),
        ("lao-cai", "Tỉnh Lào Cai"),
        ("son-la", "Tỉnh Sơn La"),
    ] {
        app.create_tenant(slug, name).await;
    }
    sql_query("UPDATE leases SET starts_on = '2026-10-01'")
        .execute(&mut app.raw_connection())
        .unwrap();
    let op = app.operator_token().await;
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &json!({"period": "2026-10"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let n: Vec<String> = body["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(n.len(), 4);
    let api = |path: String, body: serde_json::Value| {
        let (app, op) = (&app, op.clone());
        async move {
            app.post_json("ops.localhost", &path, Some(&op), &body)
                .await
                .status()
                .as_u16()
        }
    };
    let mut ops = console(&app).await;
    // An unknown status filter is refused alike.
    let res = app
        .get_with_token(
            "ops.localhost",
            "/api/v1/invoices?period=2026-10&status=open",
            &op,
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        ops.get("/invoices?period=2026-10&status=open").await.status,
        422
    );
    let page = ops.get("/invoices?period=2026-10").await;
    let csrf = ops.csrf(&page);

    // Send (no payment provider here: refused alike, the attempt audited alike).
    assert_eq!(
        api(format!("/api/v1/invoices/{}/send", n[0]), json!({})).await,
        409
    );
    let sent = ops
        .post(&format!("/invoices/{}/send", n[1]), &[("csrf", &csrf)])
        .await;
    assert_eq!(sent.status, 409);
    // A bank transfer: a blank reference is refused alike, then recorded.
    assert_eq!(
        api(
            format!("/api/v1/invoices/{}/pay", n[0]),
            json!({"reference": "  "})
        )
        .await,
        422
    );
    let blank = ops
        .post(
            &format!("/invoices/{}/pay", n[1]),
            &[("csrf", &csrf), ("reference", "  ")],
        )
        .await;
    assert_eq!(blank.status, 422);
    assert_eq!(
        api(
            format!("/api/v1/invoices/{}/pay", n[0]),
            json!({"reference": " VCB-1 "})
        )
        .await,
        200
    );
    let paid = ops
        .post(
            &format!("/invoices/{}/pay", n[1]),
            &[("csrf", &csrf), ("reference", " VCB-1 ")],
        )
        .await;
    assert_eq!(paid.status, 303);
    // Void: a paid invoice is refused alike; an unpaid one voided with its reason.
    assert_eq!(
        api(
            format!("/api/v1/invoices/{}/void", n[0]),
            json!({"reason": "sai"})
        )
        .await,
        409
    );
    let refused = ops
        .post(
            &format!("/invoices/{}/void", n[1]),
            &[("csrf", &csrf), ("reason", "sai")],
        )
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(
        api(
            format!("/api/v1/invoices/{}/void", n[2]),
            json!({"reason": " Sai kỳ "})
        )
        .await,
        200
    );
    let voided = ops
        .post(
            &format!("/invoices/{}/void", n[3]),
            &[("csrf", &csrf), ("reason", " Sai kỳ ")],
        )
        .await;
    assert_eq!(voided.status, 303);

    // The same outcome and the same audit rows from each surface.
    let status = |number: &str| {
        let (app, op, number) = (&app, op.clone(), number.to_string());
        async move {
            let res = app
                .get_with_token("ops.localhost", &format!("/api/v1/invoices/{number}"), &op)
                .await;
            let inv: serde_json::Value = res.json().await.unwrap();
            inv["status"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(
        [
            status(&n[0]).await,
            status(&n[1]).await,
            status(&n[2]).await,
            status(&n[3]).await
        ],
        ["paid", "paid", "void", "void"]
    );
    let trail =
        |number: &str| -> Vec<(String, String, serde_json::Value)> { audit_of(&app, number) };
    let (a, b) = (trail(&n[0]), trail(&n[1]));
    let expect = vec![
        (
            operator(),
            "invoice.send".to_string(),
            json!({"outcome": "no_provider"}),
        ),
        (
            operator(),
            "invoice.paid".to_string(),
            json!({"reference": "VCB-1"}),
        ),
    ];
    assert_eq!(a, expect);
    assert_eq!(b, expect);
    let expect = vec![(
        operator(),
        "invoice.void".to_string(),
        json!({"reason": "Sai kỳ"}),
    )];
    assert_eq!(trail(&n[2]), expect);
    assert_eq!(trail(&n[3]), expect);
}

#[tokio::test]
async fn a_plan_and_a_lease_changed_through_the_api_are_audited_and_applied_at_once() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let op = app.operator_token().await;
    let terms = json!({"included": 10, "unit_price_vnd": 100, "hard_cap": null});
    let metrics: serde_json::Map<String, serde_json::Value> =
        ["dossiers", "storage_bytes", "api_calls", "emails", "seats"]
            .iter()
            .map(|m| (m.to_string(), terms.clone()))
            .collect();
    let plan = json!({"name": "Thử", "monthly_fee_vnd": 1000, "rate_limit_rps": 5,
                      "metrics": metrics});
    let res = app
        .client
        .put(app.url("/api/v1/plans/thu"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&plan)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let today = portal::clock::today_vn();
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ha-noi/lease"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&json!({"plan": "thu", "starts_on": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["plan"], "thu");

    let plan_rows: Vec<(String, String)> = audit_of(&app, "thu")
        .into_iter()
        .map(|(actor, action, _)| (actor, action))
        .collect();
    assert_eq!(plan_rows, [(operator(), "plan.put".to_string())]);
    let lease: Vec<_> = audit_of(&app, "ha-noi")
        .into_iter()
        .filter(|r| r.1 != "tenant.create")
        .collect();
    assert_eq!(
        lease,
        [(
            operator(),
            "tenant.lease".to_string(),
            json!({"plan": "thu", "starts_on": today})
        )]
    );
}
