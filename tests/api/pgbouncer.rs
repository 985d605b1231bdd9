//! The isolation checks again, with the app's pool behind a real PgBouncer in transaction
//! mode (Debian's 1.18: no prepared statements across transactions, so the statement cache is
//! off). LISTEN keeps its own direct connection. Without a `pgbouncer` binary these tests say
//! so loudly and return; with `PORTAL_TEST_REQUIRE_PGBOUNCER=1` (CI) they fail instead.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Integer, Text};
use futures_util::StreamExt;
use portal::app::provisioning::provision;
use portal::db::Db;
use portal::tenancy::provision::NewTenant;
use secrecy::SecretString;

use crate::children::{ChildGuard, free_port};
use crate::helpers::{TestApp, TestDb, licence_renewal, test_settings};

/// Server connections PgBouncer keeps for the app: far fewer than the app's 16 clients.
const SERVER_POOL: usize = 3;

fn pgbouncer_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("pgbouncer"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/sbin/pgbouncer")).filter(|p| p.is_file()))
}

struct Bounced {
    app: TestApp,
    /// The same database through a second pool entry that has ONE server connection.
    one_url: String,
    _bouncer: ChildGuard,
    /// The generated ini and user list.
    dir: PathBuf,
}

impl Drop for Bounced {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh database, a PgBouncer in front of it, and the app whose pool goes through it.
async fn through_pgbouncer() -> Option<Bounced> {
    let Some(binary) = pgbouncer_binary() else {
        let msg = "pgbouncer is not installed (apt-get install pgbouncer): the PgBouncer tests did NOT run";
        if std::env::var_os("PORTAL_TEST_REQUIRE_PGBOUNCER").is_some() {
            panic!("{msg}");
        }
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!!! SKIPPED: {msg}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        return None;
    };
    let db = TestDb::create();
    let dir = std::env::temp_dir().join(format!(
        "portal-pgbouncer-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let name = &db.name.clone();
    // connect_query: every server connection starts fail-closed, as the pool's own
    // `SET search_path = pg_catalog` reaches only one of them behind PgBouncer.
    let target =
        "host=127.0.0.1 port=5432 user=postgres connect_query='SET search_path = pg_catalog'";
    std::fs::write(
        dir.join("pgbouncer.ini"),
        format!(
            "[databases]\n\
             {name} = {target} dbname={name} pool_size={SERVER_POOL}\n\
             {name}_one = {target} dbname={name} pool_size=1\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {auth}\n\
             pool_mode = transaction\n\
             max_client_conn = 500\n\
             server_reset_query =\n",
            auth = dir.join("users.txt").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
    let mut cmd = Command::new(binary);
    // PgBouncer refuses to run as root; it can drop to another user itself.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    if root {
        cmd.args(["-u", "postgres"]);
    }
    cmd.arg(dir.join("pgbouncer.ini"));
    let bouncer = ChildGuard::spawn("pgbouncer", cmd);
    let url = format!("postgres://postgres@127.0.0.1:{port}/{name}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while PgConnection::establish(&url).is_err() {
        assert!(
            Instant::now() < deadline,
            "pgbouncer did not start:\n{}",
            bouncer.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut settings = test_settings(&db.url);
    settings.database.url = SecretString::from(url);
    settings.database.direct_url = SecretString::from(db.url.clone());
    settings.database.statement_cache = false;
    let app = TestApp::spawn_with(db, settings).await;
    Some(Bounced {
        app,
        one_url: format!("postgres://postgres@127.0.0.1:{port}/{name}_one"),
        _bouncer: bouncer,
        dir,
    })
}

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

fn text(conn: &mut PgConnection, sql: &str) -> QueryResult<String> {
    sql_query(sql).get_result::<One>(conn).map(|o| o.v)
}

#[tokio::test]
async fn behind_pgbouncer_another_provinces_schema_is_refused_inside_the_door() {
    let Some(b) = through_pgbouncer().await else {
        return;
    };
    let a = b.app.create_tenant("ha-noi", "Hà Nội").await;
    b.app.create_tenant("quang-ninh", "Quảng Ninh").await;
    let door = b.app.database().tenant(a.db_ref());
    let role = a.role.clone();
    let (schema, user, refused, own) = tokio::task::spawn_blocking(move || {
        door.tx(|conn| {
            let schema = text(conn, "SELECT current_schema()::text AS v")?;
            let user = text(conn, "SELECT current_user::text AS v")?;
            let refused = conn
                .transaction(|c| text(c, "SELECT display_name AS v FROM t_quang_ninh.branding"))
                .unwrap_err()
                .to_string();
            let own = text(conn, "SELECT display_name AS v FROM branding")?;
            Ok((schema, user, refused, own))
        })
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(schema, "t_ha_noi");
    assert_eq!(user, role);
    assert!(refused.contains("permission denied"), "{refused}");
    assert_eq!(own, "Hà Nội");
}

#[tokio::test]
async fn behind_pgbouncer_every_server_connection_is_back_on_pg_catalog_after_tenant_work() {
    let Some(b) = through_pgbouncer().await else {
        return;
    };
    let a = b.app.create_tenant("ha-noi", "Hà Nội").await;
    let db = b.app.database().clone();
    let (seen, pids) = tokio::task::spawn_blocking(move || {
        // Tenant transactions from 16 client connections over 3 server connections...
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..8 {
                        let schema = db
                            .tenant(a.db_ref())
                            .tx(|c| Ok(text(c, "SELECT current_schema()::text AS v")?))
                            .unwrap();
                        assert_eq!(schema, "t_ha_noi");
                    }
                });
            }
        });
        // ...then, outside any door, what every one of them sees (held a moment, so the
        // clients spread over all the server connections).
        let seen = std::sync::Mutex::new(Vec::new());
        let pids = std::sync::Mutex::new(HashSet::new());
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    let mut conn = db.checkout().unwrap();
                    conn.transaction::<_, diesel::result::Error, _>(|c| {
                        let path = text(c, "SELECT current_setting('search_path') AS v")?;
                        let user = text(c, "SELECT current_user::text AS v")?;
                        let pid = text(c, "SELECT pg_backend_pid()::text AS v")?;
                        let bare = c
                            .transaction(|c| text(c, "SELECT display_name AS v FROM branding"))
                            .unwrap_err()
                            .to_string();
                        std::thread::sleep(Duration::from_millis(30));
                        seen.lock().unwrap().push((path, user, bare));
                        pids.lock().unwrap().insert(pid);
                        Ok(())
                    })
                    .unwrap();
                });
            }
        });
        (seen.into_inner().unwrap(), pids.into_inner().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(seen.len(), 16);
    for (path, user, bare) in &seen {
        assert_eq!(path, "pg_catalog");
        assert!(!user.starts_with("pt_"), "role left behind: {user}");
        assert!(bare.contains("does not exist"), "{bare}");
    }
    // PgBouncer really multiplexed: 16 clients, at most its 3 server connections.
    assert!(
        (1..=SERVER_POOL).contains(&pids.len()),
        "server backends seen: {pids:?}"
    );
}

#[tokio::test]
async fn behind_pgbouncer_mixed_concurrent_requests_each_see_only_their_own_province() {
    let Some(b) = through_pgbouncer().await else {
        return;
    };
    let app = &b.app;
    let mut markers = HashMap::new();
    let mut codes = HashMap::new();
    let mut tokens = HashMap::new();
    for i in 0..8 {
        let slug = format!("tinh-{i:02}");
        let t = app.create_tenant(&slug, &format!("Tỉnh số {i}")).await;
        let marker = format!(
            "MARKER{i:02}X{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        app.set_display_name(&t, &marker).await;
        let host = format!("{slug}.localhost");
        // One national account files a dossier in every province.
        let token = app.citizen_token(&host, "khai@example.vn").await;
        for _ in 0..2 {
            app.submit_licence_renewal(&host, &token).await;
        }
        markers.insert(slug.clone(), marker);
        codes.insert(slug.clone(), format!("{}-", t.code));
        tokens.insert(slug, token);
    }
    let slugs: Vec<String> = markers.keys().cloned().collect();
    let paths = [
        "/",
        "/api/v1/site",
        "/api/v1/dossiers",
        "/api/v1/site?lang=en",
    ];
    let total = 2_000usize;
    let results: Vec<(String, &str, u16, String)> = futures_util::stream::iter(0..total)
        .map(|i| {
            let slug = slugs[(i * 5 + i / 8) % slugs.len()].clone();
            let path = paths[i % paths.len()];
            let token = tokens[&slug].clone();
            async move {
                let res = app
                    .get_with_token(&format!("{slug}.localhost"), path, &token)
                    .await;
                let status = res.status().as_u16();
                (slug, path, status, res.text().await.unwrap_or_default())
            }
        })
        .buffer_unordered(48)
        .collect()
        .await;
    assert_eq!(results.len(), total);
    let all_codes: Vec<&String> = codes.values().collect();
    for (slug, path, status, body) in &results {
        assert_eq!(*status, 200, "{slug}{path}: {body}");
        if *path == "/api/v1/dossiers" {
            let list: serde_json::Value = serde_json::from_str(body).unwrap();
            let list = list.as_array().unwrap();
            assert_eq!(list.len(), 2, "{slug}: {body}");
            for d in list {
                let code = d["tracking_code"].as_str().unwrap();
                assert!(code.starts_with(&codes[slug]), "{slug} saw {code}");
            }
            // No other province's code anywhere in the body.
            for other in all_codes.iter().filter(|c| **c != &codes[slug]) {
                assert!(!body.contains(other.as_str()), "{slug} saw {other}");
            }
        } else {
            let own = &markers[slug];
            assert!(body.contains(own.as_str()), "{slug}{path} lacks its marker");
            assert_eq!(
                body.matches("MARKER").count(),
                body.matches(own.as_str()).count(),
                "{slug} saw another province"
            );
        }
    }
}

#[tokio::test]
async fn behind_pgbouncer_the_statement_cache_must_be_off_and_the_switch_turns_it_off() {
    let Some(b) = through_pgbouncer().await else {
        return;
    };
    let mut settings = b.app.settings.database.clone();
    settings.url = SecretString::from(b.one_url.clone());
    settings.pool_size = 1;
    let count_tenants = |db: &Db| {
        db.control(|conn| {
            Ok(portal::db::schema::tenants::table
                .count()
                .get_result::<i64>(conn)?)
        })
    };
    let outcome = tokio::task::spawn_blocking(move || {
        // Two processes' connections sharing PgBouncer's one server connection.
        settings.statement_cache = true;
        let (first, second) = (Db::new(&settings), Db::new(&settings));
        let cached = (count_tenants(&first), count_tenants(&second));
        settings.statement_cache = false;
        let (first, second) = (Db::new(&settings), Db::new(&settings));
        let uncached: Vec<_> = (0..5)
            .flat_map(|_| [count_tenants(&first), count_tenants(&second)])
            .collect();
        (cached, uncached)
    })
    .await
    .unwrap();
    let ((first, second), uncached) = outcome;
    // With the cache, the second connection's named statement collides with the first's.
    assert!(first.is_ok());
    let err = second.expect_err("a cached statement behind PgBouncer 1.18 should collide");
    assert!(err.to_string().contains("__diesel_stmt_"), "{err}");
    // Without it, every query is one parse-bind-execute and works.
    for r in uncached {
        assert_eq!(r.unwrap(), 0);
    }
}

#[tokio::test]
async fn behind_pgbouncer_the_registry_still_hears_of_a_new_province_at_once() {
    let Some(b) = through_pgbouncer().await else {
        return;
    };
    let app = &b.app;
    app.create_tenant("ha-noi", "Hà Nội").await;
    // Another process provisions (through PgBouncer too); only NOTIFY tells this replica.
    let settings = app.settings.database.clone();
    tokio::task::spawn_blocking(move || {
        let other = Db::new(&settings);
        let new = NewTenant::parse("ca-mau", "Cà Mau", "standard", &[], "localhost").unwrap();
        provision(&other, &new, "test").unwrap();
    })
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let res = app.get("ca-mau.localhost", "/api/v1/site").await;
        if res.status() == 200 {
            break;
        }
        // The registry's safety-net reload is once a minute: seconds mean the NOTIFY arrived.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "new province not seen: {}",
            res.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The same pooled path still works for a dossier (a door transaction through PgBouncer).
    let token = app.citizen_token("ca-mau.localhost", "cm@example.vn").await;
    let res = app
        .post_json(
            "ca-mau.localhost",
            "/api/v1/dossiers",
            Some(&token),
            &licence_renewal(),
        )
        .await;
    assert_eq!(res.status(), 201);
    let n: i32 = sql_query("SELECT count(*)::int4 AS n FROM t_ca_mau.dossiers")
        .get_result::<N>(&mut PgConnection::establish(&app.db.url).unwrap())
        .unwrap()
        .n;
    assert_eq!(n, 1);
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = Integer)]
    n: i32,
}
