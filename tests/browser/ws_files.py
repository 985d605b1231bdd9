"""Writes a small one-page PDF and a PNG (a scanned-paper look) for the workspace screenshots."""
import struct, sys, zlib

def pdf(path):
    text = ["GIAY CHUNG SINH", "So: 1234/2026", "Ho ten me: Nguyen Thi Minh Khai",
            "Noi sinh: Benh vien Phu san Ha Noi", "Ngay sinh: 20/11/2026"]
    lines = ["BT /F1 20 Tf 72 760 Td (%s) Tj ET" % text[0]]
    y = 720
    for t in text[1:]:
        lines.append("BT /F1 12 Tf 72 %d Td (%s) Tj ET" % (y, t)); y -= 22
    stream = "\n".join(lines).encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = b"%PDF-1.4\n"; offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out)); out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs: out += b"%010d 00000 n \n" % o
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    open(path, "wb").write(out)

def png(path, w=480, h=300):
    rows = b""
    for y in range(h):
        row = b"\0"
        for x in range(w):
            edge = x < 12 or y < 12 or x >= w - 12 or y >= h - 12
            line = 40 < y < 60 and 40 < x < 400 or (y % 28 == 0 and 90 < y < 260 and 40 < x < 440)
            row += bytes((30, 60, 120) if edge else (60, 60, 60) if line else (250, 246, 232))
        rows += row
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

pdf(sys.argv[1]); png(sys.argv[2])
