//! Stripe answering 500 and timing out while an invoice is pushed: every attempt is recorded,
//! every retry (the operator's and the billing job's) carries the same idempotency keys, and
//! Stripe ends up with each object once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_query;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{TestApp, TestDb, test_settings};

enum Fault {
    /// Stripe fails before doing anything.
    Error500,
    /// Stripe does the work, but answers only after the client gave up.
    Slow(Duration),
}

#[derive(Default)]
struct Books {
    /// Faults to inject, each on the next request to its path.
    faults: VecDeque<(String, Fault)>,
    /// Idempotency key → the answer given (replayed for the same key, as Stripe does).
    answers: HashMap<String, serde_json::Value>,
    /// Objects created (or invoices finalized), by kind: what Stripe would hold.
    created: Vec<(String, String)>,
    /// Every request: (path, key, what happened).
    requests: Vec<(String, String, &'static str)>,
}

/// Stripe's API as far as invoices go, with its idempotency: a repeated key returns the first
/// answer and creates nothing.
#[derive(Clone, Default)]
struct FakeStripe(Arc<Mutex<Books>>);

impl Respond for FakeStripe {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut books = self.0.lock().unwrap();
        let path = req.url.path().to_string();
        let key = req
            .headers
            .get("Idempotency-Key")
            .map(|k| k.to_str().unwrap().to_string())
            .unwrap_or_default();
        let fault = books
            .faults
            .iter()
            .position(|(p, _)| *p == path)
            .and_then(|i| books.faults.remove(i))
            .map(|(_, f)| f);
        if let Some(Fault::Error500) = fault {
            books.requests.push((path, key, "500"));
            return ResponseTemplate::new(500).set_body_json(
                serde_json::json!({"error": {"type": "api_error", "message": "try again"}}),
            );
        }
        let body = if let Some(answer) = books.answers.get(&key).cloned() {
            books.requests.push((path.clone(), key.clone(), "replayed"));
            answer
        } else {
            let n = books.created.len() + 1;
            let (kind, body) = match path.as_str() {
                "/v1/customers" => ("customer", serde_json::json!({"id": format!("cus_{n}")})),
                "/v1/invoices" => ("invoice", serde_json::json!({"id": format!("in_{n}")})),
                "/v1/invoiceitems" => ("item", serde_json::json!({"id": format!("ii_{n}")})),
                p if p.ends_with("/finalize") => {
                    let id = p.split('/').nth(3).unwrap();
                    ("finalize", serde_json::json!({"id": id, "status": "open"}))
                }
                other => panic!("unexpected Stripe call {other}"),
            };
            books.created.push((kind.to_string(), key.clone()));
            books.answers.insert(key.clone(), body.clone());
            books.requests.push((path.clone(), key.clone(), "created"));
            body
        };
        let answer = ResponseTemplate::new(200).set_body_json(body);
        match fault {
            Some(Fault::Slow(d)) => answer.set_delay(d),
            _ => answer,
        }
    }
}

#[derive(QueryableByName, Debug)]
struct Pushed {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    provider_status: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    provider_error: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    provider_attempts: i32,
}

