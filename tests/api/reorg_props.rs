//! Reorganisation as a property (#18): for random small sets of provinces, each with two wards
//! and an official in each, random dossiers (licence renewals decided by the province, birth
//! registrations decided by a ward; filed, accepted or refused) and a random plan of merges
//! (into one of the group or a new province), moves of units to another province and splits
//! (into the province itself and a new one), renames of provinces (those in no other step) and
//! of wards (those in no move or split), every row is conserved (per table, over every
//! schema), every tracking code answers on the national host with the same status and due
//! date, every official signs in with the old password where their unit or province now is,
//! every province's old name finds the province now serving it, and a renamed ward shows its
//! new name where it is now served and is found by its old one.

use std::collections::BTreeMap;

use diesel::RunQueryDsl;
use portal::accounts::staff::StaffRole;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{CITIZEN_ID, STAFF_PASSWORD, TestApp};
use crate::reorg::{plan_file, portal, rows};
use crate::reorg_units::birth;

/// One province of a case: its licence renewals and its births (ward 0 or 1), each with what
/// it becomes (0 filed, 1 accepted, 2 refused).
#[derive(Debug, Clone)]
struct Province {
    licences: Vec<u8>,
    births: Vec<(u8, usize)>,
}

/// A step of the plan, on provinces by index.
#[derive(Debug, Clone)]
enum Op {
    /// Provinces into one of them (`Some(index in the group)`) or a new one.
    Merge(Vec<usize>, Option<usize>),
    /// Wards (a non-empty subset of 0 and 1) of a province to another.
    Move {
        from: usize,
        to: usize,
        wards: Vec<usize>,
    },
    /// A province's wards: `keep` stay, the others go to a new province.
    Split { from: usize, keep: Vec<usize> },
    /// A province (in no other step) gets a new name.
    Rename(usize),
    /// A ward (in no move or split) of a province gets a new name.
    RenameUnit { province: usize, ward: usize },
}

#[derive(Debug, Clone)]
struct Case {
    provinces: Vec<Province>,
    ops: Vec<Op>,
}

fn province() -> impl Strategy<Value = Province> {
    (
        prop::collection::vec(0u8..3, 0..=2),
        prop::collection::vec((0u8..3, 0usize..2), 0..=3),
    )
        .prop_map(|(licences, births)| Province { licences, births })
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=4)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(province(), n),
                // Per province: which kind of step it starts (0 merge, 1 move, 2 split, 3 none),
                // a successor choice and a ward mask.
                // And whether it is renamed (if in no other step) and which ward is (if any).
                prop::collection::vec(
                    (
                        0u8..4,
                        prop::option::of(0usize..2),
                        1usize..4,
                        any::<bool>(),
                        prop::option::of(0usize..2),
                    ),
                    n,
                ),
            )
        })
        .prop_map(|(provinces, choices)| {
            let n = provinces.len();
            let mut used = vec![false; n];
            let mut ops = Vec::new();
            let renames: Vec<(bool, Option<usize>)> = choices.iter().map(|c| (c.3, c.4)).collect();
            for (i, (kind, into, mask, _, _)) in choices.into_iter().enumerate() {
                if used[i] {
                    continue;
                }
                let next = (i + 1..n).find(|j| !used[*j]);
                let wards: Vec<usize> = (0..2).filter(|k| mask & (1 << k) != 0).collect();
                match (kind, next) {
                    (0, Some(j)) => {
                        used[i] = true;
                        used[j] = true;
                        ops.push(Op::Merge(vec![i, j], into));
                    }
                    (1, Some(j)) => {
                        used[i] = true;
                        used[j] = true;
                        ops.push(Op::Move {
                            from: i,
                            to: j,
                            wards,
                        });
                    }
                    (2, _) => {
                        used[i] = true;
                        // The new province gets the wards of the mask; the others stay.
                        let keep = (0..2).filter(|k| !wards.contains(k)).collect();
                        ops.push(Op::Split { from: i, keep });
                    }
                    _ => {}
                }
            }
            // Renames act on what no other step names: unit steps come first in a plan, and a
            // province or a unit may be in one step only.
            let mut renamed = Vec::new();
            for (i, (province, ward)) in renames.into_iter().enumerate() {
                if province && !used[i] {
                    renamed.push(Op::Rename(i));
                }
                let Some(k) = ward else { continue };
                let taken = ops.iter().any(|op| match op {
                    Op::Move { from, wards, .. } => *from == i && wards.contains(&k),
                    Op::Split { from, .. } => *from == i,
                    _ => false,
                });
                if !taken {
                    renamed.push(Op::RenameUnit {
                        province: i,
                        ward: k,
                    });
                }
            }
            ops.extend(renamed);
            Case { provinces, ops }
        })
        .prop_filter("a plan has a step", |c| !c.ops.is_empty())
}

fn slug(i: usize) -> String {
    format!("tinh-{}", (b'a' + i as u8) as char)
}

fn schema(slug: &str) -> String {
    format!("t_{}", slug.replace('-', "_"))
}

