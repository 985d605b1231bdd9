//! A phone photo stored as a one-page PDF: the JPEG's own bytes become the page's image
//! (`/DCTDecode`, nothing decoded or re-encoded, so nothing is lost), on a page of A4's size
//! turned the way the photo's EXIF orientation says.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

use super::Unreadable;
use super::image::jpeg_frame;

/// JPEGs from this size up are stored as PDFs (a phone photo; a small image stays itself).
pub const PHOTO_PDF_MIN_BYTES: usize = 1024 * 1024;

/// A4 in points.
const LONG_SIDE: f32 = 842.0;
const SHORT_SIDE: f32 = 595.0;

/// The JPEG wrapped in a one-page PDF, or why the JPEG cannot be read.
pub fn jpeg_as_pdf(jpeg: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let frame = jpeg_frame(jpeg)?;
    let quarter_turn = matches!(frame.orientation, 5..=8);
    let (shown_w, shown_h) = if quarter_turn {
        (frame.height as f32, frame.width as f32)
    } else {
        (frame.width as f32, frame.height as f32)
    };
    // The page: the photo's shape, fitted inside A4 in the photo's own orientation.
    let (box_w, box_h) = if shown_w > shown_h {
        (LONG_SIDE, SHORT_SIDE)
    } else {
        (SHORT_SIDE, LONG_SIDE)
    };
    let scale = (box_w / shown_w).min(box_h / shown_h);
    let (w, h) = (shown_w * scale, shown_h * scale);
    // Where the image's unit square lands on the page (the turn included).
    let matrix = match frame.orientation {
        3 | 4 => [-w, 0.0, 0.0, -h, w, h],
        5 | 6 => [0.0, -h, w, 0.0, 0.0, h],
        7 | 8 => [0.0, h, -w, 0.0, w, 0.0],
        _ => [w, 0.0, 0.0, h, 0.0, 0.0],
    };

    let (catalog, tree, page, image, content) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    let name = Name(b"Im1");
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, w, h));
    p.parent(tree);
    p.contents(content);
    p.resources().x_objects().pair(name, image);
    p.finish();
    let mut x = pdf.image_xobject(image, jpeg);
    x.filter(Filter::DctDecode);
    x.width(frame.width as i32);
    x.height(frame.height as i32);
    match frame.components {
        1 => x.color_space().device_gray(),
        4 => x.color_space().device_cmyk(),
        _ => x.color_space().device_rgb(),
    }
    x.bits_per_component(8);
    x.finish();
    let mut c = Content::new();
    c.save_state();
    c.transform(matrix);
    c.x_object(name);
    c.restore_state();
    let c = c.finish();
    pdf.stream(content, &c);
    Ok(pdf.finish())
}
