//! One dossier for staff: its answers, documents, history and due date, one form per move the
//! status allows (made in `moves.rs`), and its files as downloads.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::queue::{assignee_text, competent_text, due_flag, received_text};
use super::{action_label, layout};
use crate::app::workspace::{ActedBy, Desk};
use crate::app::{self, App};
use crate::catalog;
use crate::dossiers::attachments::AttachmentMeta;
use crate::dossiers::documents::{self, MissingDocument};
use crate::dossiers::status::{Action, Actor, moves_from};
use crate::dossiers::store::{DossierRow, EventRow};
use crate::dossiers::view::procedure_name;
use crate::error::{AppError, FieldErrors};
use crate::lang::{Lang, Msg};
use crate::tenancy::branding::Branding;
use crate::web::AppState;
use crate::web::extract::StaffUser;
use crate::web::pages::{Layout, tr};
use crate::web::province::citizen_pages::view::{self, ErrorLink, OptionView, date, local_time};
use crate::web::province::dossier_api::file_response;
use crate::web::session::{self, Csrf, PageStaff};

/// One control of a move's form; `id` is unique on the page (`{action}-{name}`).
pub struct InputView {
    pub id: String,
    pub name: &'static str,
    /// `textarea`, `date` or `money`.
    pub kind: &'static str,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub error: String,
}

impl InputView {
    /// `aria-describedby`: the hint, then the error, when present.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.id));
        }
        if !self.error.is_empty() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }
}

/// The form of one move.
pub struct MoveForm {
    pub action: String,
    pub label: String,
    pub hint: String,
    pub inputs: Vec<InputView>,
    /// Ends the dossier against the citizen's wish (refuse, stop): a warning button.
    pub warning: bool,
    /// Refuse and request_supplement: rows of what is missing or wrong (item, problem, note).
    pub rows: Vec<usize>,
    /// A second supplement request by a head of unit: the reason field.
    pub override_reason: bool,
}

pub struct EventLine {
    pub action: String,
    pub status: String,
    pub at: String,
    pub at_iso: String,
    pub by: String,
    pub note: String,
}

pub struct FileLine {
    pub name: String,
    pub size: String,
    pub href: String,
    /// Where the browser shows it inline (PDF and images), else empty.
    pub view: String,
    /// `pdf`, `image` or empty.
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "staff/dossier.html")]
struct ManagedDossierPage {
    layout: Layout,
    errors: Vec<ErrorLink>,
    /// After a move: what was done, for the notice.
    done: String,
    code: String,
    procedure_name: String,
    status: String,
    status_key: String,
    flag: String,
    applicant: String,
    id_number: String,
    channel: String,
    contact: String,
    submitted: String,
    due: String,
    fee: String,
    extended: bool,
    /// Links to the fee e-receipt.
    fee_receipt: bool,
    /// The fee's payment, once a fee was asked.
    payment: Option<super::fee_payment::PaymentView>,
    forms: Vec<MoveForm>,
    history: Vec<EventLine>,
    files: Vec<FileLine>,
    /// Required documents not attached yet (`accept` is refused until they are).
    missing: Vec<MissingDocument>,
    answers: Vec<(String, String)>,
    /// Received here, decided by another unit: only the receipt part, and why.
    receipt_only: String,
    received_at: String,
    competent: String,
    assignee: String,
    /// Heads of unit and admins: the transfer and assign forms.
    leads: bool,
    transfer_units: Vec<OptionView>,
    assignees: Vec<OptionView>,
    transfer_error: String,
    assign_error: String,
    /// The items of the procedure a deficiency row may name, and the five problems.
    items: Vec<OptionView>,
    problems: Vec<OptionView>,
    /// The attached result, and whether one may be attached now (processing, resolved).
    result: Option<crate::dossiers::results::ResultRow>,
    result_open: bool,
    rt: ResultTexts,
}

/// The texts of the result section and the deficiency rows.
pub struct ResultTexts {
    pub title: &'static str,
    pub hint: &'static str,
    pub file: &'static str,
    pub or_paper: &'static str,
    pub decision: &'static str,
    pub pickup: &'static str,
    pub attach: &'static str,
    pub code: &'static str,
    pub none: &'static str,
    pub row: &'static str,
    pub item: &'static str,
    pub problem: &'static str,
    pub note: &'static str,
    pub override_reason: &'static str,
}

