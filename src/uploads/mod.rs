//! Uploads that cannot vanish (#19 item 5): a file that is cut short, damaged or blank is
//! refused with the reason, before anything is stored; a phone photo is stored as a PDF that
//! wraps its JPEG. A leaf: dossiers call it, it calls no one.

mod image;
mod pdf;
mod photo;

pub use photo::{PHOTO_PDF_MIN_BYTES, jpeg_as_pdf};

use crate::lang::Msg;

/// Why a file of an accepted type cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// It ends before its own structure does (an upload cut short).
    Truncated,
    /// Its structure is broken: it cannot be opened.
    Corrupt,
    /// It opens, but there is nothing on it (a white page, a PDF with no text or image).
    Blank,
}

impl Unreadable {
    /// The reason, for the person who sent it.
    pub fn message(self) -> Msg {
        match self {
            Unreadable::Truncated => Msg::new(
                "Tệp bị thiếu phần cuối (có thể do tải lên bị gián đoạn). Vui lòng gửi lại tệp đầy đủ.",
                "The file is cut short (the upload may have been interrupted). Please send the whole file again.",
            ),
            Unreadable::Corrupt => Msg::new(
                "Tệp bị hỏng, không mở được. Vui lòng chụp hoặc quét lại rồi gửi lại.",
                "The file is damaged and cannot be opened. Please photograph or scan it again and resend it.",
            ),
            Unreadable::Blank => Msg::new(
                "Tệp là trang trắng, không có nội dung (chữ hoặc hình). Vui lòng kiểm tra lại tài liệu.",
                "The file is a blank page with nothing on it (no text or image). Please check the document.",
            ),
        }
    }
}

/// Opens a file of a type already recognised by its bytes (`application/pdf`, `image/jpeg`,
/// `image/png`) far enough to know it is whole, readable and not blank.
pub fn check(content_type: &str, bytes: &[u8]) -> Result<(), Unreadable> {
    match content_type {
        "application/pdf" => pdf::check(bytes),
        "image/jpeg" => image::check_jpeg(bytes),
        "image/png" => image::check_png(bytes),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
