//! The words of the operator's back office (closing a period, the invoices table, plans and
//! leases, the printable invoice), Vietnamese then English. `receipt_strings.rs` falls back to
//! this, and this to `payment_strings.rs`.

/// `(vi, en)` for a key; `("", "")` when unknown.
pub(super) fn lookup(key: &str) -> (&'static str, &'static str) {
    match key {
        // Closing a period.
        "ops_close" => ("Chốt kỳ", "Close a period"),
        "close_title" => ("Chốt kỳ thanh toán", "Close the billing period"),
        "close_show" => ("Xem trước", "Preview"),
        "close_preview_lead" => (
            "Đây là bản xem trước: chưa có hoá đơn nào được lập. Kiểm tra số tiền của từng tỉnh rồi xác nhận ở cuối trang.",
            "This is a preview: no invoice has been issued yet. Check each province's amounts, then confirm at the bottom of the page.",
        ),
        "close_closed_before" => (
            "Kỳ này đã được chốt trước đây; chỉ tỉnh chưa có hoá đơn mới được lập thêm.",
            "This period was closed before; only provinces without an invoice would be invoiced now.",
        ),
        "close_nothing" => (
            "Không có tỉnh nào thuê dịch vụ trong kỳ này.",
            "No province leased the service in this period.",
        ),
        "close_state" => ("Hoá đơn", "Invoice"),
        "close_issued" => ("Đã lập", "Issued"),
        "close_to_issue" => ("Sẽ lập khi chốt", "Issued on closing"),
        "close_lines" => ("Số dòng", "Lines"),
        "close_sum" => ("Cộng", "Total"),
        "close_confirm_lead" => (
            "Số hoá đơn sẽ được lập, đánh số và gửi cho các tỉnh:",
            "Invoices that will be issued, numbered and sent to the provinces:",
        ),
        "close_confirm" => ("Xác nhận chốt kỳ", "Confirm: close"),
        "close_see_invoices" => (
            "Mọi tỉnh đã có hoá đơn kỳ này: xem danh sách hoá đơn",
            "Every province has its invoice for this period: see the invoices",
        ),
        "close_done" => (
            "Đã chốt kỳ. Số hoá đơn của kỳ:",
            "Period closed. Invoices of the period:",
        ),
        "close_open_form" => ("Chốt kỳ…", "Close a period…"),
        // The invoices table.
        "inv_paid_done" => (
            "Đã ghi nhận thanh toán bằng chuyển khoản cho hoá đơn",
            "Bank transfer recorded for invoice",
        ),
        "inv_void_done" => (
            "Đã huỷ hoá đơn (kèm giấy báo có)",
            "Voided, with a credit note, invoice",
        ),
        "inv_period_all" => ("Để trống: mọi kỳ", "Empty: every period"),
        "inv_province_search" => ("Tìm tỉnh, thành phố", "Find a province"),
        "inv_sort_number" => ("Số hoá đơn", "Invoice number"),
        "inv_sort_province" => ("Tên tỉnh", "Province name"),
        "inv_sort_total" => ("Số tiền lớn nhất trước", "Largest amount first"),
        "inv_csv_hint" => (
            "đúng các hoá đơn đang lọc, mọi trang",
            "exactly the filtered invoices, every page",
        ),
        "inv_period_short" => ("Kỳ", "Period"),
        "inv_paid_amount" => ("Đã thanh toán", "Paid"),
        "inv_due" => ("Hạn thanh toán", "Due"),
        "inv_overdue" => ("Quá hạn", "Overdue"),
        "inv_record" => ("Ghi nhận thanh toán, huỷ…", "Record a payment, void…"),
        "inv_totals" => (
            "Cộng mọi trang, không gồm hoá đơn đã huỷ",
            "Total of every page, void invoices left out",
        ),
        "inv_outstanding" => ("Còn phải thu", "Outstanding"),
        "inv_prev_page" => ("← Trang trước", "← Previous page"),
        "inv_next_page" => ("Trang sau →", "Next page →"),
        "inv_ref_bank" => ("Chuyển khoản", "Bank transfer"),
        "inv_actions" => ("Thao tác", "Actions"),
        // The printable invoice.
        "inv_days" => ("ngày", "days"),
        "inv_month" => ("tháng", "month"),
        "inv_einvoice" => ("Hoá đơn điện tử", "E-invoice"),
        "inv_einvoice_series" => ("Ký hiệu", "Series"),
        "inv_einvoice_authority" => ("Mã của cơ quan thuế", "Tax authority code"),
        "inv_einvoice_lookup" => ("Mã tra cứu", "Lookup code"),
        "inv_einvoice_none" => ("chưa phát hành", "not issued yet"),
        "inv_seller_title" => ("Đơn vị bán hàng", "Seller"),
        "inv_buyer_title" => ("Đơn vị mua hàng", "Buyer"),
        "inv_party_name" => ("Tên đơn vị", "Name"),
        "inv_tax_code" => ("Mã số thuế", "Tax code"),
        "inv_address" => ("Địa chỉ", "Address"),
        "inv_bank_account" => ("Số tài khoản", "Bank account"),
        "inv_buyer_site" => ("Mã cổng của tỉnh", "Province site"),
        "inv_in_words" => (
            "Số tiền viết bằng chữ:",
            "Amount in words (Vietnamese, as the law requires):",
        ),
        "inv_how_to_pay" => ("Thanh toán", "Payment"),
        "inv_transfer_to" => ("Chuyển khoản vào tài khoản", "Transfer to account"),
        "inv_transfer_ref" => (
            "Nội dung chuyển khoản ghi số hoá đơn",
            "Write the invoice number as the transfer's reference",
        ),
        // Plans on pages.
        "plan_back" => ("Quay lại các gói dịch vụ", "Back to the plans"),
        "plan_saved" => ("Đã lưu gói dịch vụ.", "The plan is saved."),
        "plan_fix" => ("Hãy sửa các lỗi sau", "Please correct the following"),
        "plan_name" => ("Tên gói", "Plan name"),
        "plan_fee" => ("Phí tháng (đồng)", "Monthly fee (đồng)"),
        "plan_rate" => ("Tốc độ tối đa (yêu cầu/giây)", "Rate limit (requests/s)"),
        "plan_burst" => ("Mức đột biến (yêu cầu)", "Burst (requests)"),
        "plan_terms" => ("Điều khoản theo chỉ số", "Terms per metric"),
        "plan_metric" => ("Chỉ số", "Metric"),
        "plan_included" => ("Có trong gói", "Included"),
        "plan_price" => ("Đơn giá vượt mức (đồng)", "Overage unit price (đồng)"),
        "plan_cap" => ("Trần cứng (để trống: không có)", "Hard cap (empty: none)"),
        "plan_save" => ("Lưu gói", "Save the plan"),
        "plan_history" => ("Lịch sử thay đổi", "History"),
        "plan_no_history" => ("Chưa thay đổi lần nào.", "Never changed."),
        "plan_edit" => ("Sửa", "Edit"),
        _ => super::payment_strings::lookup(key),
    }
}
