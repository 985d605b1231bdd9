//! Resumable uploads for the documents page's script, in the shape of tus 1.0's core
//! (docs/uploads.md): `POST` opens an upload of a declared length, `HEAD`/`GET` tell its
//! offset, `PATCH` appends at that offset, `DELETE` gives it up. Signed in by the page's
//! session cookie, with the form token in `X-CSRF-Token` on every write; errors are the
//! contract's JSON envelope (the script shows their message), never a page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, patch, post, route, web};
use base64::Engine;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use crate::app::resumable::{self, Appended, Progress, Start, Target};
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::session::{Csrf, PageCitizen};

/// The protocol version every answer names.
const TUS_VERSION: &str = "1.0.0";
/// The only body type a `PATCH` takes.
const PATCH_TYPE: &str = "application/offset+octet-stream";
/// Received bytes are kept in parts of this size as they arrive, so a connection that drops
/// mid-request loses nothing that reached the server (the rest of a part is kept on the
/// error too, when the server sees it).
const PART_BYTES: usize = 256 * 1024;

/// The error as the contract's JSON envelope, whatever the path (the script reads it).
fn json_error(error: AppError, lang: Lang) -> HttpResponse {
    if let AppError::Internal(reason) = &error {
        tracing::error!(error = %reason, "request failed");
    }
    let mut res = error.json_response(lang);
    res.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("tus-resumable"),
        actix_web::http::header::HeaderValue::from_static(TUS_VERSION),
    );
    res
}

fn answer(result: Result<HttpResponse, AppError>, lang: Lang) -> HttpResponse {
    result.unwrap_or_else(|e| json_error(e, lang))
}

fn malformed(what: &str) -> AppError {
    AppError::bad_request(
        "malformed",
        Msg::owned(
            format!("Yêu cầu tải lên thiếu hoặc sai tiêu đề {what}."),
            format!("The upload request's {what} header is missing or invalid."),
        ),
    )
}

fn header<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A non-negative decimal header (`Upload-Length`, `Upload-Offset`).
fn number(req: &HttpRequest, name: &str) -> Result<u64, AppError> {
    header(req, name)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| malformed(name))
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs; `field` (the form's
/// document) is required, `filename` optional.
fn metadata(req: &HttpRequest) -> Result<(String, String), AppError> {
    let raw = header(req, "Upload-Metadata").ok_or_else(|| malformed("Upload-Metadata"))?;
    let mut field = None;
    let mut filename = String::new();
    for pair in raw.split(',') {
        let mut words = pair.trim().splitn(2, ' ');
        let key = words.next().unwrap_or_default();
        let value = words.next().unwrap_or_default().trim();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|v| v.len() <= 255)
            .ok_or_else(|| malformed("Upload-Metadata"))?;
        match key {
            "field" => field = Some(decoded),
            "filename" => filename = decoded,
            _ => {}
        }
    }
    Ok((field.ok_or_else(|| malformed("Upload-Metadata"))?, filename))
}

/// RFC 9110's date, as `Upload-Expires` wants it.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn location(code: &str, id: uuid::Uuid) -> String {
    format!("/procedures/{code}/apply/uploads/{id}")
}

/// The headers that say where an upload stands.
fn with_progress(status: StatusCode, p: &Progress) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header(("Tus-Resumable", TUS_VERSION))
        .insert_header(("Upload-Offset", p.offset.to_string()))
        .insert_header(("Upload-Length", p.length.to_string()))
        .insert_header(("Upload-Expires", http_date(p.expires_at)))
        .insert_header(("Cache-Control", "no-store"));
    res
}

/// The signed-in citizen, for a request the script makes (no redirect: 401).
fn signed_in(who: PageCitizen) -> Result<crate::accounts::citizens::Citizen, AppError> {
    who.0.ok_or_else(AppError::unauthorized)
}

/// Opens an upload: `Upload-Length` and `Upload-Metadata` (`field`, `filename`) → 201 with
/// its `Location`.
#[post("/procedures/{code}/apply/uploads")]
pub async fn create_upload(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let result = async {
        let citizen = signed_in(who)?;
        csrf.verify_before_body(&req)?;
        let length = number(&req, "Upload-Length")?;
        let (field, given_name) = metadata(&req)?;
        let code = code.into_inner();
        let start = Start {
            citizen: citizen.id,
            procedure_code: code.clone(),
            field,
            given_name,
            length,
        };
        let site_max = state.settings.storage.max_upload_bytes;
        let p = resumable::create(&province.db, site_max, crate::clock::now(), start).await?;
        Ok::<_, AppError>(
            with_progress(StatusCode::CREATED, &p)
                .insert_header(("Location", location(&code, p.id)))
                .finish(),
        )
    }
    .await;
    answer(result, lang)
}

/// Where an upload stands: `Upload-Offset` and `Upload-Length` (and the same as JSON on `GET`).
#[route(
    "/procedures/{code}/apply/uploads/{id}",
    method = "GET",
    method = "HEAD"
)]
pub async fn show_upload(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    path: web::Path<(String, uuid::Uuid)>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let result = async {
        let citizen = signed_in(who)?;
        let (procedure_code, id) = path.into_inner();
        let target = Target {
            citizen: citizen.id,
            procedure_code,
            id,
        };
        let p = resumable::progress(&province.db, target, crate::clock::now()).await?;
        Ok::<_, AppError>(with_progress(StatusCode::OK, &p).json(serde_json::json!({
            "offset": p.offset,
            "length": p.length,
            "expires_at": p.expires_at,
        })))
    }
    .await;
    answer(result, lang)
}

