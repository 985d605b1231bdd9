//! The working-day calendar against a real database: imported decisions change what `load`
//! returns, and the CLI refuses a bad file.

use chrono::NaiveDate;
use portal::calendar::{self, Calendar, DayKind};
use portal::db::Db;

use crate::helpers::{TestDb, test_settings};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn imported_days_make_a_swapped_saturday_working_and_a_bridge_day_a_holiday() {
    let test_db = TestDb::create();
    let db = Db::new(&test_settings(&test_db.url).database);
    let (saturday, bridge) = (d(2026, 1, 10), d(2026, 1, 2));

    let empty = db.control(calendar::load).unwrap();
    assert!(!empty.is_working_day(saturday));
    assert!(empty.is_working_day(bridge));

    let days = calendar::parse_file(include_str!("../../calendar/2026.toml")).unwrap();
    let (inserted, updated) = db.control(|c| calendar::import(c, &days)).unwrap();
    assert_eq!((inserted, updated), (days.len(), 0));
    // Idempotent: the same file again changes nothing.
    assert_eq!(db.control(|c| calendar::import(c, &days)).unwrap(), (0, 0));

    let cal = db.control(calendar::load).unwrap();
    assert!(cal.is_working_day(saturday));
    assert!(!cal.is_working_day(bridge));
    // Accepted on 31 Dec 2025 with one processing day: 1–4 Jan off, due Monday 5 Jan.
    assert_eq!(cal.add_working_days(d(2025, 12, 31), 1), d(2026, 1, 5));
    assert_eq!(
        Calendar::statutory().add_working_days(d(2025, 12, 31), 1),
        bridge
    );

    // A later file changes one day's kind: counted as updated.
    let undo = calendar::parse_file(
        "[[day]]\ndate = \"2026-01-02\"\nkind = \"working\"\nnote = \"Hủy hoán đổi\"\n",
    )
    .unwrap();
    assert_eq!(db.control(|c| calendar::import(c, &undo)).unwrap(), (0, 1));
    let cal = db.control(calendar::load).unwrap();
    assert_eq!(cal.override_of(bridge), Some(DayKind::Working));
    assert!(cal.is_working_day(bridge));
}

#[test]
fn the_cli_imports_a_calendar_file_and_rejects_a_bad_one_with_exit_2() {
    let test_db = TestDb::create();
    let portal = |args: &[&str]| crate::helpers::portal_cli_with(&test_db.url, &[], args);

    let (code, out, err) = portal(&["calendar", "import", "calendar/2026.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+ 2026-01-10 working"), "{out}");
    assert!(
        out.contains("5 day(s): 5 inserted, 0 updated, 0 unchanged"),
        "{out}"
    );
    let (code, out, _) = portal(&["calendar", "import", "calendar/2026.toml"]);
    assert_eq!(code, 0);
    assert!(out.contains("0 inserted, 0 updated, 5 unchanged"), "{out}");

    let bad = std::env::temp_dir().join(format!(
        "portal-calendar-{}.toml",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(
        &bad,
        "[[day]]\ndate = \"2026-03-03\"\nkind = \"holiday\"\n\
         [[day]]\ndate = \"2026-02-30\"\nkind = \"day-off\"\n",
    )
    .unwrap();
    let (code, out, err) = portal(&["calendar", "import", bad.to_str().unwrap()]);
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("day #2: date:"), "{err}");
    assert!(err.contains("day #2: kind:"), "{err}");
    assert!(!err.contains("day #1"), "{err}");
    // Nothing of the bad file was written.
    let db = Db::new(&test_settings(&test_db.url).database);
    let cal = db.control(calendar::load).unwrap();
    assert_eq!(cal.override_of(d(2026, 3, 3)), None);
    assert_eq!(cal.override_of(d(2026, 1, 10)), Some(DayKind::Working));
}
