//! Attacks through input: slugs and names made to break identifiers, hostile manifests,
//! oversize bodies and deeply nested JSON.

use std::path::Path;

use portal::accounts::staff::StaffRole;
use portal::tenancy::manifest;
use serde_json::json;

use crate::attacks_kit::{count, raw, refused, text};
use crate::helpers::{CITIZEN_PASSWORD, TestApp, licence_renewal};

const HN: &str = "ha-noi.localhost";

#[tokio::test]
async fn slugs_and_names_made_to_break_identifiers_are_refused_or_quoted() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let create = |slug: &str, name: &str, plan: &str, email: Option<&str>| {
        let mut body = json!({"slug": slug, "name": name, "plan": plan});
        if let Some(e) = email {
            body["admin_email"] = json!(e);
        }
        let (app, op) = (&app, &op);
        async move {
            app.post_json("ops.localhost", "/api/v1/tenants", Some(op), &body)
                .await
        }
    };
    // Slugs that would end an identifier, hide a character, or pass for another.
    let slugs = [
        "ha-noi\n",
        "ha-noi\0",
        "ha-noi\u{200b}",
        " ha-noi",
        "h\u{430}-noi",
        "ha\u{2013}noi",
        "\u{ff48}\u{ff41}-noi",
        "ha-noi'--",
        "x\"; DROP SCHEMA public CASCADE; --",
        "t_ha_noi",
        "ha-noi.localhost",
        "ha-noi/../ops",
        "public",
        "pg-toast",
        "-ha-noi",
        "ha-",
    ];
    for slug in slugs {
        let body = refused(
            create(slug, "Tên", "standard", None).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            body["error"]["fields"]["slug"].is_string(),
            "{slug:?}: {body}"
        );
    }
    // Plans, names and emails too, each named as the field at fault.
    for (field, res) in [
        (
            "plan",
            create("ok-slug", "Tên", "standard'; --", None).await,
        ),
        ("plan", create("ok-slug", "Tên", "Standard", None).await),
        ("name", create("ok-slug", "Tên\0", "standard", None).await),
        (
            "name",
            create("ok-slug", "<script>alert(1)</script>", "standard", None).await,
        ),
        ("name", create("ok-slug", "", "standard", None).await),
        (
            "admin_email",
            create("ok-slug", "Tên", "standard", Some("a@b.vn'; --")).await,
        ),
    ] {
        let body = refused(res, 422, "validation_failed").await;
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM public.tenants"), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 't\\_%'"
        ),
        0,
        "no schema left behind"
    );
    // Slugs that are SQL keywords are fine: every identifier is quoted.
    for slug in ["select", "user", "order", "drop-table", "current-user"] {
        let res = create(slug, "Tỉnh Thử", "standard", None).await;
        assert_eq!(res.status(), 201, "{slug}");
        let site = app.get(&format!("{slug}.localhost"), "/api/v1/site").await;
        assert_eq!(site.status(), 200, "{slug}");
        let procedures = app
            .get(&format!("{slug}.localhost"), "/api/v1/procedures")
            .await;
        assert_eq!(procedures.status(), 200, "{slug}: reads its schema");
        let schema = format!("t_{}", slug.replace('-', "_"));
        assert_eq!(
            count(
                &app,
                &format!("SELECT count(*) AS n FROM pg_namespace WHERE nspname = '{schema}'")
            ),
            1
        );
    }
    let token = app.citizen_token("user.localhost", "dan@example.vn").await;
    app.submit_licence_renewal("user.localhost", &token).await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM \"t_user\".dossiers"),
        1
    );
}

fn write(dir: &Path, file: &str, toml: &str) {
    std::fs::write(dir.join(file), toml).unwrap();
}

