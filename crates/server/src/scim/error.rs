//! SCIM's error response (RFC 7644 §3.12): the server's [`ApiError`] told the directory's way,
//! `application/scim+json` with a `scimType` where the RFC names one.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{CONTENT_TYPE, ERROR_SCHEMA};
use crate::error::ApiError;

#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// A value that breaks the schema or Relay's rules (an address, a country code).
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("mutability"), detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }

    pub fn not_found() -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, "no such user")
    }

    pub fn unauthorized() -> Self {
        ScimError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "a valid SCIM bearer token is required (relay-server scim token --org SLUG)",
        )
    }
}

impl From<ApiError> for ScimError {
    fn from(err: ApiError) -> Self {
        let status = err.status();
        let scim_type = match &err {
            ApiError::BadRequest(_) => Some("invalidValue"),
            ApiError::Conflict(_) => Some("uniqueness"),
            _ => None,
        };
        let detail = match &err {
            // Logged with its cause when rendered as a problem; never sent.
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error (SCIM)");
                "internal error".to_owned()
            }
            ApiError::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable (SCIM)");
                err.to_string()
            }
            _ => err.to_string(),
        };
        ScimError::new(status, scim_type, detail)
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = scim_type.into();
        }
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        response
    }
}
