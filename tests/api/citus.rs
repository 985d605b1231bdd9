//! The platform on a Citus cluster (docs/scaling.md, section 3): `up` and `migrate` prepare a
//! fresh coordinator database, provinces become distributed schemas on the least loaded worker,
//! dossiers go through the tenant door, a tenant role reads no other province on any node, a
//! province moves while 16 clients submit, and billing close and export work.
//!
//! They run when `PORTAL_TEST_CITUS_URL` names a coordinator
//! (`.ci/citus`: `postgres://postgres@127.0.0.1:5441/postgres`, from
//! `../shared/tools/citus/cluster.sh start`). Without it they say so loudly and return; with
//! `PORTAL_TEST_REQUIRE_CITUS=1` (CI) they fail instead. Each test creates its own database on
//! the coordinator with `citus.enable_create_database_propagation`, so it exists on every
//! worker too, and drops it the same way (`TestDb` with `citus: true`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{Int8, Text};
use portal::db::citus::{self, Node};

use crate::helpers::{EXPORT_KEY, TestApp, TestDb, licence_renewal, test_settings};

/// The coordinator and its workers, as the test cluster runs them.
struct Cluster {
    /// `postgres://user@host:port/` (a database name goes after it).
    prefix: String,
    workers: Vec<Node>,
}

impl Cluster {
    fn url(&self, database: &str) -> String {
        format!("{}{database}?sslmode=disable", self.prefix)
    }

    /// `PORTAL__CITUS__WORKERS` for this cluster.
    fn workers_setting(&self) -> String {
        let list: Vec<String> = self.workers.iter().map(Node::to_string).collect();
        list.join(",")
    }

    /// A fresh database on every node (Citus propagates the `CREATE DATABASE`), not yet
    /// prepared for Citus: `up` or `migrate` does that. Dropped on every node afterwards.
    fn database(&self) -> TestDb {
        let name = format!("portal_citus_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&self.url("postgres")).unwrap();
        sql_query("SET citus.enable_create_database_propagation TO on")
            .execute(&mut admin)
            .unwrap();
        sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .unwrap();
        TestDb {
            url: self.url(&name),
            name,
            citus: true,
        }
    }
}

/// One Citus test at a time. Roles are the cluster's, not a database's: Citus syncs a role to
/// the workers from each database that uses it, and two databases provisioning at once updated
/// the same role row on a worker ("tuple concurrently updated"). One installation is one
/// database, so this is the tests' concern only.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The cluster named by `PORTAL_TEST_CITUS_URL`, or `None` after a loud notice.
fn cluster() -> Option<Cluster> {
    let skip = |why: String| {
        let msg = format!("{why}: the Citus tests did NOT run (see .ci/citus)");
        if std::env::var_os("PORTAL_TEST_REQUIRE_CITUS").is_some_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!!! SKIPPED: {msg}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
        None
    };
    let Ok(url) = std::env::var("PORTAL_TEST_CITUS_URL") else {
        return skip("PORTAL_TEST_CITUS_URL is not set".into());
    };
    let Some((prefix, _, _)) = portal::db::admin::split_url(&url) else {
        return skip(format!("PORTAL_TEST_CITUS_URL={url:?} names no database"));
    };
    let cluster = Cluster {
        prefix: prefix.to_string(),
        workers: Vec::new(),
    };
    let mut conn = match PgConnection::establish(&cluster.url("postgres")) {
        Ok(c) => c,
        Err(e) => return skip(format!("the coordinator at {url} is down ({e})")),
    };
    let workers = sql_query(
        "SELECT nodename AS host, nodeport AS port FROM pg_dist_node \
         WHERE groupid <> 0 AND isactive AND noderole = 'primary' ORDER BY 1, 2",
    )
    .load::<Node>(&mut conn);
    match workers {
        Ok(w) if w.len() >= 2 => Some(Cluster {
            workers: w,
            ..cluster
        }),
        Ok(w) => skip(format!(
            "the coordinator at {url} has {} worker(s), not 2",
            w.len()
        )),
        Err(e) => skip(format!("{url} is not a Citus coordinator ({e})")),
    }
}

/// `portal ARGS` against `db` on the cluster, as an operator would run it.
fn portal(cluster: &Cluster, db: &TestDb, args: &[&str]) -> Output {
    let out = portal_command(cluster, db)
        .args(args)
        .output()
        .expect("run portal");
    assert!(
        out.status.success(),
        "portal {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn portal_command(cluster: &Cluster, db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.env("DATABASE_URL", &db.url)
        .env("PORTAL__CITUS__WORKERS", cluster.workers_setting())
        .env("PORTAL__EXPORT__SIGNING_KEY", EXPORT_KEY)
        .env("PGSSLMODE", "disable")
        .env("RUST_LOG", "warn");
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The app serving `db` (already migrated), configured for the cluster.
async fn serve(cluster: &Cluster, db: TestDb) -> TestApp {
    let mut settings = test_settings(&db.url);
    settings.citus.workers = cluster.workers.iter().map(Node::to_string).collect();
    TestApp::spawn_with(db, settings).await
}

/// A fresh coordinator database migrated by `portal migrate`, and the app on it.
async fn migrated(cluster: &Cluster) -> TestApp {
    let db = cluster.database();
    let out = portal(cluster, &db, &["migrate"]);
    assert!(
        stdout(&out).contains(&format!(
            "citus: coordinator with {} worker(s)",
            cluster.workers.len()
        )),
        "{}",
        stdout(&out)
    );
    serve(cluster, db).await
}

/// Where each province is, as Citus's metadata says: `slug → node`.
fn placements(app: &TestApp) -> Vec<(String, Node)> {
    let mut conn = app.raw_connection();
    let tenants: Vec<(String, String)> = {
        #[derive(QueryableByName)]
        struct T {
            #[diesel(sql_type = Text)]
            slug: String,
            #[diesel(sql_type = Text)]
            schema_name: String,
        }
        sql_query("SELECT slug, schema_name FROM public.tenants ORDER BY slug")
            .load::<T>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|t| (t.slug, t.schema_name))
            .collect()
    };
    tenants
        .into_iter()
        .map(|(slug, schema)| {
            let node = citus::node_of(&mut conn, &schema)
                .unwrap()
                .unwrap_or_else(|| panic!("{schema} is not a distributed schema"));
            (slug, node)
        })
        .collect()
}

fn per_node(cluster: &Cluster, placed: &[(String, Node)]) -> Vec<usize> {
    cluster
        .workers
        .iter()
        .map(|w| placed.iter().filter(|(_, n)| n == w).count())
        .collect()
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Int8)]
        n: i64,
    }
    sql_query(sql)
        .get_result::<N>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// Runs `sql` in a transaction that is rolled back; the error's text, if any.
