//! The one application error type and the contract's error envelope. Its HTTP status and
//! response live with the HTTP surface (`web/error_http.rs`).

use std::collections::BTreeMap;

use serde_json::json;

use crate::lang::{Lang, Msg};

/// Every failure a request can meet. Constructors below keep call sites short.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, msg: Msg },
    #[error("unauthorized")]
    Unauthorized(Msg),
    #[error("forbidden")]
    Forbidden(Msg),
    /// 403 `assurance_level_required`: the procedure needs a session signed in at `required`
    /// (national sign-in at that level); the pages send the citizen to step up.
    #[error("assurance level {required} required")]
    AssuranceRequired { required: u8 },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409; `fields`, when not empty, names what is in the way (e.g. the missing documents).
    #[error("conflict: {code}")]
    Conflict {
        code: &'static str,
        msg: Msg,
        fields: FieldErrors,
    },
    #[error("payload too large")]
    TooLarge(Msg),
    #[error("validation failed: {0:?}")]
    Invalid(FieldErrors),
    #[error("too many requests: {code}")]
    TooMany {
        code: &'static str,
        msg: Msg,
        retry_after_secs: u64,
    },
    #[error("tenant suspended")]
    Suspended,
    /// 408: the request's body did not arrive in time (slow POST).
    #[error("request body timed out")]
    RequestTimeout,
    /// A dependency (database, pool) is away; the reason is logged, not shown.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A fault of ours; the reason is logged, the body stays opaque.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Field name → why it was refused, in both languages.
pub type FieldErrors = BTreeMap<String, Msg>;

impl AppError {
    pub fn not_found() -> AppError {
        AppError::NotFound
    }

    pub fn bad_request(code: &'static str, msg: Msg) -> AppError {
        AppError::BadRequest { code, msg }
    }

    pub fn conflict(code: &'static str, msg: Msg) -> AppError {
        AppError::Conflict {
            code,
            msg,
            fields: FieldErrors::new(),
        }
    }

    /// A conflict that names what is in the way, field by field (`fields` in the envelope).
    pub fn conflict_with_fields(code: &'static str, msg: Msg, fields: FieldErrors) -> AppError {
        AppError::Conflict { code, msg, fields }
    }

    pub fn forbidden() -> AppError {
        AppError::Forbidden(Msg::new(
            "Bạn không có quyền thực hiện thao tác này.",
            "You are not allowed to do this.",
        ))
    }

    pub fn unauthorized() -> AppError {
        AppError::Unauthorized(Msg::new(
            "Cần đăng nhập hoặc mã truy cập không hợp lệ.",
            "Sign-in required or the access token is invalid.",
        ))
    }

    /// One invalid field.
    pub fn invalid(field: &str, msg: Msg) -> AppError {
        AppError::Invalid(BTreeMap::from([(field.to_string(), msg)]))
    }

