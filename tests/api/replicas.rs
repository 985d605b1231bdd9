//! Two real `portal serve` processes on one database, every background job on and fast: each
//! mail leaves once, a period closes once, API calls are counted once.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use portal::accounts::operators::{self, OperatorRole};
use portal::accounts::staff::{self, StaffRole};
use portal::accounts::{Email, password};
use portal::app::provisioning::provision;
use portal::db::Db;
use portal::period::Period;
use portal::tenancy::Tenant;
use portal::tenancy::provision::NewTenant;

use crate::children::{ChildGuard, free_port};
use crate::helpers::{
    CITIZEN_PASSWORD, JWT_SECRET, OPERATOR_EMAIL, OPERATOR_PASSWORD, STAFF_PASSWORD, TestDb,
    licence_renewal, test_settings,
};
use crate::mail_sink::{Mail, MailSink};

/// One `portal serve` child with all jobs on, at one-second intervals.
struct Replica {
    port: u16,
    child: ChildGuard,
}

impl Replica {
    fn start(
        name: &str,
        database_url: &str,
        smtp_url: &str,
        data_dir: &std::path::Path,
    ) -> Replica {
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
            .env("PORTAL__MAIL__SMTP_URL", smtp_url)
            // The sender names the replica, so the test can see who sent what.
            .env(
                "PORTAL__MAIL__FROM",
                format!("Replica {name} <{name}@replica.test>"),
            )
            .env("PORTAL__MAIL__RETRY_BASE_MS", "200")
            .env("PORTAL__STORAGE__DATA_DIR", data_dir)
            .env("PORTAL__JOBS__ENABLED", "true")
            .env("PORTAL__JOBS__USAGE_FLUSH_SECS", "1")
            .env("PORTAL__JOBS__USAGE_SAMPLE_SECS", "1")
            .env("PORTAL__JOBS__INDEX_REFRESH_SECS", "1")
            .env("PORTAL__JOBS__OVERDUE_WATCH_SECS", "1")
            .env("RUST_LOG", "warn");
        Replica {
            port,
            child: ChildGuard::spawn(&format!("replica-{name}"), cmd),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client.get(self.url("/readyz")).send().await
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
}

/// An HTTP client that counts the API calls it makes on each province's host, as the
/// metering middleware should.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    api_calls: Arc<Mutex<BTreeMap<String, i64>>>,
}

impl Client {
    async fn send(
        &self,
        replica: &Replica,
        host: &str,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, replica.url(path))
            .header("Host", host);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.expect("request");
        // Billed: a province's API calls made with a token that succeed (issue 15).
        if let Some(slug) = host.strip_suffix(".localhost")
            && slug != "ops"
            && path.starts_with("/api/")
            && token.is_some()
            && res.status().is_success()
        {
            *self
                .api_calls
                .lock()
                .unwrap()
                .entry(slug.to_string())
                .or_default() += 1;
        }
        res
    }