impl ResultTexts {
    fn new(lang: Lang) -> ResultTexts {
        let t = |vi: &'static str, en: &'static str| match lang {
            Lang::Vi => vi,
            Lang::En => en,
        };
        ResultTexts {
            title: t("Kết quả giải quyết", "Result"),
            hint: t(
                "Đính kèm kết quả trước khi trả: bản điện tử đã ký số (PDF), hoặc số quyết định và nơi nhận bản giấy.",
                "Attach the result before returning it: the signed e-copy (PDF), or the decision number and where to collect the paper.",
            ),
            file: t("Bản điện tử (PDF đã ký số)", "E-copy (signed PDF)"),
            or_paper: t("Hoặc kết quả giấy", "Or a paper result"),
            decision: t("Số quyết định", "Decision number"),
            pickup: t(
                "Nơi, thời gian nhận kết quả",
                "Where and when to collect it",
            ),
            attach: t("Đính kèm kết quả", "Attach the result"),
            code: t("Mã xác thực", "Verification code"),
            none: t("Chưa đính kèm kết quả.", "No result attached yet."),
            row: t("Mục", "Row"),
            item: t("Trường hoặc giấy tờ", "Field or document"),
            problem: t("Vấn đề", "Problem"),
            note: t("Ghi chú", "Note"),
            override_reason: t(
                "Lý do yêu cầu bổ sung lần nữa (trưởng đơn vị)",
                "Why a second supplement is needed (head of unit)",
            ),
        }
    }
}

/// A refused move: what was typed in its form, and why it was refused.
#[derive(Default)]
pub(super) struct Attempt {
    pub(super) action: Option<Action>,
    pub(super) note: String,
    pub(super) due_on: String,
    pub(super) fee_vnd: String,
    pub(super) errors: FieldErrors,
    /// A refusal that is not about a field (409): shown at the top of the moves.
    pub(super) conflict: Option<Msg>,
    /// A refused transfer (`unit_code`) or assignment (`assignee_id`).
    pub(super) unit_errors: FieldErrors,
    /// A refused result (`file`, `decision_number`, `pickup`).
    pub(super) result_errors: FieldErrors,
}

pub(super) struct Loaded {
    branding: Branding,
    dossier: DossierRow,
    events: Vec<EventRow>,
    files: Vec<AttachmentMeta>,
    receipt_only: bool,
    desk: Desk,
    result: Option<crate::dossiers::results::ResultRow>,
    /// The fee receipt in force (the page links to it).
    fee_receipt: Option<crate::dossiers::fee_receipts::FeeReceiptView>,
    /// Where the fee stands.
    fee: Option<crate::payments::state::FeeState>,
}

pub(super) async fn load(app: &App, staff: &StaffUser, code: &str) -> Result<Loaded, AppError> {
    let tenant = &staff.province.tenant;
    let found = app::staff::dossier(app, &staff.actor(), tenant, code).await?;
    Ok(Loaded {
        branding: app::province_admin::branding(app, tenant).await?,
        dossier: found.dossier,
        events: found.events,
        files: found.files,
        receipt_only: found.receipt_only,
        desk: found.desk,
        result: found.result,
        fee_receipt: found.fee_receipt,
        fee: found.fee,
    })
}

