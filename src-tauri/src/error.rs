//! The app's one error type: what the UI needs to tell the person. `code` picks the translated
//! sentence; `detail` is the engine's wording (never a token).

use relay_client::ClientError;
use serde::Serialize;
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotEnrolled,
    SignedOut,
    Offline,
    Invalid,
    NotFound,
    Conflict,
    Keychain,
    Internal,
}

#[derive(Debug, Clone, Serialize, Type, thiserror::Error)]
#[error("{detail}")]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: String,
}

impl AppError {
    pub fn invalid(detail: impl Into<String>) -> AppError {
        AppError {
            code: ErrorCode::Invalid,
            detail: detail.into(),
        }
    }
}

impl From<ClientError> for AppError {
    fn from(err: ClientError) -> Self {
        let code = match &err {
            ClientError::NotEnrolled => ErrorCode::NotEnrolled,
            ClientError::SignedOut(_) => ErrorCode::SignedOut,
            ClientError::Offline(_) | ClientError::RetryAfter(_) => ErrorCode::Offline,
            ClientError::Server(p) if p.status >= 500 => ErrorCode::Offline,
            ClientError::Server(_) | ClientError::Invalid(_) | ClientError::NotRelay(_) => {
                ErrorCode::Invalid
            }
            ClientError::NotFound(_) => ErrorCode::NotFound,
            ClientError::Conflict(_) => ErrorCode::Conflict,
            ClientError::Keychain(_) => ErrorCode::Keychain,
            _ => ErrorCode::Internal,
        };
        AppError {
            code,
            detail: err.to_string(),
        }
    }
}

impl From<tauri::Error> for AppError {
    fn from(err: tauri::Error) -> Self {
        AppError {
            code: ErrorCode::Internal,
            detail: err.to_string(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
