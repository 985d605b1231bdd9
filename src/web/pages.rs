//! Server-rendered pages in the one national layout (askama, checked at compile time).

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
    /// Province pages load `/brand.css` for their accent colour.
    pub branded: bool,
    /// The current path, for the language switch.
    pub path: String,
}

impl Layout {
    fn new(req: &HttpRequest, site_name: String, branded: bool) -> Layout {
        Layout {
            lang: Lang::of(req),
            site_name,
            branded,
            path: req.path().to_string(),
        }
    }

    pub fn national(req: &HttpRequest) -> Layout {
        let lang = Lang::of(req);
        Layout::new(req, tr(lang, "national").to_string(), false)
    }

    pub fn operator(req: &HttpRequest) -> Layout {
        let lang = Lang::of(req);
        Layout::new(req, tr(lang, "operator").to_string(), false)
    }

    pub fn province(req: &HttpRequest, _name: &str, branding: &Branding) -> Layout {
        Layout::new(req, branding.display_name.clone(), true)
    }

    /// A UI string in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        tr(self.lang, key)
    }

    /// The other language, for the switch link.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "en",
            Lang::En => "vi",
        }
    }
}

/// The UI's strings. Vietnamese first; a missing key shows itself rather than panicking.
pub fn tr(lang: Lang, key: &str) -> &'static str {
    let (vi, en) = match key {
        "portal" => ("Cổng Dịch vụ công", "Public Service Portal"),
        "national" => (
            "Cổng Dịch vụ công quốc gia",
            "National Public Service Portal",
        ),
        "operator" => ("Trang quản trị nhà vận hành", "Operator console"),
        "skip" => ("Bỏ qua, đến nội dung chính", "Skip to main content"),
        "switch" => ("English", "Tiếng Việt"),
        "provinces" => ("Tỉnh, thành phố", "Provinces and cities"),
        "provinces_lead" => (
            "Chọn tỉnh, thành phố nơi bạn muốn nộp hồ sơ thủ tục hành chính.",
            "Choose the province or city where you want to apply.",
        ),
        "no_provinces" => ("Chưa có tỉnh nào hoạt động.", "No province is active yet."),
        "hotline" => ("Đường dây nóng", "Hotline"),
        "address" => ("Địa chỉ", "Address"),
        "welcome" => (
            "Nộp hồ sơ, theo dõi tiến độ và nhận kết quả thủ tục hành chính trực tuyến.",
            "Apply, follow your dossier and receive results of administrative procedures online.",
        ),
        "national_link" => (
            "Về Cổng Dịch vụ công quốc gia",
            "Back to the national portal",
        ),
        "operator_lead" => (
            "Quản lý tỉnh thuê dịch vụ, gói dịch vụ, mức sử dụng và hoá đơn qua API /api/v1.",
            "Manage provinces, plans, usage and invoices through the /api/v1 API.",
        ),
        "error" => ("Đã có lỗi", "Something went wrong"),
        "footer" => (
            "Giao diện thống nhất toàn quốc. Mọi tỉnh, thành phố dùng chung một bố cục.",
            "One nationally uniform interface for every province and city.",
        ),
        _ => ("", ""),
    };
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
}

pub struct ProvinceLink {
    pub name: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "province_home.html")]
pub struct ProvinceHomePage {
    pub layout: Layout,
    pub branding: Branding,
}

#[derive(Template)]
#[template(path = "operator_home.html")]
pub struct OperatorHomePage {
    pub layout: Layout,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub message: String,
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
    let page = ErrorPage {
        layout,
        status: status.as_u16(),
        message: error.message().get(lang).to_string(),
    };
    let mut builder = HttpResponse::build(status);
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        builder.insert_header(("Retry-After", "30"));
    }
    match page.render() {
        Ok(html) => builder.content_type("text/html; charset=utf-8").body(html),
        Err(_) => builder
            .content_type("text/plain; charset=utf-8")
            .body(page.message),
    }
}
