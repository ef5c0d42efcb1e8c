//! Live updates: `GET /v1/events` streams "version N available" (Server-Sent Events) to the
//! devices of an organisation. Across several server instances, PostgreSQL LISTEN/NOTIFY
//! carries each committed version to every instance.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
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

use crate::auth::{cache, Caller, Invalidation, SessionCache};
use crate::error::ApiError;
use crate::state::AppState;

/// The NOTIFY channel that carries committed feed versions between server instances.
pub const FEED_CHANNEL: &str = "relay_feed";

/// The in-process fan-out of committed feed versions, and the newest committed version known
/// per organisation (which answers "nothing new" without a query). Also the programme's
/// "something moved" notices, at most one a minute per organisation.
#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Arc<(String, i64)>>,
    heads: Arc<RwLock<HashMap<String, i64>>>,
    programme: broadcast::Sender<Arc<String>>,
    programme_sent: Arc<std::sync::Mutex<HashMap<String, ProgrammeNotice>>>,
    /// A month's draw moved: `(organisation, month)`, sent at once.
    draws: broadcast::Sender<Arc<(String, String)>>,
    /// The reconnection window this instance gave its streams as it stopped, taken once (the
    /// count of streams falls as they end).
    farewell_ms: Arc<std::sync::OnceLock<u64>>,
    /// The other instances over the same PostgreSQL: the streams each said it held, and when.
    peers: Arc<std::sync::Mutex<HashMap<String, (u64, tokio::time::Instant)>>>,
    /// This instance's name among them (random, made at start).
    instance: Arc<str>,
}

/// When an organisation's last programme notice went out, and whether one waits for the end of
/// its minute.
#[derive(Debug, Clone, Copy)]
struct ProgrammeNotice {
    sent_at: tokio::time::Instant,
    pending: bool,
}

/// Syncs per second a deployment asks for after announcing a version: devices spread theirs
/// over `streams / HERD_SYNCS_PER_SEC` seconds (at most [`MAX_SPREAD`]), counting the streams
/// of every instance over the same database, since all their syncs land on it. 1,000 a second
/// keeps a 2-core machine's other requests fast while 15,000 devices catch up (2,000 did not:
/// `scripts/load.sh`, `docs/benchmarks.md`).
pub const HERD_SYNCS_PER_SEC: u64 = 1_000;
pub const MAX_SPREAD: Duration = Duration::from_secs(30);

/// Announcements are written over a millisecond per this many streams, at most [`MAX_FAN_OUT`].
pub const FAN_OUT_STREAMS_PER_MS: u64 = 30;
pub const MAX_FAN_OUT: Duration = Duration::from_secs(1);

/// The NOTIFY channel on which each instance says how many streams it holds, every
/// [`STREAMS_EVERY`]; a count older than three of those is forgotten (the instance stopped).
pub const STREAMS_CHANNEL: &str = "relay_streams";
pub const STREAMS_EVERY: Duration = Duration::from_secs(5);

/// Programme notices wake every device of an organisation: at most one per this interval.
pub const PROGRAMME_NOTICE_INTERVAL: Duration = Duration::from_secs(60);

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(4096).0,
            heads: Arc::default(),
            programme: broadcast::channel(1024).0,
            programme_sent: Arc::default(),
            draws: broadcast::channel(256).0,
            farewell_ms: Arc::default(),
            peers: Arc::default(),
            instance: uuid::Uuid::new_v4().simple().to_string().into(),
        }
    }
}

impl Events {
    /// Announces a committed version.
    pub fn publish(&self, org_id: &str, version: i64) {
        self.observe(org_id, version);
        // No receivers is fine: nobody is connected.
        let _ = self.tx.send(Arc::new((org_id.to_owned(), version)));
    }

    /// How long devices should spread their syncs over after an announcement, in
    /// milliseconds: nothing with a few hundred streams in the deployment, seconds with
    /// thousands.
    pub fn spread_ms(&self) -> u64 {
        let streams = self.tx.receiver_count() as u64 + self.peer_streams();
        (streams * 1000 / HERD_SYNCS_PER_SEC).min(MAX_SPREAD.as_millis() as u64)
    }

    /// The streams the other instances said they held, lately.
    fn peer_streams(&self) -> u64 {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.retain(|_, (_, said_at)| said_at.elapsed() < STREAMS_EVERY * 3);
        peers.values().map(|(streams, _)| streams).sum()
    }

