//! Tenancy benchmarks (not tests): provisioning time per province, and populating many
//! tenants for the `portal migrate` benchmark. Run through `bench/tenancy.sh`.
//!
//! `cargo bench --bench tenancy -- provision N` · `cargo bench --bench tenancy -- populate N`

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_query;
use portal::config::Settings;
use portal::db::Db;
use portal::db::migrate::run_public;
use portal::tenancy::provision::{NewTenant, provision};
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
    let url = fresh_database(&db_name);
    let mut settings = Settings::load().unwrap();
    settings.database.url = SecretString::from(url.clone());
    let db = Db::new(&settings.database);

    let started = Instant::now();
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let new = NewTenant::parse(
            &format!("xa-{i:05}"),
            &format!("Xã {i}"),
            "basic",
            &[],
            "localhost",
        )
        .unwrap();
        let t0 = Instant::now();
        provision(&db, &new, "bench").unwrap();
        times.push(t0.elapsed());
    }
    let total = started.elapsed();
    times.sort();
    match mode {
        "populate" => println!(
            "populate: {n} tenants in {:.1} s ({:.1} ms each) into {url}",
            total.as_secs_f64(),
            ms(total) / n as f64
        ),
        _ => println!(
            "provision: n={n} median={:.1} ms p95={:.1} ms min={:.1} ms max={:.1} ms",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(times[0]),
            ms(times[n - 1])
        ),
    }
}