    async fn token(&self, replica: &Replica, host: &str, email: &str, pw: &str) -> String {
        let body = serde_json::json!({"email": email, "password": pw});
        let res = self
            .send(
                replica,
                host,
                reqwest::Method::POST,
                "/api/v1/auth/token",
                None,
                Some(&body),
            )
            .await;
        assert_eq!(res.status(), 200, "token for {email} on {host}");
        res.json::<serde_json::Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[derive(QueryableByName)]
struct MailRow {
    #[diesel(sql_type = Text)]
    to_email: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    sent: bool,
}

/// Every outbox row of the installation (the provinces' and the national one).
fn outbox_rows(conn: &mut PgConnection, schemas: &[&str]) -> Vec<MailRow> {
    let mut all = Vec::new();
    for schema in schemas {
        all.extend(
            sql_query(format!(
                "SELECT to_email, subject, sent_at IS NOT NULL AS sent FROM {schema}.outbox"
            ))
            .load::<MailRow>(conn)
            .unwrap(),
        );
    }
    all
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sql_query(sql).get_result::<Count>(conn).unwrap().n
}

fn api_usage(conn: &mut PgConnection) -> BTreeMap<String, i64> {
    #[derive(QueryableByName)]
    struct U {
        #[diesel(sql_type = Text)]
        slug: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    sql_query(
        "SELECT t.slug, coalesce(sum(u.quantity), 0)::int8 AS n FROM public.tenants t \
         LEFT JOIN public.usage_period u ON u.tenant_id = t.id AND u.metric = 'api_calls' \
         GROUP BY t.slug",
    )
    .load::<U>(conn)
    .unwrap()
    .into_iter()
    .map(|u| (u.slug, u.n))
    .collect()
}

fn setup(db: &Db) -> Vec<Tenant> {
    let mut tenants = Vec::new();
    for (slug, name) in [("ha-noi", "Hà Nội"), ("quang-ninh", "Quảng Ninh")] {
        let new = NewTenant::parse(slug, name, "standard", &[], "localhost").unwrap();
        let t = provision(db, &new, "test").unwrap();
        // An admin, who is mailed the province's invoice when the period closes.
        let hash = password::hash(STAFF_PASSWORD).unwrap();
        db.tenant(t.db_ref())
            .tx(|conn| {
                staff::upsert_with_password(
                    conn,
                    &Email::parse(&format!("admin@{slug}.vn")).unwrap(),
                    "Quản trị",
                    StaffRole::Admin,
                    &hash,
                )
            })
            .unwrap();
        tenants.push(t);
    }
    let hash = password::hash(OPERATOR_PASSWORD).unwrap();
    db.control(|conn| {
        operators::upsert(
            conn,
            &Email::parse(OPERATOR_EMAIL).unwrap(),
            "Test",
            OperatorRole::Operator,
            &hash,
        )
    })
    .unwrap();
    tenants
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_send_each_mail_once_close_a_period_once_and_count_usage_once() {
    let test_db = TestDb::create();
    let settings = test_settings(&test_db.url);
    let db = Db::new(&settings.database);
    let setup_db = db.clone();
    tokio::task::spawn_blocking(move || setup(&setup_db))
        .await
        .unwrap();

    let sink = MailSink::start().await;
    let data_dir = settings.storage.data_dir.clone();
    let mut a = Replica::start("a", &test_db.url, &sink.url(), &data_dir);
    let mut b = Replica::start("b", &test_db.url, &sink.url(), &data_dir);
    let client = Client {
        http: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
        api_calls: Arc::default(),
    };
    a.wait_ready(&client.http).await;
    b.wait_ready(&client.http).await;
    let replicas = [&a, &b];

    // Citizens file dossiers in both provinces, alternating replicas; each dossier queues a mail
    // whose NOTIFY wakes the mail workers of both replicas at once.
    let slugs = ["ha-noi", "quang-ninh"];
    let per_province = 12;
    let mut tokens = HashMap::new();
    for (i, slug) in slugs.iter().enumerate() {
        let host = format!("{slug}.localhost");
        let email = format!("citizen{i}@example.vn");
        let body = serde_json::json!({"email": email, "password": CITIZEN_PASSWORD, "full_name": "Nguyễn Văn An"});
        let res = client
            .send(
                replicas[i % 2],
                &host,
                reqwest::Method::POST,
                "/api/v1/auth/register",
                None,
                Some(&body),
            )
            .await;
        assert_eq!(res.status(), 201);
        // The token is issued by the other replica: they share the key and the database.
        let token = client
            .token(replicas[(i + 1) % 2], &host, &email, CITIZEN_PASSWORD)
            .await;
        tokens.insert(*slug, token);
    }
    let mut submissions = Vec::new();
    for n in 0..per_province {
        for slug in slugs {
            let client = client.clone();
            let replica = replicas[n % 2];
            let host = format!("{slug}.localhost");
            let token = tokens[slug].clone();
            submissions.push(async move {
                let res = client
                    .send(
                        replica,
                        &host,
                        reqwest::Method::POST,
                        "/api/v1/dossiers",
                        Some(&token),
                        Some(&licence_renewal()),
                    )
                    .await;
                assert_eq!(
                    res.status(),
                    201,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
            });
        }
    }
    futures_util::future::join_all(submissions).await;
    // More API calls, on both replicas, for the usage count.
    for n in 0..20 {
        let slug = slugs[n % 2];
        let res = client
            .send(
                replicas[n / 2 % 2],
                &format!("{slug}.localhost"),
                reqwest::Method::GET,
                "/api/v1/dossiers",
                Some(&tokens[slug]),
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
    }

    // The period: closed at once by both replicas' API and by the close job's own function on
    // two threads here (the job only fires on the 1st, so it is called with that date).
    let period = Period::of(portal::clock::today_vn());
    let op_token = client
        .token(&a, "ops.localhost", OPERATOR_EMAIL, OPERATOR_PASSWORD)
        .await;
    let close_body = serde_json::json!({"period": period.to_string()});
    let api_closes = replicas.map(|r| {
        let client = client.clone();
        let (token, body) = (op_token.clone(), close_body.clone());
        async move {
            let res = client
                .send(
                    r,
                    "ops.localhost",
                    reqwest::Method::POST,
                    "/api/v1/billing/close",
                    Some(&token),
                    Some(&body),
                )
                .await;
            assert_eq!(res.status(), 200);
            let v: serde_json::Value = res.json().await.unwrap();
            let mut numbers: Vec<String> = v["invoices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| format!("{} {}", i["tenant"], i["number"]))
                .collect();
            numbers.sort();
            numbers
        }
    });
    let first_of_next = period.end().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let job_closes = [0, 1].map(|_| {
        let db = db.clone();
        tokio::task::spawn_blocking(move || portal::jobs::billing::close_due(&db, 6, first_of_next))
    });
    let (api_results, job_results) = tokio::join!(
        futures_util::future::join_all(api_closes),
        futures_util::future::join_all(job_closes)
    );
    assert_eq!(
        api_results[0], api_results[1],
        "both replicas answer the same invoices"
    );
    assert_eq!(api_results[0].len(), 2, "{:?}", api_results[0]);
    for r in job_results {
        match r.unwrap().unwrap() {
            None => {}
            Some(n) => assert_eq!(n, 2),
        }
    }

    // Every queued mail (24 dossiers, 2 invoices to the admins) leaves, each exactly once.
    let mut conn = PgConnection::establish(&test_db.url).unwrap();
    let schemas = ["public", "t_ha_noi", "t_quang_ninh"];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = outbox_rows(&mut conn, &schemas);
        if rows.iter().all(|r| r.sent) && sink.received().len() >= rows.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "mails not all sent: {} rows, {} sent, {} received",
            rows.len(),
            rows.iter().filter(|r| r.sent).count(),
            sink.received().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little longer: a second send would arrive now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rows = outbox_rows(&mut conn, &schemas);
    assert_eq!(rows.len(), 2 * per_province + 2);
    // Compared without spaces: the sink's header decoding may drop one next to an encoded word.
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let mut queued: Vec<(String, String)> = rows
        .into_iter()
        .map(|r| (r.to_email, squeeze(&r.subject)))
        .collect();
    let received: Vec<Mail> = sink.received();
    let mut delivered: Vec<(String, String)> = received
        .iter()
        .map(|m| (m.to.clone(), squeeze(&m.subject)))
        .collect();
    queued.sort();
    delivered.sort();
    assert_eq!(delivered, queued, "each queued mail delivered exactly once");
    let by_a = received
        .iter()
        .filter(|m| m.from.contains("a@replica.test"))
        .count();
    let by_b = received
        .iter()
        .filter(|m| m.from.contains("b@replica.test"))
        .count();
    assert_eq!(by_a + by_b, received.len());
    println!("mails sent by replica a: {by_a}, by replica b: {by_b}");

    // The period closed once: one invoice per province, gapless numbers, one close row. The
    // invoices are numbered in the series of their issue date's year: the API's close (today)
    // and the job's (the 1st of the next month: next year when the period is December) may win.
    #[derive(QueryableByName)]
    struct Issued {
        #[diesel(sql_type = Text)]
        number: String,
        #[diesel(sql_type = Text)]
        issue_year: String,
    }
    let issued: Vec<Issued> = sql_query(format!(
        "SELECT number, to_char(issued_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY') AS issue_year \
           FROM public.invoices WHERE period = '{period}'"
    ))
    .load(&mut conn)
    .unwrap();
    for i in &issued {
        assert!(
            i.number.starts_with(&format!("HD-{}-", i.issue_year)),
            "{} issued in {}",
            i.number,
            i.issue_year
        );
    }
    let year = issued[0].issue_year.clone();
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM public.invoices WHERE period = '{period}'")
        ),
        2
    );
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(DISTINCT tenant_id) AS n FROM public.invoices WHERE period = '{period}'"
            )
        ),
        2
    );
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT last_number::int8 AS n FROM public.invoice_counters WHERE year = {year}"
            )
        ),
        2,
        "no invoice number taken twice"
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM public.period_closes WHERE period = '{period}'")
        ),
        1
    );

    // The jobs ran on the replicas meanwhile (sampling, index), each once per key.
    assert!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM public.usage_events WHERE idempotency_key LIKE 'sample:storage:%'"
        ) >= 2
    );
    assert!(count(&mut conn, "SELECT count(*) AS n FROM public.province_stats") >= 2);

    // API calls: flushed every second by each replica under its own keys...
    let made = client.api_calls.lock().unwrap().clone();
    // (registration and sign-in are anonymous: not billed)
    assert_eq!(made.values().sum::<i64>(), 2 * per_province as i64 + 20);
    let deadline = Instant::now() + Duration::from_secs(30);
    while api_usage(&mut conn) != made {
        assert!(
            Instant::now() < deadline,
            "usage {:?} != calls made {made:?}",
            api_usage(&mut conn)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ...and once more at a graceful stop, which must add nothing already counted.
    let stop_a = tokio::task::spawn_blocking(move || {
        let ok = a.child.terminate(Duration::from_secs(30));
        (ok, a)
    });
    let stop_b = tokio::task::spawn_blocking(move || {
        let ok = b.child.terminate(Duration::from_secs(30));
        (ok, b)
    });
    let ((ok_a, _a), (ok_b, _b)) = (stop_a.await.unwrap(), stop_b.await.unwrap());
    assert!(ok_a && ok_b, "both replicas stop cleanly on SIGTERM");
    assert_eq!(api_usage(&mut conn), made, "usage counted once");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM (SELECT tenant_id, idempotency_key FROM public.usage_events GROUP BY 1, 2 HAVING count(*) > 1) d"
        ),
        0
    );
    drop(conn);
    let _ = std::fs::remove_dir_all(&data_dir);
}
