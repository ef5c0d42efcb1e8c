//! One-time console sign-in links, printed by `relay-server console-link` for a curator or an
//! admin. The token is in the link's fragment, which browsers never send to a server (nor to
//! its logs); the page posts it once, so a mail scanner opening the link consumes nothing.

use relay_protocol::{Person, Role};

use crate::auth::{hash_secret, new_token, TokenKind};
use crate::db::{now_ms, Db};
use crate::error::ApiError;

/// A new sign-in link for `person`: refused for employees and for deactivated accounts.
pub async fn create(
    db: &Db,
    org_id: &str,
    person: &Person,
    public_url: &str,
    valid: std::time::Duration,
) -> Result<String, ApiError> {
    check_person(person)?;
    let token = new_token(TokenKind::ConsoleLink);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO console_links (hash, org_id, person_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&token))
    .bind(org_id)
    .bind(&person.id)
    .bind(now)
    .bind(now + valid.as_millis() as i64)
    .execute(&db.write)
    .await?;
    Ok(format!(
        "{}/console/#/signin/{token}",
        public_url.trim_end_matches('/')
    ))
}

/// Who may hold a console session: curators and admins whose account is active.
pub fn check_person(person: &Person) -> Result<(), ApiError> {
    if !person.active {
        return Err(ApiError::Forbidden("this account is deactivated".into()));
    }
    if !person.role.includes(Role::Curator) {
        return Err(ApiError::Forbidden(format!(
            "the console is for curators and admins; {} is an employee",
            person.email
        )));
    }
    Ok(())
}

/// Uses up a link: the organisation and person it was made for, once, before it expires.
pub async fn redeem(db: &Db, token: &str) -> Result<(String, String), ApiError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "UPDATE console_links SET used_at = $1 \
         WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING org_id, person_id",
    )
    .bind(now_ms())
    .bind(hash_secret(token.trim()))
    .fetch_optional(&db.write)
    .await?;
    row.ok_or_else(|| {
        ApiError::unauthorized(
            "sign_in_refused",
            "this sign-in link is unknown, already used or expired: ask for a new one",
        )
    })
}