fn pushed(app: &TestApp) -> Pushed {
    sql_query("SELECT provider_status, provider_error, provider_attempts FROM public.invoices")
        .get_result(&mut app.raw_connection())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_500_and_timeouts_are_retried_with_the_same_keys_creating_nothing_twice() {
    let stripe = MockServer::start().await;
    let fake = FakeStripe::default();
    {
        let mut books = fake.0.lock().unwrap();
        let slow = Fault::Slow(Duration::from_secs(4));
        books.faults.extend([
            ("/v1/invoices".to_string(), Fault::Error500),
            ("/v1/invoiceitems".to_string(), slow),
            ("/v1/invoices/in_2/finalize".to_string(), Fault::Error500),
        ]);
    }
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&stripe)
        .await;
    let db = TestDb::create();
    let mut settings = test_settings(&db.url);
    settings.stripe.secret_key = Some(secrecy::SecretString::from("sk_test_faults".to_string()));
    settings.stripe.api_base = format!("{}/", stripe.uri());
    // Stripe's answer later than this is a timeout (the slow fault answers after 4 s).
    settings.stripe.timeout_secs = 1;
    let app = TestApp::spawn_with(db, settings).await;
    app.create_tenant("ha-noi", "Thành phố Hà Nội").await;
    sql_query("UPDATE leases SET starts_on = '2026-10-01'")
        .execute(&mut app.raw_connection())
        .unwrap();
    let op = app.operator_token().await;

    // 1. The close pushes: the customer is created, the invoice gets a 500.
    let res = app
        .post_json(
            "ops.localhost",
            "/api/v1/billing/close",
            Some(&op),
            &serde_json::json!({"period": "2026-10"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let closed: serde_json::Value = res.json().await.unwrap();
    let inv = &closed["invoices"][0];
    let number = inv["number"].as_str().unwrap().to_string();
    let lines = inv["lines"].as_array().unwrap().len();
    assert_eq!(inv["status"], "finalized", "the close stands");
    let p = pushed(&app);
    assert_eq!(p.provider_status.as_deref(), Some("failed"));
    assert!(p.provider_error.unwrap().contains("500"));

    // 2. The operator sends again: the invoice is created; its first item times out (Stripe
    // created it all the same).
    let send_path = format!("/api/v1/invoices/{number}/send");
    let empty = serde_json::json!({});
    let send = || app.post_json("ops.localhost", &send_path, Some(&op), &empty);
    let res = send().await;
    assert_eq!(
        res.status(),
        503,
        "a Stripe timeout is a 503 to the operator"
    );
    let p = pushed(&app);
    assert_eq!(p.provider_status.as_deref(), Some("failed"));
    assert!(
        p.provider_error.as_deref().unwrap().contains("timed out"),
        "{p:?}"
    );

    // 3. The billing job retries: the item that timed out is asked for with its key again
    // (Stripe replays it), the other items are created, finalizing gets a 500.
    let db = app.state.db.clone();
    let provider = app.state.invoices.clone();
    let done = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        portal::jobs::billing::push_due(&db, provider.as_ref(), &runtime).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(done, 0, "finalizing failed");
    assert_eq!(pushed(&app).provider_status.as_deref(), Some("failed"));

    // 4. Sent at last.
    let res = send().await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["provider_status"], "sent", "{body}");
    assert_eq!(body["provider_ref"], "in_2");
    let p = pushed(&app);
    assert_eq!(p.provider_attempts, 4, "every attempt recorded: {p:?}");
    assert!(p.provider_error.is_none());

    // Stripe holds each object once, every one under a key derived from our number...
    let books = fake.0.lock().unwrap();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for (kind, _) in &books.created {
        *kinds.entry(kind.as_str()).or_default() += 1;
    }
    let items = lines + 1; // the lines, then VAT
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("customer", 1),
            ("finalize", 1),
            ("invoice", 1),
            ("item", items)
        ]),
        "{:?}",
        books.requests
    );
    let mut expected: Vec<String> = vec![
        format!("{number}:customer"),
        format!("{number}:invoice"),
        format!("{number}:finalize"),
    ];
    expected.extend((1..=items).map(|i| format!("{number}:item:{i}")));
    expected.sort();
    let mut keys: Vec<String> = books.created.iter().map(|(_, k)| k.clone()).collect();
    keys.sort();
    assert_eq!(keys, expected);
    // ...while the retries sent the same keys again: the invoice and finalize after their 500,
    // item 1 after its timeout and once more at the last retry, the other items at the last.
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for (_, key, _) in &books.requests {
        *sent.entry(key.clone()).or_default() += 1;
    }
    let mut expected_sent = BTreeMap::from([
        (format!("{number}:customer"), 1),
        (format!("{number}:invoice"), 2),
        (format!("{number}:finalize"), 2),
        (format!("{number}:item:1"), 3),
    ]);
    expected_sent.extend((2..=items).map(|i| (format!("{number}:item:{i}"), 2)));
    assert_eq!(sent, expected_sent, "{:?}", books.requests);
    assert!(books.faults.is_empty(), "every fault was met");
    println!(
        "Stripe: {} requests for {} objects ({} answered 500, 1 timed out, {} replayed)",
        books.requests.len(),
        books.created.len(),
        books.requests.iter().filter(|r| r.2 == "500").count(),
        books.requests.iter().filter(|r| r.2 == "replayed").count()
    );
}
