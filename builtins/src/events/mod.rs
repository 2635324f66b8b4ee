//! The events service (`events/events.go` of Docker 1.2): jobs `log`
//! (record an event), `events` (replay and stream them) and
//! `subscribers_count`.
//!
//! Events have the v1.24 shape (`status`, `id`, `from`, `Type`, `Action`,
//! `Actor{ID, Attributes}`, `time`, `timeNano`): today's `docker run` takes a
//! container's exit code from the `die` event's `Actor.Attributes.exitCode`
//! and hangs on events without `status`. Each event is written as one JSON
//! line and reaches the client as it happens. The last 64 events are kept
//! for `since`. A subscriber too slow to keep up misses events rather than
//! stalling everyone (the original gave each subscriber 100 ms per event).

mod filter;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use engine::names::{self, env};
use engine::{Engine, EngineError, ErrorKind, Job, Status};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;

pub use filter::EventFilter;

/// How many past events are kept for `since`.
pub const EVENTS_LIMIT: usize = 64;
/// How many events may queue for one subscriber before it misses some.
const SUBSCRIBER_QUEUE: usize = 1024;

/// One event, as the API sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The action (legacy field, kept for today's CLI which reads it).
    pub status: String,
    /// The actor's ID (legacy field).
    pub id: String,
    /// The container's image (legacy field), omitted when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// `container`, `image`, `network`, `volume`.
    #[serde(rename = "Type")]
    pub typ: String,
    /// What happened: `create`, `start`, `die`, ...
    #[serde(rename = "Action")]
    pub action: String,
    /// Who it happened to.
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Unix seconds.
    pub time: i64,
    /// Unix nanoseconds.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

/// The subject of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// Its ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its attributes (`name`, `image`, `exitCode`, labels, ...).
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// The events service. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    recent: Mutex<VecDeque<Arc<Event>>>,
    live: broadcast::Sender<Arc<Event>>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// An empty service.
    pub fn new() -> Self {
        let (live, _) = broadcast::channel(SUBSCRIBER_QUEUE);
        Self { inner: Arc::new(Inner { recent: Mutex::new(VecDeque::with_capacity(EVENTS_LIMIT)), live }) }
    }

    /// Registers `events`, `log` and `subscribers_count`.
    pub fn install(&self, eng: &Engine) -> Result<(), EngineError> {
        let this = self.clone();
        eng.register(names::EVENTS, move |job| this.clone().get(job))?;
        let this = self.clone();
        eng.register(names::LOG, move |job| this.clone().log(job))?;
        let this = self.clone();
        eng.register(names::SUBSCRIBERS_COUNT, move |job| this.clone().subscribers_count(job))?;
        Ok(())
    }

    /// Records an event and hands it to every live subscriber.
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        // One lock for both, so a subscriber sees each event exactly once:
        // either in its replay or live.
        let mut recent = self.inner.recent.lock();
        if recent.len() == EVENTS_LIMIT {
            recent.pop_front();
        }
        recent.push_back(event.clone());
        let _ = self.inner.live.send(event);
    }

    /// The recent events and a receiver for everything after them.
    pub fn subscribe(&self) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>) {
        let recent = self.inner.recent.lock();
        (recent.iter().cloned().collect(), self.inner.live.subscribe())
    }

    /// The number of live subscribers.
    pub fn subscribers(&self) -> usize {
        self.inner.live.receiver_count()
    }

    /// `log ACTION ID FROM`, with optional env `Type` (default `container`)
    /// and `Attributes` (a JSON object of strings).
    async fn log(self, job: Job) -> Status {
        let args = job.args();
        let [action, id, from] = args.as_slice() else {
            return job.fail(ErrorKind::BadParameter, "usage: log ACTION ID FROM").await;
        };
        let typ = match job.getenv(env::EVENT_TYPE) {
            t if t.is_empty() => "container".to_string(),
            t => t,
        };
        let mut attributes: BTreeMap<String, String> = match job.getenv_json(env::EVENT_ATTRIBUTES) {
            Ok(a) => a.unwrap_or_default(),
            Err(e) => return job.fail(ErrorKind::BadParameter, format!("log: invalid Attributes: {e}")).await,
        };
        if typ == "container" && !from.is_empty() {
            attributes.entry("image".to_string()).or_insert_with(|| from.clone());
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.publish(Event {
            status: action.clone(),
            id: id.clone(),
            from: from.clone(),
            typ,
            action: action.clone(),
            actor: Actor { id: id.clone(), attributes },
            time: now.as_secs() as i64,
            time_nano: now.as_nanos() as i64,
        });
        Status::OK
    }

    /// `events` with env `since`, `until` (Unix seconds, may be fractional)
    /// and `filters`.
    async fn get(self, job: Job) -> Status {
        let (since, until) = match (parse_time(&job.getenv(env::SINCE)), parse_time(&job.getenv(env::UNTIL))) {
            (Ok(s), Ok(u)) => (s, u),
            (Err(e), _) | (_, Err(e)) => return job.fail(ErrorKind::BadParameter, e).await,
        };
        let filter = match job.getenv_json(env::FILTERS).map(Option::unwrap_or_default) {
            Ok(filters) => match EventFilter::new(filters) {
                Ok(f) => f,
                Err(e) => return job.fail(ErrorKind::BadParameter, e).await,
            },
            Err(e) => return job.fail(ErrorKind::BadParameter, format!("invalid filters: {e}")).await,
        };
        let wanted = |ev: &Event| {
            since.is_none_or(|s| ev.time_nano >= s) && until.is_none_or(|u| ev.time_nano <= u) && filter.matches(ev)
        };

        let (recent, mut live) = self.subscribe();
        // Sends the response headers now: clients wait for them before
        // starting containers whose events they want.
        if job.print("").await.is_err() {
            return Status::OK;
        }
        if since.is_some() {
            for ev in recent.iter().filter(|ev| wanted(ev)) {
                if let Err(e) = write_event(&job, ev).await {
                    return job.errorf(e).await;
                }
            }
        }
        let deadline = until.map(|u| tokio::time::Instant::now() + until_from_now(u));
        loop {
            let next = async {
                match deadline {
                    Some(at) => tokio::time::timeout_at(at, live.recv()).await.ok(),
                    None => Some(live.recv().await),
                }
            };
            match next.await {
                None => return Status::OK,
                Some(Ok(ev)) if wanted(&ev) => {
                    if let Err(e) = write_event(&job, &ev).await {
                        return job.errorf(e).await;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    tracing::warn!(missed, "an events subscriber was too slow and missed events");
                }
                Some(Err(broadcast::error::RecvError::Closed)) => return Status::OK,
            }
        }
    }

    async fn subscribers_count(self, job: Job) -> Status {
        let _ = job.print(format!("{{\"count\":{}}}", self.subscribers())).await;
        Status::OK
    }
}

async fn write_event(job: &Job, ev: &Event) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(ev).map_err(std::io::Error::other)?;
    line.push(b'\n');
    job.stdout().write(&line).await.map(drop)
}

