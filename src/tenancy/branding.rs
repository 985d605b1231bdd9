//! A province's branding within the national layout: validated on the way in.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::branding;
use crate::error::{AppError, FieldErrors};
use crate::lang::Msg;

/// `#rrggbb` with at least 4.5:1 contrast against white (WCAG AA for body text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccentColor(String);

impl AccentColor {
    pub fn parse(input: &str) -> Result<AccentColor, Msg> {
        let hex = input
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(Msg::new(
                "Màu nhấn phải có dạng #rrggbb.",
                "The accent colour must look like #rrggbb.",
            ));
        };
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        let ratio = contrast_with_white(channel(0), channel(2), channel(4));
        if ratio < 4.5 {
            return Err(Msg::owned(
                format!(
                    "Màu nhấn quá nhạt: độ tương phản với nền trắng là {ratio:.2}:1, cần ít nhất 4.5:1."
                ),
                format!(
                    "The accent colour is too light: contrast with white is {ratio:.2}:1, at least 4.5:1 is needed."
                ),
            ));
        }
        Ok(AccentColor(input.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// WCAG 2 contrast ratio of an sRGB colour against white.
pub fn contrast_with_white(r: u8, g: u8, b: u8) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    1.05 / (l + 0.05)
}

/// What an admin or a manifest sends.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingInput {
    pub display_name: String,
    #[serde(default = "default_accent")]
    pub accent_color: String,
    #[serde(default)]
    pub hotline: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub banner: String,
}

fn default_accent() -> String {
    DEFAULT_ACCENT.to_string()
}

pub const DEFAULT_ACCENT: &str = "#0b5394";

/// Branding that passed every check; the only kind that is stored or rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Branding {
    pub display_name: String,
    #[schema(value_type = String, example = "#0b5394")]
    pub accent_color: AccentColor,
    pub hotline: String,
    pub address: String,
    pub banner: String,
    /// When the logo last changed (Unix seconds), if the province has one: the masthead shows
    /// it, and the number in its address makes a new logo show on the next page load. Read
    /// with the rest, never set by a form.
    #[serde(skip)]
    pub logo_version: Option<i64>,
}

impl Branding {
    pub fn parse(input: &BrandingInput) -> Result<Branding, FieldErrors> {
        let mut errors = BTreeMap::new();
        let display_name = plain_text(&mut errors, "display_name", &input.display_name, 1, 80);
        let hotline = plain_text(&mut errors, "hotline", &input.hotline, 0, 30);
        if !hotline
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
        {
            errors.insert(
                "hotline".into(),
                Msg::new(
                    "Đường dây nóng chỉ gồm chữ số, dấu cách và + - . ( ).",
                    "A hotline has digits, spaces and + - . ( ) only.",
                ),
            );
        }
        let address = plain_text(&mut errors, "address", &input.address, 0, 200);
        let banner = plain_text(&mut errors, "banner", &input.banner, 0, 280);
        let accent = AccentColor::parse(input.accent_color.trim());
        if let Err(msg) = &accent {
            errors.insert("accent_color".into(), msg.clone());
        }
        match accent {
            Ok(accent_color) if errors.is_empty() => Ok(Branding {
                display_name,
                accent_color,
                hotline,
                address,
                banner,
                logo_version: None,
            }),
            _ => Err(errors),
        }
    }

    /// The default look of a new province: its name, cut to the 80 characters a display
    /// name may have (and trimmed again, so it passes [`Branding::parse`] as it is).
    pub fn default_for(name: &str) -> Branding {
        let display_name: String = name.trim().chars().take(80).collect();
        Branding {
            display_name: display_name.trim_end().to_string(),
            accent_color: AccentColor(DEFAULT_ACCENT.into()),
            hotline: String::new(),
            address: String::new(),
            banner: String::new(),
            logo_version: None,
        }
    }

    pub fn to_input(&self) -> BrandingInput {
        BrandingInput {
            display_name: self.display_name.clone(),
            accent_color: self.accent_color.as_str().to_string(),
            hotline: self.hotline.clone(),
            address: self.address.clone(),
            banner: self.banner.clone(),
        }
    }
}

