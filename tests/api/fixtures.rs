//! Small valid files for the upload tests: each is complete and has something on its page, so
//! the upload checks (truncated, corrupt, blank) let it through.

/// A one-page PDF whose content stream writes a line of text.
pub const PDF: &[u8] = b"%PDF-1.4\n\
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >> endobj\n\
4 0 obj << /Length 38 >> stream\n\
BT /F1 12 Tf 20 100 Td (Giay to) Tj ET\n\
endstream endobj\n\
trailer << /Root 1 0 R >>\n\
%%EOF\n";

/// A JPEG of `w`×`h` pixels: grey noise (a photo of a page) when `noisy`, else dark stripes on
/// white. Noise compresses badly, so a phone-sized file is a few megapixels.
pub fn jpeg(w: u16, h: u16, noisy: bool) -> Vec<u8> {
    let mut seed: u32 = 0x2545_f491;
    let mut data = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h {
        for _ in 0..w {
            let v = if noisy {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            } else if y % 8 == 0 {
                20
            } else {
                250
            };
            data.extend_from_slice(&[v, v, v]);
        }
    }
    encode(w, h, &data)
}

/// A white page as a JPEG.
pub fn white_jpeg(w: u16, h: u16) -> Vec<u8> {
    encode(w, h, &vec![255; w as usize * h as usize * 3])
}

fn encode(w: u16, h: u16, rgb: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 92)
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("a JPEG");
    out
}

/// A 2×2 PNG, black pixels on the left, white on the right.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x12\x49\x44\x41\x54\x78\x9c\x63\x60\x60\x60\xf8\xff\xff\x3f\x03\x84\x02\x00\x20\xed\x05\xfb\x5a\xb7\x79\x1e\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
