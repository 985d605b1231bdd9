//! The monthly e-invoice job: between the 1st and `issue_by_day` it issues one e-invoice per
//! finalized invoice of the previous period, once across replicas (two app contexts at the
//! same time), nothing again on a re-run, and leaves a province with incomplete buyer details
//! unissued. (The in-process `mock` provider.)

use chrono::Duration;
use portal::app::App;
use portal::jobs::einvoices::{Run, issue_due};
use portal::period::Period;
use serde_json::json;

use crate::einvoice_kit::*;
use crate::helpers::{TestApp, TestDb};

fn run(app: App, day: chrono::NaiveDate) -> Option<Run> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    issue_due(&app, &runtime, day).unwrap()
}

async fn run_async(app: &App, day: chrono::NaiveDate) -> Option<Run> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || run(app, day))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_job_issues_last_months_invoices_once_and_skips_incomplete_buyers() {
    let db = TestDb::create();
    let settings = settings_with_seller(&db);
    let app = TestApp::spawn_with(db, settings.clone()).await;
    app.create_tenant("lao-cai", "Tỉnh Lào Cai").await;
    app.create_tenant("hue", "Thành phố Huế").await;
    app.create_tenant("ca-mau", "Tỉnh Cà Mau").await;
    let op = app.operator_token().await;
    let invoices = close_last_period(&app, &op).await;
    assert_eq!(invoices.len(), 3);
    let number = |slug: &str| {
        invoices.iter().find(|i| i["tenant"] == slug).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let res = put_buyer(&app, &op, "lao-cai", &lao_cai_buyer()).await;
    assert_eq!(res.status(), 200);
    let hue = json!({
        "name": "Văn phòng Ủy ban nhân dân thành phố Huế",
        "budget_unit_code": "7654321",
        "address": "16 Lê Lợi, phường Thuận Hoá, thành phố Huế",
        "email": "vanphong@hue.gov.vn"
    });
    let res = put_buyer(&app, &op, "hue", &hue).await;
    assert_eq!(res.status(), 200);
    // Cà Mau has no buyer details.

    // Two replicas: the server's app and a second context on the same database.
    let a = app.state.app.clone();
    let b = App::for_cli(&settings).unwrap();
    let first = Period::of(portal::clock::today_vn()).first_day();

    // After `issue_by_day` (the 8th): nothing is due.
    assert_eq!(run_async(&a, first + Duration::days(7)).await, None);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM einvoices"), 0);

    // On the 1st, both at once: one wins the lock (or the second finds nothing left).
    let (ra, rb) = tokio::join!(run_async(&a, first), run_async(&b, first));
    let mut issued: Vec<String> = [&ra, &rb]
        .into_iter()
        .flatten()
        .flat_map(|r| r.issued.clone())
        .collect();
    issued.sort();
    let mut expected = vec![number("lao-cai"), number("hue")];
    expected.sort();
    assert_eq!(issued, expected, "{ra:?} {rb:?}");
    for r in [&ra, &rb].into_iter().flatten() {
        assert_eq!(r.incomplete, vec![number("ca-mau")], "{r:?}");
        assert!(r.failed.is_empty(), "{r:?}");
    }

    // Re-run on the 7th: nothing new, Cà Mau still left.
    let again = run_async(&a, first + Duration::days(6)).await.unwrap();
    assert_eq!(
        again,
        Run {
            issued: vec![],
            incomplete: vec![number("ca-mau")],
            failed: vec![],
        }
    );

    assert_eq!(count(&app, "SELECT count(*) AS n FROM einvoices"), 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(DISTINCT invoice_id) AS n FROM einvoices WHERE status = 'issued'"
        ),
        2
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM einvoices e JOIN invoices i ON i.id = e.invoice_id \
                 WHERE i.number = '{}'",
                number("ca-mau")
            )
        ),
        0
    );
}
