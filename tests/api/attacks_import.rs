//! #15 finding 2: an import file escapes its province. Each test takes a real export of Hà
//! Nội, edits it as an attacker would (re-signing it with the operator key where the attack
//! is in the content, not in the signature), imports it into an installation where Quảng
//! Ninh lives, and checks that the import is refused with a clear error and nothing written,
//! or that what it carried has no effect.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::Text;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{EXPORT_KEY, TestApp, TestDb, test_settings};
use crate::mail_sink::MailSink;

const HOST: &str = "ha-noi.localhost";
const EMAIL: &str = "khai@example.vn";

/// The command line, with the operator's signing key unless `key` is `None`.
fn portal(database_url: &str, args: &[&str], key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("PORTAL__EXPORT__SIGNING_KEY");
    if let Some(k) = key {
        cmd.env("PORTAL__EXPORT__SIGNING_KEY", k);
    }
    cmd.output().expect("run portal")
}

struct Source {
    file: PathBuf,
    citizen_id: String,
}

static SOURCE: tokio::sync::OnceCell<Source> = tokio::sync::OnceCell::const_new();

/// One export of Hà Nội (a citizen's dossier, its mail, usage), made once per test run.
async fn source() -> &'static Source {
    SOURCE
        .get_or_init(|| async {
            let src = TestApp::spawn().await;
            src.create_tenant("ha-noi", "Hà Nội").await;
            let token = src.citizen_token(HOST, EMAIL).await;
            src.submit_licence_renewal(HOST, &token).await;
            let file = std::env::temp_dir().join(format!(
                "{}-attack-source.jsonl",
                uuid::Uuid::new_v4().simple()
            ));
            let out = portal(
                &src.db.url,
                &[
                    "tenant",
                    "export",
                    "ha-noi",
                    "--out",
                    file.to_str().unwrap(),
                ],
                Some(EXPORT_KEY),
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            #[derive(QueryableByName)]
            struct Id {
                #[diesel(sql_type = Text)]
                v: String,
            }
            let citizen_id = sql_query(
                "SELECT id::text AS v FROM identity.citizens WHERE email = 'khai@example.vn'",
            )
            .get_result::<Id>(&mut src.raw_connection())
            .unwrap()
            .v;
            Source { file, citizen_id }
        })
        .await
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Recounts the sections and signs the file with `key` as the exporter does: HMAC-SHA256 over
/// every line before the trailer (each with its newline), then `end:` and the counts as JSON.
pub(crate) fn sign(mut lines: Vec<String>, key: &str) -> Vec<String> {
    let last = lines.pop().unwrap();
    let mut trailer: Value = serde_json::from_str(&last).unwrap();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for l in &lines[1..] {
        let v: Value = serde_json::from_str(l).unwrap();
        *counts
            .entry(v["t"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    for l in &lines {
        mac.update(l.as_bytes());
        mac.update(b"\n");
    }
    mac.update(b"end:");
    mac.update(serde_json::to_string(&counts).unwrap().as_bytes());
    trailer["end"] = json!(counts);
    trailer["signature"] = json!(format!("hmac-sha256:{}", hex(&mac.finalize().into_bytes())));
    lines.push(trailer.to_string());
    lines
}

const ORDER: [&str; 7] = [
    "public:tenant_domains",
    "public:leases",
    "public:usage_events",
    "public:usage_daily",
    "public:usage_period",
    "public:moved_dossiers",
    "identity:citizens",
];

/// Adds `row` to `section`: after its last line, else where the section would be.
fn add_row(lines: &mut Vec<String>, section: &str, row: Value) {
    let line = json!({"t": section, "r": row}).to_string();
    let tag = format!("{{\"t\":\"{section}\"");
    let at = if let Some(i) = lines.iter().rposition(|l| l.starts_with(&tag)) {
        i + 1
    } else {
        let later: Vec<String> = ORDER
            .iter()
            .skip_while(|s| **s != section)
            .skip(1)
            .map(|s| format!("{{\"t\":\"{s}\""))
            .collect();
        lines
            .iter()
            .position(|l| later.iter().any(|t| l.starts_with(t)))
            .unwrap_or(lines.len() - 1)
    };
    lines.insert(at, line);
}

/// Rewrites the rows of `section` with `edit`.
fn edit_rows(lines: &mut [String], section: &str, edit: impl Fn(&mut Value)) {
    for l in lines.iter_mut() {
        let mut v: Value = serde_json::from_str(l).unwrap();
        if v["t"] == section {
            edit(&mut v["r"]);
            *l = v.to_string();
        }
    }
}

fn write(lines: &[String]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}-attack.jsonl", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[derive(QueryableByName)]
struct V {
    #[diesel(sql_type = Text)]
    v: String,
}

fn strings(conn: &mut PgConnection, sql: &str) -> Vec<String> {
    sql_query(sql)
        .load::<V>(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .into_iter()
        .map(|r| r.v)
        .collect()
}

/// An installation where Quảng Ninh lives: the victim. Returns it and its tenant id.
async fn destination(settings: Option<portal::config::Settings>) -> (TestApp, String) {
    let app = match settings {
        Some(s) => {
            let db = TestDb::create();
            let mut s = s;
            s.database.url = secrecy::SecretString::from(db.url.clone());
            TestApp::spawn_with(db, s).await
        }
        None => TestApp::spawn().await,
    };
    let t = app.create_tenant("quang-ninh", "Quảng Ninh").await;
    (app, t.id.to_string())
}

/// Imports `lines` (signed with the test key); returns the output.
fn import(dst: &TestApp, lines: &[String]) -> Output {
    let path = write(lines);
    let out = portal(
        &dst.db.url,
        &["tenant", "import", path.to_str().unwrap()],
        Some(EXPORT_KEY),
    );
    let _ = std::fs::remove_file(path);
    out
}

/// The import was refused, saying `why`, and wrote nothing.
fn assert_refused(dst: &TestApp, out: &Output, why: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the import was accepted: {}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    for w in why {
        assert!(stderr.contains(w), "{w:?} not in: {stderr}");
    }
    let mut c = dst.raw_connection();
    assert!(
        strings(
            &mut c,
            "SELECT slug AS v FROM public.tenants WHERE slug = 'ha-noi'"
        )
        .is_empty()
    );
    assert!(
        strings(
            &mut c,
            "SELECT nspname::text AS v FROM pg_namespace WHERE nspname = 't_ha_noi'"
        )
        .is_empty()
    );
}

/// What the victim owns in the control plane, for before/after comparisons.
fn victim_rows(dst: &TestApp, victim: &str) -> Vec<String> {
    let mut c = dst.raw_connection();
    let mut out = Vec::new();
    for table in [
        "tenant_domains",
        "leases",
        "usage_events",
        "usage_daily",
        "usage_period",
    ] {
        out.extend(strings(
            &mut c,
            &format!(
                "SELECT row_to_json(x)::text AS v FROM public.{table} x WHERE tenant_id = '{victim}' ORDER BY 1"
            ),
        ));
    }
    out
}

#[tokio::test]
async fn an_import_cannot_attach_a_custom_domain_to_another_province() {
    let src = source().await;
    let (dst, victim) = destination(None).await;
    let before = victim_rows(&dst, &victim);
    let mut l = lines(&src.file);
    add_row(
        &mut l,
        "public:tenant_domains",
        json!({"host": "dichvucong.quangninh.gov.vn", "tenant_id": victim, "kind": "custom",
               "created_at": "2026-01-01T00:00:00+00:00"}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(&dst, &out, &["public:tenant_domains", &victim]);
    assert_eq!(victim_rows(&dst, &victim), before);
    assert_eq!(
        dst.get("dichvucong.quangninh.gov.vn", "/api/v1/site")
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn an_import_cannot_give_another_province_a_lease() {
    let src = source().await;
    let (dst, victim) = destination(None).await;
    let before = victim_rows(&dst, &victim);
    let mut l = lines(&src.file);
    add_row(
        &mut l,
        "public:leases",
        json!({"id": 999, "tenant_id": victim, "plan_code": "premium", "starts_on": "2026-01-01",
               "created_at": "2026-01-01T00:00:00+00:00", "created_by": "attacker"}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(&dst, &out, &["public:leases", &victim]);
    assert_eq!(victim_rows(&dst, &victim), before);
}

#[tokio::test]
async fn an_import_cannot_bill_usage_to_another_province_nor_carry_insane_usage() {
    let src = source().await;
    let (dst, victim) = destination(None).await;
    let before = victim_rows(&dst, &victim);
    let period = chrono::Utc::now().format("%Y-%m").to_string();
    let mut l = lines(&src.file);
    add_row(
        &mut l,
        "public:usage_period",
        json!({"tenant_id": victim, "metric": "dossiers", "period": period,
               "quantity": 5_000_000, "notified": 0}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(&dst, &out, &["public:usage_period", &victim]);
    assert_eq!(victim_rows(&dst, &victim), before);

    // Its own usage, but five million dossiers from a file that holds one.
    let mut l = lines(&src.file);
    let own = serde_json::from_str::<Value>(&l[0]).unwrap()["tenant_id"].clone();
    add_row(
        &mut l,
        "public:usage_events",
        json!({"id": 1, "tenant_id": own, "metric": "dossiers", "quantity": 5_000_000,
               "occurred_at": "2026-01-15T00:00:00+00:00", "received_at": "2026-01-15T00:00:00+00:00",
               "idempotency_key": "attack"}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(&dst, &out, &["public:usage_events", "dossiers"]);
}

#[tokio::test]
async fn an_import_cannot_plant_a_national_account() {
    let src = source().await;
    let (dst, _) = destination(None).await;
    let planted = "Planted-Pass-2026!";
    let hash = portal::accounts::password::hash(planted).unwrap();
    let mut l = lines(&src.file);
    add_row(
        &mut l,
        "identity:citizens",
        json!({"id": uuid::Uuid::new_v4(), "email": "planted@example.vn", "full_name": "Planted",
               "password_hash": hash, "active": true, "created_at": "2026-01-01T00:00:00+00:00"}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(&dst, &out, &["identity:citizens", "planted@example.vn"]);
    let res = dst
        .post_json(
            "quang-ninh.localhost",
            "/api/v1/auth/token",
            None,
            &json!({"email": "planted@example.vn", "password": planted}),
        )
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn an_export_carries_no_password_hash_and_an_import_sets_none_from_the_file() {
    let src = source().await;
    let mut l = lines(&src.file);
    let citizens: Vec<&String> = l
        .iter()
        .filter(|x| x.starts_with("{\"t\":\"identity:citizens\""))
        .collect();
    assert_eq!(citizens.len(), 1);
    assert!(
        !citizens[0].contains("password_hash"),
        "the export carries a hash: {}",
        citizens[0]
    );
    // The file's own citizen, with a hash the attacker chose (cheap argon2 parameters).
    let planted = "Planted-Pass-2026!";
    let hash = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).unwrap(),
    );
    let hash = {
        use argon2::password_hash::PasswordHasher;
        hash.hash_password(planted.as_bytes()).unwrap().to_string()
    };
    edit_rows(&mut l, "identity:citizens", |r| {
        r["password_hash"] = json!(hash);
    });
    let (dst, _) = destination(None).await;
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dst.state.registry.reload().unwrap();
    let res = dst
        .post_json(
            HOST,
            "/api/v1/auth/token",
            None,
            &json!({"email": EMAIL, "password": planted}),
        )
        .await;
    assert_eq!(res.status(), 401, "signed in with the file's hash");
    let stored = strings(
        &mut dst.raw_connection(),
        &format!(
            "SELECT password_hash AS v FROM identity.citizens WHERE id = '{}'",
            src.citizen_id
        ),
    );
    assert_ne!(stored, vec![hash]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsent_mail_in_an_import_is_not_sent() {
    let src = source().await;
    let sink = MailSink::start().await;
    let mut settings = test_settings("postgres://unused");
    settings.mail.smtp_url = secrecy::SecretString::from(sink.url());
    let (dst, _) = destination(Some(settings)).await;
    let mut l = lines(&src.file);
    add_row(
        &mut l,
        "tenant:outbox",
        json!({"id": 9999, "kind": "status", "dossier_id": null, "to_email": "victim@evil.test",
               "subject": "Your account", "body": "click https://evil.test", "created_at": "2026-01-01T00:00:00+00:00",
               "attempts": 0, "next_attempt_at": "2026-01-01T00:00:00+00:00", "claimed_until": null,
               "sent_at": null, "last_error": null, "dedup_key": null}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dst.state.registry.reload().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let to_attacker: Vec<_> = sink
        .received()
        .into_iter()
        .filter(|m| m.to == "victim@evil.test")
        .collect();
    assert!(to_attacker.is_empty(), "sent: {to_attacker:?}");
    let due = strings(
        &mut dst.raw_connection(),
        "SELECT to_email AS v FROM t_ha_noi.outbox WHERE sent_at IS NULL AND next_attempt_at < 'infinity'",
    );
    assert!(due.is_empty(), "imported mail waits to be sent: {due:?}");
}

#[tokio::test]
async fn an_import_cannot_inject_css_through_branding() {
    let src = source().await;
    let (dst, _) = destination(None).await;
    let mut l = lines(&src.file);
    edit_rows(&mut l, "tenant:branding", |r| {
        r["accent_color"] = json!("#000000;}body{background:url(https://evil.test/x)}");
    });
    let out = import(&dst, &sign(l, EXPORT_KEY));
    if out.status.success() {
        dst.state.registry.reload().unwrap();
        let css = dst.get(HOST, "/brand.css").await.text().await.unwrap();
        panic!("imported; /brand.css now reads: {css}");
    }
    assert_refused(&dst, &out, &["accent_color"]);
}

#[tokio::test]
async fn an_import_cannot_carry_a_name_with_line_breaks() {
    let src = source().await;
    let (dst, _) = destination(None).await;
    let mut l = lines(&src.file);
    let mut header: Value = serde_json::from_str(&l[0]).unwrap();
    header["tenant"]["name"] = json!("Hà Nội\r\nBcc: all@evil.test");
    l[0] = header.to_string();
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(&dst, &out, &["name"]);
}

#[tokio::test]
async fn a_tampered_export_is_refused_with_nothing_written() {
    let src = source().await;
    let (dst, _) = destination(None).await;
    let mut l = lines(&src.file);
    // A dossier's applicant changed after signing, the signature left as it was.
    edit_rows(&mut l, "tenant:dossiers", |r| {
        r["applicant_name"] = json!("Someone Else");
    });
    let out = import(&dst, &l);
    assert_refused(&dst, &out, &["signature"]);
    // Signed with another key: refused too.
    let out = import(
        &dst,
        &sign(lines(&src.file), "another-key-0123456789abcdef0123456789"),
    );
    assert_refused(&dst, &out, &["signature"]);
}

#[tokio::test]
async fn an_unsigned_export_is_refused_and_the_key_is_required() {
    let src = source().await;
    let (dst, _) = destination(None).await;
    let mut l = lines(&src.file);
    let last = l.len() - 1;
    let mut trailer: Value = serde_json::from_str(&l[last]).unwrap();
    trailer.as_object_mut().unwrap().remove("signature");
    l[last] = trailer.to_string();
    let out = import(&dst, &l);
    assert_refused(&dst, &out, &["not signed"]);
    // Without the operator key, neither export nor import runs.
    let path = write(&lines(&src.file));
    let out = portal(
        &dst.db.url,
        &["tenant", "import", path.to_str().unwrap()],
        None,
    );
    assert_refused(&dst, &out, &["PORTAL__EXPORT__SIGNING_KEY"]);
    let out = portal(
        &dst.db.url,
        &[
            "tenant",
            "export",
            "quang-ninh",
            "--out",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORTAL__EXPORT__SIGNING_KEY"));
    let _ = std::fs::remove_file(path);
}

/// #18: an export carries the codes of dossiers moved to its province
/// (`public:moved_dossiers`), which tracking looks up before a code's prefix. A file naming
/// another province's code there would take that code's tracking away from it: refused, as is
/// a code of the file's own that another province here holds as moved.
#[tokio::test]
async fn an_import_cannot_claim_another_provinces_tracking_codes() {
    let src = source().await;
    let (dst, victim) = destination(None).await;
    let qn = dst.citizen_token("quang-ninh.localhost", EMAIL).await;
    let code = dst
        .submit_licence_renewal("quang-ninh.localhost", &qn)
        .await;
    let track = |code: String| {
        let dst = &dst;
        async move {
            dst.get(
                "localhost",
                &format!(
                    "/api/v1/tracking/{code}?id_number={}",
                    crate::helpers::CITIZEN_ID
                ),
            )
            .await
            .status()
        }
    };
    assert_eq!(track(code.clone()).await, 200);
    let own = serde_json::from_str::<Value>(&lines(&src.file)[0]).unwrap()["tenant_id"].clone();
    let mut l = lines(&src.file);
    add_row(
        &mut l,
        "public:moved_dossiers",
        json!({"tracking_code": code, "tenant_id": own, "moved_on": "2026-07-01"}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(
        &dst,
        &out,
        &["public:moved_dossiers", &code, "not a dossier of the file"],
    );
    assert_eq!(track(code.clone()).await, 200);

    // The file's own dossier, recorded here as moved to Quảng Ninh.
    let l = lines(&src.file);
    let own_code = l
        .iter()
        .filter_map(|x| serde_json::from_str::<Value>(x).ok())
        .find(|v| v["t"] == "tenant:dossiers")
        .unwrap()["r"]["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();
    sql_query(format!(
        "INSERT INTO public.moved_dossiers (tracking_code, tenant_id, moved_on) \
         VALUES ('{own_code}', '{victim}', '2026-07-01')"
    ))
    .execute(&mut dst.raw_connection())
    .unwrap();
    let mut l = l;
    add_row(
        &mut l,
        "public:moved_dossiers",
        json!({"tracking_code": own_code, "tenant_id": own, "moved_on": "2026-07-01"}),
    );
    let out = import(&dst, &sign(l, EXPORT_KEY));
    assert_refused(
        &dst,
        &out,
        &[
            "public:moved_dossiers",
            &own_code,
            "moved to another province",
        ],
    );
}
