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

/// A 2×2 PNG, black pixels on the left, white on the right.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x12\x49\x44\x41\x54\x78\x9c\x63\x60\x60\x60\xf8\xff\xff\x3f\x03\x84\x02\x00\x20\xed\x05\xfb\x5a\xb7\x79\x1e\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
