//! A small JSON Schema checker for the subset utoipa writes (`$ref`, `type`, `properties`,
//! `required`, `additionalProperties`, `items`, `oneOf`, `allOf`, `enum`, `format`), strict
//! about undocumented properties so a body that grows a field the document lacks fails.

use serde_json::Value;

/// The schema of an operation's answer: `paths[path][method].responses[status]`, JSON content.
pub fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "the document has no {method} {path}");
    let response = &op["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} documents no {status}"
    );
    &response["content"]["application/json"]["schema"]
}

/// Checks `value` against `schema` (resolved in `doc`); the error names where it failed.
pub fn check(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    check_at(doc, schema, value, "$", true)
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let target = doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("unresolved {r}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

/// Property names a schema declares, through `$ref`, `allOf` and (any branch of) `oneOf`.
fn declared(doc: &Value, schema: &Value, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(props) = schema["properties"].as_object() {
        out.extend(props.keys().cloned());
    }
    for key in ["allOf", "oneOf"] {
        for part in schema[key].as_array().into_iter().flatten() {
            declared(doc, part, out);
        }
    }
}

fn type_matches(t: &str, value: &Value) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown type {other}"),
    }
}

fn check_at(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    strict: bool,
) -> Result<(), String> {
    let schema = resolve(doc, schema);
    match &schema["type"] {
        Value::String(t) if !type_matches(t, value) => {
            return Err(format!("{at}: {value} is not {t}"));
        }
        Value::Array(ts) if !ts.iter().any(|t| type_matches(t.as_str().unwrap(), value)) => {
            return Err(format!("{at}: {value} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(format), Some(s)) = (schema["format"].as_str(), value.as_str()) {
        let ok = match format {
            "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
            "uuid" => uuid::Uuid::parse_str(s).is_ok(),
            _ => true,
        };
        if !ok {
            return Err(format!("{at}: {s:?} is not a {format}"));
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            check_at(doc, part, value, at, false)?;
        }
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        let matching = branches
            .iter()
            .filter(|b| check_at(doc, b, value, at, strict).is_ok())
            .count();
        if matching != 1 {
            return Err(format!(
                "{at}: {value} matches {matching} of oneOf {branches:?}"
            ));
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema["properties"].as_object();
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !obj.contains_key(name) {
                return Err(format!("{at}: required `{name}` is missing"));
            }
        }
        for (k, v) in obj {
            let here = format!("{at}.{k}");
            if let Some(s) = props.and_then(|p| p.get(k)) {
                check_at(doc, s, v, &here, true)?;
            } else if let Some(extra) = schema.get("additionalProperties") {
                match extra {
                    Value::Bool(false) => return Err(format!("{here}: not allowed")),
                    Value::Bool(true) => {}
                    s => check_at(doc, s, v, &here, true)?,
                }
            } else if strict && schema.get("properties").is_some() {
                let mut known = Vec::new();
                declared(doc, schema, &mut known);
                if !known.contains(k) {
                    return Err(format!("{here}: the document does not declare it"));
                }
            }
        }
        if strict && schema["allOf"].is_array() {
            let mut known = Vec::new();
            declared(doc, schema, &mut known);
            if let Some(k) = obj.keys().find(|k| !known.contains(k)) {
                return Err(format!("{at}.{k}: the document does not declare it"));
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            check_at(doc, items, v, &format!("{at}[{i}]"), true)?;
        }
    }
    Ok(())
}

#[test]
fn the_checker_refuses_what_the_schema_does_not_say() {
    let doc = serde_json::json!({"components": {"schemas": {
        "E": {"type": "object", "required": ["error"], "properties": {"error": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string"}, "at": {"type": ["string", "null"], "format": "date-time"}}}
    }}});
    let schema = serde_json::json!({"$ref": "#/components/schemas/E"});
    let ok = serde_json::json!({"error": {"code": "x", "at": "2026-11-26T08:00:00Z"}});
    assert_eq!(check(&doc, &schema, &ok), Ok(()));
    for bad in [
        serde_json::json!({"error": {"at": null}}),
        serde_json::json!({"error": {"code": 1}}),
        serde_json::json!({"error": {"code": "x", "at": "yesterday"}}),
        serde_json::json!({"error": {"code": "x", "extra": true}}),
        serde_json::json!([]),
    ] {
        assert!(check(&doc, &schema, &bad).is_err(), "{bad}");
    }
}
