//! The citizen's dossier API on a province site, and tracking without sign-in.

use actix_multipart::Multipart;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::citizen::{self, NewAttachment, Reader, attach, read_dossier};
use crate::catalog;
use crate::dossiers::attachments;
use crate::dossiers::limits::SubmissionLimits;
use crate::dossiers::moves::Move;
use crate::dossiers::status::{Action, Actor};
use crate::dossiers::submit::{Channel, Submission};
use crate::dossiers::tracking;
use crate::dossiers::view::DossierSummary;
use crate::error::AppError;
use crate::lang::{Lang, Msg};
use crate::notify::messages::MailContext;
use crate::payments::{self, FeeOutcome, MoveContext};
use crate::web::AppState;
use crate::web::client_addr::ClientAddr;
use crate::web::extract::{CitizenToken, CitizenUser, Province, SiteToken, StaffUser};
use crate::web::province::upload_form;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_procedures)
        .service(get_procedure)
        .service(list_units)
        .service(submit_dossier)
        .service(list_my_dossiers)
        .service(get_dossier)
        .service(upload_attachment)
        .service(download_attachment)
        .service(download_result)
        .service(withdraw_dossier)
        .service(supplement_dossier)
        .service(pay_dossier)
        .service(rate_dossier)
        .service(track_dossier)
        .service(track_dossier_post);
}

/// The province's name and site address, for mails.
pub fn mail_context(province: &Province, state: &AppState) -> MailContext {
    let host = format!("{}.{}", province.tenant.slug, state.registry.base_domain());
    MailContext {
        province: province.tenant.name.clone(),
        site_url: state.settings.url_for_host(&host),
    }
}

/// What a move needs besides the connection: the province, its mail context, the calendar.
pub async fn move_context(province: &Province, state: &AppState) -> Result<MoveContext, AppError> {
    state.move_context(province.tenant.clone()).await
}

