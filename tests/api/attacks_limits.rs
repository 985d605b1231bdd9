//! Attacks on fair sharing: a province's custom domain is the same province, so switching
//! between it and the subdomain neither refills the rate bucket nor resets the quota.

use serde_json::json;

use crate::attacks_kit::{count, refused, tenant_with_domain};
use crate::helpers::{TestApp, licence_renewal};

const HN: &str = "ha-noi.localhost";
const HN_DOMAIN: &str = "dichvucong.hanoi.gov.vn";

/// A plan with the given rate, burst and dossier cap, leased to Hà Nội from today.
async fn lease(app: &TestApp, rps: i32, burst: i32, dossier_cap: Option<i64>) {
    let op = app.operator_token().await;
    let plan = json!({
        "name": "Thử nghiệm", "monthly_fee_vnd": 1000000, "rate_limit_rps": rps, "rate_burst": burst,
        "metrics": {
            "dossiers": {"included": 100, "unit_price_vnd": 1000, "hard_cap": dossier_cap},
            "storage_bytes": {"included": 1000000000, "unit_price_vnd": 1000, "hard_cap": null},
            "api_calls": {"included": 100000, "unit_price_vnd": 1, "hard_cap": null},
            "emails": {"included": 1000, "unit_price_vnd": 10, "hard_cap": null},
            "seats": {"included": 5, "unit_price_vnd": 1000, "hard_cap": null}
        }
    });
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
    let res = app
        .client
        .put(app.url("/api/v1/tenants/ha-noi/lease"))
        .header("Host", "ops.localhost")
        .bearer_auth(&op)
        .json(&json!({"plan": "thu", "starts_on": portal::clock::today_vn()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn burst(app: &TestApp, host: &str, n: usize) -> Vec<reqwest::Response> {
    futures_util::future::join_all((0..n).map(|_| app.get(host, "/api/v1/procedures"))).await
}

#[tokio::test]
async fn a_custom_domain_draws_on_its_provinces_rate_bucket() {
    let app = TestApp::spawn().await;
    tenant_with_domain(&app, "ha-noi", "Thành phố Hà Nội", HN_DOMAIN).await;
    app.create_tenant("hue", "Thành phố Huế").await;
    lease(&app, 1, 5, None).await;
    // The subdomain spends the burst; the custom domain right after finds the bucket empty.
    let first = burst(&app, HN, 5).await;
    assert!(first.iter().all(|r| r.status() == 200), "the burst is 5");
    let second = burst(&app, HN_DOMAIN, 10).await;
    let (limited, _served): (Vec<reqwest::Response>, Vec<reqwest::Response>) =
        second.into_iter().partition(|r| r.status() == 429);
    assert!(
        limited.len() >= 8,
        "only {} of 10 limited: the custom domain had a bucket of its own",
        limited.len()
    );
    for res in limited {
        assert!(res.headers().contains_key("retry-after"));
        refused(res, 429, "rate_limited").await;
    }
    // Back on the subdomain, still empty; another province is served all along.
    let third = burst(&app, HN, 5).await;
    assert!(third.iter().filter(|r| r.status() == 429).count() >= 4);
    assert!(
        burst(&app, "hue.localhost", 10)
            .await
            .iter()
            .all(|r| r.status() == 200)
    );
}

#[tokio::test]
async fn a_custom_domain_shares_its_provinces_dossier_quota() {
    let app = TestApp::spawn().await;
    tenant_with_domain(&app, "ha-noi", "Thành phố Hà Nội", HN_DOMAIN).await;
    lease(&app, 100, 200, Some(2)).await;
    // A token from one host of the province is good on the other: same province, same site.
    let token = app.citizen_token(HN_DOMAIN, "dan@example.vn").await;
    app.submit_licence_renewal(HN, &token).await;
    app.submit_licence_renewal(HN_DOMAIN, &token).await;
    for host in [HN_DOMAIN, HN] {
        let res = app
            .post_json(host, "/api/v1/dossiers", Some(&token), &licence_renewal())
            .await;
        assert!(res.headers().contains_key("retry-after"));
        refused(res, 429, "quota_exceeded").await;
    }
    // Counter registrations by staff draw on the same cap.
    let official = app
        .staff_token(
            "ha-noi",
            "canbo@hanoi.gov.vn",
            portal::accounts::staff::StaffRole::Official,
        )
        .await;
    let res = app
        .post_json(
            HN_DOMAIN,
            "/api/v1/manage/dossiers",
            Some(&official),
            &licence_renewal(),
        )
        .await;
    refused(res, 429, "quota_exceeded").await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        2
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM usage_events WHERE metric = 'dossiers'"
        ),
        2
    );
}
