use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::lang::Lang;

/// A minimal valid catalog; tests splice `extra` fields into its one form.
fn catalog_with(procedure_extra: &str, fields_extra: &str) -> String {
    format!(
        r#"
[[group]]
key = "t"
vi = "Thử"
en = "Test"

[[procedure]]
code = "TST-001"
name = {{ vi = "Thử nghiệm", en = "Trial" }}
group = "t"
level = 3
fee_vnd = 0
processing_days = 1
placeholder = true
agency = {{ vi = "Sở", en = "Office" }}
decided_at = "department"
{procedure_extra}

[[procedure.field]]
name = "full_name"
kind = "text"
label = {{ vi = "Họ và tên", en = "Full name" }}

[[procedure.field]]
name = "id_number"
kind = "citizen_id"
label = {{ vi = "Số định danh", en = "Citizen ID" }}
{fields_extra}
"#
    )
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().expect("a JSON object").clone()
}

// ───── the compiled-in catalog ─────

#[test]
fn national_catalog_parses_with_the_seed_procedures() {
    let catalog = national();
    assert!(catalog.all().len() >= 24, "{}", catalog.all().len());
    let renew = catalog
        .all()
        .iter()
        .find(|p| p.name.vi == "Đổi giấy phép lái xe")
        .expect("driving-licence renewal");
    assert_eq!(catalog.get(&renew.code).map(|p| &p.code), Some(&renew.code));
    assert!(catalog.get("NOPE-999").is_none());
}

#[test]
fn national_forms_have_three_to_ten_fields_and_an_honest_basis() {
    for p in national().all() {
        assert!(
            (3..=10).contains(&p.fields.len()),
            "{} has {}",
            p.code,
            p.fields.len()
        );
        assert!(!p.documents.is_empty(), "{} lists no documents", p.code);
    }
}

#[test]
fn groups_follow_file_order_and_cover_every_procedure() {
    let catalog = national();
    let groups = catalog.groups();
    assert_eq!(groups[0].0.en, "Transport");
    let listed: usize = groups.iter().map(|(_, ps)| ps.len()).sum();
    assert_eq!(listed, catalog.all().len());
    assert_eq!(groups[0].0.get(Lang::Vi), "Giao thông – vận tải");
}

#[test]
fn procedures_serialise_with_a_flat_field_kind() {
    let renew = serde_json::to_value(&national().all()[0]).expect("serialisable");
    let class = &renew["fields"][3];
    assert_eq!(class["name"], "licence_class");
    assert_eq!(class["kind"], "choice");
    assert_eq!(class["options"][0]["label"]["vi"], "A1");
    assert_eq!(renew["fields"][1]["kind"], "citizen_id");
}

// ───── search ─────

#[test]
fn fold_strips_vietnamese_marks() {
    assert_eq!(
        fold_vietnamese("Đổi giấy phép lái xe"),
        "doi giay phep lai xe"
    );
    assert_eq!(fold_vietnamese("ĐĂNG KÝ KHAI SINH"), "dang ky khai sinh");
    // "ổ" written as o + circumflex + hook above, as some keyboards send it.
    assert_eq!(fold_vietnamese("\u{110}o\u{302}\u{309}i"), "doi");
}

#[test]
fn search_ignores_case_and_diacritics() {
    let catalog = national();
    let names = |q: &str, lang| -> Vec<String> {
        catalog
            .search(q, lang)
            .iter()
            .map(|p| p.name.vi.clone())
            .collect()
    };
    assert!(names("doi giay phep", Lang::Vi).contains(&"Đổi giấy phép lái xe".to_string()));
    assert!(names("ĐỔI GIẤY", Lang::Vi).contains(&"Đổi giấy phép lái xe".to_string()));
    assert!(names("khai sinh", Lang::En).contains(&"Đăng ký khai sinh".to_string()));
    assert!(names("birth", Lang::En).contains(&"Đăng ký khai sinh".to_string()));
    assert_eq!(names("gplx-001", Lang::Vi).len(), 1);
    assert!(names("xyzzy", Lang::Vi).is_empty());
    assert_eq!(catalog.search("  ", Lang::Vi).len(), catalog.all().len());
}

// ───── parse ─────

#[test]
fn parse_accepts_the_minimal_catalog() {
    let catalog = parse(&catalog_with("", "")).expect("valid");
    assert_eq!(catalog.all().len(), 1);
    assert_eq!(catalog.all()[0].group.en, "Test");
}

