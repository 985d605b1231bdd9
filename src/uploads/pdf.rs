//! A PDF is whole when it ends with `%%EOF`, and has something on it when one of its streams is
//! an image or a content stream that shows text, paints an image or fills a path. Streams it
//! cannot read (an unknown filter, encryption) count as content: only a sure blank is refused.

use std::io::Read;

use super::Unreadable;

/// Operators that put marks on a page: text showing, painting an XObject or a shading, an
/// inline image, path painting.
const MARKS: &[&[u8]] = &[
    b"Tj", b"TJ", b"Do", b"sh", b"BI", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s",
];

/// The most bytes a stream may inflate to while being looked at (a bomb stops here).
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

pub(super) fn check(bytes: &[u8]) -> Result<(), Unreadable> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(Unreadable::Corrupt);
    }
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if find(tail, b"%%EOF").is_none() {
        return Err(Unreadable::Truncated);
    }
    if find(bytes, b"/Encrypt").is_some() {
        return Ok(());
    }
    let mut at = 0;
    while let Some(start) = find(&bytes[at..], b"stream").map(|i| at + i) {
        at = start + 6;
        // `endstream` contains `stream`; a stream keyword ends its dictionary (`>>`).
        if start >= 3 && &bytes[start - 3..start] == b"end" {
            continue;
        }
        let before = trim_end(&bytes[..start]);
        if !before.ends_with(b">>") {
            continue;
        }
        let data_start = match &bytes[at..] {
            [b'\r', b'\n', ..] => at + 2,
            [b'\n', ..] | [b'\r', ..] => at + 1,
            _ => continue,
        };
        let Some(len) = find(&bytes[data_start..], b"endstream") else {
            return Err(Unreadable::Truncated);
        };
        let data = &bytes[data_start..data_start + len];
        at = data_start + len + 9;
        let dict = dictionary(&bytes[..start]);
        match look(dict, data) {
            Look::Marks => return Ok(()),
            Look::Nothing => {}
        }
    }
    Err(Unreadable::Blank)
}

enum Look {
    /// An image, a page that shows something, or a stream that could not be read.
    Marks,
    Nothing,
}

fn look(dict: &[u8], data: &[u8]) -> Look {
    let has = |name: &[u8]| has_name(dict, name);
    if has(b"/Image") {
        return Look::Marks;
    }
    // Fonts, metadata, cross-reference and object streams, colour profiles: never marks.
    let not_content: &[&[u8]] = &[
        b"/Length1",
        b"/Length2",
        b"/Length3",
        b"/FontFile",
        b"/Type1C",
        b"/CIDFontType0C",
        b"/OpenType",
        b"/XRef",
        b"/ObjStm",
        b"/Metadata",
        b"/EmbeddedFile",
        b"/Alternate",
    ];
    if not_content.iter().any(|n| has(n)) {
        return Look::Nothing;
    }
    let inflated;
    let content: &[u8] = if find(dict, b"/Filter").is_none() {
        data
    } else if has(b"/FlateDecode") && filters(dict) == 1 {
        let mut out = Vec::new();
        let read = flate2::read::ZlibDecoder::new(data)
            .take(MAX_INFLATED)
            .read_to_end(&mut out);
        if read.is_err() {
            return Look::Marks;
        }
        inflated = out;
        &inflated
    } else {
        return Look::Marks;
    };
    if operators(content).any(|op| MARKS.contains(&op)) {
        Look::Marks
    } else {
        Look::Nothing
    }
}

/// How many filters a stream's dictionary names (`/Filter /A` or `/Filter [/A /B]`).
fn filters(dict: &[u8]) -> usize {
    let Some(i) = find(dict, b"/Filter") else {
        return 0;
    };
    let rest = trim_start(&dict[i + 7..]);
    if rest.starts_with(b"[") {
        let end = rest.iter().position(|&c| c == b']').unwrap_or(rest.len());
        rest[..end].iter().filter(|&&c| c == b'/').count()
    } else {
        1
    }
}

/// The dictionary just before a `stream` keyword: from the last `obj` before it.
fn dictionary(before: &[u8]) -> &[u8] {
    match rfind(before, b"obj") {
        Some(i) => &before[i..],
        None => &before[before.len().saturating_sub(4096)..],
    }
}

/// Whether `dict` has the name `name` whole (`/Image`, not `/ImageMask` for `/Image`).
fn has_name(dict: &[u8], name: &[u8]) -> bool {
    let mut at = 0;
    while let Some(i) = find(&dict[at..], name) {
        let end = at + i + name.len();
        if dict
            .get(end)
            .is_none_or(|&c| is_delimiter(c) || is_space(c))
        {
            return true;
        }
        at = end;
    }
    false
}

/// The bare words of a content stream, with strings, names, numbers and comments skipped.
fn operators(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < content.len() {
            let c = content[i];
            if is_space(c) {
                i += 1;
            } else if c == b'(' {
                i = skip_string(content, i);
            } else if c == b'%' {
                while i < content.len() && content[i] != b'\n' && content[i] != b'\r' {
                    i += 1;
                }
            } else if is_delimiter(c) {
                i += 1;
            } else {
                let start = i;
                while i < content.len() && !is_space(content[i]) && !is_delimiter(content[i]) {
                    i += 1;
                }
                if start == i {
                    i += 1;
                }
                let word = &content[start..i];
                if word
                    .first()
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'\'' || *c == b'"')
                    && !content[..start].ends_with(b"/")
                {
                    return Some(word);
                }
            }
        }
        None
    })
}

/// Past a literal string `( … )`, nested parentheses and escapes included.
fn skip_string(s: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

fn is_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn trim_end(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&c| !is_space(c)).map_or(0, |i| i + 1);
    &s[..end]
}

fn trim_start(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !is_space(c)).unwrap_or(s.len());
    &s[start..]
}

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