    /// The window a stopping instance's devices reconnect within, in milliseconds: at the
    /// rate its devices would sync after an announcement, counted from the streams held when
    /// the first of them ended.
    pub fn farewell_ms(&self) -> u64 {
        *self.farewell_ms.get_or_init(|| self.spread_ms())
    }

    /// How long this stream waits before writing an announcement: a random moment within a
    /// window of a millisecond per 30 streams (at most [`MAX_FAN_OUT`]), so that writing
    /// 15,000 announcements does not take both cores at once for a quarter of a second and
    /// hold every other request up meanwhile (`scripts/load.sh`).
    pub fn fan_out_pace(&self) -> Duration {
        let streams = self.tx.receiver_count() as u64;
        let window = Duration::from_millis(streams / FAN_OUT_STREAMS_PER_MS).min(MAX_FAN_OUT);
        window.mul_f64(rand::random::<f64>())
    }

    /// Records a version read from the database (committed, so safe to serve up to).
    pub fn observe(&self, org_id: &str, version: i64) {
        if self.head(org_id).is_none_or(|known| known < version) {
            let mut heads = self.heads.write().unwrap_or_else(|e| e.into_inner());
            let head = heads.entry(org_id.to_owned()).or_insert(version);
            *head = (*head).max(version);
        }
    }

