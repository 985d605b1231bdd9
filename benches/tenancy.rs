//! Tenancy benchmarks (not tests): provisioning time per province, and populating many
//! tenants for the `portal migrate` benchmark. Run through `bench/tenancy.sh`.
//!
//! `cargo bench --bench tenancy -- provision N` · `… -- populate N` ·
//! `… -- migrate-column N` (every tenant gets one new column: the embedded tenant migrations
//! plus one more, from a temporary folder) · `… -- billing N EVENTS` (N provinces with
//! EVENTS usage events in the period, then one `billing::close`).
//!
//! With `BENCH_REUSE=1`, a bench database that already holds N tenants is kept (populating
//! 3,400 tenants takes a minute or two).

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use portal::app::provisioning::provision;
use portal::config::Settings;
use portal::db::Db;
use portal::db::migrate::run_public;
use portal::tenancy::provision::NewTenant;
use secrecy::SecretString;

fn server() -> String {
    std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Drops and recreates the bench database (and the roles its tenants made).
fn fresh_database(name: &str) -> String {
    let url = format!("{}/{name}", server());
    if let Ok(mut conn) = PgConnection::establish(&url) {
        #[derive(QueryableByName)]
        struct Role {
            #[diesel(sql_type = diesel::sql_types::Text)]
            role_name: String,
        }
        let roles: Vec<Role> = sql_query("SELECT role_name FROM public.tenants")
            .load(&mut conn)
            .unwrap_or_default();
        drop(conn);
        let mut admin = PgConnection::establish(&format!("{}/postgres", server())).unwrap();
        sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .unwrap();
        for r in roles {
            let _ =
                sql_query(format!("DROP ROLE IF EXISTS \"{}\"", r.role_name)).execute(&mut admin);
        }
    }
    let mut admin = PgConnection::establish(&format!("{}/postgres", server())).unwrap();
    sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .unwrap();
    run_public(&url).unwrap();
    url
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let mode = args.first().map(String::as_str).unwrap_or("provision");
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let db_name = std::env::var("BENCH_DB").unwrap_or_else(|_| "portal_bench".into());
    let reuse = std::env::var("BENCH_REUSE").is_ok_and(|v| v == "1")
        && mode != "provision"
        && tenant_count(&db_name) == Some(n as i64);
    let url = if reuse {
        format!("{}/{db_name}", server())
    } else {
        fresh_database(&db_name)
    };
    let mut settings = Settings::load().unwrap();
    settings.database.url = SecretString::from(url.clone());
    let db = Db::new(&settings.database);
    if reuse {
        println!("reusing {n} tenants in {url}");
    } else {
        populate(&db, n, mode);
    }
    match mode {
        "migrate-column" => migrate_column(&db, settings.database.migrate_parallelism),
        "billing" => {
            let events: i64 = args
                .get(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(10_000_000);
            billing(&db, n, events)
        }
        _ => {}
    }
}

fn tenant_count(db_name: &str) -> Option<i64> {
    let mut conn = PgConnection::establish(&format!("{}/{db_name}", server())).ok()?;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Int8>(
        "(SELECT count(*) FROM public.tenants)",
    ))
    .get_result(&mut conn)
    .ok()
}

/// The `i`-th bench tenant: a commune on the basic plan.
fn commune(i: usize) -> NewTenant {
    NewTenant::parse(
        &format!("xa-{i:05}"),
        &format!("Xã {i}"),
        "basic",
        &[],
        "localhost",
    )
    .unwrap()
}

fn populate(db: &Db, n: usize, mode: &str) {
    let url = "the bench database";
    let started = Instant::now();
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let new = commune(i);
        let t0 = Instant::now();
        provision(db, &new, "bench").unwrap();
        times.push(t0.elapsed());
    }
    let total = started.elapsed();
    // Provisioning slows as the catalog grows: the last hundred show the cost at scale.
    if n >= 200 {
        let mut last: Vec<Duration> = times[n - 100..].to_vec();
        last.sort();
        println!(
            "provision at scale: tenants {}..{}: median={:.1} ms p95={:.1} ms",
            n - 99,
            n,
            ms(percentile(&last, 0.5)),
            ms(percentile(&last, 0.95))
        );
    }
    times.sort();
    match mode {
        "populate" => println!(
            "populate: {n} tenants in {:.1} s ({:.1} ms each) into {url}",
            total.as_secs_f64(),
            ms(total) / n as f64
        ),
        "provision" => println!(
            "provision: n={n} median={:.1} ms p95={:.1} ms min={:.1} ms max={:.1} ms",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(times[0]),
            ms(times[n - 1])
        ),
        _ => println!("populate: {n} tenants in {:.1} s", total.as_secs_f64()),
    }
}

