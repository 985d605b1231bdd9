//! The documents hold together: every reference resolves, every operation answers something
//! on success and describes its errors with the envelope.

use serde_json::Value;

use super::{SiteKind, document};

const KINDS: [SiteKind; 3] = [SiteKind::National, SiteKind::Operator, SiteKind::Province];

fn parsed(kind: SiteKind) -> Value {
    serde_json::from_str(document(kind)).expect("the document is JSON")
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    for kind in KINDS {
        let doc = parsed(kind);
        assert_eq!(doc["openapi"], "3.1.0");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(
                doc.pointer(pointer).is_some(),
                "{kind:?}: {r} does not resolve"
            );
        }
    }
}

#[test]
fn every_operation_has_a_success_and_enveloped_errors() {
    for kind in KINDS {
        let doc = parsed(kind);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{kind:?} {method} {path}: no success"
                );
                for (status, r) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            r["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorEnvelope",
                            "{kind:?} {method} {path} {status}"
                        );
                    }
                }
                if path.starts_with("/api/") {
                    assert!(responses.contains_key("503"), "{method} {path}");
                }
                if op.get("security").is_some() {
                    assert!(responses.contains_key("401"), "{method} {path}");
                }
            }
        }
    }
}

#[test]
fn sites_describe_only_their_own_operations() {
    let paths = |kind| -> Vec<String> {
        parsed(kind)["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let (national, operator, province) = (
        paths(SiteKind::National),
        paths(SiteKind::Operator),
        paths(SiteKind::Province),
    );
    assert!(national.contains(&"/api/v1/provinces".to_string()));
    assert!(!province.contains(&"/api/v1/provinces".to_string()));
    assert!(operator.contains(&"/api/v1/tenants".to_string()));
    assert!(!province.contains(&"/api/v1/tenants".to_string()));
    assert!(province.contains(&"/api/v1/dossiers".to_string()));
    assert!(!operator.contains(&"/api/v1/dossiers".to_string()));
    for p in [&national, &operator, &province] {
        assert!(p.contains(&"/api/v1/openapi.json".to_string()));
    }
}