    /// The newest committed version this instance knows of.
    pub fn head(&self, org_id: &str) -> Option<i64> {
        self.heads
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(org_id)
            .copied()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<(String, i64)>> {
        self.tx.subscribe()
    }

    /// Says that an organisation's programme (points, boards, top ten) moved: at once when no
    /// notice went out in the last minute, else once at the end of that minute. Devices then
    /// ask `/v1/programme/summary`, whose `ETag` tells them whether anything changed for them.
    pub fn programme_moved(&self, org_id: &str) {
        let now = tokio::time::Instant::now();
        let mut sent = self
            .programme_sent
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match sent.get_mut(org_id) {
            Some(notice) if now < notice.sent_at + PROGRAMME_NOTICE_INTERVAL => {
                if notice.pending {
                    return;
                }
                notice.pending = true;
                let due = notice.sent_at + PROGRAMME_NOTICE_INTERVAL;
                let events = self.clone();
                let org = org_id.to_owned();
                tokio::spawn(async move {
                    tokio::time::sleep_until(due).await;
                    let mut sent = events
                        .programme_sent
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    sent.insert(
                        org.clone(),
                        ProgrammeNotice {
                            sent_at: tokio::time::Instant::now(),
                            pending: false,
                        },
                    );
                    let _ = events.programme.send(Arc::new(org));
                });
            }
            _ => {
                sent.insert(
                    org_id.to_owned(),
                    ProgrammeNotice {
                        sent_at: now,
                        pending: false,
                    },
                );
                let _ = self.programme.send(Arc::new(org_id.to_owned()));
            }
        }
    }

    /// Says that an organisation's draw of `month` moved (committed, frozen, drawn): at once,
    /// so devices see the frozen list before the beacon round exists.
    pub fn draw_moved(&self, org_id: &str, month: &str) {
        let _ = self
            .draws
            .send(Arc::new((org_id.to_owned(), month.to_owned())));
    }

    /// Another instance's "instance streams" (this instance's own are counted live instead).
    fn peer_said(&self, payload: &str) {
        let Some((instance, streams)) = payload.split_once(' ') else {
            return;
        };
        if instance == &*self.instance {
            return;
        }
        if let Ok(streams) = streams.parse::<u64>() {
            let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
            // Bounded: a name per instance, and stale ones go at the next count.
            if peers.len() < 1_000 || peers.contains_key(instance) {
                peers.insert(instance.to_owned(), (streams, tokio::time::Instant::now()));
            }
        }
    }

    pub fn subscribe_programme(&self) -> broadcast::Receiver<Arc<String>> {
        self.programme.subscribe()
    }

    /// Forwards NOTIFYs from every server instance on the same PostgreSQL (feed versions,
    /// session invalidations, the streams each holds), reconnecting after failures, and says
    /// every [`STREAMS_EVERY`] how many streams this one holds, until the server stops.
    pub fn listen_postgres(
        &self,
        db: crate::db::Db,
        sessions: SessionCache,
        shutdown: crate::shutdown::Shutdown,
    ) -> tokio::task::JoinHandle<()> {
        let events = self.clone();
        let stop = shutdown.signalled();
        tokio::spawn(async move {
            tokio::select! {
                _ = events.forward_postgres(db.url().to_owned(), sessions) => {}
                _ = events.tell_streams(&db) => {}
                _ = stop => {}
            }
        })
    }

    async fn tell_streams(&self, db: &crate::db::Db) {
        let mut every = tokio::time::interval(STREAMS_EVERY);
        loop {
            every.tick().await;
            let said = format!("{} {}", self.instance, self.tx.receiver_count());
            if let Err(err) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(STREAMS_CHANNEL)
                .bind(said)
                .execute(&db.write)
                .await
            {
                tracing::info!(error = %err, "cannot tell the other instances our streams");
            }
        }
    }

    async fn forward_postgres(&self, url: String, sessions: SessionCache) {
        let events = self.clone();
        {
            loop {
                match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        match listener
                            .listen_all([FEED_CHANNEL, cache::CHANNEL, STREAMS_CHANNEL])
                            .await
                        {
                            Err(err) => tracing::warn!(error = %err, "LISTEN failed"),
                            Ok(()) => {
                                tracing::info!("listening for other instances' changes");
                                // Whatever was announced while nobody listened is unknown.
                                sessions.invalidate(&Invalidation::All);
                                loop {
                                    match listener.recv().await {
                                        Ok(note) => events.on_notification(
                                            note.channel(),
                                            note.payload(),
                                            &sessions,
                                        ),
                                        Err(err) => {
                                            tracing::warn!(error = %err, "lost the LISTEN connection");
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot open the LISTEN connection"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    fn on_notification(&self, channel: &str, payload: &str, sessions: &SessionCache) {
        if channel == cache::CHANNEL {
            if let Some(what) = Invalidation::parse(payload) {
                sessions.invalidate(&what);
            }
        } else if channel == STREAMS_CHANNEL {
            self.peer_said(payload);
        } else if let Some((org, version)) = payload.split_once(' ') {
            if let Ok(version) = version.parse() {
                self.publish(org, version);
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::{Events, MAX_SPREAD, STREAMS_EVERY};

    #[test]
    fn the_spread_grows_with_the_streams_held_up_to_its_cap() {
        let events = Events::default();
        assert_eq!(events.spread_ms(), 0);
        let few: Vec<_> = (0..200).map(|_| events.subscribe()).collect();
        assert_eq!(events.spread_ms(), 200, "200 streams: a fifth of a second");
        let many: Vec<_> = (0..14_800).map(|_| events.subscribe()).collect();
        assert_eq!(events.spread_ms(), 15_000, "15,000 streams: 15 s");
        let more: Vec<_> = (0..40_000).map(|_| events.subscribe()).collect();
        assert_eq!(events.spread_ms(), MAX_SPREAD.as_millis() as u64);
        drop((few, many, more));
        assert_eq!(events.spread_ms(), 0, "streams gone, nothing to spread");
    }

    #[test]
    fn the_spread_counts_the_other_instances_streams_while_they_are_fresh() {
        let events = Events::default();
        let mine: Vec<_> = (0..5_000).map(|_| events.subscribe()).collect();
        assert_eq!(events.spread_ms(), 5_000);
        events.peer_said("instance-b 5000");
        events.peer_said("instance-c 5000");
        events.peer_said("instance-b 6000");
        assert_eq!(
            events.spread_ms(),
            16_000,
            "every instance's streams sync on one database"
        );
        // Its own count, heard back through PostgreSQL, is not counted twice; garbage is ignored.
        events.peer_said(&format!("{} 5000", events.instance));
        events.peer_said("instance-d lots");
        events.peer_said("[]");
        assert_eq!(events.spread_ms(), 16_000);
        // instance-b last spoke three periods ago: it stopped.
        let long_ago = tokio::time::Instant::now()
            .checked_sub(STREAMS_EVERY * 3)
            .unwrap();
        events
            .peers
            .lock()
            .unwrap()
            .get_mut("instance-b")
            .unwrap()
            .1 = long_ago;
        assert_eq!(events.spread_ms(), 10_000);
        assert!(!events.peers.lock().unwrap().contains_key("instance-b"));
        drop(mine);
    }
}
