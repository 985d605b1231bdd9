//! The anonymous province home page (`GET /` without a session, a query or a search),
//! pre-rendered once per province and language and served as bytes.
//!
//! Invalidated with the site cache: a page is kept together with the site cache's entry it
//! was rendered from (`Arc<SiteData>`), and is served only while the site cache still returns
//! that very entry. Any change the site cache learns of (its notification, this replica's own
//! `forget`, its age limit) gives a new entry, and the next request renders the page again.
//! The page has no form, so it sets no CSRF cookie.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use actix_web::web::Bytes;

use crate::error::AppError;
use crate::lang::Lang;
use crate::tenancy::site_cache::SiteData;

/// One rendered page and the site data it shows.
#[derive(Debug)]
struct Rendered {
    site: Arc<SiteData>,
    html: Bytes,
}

/// Keyed by the tenant's schema (as the site cache) and the language code.
#[derive(Debug, Default)]
pub struct HomePages {
    pages: RwLock<HashMap<(String, &'static str), Rendered>>,
}

impl HomePages {
    /// The page for `site` (the site cache's current entry) in `lang`: the stored bytes when
    /// they were rendered from this same entry, else `render`'s, stored for the next request.
    pub fn get_or_render(
        &self,
        schema: &str,
        lang: Lang,
        site: &Arc<SiteData>,
        render: impl FnOnce() -> Result<String, AppError>,
    ) -> Result<Bytes, AppError> {
        let key = (schema.to_string(), lang.code());
        if let Some(page) = self
            .pages
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .filter(|page| Arc::ptr_eq(&page.site, site))
        {
            return Ok(page.html.clone());
        }
        let html = Bytes::from(render()?);
        self.pages
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key,
                Rendered {
                    site: site.clone(),
                    html: html.clone(),
                },
            );
        Ok(html)
    }
}