    pub fn internal(context: impl std::fmt::Display) -> AppError {
        AppError::Internal(context.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::AssuranceRequired { .. } => "assurance_level_required",
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict { code, .. } => code,
            AppError::TooLarge(_) => "payload_too_large",
            AppError::Invalid(_) => "validation_failed",
            AppError::TooMany { code, .. } => code,
            AppError::Suspended => "tenant_suspended",
            AppError::RequestTimeout => "request_timeout",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    pub fn message(&self) -> Msg {
        match self {
            AppError::BadRequest { msg, .. }
            | AppError::Unauthorized(msg)
            | AppError::Forbidden(msg)
            | AppError::Conflict { msg, .. }
            | AppError::TooLarge(msg)
            | AppError::TooMany { msg, .. } => msg.clone(),
            AppError::AssuranceRequired { required } => Msg::owned(
                format!(
                    "Thủ tục này yêu cầu đăng nhập bằng tài khoản định danh điện tử mức {required}. \
                     Vui lòng đăng nhập lại ở mức {required} rồi nộp hồ sơ."
                ),
                format!(
                    "This procedure needs a sign-in with the national electronic identity at \
                     level {required}. Please sign in again at level {required}, then submit."
                ),
            ),
            AppError::NotFound => Msg::new("Không tìm thấy.", "Not found."),
            AppError::MethodNotAllowed => Msg::new(
                "Phương thức không được hỗ trợ ở địa chỉ này.",
                "This method is not allowed here.",
            ),
            AppError::Invalid(_) => Msg::new(
                "Dữ liệu chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu.",
                "Some fields are not valid; please check them.",
            ),
            AppError::RequestTimeout => Msg::new(
                "Dữ liệu gửi lên đến quá chậm nên yêu cầu đã bị dừng. Vui lòng gửi lại.",
                "The request's body arrived too slowly and the request was stopped. Please send it again.",
            ),
            AppError::Suspended => Msg::new(
                "Cổng dịch vụ công của tỉnh này đang tạm ngừng hoạt động.",
                "This province's public-service portal is temporarily suspended.",
            ),
            AppError::Unavailable(_) => Msg::new(
                "Hệ thống đang bận hoặc tạm gián đoạn, vui lòng thử lại sau ít phút.",
                "The service is busy or briefly unavailable; please try again in a minute.",
            ),
            AppError::Internal(_) => Msg::new(
                "Đã xảy ra lỗi hệ thống. Vui lòng thử lại sau.",
                "Something went wrong on our side. Please try again later.",
            ),
        }
    }

    /// The contract's envelope: `{"error": {"code", "message", "fields"?}}`.
    pub fn body(&self, lang: Lang) -> serde_json::Value {
        let mut error = json!({
            "code": self.code(),
            "message": self.message().get(lang),
        });
        let named = match self {
            AppError::Invalid(fields) => Some(fields),
            AppError::Conflict { fields, .. } if !fields.is_empty() => Some(fields),
            _ => None,
        };
        if let Some(fields) = named {
            let fields: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.get(lang))))
                .collect();
            error["fields"] = serde_json::Value::Object(fields);
        }
        json!({ "error": error })
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => AppError::NotFound,
            E::DatabaseError(K::UniqueViolation, info) => {
                tracing::info!(constraint = ?info.constraint_name(), "unique violation");
                AppError::conflict(
                    "conflict",
                    Msg::new("Dữ liệu đã tồn tại.", "This already exists."),
                )
            }
            E::DatabaseError(K::ClosedConnection, _) => {
                AppError::Unavailable("database connection closed".into())
            }
            E::DatabaseError(K::SerializationFailure, _) => {
                AppError::Unavailable("serialization failure".into())
            }
            E::DatabaseError(_, ref info) if is_transient(info.message()) => {
                AppError::Unavailable(info.message().to_string())
            }
            E::DatabaseError(_, ref info) if is_nul_in_text(info.message()) => {
                AppError::bad_request(
                    "malformed",
                    Msg::new(
                        "Văn bản không được chứa ký tự NUL (U+0000).",
                        "Text may not contain the NUL character (U+0000).",
                    ),
                )
            }
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

/// PostgreSQL refuses U+0000 in `text` (22021) and in `jsonb` (22P05). A Rust string is
/// valid UTF-8, so these can only come from a client's NUL character, in any field or
/// parameter that reaches a query: the client's mistake (400), not a fault of ours. Found by
/// the API fuzzer (`bench/fuzz_api.sh`) in the staff queue's search.
fn is_nul_in_text(message: &str) -> bool {
    message.starts_with("invalid byte sequence for encoding \"UTF8\": 0x00")
        || message.starts_with("unsupported Unicode escape sequence")
}

/// Messages PostgreSQL gives for faults that pass on their own (timeouts, restarts).
fn is_transient(message: &str) -> bool {
    const MARKERS: [&str; 5] = [
        "canceling statement due to statement timeout",
        "terminating connection",
        "server closed the connection",
        "the database system is",
        "no connection to the server",
    ];
    MARKERS.iter().any(|m| message.contains(m))
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        AppError::Unavailable(format!("database pool: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_code_message_and_fields() {
        let e = AppError::invalid("slug", Msg::new("sai", "wrong"));
        let body = e.body(Lang::En);
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["fields"]["slug"], "wrong");
        assert!(matches!(e, AppError::Invalid(_)));
    }

    #[test]
    fn a_nul_character_refused_by_postgresql_is_the_clients_400() {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        for message in [
            "invalid byte sequence for encoding \"UTF8\": 0x00",
            "unsupported Unicode escape sequence",
        ] {
            let e = AppError::from(E::DatabaseError(K::Unknown, Box::new(message.to_string())));
            assert!(matches!(e, AppError::BadRequest { .. }), "{message}");
            assert_eq!(e.code(), "malformed");
        }
    }

    #[test]
    fn diesel_not_found_is_404_and_others_are_500() {
        assert!(matches!(
            AppError::from(diesel::result::Error::NotFound),
            AppError::NotFound
        ));
        assert!(matches!(
            AppError::from(diesel::result::Error::RollbackTransaction),
            AppError::Internal(_)
        ));
    }
}
