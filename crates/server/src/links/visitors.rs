//! Counting visitors: one a day per address and link, never the sharer, never a preview
//! fetcher; each click credited to the share its link went out with.

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::cache::{Day, Followed, LinkRow, CACHE_LIMIT};
use super::{code_ok, hidden, is_person, store};
use crate::auth::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::programme::{self, ledger};
use crate::state::AppState;

/// What following a link does, for the route above and for the listener's direct path (see
/// `serve.rs`): the redirect, the visitor counted when it is a person.
pub async fn follow_link(
    state: &AppState,
    code: &str,
    method: &Method,
    headers: &axum::http::HeaderMap,
    address: ClientAddr,
) -> ApiResult<Response> {
    // Codes are URL-safe base64: anything else (a NUL, which PostgreSQL cannot even compare)
    // is no link, answered before the database is asked.
    if !code_ok(code) {
        return Err(ApiError::NotFound("link"));
    }
    let link = match state.link_cache.link(code) {
        Some(link) => link,
        None => {
            let row = store::by_code(&state.db, code)
                .await?
                .ok_or(ApiError::NotFound("link"))?;
            let location = HeaderValue::from_str(&row.target)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("a link's target: {e}")))?;
            let link = Arc::new(Followed { row, location });
            state.link_cache.keep_link(link.clone());
            link
        }
    };
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let outcome = if is_person(method, agent) {
        // A click that cannot be counted must not stop the visitor.
        match count(state, &link.row, address).await {
            Ok(click) => click.label(),
            Err(err) => {
                tracing::warn!(error = %err, "a click was not counted");
                "failed"
            }
        }
    } else {
        "not_a_person"
    };
    state.metrics.link_follows.with(&[outcome]).inc();
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, link.location.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// Today's salt, made (and older ones with their visitors deleted) at the first click of a day.
async fn today(state: &AppState) -> Result<Arc<Day>, ApiError> {
    let now = chrono::Utc::now();
    let number = now.timestamp().div_euclid(86_400);
    if let Some(day) = state
        .link_cache
        .0
        .salt
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        if day.number == number {
            return Ok(day);
        }
    }
    let name = now.format("%Y-%m-%d").to_string();
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut tx = state.db.begin().await?;
    let salt = store::salt_of_day(&mut tx, &name, &URL_SAFE_NO_PAD.encode(bytes)).await?;
    tx.commit().await?;
    let day = Arc::new(Day { number, name, salt });
    *state
        .link_cache
        .0
        .salt
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(day.clone());
    Ok(day)
}

/// Notes that a person's device used `address` today (on any signed-in request), so that their
/// own clicks from it are not counted. Written once a day per person and address; the row
/// holds the address hidden by the day's salt and goes with it.
pub fn note_sharer(state: &AppState, person_id: &str, address: std::net::IpAddr) {
    let number = chrono::Utc::now().timestamp().div_euclid(86_400);
    {
        let mut noted = state
            .link_cache
            .0
            .sharers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if noted.0 != number || noted.1.len() >= CACHE_LIMIT {
            *noted = (number, HashSet::new());
        }
        if !noted.1.insert((person_id.to_owned(), address)) {
            return;
        }
    }
    let (state, person_id) = (state.clone(), person_id.to_owned());
    tokio::spawn(async move {
        let written = async {
            let day = today(&state).await?;
            let hidden = URL_SAFE_NO_PAD.encode(hidden(&day, ClientAddr(Some(address))));
            store::note_sharer(&state.db, &person_id, &day.name, &hidden).await
        };
        if let Err(err) = written.await {
            tracing::warn!(error = %err, "a sharer's address was not noted");
        }
    });
}

/// Counts a visitor once a day, and credits the click to the share the link went out with,
/// unless the visitor is the sharer (an address their devices used today).
/// What a person's click was.
enum Click {
    /// A new visitor of this link today.
    Counted,
    /// This visitor was counted today already.
    Repeat,
    /// The sharer following their own link.
    Own,
}

impl Click {
    fn label(&self) -> &'static str {
        match self {
            Click::Counted => "counted",
            Click::Repeat => "repeat",
            Click::Own => "own",
        }
    }
}

async fn count(state: &AppState, link: &LinkRow, address: ClientAddr) -> Result<Click, ApiError> {
    let today = today(state).await?;
    let day = today.name.as_str();
    let address_hash = hidden(&today, address);
    let hash: [u8; 32] = Sha256::new()
        .chain_update(address_hash)
        .chain_update(b"|")
        .chain_update(link.code.as_bytes())
        .finalize()
        .into();
    if state.link_cache.seen(day, &hash) {
        return Ok(Click::Repeat);
    }
    let own = store::is_sharer(
        &state.db,
        &link.person_id,
        day,
        &URL_SAFE_NO_PAD.encode(address_hash),
    )
    .await?;
    if own {
        // The sharer following their own link: not a visitor, now or later today.
        state.link_cache.keep_seen(day, hash);
        return Ok(Click::Own);
    }
    let mut tx = state.db.begin().await?;
    let new_visitor = store::visit(&mut tx, &link.code, day, &URL_SAFE_NO_PAD.encode(hash)).await?;
    if !new_visitor {
        state.link_cache.keep_seen(day, hash);
        return Ok(Click::Repeat);
    }
    store::add_click(&mut tx, &link.code).await?;
    // Under the person's lock, so concurrent clicks cannot pass the cap together.
    let member = ledger::lock_person(&mut tx, &link.person_id).await?;
    let share = ledger::linked_share(&mut tx, &link.code).await?;
    if let Some(share) = &share {
        let calendar =
            programme::calendar::calendar_of(&mut tx, state.config.month_grace, &link.org_id)
                .await?;
        ledger::credit_clicks(&mut tx, share, &member, 1, &calendar).await?;
    }
    tx.commit().await?;
    state.link_cache.keep_seen(day, hash);
    if share.is_some() {
        state.events.programme_moved(&link.org_id);
    }
    Ok(Click::Counted)
}
