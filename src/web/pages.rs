//! Server-rendered pages in the one national layout (askama, checked at compile time).

mod console_strings;
mod payment_strings;
mod receipt_strings;
mod staff_strings;
mod strings;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::branding::Branding;

/// What the national layout needs on every page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub lang: Lang,
    /// Shown in the masthead under the national name.
    pub site_name: String,
    /// Province pages load `/brand.css` for their accent colour and show the citizen's menu.
    pub branded: bool,
    /// The current path, for the language switch.
    pub path: String,
    /// The CSRF token for the page's forms (the header's sign-out among them); empty when the
    /// page has no form.
    pub csrf: String,
    /// The signed-in citizen's name, for the province menu; `None` shows sign in / register.
    pub account: Option<String>,
    /// The province's logo address (`/logo?v=…`) when it has one, for the masthead.
    pub logo: Option<String>,
    /// Names the province's `/brand.css` by its colour, so a new colour shows on the next page
    /// load although the stylesheet is cached for a minute.
    pub brand_version: String,
    /// On staff pages: the staff menu instead of the citizen's.
    pub staff: Option<StaffMenu>,
    /// National pages show the national menu: provinces, my dossiers in every province, and
    /// the one sign-in for every site.
    pub national: bool,
}

/// Who is signed in on a staff page, for its menu.
#[derive(Debug, Clone)]
pub struct StaffMenu {
    pub name: String,
    /// Admins also see the administration link.
    pub admin: bool,
}

impl Layout {
    fn new(req: &HttpRequest, site_name: String, branded: bool) -> Layout {
        Layout {
            lang: Lang::of(req),
            site_name,
            branded,
            path: req.path().to_string(),
            csrf: String::new(),
            account: None,
            logo: None,
            brand_version: String::new(),
            staff: None,
            national: false,
        }
    }

    pub fn national(req: &HttpRequest) -> Layout {
        let lang = Lang::of(req);
        let mut layout = Layout::new(req, tr(lang, "national").to_string(), false);
        layout.national = true;
        layout
    }

    pub fn operator(req: &HttpRequest) -> Layout {
        let lang = Lang::of(req);
        Layout::new(req, tr(lang, "operator").to_string(), false)
    }

    pub fn province(req: &HttpRequest, _name: &str, branding: &Branding) -> Layout {
        let mut layout = Layout::new(req, branding.display_name.clone(), true);
        layout.logo = branding.logo_version.map(|v| format!("/logo?v={v}"));
        layout.brand_version = branding
            .accent_color
            .as_str()
            .trim_start_matches('#')
            .into();
        layout
    }

    /// The staff menu (staff pages of a province), with the form token for its sign-out.
    pub fn with_staff(mut self, csrf: &str, name: &str, admin: bool) -> Layout {
        self.csrf = csrf.to_string();
        self.staff = Some(StaffMenu {
            name: name.to_string(),
            admin,
        });
        self
    }

    /// Adds the visitor's form token and name (citizen pages of a province).
    pub fn with_session(mut self, csrf: &str, account: Option<&str>) -> Layout {
        self.csrf = csrf.to_string();
        self.account = account.map(str::to_string);
        self
    }

    /// A UI string in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        tr(self.lang, key)
    }

    /// The language switch's link: this page in the other language. Only a path of this site
    /// (`//evil.example/` or `/\evil.example` would be read by browsers as another host).
    pub fn switch_href(&self) -> String {
        format!(
            "{}?lang={}",
            crate::web::session::safe_next(Some(&self.path)),
            self.other_lang()
        )
    }

    /// The other language, for the switch link.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "en",
            Lang::En => "vi",
        }
    }
}

/// The UI's strings (the table is in `pages/strings.rs`). Vietnamese first; an unknown key
/// renders as nothing rather than panicking, and a unit test checks every key the templates use.
pub fn tr(lang: Lang, key: &str) -> &'static str {
    let (vi, en) = strings::lookup(key);
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

#[derive(Template)]
#[template(path = "national_home.html")]
pub struct NationalHomePage {
    pub layout: Layout,
    pub provinces: Vec<ProvinceLink>,
    /// The search box's text (`?q=`); empty shows every province.
    pub query: String,
    /// The procedures the search found (none without a query).
    pub procedures: Vec<NationalProcedureCard>,
}

/// One procedure of the national catalog as a line: what it is and how many provinces offer
/// it, linking to "where can I file this" (`/procedures/{code}`).
#[derive(Debug, Clone)]
pub struct NationalProcedureCard {
    pub code: String,
    pub name: String,
    /// Its field (the catalog's group), in the page's language.
    pub field: String,
    /// The level that decides it, as words.
    pub decided_at: String,
    /// 4 = wholly online, 3 = partly online.
    pub level: u8,
    /// Already formatted, e.g. `135.000 đ`.
    pub fee: String,
    /// How many provinces offer it.
    pub provinces: usize,
}

pub struct ProvinceLink {
    pub name: String,
    pub url: String,
}

/// A province's home: its catalog by group, or the hits of a search.
#[derive(Template)]
#[template(path = "province_home.html")]
pub struct ProvinceHomePage {
    pub layout: Layout,
    pub branding: Branding,
    /// The search box's text (`?q=`).
    pub query: String,
    pub groups: Vec<ProcedureGroup>,
    /// `Some` when a search was made (maybe empty).
    pub results: Option<Vec<ProcedureCard>>,
}

pub struct ProcedureGroup {
    pub name: String,
    pub procedures: Vec<ProcedureCard>,
}

/// One enabled procedure as the home page lists it.
#[derive(Debug, Clone)]
pub struct ProcedureCard {
    pub code: String,
    pub name: String,
    /// 4 = wholly online, 3 = partly online.
    pub level: u8,
    /// Already formatted, e.g. `135.000 đ`.
    pub fee: String,
    /// Working days.
    pub days: u32,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub message: String,
    /// The message in the other language too, when the visitor is told to wait (429, 408):
    /// the page must be readable whatever language the browser asked for.
    pub other_message: Option<String>,
}

/// Renders a page as a 200 HTML response.
pub fn render<T: Template>(page: &T) -> Result<HttpResponse, AppError> {
    let html = page
        .render()
        .map_err(|e| AppError::internal(format!("template: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// An error as a page in the national layout, with the error's status.
pub fn error_page(req: &HttpRequest, error: &AppError, lang: Lang) -> HttpResponse {
    let status = error.status_code();
    let mut layout = Layout::national(req);
    layout.lang = lang;
    layout.site_name = tr(lang, "portal").to_string();
    let other = match lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    let page = ErrorPage {
        layout,
        status: status.as_u16(),
        message: error.message().get(lang).to_string(),
        other_message: matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT
        )
        .then(|| error.message().get(other).to_string()),
    };
    let mut builder = HttpResponse::build(status);
    if let AppError::TooMany {
        retry_after_secs, ..
    } = error
    {
        builder.insert_header(("Retry-After", retry_after_secs.to_string()));
    } else if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        builder.insert_header(("Retry-After", "30"));
    }
    match page.render() {
        Ok(html) => builder.content_type("text/html; charset=utf-8").body(html),
        Err(_) => builder
            .content_type("text/plain; charset=utf-8")
            .body(page.message),
    }
}
