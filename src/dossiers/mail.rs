//! What the citizen is told at each step, in the language of the dossier.

use super::store::DossierRow;
use crate::lang::Lang;
use crate::notify::messages::MailContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A new dossier was received.
    Received,
    /// The status changed (any move other than submission).
    StatusChanged,
    /// The result is ready (resolved or returned).
    ResultReady,
    /// The deadline was extended: an apology with the new date.
    Extended,
    /// The fee was received: the amount and the e-receipt.
    FeePaid,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Received => "dossier_received",
            MailKind::StatusChanged => "dossier_status",
            MailKind::ResultReady => "dossier_result",
            MailKind::Extended => "dossier_extended",
            MailKind::FeePaid => "dossier_fee_paid",
        }
    }
}

/// Subject and plain-text body for one dossier event.
pub fn dossier_mail(
    kind: MailKind,
    d: &DossierRow,
    procedure_name: &str,
    note: Option<&str>,
    ctx: &MailContext,
) -> (String, String) {
    let lang = d.lang();
    let status = d.status.label(lang);
    let link = format!("{}/dossiers/{}", ctx.site_url, d.tracking_code);
    let due = d.due_on.map(|d| d.format("%d/%m/%Y").to_string());
    let note_line = note
        .filter(|n| !n.trim().is_empty())
        .map(|n| match lang {
            Lang::Vi => format!("\nGhi chú của cán bộ: {n}\n"),
            Lang::En => format!("\nNote from the officer: {n}\n"),
        })
        .unwrap_or_default();
    // A fee asked: the amount and where to choose how to pay it.
    let fee_line = match (kind, d.status) {
        (MailKind::StatusChanged, super::status::Status::PaymentRequested) => {
            let amount = crate::billing::money::Vnd(d.fee_vnd);
            match lang {
                Lang::Vi => format!(
                    "Lệ phí cần nộp: {amount}.\nChọn cách nộp (thẻ, ví điện tử, chuyển khoản VietQR hoặc tại bộ phận một cửa): {link}/pay\n"
                ),
                Lang::En => format!(
                    "Fee to pay: {amount}.\nChoose how to pay (card, e-wallet, VietQR bank transfer or at the service desk): {link}/pay\n"
                ),
            }
        }
        _ => String::new(),
    };
    let paid = crate::billing::money::Vnd(d.fee_vnd);
    let code = &d.tracking_code;
    let name = &d.applicant_name;
    let province = &ctx.province;
    match (kind, lang) {
        (MailKind::Received, Lang::Vi) => (
            format!("[{province}] Đã nhận hồ sơ {code}"),
            format!(
                "Kính gửi {name},\n\n{province} đã nhận hồ sơ \"{procedure_name}\" của Ông/Bà.\n\
                 Mã hồ sơ: {code}\n\nÔng/Bà có thể theo dõi tiến độ tại {link}\n\
                 hoặc tra cứu không cần đăng nhập bằng mã hồ sơ và số định danh cá nhân.\n\n\
                 Trân trọng,\n{province}\n"
            ),
        ),
        (MailKind::Received, Lang::En) => (
            format!("[{province}] Dossier {code} received"),
            format!(
                "Dear {name},\n\n{province} has received your dossier \"{procedure_name}\".\n\
                 Tracking code: {code}\n\nFollow it at {link}\n\
                 or look it up without signing in with the code and your citizen ID number.\n\n\
                 Kind regards,\n{province}\n"
            ),
        ),
        (MailKind::StatusChanged, Lang::Vi) => (
            format!("[{province}] Hồ sơ {code}: {status}"),
            format!(
                "Kính gửi {name},\n\nHồ sơ {code} (\"{procedure_name}\") chuyển sang trạng thái: {status}.\n{note_line}{fee_line}{}\n\
                 Chi tiết: {link}\n\nTrân trọng,\n{province}\n",
                due.map(|d| format!("Hạn trả kết quả: {d}\n"))
                    .unwrap_or_default()
            ),
        ),
        (MailKind::StatusChanged, Lang::En) => (
            format!("[{province}] Dossier {code}: {status}"),
            format!(
                "Dear {name},\n\nDossier {code} (\"{procedure_name}\") is now: {status}.\n{note_line}{fee_line}{}\n\
                 Details: {link}\n\nKind regards,\n{province}\n",
                due.map(|d| format!("Result due by: {d}\n"))
                    .unwrap_or_default()
            ),
        ),
        (MailKind::ResultReady, Lang::Vi) => (
            format!("[{province}] Hồ sơ {code} đã có kết quả"),
            format!(
                "Kính gửi {name},\n\nHồ sơ {code} (\"{procedure_name}\") đã có kết quả ({status}).\n{note_line}\n\
                 Chi tiết và cách nhận kết quả: {link}\n\
                 Mời Ông/Bà đánh giá mức độ hài lòng sau khi nhận kết quả.\n\nTrân trọng,\n{province}\n"
            ),
        ),
        (MailKind::ResultReady, Lang::En) => (
            format!("[{province}] Dossier {code}: result ready"),
            format!(
                "Dear {name},\n\nThe result of dossier {code} (\"{procedure_name}\") is ready ({status}).\n{note_line}\n\
                 Details and how to receive it: {link}\n\
                 Please rate the service once you have the result.\n\nKind regards,\n{province}\n"
            ),
        ),
        (MailKind::Extended, Lang::Vi) => (
            format!("[{province}] Xin lỗi: hồ sơ {code} được gia hạn"),
            format!(
                "Kính gửi {name},\n\n{province} chân thành xin lỗi Ông/Bà vì hồ sơ {code} (\"{procedure_name}\")\n\
                 chưa thể trả kết quả đúng hạn.\n{note_line}\nNgày hẹn trả kết quả mới: {}\n\n\
                 Chi tiết: {link}\n\nTrân trọng,\n{province}\n",
                due.unwrap_or_default()
            ),
        ),
        (MailKind::Extended, Lang::En) => (
            format!("[{province}] Apology: dossier {code} extended"),
            format!(
                "Dear {name},\n\n{province} sincerely apologises: dossier {code} (\"{procedure_name}\")\n\
                 cannot be completed on time.\n{note_line}\nNew date for the result: {}\n\n\
                 Details: {link}\n\nKind regards,\n{province}\n",
                due.unwrap_or_default()
            ),
        ),
        (MailKind::FeePaid, Lang::Vi) => (
            format!("[{province}] Đã nhận lệ phí {paid} của hồ sơ {code}"),
            format!(
                "Kính gửi {name},\n\n{province} đã nhận {paid} lệ phí của hồ sơ {code} (\"{procedure_name}\").\n\
                 Hồ sơ tiếp tục được xử lý ({status}).\n{note_line}\n\
                 Biên lai điện tử: {link}/fee-receipt\nChi tiết: {link}\n\nTrân trọng,\n{province}\n"
            ),
        ),
        (MailKind::FeePaid, Lang::En) => (
            format!("[{province}] Fee of {paid} received for dossier {code}"),
            format!(
                "Dear {name},\n\n{province} has received the fee of {paid} for dossier {code} (\"{procedure_name}\").\n\
                 The dossier is being processed again ({status}).\n{note_line}\n\
                 Electronic receipt: {link}/fee-receipt\nDetails: {link}\n\nKind regards,\n{province}\n"
            ),
        ),
    }
}
