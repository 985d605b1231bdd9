//! Faults under load, each test named for its fault: PostgreSQL going away (through a proxy the
//! test cuts), the mail server away, Stripe failing and timing out, the server killed with
//! SIGKILL and stopped with SIGTERM. Each shows what survives: the goal is nothing lost.

mod database;
mod proxy;
mod signals;
mod smtp;
mod stripe;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

use crate::helpers::licence_renewal;

/// What one request of a load saw.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub sent: Instant,
    pub done: Instant,
    /// `None`: no HTTP answer at all (refused, reset, timed out).
    pub status: Option<u16>,
    /// The tracking code of a 201, or the envelope's `error.code` of an error.
    pub code: Option<String>,
    pub retry_after: bool,
    /// Why there was no answer.
    pub error: Option<String>,
}

/// Requests made by a load, shared by its tasks.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Outcome>>>);

impl Log {
    pub fn all(&self) -> Vec<Outcome> {
        self.0.lock().unwrap().clone()
    }

    fn push(&self, o: Outcome) {
        self.0.lock().unwrap().push(o);
    }

    /// Waits up to `secs` until `pred` holds over the outcomes so far.
    pub async fn wait_until(&self, secs: u64, what: &str, pred: impl Fn(&[Outcome]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if pred(&self.0.lock().unwrap()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; statuses so far: {:?}",
                statuses(&self.all())
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Status → how many, for messages (`0` = no answer).
pub fn statuses(outcomes: &[Outcome]) -> std::collections::BTreeMap<u16, usize> {
    let mut m = std::collections::BTreeMap::new();
    for o in outcomes {
        *m.entry(o.status.unwrap_or(0)).or_default() += 1;
    }
    m
}

/// One citizen submitting dossiers in a loop, or reading their list (an API call that writes
/// nothing), until `stop`.
#[derive(Clone)]
pub struct Worker {
    pub client: reqwest::Client,
    pub base: String,
    pub host: String,
    pub token: String,
    pub submit: bool,
}

impl Worker {
    pub fn spawn(self, log: Log, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let req = if self.submit {
                    self.client
                        .post(format!("{}/api/v1/dossiers", self.base))
                        .json(&licence_renewal())
                } else {
                    self.client.get(format!("{}/api/v1/dossiers", self.base))
                };
                let res = req
                    .header("Host", &self.host)
                    .bearer_auth(&self.token)
                    .send()
                    .await;
                let outcome = match res {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let retry_after = res.headers().contains_key("retry-after");
                        let body: serde_json::Value = res.json().await.unwrap_or_default();
                        let code = body["tracking_code"]
                            .as_str()
                            .or(body["error"]["code"].as_str())
                            .map(str::to_string);
                        Outcome {
                            sent,
                            done: Instant::now(),
                            status: Some(status),
                            code,
                            retry_after,
                            error: None,
                        }
                    }
                    Err(e) => Outcome {
                        sent,
                        done: Instant::now(),
                        status: None,
                        code: None,
                        retry_after: false,
                        error: Some(format!("{e:?}")),
                    },
                };
                let failed = outcome.status.is_none();
                log.push(outcome);
                if failed {
                    // The server may be gone: do not spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        })
    }
}

/// An HTTP client for load: no redirects, connections kept shorter than the server's keep-alive.
pub fn load_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The plans' fair-use limits would answer 429 to a load test: lifted (before the registry
/// reads them).
pub fn lift_rate_limits(conn: &mut PgConnection) {
    sql_query("UPDATE public.plans SET rate_limit_rps = 1000000, rate_burst = 1000000")
        .execute(conn)
        .unwrap();
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sql_query(sql)
        .get_result::<N>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[derive(QueryableByName)]
struct TenantRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    schema_name: String,
}

/// What the database holds after a fault, over every province.
#[derive(Debug, Default)]
pub struct Stored {
    pub tracking_codes: BTreeSet<String>,
    /// API calls counted in usage.
    pub api_calls: i64,
}

/// Every dossier whole: its history row, its usage event and its "received" mail (one
/// transaction wrote them), and the `dossiers` metric equal to the dossiers in each province.
/// Read as a superuser, outside every door.
pub fn check_every_dossier_is_whole(conn: &mut PgConnection) -> Stored {
    let tenants: Vec<TenantRow> =
        sql_query("SELECT id, slug, schema_name FROM public.tenants ORDER BY slug")
            .load(conn)
            .unwrap();
    let mut stored = Stored::default();
    for t in tenants {
        let s = &t.schema_name;
        let half = count(
            conn,
            &format!(
                "SELECT count(*) AS n FROM {s}.dossiers d \
                 WHERE NOT EXISTS (SELECT 1 FROM {s}.dossier_events e \
                                   WHERE e.dossier_id = d.id AND e.status = 'submitted') \
                    OR NOT EXISTS (SELECT 1 FROM {s}.outbox o \
                                   WHERE o.dossier_id = d.id AND o.kind = 'dossier_received') \
                    OR NOT EXISTS (SELECT 1 FROM public.usage_events u \
                                   WHERE u.tenant_id = '{}' \
                                     AND u.idempotency_key = 'dossier:' || d.id || ':submitted')",
                t.id
            ),
        );
        assert_eq!(
            half, 0,
            "{}: dossiers without their history, mail or usage",
            t.slug
        );
        let dossiers = count(conn, &format!("SELECT count(*) AS n FROM {s}.dossiers"));
        let usage = count(
            conn,
            &format!(
                "SELECT coalesce(sum(quantity), 0)::int8 AS n FROM public.usage_period \
                 WHERE tenant_id = '{}' AND metric = 'dossiers'",
                t.id
            ),
        );
        assert_eq!(usage, dossiers, "{}: usage equals dossiers", t.slug);
        stored.api_calls += count(
            conn,
            &format!(
                "SELECT coalesce(sum(quantity), 0)::int8 AS n FROM public.usage_period \
                 WHERE tenant_id = '{}' AND metric = 'api_calls'",
                t.id
            ),
        );
        #[derive(QueryableByName)]
        struct Code {
            #[diesel(sql_type = Text)]
            tracking_code: String,
        }
        let codes: Vec<Code> = sql_query(format!("SELECT tracking_code FROM {s}.dossiers"))
            .load(conn)
            .unwrap();
        stored
            .tracking_codes
            .extend(codes.into_iter().map(|c| c.tracking_code));
    }
    stored
}

/// Every dossier a 201 announced is in the database.
pub fn assert_no_committed_dossier_lost(outcomes: &[Outcome], stored: &Stored) {
    let answered: Vec<&String> = outcomes
        .iter()
        .filter(|o| o.status == Some(201))
        .filter_map(|o| o.code.as_ref())
        .collect();
    let lost: Vec<&&String> = answered
        .iter()
        .filter(|c| !stored.tracking_codes.contains(**c))
        .collect();
    assert!(
        lost.is_empty(),
        "dossiers answered 201 but not stored: {lost:?}"
    );
}
