//! Channels: the topics content is filed under. Part of the feed (devices receive the list
//! whenever it changes).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{Channel, NewChannel, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Curator};
use crate::content::sanitize;
use crate::db::{new_id, Db};
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;
use crate::sync::version::FeedTx;

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: String,
    slug: String,
    names: String,
}

impl ChannelRow {
    fn into_channel(self) -> Result<Channel, ApiError> {
        Ok(Channel {
            id: self.id,
            slug: self.slug,
            names: serde_json::from_str(&self.names)?,
        })
    }
}

pub async fn list_all(db: &Db, org_id: &str) -> Result<Vec<Channel>, ApiError> {
    let rows: Vec<ChannelRow> =
        sqlx::query_as("SELECT id, slug, names FROM channels WHERE org_id = $1 ORDER BY slug")
            .bind(org_id)
            .fetch_all(&db.read)
            .await?;
    rows.into_iter().map(ChannelRow::into_channel).collect()
}

/// Creates a channel. The slug is unique in the organisation.
pub async fn create(
    state: &AppState,
    org_id: &str,
    actor: Option<&str>,
    new: NewChannel,
) -> Result<Channel, ApiError> {
    let slug = new.slug.trim().to_ascii_lowercase();
    if slug.is_empty()
        || slug.len() > 64
        || !slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::bad(
            "slug must be 1 to 64 letters, digits or dashes",
        ));
    }
    if new.names.is_empty() {
        return Err(ApiError::bad("names needs at least one language"));
    }
    let mut names = BTreeMap::new();
    for (lang, name) in new.names {
        names.insert(
            sanitize::language("names language", &lang)?,
            sanitize::text("channel name", &name, 1, 100)?,
        );
    }
    let mut ftx = FeedTx::begin(&state.db, org_id).await?;
    let taken: Option<String> =
        sqlx::query_scalar("SELECT id FROM channels WHERE org_id = $1 AND slug = $2")
            .bind(org_id)
            .bind(&slug)
            .fetch_optional(&mut *ftx.tx)
            .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict(format!(
            "a channel {slug:?} already exists"
        )));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO channels (id, org_id, slug, names, version) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(&slug)
    .bind(serde_json::to_string(&names)?)
    .bind(ftx.version)
    .execute(&mut *ftx.tx)
    .await?;
    crate::audit::record(
        &mut ftx.tx,
        org_id,
        actor,
        "channel.create",
        &id,
        serde_json::json!({ "slug": slug }),
    )
    .await?;
    ftx.commit(&state.events).await?;
    Ok(Channel { id, slug, names })
}

/// The organisation's channels.
#[utoipa::path(get, path = "/v1/channels", tag = "content",
    responses((status = 200, body = Vec<Channel>)), security(("bearer" = [])))]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Channel>>> {
    Ok(Json(list_all(&state.db, &caller.org_id).await?))
}

/// Adds a channel. Curators.
#[utoipa::path(post, path = "/v1/channels", tag = "curation", request_body = NewChannel,
    responses((status = 201, body = Channel), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn add(
    State(state): State<AppState>,
    Curator(caller): Curator,
    Json(new): Json<NewChannel>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    Ok((
        StatusCode::CREATED,
        Json(create(&state, &caller.org_id, Some(&caller.person_id), new).await?),
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, add))
}