/// Appends the body at `Upload-Offset`, which must be the upload's offset (409 otherwise,
/// before a byte is read). Bytes are kept as they arrive, so a request cut off mid-body
/// leaves the upload at the last byte received; the last byte completes it (422 with the
/// reason when the whole file fails its checks).
#[patch("/procedures/{code}/apply/uploads/{id}")]
pub async fn append_upload(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    path: web::Path<(String, uuid::Uuid)>,
    payload: web::Payload,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let result = async {
        let citizen = signed_in(who)?;
        csrf.verify_before_body(&req)?;
        if header(&req, "Content-Type") != Some(PATCH_TYPE) {
            return Err(malformed("Content-Type"));
        }
        let offset = number(&req, "Upload-Offset")?;
        let (procedure_code, id) = path.into_inner();
        let target = Target {
            citizen: citizen.id,
            procedure_code,
            id,
        };
        let now = crate::clock::now();
        let p = resumable::progress(&province.db, target.clone(), now).await?;
        if p.offset == p.length {
            return Err(resumable::already_complete());
        }
        if offset != p.offset {
            return Err(resumable::offset_mismatch(p.offset));
        }
        let announced = header(&req, "Content-Length").and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| offset.saturating_add(n) > p.length) {
            return Err(resumable::past_length());
        }
        let site_max = state.settings.storage.max_upload_bytes;
        let receiver = Receiver {
            db: &province.db,
            site_max,
            target,
            at: offset,
            length: p.length,
        };
        let done = receiver.receive(payload).await?;
        Ok::<_, AppError>(with_progress(StatusCode::NO_CONTENT, &done).finish())
    }
    .await;
    answer(result, lang)
}

/// One `PATCH` body on its way into the upload.
struct Receiver<'a> {
    db: &'a crate::db::TenantDb,
    site_max: u64,
    target: Target,
    /// The upload's offset: where the next part starts.
    at: u64,
    length: u64,
}

impl Receiver<'_> {
    /// Reads the body, keeping a part each [`PART_BYTES`]; on a cut-off body keeps what came
    /// and answers the error. Returns where the upload stands at the end.
    async fn receive(mut self, mut payload: web::Payload) -> Result<Progress, AppError> {
        let mut buffer: Vec<u8> = Vec::with_capacity(PART_BYTES);
        let mut last = None;
        loop {
            match payload.next().await {
                Some(Ok(chunk)) => {
                    let total = self.at + buffer.len() as u64 + chunk.len() as u64;
                    if total > self.length {
                        // Past the declared length: nothing of this piece is kept.
                        return Err(resumable::past_length());
                    }
                    buffer.extend_from_slice(&chunk);
                    while buffer.len() >= PART_BYTES {
                        let rest = buffer.split_off(PART_BYTES);
                        let part = std::mem::replace(&mut buffer, rest);
                        last = Some(self.keep(part).await?);
                    }
                }
                Some(Err(e)) => {
                    // The connection dropped (or the body came too slowly): what arrived
                    // is kept, so the client resumes from the last byte received.
                    if !buffer.is_empty() {
                        let kept = std::mem::take(&mut buffer);
                        if let Err(why) = self.keep(kept).await {
                            tracing::info!(error = %why, "part of a cut-off upload not kept");
                        }
                    }
                    tracing::info!(error = %e, offset = self.at, "upload body cut off");
                    return Err(match e {
                        actix_web::error::PayloadError::Overflow => {
                            crate::web::middleware::body_too_large()
                        }
                        _ => AppError::bad_request(
                            "incomplete",
                            Msg::new(
                                "Kết nối bị gián đoạn khi đang tải lên. Vui lòng tiếp tục tải lên.",
                                "The connection dropped during the upload. Please resume it.",
                            ),
                        ),
                    });
                }
                None => break,
            }
        }
        if !buffer.is_empty() || last.is_none() {
            last = Some(self.keep(buffer).await?);
        }
        last.ok_or_else(|| AppError::internal("upload: no progress"))
    }

    /// One part into the upload, at the offset; the last completes it.
    async fn keep(&mut self, part: Vec<u8>) -> Result<Progress, AppError> {
        let appended = resumable::append(
            self.db,
            self.site_max,
            self.target.clone(),
            self.at,
            part,
            crate::clock::now(),
        )
        .await?;
        match appended {
            Appended::Partial(p) | Appended::Complete(p) => {
                self.at = p.offset;
                Ok(p)
            }
            Appended::Refused(why) => Err(why),
        }
    }
}

/// Gives up an upload (a file it completed stays the draft's).
#[delete("/procedures/{code}/apply/uploads/{id}")]
pub async fn cancel_upload(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    path: web::Path<(String, uuid::Uuid)>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let result = async {
        let citizen = signed_in(who)?;
        csrf.verify_before_body(&req)?;
        let (procedure_code, id) = path.into_inner();
        let target = Target {
            citizen: citizen.id,
            procedure_code,
            id,
        };
        resumable::cancel(&province.db, target, crate::clock::now()).await?;
        Ok::<_, AppError>(
            HttpResponse::NoContent()
                .insert_header(("Tus-Resumable", TUS_VERSION))
                .finish(),
        )
    }
    .await;
    answer(result, lang)
}