#[tokio::test]
async fn hostile_manifests_are_refused_before_any_write() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let base = "localhost";
    let bad = [
        (
            "slug",
            "slug = \"x'; DROP TABLE tenants; --\"\nname = \"X\"\n",
        ),
        ("slug", "slug = \"ha-noi\\u0000\"\nname = \"X\"\n"),
        ("name", "slug = \"thu\"\nname = \"X\\u0000\"\n"),
        (
            "name",
            "slug = \"thu\"\nname = \"<img src=x onerror=alert(1)>\"\n",
        ),
        (
            "domains",
            "slug = \"thu\"\nname = \"X\"\ndomains = [\"ha-noi.localhost\"]\n",
        ),
        (
            "domains",
            "slug = \"thu\"\nname = \"X\"\ndomains = [\"ops.localhost\"]\n",
        ),
        (
            "domains",
            "slug = \"thu\"\nname = \"X\"\ndomains = [\"evil.example:8080\"]\n",
        ),
        (
            "domains",
            "slug = \"thu\"\nname = \"X\"\ndomains = [\"*.evil.example\"]\n",
        ),
        (
            "domains",
            "slug = \"thu\"\nname = \"X\"\ndomains = [\"evil.example/x\"]\n",
        ),
        (
            "domains",
            "slug = \"thu\"\nname = \"X\"\ndomains = [\"user@evil.example\"]\n",
        ),
        ("code", "slug = \"thu\"\nname = \"X\"\ncode = \"HN'\"\n"),
        (
            "branding.banner",
            "slug = \"thu\"\nname = \"X\"\n[branding]\ndisplay_name = \"X\"\nbanner = \"<script>alert(1)</script>\"\n",
        ),
        (
            "schema",
            "slug = \"thu\"\nname = \"X\"\nschema = \"public\"\n",
        ),
        (
            "role",
            "slug = \"thu\"\nname = \"X\"\nrole = \"postgres\"\n",
        ),
    ];
    for (field, toml) in bad {
        let errors = manifest::parse_str(toml, Path::new("thu.toml"), base).expect_err(toml);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("thu.toml") && e.contains(field)),
            "{field}: {errors:?}"
        );
    }
    // A folder with one good and one hostile file applies nothing at all.
    let dir = crate::manifests::tempdir();
    let good = "slug = \"thu\"\nname = \"Tỉnh \\\"Thử\\\" 'nghiệm'; DROP TABLE tenants; --\"\n";
    write(&dir, "thu.toml", good);
    write(&dir, "xau.toml", bad[0].1);
    let d = dir.clone();
    let loaded = tokio::task::spawn_blocking(move || manifest::load(&d, "localhost"))
        .await
        .unwrap();
    let errors = loaded.expect_err("a hostile file stops the folder");
    assert!(errors.iter().any(|e| e.contains("xau.toml")), "{errors:?}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM public.tenants"), 1);
    // Without it, the odd but valid name is stored exactly as written.
    std::fs::remove_file(dir.join("xau.toml")).unwrap();
    let (d, db) = (dir.clone(), app.database().clone());
    tokio::task::spawn_blocking(move || {
        let manifests = manifest::load(&d, "localhost").unwrap();
        portal::app::manifests::apply(&db, &manifests, false, "test").unwrap();
    })
    .await
    .unwrap();
    assert_eq!(
        text(
            &app,
            "SELECT name AS t FROM public.tenants WHERE slug = 'thu'"
        ),
        "Tỉnh \"Thử\" 'nghiệm'; DROP TABLE tenants; --"
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM public.tenants"), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn oversize_bodies_are_413_in_the_envelope_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let limit = app.settings.server.json_limit_bytes;
    let mut big = licence_renewal();
    big["fields"]["delivery_address"] = json!("x".repeat(limit + 1));
    // With a length, and streamed without one (chunked).
    let res = app
        .post_json(HN, "/api/v1/dossiers", Some(&citizen), &big)
        .await;
    refused(res, 413, "payload_too_large").await;
    let mut chunked = format!(
        "POST /api/v1/dossiers HTTP/1.1\r\nHost: {HN}\r\nAuthorization: Bearer {citizen}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in big.to_string().as_bytes().chunks(16 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (status, body) = raw(&app, &chunked).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"code\":\"payload_too_large\""), "{body}");
    // Without signing in: registration, sign-in, the national subscription.
    let huge = json!({"email": "a@example.vn", "password": "x".repeat(limit), "full_name": "A"});
    for (host, path) in [
        (HN, "/api/v1/auth/register"),
        (HN, "/api/v1/auth/token"),
        ("localhost", "/api/v1/subscriptions"),
        ("ops.localhost", "/api/v1/auth/token"),
    ] {
        refused(
            app.post_json(host, path, None, &huge).await,
            413,
            "payload_too_large",
        )
        .await;
    }
    // A page's form: the same refusal as a page.
    let form = format!("csrf=x&email=a%40example.vn&password={}", "x".repeat(limit));
    let res = app
        .client
        .post(app.url("/sign-in"))
        .header("Host", HN)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Nothing was written; the server still serves.
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM identity.citizens"),
        1
    );
    app.submit_licence_renewal(HN, &citizen).await;
    assert_eq!(app.get(HN, "/healthz").await.status(), 200);
}

