//! The UI's words, Vietnamese then English: plain, polite, short (a citizen on a small phone).

/// `(vi, en)` for a key; `("", "")` when unknown (the unit test below keeps that from happening).
pub(super) fn lookup(key: &str) -> (&'static str, &'static str) {
    match key {
        // The layout.
        "portal" => ("Cổng Dịch vụ công", "Public Service Portal"),
        "national" => (
            "Cổng Dịch vụ công quốc gia",
            "National Public Service Portal",
        ),
        "operator" => ("Trang quản trị nhà vận hành", "Operator console"),
        "skip" => ("Bỏ qua, đến nội dung chính", "Skip to main content"),
        "switch" => ("English", "Tiếng Việt"),
        "menu" => ("Trình đơn chính", "Main menu"),
        "footer" => (
            "Giao diện thống nhất toàn quốc. Mọi tỉnh, thành phố dùng chung một bố cục.",
            "One nationally uniform interface for every province and city.",
        ),
        "error" => ("Đã có lỗi", "Something went wrong"),
        "back" => ("Quay lại", "Back"),
        // The national home.
        "provinces" => ("Tỉnh, thành phố", "Provinces and cities"),
        "provinces_lead" => (
            "Chọn tỉnh, thành phố nơi bạn muốn nộp hồ sơ thủ tục hành chính.",
            "Choose the province or city where you want to apply.",
        ),
        "no_provinces" => ("Chưa có tỉnh nào hoạt động.", "No province is active yet."),
        "province_search" => ("Tìm tỉnh, thành phố", "Find a province or city"),
        "province_matches" => ("kết quả phù hợp.", "matching results."),
        "no_province_match" => (
            "Không tìm thấy tỉnh, thành phố nào phù hợp.",
            "No province or city matches.",
        ),
        "all_provinces" => ("Xem tất cả", "See them all"),
        // The national catalog (#17.5).
        "national_search" => (
            "Tìm tỉnh, thành phố hoặc thủ tục",
            "Find a province, city or procedure",
        ),
        "national_search_hint" => (
            "Ví dụ: Bình Dương, Sài Gòn, cấp phiếu lý lịch tư pháp, hoặc mã thủ tục GPLX-001.",
            "For example: Bình Dương, Saigon, judicial record, or the code GPLX-001.",
        ),
        "procedure_matches" => ("thủ tục phù hợp.", "matching procedures."),
        "catalog_link" => ("Danh mục thủ tục", "Procedure catalog"),
        "national_catalog" => ("Danh mục thủ tục hành chính", "Administrative procedures"),
        "national_catalog_lead" => (
            "Mọi thủ tục trên Cổng, với số tỉnh, thành phố tiếp nhận. Chọn một thủ tục để biết nộp hồ sơ ở đâu.",
            "Every procedure on the portal, with how many provinces accept it. Choose one to see where to file it.",
        ),
        "field" => ("Lĩnh vực", "Field"),
        "decided_at" => ("Cấp giải quyết", "Decided at"),
        "offered_in" => ("Có tại", "Offered in"),
        "provinces_count" => ("tỉnh, thành phố", "provinces and cities"),
        "offered_nowhere" => (
            "Chưa tỉnh, thành phố nào tiếp nhận thủ tục này trực tuyến.",
            "No province accepts this procedure online yet.",
        ),
        "where_to_file" => ("Nộp hồ sơ ở đâu", "Where to file"),
        "deciding_units" => ("Đơn vị giải quyết", "Deciding units"),
        "province_decides" => (
            "Tỉnh, thành phố trực tiếp giải quyết",
            "The province itself",
        ),
        "commune_units" => ("xã, phường, đặc khu", "communes, wards and special zones"),
        "file_here" => ("Nộp hồ sơ tại đây", "Apply here"),
        "operator_lead" => (
            "Quản lý tỉnh thuê dịch vụ, gói dịch vụ, mức sử dụng và hoá đơn qua API /api/v1.",
            "Manage provinces, plans, usage and invoices through the /api/v1 API.",
        ),
        // A province's home and catalog.
        "hotline" => ("Đường dây nóng", "Hotline"),
        "address" => ("Địa chỉ", "Address"),
        "contact" => ("Liên hệ", "Contact"),
        "welcome" => (
            "Nộp hồ sơ, theo dõi tiến độ và nhận kết quả thủ tục hành chính trực tuyến.",
            "Apply, follow your dossier and receive results of administrative procedures online.",
        ),
        "national_link" => (
            "Về Cổng Dịch vụ công quốc gia",
            "Back to the national portal",
        ),
        "procedures" => ("Thủ tục", "Procedures"),
        "procedure" => ("Thủ tục", "Procedure"),
        "search" => ("Tìm kiếm", "Search"),
        "search_label" => ("Tìm thủ tục", "Find a procedure"),
        "search_hint" => (
            "Ví dụ: đổi giấy phép lái xe, hoặc mã thủ tục GPLX-001.",
            "For example: driving licence, or the code GPLX-001.",
        ),
        "search_results" => ("Kết quả cho", "Results for"),
        "no_results" => ("Không tìm thấy thủ tục phù hợp.", "No procedure matches."),
        "all_procedures" => ("Xem tất cả thủ tục", "See all procedures"),
        "level" => ("Mức độ", "Level"),
        "level_3" => ("Mức độ 3", "Level 3"),
        "level_4" => ("Mức độ 4", "Level 4"),
        "level_3_means" => (
            "Nộp hồ sơ trực tuyến, nhận kết quả tại cơ quan.",
            "Apply online, collect the result in person.",
        ),
        "level_4_means" => (
            "Toàn bộ thủ tục thực hiện trực tuyến.",
            "The whole procedure is done online.",
        ),
        "fee" => ("Lệ phí", "Fee"),
        "free" => ("Miễn phí", "Free"),
        "time" => ("Thời hạn giải quyết", "Processing time"),
        "working_days" => ("ngày làm việc", "working days"),
        "agency" => ("Cơ quan thực hiện", "Agency"),
        "what_you_need" => ("Bạn cần chuẩn bị", "What you need"),
        "files_to_upload" => ("Tệp cần tải lên", "Files to upload"),
        "at_most" => ("tối đa", "at most"),
        "start_note" => (
            "Bạn cần đăng nhập để nộp hồ sơ. Câu trả lời được lưu lại sau mỗi trang.",
            "You need to sign in to apply. Your answers are saved after each page.",
        ),
        "start" => ("Bắt đầu", "Start now"),
        // The menu and accounts.
        "tracking" => ("Tra cứu hồ sơ", "Track a dossier"),
        "my_dossiers" => ("Hồ sơ của tôi", "My dossiers"),
        "sign_in" => ("Đăng nhập", "Sign in"),
        "sign_out" => ("Đăng xuất", "Sign out"),
        "register" => ("Đăng ký tài khoản", "Create an account"),
        "sign_in_lead" => (
            "Dùng tài khoản Cổng Dịch vụ công: một tài khoản cho mọi tỉnh, thành phố.",
            "Use your Public Service Portal account: one account for every province and city.",
        ),
        "register_lead" => (
            "Một tài khoản dùng được ở mọi tỉnh, thành phố.",
            "One account works in every province and city.",
        ),
        "no_account" => ("Chưa có tài khoản?", "No account yet?"),
        // One sign-in for every site (#17.3).
        "sign_in_national" => (
            "Đăng nhập bằng tài khoản Cổng Dịch vụ công quốc gia",
            "Sign in with your National Public Service Portal account",
        ),
        "sign_in_vneid" => (
            "Đăng nhập bằng định danh điện tử VNeID",
            "Sign in with your VNeID electronic identity",
        ),
        "sign_in_or_password" => (
            "Hoặc đăng nhập bằng email và mật khẩu:",
            "Or sign in with your email and password:",
        ),
        "national_dossiers_lead" => (
            "Hồ sơ bạn đã nộp tại mọi tỉnh, thành phố, mới nhất trước.",
            "The dossiers you filed in every province and city, newest first.",
        ),
        "have_account" => ("Đã có tài khoản?", "Already have an account?"),
        "create_account" => ("Tạo tài khoản", "Create account"),
        "full_name" => ("Họ và tên", "Full name"),
        "email" => ("Email", "Email address"),
        "password" => ("Mật khẩu", "Password"),
        "password_hint" => (
            "Ít nhất 10 ký tự. Nên dùng một cụm từ dễ nhớ với bạn nhưng khó đoán với người khác.",
            "At least 10 characters. A phrase easy for you to remember but hard to guess is best.",
        ),
        // Forms.
        "error_summary" => ("Có thông tin cần sửa", "There is a problem"),
        "error_prefix" => ("Lỗi:", "Error:"),
        "optional" => ("không bắt buộc", "optional"),
        "choose" => ("Chọn một mục", "Choose one"),
        "date_hint" => (
            "Chọn ngày, hoặc nhập theo dạng năm-tháng-ngày, ví dụ 2027-03-31.",
            "Pick a date, or type it as year-month-day, for example 2027-03-31.",
        ),
        "continue" => ("Tiếp tục", "Continue"),
        "step" => ("Bước", "Step"),
        "applicant" => ("Thông tin người nộp hồ sơ", "About the applicant"),
        "application" => ("Thông tin hồ sơ", "About the application"),
        "documents" => ("Giấy tờ đính kèm", "Documents"),
        "documents_lead" => (
            "Chụp ảnh rõ nét hoặc quét giấy tờ. Mỗi mục một tệp; chọn tệp mới sẽ thay tệp cũ.",
            "Take a clear photo or scan. One file per document; a new file replaces the old one.",
        ),
        "file_types" => ("Nhận tệp", "Accepted:"),
        "uploaded" => ("Đã tải lên", "Uploaded"),
        "replace_hint" => (
            "Chọn tệp khác nếu muốn thay.",
            "Choose another file to replace it.",
        ),
        "upload_continue" => ("Tải lên và tiếp tục", "Upload and continue"),
        "check_answers" => (
            "Kiểm tra lại trước khi nộp",
            "Check your answers before submitting",
        ),
        "your_answers" => ("Thông tin đã khai", "Your answers"),
        "change" => ("Sửa", "Change"),
        "not_answered" => ("Chưa trả lời", "Not answered"),
        "not_uploaded" => ("Chưa tải lên", "Not uploaded"),
        "declaration" => ("Cam kết", "Declaration"),
        "declaration_text" => (
            "Khi nộp hồ sơ, tôi cam đoan các thông tin trên là đúng sự thật.",
            "By submitting, I confirm that the information above is true.",
        ),
        "submit" => ("Nộp hồ sơ", "Submit application"),
        // After submitting.
        "submitted_title" => ("Đã nộp hồ sơ", "Application submitted"),
        "your_code" => ("Mã hồ sơ của bạn", "Your tracking code"),
        "email_sent" => (
            "Chúng tôi đã gửi email xác nhận tới",
            "We have sent a confirmation email to",
        ),
        "what_next" => ("Tiếp theo là gì", "What happens next"),
        "next_review" => (
            "sẽ xem xét hồ sơ và giải quyết trong",
            "will review your application and decide within",
        ),
        "next_review_end" => (
            "kể từ khi tiếp nhận. Nếu cần bổ sung, chúng tôi sẽ báo cho bạn qua email.",
            "of accepting it. If anything more is needed, we will email you.",
        ),
        "next_track" => (
            "Hãy ghi lại mã hồ sơ để tra cứu tiến độ bất cứ lúc nào.",
            "Keep the tracking code to follow your application at any time.",
        ),
        "view_dossier" => ("Xem hồ sơ", "View the dossier"),
        // Dossiers.
        "dossier" => ("Hồ sơ", "Dossier"),
        "no_dossiers" => (
            "Bạn chưa nộp hồ sơ nào ở tỉnh này.",
            "You have no dossier in this province yet.",
        ),
        "moved_dossiers" => (
            "Hồ sơ đã chuyển sang tỉnh khác",
            "Dossiers moved to another province",
        ),
        "moved_dossiers_hint" => (
            "Sau khi sắp xếp đơn vị hành chính, các hồ sơ này do tỉnh khác giải quyết. Mã hồ sơ giữ nguyên; hãy đăng nhập ở trang của tỉnh đó để xem.",
            "After the reorganisation of administrative units, another province handles these dossiers. Their codes are unchanged; sign in on that province's site to see them.",
        ),
        "moved_to" => ("Chuyển sang", "Moved to"),
        "moved_on" => ("Từ ngày", "Since"),
        "status" => ("Trạng thái", "Status"),
        "submitted_at" => ("Ngày nộp", "Submitted"),
        "due_on" => ("Hạn trả kết quả", "Due"),
        "not_yet" => ("Chưa có", "Not set yet"),
        "history" => ("Quá trình xử lý", "History"),
        "withdraw_title" => ("Rút hồ sơ", "Withdraw the application"),
        "withdraw" => ("Rút hồ sơ", "Withdraw"),
        "warning" => ("Lưu ý", "Warning"),
        "withdraw_warning" => (
            "Sau khi rút, hồ sơ sẽ dừng xử lý và không thể khôi phục.",
            "Once withdrawn, the application stops and cannot be restored.",
        ),
        // Tracking.
        "tracking_lead" => (
            "Nhập mã hồ sơ và số định danh cá nhân của người nộp. Không cần đăng nhập.",
            "Enter the tracking code and the applicant's citizen ID number. No sign-in needed.",
        ),
        "tracking_code" => ("Mã hồ sơ", "Tracking code"),
        "tracking_code_hint" => ("Ví dụ: HNO-2611-4F7K2Q", "For example: HNO-2611-4F7K2Q"),
        "id_number" => ("Số định danh cá nhân", "Citizen ID number"),
        "look_up" => ("Tra cứu", "Look up"),
        "not_found_title" => ("Không tìm thấy hồ sơ", "No dossier found"),
        "not_found_text" => (
            "Vui lòng kiểm tra lại mã hồ sơ và số định danh cá nhân rồi thử lại.",
            "Please check the tracking code and the citizen ID number and try again.",
        ),
        // The national evaluation index.
        "index_title" => (
            "Chỉ số đánh giá chất lượng phục vụ",
            "Service quality index",
        ),
        "index_lead" => (
            "Xếp hạng các tỉnh, thành phố theo kết quả giải quyết hồ sơ thực tế trong tháng: công khai, đúng hạn, trực tuyến, thanh toán trực tuyến và mức độ hài lòng.",
            "Provinces ranked by what actually happened to dossiers in the month: transparency, timeliness, online service, online payment and satisfaction.",
        ),
        "index_link" => (
            "Xem chỉ số đánh giá các tỉnh",
            "See the provinces' service index",
        ),
        "index_period" => ("Tháng", "Month"),
        "index_prev" => ("Tháng trước", "Previous month"),
        "index_next" => ("Tháng sau", "Next month"),
        "index_rank" => ("Hạng", "Rank"),
        "index_province" => ("Tỉnh, thành phố", "Province"),
        "index_received" => ("Tiếp nhận", "Received"),
        "index_decided" => ("Đã giải quyết", "Decided"),
        "index_on_time" => ("Đúng hạn", "On time"),
        "index_online" => ("Trực tuyến", "Online"),
        "index_payment" => ("Thanh toán trực tuyến", "Paid online"),
        "index_satisfaction" => ("Hài lòng", "Satisfied"),
        "index_score" => ("Điểm (0–100)", "Score (0–100)"),
        "index_chart" => ("Biểu đồ điểm theo tỉnh", "Score by province"),
        "index_trend" => ("Diễn biến 12 tháng gần nhất", "The last 12 months"),
        "index_trend_chart" => ("Biểu đồ điểm theo tháng", "Score by month"),
        "index_method" => (
            "Điểm tính tự động từ lịch sử hồ sơ, không nhập tay. Trọng số: công khai 10, đúng hạn 30, trực tuyến 20, thanh toán 10, hài lòng 30; nhóm chưa có dữ liệu không tính.",
            "Computed from dossier history only, never typed in. Weights: transparency 10, on time 30, online 20, payment 10, satisfaction 30; a group without data is left out.",
        ),
        "index_all" => ("Về bảng xếp hạng", "Back to the ranking"),
        "index_units" => ("Chỉ số theo đơn vị", "Index by unit"),
        "index_units_link" => ("Theo đơn vị", "By unit"),
        "index_units_lead" => (
            "Các xã, phường, đặc khu, sở, ngành và Trung tâm Phục vụ hành chính công của tỉnh trong tháng. Bấm tiêu đề cột để sắp xếp.",
            "The province's communes, wards, special zones, departments and public service centre in the month. Select a column heading to sort.",
        ),
        "index_unit" => ("Đơn vị", "Unit"),
        "index_informed" => ("Công khai", "Transparency"),
        "index_not_enough" => ("Chưa đủ dữ liệu", "Not enough data"),
        "index_min_before" => ("Đơn vị có dưới", "A unit with fewer than"),
        "index_min_after" => (
            "hồ sơ được giải quyết trong tháng là chưa đủ dữ liệu: không chấm điểm, không xếp hạng; các tỉ lệ thành phần vẫn được hiển thị.",
            "dossiers decided in the month has not enough data: no score and no rank; its component rates are still shown.",
        ),
        "index_province_level" => (
            "Cấp tỉnh (hồ sơ không thuộc đơn vị nào)",
            "Province level (dossiers with no unit)",
        ),
        "index_retired" => ("đã ngừng hoạt động", "retired"),
        "index_no_units" => (
            "Chưa có số liệu theo đơn vị cho tháng này.",
            "No figures by unit for this month yet.",
        ),
        "index_units_method" => (
            "Tiếp nhận tính tại nơi nhận hồ sơ (hồ sơ trực tuyến tính cho đơn vị có thẩm quyền); giải quyết, đúng hạn, thanh toán và hài lòng tính cho đơn vị có thẩm quyền giải quyết. Số trong ngoặc là trọng số của nhóm.",
            "Received counts where a dossier was handed in (online ones at the competent unit); decided, on time, payment and satisfaction count for the competent unit. The number in brackets is the group's weight.",
        ),
        // The operator console.
        "ops_nav" => ("Trình đơn nhà vận hành", "Operator menu"),
        "ops_sign_in" => ("Đăng nhập nhà vận hành", "Operator sign-in"),
        "ops_password" => ("Mật khẩu", "Password"),
        "ops_provinces" => ("Các tỉnh thuê dịch vụ", "Provinces"),
        "ops_subscriptions" => ("Yêu cầu đăng ký", "Subscription requests"),
        "ops_plans" => ("Gói dịch vụ", "Plans"),
        "ops_pending" => ("yêu cầu đang chờ duyệt", "requests waiting for a decision"),
        "ops_status" => ("Trạng thái", "Status"),
        "ops_plan" => ("Gói", "Plan"),
        "ops_dossiers_month" => ("Hồ sơ / mức gói, tháng", "Dossiers / allowance,"),
        "ops_active" => ("Đang hoạt động", "Active"),
        "ops_suspended" => ("Tạm ngừng", "Suspended"),
        "ops_usage" => ("Mức sử dụng tháng", "Usage in"),
        "ops_leases" => ("Lịch sử thuê gói", "Lease history"),
        "ops_suspend" => ("Tạm ngừng tỉnh này", "Suspend this province"),
        "ops_resume" => ("Cho hoạt động lại", "Resume this province"),
        "ops_fee" => ("Phí tháng", "Monthly fee"),
        "ops_rate" => ("Tốc độ", "Rate"),
        "ops_plans_hint" => (
            "Mỗi ô: mức có trong gói · đơn giá vượt mức · trần cứng (nếu có). Dung lượng tính đơn giá theo GiB. Chọn tên gói để sửa.",
            "Each cell: included · overage unit price · hard cap (if any). Storage is priced per GiB. Choose a plan's name to edit it.",
        ),
        "ops_no_requests" => ("Chưa có yêu cầu nào.", "No requests yet."),
        "ops_approve" => ("Chấp thuận và khởi tạo", "Approve and provision"),
        "ops_decline" => ("Từ chối", "Decline"),
        "ops_reason" => (
            "Lý do từ chối (gửi cho người đề nghị)",
            "Reason for declining (mailed to the requester)",
        ),
        // Subscribing (national site).
        "sub_title" => (
            "Đăng ký thuê Cổng Dịch vụ công",
            "Request the public-service portal",
        ),
        "sub_lead" => (
            "Tỉnh, thành phố hoặc xã đề nghị thuê dịch vụ. Nhà vận hành xem xét và gửi thư mời quản trị viên đầu tiên.",
            "A province, city or commune asks to lease the service. The operator reviews it and invites the first administrator.",
        ),
        "sub_name" => ("Tên đơn vị", "Name"),
        "sub_slug" => ("Mã truy cập (tên miền con)", "Slug (subdomain)"),
        "sub_slug_hint" => (
            "Chữ thường không dấu, số và dấu gạch ngang, ví dụ: ha-noi.",
            "Lower-case letters, digits and hyphens, e.g. ha-noi.",
        ),
        "sub_email" => ("Email người liên hệ", "Contact email"),
        "sub_plan" => ("Gói dịch vụ", "Plan"),
        "sub_month" => ("tháng", "month"),
        "sub_submit" => ("Gửi yêu cầu", "Send the request"),
        "sub_done" => ("Đã nhận yêu cầu", "Request received"),
        "sub_done_lead" => (
            "Yêu cầu chỉ được chuyển tới nhà vận hành sau khi được xác nhận. Chúng tôi đã gửi đường dẫn xác nhận tới",
            "The request reaches the operator only once confirmed. We mailed a confirmation link to",
        ),
        "sub_verify_title" => (
            "Xác nhận yêu cầu thuê dịch vụ",
            "Confirm the subscription request",
        ),
        "sub_verify_lead" => (
            "Xác nhận rằng Ông/Bà đã gửi yêu cầu này. Sau khi xác nhận, yêu cầu được chuyển tới nhà vận hành để xét duyệt.",
            "Confirm that you sent this request. Once confirmed, it goes to the operator for a decision.",
        ),
        "sub_verify_button" => ("Xác nhận yêu cầu", "Confirm the request"),
        "sub_verified" => (
            "Đã xác nhận. Kết quả xét duyệt sẽ được gửi tới địa chỉ thư của Ông/Bà.",
            "Confirmed. The decision will be mailed to your address.",
        ),
        "sub_verify_gone" => (
            "Đường dẫn này không còn hiệu lực (đã dùng hoặc đã hết hạn).",
            "This link no longer works (used or expired).",
        ),
        "sub_link" => (
            "Đăng ký thuê dịch vụ cho tỉnh, xã",
            "Request the service for a province or commune",
        ),
        // The staff's and the admin's pages keep their words beside this table.
        _ => super::staff_strings::lookup(key),
    }
}

