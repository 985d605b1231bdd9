//! VietQR: the NAPAS 247 bank-transfer QR code every Vietnamese banking app reads. The payload
//! is an EMVCo merchant-presented QR (tag, two-digit length, value), with the receiving account
//! in tag 38 under NAPAS's GUID `A000000727`, service `QRIBFTTA` (transfer to an account), the
//! amount in đồng, the transfer reference as the purpose of transaction (tag 62, sub-tag 08),
//! and a CRC-16/CCITT-FALSE over everything up to and including `6304`.

/// NAPAS's application identifier in tag 38.
const NAPAS_GUID: &str = "A000000727";
/// The service code of a transfer to an account number (`QRIBFTTC` would be to a card).
const TO_ACCOUNT: &str = "QRIBFTTA";

/// The receiving account: the bank's 6-digit NAPAS BIN and the account number, both checked by
/// [`crate::payments::transfer::ReceivingAccount::parse`] before they get here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee<'a> {
    pub bank_bin: &'a str,
    pub account_number: &'a str,
}

/// One EMVCo data object: tag, length in two digits, value. Values here are ASCII (checked at
/// the boundary), so the length in bytes is the length in characters.
fn field(tag: &str, value: &str) -> String {
    format!("{tag}{:02}{value}", value.len())
}

/// The payload of a dynamic QR (point of initiation `12`: one amount for one payment).
pub fn payload(payee: &Payee<'_>, amount_vnd: i64, reference: &str) -> String {
    let beneficiary = field("00", payee.bank_bin) + &field("01", payee.account_number);
    let account = field("00", NAPAS_GUID) + &field("01", &beneficiary) + &field("02", TO_ACCOUNT);
    let mut out = String::new();
    out += &field("00", "01");
    out += &field("01", "12");
    out += &field("38", &account);
    out += &field("53", "704");
    out += &field("54", &amount_vnd.to_string());
    out += &field("58", "VN");
    out += &field("62", &field("08", reference));
    out += "6304";
    let crc = crc16(out.as_bytes());
    out + &format!("{crc:04X}")
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        // The catalogue's check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(crc16(b""), 0xFFFF);
    }

    /// Payloads as banks' and payment gateways' generators print them (their CRCs checked
    /// independently with Python's `binascii.crc_hqx(data, 0xFFFF)`).
    #[test]
    fn payloads_match_published_vectors() {
        let cases = [
            (
                ("970415", "0011001932418"),
                120_000,
                "ung ho lu lut",
                "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C",
            ),
            (
                ("970436", "1023456789"),
                1_943_000,
                "TT000069",
                "00020101021238540010A00000072701240006970436011010234567890208QRIBFTTA5303704540719430005802VN62120808TT0000696304A8E5",
            ),
            (
                ("970422", "VQRQADAIJ5512"),
                7_000,
                "TL89 100",
                "00020101021238570010A000000727012700069704220113VQRQADAIJ55120208QRIBFTTA5303704540470005802VN62120808TL89 1006304E346",
            ),
        ];
        for ((bank_bin, account_number), amount, reference, want) in cases {
            let payee = Payee {
                bank_bin,
                account_number,
            };
            assert_eq!(payload(&payee, amount, reference), want, "{reference}");
        }
    }

    #[test]
    fn the_crc_covers_the_whole_payload() {
        let payee = Payee {
            bank_bin: "970436",
            account_number: "1023456789",
        };
        let a = payload(&payee, 135_000, "LPABCD2345");
        let b = payload(&payee, 135_001, "LPABCD2345");
        assert_ne!(a[a.len() - 4..], b[b.len() - 4..]);
        let body = &a[..a.len() - 4];
        assert_eq!(&a[a.len() - 4..], format!("{:04X}", crc16(body.as_bytes())));
        assert!(body.ends_with("6304"));
    }
}
