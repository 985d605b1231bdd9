//! JPEG and PNG: whole (the markers or chunks run to their end: EOI, IEND), readable (they
//! decode) and not blank (some ink: darker pixels on at least one in a thousand).

use std::io::Cursor;

use super::Unreadable;

/// A pixel darker than this (0 black … 255 white) is ink.
const INK_BELOW: u32 = 224;
/// Blank: fewer than one ink pixel in this many.
const BLANK_ONE_IN: usize = 1000;
/// The decoder's working memory for a look at a photo (a bomb stops here).
const MAX_DECODE_BYTES: usize = 64 * 1024 * 1024;

/// What the JPEG's frame header says, found by walking its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct JpegFrame {
    pub width: u16,
    pub height: u16,
    pub components: u8,
    /// EXIF orientation (1 upright, 3 upside down, 6 and 8 turned a quarter), 1 if absent.
    pub orientation: u16,
}

/// Walks the segments from SOI to EOI; `Truncated` when the bytes end first.
pub(super) fn jpeg_frame(bytes: &[u8]) -> Result<JpegFrame, Unreadable> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(Unreadable::Corrupt);
    }
    let mut frame: Option<JpegFrame> = None;
    let mut orientation = 1;
    let mut i = 2;
    loop {
        // A marker: 0xFF (any number of fill bytes), then its code.
        if i >= bytes.len() {
            return Err(Unreadable::Truncated);
        }
        if bytes[i] != 0xFF {
            return Err(Unreadable::Corrupt);
        }
        while i < bytes.len() && bytes[i] == 0xFF {
            i += 1;
        }
        let Some(&code) = bytes.get(i) else {
            return Err(Unreadable::Truncated);
        };
        i += 1;
        match code {
            0xD9 => break,
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        else {
            return Err(Unreadable::Truncated);
        };
        if len < 2 {
            return Err(Unreadable::Corrupt);
        }
        let Some(segment) = bytes.get(i + 2..i + len) else {
            return Err(Unreadable::Truncated);
        };
        match code {
            // Start of frame (baseline, extended, progressive, lossless; not DHT/JPG/DAC).
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                if segment.len() < 6 {
                    return Err(Unreadable::Corrupt);
                }
                frame = Some(JpegFrame {
                    height: u16::from_be_bytes([segment[1], segment[2]]),
                    width: u16::from_be_bytes([segment[3], segment[4]]),
                    components: segment[5],
                    orientation: 1,
                });
            }
            0xE1 if segment.starts_with(b"Exif\0\0") => {
                orientation = exif_orientation(&segment[6..]).unwrap_or(1);
            }
            _ => {}
        }
        i += len;
        if code == 0xDA {
            // The entropy-coded data runs to the next marker that is not a stuffed byte or
            // a restart.
            loop {
                let Some(j) = bytes[i..].iter().position(|&b| b == 0xFF) else {
                    return Err(Unreadable::Truncated);
                };
                i += j;
                match bytes.get(i + 1) {
                    None => return Err(Unreadable::Truncated),
                    Some(0x00) | Some(0xD0..=0xD7) | Some(0xFF) => i += 1,
                    Some(_) => break,
                }
            }
        }
    }
    let mut frame = frame.ok_or(Unreadable::Corrupt)?;
    if frame.width == 0 || frame.height == 0 || !matches!(frame.components, 1 | 3 | 4) {
        return Err(Unreadable::Corrupt);
    }
    frame.orientation = orientation;
    Ok(frame)
}

/// IFD0's orientation tag (0x0112) in a TIFF block, either byte order.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        tiff.get(at..at + 2).map(|b| {
            if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |at: usize| {
        tiff.get(at..at + 4).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    (0..count.min(256))
        .map(|k| ifd + 2 + 12 * k)
        .find(|&e| u16_at(e) == Some(0x0112))
        .and_then(|e| u16_at(e + 8))
        .filter(|o| (1..=8).contains(o))
}