/// Ward `k` of province `i`: a national-style code of its own.
fn ward(i: usize, k: usize) -> String {
    format!("9{i}0{k}0")
}

fn province_name(i: usize) -> String {
    format!("Tỉnh {}", i + 1)
}

fn ward_name(i: usize, k: usize) -> String {
    format!("Phường {i}-{k}")
}

/// Words for new names: a new name shares nothing with the old one, so a search by the old
/// name finds the unit or province only through the names it was known by.
const WORDS: [&str; 4] = ["An", "Bình", "Cường", "Dũng"];

fn new_province_name(i: usize) -> String {
    format!("Thành phố {}", WORDS[i])
}

fn new_ward_name(i: usize, k: usize) -> String {
    format!("Xã {} {}", WORDS[i], WORDS[k])
}

fn query(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The slugs the national search finds for `q`.
async fn search(app: &TestApp, q: &str) -> Vec<String> {
    let v: Value = app
        .get("localhost", &format!("/api/v1/search?q={}", query(q)))
        .await
        .json()
        .await
        .unwrap();
    v["provinces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_string())
        .collect()
}

/// (code, name) of the units a province's `/api/v1/units?q=` finds.
async fn units(app: &TestApp, slug: &str, q: &str) -> Vec<(String, String)> {
    let res = app
        .get(
            &format!("{slug}.localhost"),
            &format!("/api/v1/units?q={}", query(q)),
        )
        .await;
    assert_eq!(res.status(), 200);
    let v: Vec<Value> = res.json().await.unwrap();
    v.iter()
        .map(|u| {
            (
                u["code"].as_str().unwrap().to_string(),
                u["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
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

/// Where each (province, ward) is served: a slug (ward `None`: the province-level staff, who
/// stay with the province).
type Holders = BTreeMap<(usize, Option<usize>), String>;

/// The plan's TOML, where each (province, ward) is served after it, and the new schemas.
fn plan_text(case: &Case) -> (String, Holders, Vec<String>) {
    let n = case.provinces.len();
    let mut at = Holders::new();
    for i in 0..n {
        for k in [None, Some(0), Some(1)] {
            at.insert((i, k), slug(i));
        }
    }
    let mut new_schemas = Vec::new();
    let mut plan = String::from("effective = \"2099-07-01\"\n");
    for (s, op) in case.ops.iter().enumerate() {
        match op {
            Op::Merge(members, into) => {
                let into = match into {
                    Some(k) => slug(members[k % members.len()]),
                    None => {
                        let new = format!("tinh-moi-{s}");
                        new_schemas.push(schema(&new));
                        new
                    }
                };
                let from: Vec<String> = members
                    .iter()
                    .map(|m| format!("\"{}\"", slug(*m)))
                    .collect();
                plan.push_str(&format!(
                    "[[merge]]\nfrom = [{}]\ninto = \"{into}\"\n",
                    from.join(", ")
                ));
                for m in members {
                    for k in [None, Some(0), Some(1)] {
                        at.insert((*m, k), into.clone());
                    }
                }
            }
            Op::Move { from, to, wards } => {
                let units: Vec<String> = wards
                    .iter()
                    .map(|k| format!("\"{}\"", ward(*from, *k)))
                    .collect();
                plan.push_str(&format!(
                    "[[move_units]]\nfrom = \"{}\"\nto = \"{}\"\nunits = [{}]\n",
                    slug(*from),
                    slug(*to),
                    units.join(", ")
                ));
                for k in wards {
                    at.insert((*from, Some(*k)), slug(*to));
                }
            }
            Op::Split { from, keep } => {
                let new = format!("tinh-moi-{s}");
                new_schemas.push(schema(&new));
                plan.push_str(&format!("[[split]]\nprovince = \"{}\"\n", slug(*from)));
                let list = |ks: &[usize]| {
                    ks.iter()
                        .map(|k| format!("\"{}\"", ward(*from, *k)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if !keep.is_empty() {
                    plan.push_str(&format!(
                        "[[split.into]]\nprovince = \"{}\"\nunits = [{}]\n",
                        slug(*from),
                        list(keep)
                    ));
                }
                let going: Vec<usize> = (0..2).filter(|k| !keep.contains(k)).collect();
                plan.push_str(&format!(
                    "[[split.into]]\nprovince = \"{new}\"\nname = \"Tỉnh mới {s}\"\nunits = [{}]\n",
                    list(&going)
                ));
                for k in going {
                    at.insert((*from, Some(k)), new.clone());
                }
            }
            Op::Rename(i) => plan.push_str(&format!(
                "[[rename]]\nslug = \"{}\"\nname = \"{}\"\n",
                slug(*i),
                new_province_name(*i)
            )),
            Op::RenameUnit { province, ward: k } => plan.push_str(&format!(
                "[[rename_unit]]\nprovince = \"{}\"\nunit = \"{}\"\nname = \"{}\"\n",
                slug(*province),
                ward(*province, *k),
                new_ward_name(*province, *k)
            )),
        }
    }
    (plan, at, new_schemas)
}

async fn run(case: Case) {
    let app = TestApp::spawn().await;
    let mut codes = Vec::new();
    // (email, province, ward) of every official.
    let mut staff = Vec::new();
    for (i, p) in case.provinces.iter().enumerate() {
        let s = slug(i);
        let host = format!("{s}.localhost");
        app.create_tenant(&s, &province_name(i)).await;
        for k in 0..2 {
            diesel::sql_query(format!(
                "INSERT INTO {}.units (code, name, kind, receives) VALUES ('{}', '{}', 'ward', true)",
                schema(&s),
                ward(i, k),
                ward_name(i, k)
            ))
            .execute(&mut app.raw_connection())
            .unwrap();
        }
        let citizen = app.citizen_token(&host, "dan@example.vn").await;
        let official = app
            .staff_token(&s, &format!("canbo{i}@tinh.vn"), StaffRole::Official)
            .await;
        staff.push((format!("canbo{i}@tinh.vn"), i, None));
        let mut ward_officials = Vec::new();
        for k in 0..2 {
            let email = format!("canbo{i}p{k}@tinh.vn");
            let unit = ward(i, k);
            ward_officials.push(
                app.unit_staff_token(&s, &email, StaffRole::Official, &[unit.as_str()])
                    .await,
            );
            staff.push((email, i, Some(k)));
        }
        for what in &p.licences {
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
        for (what, k) in &p.births {
            let res = app
                .post_json(
                    &host,
                    "/api/v1/dossiers",
                    Some(&citizen),
                    &birth(&ward(i, *k)),
                )
                .await;
            assert_eq!(res.status(), 201);
            let code = res.json::<Value>().await.unwrap()["tracking_code"]
                .as_str()
                .unwrap()
                .to_string();
            let body = match what {
                1 => Some(json!({"action": "accept"})),
                2 => Some(json!({"action": "refuse", "deficiencies": [
                    {"item": "child_name", "problem": "invalid"}]})),
                _ => None,
            };
            if let Some(body) = body {
                let res = app.act(&host, &ward_officials[*k], &code, body).await;
                assert!(res.status().is_success(), "{code}: {}", res.status());
            }
            codes.push(code);
        }
    }
    let mut before = BTreeMap::new();
    for code in &codes {
        before.insert(code.clone(), track(&app, code).await);
    }
    let (plan, at, new_schemas) = plan_text(&case);
    let mut schemas: Vec<String> = (0..case.provinces.len())
        .map(|i| schema(&slug(i)))
        .collect();
    let counted = |schemas: &[String]| {
        let names: Vec<&str> = schemas.iter().map(String::as_str).collect();
        let mut r = rows(&app, &names);
        // The site look is each province's own (a new province gets one of its own).
        for (table, t) in portal::reorg::merge::TABLES {
            if *t == portal::reorg::merge::Treatment::Kept {
                r.remove(*table);
            }
        }
        r
    };
    let rows_before = counted(&schemas);
    schemas.extend(new_schemas);

    let file = plan_file(&plan);
    let (code, out, err) = portal(&app, &["reorganise", file.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{plan}\n{out}{err}");
    app.state.registry.reload().unwrap();

    assert_eq!(counted(&schemas), rows_before, "{plan}\n{out}");
    for code in &codes {
        assert_eq!(track(&app, code).await, before[code], "{code}\n{plan}");
    }
    for (email, i, k) in &staff {
        let host = format!("{}.localhost", at[&(*i, *k)]);
        app.token(&host, email, STAFF_PASSWORD).await;
    }
    // Every province's old name finds the province serving it now (itself, renamed or not,
    // or its merge's successor); a renamed one is found by its new name too.
    for i in 0..case.provinces.len() {
        let serving = &at[&(i, None)];
        let found = search(&app, &province_name(i)).await;
        assert!(
            found.contains(serving),
            "{}: {found:?}\n{plan}",
            province_name(i)
        );
    }
    for op in &case.ops {
        match op {
            Op::Rename(i) => {
                let found = search(&app, &new_province_name(*i)).await;
                assert!(found.contains(&slug(*i)), "{found:?}\n{plan}");
            }
            // Where the ward is served now, it shows its new name, and its old name finds it.
            Op::RenameUnit { province, ward: k } => {
                let serving = &at[&(*province, Some(*k))];
                let (old, new) = (ward_name(*province, *k), new_ward_name(*province, *k));
                let code = ward(*province, *k);
                let found = units(&app, serving, &new).await;
                assert!(
                    found.iter().any(|(c, n)| c.ends_with(&code) && *n == new),
                    "{new} in {serving}: {found:?}\n{plan}"
                );
                let found = units(&app, serving, &old).await;
                assert!(
                    found.iter().any(|(c, n)| c.ends_with(&code) && *n == new),
                    "{old} in {serving}: {found:?}\n{plan}"
                );
            }
            _ => {}
        }
    }
}

proptest! {
    // Each case is a database, provinces and an HTTP server: a few cases, shrunk when one fails.
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_random_plan_conserves_every_row_and_every_code_and_password_works_the_same(c in case()) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(c));
    }
}
