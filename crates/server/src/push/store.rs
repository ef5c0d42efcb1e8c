//! The push API's rows: a device's channel, and a person's notification preferences.

use sqlx::AnyConnection;

use super::prefs::Stored;
use crate::auth::Caller;
use crate::db::{now_ms, Db};
use crate::error::ApiError;

/// A checked channel, as stored.
pub struct Channel<'a> {
    pub kind: &'a str,
    pub address: &'a str,
    pub p256dh: Option<&'a str>,
    pub auth: Option<&'a str>,
}

/// Registers the caller's device's channel, replacing the one it had.
pub async fn register(
    conn: &mut AnyConnection,
    caller: &Caller,
    channel: &Channel<'_>,
) -> Result<(), ApiError> {
    // A subscription moves with its app: the device that held it before no longer does.
    sqlx::query("DELETE FROM push_channels WHERE (kind = $1 AND address = $2) OR device_id = $3")
        .bind(channel.kind)
        .bind(channel.address)
        .bind(&caller.device_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO push_channels (device_id, org_id, person_id, kind, address, p256dh, auth, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&caller.device_id)
    .bind(&caller.org_id)
    .bind(&caller.person_id)
    .bind(channel.kind)
    .bind(channel.address)
    .bind(channel.p256dh)
    .bind(channel.auth)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a device's channel and what was about to be sent to it.
pub async fn unregister(conn: &mut AnyConnection, device_id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM push_deliveries WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM push_channels WHERE device_id = $1")
        .bind(device_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A person's notification preferences.
pub async fn prefs(db: &Db, person_id: &str) -> Result<Stored, ApiError> {
    sqlx::query_as(
        "SELECT push_paused_until, quiet_start, quiet_end, time_zone FROM people WHERE id = $1",
    )
    .bind(person_id)
    .fetch_optional(&db.read)
    .await?
    .ok_or(ApiError::NotFound("person"))
}

/// Sets a person's preferences; what waits for them is weighed again under the new ones (quiet
/// hours just ended, say).
pub async fn set_prefs(
    conn: &mut AnyConnection,
    person_id: &str,
    prefs: &Stored,
) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE people SET push_paused_until = $1, quiet_start = $2, quiet_end = $3, time_zone = $4 \
         WHERE id = $5",
    )
    .bind(prefs.push_paused_until)
    .bind(prefs.quiet_start)
    .bind(prefs.quiet_end)
    .bind(&prefs.time_zone)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE push_pending SET due_at = $1 WHERE person_id = $2 AND due_at > $1")
        .bind(now_ms())
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
