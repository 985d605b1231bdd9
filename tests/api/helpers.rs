//! `TestApp`: a fresh database, the app on port 0, and clean-up of both afterwards.

use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_query;
use portal::accounts::operators::{self, OperatorRole};
use portal::accounts::{Email, password};
use portal::app::provisioning::provision;
use portal::config::Settings;
use portal::db::Db;
use portal::db::migrate::run_public;
use portal::startup::Application;
use portal::tenancy::provision::NewTenant;
use portal::tenancy::{Tenant, branding};
use portal::web::AppState;
use secrecy::{ExposeSecret, SecretString};

pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789";
pub const OPERATOR_EMAIL: &str = "ops@example.vn";
pub const OPERATOR_PASSWORD: &str = "operator-password-1";
pub const CITIZEN_PASSWORD: &str = "mat-khau-rat-dai-2026";
pub const CITIZEN_ID: &str = "001090012345";
pub const STAFF_PASSWORD: &str = "can-bo-mat-khau-2026";

/// A complete, valid application to renew a driving licence.
pub fn licence_renewal() -> serde_json::Value {
    serde_json::json!({
        "procedure_code": "GPLX-001",
        "fields": {
            "full_name": "Nguyễn Thị Minh Khai",
            "id_number": CITIZEN_ID,
            "licence_number": "790123456789",
            "licence_class": "B2",
            "expiry_date": "2026-12-31",
            "delivery_address": "12 Phố Huế, phường Hai Bà Trưng, Hà Nội",
            "phone": "0912 345 678"
        }
    })
}

/// The documents GPLX-001 marks required in the catalog.
pub const LICENCE_DOCUMENTS: [&str; 2] = ["portrait_photo", "licence_scan"];

/// The PostgreSQL server the tests use (no database name).
pub fn server_url() -> String {
    std::env::var("TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The URL of database `name` on the test server. Without TLS: libpq's OpenSSL state torn down
/// at process exit while background threads still hold TLS connections crashed the test
/// binary now and then (SIGSEGV after every test had passed; diesel issue #3441).
pub fn database_url(name: &str) -> String {
    format!("{}/{name}?sslmode=disable", server_url())
}

/// A database that exists for one test and is dropped, with the roles its tenants made.
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// On a Citus coordinator: created and dropped on every node (tests/api/citus.rs).
    pub citus: bool,
}

impl TestDb {
    /// A copy of the template database: the public schema migrated once per run, not once
    /// per test.
    pub fn create() -> TestDb {
        let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&database_url("postgres"))
            .expect("PostgreSQL must run at TEST_PG_URL (see README)");
        let mut template = template();
        // Two copies started at the same instant may find the template "being accessed"; a
        // concurrent run with other migrations may have dropped ours (then it is rebuilt).
        let mut tries = 0;
        loop {
            match sql_query(format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            ))
            .execute(&mut admin)
            {
                Ok(_) => break,
                Err(e) if tries < 50 && e.to_string().contains("being accessed") => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20 * tries));
                }
                Err(e) if tries < 50 && e.to_string().contains("does not exist") => {
                    tries += 1;
                    template = build_template(template);
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        let url = database_url(&name);
        TestDb {
            name,
            url,
            citus: false,
        }
    }
}

/// The template every test database is copied from: the public migrations applied once, named
/// for the migrations it holds (a changed or new migration makes a new one; older ones are
/// dropped after a day unused). Built under another name and renamed when complete, under an advisory lock, so a
/// concurrent test binary never copies a half-migrated template.
fn template() -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/public");
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("migrations/public")
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            e.file_name().hash(&mut hasher);
            std::fs::read(e.join("up.sql"))
                .unwrap_or_default()
                .hash(&mut hasher);
        }
        // The reference data loaded into it counts too.
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/admin-units-2025.csv"),
        )
        .expect("reference/admin-units-2025.csv")
        .hash(&mut hasher);
        let name = format!("portal_test_tmpl_{:016x}", hasher.finish());
        build_template(Box::leak(name.into_boxed_str())).to_string()
    })
}