#[test]
fn parse_rejects_broken_catalogs() {
    let duplicate = format!(
        "{}\n{}",
        catalog_with("", ""),
        catalog_with("", "").replace("[[group]]\nkey = \"t\"\nvi = \"Thử\"\nen = \"Test\"", "")
    );
    let no_id = catalog_with("", "").replace("kind = \"citizen_id\"", "kind = \"text\"");
    let cases = [
        ("duplicate code", duplicate, "used twice"),
        ("no id_number", no_id, "id_number"),
        (
            "bad level",
            catalog_with("", "").replace("level = 3", "level = 5"),
            "level",
        ),
        (
            "bad code",
            catalog_with("", "").replace("TST-001", "tst-1"),
            "code",
        ),
        (
            "negative fee",
            catalog_with("", "").replace("fee_vnd = 0", "fee_vnd = -1"),
            "fee",
        ),
        (
            "zero days",
            catalog_with("", "").replace("processing_days = 1", "processing_days = 0"),
            "processing_days",
        ),
        (
            "unknown group",
            catalog_with("", "").replace("group = \"t\"", "group = \"x\""),
            "group",
        ),
        (
            "no basis",
            catalog_with("", "").replace("placeholder = true", "placeholder = false"),
            "basis",
        ),
        ("one option", catalog_with("", CHOICE_ONE), "2 options"),
        ("repeated field", catalog_with("", REPEATED), "twice"),
        ("bad field name", catalog_with("", BAD_NAME), "snake_case"),
        ("stray attribute", catalog_with("", STRAY), "does not apply"),
        ("bad media type", catalog_with("", BAD_FILE), "accept"),
        (
            "unknown key",
            catalog_with("colour = \"red\"", ""),
            "colour",
        ),
    ];
    for (what, text, expected) in cases {
        let err = parse(&text)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(err.contains(expected), "{what}: {err}");
    }
}

const CHOICE_ONE: &str = r#"
[[procedure.field]]
name = "sex"
kind = "choice"
label = { vi = "Giới tính", en = "Sex" }
options = [{ value = "male", vi = "Nam", en = "Male" }]
"#;
const REPEATED: &str = r#"
[[procedure.field]]
name = "full_name"
kind = "text"
label = { vi = "Tên", en = "Name" }
"#;
const BAD_NAME: &str = r#"
[[procedure.field]]
name = "Phone-Number"
kind = "phone"
label = { vi = "Điện thoại", en = "Phone" }
"#;
const STRAY: &str = r#"
[[procedure.field]]
name = "born"
kind = "date"
max_len = 10
label = { vi = "Ngày sinh", en = "Born" }
"#;
const BAD_FILE: &str = r#"
[[procedure.field]]
name = "scan"
kind = "file"
accept = ["image/gif"]
label = { vi = "Bản chụp", en = "Scan" }
"#;

// ───── validate ─────

/// One optional field of every kind, after the applicant.
const EVERY_KIND: &str = r#"
[[procedure.field]]
name = "note"
kind = "text"
max_len = 10
required = false
label = { vi = "Ghi chú", en = "Note" }

[[procedure.field]]
name = "count"
kind = "number"
min = 1
max = 10
required = false
label = { vi = "Số lượng", en = "Count" }

[[procedure.field]]
name = "born"
kind = "date"
required = false
label = { vi = "Ngày sinh", en = "Born" }

[[procedure.field]]
name = "sex"
kind = "choice"
required = false
label = { vi = "Giới tính", en = "Sex" }
options = [{ value = "male", vi = "Nam", en = "Male" }, { value = "female", vi = "Nữ", en = "Female" }]

[[procedure.field]]
name = "email"
kind = "email"
required = false
label = { vi = "Thư điện tử", en = "Email" }

[[procedure.field]]
name = "phone"
kind = "phone"
required = false
label = { vi = "Điện thoại", en = "Phone" }

[[procedure.field]]
name = "spouse_id"
kind = "citizen_id"
required = false
label = { vi = "Số định danh của vợ/chồng", en = "Spouse's citizen ID" }

[[procedure.field]]
name = "address"
kind = "address"
required = false
label = { vi = "Địa chỉ", en = "Address" }

[[procedure.field]]
name = "scan"
kind = "file"
label = { vi = "Bản chụp", en = "Scan" }
"#;

fn every_kind() -> Procedure {
    parse(&catalog_with("", EVERY_KIND)).expect("valid").all()[0].clone()
}

fn applicant() -> Map<String, Value> {
    object(json!({"full_name": "Nguyễn Văn An", "id_number": "001203004567"}))
}

/// Validates `value` for `field` alongside a valid applicant.
fn check(field: &str, value: Value) -> Result<Option<Value>, String> {
    let mut answers = applicant();
    answers.insert(field.to_string(), value);
    match every_kind().validate(&answers) {
        Ok(clean) => Ok(clean.get(field).cloned()),
        Err(errors) => Err(errors
            .get(field)
            .map(|m| m.en.to_string())
            .unwrap_or_default()),
    }
}

#[test]
fn good_values_are_normalised() {
    let cases = [
        ("note", json!("  Bà Rịa  "), json!("Bà Rịa")),
        ("note", json!("Đường Ổ Gà"), json!("Đường Ổ Gà")),
        ("count", json!(3), json!(3)),
        ("count", json!(" 10 "), json!(10)),
        ("born", json!("2000-02-29"), json!("2000-02-29")),
        ("born", json!("1900-01-01"), json!("1900-01-01")),
        ("sex", json!("female"), json!("female")),
        (
            "email",
            json!(" An.Nguyen@Example.VN "),
            json!("an.nguyen@example.vn"),
        ),
        ("phone", json!("091 234 5678"), json!("0912345678")),
        ("phone", json!("+84 912.345.678"), json!("+84912345678")),
        ("phone", json!("024-3825-1234"), json!("02438251234")),
        ("spouse_id", json!("079 204 001 234"), json!("079204001234")),
        (
            "address",
            json!("Số 1 Tràng Tiền, phường Hoàn Kiếm, Hà Nội"),
            json!("Số 1 Tràng Tiền, phường Hoàn Kiếm, Hà Nội"),
        ),
        ("note", json!(12345), json!("12345")),
    ];
    for (field, input, want) in cases {
        assert_eq!(
            check(field, input.clone()),
            Ok(Some(want)),
            "{field} = {input}"
        );
    }
}

