//! What an operator watches: `/metrics` names requests by site and status, latency, the pool
//! (in use, idle, waiting, timeouts), the outbox backlog, the usage flush and each province's
//! requests; and every JSON log line of a request carries its request id and province.

use std::process::Command;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_query;
use portal::app::provisioning::provision;
use portal::db::Db;
use portal::tenancy::TenantStatus;
use portal::tenancy::provision::NewTenant;

use crate::children::{ChildGuard, free_port};
use crate::helpers::{JWT_SECRET, METRICS_TOKEN, TestApp, TestDb, test_settings};

/// The value of the sample `name` (with its labels, exactly as exposed).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

async fn metrics(app: &TestApp) -> String {
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("Host", "ops.localhost")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// #15 Low: `/metrics` was public on every host. Now only the operator host, with the
/// scraper's configured token or an operator's; every other host answers 404 as if there were
/// no such page.
#[tokio::test]
async fn metrics_answer_only_on_the_operator_host_with_the_metrics_token() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    for host in [
        "localhost",
        "www.localhost",
        "ha-noi.localhost",
        "nope.localhost",
        "1.2.3.4",
    ] {
        let res = app.get(host, "/metrics").await;
        assert_eq!(res.status(), 404, "{host}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("portal_http_requests"), "{host}: {body}");
    }
    for token in [None, Some("wrong-token-0123456789"), Some("")] {
        let mut req = app
            .client
            .get(app.url("/metrics"))
            .header("Host", "ops.localhost");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{token:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    assert!(metrics(&app).await.contains("portal_http_requests_total"));
    // A signed-in operator's own token works too (CONTRACT.md: "with an operator token"); a
    // province's staff token does not.
    let operator = app.operator_token().await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("Host", "ops.localhost")
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("Host", "ha-noi.localhost")
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// CONTRACT.md's other way: a separate metrics listener (`server.metrics_bind`) serves
/// `/metrics` alone, on any host, without a token; the public port still answers 404.
#[tokio::test]
async fn a_separate_metrics_listener_serves_metrics_and_nothing_else() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.server.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    let app = portal::startup::Application::build(settings).expect("build");
    let (port, metrics_port) = (app.port(), app.metrics_port().expect("a metrics port"));
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let get = |port: u16, host: &'static str, path: &'static str| {
        client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header("Host", host)
            .send()
    };
    let res = get(metrics_port, "anything.example", "/metrics")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("portal_db_pool_max"));
    for path in ["/", "/api/v1/site", "/healthz", "/api/v1/openapi.json"] {
        assert_eq!(
            get(metrics_port, "localhost", path).await.unwrap().status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        get(port, "localhost", "/metrics").await.unwrap().status(),
        404
    );
    drop(db);
}

#[tokio::test]
async fn metrics_show_requests_latency_pool_outbox_usage_and_each_province() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    app.create_tenant("quang-ninh", "Quảng Ninh").await;
    // A mail queued an hour ago that is not due before tomorrow: the backlog.
    sql_query(
        "INSERT INTO t_ha_noi.outbox (kind, to_email, subject, body, created_at, next_attempt_at) \
         VALUES ('test', 'x@example.vn', 's', 'b', now() - interval '1 hour', now() + interval '1 day')",
    )
    .execute(&mut app.raw_connection())
    .unwrap();

    for (host, path, status) in [
        ("ha-noi.localhost", "/", 200),
        ("ha-noi.localhost", "/api/v1/site", 200),
        ("ha-noi.localhost", "/api/v1/nope", 404),
        ("quang-ninh.localhost", "/api/v1/site", 200),
        ("localhost", "/", 200),
        ("ops.localhost", "/api/v1/me", 401),
    ] {
        assert_eq!(app.get(host, path).await.status(), status, "{host}{path}");
    }
    let text = metrics(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"portal_http_requests_total{site="province",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(
            &text,
            r#"portal_http_requests_total{site="province",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"portal_http_requests_total{site="operator",status="401"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            r#"portal_http_request_duration_seconds_count{site="province"}"#
        ),
        4.0
    );
    assert!(
        text.contains(
            r#"portal_http_request_duration_seconds_bucket{le="+Inf",site="national"} 1"#
        ) || text.contains(
            r#"portal_http_request_duration_seconds_bucket{site="national",le="+Inf"} 1"#
        ),
        "{text}"
    );
    for (labels, n) in [
        (r#"{province="ha-noi",class="2xx"}"#, 2.0),
        (r#"{province="ha-noi",class="4xx"}"#, 1.0),
        (r#"{province="quang-ninh",class="2xx"}"#, 1.0),
    ] {
        assert_eq!(
            sample(
                &text,
                &format!("portal_province_http_requests_total{labels}")
            ),
            n
        );
    }
    assert_eq!(sample(&text, "portal_db_pool_max"), 16.0);
    assert!(sample(&text, "portal_db_pool_waiting") >= 0.0);
    assert_eq!(sample(&text, "portal_db_pool_timeouts_total"), 0.0);
    assert!(sample(&text, "portal_db_pool_idle") + sample(&text, "portal_db_pool_in_use") >= 1.0);
    assert_eq!(sample(&text, "portal_outbox_unsent"), 1.0);
    let age = sample(&text, "portal_outbox_oldest_unsent_age_seconds");
    assert!((3600.0..3700.0).contains(&age), "{age}");
    // The three province API calls were anonymous: not billed (issue 15, finding 6).
    assert_eq!(sample(&text, "portal_usage_unflushed_api_calls"), 0.0);
    assert!(sample(&text, "portal_usage_flush_lag_seconds") > 0.0);
    // Jobs are off in tests: signed-in calls that succeed wait in memory, unflushed.
    let token = app
        .citizen_token("ha-noi.localhost", "dan@example.vn")
        .await;
    for _ in 0..3 {
        let res = app
            .get_with_token("ha-noi.localhost", "/api/v1/site", &token)
            .await;
        assert_eq!(res.status(), 200);
    }
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "portal_usage_unflushed_api_calls"), 3.0);

    // A flush writes them and resets the lag.
    let state = app.state.clone();
    tokio::task::spawn_blocking(move || state.api_calls.flush(&state.db, &state.registry).unwrap())
        .await
        .unwrap();
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "portal_usage_unflushed_api_calls"), 0.0);
    assert!(sample(&text, "portal_usage_flush_lag_seconds") < 1.0);
}

