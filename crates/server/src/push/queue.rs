//! From new content to notifications waiting for devices: which people an item reached
//! (`scan`), and when a person's waiting items make one notification per device (`batch`).

use std::collections::HashMap;

use relay_protocol::Audience;
use sqlx::Row;

use crate::db::{new_id, now_ms, placeholders};
use crate::error::ApiError;
use crate::state::AppState;

/// Rows written per statement (well under SQLite's bound-parameter limit).
const CHUNK: usize = 400;
/// People made into notifications per pass.
const PEOPLE_PER_BATCH: i64 = 2000;

/// Queues, for every organisation whose feed moved since the last scan, the items that became
/// live for people with a push channel. Exactly one instance scans a given range of versions:
/// it moves the organisation's `push_version` from the value it read, in the same transaction
/// as the rows it queues.
pub async fn scan(state: &AppState) -> Result<usize, ApiError> {
    let orgs =
        sqlx::query("SELECT id, version, push_version FROM orgs WHERE version > push_version")
            .fetch_all(&state.db.read)
            .await?;
    let mut queued = 0;
    for org in orgs {
        let org_id: String = org.try_get("id")?;
        let head: i64 = org.try_get("version")?;
        let from: i64 = org.try_get("push_version")?;
        queued += scan_org(state, &org_id, from, head).await?;
    }
    Ok(queued)
}

struct Recipient {
    id: String,
    country: String,
    language: String,
    department: String,
}

