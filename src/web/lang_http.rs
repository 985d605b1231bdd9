//! The request's language: `Lang::of` and the `Lang` extractor (HTTP only).

use actix_web::HttpRequest;

use crate::lang::Lang;

impl Lang {
    /// `?lang=` wins, then the `lang` cookie, then the first language of `Accept-Language`.
    pub fn of(req: &HttpRequest) -> Lang {
        let query_lang = req.query_string().split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == "lang").then(|| Lang::parse(v)).flatten()
        });
        if let Some(lang) = query_lang {
            return lang;
        }
        if let Some(lang) = req.cookie("lang").and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        req.headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    }
}

/// The request's language as an extractor.
impl actix_web::FromRequest for Lang {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Lang, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(Lang::of(req)))
    }
}
