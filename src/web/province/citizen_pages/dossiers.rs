//! My dossiers: the list, the confirmation after submitting, one dossier with its history and
//! files, withdrawing, and downloading a file. Owner only; anyone else gets 404.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::apply::answer_str;
use super::replies::{self, Attempt, Replies};
use super::view::ErrorLink;
use super::view::{self, date, local_time};
use super::{CsrfForm, branding, layout};
use crate::accounts::citizens::Citizen;
use crate::app::citizen;
use crate::catalog;
use crate::dossiers::moves::Move;
use crate::dossiers::status::{Action, Actor, next};
use crate::dossiers::tracking;
use crate::dossiers::view::procedure_name;
use crate::error::AppError;
use crate::lang::Lang;
use crate::web::AppState;
use crate::web::extract::Province;
use crate::web::pages::{Layout, tr};
use crate::web::province::dossier_api::{file_response, move_context};
use crate::web::session::{self, Csrf, PageCitizen};

struct DossierLine {
    code: String,
    procedure: String,
    status: String,
    status_key: String,
    submitted: String,
    due: String,
}

/// A dossier of the citizen's moved to another province with its unit (#18).
struct MovedLine {
    code: String,
    province: String,
    url: String,
    moved_on: String,
}

#[derive(Template)]
#[template(path = "citizen/my_dossiers.html")]
struct MyDossiersPage {
    layout: Layout,
    dossiers: Vec<DossierLine>,
    moved: Vec<MovedLine>,
}