/// The forms of the moves staff may make from the dossier's status (the contract's table).
fn move_forms(
    d: &DossierRow,
    events: &[EventRow],
    leads: bool,
    attempt: &Attempt,
    lang: Lang,
) -> Vec<MoveForm> {
    let asked_before = events.iter().any(|e| e.action == "request_supplement");
    moves_from(d.status(), Actor::Staff)
        .map(|rule| {
            let action = rule.action;
            let key = action.as_str();
            let mine = attempt.action == Some(action);
            let input = |name: &'static str, kind: &'static str, value: &str, hint: &str| {
                let error = if mine {
                    attempt
                        .errors
                        .get(name)
                        .map(|m| m.get(lang).to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                InputView {
                    id: format!("{key}-{name}"),
                    name,
                    kind,
                    label: tr(lang, &format!("move_{name}")).to_string(),
                    hint: hint.to_string(),
                    value: value.to_string(),
                    error,
                }
            };
            let mut inputs = Vec::new();
            if action == Action::RequestPayment {
                let fee = if mine {
                    attempt.fee_vnd.clone()
                } else {
                    catalog::national()
                        .get(&d.procedure_code)
                        .map(|p| p.fee_vnd.to_string())
                        .unwrap_or_default()
                };
                inputs.push(input("fee_vnd", "money", &fee, tr(lang, "move_fee_hint")));
            }
            if action == Action::Extend {
                let value = if mine { attempt.due_on.as_str() } else { "" };
                let hint = match d.due_on {
                    Some(due) => format!("{} {}.", tr(lang, "move_due_hint"), date(due)),
                    None => tr(lang, "date_hint").to_string(),
                };
                inputs.push(input("due_on", "date", value, &hint));
            }
            if rule.note_required {
                let value = if mine { attempt.note.as_str() } else { "" };
                inputs.push(input("note", "textarea", value, tr(lang, "move_note_hint")));
            }
            let reasoned = matches!(action, Action::Refuse | Action::RequestSupplement);
            MoveForm {
                rows: if reasoned {
                    (0..3).collect()
                } else {
                    Vec::new()
                },
                override_reason: action == Action::RequestSupplement && asked_before && leads,
                label: action_label(&key, lang),
                hint: tr(lang, &format!("act_{key}_hint")).to_string(),
                warning: matches!(action, Action::Refuse | Action::Stop),
                action: key,
                inputs,
            }
        })
        .collect()
}

/// Who acted, as the history says it: the staff member's name and role, "Công dân", or
/// "Hệ thống" for the background jobs.
fn actor_words(by: ActedBy, lang: Lang) -> String {
    match by {
        ActedBy::Staff { name, role } => format!("{name} ({})", role.label(lang)),
        ActedBy::FormerStaff => tr(lang, "by_staff").to_string(),
        ActedBy::Citizen => tr(lang, "by_citizen").to_string(),
        ActedBy::System => tr(lang, "by_system").to_string(),
    }
}

/// Whether the browser can show a file inline safely (PDF in a frame, images).
fn inline_kind(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => "image",
        _ => "",
    }
}

pub(super) fn render(
    req: &HttpRequest,
    staff: &StaffUser,
    csrf: &Csrf,
    lang: Lang,
    loaded: Loaded,
    attempt: Attempt,
    done: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let Loaded {
        branding,
        dossier: d,
        events,
        files,
        receipt_only,
        desk,
        result,
        fee_receipt,
        fee,
    } = loaded;
    let payment = fee
        .as_ref()
        .map(|f| super::fee_payment::payment_view(f, fee_receipt.as_ref(), lang));
    let forms = move_forms(&d, &events, staff.account.role.leads(), &attempt, lang);
    let missing = documents::missing_for_view(&d, &files, lang);
    let mut errors = Vec::new();
    if let Some(msg) = &attempt.conflict {
        errors.push(ErrorLink {
            href: "#actions".into(),
            message: msg.get(lang).to_string(),
        });
    }
    if let Some(msg) = attempt.errors.get("action") {
        errors.push(ErrorLink {
            href: "#actions".into(),
            message: msg.get(lang).to_string(),
        });
    }
    if let Some(action) = attempt.action {
        let label = action_label(&action.as_str(), lang);
        for (name, m) in attempt
            .errors
            .iter()
            .filter(|(k, _)| k.starts_with("deficiencies") || *k == "override_reason")
        {
            // `deficiencies[1].problem` → the row's select, `#refuse-problem-1`.
            let (row, part) = name
                .strip_prefix("deficiencies[")
                .and_then(|r| r.split_once("]."))
                .unwrap_or((
                    "0",
                    if name == "override_reason" {
                        "override"
                    } else {
                        "item"
                    },
                ));
            errors.push(ErrorLink {
                href: format!("#{}-{part}-{row}", action.as_str()),
                message: format!("{label}: {}", m.get(lang)),
            });
        }
        for name in ["fee_vnd", "due_on", "note"] {
            if let Some(m) = attempt.errors.get(name) {
                errors.push(ErrorLink {
                    href: format!("#{}-{name}", action.as_str()),
                    message: format!("{label}: {}", m.get(lang)),
                });
            }
        }
    }
    for (name, m) in &attempt.result_errors {
        errors.push(ErrorLink {
            href: format!("#result-{name}"),
            message: m.get(lang).to_string(),
        });
    }
    for (name, anchor) in [
        ("unit_code", "#transfer-unit"),
        ("assignee_id", "#assign-to"),
    ] {
        if let Some(m) = attempt.unit_errors.get(name) {
            errors.push(ErrorLink {
                href: anchor.into(),
                message: m.get(lang).to_string(),
            });
        }
    }
    let status_code = match (&attempt.conflict, errors.is_empty()) {
        (Some(_), _) => StatusCode::CONFLICT,
        (None, false) => StatusCode::UNPROCESSABLE_ENTITY,
        (None, true) => StatusCode::OK,
    };
    let procedure = catalog::national().get(&d.procedure_code);
    let fee = match (d.fee_vnd, procedure) {
        (0, Some(p)) => p.fee_vnd,
        (amount, _) => amount,
    };
    let answers_map = d.answers.as_object().cloned().unwrap_or_default();
    let answers = procedure
        .map(|p| {
            p.fields
                .iter()
                .filter(|f| answers_map.contains_key(&f.name))
                .map(|f| {
                    let raw = match answers_map.get(&f.name) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    (
                        f.label.get(lang).to_string(),
                        view::answer_text(f, &raw, lang),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let extended = events.iter().any(|e| e.action == "extend");
    let history = events
        .into_iter()
        .map(|e| EventLine {
            action: action_label(&e.action, lang),
            status: crate::dossiers::status::Status::parse(&e.status)
                .map_or_else(|_| e.status.clone(), |s| s.label(lang).to_string()),
            at: local_time(e.at),
            at_iso: e.at.to_rfc3339(),
            by: actor_words(desk.acted_by(&e.actor), lang),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    let files = files
        .into_iter()
        .map(|f| {
            let href = format!("/manage/dossiers/{}/files/{}", d.tracking_code, f.id);
            let kind = inline_kind(&f.content_type);
            FileLine {
                view: if kind.is_empty() {
                    String::new()
                } else {
                    format!("{href}/view")
                },
                kind,
                href,
                size: view::human_size(f.size.unsigned_abs()),
                name: f.name,
            }
        })
        .collect();
    let leads = staff.account.role.leads() && !receipt_only && !d.status().is_final();
    let current_unit = d.competent_unit.clone().unwrap_or_default();
    let transfer_units = if leads {
        desk.deciders(&d.procedure_code)
            .0
            .into_iter()
            .filter(|u| u.code.as_str() != current_unit)
            .map(|u| OptionView {
                id: format!("unit-{}", u.code),
                value: u.code.to_string(),
                label: u.name.clone(),
                selected: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    let assignees = if leads {
        desk.assignable(d.competent_unit.as_deref())
            .into_iter()
            .map(|m| OptionView {
                id: format!("assignee-{}", m.id.0),
                value: m.id.0.to_string(),
                label: format!("{} ({})", m.full_name, m.role.label(lang)),
                selected: d.assignee_id == Some(m.id.0),
            })
            .collect()
    } else {
        Vec::new()
    };
    let unit_error = |k: &str| {
        attempt
            .unit_errors
            .get(k)
            .map(|m| m.get(lang).to_string())
            .unwrap_or_default()
    };
    let items = std::iter::once(OptionView {
        id: String::new(),
        value: crate::dossiers::deficiencies::WHOLE_DOSSIER.into(),
        label: Msg::new("Hồ sơ (chung)", "The dossier (general)")
            .get(lang)
            .to_string(),
        selected: false,
    })
    .chain(procedure.into_iter().flat_map(|p| {
        p.fields.iter().map(|f| OptionView {
            id: String::new(),
            value: f.name.clone(),
            label: f.label.get(lang).to_string(),
            selected: false,
        })
    }))
    .collect();
    let problems = crate::dossiers::deficiencies::Problem::ALL
        .into_iter()
        .map(|p| OptionView {
            id: String::new(),
            value: p.as_str().into(),
            label: p.label(lang).into(),
            selected: false,
        })
        .collect();
    let result_open = !receipt_only
        && matches!(
            d.status(),
            crate::dossiers::status::Status::Processing | crate::dossiers::status::Status::Resolved
        );
    let page = ManagedDossierPage {
        items,
        problems,
        result,
        result_open,
        rt: ResultTexts::new(lang),
        layout: layout(req, &branding, csrf, staff),
        errors,
        done: match done {
            Some("transfer_received") => tr(lang, "transfer_received_done").to_string(),
            Some(a) => format!("{}: {}", tr(lang, "done"), action_label(a, lang)),
            None => String::new(),
        },
        procedure_name: procedure_name(&d.procedure_code, lang),
        status: d.status().label(lang).to_string(),
        status_key: d.status().as_str().to_string(),
        flag: due_flag(&d),
        applicant: d.applicant_name.clone(),
        id_number: d.applicant_id_number.clone(),
        channel: tr(lang, &format!("channel_{}", d.channel)).to_string(),
        contact: d.contact_email.clone().unwrap_or_default(),
        submitted: local_time(d.submitted_at),
        due: d
            .due_on
            .map_or_else(|| tr(lang, "not_yet").to_string(), date),
        fee: view::vnd(fee, lang),
        extended,
        fee_receipt: fee_receipt.is_some(),
        payment,
        forms,
        history,
        files,
        missing,
        answers,
        receipt_only: if receipt_only {
            format!(
                "{} {}.",
                tr(lang, "receipt_only_why"),
                competent_text(&d, &desk, lang)
            )
        } else {
            String::new()
        },
        received_at: received_text(&d, &desk, lang),
        competent: competent_text(&d, &desk, lang),
        assignee: assignee_text(&d, &desk),
        leads,
        transfer_units,
        assignees,
        transfer_error: unit_error("unit_code"),
        assign_error: unit_error("assignee_id"),
        code: d.tracking_code,
    };
    session::page(req, status_code, &page, csrf)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

#[get("/manage/dossiers/{code}")]
pub async fn show_managed_dossier(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    csrf: Csrf,
    lang: Lang,
    code: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let loaded = load(&state, &staff, &code).await?;
    let done = query.done.as_deref().filter(|d| {
        Action::parse(d).is_some() || matches!(*d, "transfer" | "assign" | "transfer_received")
    });
    render(&req, &staff, &csrf, lang, loaded, Attempt::default(), done)
}

/// Any file of a dossier of this province, as a download.
#[get("/manage/dossiers/{code}/files/{id}")]
pub async fn download_managed_file(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    path: web::Path<(String, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let (code, id) = path.into_inner();
    let (meta, bytes) =
        app::staff::attachment(&state, &staff.actor(), &staff.province.tenant, &code, id).await?;
    Ok(file_response(&meta, bytes))
}

/// A PDF or an image of a dossier of this province, shown inline in the dossier page's frame
/// (this site only may frame it); any other type stays a download.
#[get("/manage/dossiers/{code}/files/{id}/view")]
pub async fn view_managed_file(
    req: HttpRequest,
    who: PageStaff,
    state: web::Data<AppState>,
    path: web::Path<(String, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    let Some(staff) = who.0 else {
        return Ok(session::to_sign_in(&req));
    };
    let (code, id) = path.into_inner();
    let (meta, bytes) =
        app::staff::attachment(&state, &staff.actor(), &staff.province.tenant, &code, id).await?;
    if inline_kind(&meta.content_type).is_empty() {
        return Ok(file_response(&meta, bytes));
    }
    Ok(HttpResponse::Ok()
        .content_type(meta.content_type.as_str())
        .insert_header(("Content-Disposition", "inline"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Frame-Options", "SAMEORIGIN"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes))
}
