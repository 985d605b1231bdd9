//! The invitation a new staff member receives (from a province admin, or as a subscribing
//! province's first admin when the operator approves its request).

use crate::accounts::staff::{INVITATION_HOURS, StaffRole};

/// `(subject, body)` of the invitation, Vietnamese then English.
pub fn invitation_mail(
    province: &str,
    inviter: &str,
    name: &str,
    role: StaffRole,
    link: &str,
) -> (String, String) {
    let (role_vi, role_en) = match role {
        StaffRole::Receiver => ("cán bộ tiếp nhận", "receiving officer"),
        StaffRole::Official => ("cán bộ", "official"),
        StaffRole::Head => ("lãnh đạo đơn vị", "head of unit"),
        StaffRole::Admin => ("quản trị viên", "administrator"),
    };
    (
        format!("[{province}] Lời mời tham gia Cổng Dịch vụ công / Invitation"),
        format!(
            "Kính gửi {name},\n\n{inviter} mời Ông/Bà làm {role_vi} trên Cổng Dịch vụ công của {province}.\n\
             Đặt mật khẩu tại đường dẫn sau (dùng một lần, hiệu lực {INVITATION_HOURS} giờ):\n{link}\n\n\
             ---\n\nDear {name},\n\n{inviter} invites you to work as {role_en} on the public-service portal of {province}.\n\
             Set your password here (one use, valid for {INVITATION_HOURS} hours):\n{link}\n"
        ),
    )
}
