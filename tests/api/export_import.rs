//! A province round-trips through `portal tenant export` and `portal tenant import` into a
//! second, fresh installation: every row and every byte the same, and it serves its dossiers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;
use portal::accounts::staff::StaffRole;
use portal::app::provisioning::provision;
use portal::tenancy::provision::NewTenant;
use reqwest::multipart::{Form, Part};

use crate::helpers::{CITIZEN_PASSWORD, EXPORT_KEY, STAFF_PASSWORD, TestApp};

const PDF: &[u8] = crate::fixtures::PDF;
const PNG: &[u8] = crate::fixtures::PNG;
const HOST: &str = "ha-noi.localhost";

fn portal(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env("PORTAL__EXPORT__SIGNING_KEY", EXPORT_KEY)
        .output()
        .expect("run portal")
}

fn file_part(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .unwrap()
}

/// Attaches a file as the form's document `field` (GPLX-001 requires two before acceptance).
async fn upload(
    app: &TestApp,
    token: &str,
    code: &str,
    name: &str,
    bytes: &[u8],
    field: &str,
) -> String {
    let form = Form::new()
        .text("field", field.to_string())
        .part("file", file_part(name, bytes));
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{code}/attachments")))
        .header("Host", HOST)
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[derive(QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    v: String,
}

fn json_rows(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    sql_query(sql)
        .load::<Json>(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .into_iter()
        .map(|j| j.v)
        .collect()
}

/// Every table of the province's schema, by its primary key, as JSON rows.
fn tenant_rows(conn: &mut PgConnection) -> Vec<(String, Vec<String>)> {
    let tables = json_rows(
        conn,
        "SELECT c.relname::text AS v FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 't_ha_noi' AND c.relkind = 'r' AND c.relname <> '__diesel_schema_migrations' \
         ORDER BY 1",
    );
    tables
        .into_iter()
        .map(|t| {
            let rows = json_rows(
                conn,
                &format!("SELECT row_to_json(x)::text AS v FROM t_ha_noi.{t} x ORDER BY row_to_json(x)::text"),
            );
            (t, rows)
        })
        .collect()
}

/// The province's control-plane rows, without what an installation gives anew (the role, ids
/// of leases and usage events, audit).
fn control_rows(conn: &mut PgConnection) -> Vec<String> {
    let id = "(SELECT id FROM public.tenants WHERE slug = 'ha-noi')";
    let mut out = Vec::new();
    for sql in [
        format!(
            "SELECT (to_jsonb(t) - 'role_name' - 'updated_at')::text AS v FROM public.tenants t WHERE id = {id}"
        ),
        format!(
            "SELECT row_to_json(x)::text AS v FROM public.tenant_domains x WHERE tenant_id = {id} ORDER BY host"
        ),
        format!(
            "SELECT (to_jsonb(x) - 'id')::text AS v FROM public.leases x WHERE tenant_id = {id} ORDER BY starts_on"
        ),
        format!(
            "SELECT (to_jsonb(x) - 'id')::text AS v FROM public.usage_events x WHERE tenant_id = {id} ORDER BY idempotency_key"
        ),
        format!(
            "SELECT row_to_json(x)::text AS v FROM public.usage_period x WHERE tenant_id = {id} ORDER BY metric, period"
        ),
        format!(
            "SELECT row_to_json(x)::text AS v FROM public.usage_daily x WHERE tenant_id = {id} ORDER BY metric, day"
        ),
        // The hash stays behind: an imported citizen sets a password anew.
        "SELECT (to_jsonb(x) - 'password_hash')::text AS v FROM identity.citizens x WHERE email = 'khai@example.vn'"
            .to_string(),
    ] {
        out.extend(json_rows(conn, &sql));
    }
    out
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::new_v4().simple()))
}

fn rewrite(from: &Path, to: &Path, edit: impl Fn(Vec<String>) -> Vec<String>) {
    let lines: Vec<String> = std::fs::read_to_string(from)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    std::fs::write(to, edit(lines).join("\n") + "\n").unwrap();
}

#[tokio::test]
async fn a_province_round_trips_through_export_and_import_into_another_installation() {
    // The source: two provinces; Hà Nội with a custom domain, staff, dossiers, history,
    // attachments, a logo, and usage.
    let src = TestApp::spawn().await;
    let db = src.database().clone();
    let registry = src.state.registry.clone();
    tokio::task::spawn_blocking(move || {
        let domains = ["dichvucong.hanoi.gov.vn".to_string()];
        let new = NewTenant::parse("ha-noi", "Hà Nội", "standard", &domains, "localhost").unwrap();
        provision(&db, &new, "test").unwrap();
        registry.reload().unwrap();
    })
    .await
    .unwrap();
    src.create_tenant("quang-ninh", "Quảng Ninh").await;
    let citizen = src.citizen_token(HOST, "khai@example.vn").await;
    let official = src
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    let admin = src
        .staff_token("ha-noi", "admin@hanoi.gov.vn", StaffRole::Admin)
        .await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(src.submit_licence_renewal(HOST, &citizen).await);
    }
    // The two documents the procedure requires, so that the dossier can be accepted.
    let pdf_id = upload(
        &src,
        &citizen,
        &codes[0],
        "giay-to.pdf",
        PDF,
        "licence_scan",
    )
    .await;
    upload(&src, &citizen, &codes[0], "anh.png", PNG, "portrait_photo").await;
    for action in ["accept", "process"] {
        let res = src
            .act(
                HOST,
                &official,
                &codes[0],
                serde_json::json!({"action": action}),
            )
            .await;
        assert_eq!(res.status(), 200, "{action}");
    }
    // A paper result: its verification code must verify in the new installation too.
    let res = src
        .post_json(
            HOST,
            &format!("/api/v1/manage/dossiers/{}/result", codes[0]),
            Some(&official),
            &serde_json::json!({"decision_number": "123/QĐ-SGTVT", "pickup": "Bộ phận một cửa, 258 Võ Chí Công"}),
        )
        .await;
    assert!(res.status().is_success(), "result: {}", res.status());
    // The official's answer carries the code (the citizen sees it once the result is returned).
    let attached: serde_json::Value = res.json().await.unwrap();
    let verification = attached["result"]["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    let res = src
        .client
        .put(src.url("/api/v1/manage/logo"))
        .header("Host", HOST)
        .bearer_auth(&admin)
        .multipart(Form::new().part("file", file_part("logo.png", PNG)))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "logo: {}", res.status());
    // The other province has a dossier too, which must not travel.
    let qn = src
        .token("quang-ninh.localhost", "khai@example.vn", CITIZEN_PASSWORD)
        .await;
    src.submit_licence_renewal("quang-ninh.localhost", &qn)
        .await;
    let src_detail: serde_json::Value = src
        .get_with_token(HOST, &format!("/api/v1/dossiers/{}", codes[0]), &citizen)
        .await
        .json()
        .await
        .unwrap();

    // The mail worker has sent what the moves queued (else it would change rows meanwhile).
    let mut raw = src.raw_connection();
    for _ in 0..200 {
        let unsent = json_rows(
            &mut raw,
            "SELECT id::text AS v FROM t_ha_noi.outbox WHERE sent_at IS NULL",
        );
        if unsent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(raw);

    // Export with the command line.
    let file = temp_file("ha-noi.jsonl");
    let out = portal(
        &src.db.url,
        &[
            "tenant",
            "export",
            "ha-noi",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().last().unwrap().starts_with("{\"end\""));
    assert!(
        !text.contains("QNI-"),
        "nothing of Quảng Ninh in Hà Nội's export"
    );

    // Import into a second installation (another database, same cluster).
    let dst = TestApp::spawn().await;
    let out = portal(&dst.db.url, &["tenant", "import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    dst.state.registry.reload().unwrap();

    // Row by row, every table of the schema (attachment bytes and logo included) and the
    // province's control-plane rows.
    let (mut a, mut b) = (src.raw_connection(), dst.raw_connection());
    let (src_rows, dst_rows) = (tenant_rows(&mut a), tenant_rows(&mut b));
    let names: Vec<&str> = src_rows.iter().map(|(t, _)| t.as_str()).collect();
    for t in [
        "dossiers",
        "dossier_events",
        "attachments",
        "blobs",
        "staff",
        "logo",
        "outbox",
    ] {
        assert!(names.contains(&t), "{t} in {names:?}");
    }
    for ((t, x), (_, y)) in src_rows.iter().zip(&dst_rows) {
        assert_eq!(x, y, "table {t}");
    }
    assert_eq!(src_rows.len(), dst_rows.len());
    let nonempty = |t: &str| src_rows.iter().find(|(n, _)| n == t).unwrap().1.len();
    assert_eq!(nonempty("dossiers"), 3);
    assert_eq!(nonempty("attachments"), 2);
    assert!(nonempty("dossier_events") >= 5);
    let (x, y) = (control_rows(&mut a), control_rows(&mut b));
    assert!(x.len() >= 4, "{x:#?}");
    assert_eq!(x, y);
    // The role is the new installation's own.
    let roles = |c: &mut PgConnection| {
        json_rows(
            c,
            "SELECT role_name AS v FROM public.tenants WHERE slug = 'ha-noi'",
        )
    };
    assert_ne!(roles(&mut a), roles(&mut b));

    // The result verifies on the new installation's national host.
    let res = dst
        .get("localhost", &format!("/api/v1/verify/{verification}"))
        .await;
    assert_eq!(res.status(), 200, "verify after import");

    // The imported province serves its dossiers: the citizen's national account came along,
    // without its password (exports carry no hash); support sets one (`portal user create`).
    let res = dst
        .post_json(
            HOST,
            "/api/v1/auth/token",
            None,
            &serde_json::json!({"email": "khai@example.vn", "password": CITIZEN_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 401, "the old password came along");
    let mut set = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "user",
            "create",
            "--tenant",
            "ha-noi",
            "--email",
            "khai@example.vn",
            "--role",
            "citizen",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &dst.db.url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(set.stdin.take().unwrap(), "{CITIZEN_PASSWORD}").unwrap();
    }
    assert!(set.wait().unwrap().success());
    let citizen2 = dst.token(HOST, "khai@example.vn", CITIZEN_PASSWORD).await;
    let list: serde_json::Value = dst
        .get_with_token(HOST, "/api/v1/dossiers", &citizen2)
        .await
        .json()
        .await
        .unwrap();
    let mut listed: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["tracking_code"].as_str().unwrap())
        .collect();
    listed.sort();
    let mut expected: Vec<&str> = codes.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(listed, expected);
    let dst_detail: serde_json::Value = dst
        .get_with_token(HOST, &format!("/api/v1/dossiers/{}", codes[0]), &citizen2)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(src_detail, dst_detail);
    let pdf = dst
        .get_with_token(
            HOST,
            &format!("/api/v1/dossiers/{}/attachments/{pdf_id}", codes[0]),
            &citizen2,
        )
        .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(
        dst.get(HOST, "/logo").await.bytes().await.unwrap().as_ref(),
        PNG
    );
    assert_eq!(
        dst.get("dichvucong.hanoi.gov.vn", "/api/v1/site")
            .await
            .status(),
        200,
        "the custom domain came along"
    );
    // Staff sign in, and the sequences go on after the imported ids.
    dst.token(HOST, "canbo@hanoi.gov.vn", STAFF_PASSWORD).await;
    let new_code = dst.submit_licence_renewal(HOST, &citizen2).await;
    assert!(!codes.contains(&new_code));

    // A second import of the same province is refused, and so are other versions and
    // truncated files; a refused import leaves nothing behind.
    let out = portal(&dst.db.url, &["tenant", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists here already"));
    let third = TestApp::spawn().await;
    let other_version = temp_file("other-version.jsonl");
    rewrite(&file, &other_version, |mut lines| {
        let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        header["tenant_schema_version"] = "20000101000000".into();
        lines[0] = header.to_string();
        // Signed by the operator: the versions, not the signature, are what is refused.
        crate::attacks_import::sign(lines, EXPORT_KEY)
    });
    let truncated = temp_file("truncated.jsonl");
    rewrite(&file, &truncated, |mut lines| {
        lines.pop();
        lines
    });
    for (bad, why) in [
        (&other_version, "schema versions"),
        (&truncated, "truncated"),
    ] {
        let out = portal(&third.db.url, &["tenant", "import", bad.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(why), "{stderr}");
    }
    let mut c = third.raw_connection();
    assert!(json_rows(&mut c, "SELECT slug AS v FROM public.tenants").is_empty());
    assert!(
        json_rows(
            &mut c,
            "SELECT nspname::text AS v FROM pg_namespace WHERE nspname = 't_ha_noi'"
        )
        .is_empty()
    );
    for f in [file, other_version, truncated] {
        let _ = std::fs::remove_file(f);
    }
}

/// #24 Low: entering a province inside a control-plane transaction (import, provisioning,
/// manifests) set `statement_timeout = 0` for the rest of that transaction.
#[tokio::test]
async fn entering_a_province_inside_a_control_transaction_keeps_its_statement_timeout() {
    let app = TestApp::spawn().await;
    let t = app.create_tenant("ha-noi", "Hà Nội").await;
    let db = app.database().clone();
    let (inside, after) = tokio::task::spawn_blocking(move || {
        db.control(|conn| {
            let show = |c: &mut PgConnection| {
                json_rows(c, "SELECT current_setting('statement_timeout') AS v").remove(0)
            };
            portal::db::tenant_enter(conn, &t.db_ref())?;
            let inside = show(conn);
            portal::db::tenant_leave(conn)?;
            Ok((inside, show(conn)))
        })
        .unwrap()
    })
    .await
    .unwrap();
    // The configured 5000 ms, as PostgreSQL shows it.
    assert_eq!(inside, "5s", "inside the province");
    assert_eq!(after, "5s", "back in the control plane");
}