/// `GET /api/v1/procedures`: the enabled procedures, in the request's language.
#[get("/api/v1/procedures")]
async fn list_procedures(
    province: Province,
    lang: Lang,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let site = province.site(&state).await?;
    let disabled = &site.disabled;
    let list: Vec<_> = catalog::national()
        .all()
        .iter()
        .filter(|p| !disabled.contains(&p.code))
        .map(|p| {
            json!({
                "code": p.code,
                "name": p.name.get(lang),
                "level": p.level,
                "assurance_level": p.assurance_level,
                "fee_vnd": p.fee_vnd,
                "processing_days": p.processing_days,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// One enabled procedure with its form and required documents.
#[get("/api/v1/procedures/{code}")]
async fn get_procedure(
    province: Province,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let enabled = citizen::procedure_enabled(&province.db, code.clone()).await?;
    let p = catalog::national()
        .get(&code)
        .filter(|_| enabled)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(p))
}

/// One unit as `GET /api/v1/units` lists it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitItem {
    pub code: String,
    pub name: String,
    pub kind: crate::units::UnitKind,
    /// A service point: dossiers can be handed in there.
    pub receives: bool,
    /// Names it had before a reorganisation renamed it or merged other units into it.
    pub former_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct UnitsQuery {
    q: Option<String>,
}

/// `GET /api/v1/units[?q=]`: every unit in force of the province (public); with `q`, those
/// whose name or former name holds it (ignoring case and diacritics).
#[get("/api/v1/units")]
async fn list_units(
    province: Province,
    query: web::Query<UnitsQuery>,
) -> Result<HttpResponse, AppError> {
    let list: Vec<UnitItem> = crate::app::units::search(&province.db, query.into_inner().q)
        .await?
        .into_iter()
        .map(|(u, former_names)| UnitItem {
            code: u.code.to_string(),
            name: u.name,
            kind: u.kind,
            receives: u.receives,
            former_names,
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SubmitForm {
    procedure_code: String,
    fields: serde_json::Map<String, serde_json::Value>,
    /// The competent unit (a unit code of `GET /api/v1/units`); when absent, the province's
    /// default for the procedure.
    #[serde(default)]
    unit_code: Option<String>,
}

/// `POST /api/v1/dossiers` → 201 `{tracking_code, status}`.
#[post("/api/v1/dossiers")]
async fn submit_dossier(
    token: CitizenToken,
    province: Province,
    state: web::Data<AppState>,
    lang: Lang,
    form: web::Json<SubmitForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ctx = mail_context(&province, &state);
    let tenant = province.tenant.clone();
    let sub = Submission {
        procedure_code: form.procedure_code,
        answers: form.fields,
        channel: Channel::Online,
        citizen_id: Some(token.session.id),
        // The account's, filled by `submit_online` when it checks the account.
        contact_email: None,
        lang,
        actor: format!("citizen:{}", token.session.id),
        limits: SubmissionLimits::from_settings(&state.settings.limits),
        unit_code: form.unit_code,
        received_at: None,
        assurance_level: Some(token.level),
        offered: None,
        unit_mapping: None,
    };
    let dossier =
        citizen::submit_online(&state, &province.db, tenant, ctx, token.session, sub).await?;
    Ok(HttpResponse::Created().json(json!({
        "tracking_code": dossier.tracking_code,
        "status": dossier.status,
    })))
}

#[get("/api/v1/dossiers")]
async fn list_my_dossiers(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let rows = citizen::my_dossiers(&province.db, citizen.id).await?;
    let list: Vec<DossierSummary> = rows
        .into_iter()
        .map(|d| DossierSummary::new(d, lang))
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// The owner or the province's staff (200); anybody else 404, as for a code that does not exist.
#[get("/api/v1/dossiers/{code}")]
async fn get_dossier(
    req: HttpRequest,
    SiteToken(claims): SiteToken,
    province: Province,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let reader = match claims.role.as_str() {
        "citizen" => Reader::Citizen(CitizenUser::extract(&req).await?.0.id),
        role if crate::accounts::staff::StaffRole::parse(role).is_ok() => {
            StaffUser::extract(&req).await?;
            Reader::Staff
        }
        _ => return Err(AppError::NotFound),
    };
    let view = read_dossier(&province.db, reader, tracking::normalize(&code), lang).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /api/v1/dossiers/{code}/attachments` (multipart `file`, optional `field` naming the
/// form's document) → 201 `{id, name, size}`. The document's own limit and types apply, as on
/// the pages (`app::documents`).
#[post("/api/v1/dossiers/{code}/attachments")]
async fn upload_attachment(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    state: web::Data<AppState>,
    code: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let site_max = state.settings.storage.max_upload_bytes;
    let parts = upload_form::read(payload, site_max, |name| {
        (name == "file").then_some(site_max)
    })
    .await?;
    if parts.too_large.is_some() {
        return Err(crate::app::documents::too_large(site_max));
    }
    let field = parts.text("field").map(str::to_string);
    // `field` twice: which document would the file answer?
    let fields_sent = parts.texts.iter().filter(|(k, _)| k == "field").count();
    if fields_sent > 1 || field.as_ref().is_some_and(|f| f.len() > 64) {
        return Err(AppError::bad_request(
            "malformed",
            Msg::new("Dữ liệu tải lên không hợp lệ.", "The upload is malformed."),
        ));
    }
    let file = parts.files.into_iter().next().ok_or_else(|| {
        AppError::invalid("file", Msg::new("Chưa chọn tệp.", "No file was sent."))
    })?;
    let meta = attach(
        &province.db,
        province.tenant.clone(),
        site_max,
        citizen.id,
        tracking::normalize(&code),
        NewAttachment {
            field,
            given_name: file.given_name.clone(),
            bytes: file.bytes()?,
        },
    )
    .await?;
    Ok(
        HttpResponse::Created()
            .json(json!({ "id": meta.id, "name": meta.name, "size": meta.size })),
    )
}

#[get("/api/v1/dossiers/{code}/attachments/{id}")]
async fn download_attachment(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    path: web::Path<(String, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let code = tracking::normalize(&code);
    let (meta, bytes) = citizen::download(&province.db, citizen.id, code, id).await?;
    Ok(file_response(&meta, bytes))
}

/// `GET /api/v1/dossiers/{code}/result` (owner): the e-copy of the result, as a download.
/// 404 for a paper result, before one is attached, or for anybody else's dossier.
#[get("/api/v1/dossiers/{code}/result")]
async fn download_result(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = tracking::normalize(&code);
    let (name, bytes) = crate::app::results::result_file(&province.db, citizen.id, code).await?;
    Ok(download(&name, "application/pdf", bytes))
}

/// A stored file, always as a download, never rendered by the browser.
pub fn file_response(meta: &attachments::AttachmentMeta, bytes: Vec<u8>) -> HttpResponse {
    download(&meta.name, &meta.content_type, bytes)
}

/// Bytes as a download named `name`, never rendered by the browser.
pub fn download(name: &str, content_type: &str, bytes: Vec<u8>) -> HttpResponse {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CitizenMoveForm {
    note: Option<String>,
    fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A citizen's move (withdraw, supplement) on their own dossier.
async fn citizen_move(
    citizen: crate::accounts::citizens::Citizen,
    province: Province,
    state: web::Data<AppState>,
    lang: Lang,
    code: String,
    action: Action,
    form: CitizenMoveForm,
) -> Result<HttpResponse, AppError> {
    let cx = move_context(&province, &state).await?;
    let mut mv = Move::new(action, Actor::Citizen, format!("citizen:{}", citizen.id));
    mv.note = form.note;
    mv.answers = form.fields;
    let code = tracking::normalize(&code);
    let view = citizen::citizen_move(&province.db, cx, citizen.id, code.clone(), mv, lang).await?;
    if action == Action::Withdraw {
        // Its open payment page (Stripe Checkout) can no longer be paid.
        crate::app::fees::expire_open_sessions(&state, province.tenant.clone(), code).await;
    }
    Ok(HttpResponse::Ok().json(view))
}

#[post("/api/v1/dossiers/{code}/withdraw")]
async fn withdraw_dossier(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    form: Option<web::Json<CitizenMoveForm>>,
) -> Result<HttpResponse, AppError> {
    let form = form.map(web::Json::into_inner).unwrap_or_default();
    citizen_move(
        citizen,
        province,
        state,
        lang,
        code.into_inner(),
        Action::Withdraw,
        form,
    )
    .await
}

#[post("/api/v1/dossiers/{code}/supplement")]
async fn supplement_dossier(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    form: web::Json<CitizenMoveForm>,
) -> Result<HttpResponse, AppError> {
    citizen_move(
        citizen,
        province,
        state,
        lang,
        code.into_inner(),
        Action::Supplement,
        form.into_inner(),
    )
    .await
}

/// How the citizen pays a fee (`method` of `POST …/pay`; absent: `card`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    /// Card or wallet through the configured provider.
    Card,
    /// A bank transfer to the province's account (VietQR), confirmed from its statement.
    BankTransfer,
    /// In person at the one-stop desk.
    Counter,
}

impl PayMethod {
    /// `card`, `bank_transfer` or `counter`; anything else is 422.
    pub fn parse(raw: Option<&str>) -> Result<PayMethod, AppError> {
        match raw.map(str::trim) {
            None | Some("") | Some("card") => Ok(PayMethod::Card),
            Some("bank_transfer") => Ok(PayMethod::BankTransfer),
            Some("counter") => Ok(PayMethod::Counter),
            Some(_) => Err(AppError::invalid(
                "method",
                Msg::new(
                    "Cách thanh toán là card, bank_transfer hoặc counter.",
                    "The method is card, bank_transfer or counter.",
                ),
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PayBody {
    method: Option<String>,
}

/// `POST /api/v1/dossiers/{code}/pay` `{method?}`. `card` (the default, as before): 200
/// dossier when the provider confirms at once (the sandbox); 202 `{checkout_url, dossier}` when
/// the citizen pays on Stripe's page (its webhook then moves the dossier on).
/// `bank_transfer`: 202 `{method, transfer: {reference, amount_vnd, account, qr_payload},
/// dossier}` (the same transfer when asked again); the statement's reconciliation moves the
/// dossier on. `counter`: 202 `{method, amount_vnd, dossier}`, nothing changes.
#[post("/api/v1/dossiers/{code}/pay")]
async fn pay_dossier(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    state: web::Data<AppState>,
    lang: Lang,
    code: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let code = tracking::normalize(&code);
    let form: PayBody = if body.iter().all(u8::is_ascii_whitespace) {
        PayBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::invalid(
                "method",
                Msg::owned(
                    format!("Nội dung không hợp lệ: {e}"),
                    format!("Invalid body: {e}"),
                ),
            )
        })?
    };
    let accepted = actix_web::http::StatusCode::ACCEPTED;
    match PayMethod::parse(form.method.as_deref())? {
        PayMethod::Card => {}
        PayMethod::BankTransfer => {
            let (d, transfer) =
                crate::app::payments::open_transfer(&province.db, citizen.id, code).await?;
            let view = citizen::view(&province.db, d, lang).await?;
            return Ok(HttpResponse::build(accepted).json(
                json!({ "method": "bank_transfer", "transfer": transfer, "dossier": view }),
            ));
        }
        PayMethod::Counter => {
            let d = citizen::mine(&province.db, citizen.id, code).await?;
            if d.status() != crate::dossiers::status::Status::PaymentRequested {
                return Err(crate::dossiers::moves::invalid_transition(
                    d.status(),
                    Action::Pay,
                ));
            }
            let amount = d.fee_vnd;
            let view = citizen::view(&province.db, d, lang).await?;
            return Ok(HttpResponse::build(accepted)
                .json(json!({ "method": "counter", "amount_vnd": amount, "dossier": view })));
        }
    }
    let cx = move_context(&province, &state).await?;
    let return_url = format!("{}/dossiers/{code}", cx.mail.site_url);
    let outcome = payments::pay(
        &province.db,
        state.fees.clone(),
        cx,
        code,
        citizen.id,
        return_url,
    )
    .await?;
    let (status, url, d) = match outcome {
        FeeOutcome::Paid(d) => (actix_web::http::StatusCode::OK, None, d),
        FeeOutcome::PayAt { url, dossier } => (accepted, Some(url), dossier),
    };
    let view = citizen::view(&province.db, d, lang).await?;
    Ok(match url {
        None => HttpResponse::Ok().json(view),
        Some(url) => {
            HttpResponse::build(status).json(json!({ "checkout_url": url, "dossier": view }))
        }
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RatingForm {
    #[schema(minimum = 1, maximum = 5)]
    score: i64,
    comment: Option<String>,
}

/// `POST /api/v1/dossiers/{code}/rating` → 201, once, when returned, refused or stopped.
#[post("/api/v1/dossiers/{code}/rating")]
async fn rate_dossier(
    CitizenUser(citizen): CitizenUser,
    province: Province,
    code: web::Path<String>,
    form: web::Json<RatingForm>,
) -> Result<HttpResponse, AppError> {
    let code = tracking::normalize(&code);
    let RatingForm { score, comment } = form.into_inner();
    citizen::rate(&province.db, citizen.id, code, score, comment).await?;
    Ok(HttpResponse::Created().json(json!({ "score": score })))
}

#[derive(Debug, Deserialize)]
pub struct TrackingQuery {
    pub(crate) id_number: String,
}

/// The citizen ID as typed, digits only (spaces and dots read from a card are dropped).
pub(crate) fn digits(id_number: &str) -> String {
    id_number.chars().filter(char::is_ascii_digit).collect()
}

/// `GET /api/v1/tracking/{code}?id_number=…`: no sign-in, no personal data; 404 unless the
/// citizen ID matches the applicant's; failures limited per code and per client (429). Kept
/// for existing clients: `POST /api/v1/tracking` keeps the ID out of the URL.
#[get("/api/v1/tracking/{code}")]
async fn track_dossier(
    state: web::Data<AppState>,
    province: Province,
    client: ClientAddr,
    code: web::Path<String>,
    query: web::Query<TrackingQuery>,
) -> Result<HttpResponse, AppError> {
    let lookup = citizen::TrackingLookup {
        code: tracking::normalize(&code),
        id_number: digits(&query.id_number),
        client: client.0,
    };
    let view = citizen::track(&state.app, &province.db, lookup).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TrackingForm {
    pub(crate) tracking_code: String,
    pub(crate) id_number: String,
}

/// `POST /api/v1/tracking` `{tracking_code, id_number}`: the GET's answer without the citizen
/// ID in a URL.
#[post("/api/v1/tracking")]
async fn track_dossier_post(
    state: web::Data<AppState>,
    province: Province,
    client: ClientAddr,
    form: web::Json<TrackingForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lookup = citizen::TrackingLookup {
        code: tracking::normalize(&form.tracking_code),
        id_number: digits(&form.id_number),
        client: client.0,
    };
    let view = citizen::track(&state.app, &province.db, lookup).await?;
    Ok(HttpResponse::Ok().json(view))
}