/// Every tenant gets one new column: the embedded tenant migrations plus one more, read from
/// a temporary folder, applied by the same code as `portal migrate`.
fn migrate_column(db: &Db, parallelism: usize) {
    let dir = std::env::temp_dir().join(format!("portal-bench-migrations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/tenant");
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let to = dir.join(entry.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(entry.path()).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    let extra = dir.join("2099-01-01-000001_bench_column");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(
        extra.join("up.sql"),
        "ALTER TABLE dossiers ADD COLUMN bench_note text;\n",
    )
    .unwrap();
    std::fs::write(
        extra.join("down.sql"),
        "ALTER TABLE dossiers DROP COLUMN bench_note;\n",
    )
    .unwrap();
    let source = diesel_migrations::FileBasedMigrations::from_path(&dir).unwrap();
    let t0 = Instant::now();
    let report =
        portal::db::migrate::migrate_tenants(db, &source, parallelism, &|_, _| {}).unwrap();
    let took = t0.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    println!(
        "migrate-column: {} tenants migrated in {:.2} s (parallelism {parallelism})",
        report.migrated.len(),
        took.as_secs_f64()
    );
}

/// `events` usage events spread over the provinces in October 2026, with the roll-ups the
/// metering function keeps (written here in bulk, as its per-event path would take an hour),
/// then one close of the period, timed.
fn billing(db: &Db, n: usize, events: i64) {
    let t0 = Instant::now();
    let count_events = |db: &Db| -> i64 {
        db.control(|conn| {
            Ok(diesel::select(diesel::dsl::sql::<diesel::sql_types::Int8>(
                "(SELECT count(*) FROM usage_events)",
            ))
            .get_result(conn)?)
        })
        .unwrap()
    };
    if count_events(db) == events {
        // A reused database with these events already: only the invoices go (loading ten
        // million events takes minutes).
        db.control(|conn| {
            sql_query(
                "TRUNCATE invoice_lines, billed_usage, credit_notes, invoices, period_closes, \
                 invoice_counters",
            )
            .execute(conn)?;
            Ok(())
        })
        .unwrap();
        println!("billing: reusing {events} usage events over {n} provinces");
    } else {
        load_usage(db, events);
    }
    let loaded = t0.elapsed();
    let rows = count_events(db);
    println!(
        "billing: {rows} usage events over {n} provinces ready in {:.1} s",
        loaded.as_secs_f64()
    );
    close_period(db, rows);
}

fn load_usage(db: &Db, events: i64) {
    db.control(|conn| {
        // Loading ten million events takes longer than a request's statement timeout.
        sql_query("SET LOCAL statement_timeout = 0").execute(conn)?;
        sql_query("UPDATE leases SET starts_on = '2026-09-01'").execute(conn)?;
        // A reused database: start from no invoices and no usage (the bench's own data).
        // TRUNCATE does not fire the row triggers that keep invoices immutable.
        sql_query(
            "TRUNCATE invoice_lines, billed_usage, credit_notes, invoices, period_closes, \
             invoice_counters, usage_events, usage_daily, usage_period",
        )
        .execute(conn)?;
        sql_query(
            "INSERT INTO usage_events (tenant_id, metric, quantity, occurred_at, idempotency_key) \
             SELECT t.ids[1 + (g % array_length(t.ids, 1))], \
                    (ARRAY['dossiers','api_calls','emails'])[1 + (g % 3)], 1 + (g % 5), \
                    timestamptz '2026-10-01 00:00+07' + (g % 2678400) * interval '1 second', \
                    'bench-' || g \
             FROM (SELECT array_agg(id ORDER BY slug) AS ids FROM tenants) t, \
                  generate_series(1, $1::bigint) g \
             ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Int8, _>(events)
        .execute(conn)?;
        sql_query(
            "INSERT INTO usage_period (tenant_id, metric, period, quantity) \
             SELECT tenant_id, metric, '2026-10', sum(quantity) FROM usage_events \
             WHERE occurred_at >= '2026-10-01 00:00+07' AND occurred_at < '2026-11-01 00:00+07' \
             GROUP BY tenant_id, metric \
             ON CONFLICT (tenant_id, metric, period) DO UPDATE SET quantity = EXCLUDED.quantity",
        )
        .execute(conn)?;
        Ok(())
    })
    .unwrap();
}

fn close_period(db: &Db, rows: i64) {
    let t0 = Instant::now();
    let invoices = db
        .control(|conn| {
            portal::billing::close::close(
                conn,
                portal::period::Period::parse("2026-10").unwrap(),
                "bench",
                "2026-11-26T03:00:00Z".parse().unwrap(),
            )
        })
        .unwrap();
    let took = t0.elapsed();
    let total: i64 = invoices.iter().map(|i| i.total_vnd).sum();
    println!(
        "billing close: {} invoices ({total} VND in all) from {rows} usage events in {:.2} s",
        invoices.len(),
        took.as_secs_f64()
    );
}
