//! The words of the receipts' pages (the dossier receipt's hashes and QR code, the fee
//! e-receipt and its void), Vietnamese then English. `staff_strings.rs` falls back to this, and this to
//! `console_strings.rs`.

/// `(vi, en)` for a key; `("", "")` when unknown.
pub(super) fn lookup(key: &str) -> (&'static str, &'static str) {
    match key {
        "expected_due" => (
            "Ngày hẹn trả kết quả (dự kiến)",
            "Expected date of the result",
        ),
        "expected_due_hint" => (
            "Tính từ ngày nộp theo thời hạn giải quyết của thủ tục, không kể ngày nghỉ; ngày hẹn chính thức được ghi khi hồ sơ được tiếp nhận.",
            "Counted from the filing date by the procedure's time limit in working days; the official date is set when the dossier is accepted.",
        ),
        "fee_receipt_link" => ("Biên lai thu phí, lệ phí", "Fee receipt"),
        "fee_receipt_title" => (
            "Biên lai thu phí, lệ phí điện tử",
            "Electronic receipt of fees and charges",
        ),
        "paper_size" => ("Khổ giấy in", "Paper size"),
        "fee_receipt_template" => ("Mẫu số", "Template"),
        "fee_receipt_symbol" => ("Ký hiệu", "Symbol"),
        "fee_receipt_number" => ("Số", "Number"),
        "fee_receipt_replaces" => (
            "Biên lai này thay thế biên lai đã hủy",
            "This receipt replaces the voided receipt",
        ),
        "fee_receipt_payer" => ("Người nộp", "Payer"),
        "fee_receipt_for" => ("Nội dung thu", "For"),
        "fee_receipt_amount" => ("Số tiền", "Amount"),
        "fee_receipt_in_words" => ("Số tiền bằng chữ", "Amount in words"),
        "fee_receipt_basis" => ("Căn cứ thu", "Legal basis"),
        "fee_receipt_method" => ("Hình thức nộp", "Paid by"),
        "fee_receipt_issued_on" => ("Ngày lập", "Issued on"),
        "fee_receipt_collector" => ("Đơn vị thu", "Collected by"),
        "fee_receipt_e_signed" => ("(Biên lai điện tử)", "(Electronic receipt)"),
        "fee_paid_online" => ("Thanh toán trực tuyến", "Online payment"),
        "fee_paid_counter" => ("Nộp tại bộ phận một cửa", "Paid at the service desk"),
        "fee_receipt_voided" => ("Biên lai đã hủy", "Voided receipts"),
        "fee_receipt_voided_at" => ("hủy lúc", "voided at"),
        "fee_receipt_void" => ("Hủy và lập biên lai thay thế", "Void and replace"),
        "fee_receipt_void_title" => ("Hủy biên lai", "Void receipt"),
        "fee_receipt_void_what" => (
            "Biên lai này sẽ bị hủy và không thể khôi phục. Một biên lai thay thế được lập ngay với số tiếp theo, ghi rõ thay thế biên lai này; số đã cấp không bị xóa. Việc hủy được ghi nhật ký với tên bạn và lý do.",
            "This receipt will be voided, which cannot be undone. A replacement is issued at once with the next number and names this receipt; no number is erased. The void is logged with your name and the reason.",
        ),
        "fee_receipt_void_reason" => ("Lý do hủy", "Reason for the void"),
        "fee_receipt_void_reason_hint" => (
            "Bắt buộc, tối đa 500 ký tự, ví dụ: sai họ tên người nộp.",
            "Required, at most 500 characters, e.g. the payer's name was misspelt.",
        ),
        "fee_receipt_void_confirm" => (
            "Xác nhận hủy và lập biên lai thay thế",
            "Confirm: void and issue a replacement",
        ),
        "cancel" => ("Không hủy, quay lại", "Keep it, go back"),
        "sha256_label" => ("Mã băm SHA-256", "SHA-256 hash"),
        "documents_on_paper" => (
            "Giấy tờ nộp bản giấy theo thành phần hồ sơ",
            "Documents handed over on paper, as the procedure lists them",
        ),
        "tracking_qr" => (
            "Quét mã QR để tra cứu hồ sơ",
            "Scan the QR code to follow the dossier",
        ),
        _ => super::console_strings::lookup(key),
    }
}