#[cfg(test)]
mod tests {
    use super::lookup;

    /// Every `t("key")` in the templates and every key the code passes has both languages.
    #[test]
    fn every_key_the_pages_use_exists() {
        // Every template, read at test time: a new one is covered without touching this test.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut sources = Vec::new();
        read_templates(&root, &root, &mut sources);
        assert!(
            sources.iter().any(|(p, _)| p.ends_with("base.html")),
            "no templates found under {}",
            root.display()
        );
        let mut keys: Vec<(&str, &str)> = sources
            .iter()
            .flat_map(|(path, s)| {
                s.split("t(\"")
                    .skip(1)
                    .filter_map(|rest| rest.split('"').next())
                    .map(move |key| (path.as_str(), key))
            })
            .collect();
        assert!(!keys.is_empty(), "no t(\"key\") in the templates");
        // Keys chosen in code rather than written in a template.
        let code_keys = [
            "applicant",
            "application",
            "at_most",
            "date_hint",
            "email",
            "file_types",
            "free",
            "full_name",
            "id_number",
            "index_province_level",
            "national",
            "not_answered",
            "not_uploaded",
            "not_yet",
            "password",
            "password_hint",
            "tracking_code",
            "tracking_code_hint",
        ];
        let code_keys = code_keys
            .iter()
            .chain(super::super::staff_strings::CODE_KEYS);
        keys.extend(code_keys.map(|k| ("code", *k)));
        let mut missing: Vec<String> = keys
            .into_iter()
            .filter(|(_, key)| {
                let (vi, en) = lookup(key);
                vi.is_empty() || en.is_empty()
            })
            .map(|(source, key)| format!("{key:?} ({source})"))
            .collect();
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "missing UI strings: {missing:?}");
    }

    /// `(path under templates/, text)` of every file under `dir`, recursively (all of
    /// `templates/` is templates).
    fn read_templates(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut Vec<(String, String)>,
    ) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                read_templates(root, &path, out);
            } else {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let name = path.strip_prefix(root).unwrap_or(&path);
                out.push((name.display().to_string(), text));
            }
        }
    }
}
