//! Properties of the manifest parser: any text or bytes are answered (never a panic), an
//! answer is a manifest or at least one error naming the file, and a manifest that parses
//! writes back to a file that parses to the same manifest.

use std::path::Path;

use proptest::prelude::*;
use proptest::string::string_regex;

use super::manifest::{Manifest, parse_str};

const FILE: &str = "tenants/fuzz.toml";

fn parse(text: &str) -> Result<Manifest, Vec<String>> {
    parse_str(text, Path::new(FILE), "localhost")
}

/// A regex strategy (the patterns here are constants that compile).
fn re(pattern: &str) -> BoxedStrategy<String> {
    string_regex(pattern).expect("pattern").boxed()
}

/// Mostly words (short and long runs of them), sometimes anything printable (markup,
/// padding, control characters).
fn text(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        2 => re(&format!("[\\p{{L}}\\p{{N}} ,.'()-]{{1,{max}}}")),
        3 => re(&format!("([\\p{{L}}\\p{{N}}]{{1,9}} ){{1,{}}}[\\p{{L}}]{{1,9}}", max / 6)),
        1 => re(&format!(" {{0,2}}\\PC{{0,{}}} {{0,2}}", max + 10)),
    ]
    .boxed()
}

fn slug() -> BoxedStrategy<String> {
    prop_oneof![
        6 => re("[a-z][a-z0-9]{1,10}(-[a-z0-9]{1,6}){0,2}"),
        1 => re("\\PC{0,12}"),
    ]
    .boxed()
}

fn domain() -> BoxedStrategy<String> {
    prop_oneof![
        4 => re("[a-zA-Z0-9]{1,8}(\\.[a-zA-Z0-9]{1,8}){1,3}\\.?"),
        1 => re("[a-z]{1,6}\\.localhost"),
        1 => re("\\PC{0,20}"),
    ]
    .boxed()
}

fn colour() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(vec!["#0b5394", "#8B0000", "#1a1a1a", " #004d40 "])
            .prop_map(str::to_string),
        2 => re("#[0-9a-fA-F]{6}"),
        1 => re("\\PC{0,8}"),
    ]
    .boxed()
}

/// A manifest file from parts, written by the TOML serialiser so quoting is always right.
fn manifest_text() -> impl Strategy<Value = String> {
    let branding = (
        text(90),
        proptest::option::of(colour()),
        proptest::option::of(re("[0-9 +().-]{0,32}")),
        proptest::option::of(text(210)),
        proptest::option::of(text(290)),
    );
    (
        slug(),
        text(130),
        proptest::option::of(prop_oneof![re("[a-z]{3,10}"), Just("premium".to_string())]),
        proptest::option::of(proptest::collection::vec(domain(), 0..4)),
        proptest::option::of(prop_oneof![re("[A-Z]{2,4}"), re("\\PC{0,5}")]),
        proptest::option::of(branding),
    )
        .prop_map(|(slug, name, plan, domains, code, branding)| {
            let mut t = toml::Table::new();
            t.insert("slug".into(), slug.into());
            t.insert("name".into(), name.into());
            if let Some(p) = plan {
                t.insert("plan".into(), p.into());
            }
            if let Some(d) = domains {
                t.insert("domains".into(), d.into());
            }
            if let Some(c) = code {
                t.insert("code".into(), c.into());
            }
            if let Some((display_name, accent, hotline, address, banner)) = branding {
                let mut b = toml::Table::new();
                b.insert("display_name".into(), display_name.into());
                for (k, v) in [
                    ("accent_color", accent),
                    ("hotline", hotline),
                    ("address", address),
                    ("banner", banner),
                ] {
                    if let Some(v) = v {
                        b.insert(k.into(), v.into());
                    }
                }
                t.insert("branding".into(), b.into());
            }
            toml::to_string(&t).expect("a table of strings serialises")
        })
}

/// Any TOML value, nested a little.
fn toml_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(toml::Value::from),
        any::<bool>().prop_map(toml::Value::from),
        any::<f64>().prop_map(toml::Value::from),
        "\\PC{0,12}".prop_map(toml::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| { toml::Value::Table(m.into_iter().collect()) }),
        ]
    })
}

/// The manifest's keys (and some others) with values of any type.
fn toml_document() -> impl Strategy<Value = String> {
    let key = proptest::sample::select(vec![
        "slug", "name", "plan", "domains", "code", "branding", "colour", "",
    ]);
    proptest::collection::btree_map(key, toml_value(), 0..7).prop_map(|m| {
        let t: toml::Table = m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        toml::to_string(&t).unwrap_or_default()
    })
}

/// An answer is a manifest, or errors that each name the file.
fn well_formed(answer: &Result<Manifest, Vec<String>>) -> Result<(), TestCaseError> {
    if let Err(errors) = answer {
        prop_assert!(!errors.is_empty(), "an error without a message");
        for e in errors {
            prop_assert!(e.starts_with(FILE), "{e:?} does not name the file");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_parsed_manifest_writes_back_to_the_same_manifest(text in manifest_text()) {
        let answer = parse(&text);
        well_formed(&answer)?;
        if let Ok(m) = answer {
            let written = m.to_toml();
            let again = parse(&written);
            prop_assert_eq!(again.as_ref(), Ok(&m), "{}\n--- wrote ---\n{}", text, written);
            prop_assert_eq!(again.unwrap().to_toml(), written);
        }
    }

    #[test]
    fn any_text_is_answered(text in "\\PC{0,200}") {
        well_formed(&parse(&text))?;
    }

    #[test]
    fn any_bytes_are_answered(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        well_formed(&parse(&String::from_utf8_lossy(&bytes)))?;
    }

    #[test]
    fn any_toml_is_answered(text in toml_document()) {
        well_formed(&parse(&text))?;
    }
}

/// A share of generated manifests must be valid, or the round trip above proves little.
#[test]
fn generated_manifests_are_often_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = manifest_text();
    let valid = (0..200)
        .filter(|_| parse(&strategy.new_tree(&mut runner).unwrap().current()).is_ok())
        .count();
    assert!(valid >= 40, "only {valid} of 200 generated manifests parse");
}
