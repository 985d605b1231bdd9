//! The words of the fee payment pages (choosing how to pay, the transfer's VietQR code, the
//! counter) and of the withdrawal's confirmation, Vietnamese then English.
//! `receipt_strings.rs` falls back to this.

/// `(vi, en)` for a key; `("", "")` when unknown.
pub(super) fn lookup(key: &str) -> (&'static str, &'static str) {
    match key {
        "admin_payment_account" => ("Tài khoản nhận lệ phí", "Fee account"),
        "account_lead" => (
            "Tài khoản ngân hàng nhận lệ phí chuyển khoản: mã VietQR trên trang thanh toán của công dân dẫn đến tài khoản này.",
            "The bank account that receives fees paid by transfer: the VietQR code on the citizens' pay page points to it.",
        ),
        "account_bank_bin" => ("Mã ngân hàng (BIN)", "Bank code (BIN)"),
        "account_bank_bin_hint" => (
            "6 chữ số theo danh sách NAPAS, ví dụ 970436 (Vietcombank).",
            "6 digits from the NAPAS list, e.g. 970436 (Vietcombank).",
        ),
        "account_account_number" => ("Số tài khoản", "Account number"),
        "account_account_number_hint" => (
            "4 đến 19 chữ số hoặc chữ cái.",
            "4 to 19 digits or letters.",
        ),
        "account_account_name" => ("Tên chủ tài khoản", "Account holder"),
        "account_account_name_hint" => (
            "Như ngân hàng in trên sao kê; dấu được bỏ tự động.",
            "As the bank prints it on statements; accents are removed for you.",
        ),
        "account_saved" => ("Đã lưu tài khoản nhận lệ phí.", "The fee account is saved."),
        "fee_paid_transfer" => ("Chuyển khoản", "Bank transfer"),
        "pay_choose" => ("Chọn cách thanh toán", "Choose how to pay"),
        "pay_page_title" => ("Thanh toán lệ phí", "Pay the fee"),
        "pay_back" => ("Quay lại hồ sơ", "Back to the dossier"),
        "pay_amount" => ("Số tiền", "Amount"),
        "pay_method" => ("Cách thanh toán", "How to pay"),
        "pay_card" => ("Thẻ hoặc ví điện tử", "Card or e-wallet"),
        "pay_card_hint" => (
            "Thanh toán qua cổng thanh toán của tỉnh; hồ sơ được xử lý tiếp ngay khi cổng xác nhận.",
            "Through the province's payment provider; the dossier moves on as soon as it confirms.",
        ),
        "pay_transfer" => ("Chuyển khoản ngân hàng (VietQR)", "Bank transfer (VietQR)"),
        "pay_transfer_hint" => (
            "Quét mã VietQR bằng ứng dụng ngân hàng, hoặc chuyển khoản với nội dung được cấp. Hồ sơ được xử lý tiếp khi tỉnh nhận được tiền.",
            "Scan the VietQR code with your banking app, or transfer with the reference given. The dossier moves on once the province receives the money.",
        ),
        "pay_counter" => ("Nộp tại bộ phận một cửa", "At the service desk"),
        "pay_counter_hint" => (
            "Nộp tiền mặt hoặc quẹt thẻ khi đến bộ phận một cửa của tỉnh.",
            "Pay in cash or by card in person at the province's one-stop desk.",
        ),
        "pay_nothing_yet" => (
            "Chưa có khoản tiền nào bị trừ: chỉ khi Ông/Bà bấm xác nhận dưới đây.",
            "Nothing is charged until you confirm below.",
        ),
        "pay_confirm" => ("Xác nhận thanh toán", "Confirm and pay"),
        "pay_not_now" => ("Để sau", "Not now"),
        "pay_open_transfer" => (
            "Ông/Bà đã chọn chuyển khoản: xem lại mã VietQR và nội dung chuyển khoản.",
            "You chose to pay by transfer: see its VietQR code and reference again.",
        ),
        "pay_other_method" => ("Chọn cách thanh toán khác", "Choose another way to pay"),
        "transfer_title" => ("Chuyển khoản lệ phí", "Pay the fee by transfer"),
        "transfer_lead" => (
            "Quét mã VietQR bằng ứng dụng ngân hàng: số tài khoản, số tiền và nội dung được điền sẵn.",
            "Scan the VietQR code with your banking app: the account, the amount and the reference are filled in for you.",
        ),
        "transfer_qr_label" => (
            "Mã VietQR chuyển khoản lệ phí",
            "VietQR code to transfer the fee",
        ),
        "transfer_reference" => ("Nội dung chuyển khoản", "Transfer reference"),
        "transfer_reference_hint" => (
            "Ghi đúng nội dung chuyển khoản và đúng số tiền: tỉnh đối chiếu sao kê theo nội dung và số tiền này.",
            "Use exactly this reference and this amount: the province matches its bank statement on them.",
        ),
        "transfer_account_number" => ("Số tài khoản", "Account number"),
        "transfer_account_name" => ("Chủ tài khoản", "Account holder"),
        "transfer_bank_bin" => ("Mã ngân hàng (BIN)", "Bank code (BIN)"),
        "transfer_after" => (
            "Khi tỉnh nhận được tiền, hồ sơ được xử lý tiếp và Ông/Bà nhận thư kèm biên lai điện tử.",
            "Once the province receives the money, the dossier moves on and you get an email with the e-receipt.",
        ),
        "counter_title" => (
            "Nộp lệ phí tại bộ phận một cửa",
            "Pay the fee at the service desk",
        ),
        "counter_lead" => (
            "Mang theo mã hồ sơ đến bộ phận một cửa; cán bộ thu lệ phí và cấp biên lai.",
            "Bring the tracking code to the one-stop desk; the officer takes the fee and issues the receipt.",
        ),
        "counter_address" => ("Địa chỉ", "Address"),
        "counter_hotline" => ("Đường dây nóng", "Hotline"),
        "withdraw_confirm_title" => ("Rút hồ sơ?", "Withdraw the application?"),
        "withdraw_what" => (
            "Hồ sơ sẽ dừng xử lý và không thể khôi phục. Nếu muốn tiếp tục, Ông/Bà phải nộp hồ sơ mới. Lệ phí chưa nộp sẽ không còn được thu; trang thanh toán đang mở sẽ bị đóng.",
            "The application stops and cannot be restored: to go on you would have to apply again. A fee not yet paid will no longer be taken; an open payment page is closed.",
        ),
        "withdraw_confirm" => ("Xác nhận rút hồ sơ", "Yes, withdraw it"),
        "withdraw_keep" => ("Không rút, quay lại", "Keep it, go back"),
        // The fee on the staff's dossier page, and confirming a transfer received.
        "payment_title" => ("Thanh toán", "Payment"),
        "payment_method" => ("Cách thanh toán", "Payment method"),
        "payment_state" => ("Tình trạng", "State"),
        "payment_receipt" => ("Biên lai điện tử", "E-receipt"),
        "fee_method_not_chosen" => (
            "Công dân chưa chọn (hoặc nộp tại bộ phận một cửa)",
            "Not chosen yet (or at the service desk)",
        ),
        "fee_method_transfer" => ("Chuyển khoản ngân hàng (VietQR)", "Bank transfer (VietQR)"),
        "fee_method_online" => ("Thẻ hoặc ví điện tử", "Card or e-wallet"),
        "fee_method_counter" => ("Nộp tại bộ phận một cửa", "At the service desk"),
        "fee_state_awaiting_payment" => {
            ("Chờ công dân thanh toán", "Awaiting the citizen's payment")
        }
        "fee_state_awaiting_transfer" => ("Chờ chuyển khoản", "Awaiting the transfer"),
        "fee_state_awaiting_provider" => (
            "Chờ cổng thanh toán xác nhận",
            "Awaiting the payment provider's confirmation",
        ),
        "fee_state_paid" => ("Đã thanh toán", "Paid"),
        "fee_state_not_collected" => (
            "Không thu (hồ sơ không còn chờ thanh toán)",
            "Not collected (the dossier no longer awaits payment)",
        ),
        "transfer_received_button" => ("Đã nhận chuyển khoản", "Transfer received"),
        "transfer_received_hint" => (
            "Khi sao kê ngân hàng của tỉnh có khoản chuyển với đúng nội dung và số tiền này.",
            "When the province's bank statement shows a transfer with exactly this reference and amount.",
        ),
        "transfer_received_title" => (
            "Xác nhận đã nhận chuyển khoản",
            "Confirm the transfer was received",
        ),
        "transfer_received_check" => (
            "Chỉ xác nhận khi sao kê ngân hàng của tỉnh có khoản chuyển với đúng nội dung và đúng số tiền dưới đây.",
            "Confirm only when the province's bank statement shows a transfer with exactly the reference and the amount below.",
        ),
        "transfer_received_what" => (
            "Khi xác nhận: lệ phí được ghi nhận là đã thanh toán, biên lai điện tử được cấp với số tiếp theo, hồ sơ được xử lý tiếp, và công dân được gửi thư báo kèm đường dẫn đến biên lai. Việc này không hoàn tác được; nếu nhầm, phải hủy biên lai.",
            "On confirming: the fee is recorded as paid, an e-receipt is issued with the next number, the dossier moves on, and the citizen is emailed a link to the receipt. This cannot be undone; a mistake needs the receipt voided.",
        ),
        "transfer_received_confirm" => (
            "Xác nhận đã nhận chuyển khoản",
            "Yes, the transfer was received",
        ),
        "transfer_received_refused" => ("Không xác nhận được", "Not confirmed"),
        "transfer_received_cancel" => (
            "Chưa xác nhận, quay lại hồ sơ",
            "Not now, back to the dossier",
        ),
        "transfer_received_done" => (
            "Đã xác nhận nhận chuyển khoản: lệ phí được ghi nhận là đã thanh toán, biên lai điện tử đã được cấp và công dân được gửi thư báo.",
            "Transfer confirmed: the fee is recorded as paid, the e-receipt is issued and the citizen is emailed.",
        ),
        _ => ("", ""),
    }
}