#[tokio::test]
async fn deeply_nested_json_is_400_in_the_envelope_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let op = app.operator_token().await;
    let depth = 20_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let post = |host: &'static str, path: &'static str, token: Option<String>, body: String| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .post(app.url(path))
                .header("Host", host)
                .header("Content-Type", "application/json")
                .body(body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap()
        }
    };
    for deep in [&arrays, &objects] {
        assert!(deep.len() < app.settings.server.json_limit_bytes);
        // Where any JSON is taken (a form's answers), the parser's depth limit: 400.
        let answers =
            format!("{{\"procedure_code\":\"GPLX-001\",\"fields\":{{\"full_name\":{deep}}}}}");
        for (path, token) in [
            ("/api/v1/dossiers", &citizen),
            ("/api/v1/manage/dossiers", &official),
        ] {
            let res = post(HN, path, Some(token.clone()), answers.clone()).await;
            refused(res, 400, "malformed").await;
        }
        // Where text is expected, the first bracket is already the wrong type: 422.
        for (host, path, token, body) in [
            (
                HN,
                "/api/v1/auth/register",
                None,
                format!("{{\"email\":{deep}}}"),
            ),
            (
                "ops.localhost",
                "/api/v1/tenants",
                Some(op.clone()),
                format!("{{\"slug\":\"x\",\"name\":{deep}}}"),
            ),
            ("localhost", "/api/v1/subscriptions", None, deep.clone()),
        ] {
            refused(
                post(host, path, token, body).await,
                422,
                "validation_failed",
            )
            .await;
        }
        // In a field nobody reads, it is skipped without recursion, and the rest is taken.
        let res = post(
            "localhost",
            "/api/v1/auth/token",
            None,
            format!(
                "{{\"email\":\"dan@example.vn\",\"password\":\"{CITIZEN_PASSWORD}\",\"x\":{deep}}}"
            ),
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    // Nested within the parser's limit, an answer that is not text is a field's mistake.
    let mut shallow = licence_renewal();
    shallow["fields"]["full_name"] =
        serde_json::from_str(&format!("{}{}", "[".repeat(60), "]".repeat(60))).unwrap();
    let body = refused(
        app.post_json(HN, "/api/v1/dossiers", Some(&citizen), &shallow)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["fields"]["full_name"].is_string(), "{body}");
    // Truncated, not UTF-8, empty: malformed too.
    for raw in [
        b"{\"procedure_code\":\"GPLX-001\",\"fields\":{".to_vec(),
        b"{\"procedure_code\":\"\xff\xfe\"}".to_vec(),
        Vec::new(),
    ] {
        let res = app
            .client
            .post(app.url("/api/v1/dossiers"))
            .header("Host", HN)
            .header("Content-Type", "application/json")
            .bearer_auth(&citizen)
            .body(raw)
            .send()
            .await
            .unwrap();
        refused(res, 400, "malformed").await;
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM t_ha_noi.dossiers"),
        0
    );
    app.submit_licence_renewal(HN, &citizen).await;
    assert_eq!(app.get("localhost", "/readyz").await.status(), 200);
}
