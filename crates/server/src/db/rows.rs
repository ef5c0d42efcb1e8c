//! Row types shared by several modules, decoded the same way from SQLite and PostgreSQL.

use relay_protocol::{Person, Role};

use crate::error::ApiError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub email: String,
    pub country: String,
    pub language: String,
    pub department: String,
    pub role: String,
    pub active: i64,
    pub audience_epoch: i64,
}

impl PersonRow {
    pub const COLUMNS: &'static str =
        "id, org_id, name, email, country, language, department, role, active, audience_epoch";

    pub fn role(&self) -> Result<Role, ApiError> {
        self.role
            .parse()
            .map_err(|e: relay_protocol::UnknownVariant| ApiError::Internal(e.into()))
    }

    pub fn into_person(self) -> Result<Person, ApiError> {
        Ok(Person {
            role: self.role()?,
            id: self.id,
            name: self.name,
            email: self.email,
            country: self.country,
            language: self.language,
            department: self.department,
            active: self.active != 0,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub slug: String,
    pub name: String,
}

impl From<OrgRow> for relay_protocol::Org {
    fn from(row: OrgRow) -> Self {
        relay_protocol::Org {
            id: row.id,
            slug: row.slug,
            name: row.name,
        }
    }
}