#[test]
fn bad_values_are_refused_with_a_message() {
    let long_address = "đ".repeat(201);
    let cases = [
        ("note", json!("Mười một ký")),
        ("note", json!("a\nb")),
        ("note", json!(true)),
        ("note", json!(["x"])),
        ("count", json!(0)),
        ("count", json!(11)),
        ("count", json!(2.5)),
        ("count", json!("ba")),
        ("born", json!("2000-02-30")),
        ("born", json!("1899-12-31")),
        ("born", json!("2000-2-3")),
        ("born", json!("03/02/2000")),
        ("sex", json!("Male")),
        ("email", json!("not-an-email")),
        ("phone", json!("12345678")),
        ("phone", json!("091234567890")),
        ("phone", json!("+1 202 555 0100")),
        ("phone", json!("09x2345678")),
        ("spouse_id", json!("00120300456")),
        ("spouse_id", json!("0012030045678")),
        ("spouse_id", json!("00120300456a")),
        ("spouse_id", json!("000203004567")),
        ("spouse_id", json!("097203004567")),
        ("spouse_id", json!({"id": 1})),
        ("address", json!(long_address)),
    ];
    for (field, input) in cases {
        let result = check(field, input.clone());
        assert!(
            matches!(&result, Err(msg) if !msg.is_empty()),
            "{field} = {input}: {result:?}"
        );
    }
}

#[test]
fn messages_are_bilingual() {
    let mut answers = applicant();
    answers.insert("spouse_id".into(), json!("12345"));
    let errors = every_kind().validate(&answers).unwrap_err();
    let msg = &errors["spouse_id"];
    assert_eq!(msg.vi, "Số định danh cá nhân gồm đúng 12 chữ số.");
    assert_eq!(msg.en, "A citizen ID number has exactly 12 digits.");
}

#[test]
fn missing_required_fields_are_all_reported() {
    let errors = every_kind().validate(&Map::new()).unwrap_err();
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        ["full_name", "id_number"]
    );
    let blank = object(json!({"full_name": "   ", "id_number": null}));
    assert_eq!(every_kind().validate(&blank).unwrap_err().len(), 2);
}

#[test]
fn unknown_keys_files_and_empty_optionals_are_dropped() {
    let mut answers = applicant();
    answers.insert("is_admin".into(), json!(true));
    answers.insert("scan".into(), json!("C:/fakepath/a.pdf"));
    answers.insert("note".into(), json!(""));
    answers.insert("count".into(), Value::Null);
    let clean = every_kind().validate(&answers).expect("valid");
    assert_eq!(clean, applicant());
}

#[test]
fn file_fields_are_listed_separately() {
    let names: Vec<_> = every_kind().file_fields().map(|f| f.name.clone()).collect();
    assert_eq!(names, ["scan"]);
}

#[test]
fn licence_renewal_accepts_a_realistic_application() {
    let renew = national().search("doi giay phep lai xe", Lang::Vi)[0];
    let answers = object(json!({
        "full_name": "Trần Thị Bích Ngọc",
        "id_number": "038185012345",
        "licence_number": "790123456789",
        "licence_class": "B2",
        "expiry_date": "2026-12-31",
        "delivery_address": "12 Lê Lợi, phường Bến Thành, TP Hồ Chí Minh",
        "phone": "0903 123 456",
    }));
    let clean = renew.validate(&answers).expect("valid");
    assert_eq!(clean["phone"], json!("0903123456"));
    assert!(renew.file_fields().count() >= 1);
}

fn any_json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::from),
        "[0-9 +.-]{0,16}".prop_map(Value::from),
    ]
}

fn any_answers() -> impl Strategy<Value = Map<String, Value>> {
    let key = prop_oneof![
        Just("full_name".to_string()),
        Just("id_number".to_string()),
        prop::sample::select(vec![
            "note",
            "count",
            "born",
            "sex",
            "email",
            "phone",
            "spouse_id",
            "address",
            "scan"
        ])
        .prop_map(String::from),
        "[a-z_]{1,12}",
    ];
    prop::collection::btree_map(key, any_json_scalar(), 0..12).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn validate_never_panics(answers in any_answers()) {
        let procedures = [every_kind(), national().all()[0].clone()];
        for p in &procedures {
            if let Ok(clean) = p.validate(&answers) {
                prop_assert!(clean.keys().all(|k| p.fields.iter().any(|f| &f.name == k && !f.is_file())));
            }
        }
    }
}
