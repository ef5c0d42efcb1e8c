//! Live updates: `GET /v1/events` streams "version N available" (Server-Sent Events) to the
//! devices of an organisation. Across several server instances, PostgreSQL LISTEN/NOTIFY
//! carries each committed version to every instance.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::auth::{cache, Invalidation, SessionCache};

pub mod routes;

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

    /// The live event streams open on this instance.
    pub fn live_streams(&self) -> usize {
        self.tx.receiver_count()
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