/// Builds template `name` unless it exists, and drops other runs' templates nobody copies.
fn build_template(name: &'static str) -> &'static str {
    {
        let mut admin = PgConnection::establish(&database_url("postgres"))
            .expect("PostgreSQL must run at TEST_PG_URL (see README)");
        sql_query("SELECT pg_advisory_lock(7202612)")
            .execute(&mut admin)
            .unwrap();
        #[derive(QueryableByName)]
        struct Db {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let existing: Vec<Db> = sql_query(
            "SELECT datname::text AS datname FROM pg_database WHERE datname LIKE 'portal\\_test\\_tmpl\\_%'",
        )
        .load(&mut admin)
        .unwrap();
        if !existing.iter().any(|d| d.datname == name) {
            let building = format!("{name}_b{}", std::process::id());
            sql_query(format!("DROP DATABASE IF EXISTS \"{building}\""))
                .execute(&mut admin)
                .unwrap();
            sql_query(format!("CREATE DATABASE \"{building}\""))
                .execute(&mut admin)
                .unwrap();
            run_public(&database_url(&building)).expect("public migrations");
            // As `portal migrate` does: the national list of units into the control plane.
            {
                // Closed before the rename: a database with a session cannot be renamed.
                let mut conn = PgConnection::establish(&database_url(&building)).unwrap();
                sql_query("SET search_path = public")
                    .execute(&mut conn)
                    .unwrap();
                portal::units::national::load(&mut conn).expect("national units");
            }
            sql_query(format!(
                "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
            ))
            .execute(&mut admin)
            .unwrap();
        }
        // Each template carries the time it was last used. Another checkout's (other
        // migrations: a branch, a worktree) may be in use by a run right now, between two
        // copies: it is dropped only after a day unused, not on sight (dropping on sight made
        // concurrent runs of two branches fail with "template database … does not exist").
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let _ = sql_query(format!("COMMENT ON DATABASE \"{name}\" IS '{now}'")).execute(&mut admin);
        for old in existing.iter().filter(|d| d.datname != name) {
            #[derive(QueryableByName)]
            struct Stamp {
                #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
                stamp: Option<String>,
            }
            let stamp = sql_query(
                "SELECT shobj_description(oid, 'pg_database') AS stamp FROM pg_database WHERE datname = $1",
            )
            .bind::<diesel::sql_types::Text, _>(&old.datname)
            .get_result::<Stamp>(&mut admin)
            .ok()
            .and_then(|s| s.stamp)
            .and_then(|s| s.parse::<u64>().ok());
            match stamp {
                Some(at) if now.saturating_sub(at) > 24 * 3600 => {
                    // Dropped when nobody copies it (else next time).
                    let _ = sql_query(format!("DROP DATABASE IF EXISTS \"{}\"", old.datname))
                        .execute(&mut admin);
                }
                Some(_) => {}
                None => {
                    let _ = sql_query(format!(
                        "COMMENT ON DATABASE \"{}\" IS '{now}'",
                        old.datname
                    ))
                    .execute(&mut admin);
                }
            }
        }
        let _ = sql_query("SELECT pg_advisory_unlock(7202612)").execute(&mut admin);
        name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Ok(mut conn) = PgConnection::establish(&self.url) else {
            return;
        };
        #[derive(QueryableByName)]
        struct Role {
            #[diesel(sql_type = diesel::sql_types::Text)]
            role_name: String,
        }
        let roles: Vec<Role> = sql_query("SELECT role_name FROM public.tenants")
            .load(&mut conn)
            .unwrap_or_default();
        drop(conn);
        // The maintenance database of the server this one is on (the coordinator, on Citus).
        let Some((prefix, _, query)) = portal::db::admin::split_url(&self.url) else {
            return;
        };
        let Ok(admin) = PgConnection::establish(&format!("{prefix}postgres{query}")) else {
            return;
        };
        // On Citus: the coordinator and each worker drop their copy themselves. Citus's
        // propagated DROP is not atomic (a worker still holding a session for a moment failed
        // it halfway, and a retry then failed on the node already without it).
        let mut servers = vec![admin];
        if self.citus {
            let workers: Vec<portal::db::citus::Node> = sql_query(
                "SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE groupid <> 0",
            )
            .load(&mut servers[0])
            .unwrap_or_default();
            let url = format!("{prefix}postgres{query}");
            servers.extend(workers.iter().filter_map(|w| {
                PgConnection::establish(&portal::db::citus::url_at(&url, w)?).ok()
            }));
        }
        for server in &mut servers {
            // A worker's Citus maintenance daemon may hold the database a moment longer than
            // FORCE waits for: retry (once on plain PostgreSQL).
            for attempt in 1..=if self.citus { 40 } else { 1 } {
                let dropped = sql_query(format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
                .execute(server);
                if dropped.is_ok() {
                    break;
                }
                if attempt == 40 {
                    eprintln!("drop {}: {dropped:?}", self.name);
                }
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
        }
        // Roles are the server's; on Citus, each node drops them (Citus propagates a role's
        // DROP only from a database where it knows the role, and this one is gone).
        for server in &mut servers {
            for r in &roles {
                let _ =
                    sql_query(format!("DROP ROLE IF EXISTS \"{}\"", r.role_name)).execute(server);
            }
        }
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    // reqwest clients here share rustls with the app: ring, installed once per process.
    portal::billing::provider::install_crypto_provider();
    let mut s = Settings::load().expect("default settings");
    s.server.bind = "127.0.0.1:0".parse().unwrap();
    s.server.base_domain = "localhost".into();
    s.server.workers = 2;
    // A loaded 2-core test machine may take a while to read a request; never reset it.
    s.server.request_head_timeout_secs = 60;
    s.database.url = SecretString::from(database_url.to_string());
    s.database.pool_size = 16;
    s.auth.jwt_secret = Some(SecretString::from(JWT_SECRET.to_string()));
    s.storage.data_dir = std::env::temp_dir().join(format!(
        "portal-test-data-{}",
        uuid::Uuid::new_v4().simple()
    ));
    s.mail.retry_base_ms = 200;
    // Tests run jobs themselves, when they mean to; the pool-size tests need the pool to themselves.
    s.jobs.enabled = false;
    // Flows that pay a fee without Stripe use the confirming sandbox, as a demo does.
    s.stripe.sandbox_confirms_fees = true;
    // …but the mail worker runs: most tests read the mail a move sends.
    s.jobs.mail_worker = Some(true);
    s.server.metrics_token = Some(SecretString::from(METRICS_TOKEN.to_string()));
    // Every test client is 127.0.0.1: the per-client limits are for the tests that mean them.
    s.limits.enabled = false;
    s
}

/// The bearer token of `/metrics` on the operator host in tests.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";
/// The operator key that signs exports in tests (`PORTAL__EXPORT__SIGNING_KEY`).
pub const EXPORT_KEY: &str = "test-export-signing-key-0123456789abcdef";

pub struct TestApp {
    pub port: u16,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    pub settings: Settings,
    // Dropped last: the server must let go of its connections first.
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let db = TestDb::create();
        let settings = test_settings(&db.url);
        TestApp::spawn_with(db, settings).await
    }

    /// [`TestApp::spawn`] with the per-client limits on (the suite's settings turn them off:
    /// every test client is 127.0.0.1), for the tests of those limits.
    pub async fn spawn_limited() -> TestApp {
        let db = TestDb::create();
        let mut settings = test_settings(&db.url);
        settings.limits.enabled = true;
        TestApp::spawn_with(db, settings).await
    }

    pub async fn spawn_with(db: TestDb, settings: Settings) -> TestApp {
        let app = Application::build(settings.clone()).expect("build app");
        let port = app.port();
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(256)
                // Shorter than the server's 5 s keep-alive: never reuse a connection it closed.
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            state,
            settings,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn database(&self) -> &Db {
        &self.state.db
    }

    pub async fn get(&self, host: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("Host", host)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_with_token(&self, host: &str, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("Host", host)
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(
        &self,
        host: &str,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header("Host", host)
            .json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Creates a province through the library and makes this replica see it at once.
    pub async fn create_tenant(&self, slug: &str, name: &str) -> Tenant {
        let db = self.database().clone();
        let registry = self.state.registry.clone();
        let (slug, name) = (slug.to_string(), name.to_string());
        tokio::task::spawn_blocking(move || {
            let new =
                NewTenant::parse(&slug, &name, "standard", &[], "localhost").expect("valid tenant");
            let t = provision(&db, &new, "test").expect("provision");
            registry.reload().expect("reload");
            t
        })
        .await
        .unwrap()
    }

    /// Creates a province from its shipped manifest (`tenants/<slug>.toml`: its communes from
    /// the national list, its centre and departments) and makes this replica see it.
    pub async fn create_province_from_manifest(&self, slug: &str) -> Tenant {
        let db = self.database().clone();
        let registry = self.state.registry.clone();
        let slug = slug.to_string();
        tokio::task::spawn_blocking(move || {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tenants")
                .join(format!("{slug}.toml"));
            let m = portal::tenancy::manifest::parse_file(&path, "localhost").expect("manifest");
            portal::app::manifests::apply(&db, &[m], false, "test").expect("apply");
            registry.reload().expect("reload");
            (*registry.by_slug(&slug).expect("tenant")).clone()
        })
        .await
        .unwrap()
    }

    /// A staff account working in `units` (none: the province level), signed in on its site.
    pub async fn unit_staff_token(
        &self,
        slug: &str,
        email: &str,
        role: portal::accounts::staff::StaffRole,
        units: &[&str],
    ) -> String {
        let token = self.staff_token(slug, email, role).await;
        let t = self.state.registry.by_slug(slug).expect("tenant");
        let door = self.database().tenant(t.db_ref());
        let e = email.to_string();
        let codes: Vec<portal::units::UnitCode> = units
            .iter()
            .map(|u| portal::units::UnitCode::parse(u).unwrap())
            .collect();
        tokio::task::spawn_blocking(move || {
            door.tx(|conn| {
                let id: uuid::Uuid = portal::db::schema::staff::table
                    .filter(portal::db::schema::staff::email.eq(&e))
                    .select(portal::db::schema::staff::id)
                    .first(conn)?;
                portal::units::store::set_staff_units(conn, portal::ids::StaffId(id), &codes)
            })
            .unwrap()
        })
        .await
        .unwrap();
        token
    }

    /// Sets a province's display name, e.g. to a marker only that province has.
    pub async fn set_display_name(&self, tenant: &Tenant, display_name: &str) {
        let tdb = self.database().tenant(tenant.db_ref());
        let display_name = display_name.to_string();
        tokio::task::spawn_blocking(move || {
            tdb.tx(|conn| {
                let mut b = branding::load(conn)?;
                b.display_name = display_name;
                branding::save(conn, &b)
            })
            .expect("set branding")
        })
        .await
        .unwrap()
    }

    pub async fn create_operator(&self, email: &str, pw: &str, role: OperatorRole) {
        let db = self.database().clone();
        let (email, pw) = (email.to_string(), pw.to_string());
        tokio::task::spawn_blocking(move || {
            let hash = password::hash(&pw).unwrap();
            db.control(|conn| {
                operators::upsert(conn, &Email::parse(&email).unwrap(), "Test", role, &hash)
            })
            .unwrap();
        })
        .await
        .unwrap();
    }

    pub async fn token(&self, host: &str, email: &str, pw: &str) -> String {
        let res = self
            .post_json(
                host,
                "/api/v1/auth/token",
                None,
                &serde_json::json!({"email": email, "password": pw}),
            )
            .await;
        assert_eq!(res.status(), 200, "token for {email} on {host}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Registers a national account (through the API of `host`) and signs in on `host`.
    pub async fn citizen_token(&self, host: &str, email: &str) -> String {
        let res = self
            .post_json(
                host,
                "/api/v1/auth/register",
                None,
                &serde_json::json!({"email": email, "password": CITIZEN_PASSWORD, "full_name": "Nguyễn Thị Minh Khai"}),
            )
            .await;
        assert!(
            res.status() == 201 || res.status() == 409,
            "register {email}: {}",
            res.status()
        );
        self.token(host, email, CITIZEN_PASSWORD).await
    }

    /// Files a valid "Đổi giấy phép lái xe" dossier; returns its tracking code.
    pub async fn submit_licence_renewal(&self, host: &str, token: &str) -> String {
        let res = self
            .post_json(host, "/api/v1/dossiers", Some(token), &licence_renewal())
            .await;
        assert_eq!(res.status(), 201, "submit on {host}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "submitted");
        body["tracking_code"].as_str().unwrap().to_string()
    }

    /// The citizen attaches one document of the form (`field`) to their dossier: a tiny PNG.
    pub async fn attach_document(
        &self,
        host: &str,
        token: &str,
        code: &str,
        field: &str,
    ) -> reqwest::Response {
        const PNG: &[u8] = crate::fixtures::PNG;
        let form = reqwest::multipart::Form::new()
            .text("field", field.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(PNG.to_vec())
                    .file_name(format!("{field}.png"))
                    .mime_str("application/octet-stream")
                    .unwrap(),
            );
        self.client
            .post(self.url(&format!("/api/v1/dossiers/{code}/attachments")))
            .header("Host", host)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The documents "Đổi giấy phép lái xe" requires (portrait, licence scan), attached by the
    /// citizen: staff cannot accept the dossier without them.
    pub async fn attach_licence_documents(&self, host: &str, token: &str, code: &str) {
        for field in LICENCE_DOCUMENTS {
            let res = self.attach_document(host, token, code, field).await;
            assert_eq!(res.status(), 201, "attach {field} to {code}");
        }
    }

    /// [`TestApp::submit_licence_renewal`] with its required documents attached.
    pub async fn submit_complete_licence_renewal(&self, host: &str, token: &str) -> String {
        let code = self.submit_licence_renewal(host, token).await;
        self.attach_licence_documents(host, token, &code).await;
        code
    }

    /// A staff account of a province with a password, signed in on its site.
    pub async fn staff_token(
        &self,
        slug: &str,
        email: &str,
        role: portal::accounts::staff::StaffRole,
    ) -> String {
        let t = self.state.registry.by_slug(slug).expect("tenant");
        let door = self.database().tenant(t.db_ref());
        let e = email.to_string();
        tokio::task::spawn_blocking(move || {
            let hash = password::hash(STAFF_PASSWORD).unwrap();
            door.tx(|conn| {
                portal::accounts::staff::upsert_with_password(
                    conn,
                    &Email::parse(&e).unwrap(),
                    "Cán bộ Thử",
                    role,
                    &hash,
                )
            })
            .unwrap();
        })
        .await
        .unwrap();
        self.token(&format!("{slug}.localhost"), email, STAFF_PASSWORD)
            .await
    }

    /// A staff move through the API; returns the response.
    pub async fn act(
        &self,
        host: &str,
        token: &str,
        code: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.post_json(
            host,
            &format!("/api/v1/manage/dossiers/{code}/actions"),
            Some(token),
            &body,
        )
        .await
    }

    /// Attaches a paper result (decision number and pickup), which `return_result` requires.
    pub async fn give_result(&self, host: &str, token: &str, code: &str) -> reqwest::Response {
        let res = self
            .post_json(
                host,
                &format!("/api/v1/manage/dossiers/{code}/result"),
                Some(token),
                &serde_json::json!({
                    "decision_number": "125/QĐ-SGTVT",
                    "pickup": "Bộ phận một cửa, 8:00–17:00 các ngày làm việc",
                }),
            )
            .await;
        assert_eq!(res.status(), 200, "give_result {code}");
        res
    }

    /// A signed-in operator (role operator).
    pub async fn operator_token(&self) -> String {
        self.create_operator(OPERATOR_EMAIL, OPERATOR_PASSWORD, OperatorRole::Operator)
            .await;
        self.token("ops.localhost", OPERATOR_EMAIL, OPERATOR_PASSWORD)
            .await
    }

    /// A superuser connection to this test's database, outside every door.
    /// Follows every subscription verification link mailed so far, as its recipient would (the
    /// page, then its button); a request is listed to the operator only once verified.
    pub async fn verify_subscriptions(&self) {
        #[derive(QueryableByName)]
        struct Body {
            #[diesel(sql_type = diesel::sql_types::Text)]
            body: String,
        }
        let mails: Vec<Body> = sql_query(
            "SELECT body FROM public.outbox WHERE kind = 'subscription_verification' ORDER BY id",
        )
        .load(&mut self.raw_connection())
        .unwrap();
        for m in mails {
            let Some(at) = m.body.find("/subscribe/verify/") else {
                continue;
            };
            let link: String = m.body[at..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            let mut b = crate::browser::Browser::new(self, "localhost");
            let page = b.get(&link).await;
            if page.status != 200 {
                continue; // followed already
            }
            let csrf = b.csrf(&page);
            let done = b.post(&link, &[("csrf", &csrf)]).await;
            assert!(matches!(done.status, 200 | 409), "{}", done.body);
        }
    }

    pub fn raw_connection(&self) -> PgConnection {
        PgConnection::establish(self.settings.database.url.expose_secret()).unwrap()
    }
}

/// Asserts the contract's error envelope and returns its code.
pub async fn error_code(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.expect("JSON error body");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    assert!(
        body["error"]["message"].is_string(),
        "error.message in {body}"
    );
    code
}

/// The common set-up of a test in one line: a server, its provinces, a citizen, staff of a
/// role, a dossier. Awaiting the builder sets it all up, in that order:
///
/// ```ignore
/// let w = World::ha_noi().citizen("dan@example.vn").official().dossier().await;
/// let res = w.app.get_with_token(&w.host, &format!("/api/v1/dossiers/{}", w.dossier()), w.official()).await;
/// ```
///
/// The citizen, the staff and the dossier belong to the first province; `w.app` reaches the
/// rest (other tokens, other provinces' staff).
pub struct World {
    pub app: TestApp,
    /// The first province's host (`<slug>.localhost`).
    pub host: String,
    /// The provinces, in the order named.
    pub tenants: Vec<Tenant>,
    citizen: Option<String>,
    official: Option<String>,
    admin: Option<String>,
    dossier: Option<String>,
}

/// What a [`World`] will hold; `.await` it to set it up.
pub struct WorldBuilder {
    provinces: Vec<(String, String)>,
    citizen: Option<String>,
    staff: Vec<(portal::accounts::staff::StaffRole, String)>,
    /// `Some(true)`: with its required documents attached.
    dossier: Option<bool>,
}

impl World {
    /// A world whose first province is `slug`.
    pub fn at(slug: &str, name: &str) -> WorldBuilder {
        WorldBuilder {
            provinces: vec![(slug.to_string(), name.to_string())],
            citizen: None,
            staff: Vec::new(),
            dossier: None,
        }
    }

    /// [`World::at`] Hà Nội (`ha-noi`), the suite's usual province.
    pub fn ha_noi() -> WorldBuilder {
        World::at("ha-noi", "Hà Nội")
    }

    /// The citizen's API token (`.citizen(..)`).
    pub fn citizen(&self) -> &str {
        self.citizen.as_deref().expect("World: no .citizen(..)")
    }

    /// The official's API token (`.official()` or `.staff(Official, ..)`).
    pub fn official(&self) -> &str {
        self.official.as_deref().expect("World: no .official()")
    }

    /// The province admin's API token (`.admin()` or `.staff(Admin, ..)`).
    pub fn admin(&self) -> &str {
        self.admin.as_deref().expect("World: no .admin()")
    }

    /// The tracking code of the citizen's dossier (`.dossier()`).
    pub fn dossier(&self) -> &str {
        self.dossier.as_deref().expect("World: no .dossier()")
    }
}

impl WorldBuilder {
    /// Another province (the first is the world's own).
    pub fn province(mut self, slug: &str, name: &str) -> Self {
        self.provinces.push((slug.to_string(), name.to_string()));
        self
    }

    /// A national account, registered and signed in on the first province's site.
    pub fn citizen(mut self, email: &str) -> Self {
        self.citizen = Some(email.to_string());
        self
    }

    /// A staff member of the first province with a password, signed in on its site.
    pub fn staff(mut self, role: portal::accounts::staff::StaffRole, email: &str) -> Self {
        self.staff.push((role, email.to_string()));
        self
    }

    /// An official of the first province, `canbo@<slug>.vn`.
    pub fn official(self) -> Self {
        let email = format!("canbo@{}.vn", self.provinces[0].0);
        self.staff(portal::accounts::staff::StaffRole::Official, &email)
    }

    /// An admin of the first province, `admin@<slug>.vn`.
    pub fn admin(self) -> Self {
        let email = format!("admin@{}.vn", self.provinces[0].0);
        self.staff(portal::accounts::staff::StaffRole::Admin, &email)
    }

    /// The citizen files a licence renewal ([`licence_renewal`]) through the API.
    pub fn dossier(mut self) -> Self {
        self.dossier = Some(false);
        self
    }

    /// [`WorldBuilder::dossier`] with its required documents attached (staff can accept it).
    pub fn complete_dossier(mut self) -> Self {
        self.dossier = Some(true);
        self
    }

    async fn build(self) -> World {
        use portal::accounts::staff::StaffRole;
        let app = TestApp::spawn().await;
        let slug = self.provinces[0].0.clone();
        let host = format!("{slug}.localhost");
        let mut tenants = Vec::new();
        for (slug, name) in &self.provinces {
            tenants.push(app.create_tenant(slug, name).await);
        }
        let citizen = match &self.citizen {
            Some(email) => Some(app.citizen_token(&host, email).await),
            None => None,
        };
        let (mut official, mut admin) = (None, None);
        for (role, email) in &self.staff {
            let token = app.staff_token(&slug, email, *role).await;
            if *role == StaffRole::Admin {
                admin = Some(token);
            } else if *role == StaffRole::Official {
                official = Some(token);
            }
        }
        let dossier = match self.dossier {
            Some(complete) => {
                let token = citizen
                    .as_deref()
                    .expect("World: a dossier needs a citizen");
                Some(if complete {
                    app.submit_complete_licence_renewal(&host, token).await
                } else {
                    app.submit_licence_renewal(&host, token).await
                })
            }
            None => None,
        };
        World {
            app,
            host,
            tenants,
            citizen,
            official,
            admin,
            dossier,
        }
    }
}

impl std::future::IntoFuture for WorldBuilder {
    type Output = World;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = World>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.build())
    }
}

/// Runs the `portal` binary with `ARGS` against `db_url` (and `envs`), from the crate's
/// directory and without a config file; returns (exit code, stdout, stderr).
pub fn portal_cli_with(
    db_url: &str,
    envs: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .envs(envs.iter().copied())
        .env_remove("PORTAL_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run portal");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