fn attempt(conn: &mut PgConnection, setup: &str, sql: &str) -> Result<(), String> {
    let mut outcome = Ok(());
    let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
        if !setup.is_empty() {
            sql_query(setup).execute(c)?;
        }
        outcome = sql_query(sql)
            .execute(c)
            .map(|_| ())
            .map_err(|e| e.to_string());
        Err(diesel::result::Error::RollbackTransaction)
    });
    outcome
}

/// On every node (coordinator and each worker), province `a`'s role reads its own dossiers and
/// is refused `b`'s, both after `SET ROLE` (how the tenant door enters) and logged in as itself
/// (how Citus reaches the workers); on the worker holding `b`, its shard tables are refused too.
fn assert_isolated(cluster: &Cluster, db: &TestDb, a: (&str, &str), b: (&str, &str)) {
    let (a_role, a_schema) = a;
    let (b_role, b_schema) = b;
    let mut nodes: Vec<String> = vec![db.url.clone()];
    for w in &cluster.workers {
        nodes.push(citus::url_at(&db.url, w).unwrap());
    }
    for node_url in &nodes {
        let as_role = node_url.replacen("://postgres@", &format!("://{a_role}@"), 1);
        assert_ne!(&as_role, node_url, "the cluster's URL names user postgres");
        for (how, url, setup) in [
            ("SET ROLE", node_url, format!("SET LOCAL ROLE \"{a_role}\"")),
            ("logged in", &as_role, String::new()),
        ] {
            let mut conn =
                PgConnection::establish(url).unwrap_or_else(|e| panic!("{how} at {url}: {e}"));
            let own = format!("SELECT count(*) FROM {a_schema}.dossiers");
            assert_eq!(attempt(&mut conn, &setup, &own), Ok(()), "{how} at {url}");
            let mut refused_sql = vec![
                format!("SELECT count(*) FROM {b_schema}.dossiers"),
                format!("SELECT count(*) FROM {b_schema}.citizens"),
                format!("INSERT INTO {b_schema}.dossiers DEFAULT VALUES"),
            ];
            if setup.is_empty() {
                // Logged in as A (under SET ROLE the session is the superuser's, who may).
                refused_sql.push(format!("SET ROLE \"{b_role}\""));
            }
            for sql in refused_sql {
                let refused = attempt(&mut conn, &setup, &sql);
                assert!(
                    refused
                        .as_ref()
                        .is_err_and(|e| e.contains("permission denied")),
                    "{how} as {a_role} at {url}: {sql}: {refused:?}"
                );
            }
        }
    }
    // The shard tables themselves, on the worker that holds them (not the shell tables).
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let holder = citus::node_of(&mut conn, b_schema).unwrap().unwrap();
    #[derive(QueryableByName)]
    struct Shard {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let shards: Vec<Shard> = sql_query(format!(
        "SELECT shard_name(logicalrelid, shardid) AS name FROM pg_dist_shard \
         WHERE logicalrelid::regclass::text LIKE '{b_schema}.%' ORDER BY 1"
    ))
    .load(&mut conn)
    .unwrap();
    assert!(shards.len() > 5, "{b_schema}'s shards: {}", shards.len());
    let holder_url = citus::url_at(&db.url, &holder).unwrap();
    let as_role = holder_url.replacen("://postgres@", &format!("://{a_role}@"), 1);
    let mut conn = PgConnection::establish(&as_role).unwrap();
    for s in &shards {
        let sql = format!("SELECT 1 FROM {} LIMIT 1", s.name);
        let refused = attempt(&mut conn, "", &sql);
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("permission denied")),
            "{a_role} at {holder}: {sql}: {refused:?}"
        );
    }
}

