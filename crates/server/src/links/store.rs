//! The tracked links' rows: links, the day's salt, visitors and sharers' addresses (both
//! hidden by the salt, and gone with it).

use relay_protocol::Network;
use sqlx::AnyConnection;

use super::cache::LinkRow;
use super::new_code;
use crate::auth::Caller;
use crate::db::{now_ms, Db};
use crate::error::ApiError;

const LINK_COLUMNS: &str = "code, org_id, person_id, item_id, network, target, clicks";

/// The caller's link for an item on a network, made unless it exists; says whether it was made.
pub async fn make(
    conn: &mut AnyConnection,
    caller: &Caller,
    item_id: &str,
    network: Network,
    target: &str,
) -> Result<(bool, LinkRow), ApiError> {
    let made = sqlx::query(
        "INSERT INTO links (code, org_id, person_id, item_id, network, target, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id, item_id, network) DO NOTHING",
    )
    .bind(new_code())
    .bind(&caller.org_id)
    .bind(&caller.person_id)
    .bind(item_id)
    .bind(network.as_str())
    .bind(target)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let row: LinkRow = sqlx::query_as(&format!(
        "SELECT {LINK_COLUMNS} FROM links WHERE person_id = $1 AND item_id = $2 AND network = $3"
    ))
    .bind(&caller.person_id)
    .bind(item_id)
    .bind(network.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok((made, row))
}

pub async fn by_code(db: &Db, code: &str) -> Result<Option<LinkRow>, ApiError> {
    Ok(
        sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM links WHERE code = $1"))
            .bind(code)
            .fetch_optional(&db.read)
            .await?,
    )
}

/// The salt of `day` (`YYYY-MM-DD`): `fresh` when the day has none yet, and then every older
/// day's salt, visitors and sharers' addresses are deleted (yesterday's cannot be recomputed).
pub async fn salt_of_day(
    conn: &mut AnyConnection,
    day: &str,
    fresh: &str,
) -> Result<String, ApiError> {
    let made = sqlx::query(
        "INSERT INTO link_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
    )
    .bind(day)
    .bind(fresh)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if made {
        for table in ["link_visitors", "sharer_addresses", "link_salts"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE day < $1"))
                .bind(day)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(
        sqlx::query_scalar("SELECT salt FROM link_salts WHERE day = $1")
            .bind(day)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Notes that a person's device used an address (hidden) on `day`.
pub async fn note_sharer(
    db: &Db,
    person_id: &str,
    day: &str,
    address: &str,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO sharer_addresses (person_id, day, address) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(person_id)
    .bind(day)
    .bind(address)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// Whether a person's devices used this address (hidden) on `day`.
pub async fn is_sharer(
    db: &Db,
    person_id: &str,
    day: &str,
    address: &str,
) -> Result<bool, ApiError> {
    let own: Option<String> = sqlx::query_scalar(
        "SELECT day FROM sharer_addresses WHERE person_id = $1 AND day = $2 AND address = $3",
    )
    .bind(person_id)
    .bind(day)
    .bind(address)
    .fetch_optional(&db.read)
    .await?;
    Ok(own.is_some())
}

/// Records a visitor of a link on `day`; says whether they are new (a unique row decides, so
/// instances agree).
pub async fn visit(
    conn: &mut AnyConnection,
    code: &str,
    day: &str,
    visitor: &str,
) -> Result<bool, ApiError> {
    Ok(sqlx::query(
        "INSERT INTO link_visitors (code, day, visitor) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(code)
    .bind(day)
    .bind(visitor)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn add_click(conn: &mut AnyConnection, code: &str) -> Result<(), ApiError> {
    sqlx::query("UPDATE links SET clicks = clicks + 1 WHERE code = $1")
        .bind(code)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
