use std::io::Write;

use super::{Unreadable, check, jpeg_as_pdf};

const TEXT_PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >> endobj\n\
4 0 obj << /Length 38 >> stream\nBT /F1 12 Tf 20 100 Td (Giay to) Tj ET\nendstream endobj\n\
trailer << /Root 1 0 R >>\n%%EOF\n";

/// A one-page PDF whose content stream is `content`, compressed when asked.
fn pdf_with(content: &[u8], flate: bool) -> Vec<u8> {
    let (data, filter) = if flate {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(content).unwrap();
        (z.finish().unwrap(), " /Filter /FlateDecode")
    } else {
        (content.to_vec(), "")
    };
    let mut out = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n"
        .to_vec();
    out.extend_from_slice(
        format!("4 0 obj << /Length {}{filter} >> stream\n", data.len()).as_bytes(),
    );
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    out
}

fn png(w: u32, h: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().unwrap();
    let data: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| pixel(x, y))
        .collect();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

fn jpeg(w: u16, h: u16, pixel: impl Fn(u16, u16) -> [u8; 3]) -> Vec<u8> {
    let data: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| pixel(x, y))
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&data, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// A page of "text": dark strokes on every eighth row.
fn text_like(_: u32, y: u32) -> [u8; 3] {
    if y % 8 == 0 {
        [20, 20, 20]
    } else {
        [250, 250, 250]
    }
}

#[test]
fn a_pdf_with_text_an_image_or_compressed_text_is_kept() {
    assert_eq!(check("application/pdf", TEXT_PDF), Ok(()));
    assert_eq!(
        check("application/pdf", &pdf_with(b"BT (x) Tj ET", true)),
        Ok(())
    );
    assert_eq!(
        check("application/pdf", &pdf_with(b"0 0 10 10 re f", false)),
        Ok(())
    );
    assert_eq!(
        check(
            "application/pdf",
            &jpeg_as_pdf(&jpeg(16, 16, |x, _| [x as u8 * 10; 3])).unwrap()
        ),
        Ok(())
    );
}

#[test]
fn a_pdf_with_nothing_on_its_page_is_blank() {
    // Only state changes and a colour: nothing painted.
    let empty = pdf_with(b"q 1 0 0 1 0 0 cm /F1 12 Tf (Tj inside a string) Q", true);
    assert_eq!(check("application/pdf", &empty), Err(Unreadable::Blank));
    assert_eq!(
        check("application/pdf", &pdf_with(b"", false)),
        Err(Unreadable::Blank)
    );
    let no_streams = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
    assert_eq!(check("application/pdf", no_streams), Err(Unreadable::Blank));
}

#[test]
fn a_pdf_cut_short_is_truncated() {
    let cut = &TEXT_PDF[..TEXT_PDF.len() / 2];
    assert_eq!(check("application/pdf", cut), Err(Unreadable::Truncated));
}

#[test]
fn pngs_white_cut_or_damaged_are_refused() {
    assert_eq!(check("image/png", &png(64, 64, text_like)), Ok(()));
    let white = png(64, 64, |_, _| [255, 255, 255]);
    assert_eq!(check("image/png", &white), Err(Unreadable::Blank));
    let dark = png(64, 64, text_like);
    assert_eq!(
        check("image/png", &dark[..dark.len() - 20]),
        Err(Unreadable::Truncated)
    );
    let mut damaged = dark.clone();
    damaged[40] ^= 0x55;
    assert_eq!(check("image/png", &damaged), Err(Unreadable::Corrupt));
}

#[test]
fn jpegs_white_cut_or_damaged_are_refused() {
    let page = jpeg(256, 256, |x, y| text_like(x as u32, y as u32));
    assert_eq!(check("image/jpeg", &page), Ok(()));
    let white = jpeg(256, 256, |_, _| [255, 255, 255]);
    assert_eq!(check("image/jpeg", &white), Err(Unreadable::Blank));
    assert_eq!(
        check("image/jpeg", &page[..page.len() / 2]),
        Err(Unreadable::Truncated)
    );
    // A header and then noise: not a JPEG's segments.
    let mut noise = page[..20].to_vec();
    noise.extend((0..500u32).map(|i| (i * 7919 % 251) as u8 | 1));
    assert_eq!(check("image/jpeg", &noise), Err(Unreadable::Corrupt));
}

#[test]
fn a_photo_becomes_a_pdf_holding_its_jpeg_on_an_upright_page() {
    let photo = jpeg(300, 200, |x, y| [x as u8, y as u8, 128]);
    let pdf = jpeg_as_pdf(&photo).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        super::pdf::find(&pdf, &photo).is_some(),
        "the JPEG's bytes, unchanged"
    );
    assert!(super::pdf::find(&pdf, b"/DCTDecode").is_some());
    assert!(
        super::pdf::find(&pdf, b"/MediaBox [0 0 842 561.3333]").is_some(),
        "landscape A4 width"
    );
}
