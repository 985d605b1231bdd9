//! The operator console and the subscription form in the browser.

use crate::browser::Browser;
use crate::helpers::{OPERATOR_EMAIL, OPERATOR_PASSWORD, TestApp};

#[tokio::test]
async fn an_operator_signs_in_sees_usage_and_approves_a_request_through_the_pages() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token("ha-noi.localhost", "c@example.vn").await;
    app.submit_licence_renewal("ha-noi.localhost", &citizen)
        .await;
    app.create_operator(
        OPERATOR_EMAIL,
        OPERATOR_PASSWORD,
        portal::accounts::operators::OperatorRole::Operator,
    )
    .await;

    // Not signed in: sent to the sign-in page.
    let mut ops = Browser::new(&app, "ops.localhost");
    let page = ops.get("/").await;
    assert_eq!((page.status, page.location.as_str()), (303, "/sign-in"));
    let page = ops.get("/sign-in").await;
    let csrf = ops.csrf(&page);
    let wrong = ops
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", OPERATOR_EMAIL),
                ("password", "not-the-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("error-summary"));
    let page = ops
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", OPERATOR_EMAIL),
                ("password", OPERATOR_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303);

    // The dashboard: every province with this month's dossiers against its allowance.
    let page = ops.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Thành phố Hà Nội") && page.body.contains("1 / 15000"),
        "{}",
        page.body
    );
    // Plans by their names, never their codes.
    assert!(page.body.contains("<td>Tiêu chuẩn</td>"), "{}", page.body);
    assert!(!page.body.contains("<td>standard</td>"));
    let page = ops.get("/tenants/ha-noi").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("meter-fill") && page.body.contains("<strong>Tiêu chuẩn</strong>"),
        "{}",
        page.body
    );
    assert_eq!(ops.get("/tenants/ha-noi?period=2026-13").await.status, 422);
    assert_eq!(ops.get("/plans").await.status, 200);

    // A request filed through the national form, approved through the console.
    let mut public = Browser::new(&app, "localhost");
    let page = public.get("/subscribe").await;
    let csrf = public.csrf(&page);
    let bad = public
        .post(
            "/subscribe",
            &[
                ("csrf", &csrf),
                ("province_name", "Xã Mới"),
                ("slug", "Xa Moi"),
                ("contact_email", "x@xamoi.gov.vn"),
                ("plan", "basic"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("href=\"#slug\""));
    let ok = public
        .post(
            "/subscribe",
            &[
                ("csrf", &csrf),
                ("province_name", "Xã Mới"),
                ("slug", "xa-moi"),
                ("contact_email", "x@xamoi.gov.vn"),
                ("plan", "basic"),
            ],
        )
        .await;
    assert_eq!(ok.status, 202);
    app.verify_subscriptions().await;
    let page = ops.get("/subscriptions").await;
    assert!(page.body.contains("Xã Mới"));
    let id = page
        .body
        .split("action=\"/subscriptions/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let csrf = ops.csrf(&page);
    // Without the token nothing happens.
    assert_eq!(
        ops.post(&format!("/subscriptions/{id}"), &[("decision", "approve")])
            .await
            .status,
        403
    );
    let done = ops
        .post(
            &format!("/subscriptions/{id}"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/tenants/xa-moi")
    );
    assert_eq!(app.get("xa-moi.localhost", "/").await.status(), 200);

    // Suspend through the page: the province answers 503 at once.
    let page = ops.get("/tenants/xa-moi").await;
    let csrf = ops.csrf(&page);
    let res = ops
        .post(
            "/tenants/xa-moi/status",
            &[("csrf", &csrf), ("status", "suspended")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.get("xa-moi.localhost", "/").await.status(), 503);

    // The session of the operator site is worthless on a province.
    let token = ops.cookies.get("session").cloned().unwrap();
    assert_eq!(
        app.get_with_token("ha-noi.localhost", "/api/v1/me", &token)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_province_admin_sees_usage_against_the_lease_with_a_chart_per_metric() {
    let app = TestApp::spawn().await;
    app.create_tenant("hue", "Thành phố Huế").await;
    app.staff_token(
        "hue",
        "admin@hue.gov.vn",
        portal::accounts::staff::StaffRole::Admin,
    )
    .await;
    let citizen = app.citizen_token("hue.localhost", "u@example.vn").await;
    app.submit_licence_renewal("hue.localhost", &citizen).await;
    app.submit_licence_renewal("hue.localhost", &citizen).await;

    let mut admin = Browser::new(&app, "hue.localhost");
    let page = admin.get("/sign-in").await;
    let csrf = admin.csrf(&page);
    let signed = admin
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "admin@hue.gov.vn"),
                ("password", crate::helpers::STAFF_PASSWORD),
                ("next", "/manage/admin/usage"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303);
    let page = admin.get("/manage/admin/usage").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("2 / 15000"),
        "dossiers against the standard plan"
    );
    assert!(page.body.contains("<rect"), "a day column for the dossiers");
    assert_eq!(
        admin.get("/manage/admin/usage?period=2026-13").await.status,
        422
    );
    // An official is not an admin.
    app.staff_token(
        "hue",
        "cb@hue.gov.vn",
        portal::accounts::staff::StaffRole::Official,
    )
    .await;
    let mut official = Browser::new(&app, "hue.localhost");
    let page = official.get("/sign-in").await;
    let csrf = official.csrf(&page);
    official
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", "cb@hue.gov.vn"),
                ("password", crate::helpers::STAFF_PASSWORD),
                ("next", "/manage"),
            ],
        )
        .await;
    assert_eq!(official.get("/manage/admin/usage").await.status, 403);
}