/// `""` → none; `1700000000` or `1700000000.5` → nanoseconds.
fn parse_time(raw: &str) -> Result<Option<i64>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid = || format!("invalid timestamp {raw:?}: expected Unix seconds");
    let (secs, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let secs: i64 = secs.parse().map_err(|_| invalid())?;
    let mut nanos = 0i64;
    if !frac.is_empty() {
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = digits.parse().map_err(|_| invalid())?;
    }
    // Docker 1.2 took 0 as "not set"; today's dockerd takes it as the epoch,
    // so `docker events --since 0` replays every buffered event, which is
    // what users of today's CLI expect.
    Ok(Some(secs.saturating_mul(1_000_000_000).saturating_add(nanos)))
}

fn until_from_now(until_nanos: i64) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as i64;
    Duration::from_nanos(until_nanos.saturating_sub(now).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time(""), Ok(None));
        assert_eq!(parse_time("0"), Ok(Some(0)));
        assert_eq!(parse_time("12"), Ok(Some(12_000_000_000)));
        assert_eq!(parse_time("12.5"), Ok(Some(12_500_000_000)));
        assert_eq!(parse_time("12.000000001"), Ok(Some(12_000_000_001)));
        assert!(parse_time("soon").is_err());
        assert!(parse_time("1.x").is_err());
    }

    #[test]
    fn the_ring_keeps_the_last_64() {
        let events = Events::new();
        for i in 0..70 {
            events.publish(Event {
                status: format!("e{i}"),
                id: String::new(),
                from: String::new(),
                typ: "container".into(),
                action: format!("e{i}"),
                actor: Actor { id: String::new(), attributes: BTreeMap::new() },
                time: i,
                time_nano: i,
            });
        }
        let (recent, _) = events.subscribe();
        assert_eq!(recent.len(), EVENTS_LIMIT);
        assert_eq!(recent[0].status, "e6");
        assert_eq!(recent[63].status, "e69");
    }
}
