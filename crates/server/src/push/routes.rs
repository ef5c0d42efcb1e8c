//! The push API: a device registers where it receives notifications; a person reads and sets
//! their notification preferences (for all their devices).

use axum::extract::State;
use axum::http::StatusCode;
use relay_protocol::{NotificationPrefs, Problem, PushChannel, PushConfig};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::prefs::{parse_clock, Stored};
use super::store;
use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, Json};
use crate::state::AppState;

/// The longest endpoint or token taken.
const MAX_ADDRESS: usize = 2048;

/// What a device needs to subscribe: the services this server delivers through and its VAPID
/// public key.
#[utoipa::path(get, path = "/v1/push/config", tag = "push",
    responses((status = 200, body = PushConfig), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn config(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<PushConfig>> {
    let push = &state.config.push;
    let vapid_public_key = match &push.web_push {
        Some(web_push) => Some(web_push.public_key().map_err(ApiError::Internal)?),
        None => None,
    };
    Ok(Json(PushConfig {
        kinds: push.kinds(),
        vapid_public_key,
    }))
}

/// Checks a channel and splits it into its stored columns.
fn columns(
    state: &AppState,
    channel: &PushChannel,
) -> Result<(String, Option<String>, Option<String>), ApiError> {
    let kind = channel.kind();
    if !state.config.push.kinds().contains(&kind) {
        return Err(ApiError::bad(format!(
            "this server does not deliver through {kind}"
        )));
    }
    let address = match channel {
        PushChannel::WebPush { endpoint, .. } => endpoint,
        PushChannel::Fcm { token } | PushChannel::Apns { token } => token,
    };
    if address.is_empty() || address.len() > MAX_ADDRESS || address.chars().any(char::is_control) {
        return Err(ApiError::bad(format!(
            "the endpoint or token must be 1 to {MAX_ADDRESS} printable characters"
        )));
    }
    match channel {
        PushChannel::WebPush {
            endpoint,
            p256dh,
            auth,
        } => {
            let url = url::Url::parse(endpoint)
                .map_err(|_| ApiError::bad("endpoint must be an absolute URL"))?;
            let local = state.config.push.local_endpoints;
            if url.scheme() != "https" && !(local && url.scheme() == "http") {
                return Err(ApiError::bad("endpoint must be an https URL"));
            }
            // A public host: the server connects where the device says, so never to an
            // internal address (names are checked again when connecting).
            if !local {
                crate::sources::fetch::check_url(&url, &Default::default())
                    .map_err(|_| ApiError::bad("endpoint must be on a public host"))?;
                if url.host_str().is_some_and(|h| {
                    let h = h.trim_end_matches('.').to_ascii_lowercase();
                    h == "localhost" || h.ends_with(".localhost")
                }) {
                    return Err(ApiError::bad("endpoint must be on a public host"));
                }
            }
            if super::webpush::decode_key(p256dh).is_none() {
                return Err(ApiError::bad(
                    "p256dh must be a P-256 public key, base64url",
                ));
            }
            if super::webpush::decode_auth(auth).is_none() {
                return Err(ApiError::bad("auth must be 16 bytes, base64url"));
            }
            Ok((endpoint.clone(), Some(p256dh.clone()), Some(auth.clone())))
        }
        PushChannel::Fcm { token } => Ok((token.clone(), None, None)),
        PushChannel::Apns { token } => {
            if !token.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ApiError::bad("an APNs device token is hexadecimal"));
            }
            Ok((token.clone(), None, None))
        }
    }
}

/// Registers this device's push channel (replacing the one it had). Devices.
#[utoipa::path(put, path = "/v1/me/push", tag = "push", request_body = PushChannel,
    responses((status = 204, description = "Registered"), (status = 400, body = Problem),
        (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Json(channel): Json<PushChannel>,
) -> ApiResult<StatusCode> {
    let (address, p256dh, auth) = columns(&state, &channel)?;
    let kind = channel.kind().as_str();
    let mut tx = state.db.begin().await?;
    let channel = store::Channel {
        kind,
        address: &address,
        p256dh: p256dh.as_deref(),
        auth: auth.as_deref(),
    };
    store::register(&mut tx, &caller, &channel).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops push notifications to this device. Devices.
#[utoipa::path(delete, path = "/v1/me/push", tag = "push",
    responses((status = 204, description = "Removed"), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn unregister(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    store::unregister(&mut tx, &caller.device_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's notification preferences.
#[utoipa::path(get, path = "/v1/me/notifications", tag = "push",
    responses((status = 200, body = NotificationPrefs), (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn get_prefs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<NotificationPrefs>> {
    Ok(Json(
        store::prefs(&state.db, &caller.person_id)
            .await?
            .to_wire(now_ms()),
    ))
}

/// Sets the caller's notification preferences, for all their devices.
#[utoipa::path(put, path = "/v1/me/notifications", tag = "push", request_body = NotificationPrefs,
    responses((status = 200, body = NotificationPrefs), (status = 400, body = Problem),
        (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn set_prefs(
    State(state): State<AppState>,
    caller: Caller,
    Json(prefs): Json<NotificationPrefs>,
) -> ApiResult<Json<NotificationPrefs>> {
    let start = parse_clock("quiet_hours.start", &prefs.quiet_hours.start)?;
    let end = parse_clock("quiet_hours.end", &prefs.quiet_hours.end)?;
    let zone = match prefs.time_zone.as_deref().map(str::trim) {
        Some(zone) => Some(
            crate::programme::calendar::check_zone(zone)?
                .name()
                .to_owned(),
        ),
        None => None,
    };
    let paused_until = prefs.paused_until.map(|t| t.timestamp_millis());
    let stored = Stored {
        push_paused_until: paused_until,
        quiet_start: start,
        quiet_end: end,
        time_zone: zone,
    };
    let mut tx = state.db.begin().await?;
    store::set_prefs(&mut tx, &caller.person_id, &stored).await?;
    tx.commit().await?;
    Ok(Json(
        store::prefs(&state.db, &caller.person_id)
            .await?
            .to_wire(now_ms()),
    ))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(register, unregister))
        .routes(routes!(get_prefs, set_prefs))
}
