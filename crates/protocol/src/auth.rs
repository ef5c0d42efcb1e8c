use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::wire_enum! {
    /// What a person may do in their organisation. Each role includes the ones before it.
    Role {
        /// Reads the feed, shares, sees their own points.
        Employee = "employee",
        /// Also writes, approves and retracts content.
        Curator = "curator",
        /// Also manages people, channels, enrolments and every device session.
        Admin = "admin",
    }
}

impl Role {
    /// Whether this role includes the rights of `needed`.
    pub fn includes(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Employee => 0,
            Role::Curator => 1,
            Role::Admin => 2,
        }
    }
}

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Org {
    pub id: String,
    pub name: String,
    pub slug: String,
}

/// A person of an organisation. Country, language and department decide which content they see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    /// ISO 3166-1 alpha-2, upper case (`FR`).
    pub country: String,
    /// BCP 47 primary language, lower case (`fr`).
    pub language: String,
    pub department: String,
    pub role: Role,
    pub active: bool,
}

/// Body of `POST /v1/people`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    pub email: String,
    pub country: String,
    pub language: String,
    #[serde(default)]
    pub department: String,
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Employee
}

/// Body of `PATCH /v1/people/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    pub name: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub department: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates the person and revokes every session of theirs.
    pub active: Option<bool>,
}

/// Body of `POST /v1/people/{id}/enrolments`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    /// How long the code stays valid; 7 days when absent, at most 30 days.
    pub valid_hours: Option<u32>,
}

/// A one-time enrolment code for a person, to be redeemed by one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enrolment {
    pub person_id: String,
    /// The code to type in the app (`ABCD-EFGH-JKLM-NPQR`). Shown once; the server keeps a hash.
    pub code: String,
    /// The same as a link the app opens: `relay://enrol?server=...&code=...`.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// Body of `POST /v1/enrol`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub code: String,
    /// A name the person recognises in their list of devices ("Work laptop").
    pub device_name: String,
    /// `linux`, `macos`, `windows`, `android`, `ios`, `cli`...
    pub platform: String,
}

/// A device session's tokens. The access token goes in `Authorization: Bearer`; the refresh
/// token buys a new pair at `POST /v1/session/refresh` and is rotated on every use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionTokens {
    pub device_id: String,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Answer to a redeemed enrolment: the new session and who it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolResponse {
    pub session: SessionTokens,
    pub person: Person,
    pub org: Org,
}

/// Body of `POST /v1/session/refresh`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub person: Person,
    pub org: Org,
    pub device_id: String,
}

/// One enrolled device of a person, as listed at `GET /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSession {
    pub device_id: String,
    pub person_id: String,
    pub device_name: String,
    pub platform: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// `GET /v1/auth/oidc`: the company's identity provider, where devices sign in (absent: 404).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcProvider {
    pub issuer: String,
    pub client_id: String,
    pub authorization_endpoint: String,
    pub scopes: Vec<String>,
}

/// Body of `POST /v1/auth/oidc`: the code the browser brought back to the device, with what
/// the server needs to exchange it (PKCE) and check the ID token (the nonce the device sent).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OidcSignIn {
    pub code: String,
    pub code_verifier: String,
    pub redirect_uri: String,
    pub nonce: String,
    pub device_name: String,
    pub platform: String,
}

impl std::fmt::Debug for OidcSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSignIn")
            .field("redirect_uri", &self.redirect_uri)
            .field("device_name", &self.device_name)
            .finish_non_exhaustive()
    }
}
