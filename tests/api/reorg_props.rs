//! Reorganisation as a property (#18): for random small sets of provinces with random
//! dossiers (filed, accepted, refused) and a random merge plan (groups of provinces merged into
//! one of them or into a new province), every row is conserved (per table, over every schema)
//! and every tracking code answers on the national host with the same status and due date.

use std::collections::BTreeMap;

use portal::accounts::staff::StaffRole;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, TestApp};
use crate::reorg::{plan_file, portal, rows};

/// One province of a case: what each of its dossiers becomes (0 filed, 1 accepted, 2 refused).
type Province = Vec<u8>;

/// A case: provinces, and the plan as groups (indices into the provinces, at least two each,
/// disjoint) with the successor (an index in the group, or `None` for a new province).
#[derive(Debug, Clone)]
struct Case {
    provinces: Vec<Province>,
    groups: Vec<(Vec<usize>, Option<usize>)>,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=4)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(prop::collection::vec(0u8..3, 0..=3), n),
                // Each province's group number (provinces alone in a group are not merged).
                prop::collection::vec(0usize..2, n),
                prop::collection::vec(prop::option::of(0usize..4), 2),
            )
        })
        .prop_map(|(provinces, group_of, into)| {
            let mut groups = Vec::new();
            for (g, into) in into.iter().enumerate() {
                let members: Vec<usize> =
                    (0..provinces.len()).filter(|p| group_of[*p] == g).collect();
                if members.len() >= 2 {
                    let succ = into.map(|i| members[i % members.len()]);
                    groups.push((members, succ));
                }
            }
            Case { provinces, groups }
        })
        .prop_filter("a plan has a merge", |c| !c.groups.is_empty())
}

fn slug(i: usize) -> String {
    format!("tinh-{}", (b'a' + i as u8) as char)
}

fn schema(slug: &str) -> String {
    format!("t_{}", slug.replace('-', "_"))
}

async fn track(app: &TestApp, code: &str) -> (String, Value) {
    let res = app
        .get(
            "localhost",
            &format!("/api/v1/tracking/{code}?id_number={CITIZEN_ID}"),
        )
        .await;
    assert_eq!(res.status(), 200, "{code}");
    let v: Value = res.json().await.unwrap();
    (
        v["status"].as_str().unwrap().to_string(),
        v["due_on"].clone(),
    )
}

async fn run(case: Case) {
    let app = TestApp::spawn().await;
    let mut codes = Vec::new();
    for (i, dossiers) in case.provinces.iter().enumerate() {
        let s = slug(i);
        let host = format!("{s}.localhost");
        app.create_tenant(&s, &format!("Tỉnh {}", i + 1)).await;
        if dossiers.is_empty() {
            continue;
        }
        let citizen = app.citizen_token(&host, "dan@example.vn").await;
        let official = app
            .staff_token(&s, &format!("canbo{i}@tinh.vn"), StaffRole::Official)
            .await;
        for what in dossiers {
            let code = app.submit_complete_licence_renewal(&host, &citizen).await;
            let body = match what {
                1 => Some(json!({"action": "accept"})),
                2 => Some(json!({"action": "refuse", "deficiencies": [
                    {"item": "portrait_photo", "problem": "illegible"}]})),
                _ => None,
            };
            if let Some(body) = body {
                let res = app.act(&host, &official, &code, body).await;
                assert!(res.status().is_success(), "{}", res.status());
            }
            codes.push(code);
        }
    }
    let mut before = BTreeMap::new();
    for code in &codes {
        before.insert(code.clone(), track(&app, code).await);
    }
    let mut schemas: Vec<String> = (0..case.provinces.len())
        .map(|i| schema(&slug(i)))
        .collect();
    let counted = |schemas: &[String]| {
        let names: Vec<&str> = schemas.iter().map(String::as_str).collect();
        let mut r = rows(&app, &names);
        // The site look is the successor's own (a new province gets one of its own).
        for (table, t) in portal::reorg::merge::TABLES {
            if *t == portal::reorg::merge::Treatment::Kept {
                r.remove(*table);
            }
        }
        r
    };
    let rows_before = counted(&schemas);

    let mut plan = String::from("effective = \"2099-07-01\"\n");
    for (n, (members, into)) in case.groups.iter().enumerate() {
        let from: Vec<String> = members
            .iter()
            .map(|m| format!("\"{}\"", slug(*m)))
            .collect();
        let into = match into {
            Some(i) => slug(*i),
            None => {
                let new = format!("tinh-moi-{n}");
                schemas.push(schema(&new));
                new
            }
        };
        plan.push_str(&format!(
            "[[merge]]\nfrom = [{}]\ninto = \"{into}\"\n",
            from.join(", ")
        ));
    }
    let file = plan_file(&plan);
    let (code, out, err) = portal(&app, &["reorganise", file.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{plan}\n{out}{err}");
    app.state.registry.reload().unwrap();

    assert_eq!(counted(&schemas), rows_before, "{plan}");
    for code in &codes {
        assert_eq!(track(&app, code).await, before[code], "{code}\n{plan}");
    }
}

proptest! {
    // Each case is a database, provinces and an HTTP server: a few cases, shrunk when one fails.
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_random_merge_plan_conserves_every_row_and_every_code_answers_the_same(c in case()) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(c));
    }
}
