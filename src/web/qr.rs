//! A QR code as an SVG path, for the pages (no image files, no script): one `h1v1h-1z` square
//! per dark module, inside a quiet zone of four modules.

use qrcodegen::{QrCode, QrCodeEcc};

/// An encoded text, ready for `<svg viewBox="0 0 {size} {size}"><path d="{path}"/></svg>`.
pub struct QrSvg {
    pub size: i32,
    pub path: String,
}

const QUIET: i32 = 4;

/// `None` only for a text too long for any QR version (a URL never is).
pub fn svg(text: &str) -> Option<QrSvg> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = qr.size();
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    Some(QrSvg {
        size: n + 2 * QUIET,
        path,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_becomes_a_square_path() {
        let q = super::svg("https://ha-noi.example.vn/verify/23456789ABCDEFGH").unwrap();
        assert!(q.size >= 21 + 8);
        assert!(q.path.starts_with('M') && q.path.ends_with('z'));
    }
}
