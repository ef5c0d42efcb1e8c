//! `GET /v1/events`: a device's or console's live stream of the organisation's events, which
//! ends when its session does.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use relay_protocol::{DrawEvent, Problem, ReconnectEvent, VersionEvent};
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Server-Sent Events: a `version` event with the current version at once, then one each time
/// a newer version of the caller's organisation commits (sync when one arrives); and a
/// `programme` event, at most once a minute, when points, boards or the top ten moved (ask
/// `/v1/programme/summary` with its `ETag`); a `draw` event at once when a month's draw moved
/// (fetch it: its entry list is frozen before the beacon round exists); last, from an instance that stops, a `reconnect`
/// event with the window to reconnect within.
#[utoipa::path(get, path = "/v1/events", tag = "sync",
    responses((status = 200, description = "Server-Sent Events: `version` events (data: a `VersionEvent`), `programme` events, `draw` events (data: a `DrawEvent`), and, last from a stopping instance, a `reconnect` event (data: a `ReconnectEvent`)",
        content_type = "text/event-stream", body = String),
              (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribe before reading the head, so that nothing committed in between is missed.
    let receiver = state.events.subscribe();
    let programme = state.events.subscribe_programme();
    let draws = state.events.draws.subscribe();
    let first = head(&state, &caller.org_id).await?;
    let ended = session_end(state.clone(), &caller);
    let state_for_end = state.clone();
    let org_id = caller.org_id.clone();
    let pacing = state.events.clone();
    let updates = BroadcastStream::new(receiver).filter_map(move |msg| {
        let org_id = org_id.clone();
        let pace = pacing.fan_out_pace();
        async move {
            match msg {
                Ok(msg) if msg.0 == org_id => {
                    if !pace.is_zero() {
                        tokio::time::sleep(pace).await;
                    }
                    Some(Some(msg.1))
                }
                Ok(_) => None,
                // Missed some: read the head again, which is at least as new.
                Err(BroadcastStreamRecvError::Lagged(_)) => Some(None),
            }
        }
    });
    let org_id = caller.org_id.clone();
    let events = state.events.clone();
    let versions = futures::stream::once(async move { Some(first) })
        .chain(updates)
        .then(move |known| {
            let state = state.clone();
            let org_id = org_id.clone();
            async move {
                match known {
                    Some(v) => v,
                    None => head(&state, &org_id).await.unwrap_or(0),
                }
            }
        })
        // Several instances may announce the same version: send each once, in order.
        .scan(i64::MIN, |last, v| {
            let fresh = v > *last;
            if fresh {
                *last = v;
            }
            futures::future::ready(Some(fresh.then_some(v)))
        })
        .filter_map(futures::future::ready)
        .map(move |version| {
            let event = VersionEvent {
                version,
                spread_ms: events.spread_ms(),
            };
            Ok(Event::default()
                .event("version")
                .data(serde_json::to_string(&event).unwrap_or_default()))
        });
    let org_id = caller.org_id.clone();
    let programme = BroadcastStream::new(programme).filter_map(move |msg| {
        let mine = matches!(&msg, Ok(org) if **org == org_id)
            || matches!(msg, Err(BroadcastStreamRecvError::Lagged(_)));
        futures::future::ready(mine.then(|| Ok(Event::default().event("programme").data("{}"))))
    });
    let org_id = caller.org_id.clone();
    let draws = BroadcastStream::new(draws).filter_map(move |msg| {
        let event = match msg {
            Ok(draw) if draw.0 == org_id => Some(DrawEvent {
                month: draw.1.clone(),
            }),
            _ => None,
        };
        futures::future::ready(event.map(|e| {
            Ok(Event::default()
                .event("draw")
                .data(serde_json::to_string(&e).unwrap_or_default()))
        }))
    });
    let programme = futures::stream::select(programme, draws);
    let shutdown = state_for_end.shutdown.clone();
    let farewell = state_for_end.events.clone();
    let stopping = {
        let (signalled, events) = (state_for_end.shutdown.signalled(), farewell.clone());
        async move {
            signalled.await;
            // Counted while this stream still holds its subscription.
            events.farewell_ms();
        }
    };
    let events = futures::stream::select(versions, programme)
        .take_until(futures::future::select(Box::pin(ended), Box::pin(stopping)))
        .map(Some)
        // The instance stops: its devices come to the others spread out, not all at once.
        .chain(futures::stream::once(async move {
            shutdown.is_triggered().then(|| {
                let event = ReconnectEvent {
                    within_ms: farewell.farewell_ms(),
                };
                Ok(Event::default()
                    .event("reconnect")
                    .data(serde_json::to_string(&event).unwrap_or_default()))
            })
        }))
        .filter_map(futures::future::ready);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Resolves when the stream's session stops opening requests: its access token expires, or a
/// change announced for its device or person (revocation, deactivation, a refresh that
/// replaced the token; from any instance) leaves it invalid. The device then reconnects with
/// a fresh token, or learns it was signed out.
fn session_end(state: AppState, caller: &Caller) -> impl std::future::Future<Output = ()> {
    let mut changes = state.sessions.changes();
    let hash = caller.access_hash.clone();
    let (device_id, person_id) = (caller.device_id.clone(), caller.person_id.clone());
    let console = crate::auth::cookie::is_console(caller);
    let expires_in = Duration::from_millis(
        u64::try_from(caller.access_expires_at - crate::db::now_ms()).unwrap_or(0),
    );
    async move {
        let expiry = tokio::time::sleep(expires_in);
        tokio::pin!(expiry);
        loop {
            tokio::select! {
                _ = &mut expiry => return,
                change = changes.recv() => {
                    let recheck = match change {
                        Ok(what) => what.concerns(&device_id, &person_id),
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if recheck && console {
                        // A console session: its own table says whether it still opens requests.
                        if !crate::auth::cookie::still_open(&state, &hash).await.unwrap_or(true) {
                            return;
                        }
                    } else if recheck {
                        let valid = match crate::auth::session_of(&state, &hash).await {
                            Ok(row) => crate::auth::check_session(&row, crate::db::now_ms()).is_ok(),
                            Err(ApiError::Unauthorized { .. }) => false,
                            // The database is unreachable: keep the stream; the expiry still ends it.
                            Err(_) => true,
                        };
                        if !valid {
                            return;
                        }
                    }
                }
            }
        }
    }
}

async fn head(state: &AppState, org_id: &str) -> Result<i64, ApiError> {
    Ok(sqlx::query_scalar("SELECT version FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_one(&state.db.read)
        .await?)
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream))
}