/// A citizen of `host` and a dossier they filed and can list.
async fn submit_and_list(app: &TestApp, host: &str, email: &str) {
    let token = app.citizen_token(host, email).await;
    let code = app.submit_licence_renewal(host, &token).await;
    let res = app.get_with_token(host, "/api/v1/dossiers", &token).await;
    assert_eq!(res.status(), 200, "list on {host}");
    let list: serde_json::Value = res.json().await.unwrap();
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["tracking_code"].as_str())
        .collect();
    assert_eq!(codes, [code.as_str()], "{host}");
}

fn tenant(app: &TestApp, slug: &str) -> (String, String) {
    let t = app.state.registry.by_slug(slug).expect("tenant");
    (t.role.clone(), t.schema.clone())
}

/// `portal up` on a database that does not exist yet: it creates it on every node, prepares
/// Citus, migrates and applies a province's manifest; then provinces land on the least loaded
/// worker, serve dossiers through the tenant door, and read no other province on any node.
#[tokio::test]
async fn up_prepares_a_fresh_coordinator_database_and_provinces_stay_apart_on_every_node() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = cluster() else { return };
    // Not created: `up` creates it (dropped on every node afterwards all the same).
    let name = format!("portal_citus_{}", uuid::Uuid::new_v4().simple());
    let db = TestDb {
        url: cluster.url(&name),
        name,
        citus: true,
    };
    let manifests = temp_dir("manifests");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants/ha-noi.toml"),
        manifests.join("ha-noi.toml"),
    )
    .unwrap();
    let up = run_up_until_serving(&cluster, &db, &manifests);
    for expected in [
        "database created",
        "citus: citus extension on the coordinator",
        &format!("citus: worker {} registered", cluster.workers[1]),
        "public: applied",
        "portal is serving",
    ] {
        assert!(up.contains(expected), "{expected:?} in:\n{up}");
    }
    // Again: nothing left to do.
    let again = stdout(&portal(&cluster, &db, &["migrate"]));
    assert!(
        again.contains("public: up to date") && !again.contains("registered"),
        "{again}"
    );

    let app = serve(&cluster, db).await;
    app.state.registry.reload().unwrap();
    app.create_tenant("hue", "Thành phố Huế").await;
    let placed = placements(&app);
    assert_eq!(per_node(&cluster, &placed), [1, 1], "{placed:?}");
    // Both on one worker (a move, by the CLI): the next two go to the other one, not round
    // robin as Citus would place them.
    let (hue_node, other) = {
        let hue = &placed.iter().find(|(s, _)| s == "hue").unwrap().1;
        let other = cluster.workers.iter().find(|w| *w != hue).unwrap();
        (hue.clone(), other.clone())
    };
    let moved = stdout(&portal(
        &cluster,
        &app.db,
        &["tenant", "move", "ha-noi", "--to", &hue_node.to_string()],
    ));
    assert!(moved.contains(&format!("to {hue_node}")), "{moved}");
    app.create_tenant("quang-ninh", "Tỉnh Quảng Ninh").await;
    app.create_tenant("can-tho", "Thành phố Cần Thơ").await;
    let placed = placements(&app);
    for slug in ["quang-ninh", "can-tho"] {
        let node = &placed.iter().find(|(s, _)| s == slug).unwrap().1;
        assert_eq!(node, &other, "{slug}: {placed:?}");
    }
    // `portal tenant place` says the same.
    for (slug, node) in &placed {
        let out = stdout(&portal(&cluster, &app.db, &["tenant", "place", slug]));
        assert!(out.contains(&node.to_string()), "{slug}: {out}");
    }

    for (i, slug) in ["ha-noi", "hue", "quang-ninh"].iter().enumerate() {
        submit_and_list(
            &app,
            &format!("{slug}.localhost"),
            &format!("dan{i}@example.vn"),
        )
        .await;
    }

    let hn = tenant(&app, "ha-noi");
    let hue = tenant(&app, "hue");
    let qn = tenant(&app, "quang-ninh");
    // Same worker, and across workers, both ways.
    for (a, b) in [(&hn, &hue), (&hue, &hn), (&hn, &qn), (&qn, &hue)] {
        assert_isolated(&cluster, &app.db, (&a.0, &a.1), (&b.0, &b.1));
    }
}

