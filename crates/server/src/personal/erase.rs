//! Erasure: the person's identity, devices, links and leaderboard entries go; what the company's
//! past figures count (shares, consults, draw entries, content they wrote) stays, moved to an
//! anonymous tombstone that nothing ties back to them (follower counts rounded: an exact one
//! could). Then the disk: on SQLite, deleted content is overwritten (`secure_delete`, on for
//! every connection) and the write-ahead log checkpointed and truncated, so no file of the
//! database holds the person; on PostgreSQL the touched tables are vacuumed (what backups and
//! PostgreSQL's own log still hold is in `docs/privacy.md`).

use relay_protocol::{DrawWinner, Erasure, Role};
use sqlx::AnyConnection;

use crate::auth::cache::Invalidation;
use crate::db::{new_id, now_ms, to_time};
use crate::error::ApiError;
use crate::state::AppState;

/// Who asked for an erasure.
#[derive(Debug, Clone, Copy)]
pub enum Requester<'a> {
    /// The person, from their app.
    Themselves,
    /// An admin, from the console.
    Admin(&'a str),
    /// The company's directory, deleting the user it provisioned (SCIM), with its token's id.
    Directory(&'a str),
}

/// Tables an erasure rewrites beyond those that name the person (`data::TABLES`): the
/// visitors of their links, and published draw results.
const ALSO_SCRUBBED: [&str; 2] = ["link_visitors", "draws"];

/// What a winner erased from a past draw is called in its published result.
const ERASED_NAME: &str = "—";

/// Erases `person_id` of `org_id` in one transaction, and signs out every device and console
/// session of theirs on every instance.
pub async fn erase(
    state: &AppState,
    org_id: &str,
    person_id: &str,
    requester: Requester<'_>,
) -> Result<Erasure, ApiError> {
    let mut tx = state.db.begin().await?;
    let lock = crate::db::Backend::of(&tx).for_update();
    let row: Option<(i64, String)> = sqlx::query_as(&format!(
        "SELECT active, role FROM people \
         WHERE id = $1 AND org_id = $2 AND erased_at IS NULL{lock}"
    ))
    .bind(person_id)
    .bind(org_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (active, role) = row.ok_or(ApiError::NotFound("person"))?;
    if role == Role::Admin.as_str() && active != 0 {
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM people WHERE org_id = $1 AND role = $2 AND active = 1 \
             AND erased_at IS NULL AND id <> $3",
        )
        .bind(org_id)
        .bind(Role::Admin.as_str())
        .bind(person_id)
        .fetch_one(&mut *tx)
        .await?;
        if others == 0 {
            return Err(ApiError::Conflict(
                "this is the organisation's only admin: appoint another admin first".into(),
            ));
        }
    }

    let now = now_ms();
    let anon = new_id();
    // The tombstone names nobody and keeps no attribute: the months' figures group its shares
    // by the attributes fixed for each month (`month_members`, handed over below), and a
    // country-language-department combination of its own could point back at the person.
    sqlx::query(
        "INSERT INTO people (id, org_id, name, email, country, language, department, role, active, \
         audience_epoch, created_at, erased_at) VALUES ($1, $2, '', $1, '', '', '', $3, 0, 0, $4, $4)",
    )
    .bind(&anon)
    .bind(org_id)
    .bind(Role::Employee.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let devices: Vec<String> =
        sqlx::query_scalar("SELECT device_id FROM sessions WHERE person_id = $1")
            .bind(person_id)
            .fetch_all(&mut *tx)
            .await?;
    forget_winner(&mut tx, person_id).await?;
    // The months' adoption counts their devices still.
    crate::analytics::adoption::keep_for_tombstone(&mut tx, state, org_id, person_id, &anon)
        .await?;

    let mut anonymised = 0;
    for statement in [
        "UPDATE shares SET person_id = $1, device_id = id, post_url = NULL, post_id = NULL, \
         link_code = NULL, post_key = NULL, account_key = NULL, reported_followers = NULL, \
         status_reason = NULL, check_after = NULL WHERE person_id = $2",
        "UPDATE consults SET person_id = $1 WHERE person_id = $2",
        // The month's figures keep the groups the person counted in.
        "UPDATE month_members SET person_id = $1 WHERE person_id = $2",
        // And the points each month's team boards count (the all-time total goes below).
        "UPDATE points_totals SET person_id = $1 WHERE person_id = $2 AND month <> '*'",
        "UPDATE draw_entries SET person_id = $1 WHERE person_id = $2",
        "UPDATE items SET created_by = $1 WHERE created_by = $2",
        "UPDATE items SET approved_by = $1 WHERE approved_by = $2",
        "UPDATE points_rules SET set_by = $1 WHERE set_by = $2",
        "UPDATE audit_log SET actor_id = $1 WHERE actor_id = $2",
        // What was recorded about them (names, device names) goes with the subject.
        "UPDATE audit_log SET subject_id = $1, detail = '{}' WHERE subject_id = $2",
    ] {
        anonymised += run(&mut tx, statement, &anon, person_id).await?;
    }
    // Months whose figures are kept already need none of it.
    crate::analytics::members::forget_kept(&mut tx, &anon).await?;
    // An exact follower count can name an account: the tombstone keeps two significant digits.
    one(
        &mut tx,
        "UPDATE shares SET followers = CASE \
            WHEN followers >= 1000000 THEN (followers / 100000) * 100000 \
            WHEN followers >= 100000 THEN (followers / 10000) * 10000 \
            WHEN followers >= 10000 THEN (followers / 1000) * 1000 \
            WHEN followers >= 1000 THEN (followers / 100) * 100 \
            WHEN followers >= 100 THEN (followers / 10) * 10 \
            ELSE followers END \
         WHERE person_id = $1 AND followers IS NOT NULL",
        &anon,
    )
    .await?;
    for device in &devices {
        anonymised += run(
            &mut tx,
            "UPDATE audit_log SET subject_id = $1, detail = '{}' WHERE subject_id = $2",
            &anon,
            device,
        )
        .await?;
    }

    let mut deleted = 0;
    for device in &devices {
        deleted += one(
            &mut tx,
            "DELETE FROM read_batches WHERE device_id = $1",
            device,
        )
        .await?;
    }
    for statement in [
        "DELETE FROM link_visitors WHERE code IN (SELECT code FROM links WHERE person_id = $1)",
        "DELETE FROM points_ledger WHERE person_id = $1",
        "DELETE FROM social_accounts WHERE person_id = $1",
        "DELETE FROM sharer_addresses WHERE person_id = $1",
        "DELETE FROM points_totals WHERE person_id = $1",
        "DELETE FROM links WHERE person_id = $1",
        "DELETE FROM board_members WHERE person_id = $1",
        "DELETE FROM draw_opt_outs WHERE person_id = $1",
        "DELETE FROM push_deliveries WHERE device_id IN \
         (SELECT device_id FROM sessions WHERE person_id = $1)",
        "DELETE FROM push_pending WHERE person_id = $1",
        "DELETE FROM push_channels WHERE person_id = $1",
        "DELETE FROM enrolments WHERE person_id = $1",
        "DELETE FROM sessions WHERE person_id = $1",
        "DELETE FROM console_links WHERE person_id = $1",
        "DELETE FROM console_sessions WHERE person_id = $1",
        "DELETE FROM scim_users WHERE person_id = $1",
        "DELETE FROM people WHERE id = $1",
    ] {
        deleted += one(&mut tx, statement, person_id).await?;
    }

    let (actor, by, token) = match requester {
        Requester::Themselves => (Some(anon.as_str()), "themselves", None),
        Requester::Admin(admin) => (Some(admin), "admin", None),
        Requester::Directory(token) => (None, "directory", Some(token)),
    };
    crate::audit::record(
        &mut tx,
        org_id,
        actor,
        "person.erase",
        &anon,
        serde_json::json!({
            "by": by, "deleted": deleted, "anonymised": anonymised, "scim_token": token
        }),
    )
    .await?;
    let stale = Invalidation::Person(person_id.to_owned());
    stale.announce(&mut tx, state.db.backend).await?;
    tx.commit().await?;
    state.sessions.invalidate(&stale);
    let touched: Vec<&'static str> = super::data::TABLES
        .iter()
        .map(|(table, _)| *table)
        .chain(ALSO_SCRUBBED)
        .collect();
    if let Err(e) = crate::db::scrub(&state.db, &touched).await {
        // The erasure stands (it is committed): the files are scrubbed once readers let go.
        tracing::warn!(error = %e, "erasure committed; scrubbing the database files again shortly");
        let state = state.clone();
        tokio::spawn(async move {
            while crate::db::scrub(&state.db, &touched).await.is_err() {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        });
    }
    Ok(Erasure {
        erased_at: to_time(now),
        deleted,
        anonymised,
    })
}

async fn run(
    conn: &mut AnyConnection,
    statement: &str,
    first: &str,
    second: &str,
) -> Result<u64, ApiError> {
    Ok(sqlx::query(statement)
        .bind(first)
        .bind(second)
        .execute(conn)
        .await?
        .rows_affected())
}

async fn one(conn: &mut AnyConnection, statement: &str, value: &str) -> Result<u64, ApiError> {
    Ok(sqlx::query(statement)
        .bind(value)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Published draw results name their winners: an erased winner's name becomes a dash (the entry
/// id stays, so the draw can still be verified).
async fn forget_winner(conn: &mut AnyConnection, person_id: &str) -> Result<(), ApiError> {
    let won: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT d.org_id, d.month, e.entry_id, d.winners FROM draws d \
         JOIN draw_entries e ON e.org_id = d.org_id AND e.month = d.month \
         WHERE e.person_id = $1 AND d.winners IS NOT NULL",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    for (org_id, month, entry_id, winners) in won {
        let mut winners: Vec<DrawWinner> = serde_json::from_str(&winners)?;
        let mut changed = false;
        for w in winners.iter_mut().filter(|w| w.entry_id == entry_id) {
            w.name = ERASED_NAME.into();
            changed = true;
        }
        if changed {
            sqlx::query("UPDATE draws SET winners = $1 WHERE org_id = $2 AND month = $3")
                .bind(serde_json::to_string(&winners)?)
                .bind(&org_id)
                .bind(&month)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
