//! People of an organisation and their enrolment codes. Admins manage them, one at a time
//! (`routes.rs`) or by a CSV file (`import.rs`). What a person's fields must be is here; the
//! queries in `store.rs`.

pub mod import;
pub mod routes;
pub mod store;

use relay_protocol::{NewPerson, Role};

use crate::content::sanitize;
use crate::error::ApiError;

pub use routes::router;
pub use store::{add, email_taken, find_by_email, get, insert, list, update, update_in};

pub(crate) fn email(value: &str) -> Result<String, ApiError> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(value)
    } else {
        Err(ApiError::bad("email is not a valid address"))
    }
}

/// A new person's fields, checked and normalised.
pub struct Checked {
    pub name: String,
    pub email: String,
    pub country: String,
    pub language: String,
    pub department: String,
    pub role: Role,
}

/// Checks a new person's fields (names, address, country and language codes).
pub fn check(new: NewPerson) -> Result<Checked, ApiError> {
    Ok(Checked {
        name: sanitize::text("name", &new.name, 1, 200)?,
        email: email(&new.email)?,
        country: sanitize::country("country", &new.country)?,
        language: sanitize::language("language", &new.language)?,
        department: sanitize::text("department", &new.department, 0, 100)?,
        role: new.role,
    })
}
