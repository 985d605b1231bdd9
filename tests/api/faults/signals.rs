//! A `portal serve` process stopped under load: by SIGKILL (no half-written dossier, API-call
//! usage short by at most the calls since the last flush) and by SIGTERM (in-flight requests
//! finish, the API calls are flushed on the way out: nothing lost).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::app::provisioning::provision;
use portal::db::Db;
use portal::tenancy::provision::NewTenant;

use super::{
    Log, Outcome, Worker, assert_no_committed_dossier_lost, check_every_dossier_is_whole,
    lift_rate_limits, load_client, statuses,
};
use crate::children::{ChildGuard, free_port};
use crate::helpers::{CITIZEN_PASSWORD, JWT_SECRET, TestDb, test_settings};

const SLUGS: [&str; 2] = ["ha-noi", "hue"];

struct Server {
    port: u16,
    child: ChildGuard,
}

impl Server {
    /// `portal serve` on `database_url`, writing API calls to usage every `flush_secs`.
    fn start(name: &str, database_url: &str, data_dir: &std::path::Path, flush_secs: u64) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("PORTAL__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("PORTAL__SERVER__WORKERS", "2")
            .env("PORTAL__SERVER__REQUEST_HEAD_TIMEOUT_SECS", "60")
            .env("PORTAL__AUTH__JWT_SECRET", JWT_SECRET)
            .env("PORTAL__DATABASE__POOL_SIZE", "8")
            // One test client for every citizen: the per-client limits are not under test.
            .env("PORTAL__LIMITS__ENABLED", "false")
            .env("PORTAL__STORAGE__DATA_DIR", data_dir)
            .env("PORTAL__JOBS__ENABLED", "true")
            .env("PORTAL__JOBS__USAGE_FLUSH_SECS", flush_secs.to_string())
            .env("RUST_LOG", "warn")
            .env_remove("PORTAL_CONFIG");
        Server {
            port,
            child: ChildGuard::spawn(name, cmd),
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client.get(format!("{}/readyz", self.base())).send().await
                && res.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready:\n{}",
                self.child.name,
                self.child.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A citizen of `host` with a token: two API calls (register, sign in), anonymous, so not
    /// billed (issue 15).
    async fn citizen(&self, client: &reqwest::Client, host: &str) -> String {
        let email = format!("load@{host}.vn");
        let res = client
            .post(format!("{}/api/v1/auth/register", self.base()))
            .header("Host", host)
            .json(&serde_json::json!({"email": email, "password": CITIZEN_PASSWORD, "full_name": "Nguyễn Văn An"}))
            .send()
            .await
            .unwrap();
        assert!(res.status() == 201 || res.status() == 409, "register");
        let res = client
            .post(format!("{}/api/v1/auth/token", self.base()))
            .header("Host", host)
            .json(&serde_json::json!({"email": email, "password": CITIZEN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<serde_json::Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// A migrated database with two provinces and no fair-use limits.
async fn provinces() -> (TestDb, std::path::PathBuf) {
    let test_db = TestDb::create();
    let settings = test_settings(&test_db.url);
    let db = Db::new(&settings.database);
    tokio::task::spawn_blocking(move || {
        for slug in SLUGS {
            let new = NewTenant::parse(slug, slug, "standard", &[], "localhost").unwrap();
            provision(&db, &new, "test").unwrap();
        }
    })
    .await
    .unwrap();
    lift_rate_limits(&mut PgConnection::establish(&test_db.url).unwrap());
    (test_db, settings.storage.data_dir)
}

/// Per province, `submitters` citizens filing dossiers and `readers` reading their list.
/// Returns the tasks and the API calls the set-up made.
async fn load(
    server: &Server,
    client: &reqwest::Client,
    log: &Log,
    stop: &Arc<AtomicBool>,
    submitters: usize,
    readers: usize,
) -> (Vec<tokio::task::JoinHandle<()>>, i64) {
    let mut tasks = Vec::new();
    // Registration and sign-in are anonymous: not billed.
    let setup_calls = 0;
    for slug in SLUGS {
        let host = format!("{slug}.localhost");
        let token = server.citizen(client, &host).await;
        for i in 0..submitters + readers {
            let w = Worker {
                client: client.clone(),
                base: server.base(),
                host: host.clone(),
                token: token.clone(),
                submit: i < submitters,
            };
            tasks.push(w.spawn(log.clone(), stop.clone()));
        }
    }
    (tasks, setup_calls)
}

fn created(o: &[Outcome]) -> usize {
    o.iter().filter(|o| o.status == Some(201)).count()
}

fn api_usage(url: &str) -> i64 {
    super::count(
        &mut PgConnection::establish(url).unwrap(),
        "SELECT coalesce(sum(quantity), 0)::int8 AS n FROM public.usage_period \
         WHERE metric = 'api_calls'",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_load_leaves_no_half_written_dossier_and_loses_at_most_one_flush_of_api_calls()
 {
    const FLUSH_SECS: u64 = 1;
    let (test_db, data_dir) = provinces().await;
    let mut server = Server::start("portal-sigkill", &test_db.url, &data_dir, FLUSH_SECS);
    let client = load_client();
    server.wait_ready(&client).await;
    let log = Log::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (tasks, setup_calls) = load(&server, &client, &log, &stop, 3, 1).await;
    let load_from = Instant::now();
    log.wait_until(60, "40 dossiers", |o| created(o) >= 40)
        .await;
    // Flushes are running: the load goes on over at least three of them.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut flushes = 0;
    let mut last = api_usage(&test_db.url);
    while flushes < 3 || load_from.elapsed() < Duration::from_secs(4) {
        assert!(
            Instant::now() < deadline,
            "API calls not flushed every second"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = api_usage(&test_db.url);
        if now > last {
            flushes += 1;
            last = now;
        }
    }

    let killed_at = Instant::now();
    let loaded = killed_at - load_from;
    server.child.kill();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let outcomes = log.all();
    // Before the kill every request was answered, and never with a server error.
    for o in &outcomes {
        match o.status {
            Some(200 | 201) => {}
            None if o.done >= killed_at => {}
            _ => panic!("{o:?}"),
        }
    }
    let mut conn = PgConnection::establish(&test_db.url).unwrap();
    let stored = check_every_dossier_is_whole(&mut conn);
    assert_no_committed_dossier_lost(&outcomes, &stored);

    // API calls: never more than were sent; every call answered more than one flush interval
    // (and some scheduling slack on a busy machine) before the kill is counted.
    let sent = setup_calls + outcomes.len() as i64;
    let mut answered: Vec<Instant> = outcomes
        .iter()
        .filter(|o| o.status.is_some())
        .map(|o| o.done)
        .collect();
    answered.sort();
    let counted = stored.api_calls;
    assert!(counted <= sent, "counted {counted} of {sent} sent");
    let window = Duration::from_secs(FLUSH_SECS) + Duration::from_secs(2);
    let settled = setup_calls
        + answered
            .iter()
            .filter(|at| **at + window < killed_at)
            .count() as i64;
    assert!(
        counted >= settled,
        "counted {counted}, but {settled} calls were answered over {window:?} before the kill"
    );
    let lost = (setup_calls + answered.len() as i64 - counted).max(0);
    let last_interval = answered
        .iter()
        .filter(|at| **at + Duration::from_secs(FLUSH_SECS) >= killed_at)
        .count();
    // How far back the lost calls reach: usage covers the calls answered up to this long
    // before the kill.
    let covered_until = answered
        .get((counted - setup_calls).max(0) as usize)
        .map_or(Duration::ZERO, |at| {
            killed_at.saturating_duration_since(*at)
        });
    println!(
        "SIGKILL after {:.1} s of load: statuses {:?}; dossiers stored {} (answered 201: {}); API calls \
         sent {sent}, answered {}, counted {counted}, lost {lost} (answered in the last flush \
         interval of {FLUSH_SECS} s: {last_interval}; usage covers calls up to {:.2} s before \
         the kill)",
        loaded.as_secs_f64(),
        statuses(&outcomes),
        stored.tracking_codes.len(),
        created(&outcomes),
        setup_calls + answered.len() as i64,
        covered_until.as_secs_f64()
    );

    // A new process on the same database serves at once, and files whole dossiers.
    let again = Server::start("portal-after-sigkill", &test_db.url, &data_dir, FLUSH_SECS);
    again.wait_ready(&client).await;
    let token = again.citizen(&client, "hue.localhost").await;
    let res = client
        .post(format!("{}/api/v1/dossiers", again.base()))
        .header("Host", "hue.localhost")
        .bearer_auth(token)
        .json(&crate::helpers::licence_renewal())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    check_every_dossier_is_whole(&mut conn);
    drop(again);
    drop(conn);
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_requests_and_loses_nothing() {
    // No periodic flush during the test: what reaches usage is written at shutdown.
    let (test_db, data_dir) = provinces().await;
    let server = Server::start("portal-sigterm", &test_db.url, &data_dir, 3600);
    let client = load_client();
    server.wait_ready(&client).await;
    let log = Log::default();
    let stop = Arc::new(AtomicBool::new(false));
    let load_from = Instant::now();
    let (tasks, setup_calls) = load(&server, &client, &log, &stop, 4, 2).await;
    log.wait_until(60, "40 dossiers", |o| created(o) >= 40)
        .await;
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(load_from.elapsed())).await;
    let before = api_usage(&test_db.url);

    let term_at = Instant::now();
    let mut child = server.child;
    let stopped = tokio::task::spawn_blocking(move || {
        let clean = child.terminate(Duration::from_secs(40));
        (clean, child)
    });
    // The load goes on while the server drains; new connections are refused.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let (clean, child) = stopped.await.unwrap();
    assert!(clean, "exit 0 after SIGTERM:\n{}", child.log_text());
    let outcomes = log.all();
    // No server error, before or after the signal. A request may go unanswered around the
    // signal, never started by the server: refused once it stopped listening, or sent on a
    // kept-alive connection as it began draining it (actix finishes each connection's current
    // request, then closes it without starting the next).
    for o in &outcomes {
        match o.status {
            Some(200 | 201) => {}
            None => {}
            _ => panic!("{o:?}"),
        }
    }
    let in_flight = outcomes
        .iter()
        .filter(|o| o.sent < term_at && o.done >= term_at && o.status.is_some())
        .count();
    let unanswered_before = outcomes
        .iter()
        .filter(|o| o.sent < term_at && o.status.is_none())
        .count();
    let mut why: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in outcomes.iter().filter_map(|o| o.error.as_deref()) {
        let kind = if e.contains("IncompleteMessage") {
            "closed before answering"
        } else if e.contains("ConnectionRefused") || e.contains("Connection refused") {
            "refused"
        } else {
            "other"
        };
        *why.entry(kind).or_default() += 1;
    }
    let mut conn = PgConnection::establish(&test_db.url).unwrap();
    let stored = check_every_dossier_is_whole(&mut conn);
    assert_no_committed_dossier_lost(&outcomes, &stored);
    // Nothing was done without an answer: every stored dossier was answered 201. A request
    // cut off in the middle of its work would show here.
    assert_eq!(
        stored.tracking_codes.len(),
        created(&outcomes),
        "a dossier stored without its answer"
    );

    // Every API call answered is counted (the shutdown flush), none more than were sent.
    let answered = setup_calls + outcomes.iter().filter(|o| o.status.is_some()).count() as i64;
    let sent = setup_calls + outcomes.len() as i64;
    let counted = stored.api_calls;
    assert!(
        answered <= counted && counted <= sent,
        "answered {answered} ≤ counted {counted} ≤ sent {sent}"
    );
    println!(
        "SIGTERM after {:.1} s of load: statuses {:?}; {in_flight} requests answered after the \
         signal that were sent before it ({unanswered_before} sent before it never started; \
         unanswered: {why:?}); dossiers stored {} = answered 201; API calls answered {answered}, counted {counted} \
         ({before} before the signal, the rest by the shutdown flush)",
        (term_at - load_from).as_secs_f64(),
        statuses(&outcomes),
        stored.tracking_codes.len(),
    );
    drop(child);
    drop(conn);
    let _ = std::fs::remove_dir_all(&data_dir);
}
