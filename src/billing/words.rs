//! An amount of đồng in Vietnamese words, as invoices and fee receipts print it
//! ("Số tiền bằng chữ"): `1_000_005` → "Một triệu không trăm linh năm đồng".
//!
//! The reading rules, one place for every document that prints an amount:
//! - digits are read in groups of three (đơn vị, nghìn, triệu) and every nine digits make a
//!   "tỷ", read again from the top (a thousand billion is "một nghìn tỷ");
//! - a group that is all zeros is skipped; a group after a non-zero one is read in full, so
//!   its empty hundreds say "không trăm" and an empty tens before a unit says "linh";
//! - 1 after a tens of 20 or more is "mốt", 5 after any tens is "lăm", 10–19 start with
//!   "mười";
//! - the first letter is capitalised and the words end with "đồng"; a negative amount (a
//!   credit) starts with "Âm".

use super::money::Vnd;

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// `amount` in words, capitalised, ending in "đồng".
pub fn in_words(amount: Vnd) -> String {
    let mut words = Vec::new();
    if amount.0 < 0 {
        words.push("âm");
    }
    let n = amount.0.unsigned_abs();
    if n == 0 {
        words.push("không");
    } else {
        read_number(n, false, &mut words);
    }
    words.push("đồng");
    capitalise(&words.join(" "))
}

/// Reads `n > 0`; `full` when a higher non-zero group was already read.
fn read_number(n: u64, full: bool, out: &mut Vec<&'static str>) {
    const BILLION: u64 = 1_000_000_000;
    let (billions, below) = (n / BILLION, n % BILLION);
    let mut full = full;
    if billions > 0 {
        read_number(billions, full, out);
        out.push("tỷ");
        full = true;
    }
    let groups = [
        (below / 1_000_000, Some("triệu")),
        (below / 1_000 % 1_000, Some("nghìn")),
        (below % 1_000, None),
    ];
    for (group, name) in groups {
        if group == 0 {
            continue;
        }
        read_group(group as u16, full, out);
        if let Some(name) = name {
            out.push(name);
        }
        full = true;
    }
}

/// Reads one group `1..=999`.
fn read_group(group: u16, full: bool, out: &mut Vec<&'static str>) {
    let (h, t, u) = (group / 100, group / 10 % 10, group % 10);
    if h > 0 || full {
        out.push(DIGITS[h as usize]);
        out.push("trăm");
    }
    let said_hundreds = h > 0 || full;
    match t {
        0 if u > 0 && said_hundreds => out.push("linh"),
        0 => {}
        1 => out.push("mười"),
        _ => {
            out.push(DIGITS[t as usize]);
            out.push("mươi");
        }
    }
    match u {
        0 => {}
        1 if t >= 2 => out.push("mốt"),
        5 if t >= 1 => out.push("lăm"),
        _ => out.push(DIGITS[u as usize]),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_invoices_print_them() {
        let table: &[(i64, &str)] = &[
            (0, "Không đồng"),
            (1, "Một đồng"),
            (5, "Năm đồng"),
            (10, "Mười đồng"),
            (15, "Mười lăm đồng"),
            (21, "Hai mươi mốt đồng"),
            (25, "Hai mươi lăm đồng"),
            (104, "Một trăm linh bốn đồng"),
            (110, "Một trăm mười đồng"),
            (1_000, "Một nghìn đồng"),
            (1_005, "Một nghìn không trăm linh năm đồng"),
            (10_500, "Mười nghìn năm trăm đồng"),
            (135_000, "Một trăm ba mươi lăm nghìn đồng"),
            (1_000_005, "Một triệu không trăm linh năm đồng"),
            (2_030_000, "Hai triệu không trăm ba mươi nghìn đồng"),
            (90_000_000, "Chín mươi triệu đồng"),
            (
                84_193_548,
                "Tám mươi bốn triệu một trăm chín mươi ba nghìn năm trăm bốn mươi tám đồng",
            ),
            (1_000_000_000, "Một tỷ đồng"),
            (
                58_190_404_860,
                "Năm mươi tám tỷ một trăm chín mươi triệu bốn trăm linh bốn nghìn \
                 tám trăm sáu mươi đồng",
            ),
            (
                99_999_999_999,
                "Chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm chín mươi chín \
                 nghìn chín trăm chín mươi chín đồng",
            ),
            (1_000_000_000_000, "Một nghìn tỷ đồng"),
            (-1_500, "Âm một nghìn năm trăm đồng"),
        ];
        for (amount, words) in table {
            assert_eq!(in_words(Vnd(*amount)), *words, "{amount}");
        }
    }

    #[test]
    fn extremes_do_not_panic() {
        for n in [i64::MIN, i64::MAX, -1, 1_000_000_000_001] {
            assert!(in_words(Vnd(n)).ends_with("đồng"));
        }
    }
}