async fn scan_org(state: &AppState, org_id: &str, from: i64, head: i64) -> Result<usize, ApiError> {
    let items = sqlx::query(
        "SELECT id, audience, pushed_audience FROM items \
         WHERE org_id = $1 AND live = 1 AND version > $2 AND version <= $3",
    )
    .bind(org_id)
    .bind(from)
    .bind(head)
    .fetch_all(&state.db.read)
    .await?;
    let recipients: Vec<Recipient> = if items.is_empty() {
        Vec::new()
    } else {
        sqlx::query(
            "SELECT DISTINCT p.id, p.country, p.language, p.department FROM people p \
             JOIN push_channels c ON c.person_id = p.id \
             WHERE p.org_id = $1 AND p.active = 1 AND p.erased_at IS NULL",
        )
        .bind(org_id)
        .fetch_all(&state.db.read)
        .await?
        .into_iter()
        .map(|row| {
            Ok(Recipient {
                id: row.try_get("id")?,
                country: row.try_get("country")?,
                language: row.try_get("language")?,
                department: row.try_get("department")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?
    };

    let mut tx = state.db.begin().await?;
    let claimed =
        sqlx::query("UPDATE orgs SET push_version = $1 WHERE id = $2 AND push_version = $3")
            .bind(head)
            .bind(org_id)
            .bind(from)
            .execute(&mut *tx)
            .await?;
    if claimed.rows_affected() != 1 {
        // Another instance scanned these versions.
        return Ok(0);
    }
    let now = now_ms();
    let due = now + state.config.push.batch_window.as_millis() as i64;
    let mut rows: Vec<(&str, String)> = Vec::new();
    for item in &items {
        let item_id: String = item.try_get("id")?;
        let audience: String = item.try_get("audience")?;
        let told: Option<String> = item.try_get("pushed_audience")?;
        let now_for: Audience = serde_json::from_str(&audience)?;
        let told_for: Option<Audience> = told.as_deref().map(serde_json::from_str).transpose()?;
        for person in &recipients {
            let reached =
                |a: &Audience| a.includes(&person.country, &person.language, &person.department);
            if reached(&now_for) && !told_for.as_ref().is_some_and(reached) {
                rows.push((person.id.as_str(), item_id.clone()));
            }
        }
        sqlx::query("UPDATE items SET pushed_audience = $1 WHERE id = $2")
            .bind(&audience)
            .bind(&item_id)
            .execute(&mut *tx)
            .await?;
    }
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO push_pending (person_id, item_id, org_id, queued_at, due_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 5;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut query = sqlx::query(&sql);
        for (person, item) in chunk {
            query = query
                .bind(*person)
                .bind(item)
                .bind(org_id)
                .bind(now)
                .bind(due);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// A person whose waiting items are due, with what decides whether they are told now.
#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    language: String,
    push_paused_until: Option<i64>,
    quiet_start: i64,
    quiet_end: i64,
    time_zone: String,
}

/// Turns the due items of people who may be told now into one notification per device; puts
/// off those in quiet hours until they end; drops what arrived during a pause.
pub async fn batch(state: &AppState) -> Result<usize, ApiError> {
    let mut made = 0;
    loop {
        let now = now_ms();
        let due: Vec<Due> = sqlx::query_as(
            "SELECT p.id, p.language, p.push_paused_until, p.quiet_start, p.quiet_end, \
             COALESCE(p.time_zone, o.time_zone) AS time_zone \
             FROM people p JOIN orgs o ON o.id = p.org_id \
             WHERE p.id IN (SELECT DISTINCT person_id FROM push_pending WHERE due_at <= $1 \
                            LIMIT $2)",
        )
        .bind(now)
        .bind(PEOPLE_PER_BATCH)
        .fetch_all(&state.db.read)
        .await?;
        if due.is_empty() {
            return Ok(made);
        }
        let full = due.len() as i64 == PEOPLE_PER_BATCH;
        made += batch_people(state, due, now).await?;
        if !full {
            return Ok(made);
        }
    }
}

async fn batch_people(state: &AppState, due: Vec<Due>, now: i64) -> Result<usize, ApiError> {
    let now_utc = crate::db::to_time(now);
    let mut tell = Vec::new();
    let mut tx = state.db.begin().await?;
    for person in due {
        if person.push_paused_until.is_some_and(|until| until > now) {
            sqlx::query("DELETE FROM push_pending WHERE person_id = $1 AND due_at <= $2")
                .bind(&person.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            continue;
        }
        let zone: chrono_tz::Tz = person.time_zone.parse().unwrap_or(chrono_tz::UTC);
        if let Some(until) =
            super::prefs::quiet_until(now_utc, zone, person.quiet_start, person.quiet_end)
        {
            sqlx::query("UPDATE push_pending SET due_at = $1 WHERE person_id = $2")
                .bind(until.timestamp_millis())
                .bind(&person.id)
                .execute(&mut *tx)
                .await?;
            continue;
        }
        tell.push(person);
    }
    let mut made = 0;
    for chunk in tell.chunks(CHUNK) {
        made += notify(&mut tx, chunk, now).await?;
    }
    tx.commit().await?;
    Ok(made)
}

/// Takes these people's waiting items (every one of them, due or not: one notification says
/// it all) and writes a notification for each of their signed-in devices.
async fn notify(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    people: &[Due],
    now: i64,
) -> Result<usize, ApiError> {
    let marks = placeholders(1, people.len());
    let sql = format!(
        "DELETE FROM push_pending WHERE person_id IN ({marks}) RETURNING person_id, item_id"
    );
    let mut take = sqlx::query(&sql);
    for person in people {
        take = take.bind(&person.id);
    }
    // Another instance deleting them first leaves nothing here: it tells them.
    let taken = take.fetch_all(&mut **tx).await?;
    if taken.is_empty() {
        return Ok(0);
    }
    let mut item_ids: Vec<String> = Vec::new();
    let mut items_of: HashMap<String, Vec<String>> = HashMap::new();
    for row in &taken {
        let person: String = row.try_get("person_id")?;
        let item: String = row.try_get("item_id")?;
        if !item_ids.contains(&item) {
            item_ids.push(item.clone());
        }
        items_of.entry(person).or_default().push(item);
    }
    // Items retracted or expired meanwhile are not announced. Newest first.
    let mut titles: HashMap<String, (String, i64)> = HashMap::new();
    for chunk in item_ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, title, COALESCE(published_at, 0) AS published_at FROM items \
             WHERE live = 1 AND id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            titles.insert(
                row.try_get("id")?,
                (row.try_get("title")?, row.try_get("published_at")?),
            );
        }
    }
    let mut devices_of: HashMap<String, Vec<String>> = HashMap::new();
    let sql = format!(
        "SELECT c.device_id, c.person_id FROM push_channels c \
         JOIN sessions s ON s.device_id = c.device_id \
         WHERE s.revoked_at IS NULL AND c.person_id IN ({marks})"
    );
    let mut query = sqlx::query(&sql);
    for person in people {
        query = query.bind(&person.id);
    }
    for row in query.fetch_all(&mut **tx).await? {
        devices_of
            .entry(row.try_get("person_id")?)
            .or_default()
            .push(row.try_get("device_id")?);
    }

    let mut deliveries: Vec<(String, String)> = Vec::new();
    for person in people {
        let Some(items) = items_of.get(&person.id) else {
            continue;
        };
        let mut live: Vec<(String, String, i64)> = items
            .iter()
            .filter_map(|id| titles.get(id).map(|(t, at)| (id.clone(), t.clone(), *at)))
            .collect();
        live.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let pairs: Vec<(String, String)> = live.into_iter().map(|(id, t, _)| (id, t)).collect();
        let Some(payload) = super::message::payload(&pairs, &person.language) else {
            continue;
        };
        let payload = serde_json::to_string(&payload)?;
        for device in devices_of.get(&person.id).into_iter().flatten() {
            deliveries.push((device.clone(), payload.clone()));
        }
    }
    for chunk in deliveries.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO push_deliveries (id, device_id, payload, attempts, next_at, created_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 4;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, 0, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 4
            ));
        }
        let mut query = sqlx::query(&sql);
        for (device, payload) in chunk {
            query = query.bind(new_id()).bind(device).bind(payload).bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(deliveries.len())
}

/// Removes the channels (and waiting notifications) of devices that were signed out.
pub async fn forget_signed_out(state: &AppState) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "DELETE FROM push_deliveries WHERE device_id IN \
         (SELECT device_id FROM sessions WHERE revoked_at IS NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM push_channels WHERE device_id IN \
         (SELECT device_id FROM sessions WHERE revoked_at IS NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
