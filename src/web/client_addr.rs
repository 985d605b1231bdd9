//! The client a request comes from, for the limits kept per client in the database (failed
//! tracking guesses, unverified subscription requests): the same client the in-memory limits
//! see (`metering::clients`): the TCP peer, or what our trusted proxies
//! (`limits.trusted_proxies`) say; an IPv6 client is its /64.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::error::AppError;

/// The client's address as text (`"unknown"` when the connection has none, e.g. a socket).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequest for ClientAddr {
    type Error = AppError;
    type Future = Ready<Result<ClientAddr, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<actix_web::web::Data<crate::web::state::AppState>>()
            .map(|state| state.clients.trusted.clone())
            .unwrap_or_default();
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok());
        let client = crate::metering::clients::client_ip(
            req.peer_addr().map(|a| a.ip()),
            forwarded,
            &trusted,
        );
        let addr = client.map_or_else(|| "unknown".to_string(), crate::metering::clients::label);
        ready(Ok(ClientAddr(addr)))
    }
}