pub(super) fn check_jpeg(bytes: &[u8]) -> Result<(), Unreadable> {
    let frame = jpeg_frame(bytes)?;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(MAX_DECODE_BYTES);
    // A look at about 1/8 of the size is enough to see ink, and much faster.
    decoder
        .scale(
            frame.width.div_ceil(8).max(1),
            frame.height.div_ceil(8).max(1),
        )
        .map_err(|_| Unreadable::Corrupt)?;
    let pixels = decoder.decode().map_err(|_| Unreadable::Corrupt)?;
    let info = decoder.info().ok_or(Unreadable::Corrupt)?;
    use jpeg_decoder::PixelFormat;
    let luma: Box<dyn Iterator<Item = u32>> = match info.pixel_format {
        PixelFormat::L8 => Box::new(pixels.iter().map(|&v| v as u32)),
        PixelFormat::L16 => Box::new(pixels.chunks_exact(2).map(|p| p[0] as u32)),
        PixelFormat::RGB24 => Box::new(pixels.chunks_exact(3).map(|p| rgb_luma(p[0], p[1], p[2]))),
        // Print separations (CMYK) are not judged: their ink may be stored inverted.
        PixelFormat::CMYK32 => return Ok(()),
    };
    not_blank(luma)
}

pub(super) fn check_png(bytes: &[u8]) -> Result<(), Unreadable> {
    png_chunks(bytes)?;
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_DECODE_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|_| Unreadable::Corrupt)?;
    let size = reader.output_buffer_size().ok_or(Unreadable::Corrupt)?;
    let mut buf = vec![0; size];
    let out = reader
        .next_frame(&mut buf)
        .map_err(|_| Unreadable::Corrupt)?;
    let buf = &buf[..out.buffer_size()];
    use png::ColorType;
    // Transparent pixels are composited over white, as a viewer shows them.
    let over_white = |v: u8, a: u8| (v as u32 * a as u32 + 255 * (255 - a as u32)) / 255;
    let luma: Box<dyn Iterator<Item = u32>> = match out.color_type {
        ColorType::Grayscale => Box::new(buf.iter().map(|&v| v as u32)),
        ColorType::GrayscaleAlpha => Box::new(buf.chunks_exact(2).map(|p| over_white(p[0], p[1]))),
        ColorType::Rgb => Box::new(buf.chunks_exact(3).map(|p| rgb_luma(p[0], p[1], p[2]))),
        ColorType::Rgba => Box::new(
            buf.chunks_exact(4)
                .map(move |p| over_white(rgb_luma(p[0], p[1], p[2]) as u8, p[3])),
        ),
        ColorType::Indexed => return Ok(()),
    };
    not_blank(luma)
}

/// Walks the chunks from the signature to IEND, each with its length and CRC.
fn png_chunks(bytes: &[u8]) -> Result<(), Unreadable> {
    let mut i = 8;
    loop {
        let Some(head) = bytes.get(i..i + 8) else {
            return Err(Unreadable::Truncated);
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let Some(body) = bytes.get(i + 4..i + 8 + len) else {
            return Err(Unreadable::Truncated);
        };
        let Some(crc) = bytes.get(i + 8 + len..i + 12 + len) else {
            return Err(Unreadable::Truncated);
        };
        if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(Unreadable::Corrupt);
        }
        if kind == b"IEND" {
            return Ok(());
        }
        i += 12 + len;
    }
}

fn rgb_luma(r: u8, g: u8, b: u8) -> u32 {
    (299 * r as u32 + 587 * g as u32 + 114 * b as u32) / 1000
}

fn not_blank(luma: impl Iterator<Item = u32>) -> Result<(), Unreadable> {
    let (mut total, mut ink) = (0usize, 0usize);
    for v in luma {
        total += 1;
        if v < INK_BELOW {
            ink += 1;
        }
    }
    if total == 0 || ink * BLANK_ONE_IN < total {
        Err(Unreadable::Blank)
    } else {
        Ok(())
    }
}
