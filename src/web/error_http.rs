//! `AppError` over HTTP: its status, the response in the request's language, and the errors
//! actix produces itself (routing, JSON bodies, blocking tasks).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::error::AppError;
use crate::lang::{Lang, Msg};

impl AppError {
    /// The JSON response in a given language (the middleware picks the language and format).
    pub fn json_response(&self, lang: Lang) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        if let AppError::TooMany {
            retry_after_secs, ..
        } = self
        {
            builder.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        if matches!(self, AppError::Suspended | AppError::Unavailable(_)) {
            builder.insert_header(("Retry-After", "30"));
        }
        builder.json(self.body(lang))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::AssuranceRequired { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Suspended | AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.json_response(Lang::Vi)
    }
}

impl AppError {
    /// An error actix produced itself (routing, extractors without our handler), by status.
    pub fn from_status(status: StatusCode) -> AppError {
        match status.as_u16() {
            401 => AppError::unauthorized(),
            403 => AppError::forbidden(),
            404 => AppError::NotFound,
            405 => AppError::MethodNotAllowed,
            413 => AppError::TooLarge(Msg::new(
                "Dữ liệu gửi lên quá lớn.",
                "The request body is too large.",
            )),
            s if s < 500 => AppError::bad_request(
                "malformed",
                Msg::new("Yêu cầu không đúng định dạng.", "The request is malformed."),
            ),
            503 => AppError::Unavailable(status.to_string()),
            _ => AppError::Internal(status.to_string()),
        }
    }

    /// A JSON body that could not be read: syntax is 400, a wrong or missing field 422.
    pub fn from_json(err: &actix_web::error::JsonPayloadError) -> AppError {
        use actix_web::error::JsonPayloadError as J;
        match err {
            J::OverflowKnownLength { .. } | J::Overflow { .. } => AppError::TooLarge(Msg::new(
                "Dữ liệu gửi lên quá lớn.",
                "The request body is too large.",
            )),
            J::Deserialize(e) if e.is_data() => {
                let text = e.to_string();
                let field = text
                    .split('`')
                    .nth(1)
                    .filter(|_| text.contains("field"))
                    .unwrap_or("body")
                    .to_string();
                AppError::invalid(
                    &field,
                    Msg::owned(
                        format!("Giá trị không hợp lệ: {text}"),
                        format!("Invalid value: {text}"),
                    ),
                )
            }
            J::ContentType => AppError::bad_request(
                "malformed",
                Msg::new(
                    "Cần gửi dữ liệu JSON (Content-Type: application/json).",
                    "Send JSON (Content-Type: application/json).",
                ),
            ),
            _ => AppError::bad_request(
                "malformed",
                Msg::new("JSON không đúng cú pháp.", "The JSON is malformed."),
            ),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> AppError {
        AppError::Internal(format!("blocking task: {e}"))
    }
}