/// Trims, then refuses markup, control characters and text outside `min..=max` characters.
fn plain_text(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> String {
    let value = value.trim();
    let len = value.chars().count();
    if value.contains(['<', '>']) {
        errors.insert(
            field.into(),
            Msg::new(
                "Không được chứa mã HTML (< hoặc >).",
                "Markup (< or >) is not allowed.",
            ),
        );
    } else if value.chars().any(char::is_control) {
        errors.insert(
            field.into(),
            Msg::new(
                "Có ký tự điều khiển không hợp lệ.",
                "Control characters are not allowed.",
            ),
        );
    } else if len < min {
        errors.insert(
            field.into(),
            Msg::new("Không được để trống.", "This is required."),
        );
    } else if len > max {
        errors.insert(
            field.into(),
            Msg::owned(
                format!("Tối đa {max} ký tự (hiện có {len})."),
                format!("At most {max} characters (this has {len})."),
            ),
        );
    }
    value.to_string()
}

/// Reads the province's branding (inside the tenant door).
pub fn load(conn: &mut PgConnection) -> Result<Branding, AppError> {
    let (display_name, accent, hotline, address, banner): (String, String, String, String, String) =
        branding::table
            .select((
                branding::display_name,
                branding::accent_color,
                branding::hotline,
                branding::address,
                branding::banner,
            ))
            .first(conn)?;
    let logo_version = super::logo::updated_at(conn)?.map(|at| at.timestamp());
    Ok(Branding {
        display_name,
        accent_color: AccentColor(accent),
        hotline,
        address,
        banner,
        logo_version,
    })
}

/// Writes the province's branding (inside the tenant door).
pub fn save(conn: &mut PgConnection, b: &Branding) -> Result<(), AppError> {
    let values = (
        branding::id.eq(1i16),
        branding::display_name.eq(&b.display_name),
        branding::accent_color.eq(b.accent_color.as_str()),
        branding::hotline.eq(&b.hotline),
        branding::address.eq(&b.address),
        branding::banner.eq(&b.banner),
        branding::updated_at.eq(diesel::dsl::now),
    );
    diesel::insert_into(branding::table)
        .values(values)
        .on_conflict(branding::id)
        .do_update()
        // The same values with the inserted row's time: Citus refuses `now()` in DO UPDATE.
        .set((
            values.0,
            values.1,
            values.2,
            values.3,
            values.4,
            values.5,
            branding::updated_at.eq(diesel::upsert::excluded(branding::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(f: impl FnOnce(&mut BrandingInput)) -> BrandingInput {
        let mut i = BrandingInput {
            display_name: "Thành phố Hà Nội".into(),
            accent_color: "#0b5394".into(),
            ..BrandingInput::default()
        };
        f(&mut i);
        i
    }

    /// Found by the manifest round-trip property: a long name cut after 80 characters could
    /// end in a space, which `parse` then trimmed, so a written manifest read back differed.
    #[test]
    fn default_branding_passes_its_own_checks_unchanged() {
        let name = format!("{} {}", "a".repeat(79), "b".repeat(30));
        let b = Branding::default_for(&name);
        assert_eq!(b.display_name, "a".repeat(79));
        assert_eq!(Branding::parse(&b.to_input()), Ok(b));
    }

    #[test]
    fn accepts_good_branding() {
        assert!(Branding::parse(&input(|_| {})).is_ok());
    }

    #[test]
    fn refuses_bad_fields() {
        let cases: Vec<(&str, BrandingInput)> = vec![
            ("accent_color", input(|i| i.accent_color = "blue".into())),
            ("accent_color", input(|i| i.accent_color = "#ffff00".into())),
            ("accent_color", input(|i| i.accent_color = "#12345".into())),
            (
                "display_name",
                input(|i| i.display_name = "<script>alert(1)</script>".into()),
            ),
            ("display_name", input(|i| i.display_name = "x".repeat(81))),
            ("display_name", input(|i| i.display_name = "  ".into())),
            ("banner", input(|i| i.banner = "b".repeat(281))),
            ("hotline", input(|i| i.hotline = "call me".into())),
        ];
        for (field, case) in cases {
            let errors = Branding::parse(&case).expect_err(field);
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn contrast_matches_wcag_examples() {
        assert!((contrast_with_white(0, 0, 0) - 21.0).abs() < 0.01);
        assert!((contrast_with_white(255, 255, 255) - 1.0).abs() < 0.01);
        assert!(contrast_with_white(0x76, 0x76, 0x76) >= 4.5);
        assert!(contrast_with_white(0x77, 0x77, 0x77) < 4.5);
    }
}