#[tokio::test]
async fn metrics_show_requests_waiting_for_the_pool_and_the_checkouts_that_gave_up() {
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.database.pool_size = 2;
    settings.database.acquire_timeout_ms = 1500;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Hà Nội").await;
    // Reads the outbox now, so the scrape below has no reason to wait for the pool itself.
    metrics(&app).await;

    // Every connection taken: a province request waits, then gives up with 503.
    let pool = app.database().clone();
    let (hold, release) = std::sync::mpsc::channel::<()>();
    let holder = tokio::task::spawn_blocking(move || {
        let held = (pool.checkout().unwrap(), pool.checkout().unwrap());
        let _ = release.recv();
        drop(held);
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = app.get("ha-noi.localhost", "/api/v1/site");
    let scrape = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        metrics(&app).await
    };
    let (res, text) = tokio::join!(waiting, scrape);
    assert_eq!(sample(&text, "portal_db_pool_in_use"), 2.0);
    // The request, and maybe the mail worker's own sweep.
    assert!(sample(&text, "portal_db_pool_waiting") >= 1.0, "{text}");
    assert_eq!(res.status(), 503);
    hold.send(()).unwrap();
    holder.await.unwrap();
    let text = metrics(&app).await;
    assert!(sample(&text, "portal_db_pool_timeouts_total") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_log_line_of_a_request_names_its_request_id_and_province() {
    let test_db = TestDb::create();
    let db = Db::new(&test_settings(&test_db.url).database);
    tokio::task::spawn_blocking(move || {
        for (slug, name) in [("ha-noi", "Hà Nội"), ("hue", "Huế")] {
            let new = NewTenant::parse(slug, name, "standard", &[], "localhost").unwrap();
            provision(&db, &new, "test").unwrap();
        }
        db.control(|c| portal::tenancy::store::set_status(c, "hue", TenantStatus::Suspended))
            .unwrap();
    })
    .await
    .unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.arg("serve")
        .env("DATABASE_URL", &test_db.url)
        .env("PORTAL__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("PORTAL__AUTH__JWT_SECRET", JWT_SECRET)
        .env("PORTAL__LOG__FORMAT", "json")
        .env("PORTAL__JOBS__ENABLED", "false")
        .env(
            "PORTAL__STORAGE__DATA_DIR",
            std::env::temp_dir().join(format!("portal-obs-{port}")),
        )
        .env("RUST_LOG", "info");
    let mut child = ChildGuard::spawn("portal-json-logs", cmd);
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    for _ in 0..200 {
        if client.get(url("/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = [
        (
            "obs-ok",
            "ha-noi.localhost",
            "/api/v1/site",
            200,
            Some("ha-noi"),
        ),
        (
            "obs-missing",
            "ha-noi.localhost",
            "/api/v1/nope",
            404,
            Some("ha-noi"),
        ),
        (
            "obs-suspended",
            "hue.localhost",
            "/api/v1/site",
            503,
            Some("hue"),
        ),
        ("obs-national", "localhost", "/", 200, None),
    ];
    for (id, host, path, status, _) in requests {
        let res = client
            .get(url(path))
            .header("Host", host)
            .header("X-Request-Id", id)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{host}{path}");
        assert_eq!(res.headers()["x-request-id"], id);
    }
    let stopped = tokio::task::spawn_blocking(move || {
        child.terminate(Duration::from_secs(30));
        child
    })
    .await
    .unwrap();
    let log = stopped.log_text();
    let mut seen = std::collections::HashMap::new();
    for line in log.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let Some(request) = v["spans"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == "request"))
        else {
            continue;
        };
        let id = request["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a request's line without its id: {line}"));
        if request["site"] == "province" {
            assert!(request["province"].is_string(), "no province: {line}");
        }
        seen.entry(id.to_string())
            .or_insert_with(Vec::new)
            .push(v.clone());
    }
    for (id, _, _, _, province) in requests {
        let lines = seen
            .get(id)
            .unwrap_or_else(|| panic!("no log line for {id}:\n{log}"));
        for v in lines {
            let span = v["spans"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == "request")
                .unwrap();
            assert_eq!(span["province"].as_str(), province, "{v}");
        }
    }
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("portal-obs-{port}")));
}
