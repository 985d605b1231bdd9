//! The client a request comes from, for the limits kept per client (failed tracking guesses,
//! unverified subscription requests): the address of the TCP peer, never a header a client
//! can write itself. Behind a proxy every client is the proxy; such a deployment limits
//! clients at its gateway and may turn these limits off (`limits.enabled`).

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
        let addr = req
            .peer_addr()
            .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string());
        ready(Ok(ClientAddr(addr)))
    }
}
