//! `portal up [--demo]` and `portal serve`.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use super::demo::{DEMO_ADMIN, DEMO_CITIZEN, DEMO_OFFICIAL, DEMO_OPERATOR, DemoAccounts};
use super::{Failure, Outcome};
use crate::config::Settings;
use crate::db::admin::{AdminError, ensure_database};
use crate::startup::Application;

pub async fn up(mut settings: Settings, demo: bool, tenants_dir: &Path) -> Outcome {
    let url = settings.database.direct().expose_secret().to_string();
    let citus = settings.citus.enabled();
    let created = tokio::task::spawn_blocking(move || ensure_database(&url, citus))
        .await
        .map_err(|e| Failure::new(1, e.to_string()))?;
    match created {
        Ok(true) => println!("database created"),
        Ok(false) => {}
        Err(AdminError::Unreachable(why)) => return Err(no_postgres(&why)),
        Err(e) => return Err(Failure::new(1, e.to_string())),
    }
    let s = settings.clone();
    let dir = tenants_dir.to_path_buf();
    tokio::task::spawn_blocking(move || -> Outcome {
        super::migrate::run(&s)?;
        if dir.is_dir() {
            super::tenant::apply(&s, &dir, false)?;
        } else {
            println!("no {} folder: no provinces applied", dir.display());
        }
        Ok(())
    })
    .await
    .map_err(|e| Failure::new(1, e.to_string()))??;

    if settings.auth.jwt_secret.is_none() {
        // Fine for a demo on one machine; production sets PORTAL__AUTH__JWT_SECRET.
        let random: String = (0..48)
            .map(|_| format!("{:x}", rand::random::<u8>() % 16))
            .collect();
        settings.auth.jwt_secret = Some(SecretString::from(random));
        println!("note: PORTAL__AUTH__JWT_SECRET is not set; using a random key for this run");
    }
    if demo {
        // A demo pays its fees in the sandbox, confirmed at once; production never does.
        settings.stripe.sandbox_confirms_fees = true;
    }
    let demo_accounts = if demo {
        let s = settings.clone();
        Some(
            tokio::task::spawn_blocking(move || super::demo::seed(&s))
                .await
                .map_err(|e| Failure::new(1, e.to_string()))??,
        )
    } else {
        None
    };
    let app = Application::build(settings.clone()).map_err(|e| Failure::new(1, e.to_string()))?;
    print_urls(&settings, app.port(), demo_accounts.as_ref());
    app.run_until_stopped()
        .await
        .map_err(|e| Failure::new(1, format!("server: {e}")))
}

pub async fn serve(settings: Settings) -> Outcome {
    let app = Application::build(settings.clone()).map_err(|e| Failure::new(1, e.to_string()))?;
    tracing::info!(port = app.port(), "serving");
    app.run_until_stopped()
        .await
        .map_err(|e| Failure::new(1, format!("server: {e}")))
}

fn no_postgres(why: &str) -> Failure {
    Failure::new(
        1,
        format!(
            "PostgreSQL is not reachable ({why}).\n\
             Start it, then run this again:\n  \
             - on this machine:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n  \
             - with Docker:      docker compose up -d postgres\n  \
             - elsewhere:        set DATABASE_URL=postgres://USER@HOST:5432/portal"
        ),
    )
}

fn print_urls(settings: &Settings, port: u16, demo: Option<&DemoAccounts>) {
    let base = &settings.server.base_domain;
    let url = |host: &str| {
        let mut s = settings.clone();
        s.server.public_port = port.to_string();
        s.url_for_host(host)
    };
    println!();
    println!("portal is serving on {}", settings.server.bind.ip());
    println!("  national site:  {}", url(base));
    println!("  a province:     {}", url(&format!("ha-noi.{base}")));
    println!("  operator:       {}", url(&format!("ops.{base}")));
    if let Some(demo) = demo {
        let pw = &demo.operator_password;
        println!();
        println!("demo citizen:   {DEMO_CITIZEN} / {}", demo.citizen_password);
        println!(
            "  sign in once at {}/sign-in: every province's site knows you; {}/dossiers lists the dossiers filed in Hà Nội, TP Hồ Chí Minh, Quảng Ninh",
            url(base),
            url(base)
        );
        println!(
            "  mails are written to {}",
            settings.storage.data_dir.join("mail").display()
        );
        println!(
            "demo staff of Hà Nội (sign in at the same page): {DEMO_OFFICIAL} (official), {DEMO_ADMIN} (admin) / {}",
            demo.staff_password
        );
        println!(
            "demo operator:  {DEMO_OPERATOR} / {pw}  (console: {})",
            url(&format!("ops.{base}"))
        );
        println!(
            "  token:  curl -s -H 'Host: ops.{base}' -H 'Content-Type: application/json' \\\n          -d '{{\"email\":\"{DEMO_OPERATOR}\",\"password\":\"{pw}\"}}' http://127.0.0.1:{port}/api/v1/auth/token"
        );
    }
    println!();
    println!("Ctrl-C stops the server.");
}