/// Starts `portal up --tenants DIR` and stops it once it serves; what it printed.
fn run_up_until_serving(cluster: &Cluster, db: &TestDb, manifests: &Path) -> String {
    use std::io::{BufRead, BufReader};
    let data = temp_dir("data");
    let mut child = portal_command(cluster, db)
        .args(["up", "--tenants", manifests.to_str().unwrap()])
        .env("PORTAL__SERVER__BIND", "127.0.0.1:0")
        .env("PORTAL__STORAGE__DATA_DIR", &data)
        .env("PORTAL__JOBS__ENABLED", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("portal up");
    let mut printed = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(line) = line else { break };
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("portal is serving") {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        printed.contains("portal is serving"),
        "portal up stopped:\n{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    printed
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "portal-citus-{what}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `portal tenant move` while 16 clients submit dossiers without pause: every request is
/// answered 201, every dossier is there afterwards (and counted once in usage), and the
/// province is on the other worker. Prints how long the move took and the longest wait.
#[tokio::test]
async fn a_province_moves_to_the_other_worker_while_16_clients_submit_and_nothing_is_lost() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = cluster() else { return };
    let app = Arc::new(migrated(&cluster).await);
    // 16 clients without pause outrun a plan's fair-use rate on a fast machine (CI's answered
    // 429 to 1,024 of them): this test is about the move, not the limiter.
    crate::faults::lift_rate_limits(&mut app.raw_connection());
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let host = "ha-noi.localhost";
    let (_, schema) = tenant(&app, "ha-noi");
    let from = citus::node_of(&mut app.raw_connection(), &schema)
        .unwrap()
        .unwrap();
    let to = cluster
        .workers
        .iter()
        .find(|w| **w != from)
        .unwrap()
        .clone();
    let token = Arc::new(app.citizen_token(host, "dan@example.vn").await);

    let moving = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let submitted = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..16 {
        let (app, token, moving, stop, submitted) = (
            app.clone(),
            token.clone(),
            moving.clone(),
            stop.clone(),
            submitted.clone(),
        );
        clients.push(tokio::spawn(async move {
            // (created, failures, during the move, longest wait during the move)
            let (mut created, mut failed, mut during, mut longest) =
                (0usize, Vec::new(), 0usize, Duration::ZERO);
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let was_moving = moving.load(Ordering::Relaxed);
                let res = app
                    .client
                    .post(app.url("/api/v1/dossiers"))
                    .header("Host", host)
                    .bearer_auth(token.as_str())
                    .json(&licence_renewal())
                    .send()
                    .await;
                let took = started.elapsed();
                match res {
                    Ok(r) if r.status() == 201 => {
                        created += 1;
                        submitted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => failed.push(format!("{}: {}", r.status(), r.text().await.unwrap())),
                    Err(e) => failed.push(e.to_string()),
                }
                if was_moving || moving.load(Ordering::Relaxed) {
                    during += 1;
                    longest = longest.max(took);
                }
            }
            (created, failed, during, longest)
        }));
    }
    // Under way before the move starts…
    while submitted.load(Ordering::Relaxed) < 32 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    moving.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let out = {
        let mut cmd = portal_command(&cluster, &app.db);
        cmd.args(["tenant", "move", "ha-noi", "--to", &to.to_string()]);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };
    let took = started.elapsed();
    moving.store(false, Ordering::Relaxed);
    // …and still going after it.
    let after = submitted.load(Ordering::Relaxed);
    while submitted.load(Ordering::Relaxed) < after + 32 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (mut created, mut failed, mut during, mut longest) = (0, Vec::new(), 0, Duration::ZERO);
    for c in clients {
        let (n, f, d, l) = c.await.unwrap();
        created += n;
        failed.extend(f);
        during += d;
        longest = longest.max(l);
    }
    assert!(
        out.status.success(),
        "move: {}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "citus move under load: {} in {:.2} s; {created} submissions ({during} during the move, \
         longest wait {} ms), {} failed",
        stdout(&out).trim(),
        took.as_secs_f64(),
        longest.as_millis(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(during > 0, "no request was made during the move");

    let mut conn = app.raw_connection();
    assert_eq!(
        citus::node_of(&mut conn, &schema).unwrap(),
        Some(to.clone())
    );
    let place = stdout(&portal(&cluster, &app.db, &["tenant", "place", "ha-noi"]));
    assert!(place.contains(&to.to_string()), "{place}");
    let stored = count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM {schema}.dossiers"),
    );
    assert_eq!(stored, created as i64, "dossiers answered 201 vs stored");
    let counted = count(
        &mut conn,
        "SELECT coalesce(sum(quantity), 0)::bigint AS n FROM public.usage_period u \
         JOIN public.tenants t ON t.id = u.tenant_id \
         WHERE t.slug = 'ha-noi' AND u.metric = 'dossiers'",
    );
    assert_eq!(counted, stored, "usage vs dossiers");
}

/// The period close (the control plane on the coordinator reading usage the provinces'
/// transactions recorded from their workers) and `portal tenant export` work on the cluster.
#[tokio::test]
async fn billing_close_and_export_work_on_the_cluster() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = cluster() else { return };
    let app = migrated(&cluster).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let placed = placements(&app);
    assert_eq!(per_node(&cluster, &placed), [1, 1], "{placed:?}");
    submit_and_list(&app, "ha-noi.localhost", "dan@example.vn").await;
    let mut conn = app.raw_connection();

    // `migrate` warns when the workers cannot hold the connections the pool may open (one per
    // province role per backend): silent with the default pool, loud with one as large as a
    // worker's max_connections (each worker holds one province here).
    let warned = |pool: Option<i64>| {
        let mut cmd = portal_command(&cluster, &app.db);
        if let Some(p) = pool {
            cmd.env("PORTAL__DATABASE__POOL_SIZE", p.to_string());
        }
        let out = cmd.arg("migrate").output().expect("portal migrate");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(!warned(None).contains("WARNING"), "{}", warned(None));
    let max: i64 = {
        let url = citus::url_at(&cluster.url("postgres"), &cluster.workers[0]).unwrap();
        let mut worker = PgConnection::establish(&url).unwrap();
        count(
            &mut worker,
            "SELECT current_setting('max_connections')::int8 AS n",
        )
    };
    let loud = warned(Some(max));
    assert!(
        loud.contains(&format!("max_connections is {max}")),
        "a pool of {max}: {loud}"
    );

    // The evaluation index job, run on demand: it reads each province's history on its worker
    // (a CTE's column list used to be dropped on the way there: "column unit does not exist").
    let month = portal::period::Period::of(portal::clock::today_vn()).to_string();
    let out = portal(&cluster, &app.db, &["index", "refresh", "--since", &month]);
    assert!(
        stdout(&out).contains("of 2 province(s)"),
        "{}",
        stdout(&out)
    );
    let counted = count(
        &mut conn,
        &format!(
            "SELECT coalesce(sum(u.received), 0)::int8 AS n FROM public.unit_stats u \
             JOIN public.tenants t ON t.id = u.tenant_id WHERE t.slug = 'ha-noi' AND u.period = '{month}'"
        ),
    );
    assert_eq!(
        counted, 1,
        "the dossier submitted on ha-noi, counted by the index job"
    );

    sql_query("UPDATE public.leases SET starts_on = '2026-10-01'")
        .execute(&mut conn)
        .unwrap();

    let op = app.operator_token().await;
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": "2026-10"}),
        )
        .await;
    assert_eq!(res.status(), 200, "close");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["invoices"].as_array().unwrap().len(), 2, "{body}");
    // A second close returns the same invoices (the close's lock is on the coordinator).
    let again: serde_json::Value = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": "2026-10"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["invoices"], body["invoices"]);

    let file = temp_dir("export").join("ha-noi.portal");
    let out = portal(
        &cluster,
        &app.db,
        &[
            "tenant",
            "export",
            "ha-noi",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    assert!(size > 1000, "export: {size} bytes; {}", stdout(&out));
}

/// A worker stopped by `pg_ctl` for as long as this lives; started again when it is dropped,
/// also when the test fails half-way (the cluster is shared by every Citus test).
struct StoppedWorker {
    data: String,
}

impl StoppedWorker {
    fn stop(cluster: &Cluster, node: &Node) -> StoppedWorker {
        let url = format!(
            "postgres://postgres@{}:{}/postgres?sslmode=disable",
            node.host, node.port
        );
        let mut conn = PgConnection::establish(&url).expect("worker");
        #[derive(QueryableByName)]
        struct Dir {
            #[diesel(sql_type = Text)]
            data_directory: String,
        }
        let data = sql_query("SHOW data_directory")
            .get_result::<Dir>(&mut conn)
            .unwrap()
            .data_directory;
        drop(conn);
        assert!(cluster.workers.contains(node));
        pg_ctl(&["-D", &data, "-m", "fast", "-w", "stop"]);
        StoppedWorker { data }
    }
}

impl Drop for StoppedWorker {
    fn drop(&mut self) {
        let log = format!("{}.log", self.data);
        pg_ctl(&["-D", &self.data, "-l", &log, "-w", "start"]);
    }
}

fn pg_ctl(args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl"])
        .args(args)
        .output()
        .expect("pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A worker dies: the provinces on it answer 503 `unavailable` (promptly, not a 500, not a
/// hang), while the provinces on the other worker, the national site and the operator's API
/// go on; once the worker is back, its provinces take dossiers again with nothing to repair.
#[tokio::test]
async fn a_worker_dies_and_only_its_provinces_wait_until_it_is_back() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = cluster() else { return };
    let app = migrated(&cluster).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let placed = placements(&app);
    assert_eq!(per_node(&cluster, &placed), [1, 1], "{placed:?}");
    let hue_node = placed.iter().find(|(s, _)| s == "hue").unwrap().1.clone();
    let (alive, dying) = ("ha-noi.localhost", "hue.localhost");
    let alive_token = app.citizen_token(alive, "song@example.vn").await;
    let dying_token = app.citizen_token(dying, "cho@example.vn").await;
    let operator = app.operator_token().await;
    app.submit_licence_renewal(dying, &dying_token).await;

    let stopped = StoppedWorker::stop(&cluster, &hue_node);
    for _ in 0..3 {
        let started = Instant::now();
        let res = app
            .post_json(
                dying,
                "/api/v1/dossiers",
                Some(&dying_token),
                &licence_renewal(),
            )
            .await;
        let took = started.elapsed();
        assert_eq!(res.status(), 503, "a province on the dead worker");
        assert_eq!(crate::helpers::error_code(res).await, "unavailable");
        assert!(took < Duration::from_secs(10), "answered after {took:?}");
        let res = app
            .get_with_token(dying, "/api/v1/dossiers", &dying_token)
            .await;
        assert_eq!(res.status(), 503, "its citizen's list");
    }
    // Everything that does not live on that worker goes on.
    app.submit_licence_renewal(alive, &alive_token).await;
    let res = app
        .get_with_token(alive, "/api/v1/dossiers", &alive_token)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get("localhost", "/").await.status(),
        200,
        "national site"
    );
    let res = app
        .get_with_token("ops.localhost", "/api/v1/tenants", &operator)
        .await;
    assert_eq!(res.status(), 200, "the operator's list of provinces");

    drop(stopped);
    // Back: the coordinator reconnects by itself (its broken connections are replaced at the
    // next use; give it a few tries).
    let mut status = 0;
    for _ in 0..20 {
        let res = app
            .post_json(
                dying,
                "/api/v1/dossiers",
                Some(&dying_token),
                &licence_renewal(),
            )
            .await;
        status = res.status().as_u16();
        if status == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(status, 201, "the province takes dossiers again");
    let res = app
        .get_with_token(dying, "/api/v1/dossiers", &dying_token)
        .await;
    let list: serde_json::Value = res.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

const HN: &str = "ha-noi.localhost";
const RESULT_PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A staff move through the API that must succeed.
async fn act_ok(app: &TestApp, host: &str, token: &str, code: &str, body: serde_json::Value) {
    let res = app.act(host, token, code, body.clone()).await;
    let status = res.status();
    assert_eq!(status, 200, "{code} {body}: {}", res.text().await.unwrap());
}

/// The dossier as its owner sees it.
async fn dossier_of(app: &TestApp, host: &str, token: &str, code: &str) -> serde_json::Value {
    let res = app
        .get_with_token(host, &format!("/api/v1/dossiers/{code}"), token)
        .await;
    assert_eq!(res.status(), 200, "{code}");
    res.json().await.unwrap()
}

/// Runs `f` (a job's function) on a blocking thread with the app's database and registry.
async fn job<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&portal::db::Db, &portal::tenancy::Registry) -> T + Send + 'static,
) -> T {
    let (db, registry) = (app.database().clone(), app.state.registry.clone());
    tokio::task::spawn_blocking(move || f(&db, &registry))
        .await
        .unwrap()
}

/// Every write path of a province (issue #22's audit, docs/scaling.md "Write paths"), run with
/// the OTHER worker stopped: a statement that Citus planned across nodes (a writable CTE's
/// intermediate results broadcast to every worker, a query touching another node) would fail
/// here, as the one-statement submission did. Registration and sign-in, a draft's document by
/// resumable upload, the submission with its attachments, every status change, the fee's
/// payment and e-receipt, the result file and its control-plane index, the mail they queue,
/// usage (sampling, API calls), the index of this province, and the overdue watch and upload
/// sweep over every province (the dead worker's is logged and skipped, not in the way).
#[tokio::test]
async fn a_provinces_every_write_path_works_while_the_other_worker_is_down() {
    use portal::accounts::staff::StaffRole;
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = cluster() else { return };
    let app = migrated(&cluster).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    let placed = placements(&app);
    assert_eq!(per_node(&cluster, &placed), [1, 1], "{placed:?}");
    let hue_node = placed.iter().find(|(s, _)| s == "hue").unwrap().1.clone();
    let hn = app.state.registry.by_slug("ha-noi").unwrap();
    let stopped = StoppedWorker::stop(&cluster, &hue_node);

    let citizen = app.citizen_token(HN, "dan@example.vn").await;
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    // A draft's document, uploaded resumably (drafts, uploads, upload_parts, draft_files).
    let me = crate::resumable_uploads::Session::sign_in(&app, HN, "dan@example.vn").await;
    let scan = crate::resumable_uploads::scan();
    let upload = me.create(scan.len()).await;
    let res = me.patch(&upload, 0, scan.clone()).await;
    assert_eq!(res.status(), 204, "{:?}", res.text().await);

    // Submitted with its documents, then every move up to the returned result.
    let code = app.submit_complete_licence_renewal(HN, &citizen).await;
    for body in [
        serde_json::json!({"action": "accept"}),
        serde_json::json!({"action": "process"}),
        serde_json::json!({"action": "request_payment", "fee_vnd": 135_000}),
    ] {
        act_ok(&app, HN, &official, &code, body).await;
    }
    let res = app
        .post_json(
            HN,
            &format!("/api/v1/dossiers/{code}/pay"),
            Some(&citizen),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "pay: {}", res.text().await.unwrap());
    let paid = dossier_of(&app, HN, &citizen, &code).await;
    assert_eq!(paid["fee_receipt"]["number"], 1, "{paid}");
    act_ok(
        &app,
        HN,
        &official,
        &code,
        serde_json::json!({"action": "resolve"}),
    )
    .await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(RESULT_PDF.to_vec())
            .file_name("quyet-dinh.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let res = app
        .client
        .post(app.url(&format!("/api/v1/manage/dossiers/{code}/result")))
        .header("Host", HN)
        .bearer_auth(&official)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "result");
    let with_result: serde_json::Value = res.json().await.unwrap();
    let verification = with_result["result"]["verification_code"]
        .as_str()
        .unwrap()
        .to_string();
    act_ok(
        &app,
        HN,
        &official,
        &code,
        serde_json::json!({"action": "return_result"}),
    )
    .await;
    let done = dossier_of(&app, HN, &citizen, &code).await;
    assert_eq!(done["status"], "returned", "{done}");
    let res = app
        .get("localhost", &format!("/api/v1/verify/{verification}"))
        .await;
    assert_eq!(res.status(), 200, "verify on the national host");

    // The overdue watch and the upload sweep go over every province: Huế's fail (logged), Hà
    // Nội's are done. A late dossier gets its mark.
    let late = app.submit_complete_licence_renewal(HN, &citizen).await;
    act_ok(
        &app,
        HN,
        &official,
        &late,
        serde_json::json!({"action": "accept"}),
    )
    .await;
    sql_query(format!(
        "UPDATE {}.dossiers SET due_on = current_date - 2 WHERE tracking_code = '{late}'",
        hn.schema
    ))
    .execute(&mut app.raw_connection())
    .unwrap();
    let today = portal::clock::today_vn();
    let watched = job(&app, move |db, reg| {
        let cal = db.control(portal::calendar::load).unwrap();
        portal::jobs::overdue::run_once(db, reg, &cal, today)
    })
    .await;
    assert!(
        matches!(watched, Ok(Some(_))),
        "the overdue watch: {watched:?}"
    );
    let flag = dossier_of(&app, HN, &citizen, &late).await;
    let marked = count(
        &mut app.raw_connection(),
        &format!(
            "SELECT count(*) AS n FROM {}.dossiers WHERE due_flag = 'overdue'",
            hn.schema
        ),
    );
    assert_eq!(marked, 1, "{flag}");
    let swept = job(&app, |db, reg| {
        portal::app::resumable::sweep(db, reg, chrono::Utc::now())
    })
    .await;
    assert!(swept.is_ok(), "the upload sweep: {swept:?}");

    // Usage: this province's sample, the API calls counted in memory, its index rows.
    let tenant = hn.clone();
    let sampled = job(&app, move |db, _| {
        portal::metering::sampling::sample(db, &tenant)
    })
    .await;
    assert!(sampled.is_ok(), "{sampled:?}");
    let state = app.state.clone();
    let flushed = job(&app, move |db, reg| state.api_calls.flush(db, reg)).await;
    assert!(flushed.is_ok(), "{flushed:?}");
    let tenant = hn.clone();
    let indexed = job(&app, move |db, _| {
        portal::index::job::refresh(db, &[tenant], &[portal::period::Period::of(today)])
    })
    .await;
    assert!(matches!(indexed, Ok(1)), "{indexed:?}");

    // The mail all this queued leaves (the mail worker skips Huế meanwhile).
    let unsent = format!(
        "SELECT count(*) AS n FROM {}.outbox WHERE sent_at IS NULL",
        hn.schema
    );
    let mut conn = app.raw_connection();
    let mut left = count(&mut conn, &unsent);
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = count(&mut conn, &unsent);
    }
    assert_eq!(left, 0, "Hà Nội's mail still unsent");
    let sent = count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM {}.outbox", hn.schema),
    );
    assert!(sent >= 5, "{sent} mails");
    drop(stopped);
}

/// The schema's tables that are not a distributed table placed with the schema's others, if
/// any: what a migration created must live where the province lives.
fn misplaced_tables(conn: &mut PgConnection, schema: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let node = citus::node_of(conn, schema).unwrap().unwrap();
    sql_query(format!(
        "SELECT c.relname::text AS name FROM pg_class c \
         WHERE c.relnamespace = '{schema}'::regnamespace AND c.relkind = 'r' \
           AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p \
                JOIN pg_dist_shard s ON s.logicalrelid = p.logicalrelid \
                JOIN pg_dist_placement pl ON pl.shardid = s.shardid \
                JOIN pg_dist_node n ON n.groupid = pl.groupid \
                WHERE p.logicalrelid = c.oid AND n.nodename = '{}' AND n.nodeport = {}) \
         ORDER BY 1",
        node.host, node.port
    ))
    .load::<T>(conn)
    .unwrap()
    .into_iter()
    .map(|t| t.name)
    .collect()
}

/// What #22 asked of the cluster besides `up`, moves and billing: a province exported from one
/// PostgreSQL is imported onto the cluster (`portal tenant import`), lands on the least loaded
/// worker and is served from it (its dossier moves on, new ones get fresh ids); each background
/// job runs once over provinces on both workers, the index job seeing writes made on a worker;
/// and a new tenant migration (a column, a table with a foreign key) reaches every province,
/// its new table placed on the province's worker and written through the door.
#[tokio::test]
async fn an_import_every_job_and_a_new_tenant_migration_run_on_the_cluster() {
    use portal::accounts::staff::StaffRole;
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = cluster() else { return };

    // On one PostgreSQL: Hà Nội with an accepted dossier, exported by the command line.
    let file = temp_dir("import").join("ha-noi.portal");
    let imported_code = {
        let single = TestApp::spawn().await;
        single.create_tenant("ha-noi", "Thành phố Hà Nội").await;
        let citizen = single.citizen_token(HN, "dan@example.vn").await;
        let official = single
            .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
            .await;
        let code = single.submit_complete_licence_renewal(HN, &citizen).await;
        act_ok(
            &single,
            HN,
            &official,
            &code,
            serde_json::json!({"action": "accept"}),
        )
        .await;
        let out = Command::new(env!("CARGO_BIN_EXE_portal"))
            .args(["tenant", "export", "ha-noi", "--out"])
            .arg(&file)
            .env("DATABASE_URL", &single.db.url)
            .env("PORTAL__EXPORT__SIGNING_KEY", EXPORT_KEY)
            .env("PGSSLMODE", "disable")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        code
    };

    // Onto the cluster, next to Huế: on the other worker.
    let app = migrated(&cluster).await;
    app.create_tenant("hue", "Thành phố Huế").await;
    portal(
        &cluster,
        &app.db,
        &["tenant", "import", file.to_str().unwrap()],
    );
    app.state.registry.reload().unwrap();
    let placed = placements(&app);
    assert_eq!(per_node(&cluster, &placed), [1, 1], "{placed:?}");
    let hn = app.state.registry.by_slug("ha-noi").unwrap();
    assert_eq!(
        misplaced_tables(&mut app.raw_connection(), &hn.schema),
        Vec::<String>::new()
    );
    let official = app
        .staff_token("ha-noi", "canbo@hanoi.gov.vn", StaffRole::Official)
        .await;
    act_ok(
        &app,
        HN,
        &official,
        &imported_code,
        serde_json::json!({"action": "process"}),
    )
    .await;
    // A new dossier's id continues after the imported ones (the import's sequences).
    let citizen = app.citizen_token(HN, "moi@example.vn").await;
    let fresh = app.submit_licence_renewal(HN, &citizen).await;
    let ids = count(
        &mut app.raw_connection(),
        &format!("SELECT count(DISTINCT id) AS n FROM {}.dossiers", hn.schema),
    );
    assert_eq!(ids, 2, "{imported_code} and {fresh}");

    // Each job once, over both workers.
    let today = portal::clock::today_vn();
    let state = app.state.clone();
    let ran = job(&app, move |db, reg| {
        let cal = db.control(portal::calendar::load).unwrap();
        let mut seen = portal::index::job::Seen::default();
        (
            format!(
                "{:?}",
                portal::index::job::run_once(db, reg, true, &mut seen)
            ),
            format!(
                "{:?}",
                portal::jobs::overdue::run_once(db, reg, &cal, today)
            ),
            format!("{:?}", portal::metering::sampling::run_once(db, reg)),
            format!("{:?}", portal::jobs::plans::run_once(db, reg, today)),
            format!(
                "{:?}",
                portal::app::resumable::sweep(db, reg, chrono::Utc::now())
            ),
            format!("{:?}", state.api_calls.flush(db, reg)),
            seen,
        )
    })
    .await;
    let (index, overdue, sampled, plans, swept, flushed, seen) = ran;
    assert_eq!(index, "Ok(Some(24))", "index: 2 provinces × 12 months");
    assert!(overdue.starts_with("Ok(Some("), "{overdue}");
    assert_eq!(sampled, "Ok(Some(2))");
    assert!(plans.starts_with("Ok(Some("), "{plans}");
    assert_eq!(swept, "Ok(0)");
    assert!(flushed.starts_with("Ok("), "{flushed}");

    // The index job recomputes a province whose dossiers changed on its worker (the
    // coordinator's own statistics never see those writes).
    let received = |schema: &str| {
        count(
            &mut app.raw_connection(),
            &format!(
                "SELECT coalesce(max(received), 0)::int8 AS n FROM public.province_stats s \
                 JOIN public.tenants t ON t.id = s.tenant_id \
                 WHERE t.schema_name = '{schema}' AND s.period = '{}'",
                portal::period::Period::of(today)
            ),
        )
    };
    let hue = app.state.registry.by_slug("hue").unwrap();
    assert_eq!(received(&hue.schema), 0);
    let hue_citizen = app.citizen_token("hue.localhost", "hue@example.vn").await;
    app.submit_licence_renewal("hue.localhost", &hue_citizen)
        .await;
    let seen = Arc::new(std::sync::Mutex::new(seen));
    let deadline = Instant::now() + Duration::from_secs(30);
    while received(&hue.schema) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let seen = seen.clone();
        job(&app, move |db, reg| {
            portal::index::job::run_once(db, reg, false, &mut seen.lock().unwrap()).unwrap()
        })
        .await;
    }
    assert_eq!(received(&hue.schema), 1, "Huế's new dossier in the index");

    // A new tenant migration, over every province on the cluster.
    let dir = temp_dir("migrations");
    crate::migrations::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/tenant"),
        &dir,
    );
    let new = dir.join("2099-01-01-000000_dossier_notes");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("up.sql"),
        "ALTER TABLE branding ADD COLUMN note text;\n\
         CREATE TABLE dossier_notes (\n\
             id bigserial PRIMARY KEY,\n\
             dossier_id bigint NOT NULL REFERENCES dossiers (id),\n\
             body text NOT NULL\n\
         );\n\
         CREATE INDEX dossier_notes_dossier ON dossier_notes (dossier_id);\n",
    )
    .unwrap();
    std::fs::write(
        new.join("down.sql"),
        "DROP TABLE dossier_notes;\nALTER TABLE branding DROP COLUMN note;\n",
    )
    .unwrap();
    // As `portal migrate` sends them, one statement at a time (`db::statements`: Citus refuses
    // a multi-command string on a distributed schema).
    let source = portal::db::statements::SqlMigrations::from_dir(&dir).unwrap();
    let report = job(&app, move |db, _| {
        portal::db::migrate::migrate_tenants(db, &source, 2, &|_, _| {}).unwrap()
    })
    .await;
    assert_eq!(report.migrated, ["ha-noi", "hue"], "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    for slug in ["ha-noi", "hue"] {
        let t = app.state.registry.by_slug(slug).unwrap();
        let mut conn = app.raw_connection();
        assert_eq!(
            misplaced_tables(&mut conn, &t.schema),
            Vec::<String>::new(),
            "{slug}"
        );
        let door = app.database().tenant(t.db_ref());
        let notes = tokio::task::spawn_blocking(move || {
            door.tx(|conn| {
                sql_query("UPDATE branding SET note = 'ghi chú'").execute(conn)?;
                sql_query(
                    "INSERT INTO dossier_notes (dossier_id, body) \
                     SELECT id, 'ghi chú' FROM dossiers",
                )
                .execute(conn)?;
                Ok(count(conn, "SELECT count(*) AS n FROM dossier_notes"))
            })
        })
        .await
        .unwrap();
        assert!(matches!(notes, Ok(n) if n >= 1), "{slug}: {notes:?}");
    }
}