#[get("/dossiers")]
pub async fn list_dossiers(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let rows = citizen::my_dossiers(&province.db, citizen.id).await?;
    let moved = citizen::moved_away(&state, &province.tenant, citizen.id)
        .await?
        .into_iter()
        .map(|m| MovedLine {
            url: format!("{}/dossiers/{}", state.province_url(&m.province), m.code),
            province: m.province.name.clone(),
            moved_on: date(m.moved_on),
            code: m.code,
        })
        .collect();
    let branding = branding(&req, &province).await?;
    let dossiers = rows
        .into_iter()
        .map(|d| DossierLine {
            procedure: procedure_name(&d.procedure_code, lang),
            status: d.status().label(lang).to_string(),
            submitted: local_time(d.submitted_at),
            due: d.due_on.map(date).unwrap_or_default(),
            status_key: d.status.as_str().to_string(),
            code: d.tracking_code,
        })
        .collect();
    let page = MyDossiersPage {
        layout: layout(&req, &branding, &csrf, Some(&citizen)),
        dossiers,
        moved,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

#[derive(Template)]
#[template(path = "citizen/confirmation.html")]
struct ConfirmationPage {
    layout: Layout,
    code: String,
    procedure_name: String,
    email: String,
    agency: String,
    days: u32,
}

/// After submitting: the tracking code, large, and what happens next.
#[get("/dossiers/{code}/confirmation")]
pub async fn show_confirmation(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = tracking::normalize(&code);
    let d = citizen::mine(&province.db, citizen.id, code).await?;
    let branding = branding(&req, &province).await?;
    let procedure = catalog::national().get(&d.procedure_code);
    let page = ConfirmationPage {
        layout: layout(&req, &branding, &csrf, Some(&citizen)),
        procedure_name: procedure_name(&d.procedure_code, lang),
        email: d.contact_email.clone().unwrap_or_default(),
        agency: procedure
            .map(|p| p.agency.get(lang).to_string())
            .unwrap_or_default(),
        days: procedure.map_or(0, |p| p.processing_days),
        code: d.tracking_code,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

struct EventLine {
    status: String,
    at: String,
    at_iso: String,
    note: String,
}

/// The result as the citizen's page shows it: the e-copy or the paper's pickup, the code, the
/// QR code to the public verify page.
struct ResultLine {
    kind: &'static str,
    file_name: String,
    href: String,
    decision_number: String,
    pickup: String,
    verification_code: String,
    sha256: String,
    issued_on: String,
    verify_url: String,
    qr: Option<crate::web::qr::QrSvg>,
}

/// One row of what is missing or wrong, named as the form names it.
struct DeficiencyLine {
    item: String,
    problem: String,
    note: String,
}

struct FileLine {
    name: String,
    size: String,
    href: String,
}

#[derive(Template)]
#[template(path = "citizen/dossier.html")]
struct DossierPage {
    layout: Layout,
    code: String,
    procedure_name: String,
    status: String,
    status_key: String,
    submitted: String,
    due: String,
    fee: String,
    answers: Vec<(String, String)>,
    history: Vec<EventLine>,
    files: Vec<FileLine>,
    can_withdraw: bool,
    /// A refused reply (supplement, payment, rating), for the error summary.
    errors: Vec<ErrorLink>,
    /// What the citizen may do now: supplement, pay, rate; the apology letter.
    replies: Replies,
    result: Option<ResultLine>,
    /// While a supplement is asked for, or after a refusal: what to put right.
    deficiencies: Vec<DeficiencyLine>,
    t: ResultTexts,
}

/// The texts of the result and deficiency sections.
struct ResultTexts {
    result_title: &'static str,
    download: &'static str,
    decision: &'static str,
    pickup: &'static str,
    code: &'static str,
    issued: &'static str,
    verify: &'static str,
    qr_label: &'static str,
    deficiencies_title: &'static str,
    item: &'static str,
    problem: &'static str,
    note: &'static str,
}

impl ResultTexts {
    fn new(lang: Lang) -> ResultTexts {
        let t = |vi: &'static str, en: &'static str| match lang {
            Lang::Vi => vi,
            Lang::En => en,
        };
        ResultTexts {
            result_title: t("Kết quả", "Result"),
            download: t("Tải bản điện tử (PDF)", "Download the e-copy (PDF)"),
            decision: t("Số quyết định", "Decision number"),
            pickup: t("Nơi nhận kết quả", "Where to collect it"),
            code: t("Mã xác thực", "Verification code"),
            issued: t("Ngày cấp", "Issued on"),
            verify: t("Trang xác thực công khai", "Public verification page"),
            qr_label: t(
                "Mã QR dẫn đến trang xác thực kết quả",
                "QR code to the result's verification page",
            ),
            deficiencies_title: t("Những mục cần bổ sung, sửa", "What to put right"),
            item: t("Mục", "Item"),
            problem: t("Vấn đề", "Problem"),
            note: t("Ghi chú", "Note"),
        }
    }
}

#[get("/dossiers/{code}")]
pub async fn show_dossier(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = tracking::normalize(&code);
    let attempt = Attempt::default();
    render_dossier(&req, &province, &state, &citizen, &csrf, code, attempt).await
}

/// The dossier page, with a refused reply's values and errors (and its status) when given.
pub(super) async fn render_dossier(
    req: &HttpRequest,
    province: &Province,
    state: &AppState,
    citizen: &Citizen,
    csrf: &Csrf,
    code: String,
    attempt: Attempt,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(req);
    let citizen::OwnDossier {
        dossier: d,
        events,
        files,
        rating,
        result,
    } = citizen::own_dossier(&province.db, citizen.id, code).await?;
    let branding = branding(req, province).await?;
    let replies = replies::build(&d, &events, rating, &attempt, state, lang);
    let errors = replies::error_links(&d, &attempt, lang);
    let status = d.status();
    let procedure = catalog::national().get(&d.procedure_code);
    let fee = d.fee_shown();
    let answers_map = d.answers.as_object().cloned().unwrap_or_default();
    let answers = procedure
        .map(|p| {
            p.fields
                .iter()
                .filter(|f| answers_map.contains_key(&f.name))
                .map(|f| {
                    let raw = answer_str(&answers_map, &f.name);
                    (
                        f.label.get(lang).to_string(),
                        view::answer_text(f, &raw, lang),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let deficiencies = crate::dossiers::view::open_deficiencies(d.status(), &events)
        .into_iter()
        .map(|x| DeficiencyLine {
            item: x.item_label(procedure, lang),
            problem: x.problem.label(lang).to_string(),
            note: x.note.unwrap_or_default(),
        })
        .collect();
    let site_url = crate::web::province::dossier_api::mail_context(province, state).site_url;
    let result = result.map(|r| {
        let verify_url = format!("{site_url}/verify/{}", r.verification_code);
        ResultLine {
            kind: r.kind.as_str(),
            file_name: r.file_name.unwrap_or_default(),
            href: format!("/dossiers/{}/result", d.tracking_code),
            decision_number: r.decision_number.unwrap_or_default(),
            pickup: r.pickup.unwrap_or_default(),
            sha256: r.sha256,
            issued_on: date(r.issued_on),
            qr: crate::web::qr::svg(&verify_url),
            verify_url,
            verification_code: r.verification_code,
        }
    });
    let history = events
        .into_iter()
        .map(|e| EventLine {
            status: crate::dossiers::status::Status::parse(&e.status)
                .map_or_else(|_| e.status.clone(), |s| s.label(lang).to_string()),
            at: local_time(e.at),
            at_iso: e.at.to_rfc3339(),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    let files = files
        .into_iter()
        .map(|f| FileLine {
            href: format!("/dossiers/{}/files/{}", d.tracking_code, f.id),
            size: view::human_size(f.size.unsigned_abs()),
            name: f.name,
        })
        .collect();
    let page = DossierPage {
        layout: layout(req, &branding, csrf, Some(citizen)),
        procedure_name: procedure_name(&d.procedure_code, lang),
        status: status.label(lang).to_string(),
        status_key: status.as_str().to_string(),
        submitted: local_time(d.submitted_at),
        due: d
            .due_on
            .map_or_else(|| tr(lang, "not_yet").to_string(), date),
        fee: view::vnd(fee, lang),
        answers,
        history,
        files,
        can_withdraw: next(status, Action::Withdraw, Actor::Citizen).is_ok(),
        errors,
        replies,
        result,
        deficiencies,
        t: ResultTexts::new(lang),
        code: d.tracking_code,
    };
    session::page(req, attempt.status, &page, csrf)
}

#[derive(Template)]
#[template(path = "citizen/withdraw.html")]
struct WithdrawPage {
    layout: Layout,
    code: String,
    procedure_name: String,
    status: String,
}

/// `GET /dossiers/{code}/withdraw`: what a withdrawal does, and the button that does it. Reads
/// only; a dossier that can no longer be withdrawn goes back to its page.
#[get("/dossiers/{code}/withdraw")]
pub async fn confirm_withdraw(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let code = tracking::normalize(&code);
    let d = citizen::mine(&province.db, citizen.id, code).await?;
    let status = d.status();
    if next(status, Action::Withdraw, Actor::Citizen).is_err() {
        return Ok(session::see_other(&format!(
            "/dossiers/{}",
            d.tracking_code
        )));
    }
    let lang = Lang::of(&req);
    let branding = branding(&req, &province).await?;
    let page = WithdrawPage {
        layout: layout(&req, &branding, &csrf, Some(&citizen)),
        procedure_name: procedure_name(&d.procedure_code, lang),
        status: status.label(lang).to_string(),
        code: d.tracking_code,
    };
    session::page(&req, StatusCode::OK, &page, &csrf)
}

/// Withdraws the dossier (the state machine decides whether it still may be), then shows it.
/// The page's button comes from [`confirm_withdraw`]; the move itself keeps its shape.
#[post("/dossiers/{code}/withdraw")]
pub async fn withdraw_dossier(
    req: HttpRequest,
    province: Province,
    state: web::Data<AppState>,
    who: PageCitizen,
    csrf: Csrf,
    code: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(form.csrf.as_deref())?;
    let code = tracking::normalize(&code);
    let Some(citizen) = who.0 else {
        return Ok(session::citizen_sign_in_then(
            &req,
            &format!("/dossiers/{code}"),
        ));
    };
    let cx = move_context(&province, &state).await?;
    let mv = Move::new(
        Action::Withdraw,
        Actor::Citizen,
        format!("citizen:{}", citizen.id),
    );
    citizen::citizen_move(&province.db, cx, citizen.id, code.clone(), mv, Lang::Vi).await?;
    // Its open payment page (Stripe Checkout) can no longer be paid.
    crate::app::fees::expire_open_sessions(&state, province.tenant.clone(), code.clone()).await;
    Ok(session::see_other(&format!("/dossiers/{code}")))
}

/// The e-copy of the citizen's own result, as `GET /api/v1/dossiers/{code}/result` serves it.
#[get("/dossiers/{code}/result")]
pub async fn download_result(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let code = tracking::normalize(&code);
    let (name, bytes) = crate::app::results::result_file(&province.db, citizen.id, code).await?;
    Ok(crate::web::province::dossier_api::download(
        &name,
        "application/pdf",
        bytes,
    ))
}

/// A file of the citizen's own dossier, always as a download (`nosniff`, no caching).
#[get("/dossiers/{code}/files/{id}")]
pub async fn download_file(
    req: HttpRequest,
    province: Province,
    who: PageCitizen,
    path: web::Path<(String, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    let Some(citizen) = who.0 else {
        return Ok(session::to_citizen_sign_in(&req));
    };
    let (code, id) = path.into_inner();
    let code = tracking::normalize(&code);
    let (meta, bytes) = citizen::download(&province.db, citizen.id, code, id).await?;
    Ok(file_response(&meta, bytes))
}
