//! The etcd watcher: one background task per [`crate::Watch`] that turns an etcd watch stream
//! into the backend's ordered event stream and survives etcd restarts.
//!
//! ```text
//!   Backend::watch ──(initial list or seed, synchronous)──► Watcher::run (task on the runtime)
//!        ┌──────────────────────────────────────────────────────────────┐
//!        ▼                                                              │
//!   session: etcd watch from last+1 ── events ──► mpsc ──► Watch::recv  │
//!        │ stream error / end ──────────── backoff 100 ms…2 s ──────────┤
//!        │ canceled, compacted ─► resync: list, diff vs known, InSync ──┘
//!        │ compacted before anything was delivered (After(r)) ─► Err(Compacted), end
//! ```
//!
//! Invariants: `last` is a revision such that every change ≤ `last` has been delivered; a new
//! session asks etcd for changes from `last + 1` and drops anything ≤ `last`, so a reconnect
//! neither loses nor repeats events. `known` (key → mod_revision) is the consumer's view of
//! the prefix, used to compute the difference when history was compacted while disconnected.
//!
//! Catching up (`WatchFrom::After`): the `InSync` after the replayed history is sent once an
//! event at or beyond the store revision seen at watch creation arrives, or once a requested
//! progress notification is confirmed by a keys-only listing equal to `known` (etcd before
//! 3.4.25/3.5.8 may send progress ahead of pending events, etcd#15220; the check makes the
//! `InSync` exact for the state, dropping at worst a create+delete pair that cancels out).
//! `known` starts as the prefix at revision `r`, so it is the consumer's view; when `r` was
//! compacted (but `r + 1` was not) it starts at `r + 1` and the confirmation is asked twice.

use std::sync::mpsc::Sender;
use std::time::Duration;

use etcd_client::{EventType, WatchOptions, WatchResponse};
use tokio::time::{MissedTickBehavior, timeout};

use super::kv::{self, Conn};
use super::resync::{self, Known};
use crate::backend::{DatastoreError, Revision, WatchEvent};

/// How often to ask for a progress notification while catching up.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The consumer dropped the watch.
    ReceiverGone,
    /// Stream error or end, or a refused watch: reconnect after a pause.
    Broken,
    /// etcd no longer has the history from `last + 1`; `oldest` is its compaction revision.
    Compacted { oldest: Revision },
    /// etcd refused the watch for good (the user may not read the prefix).
    Refused(String),
}

/// The consumer dropped its end of the channel.
#[derive(Debug)]
struct Gone;

/// Exponential backoff between reconnect attempts (at most 10 per second).
#[derive(Debug)]
struct Backoff(Duration);

impl Backoff {
    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        d
    }
    fn reset(&mut self) {
        self.0 = BACKOFF_MIN;
    }
}

/// The state of one watch.
pub(crate) struct Watcher {
    pub(crate) conn: Conn,
    pub(crate) prefix: String,
    pub(crate) tx: Sender<crate::Result<WatchEvent>>,
    pub(crate) known: Known,
    pub(crate) last: Revision,
    /// `Some(r)` for `WatchFrom::After(r)` until its `InSync` has been sent.
    pub(crate) catching_up: Option<Revision>,
    /// Whether any change event has been sent yet.
    pub(crate) delivered_any: bool,
    /// `known` was read at `r + 1` (because `r` was compacted), not at `r`.
    pub(crate) seed_ahead: bool,
    /// Consecutive progress notifications confirmed by a listing.
    pub(crate) confirmations: u32,
    pub(crate) dial_timeout: Duration,
    pub(crate) request_timeout: Duration,
}

impl Watcher {
    /// Run until the consumer goes away (or the watch ends on compaction before delivering
    /// anything). Dropping the future (task abort) stops it at once.
    pub(crate) async fn run(mut self) {
        let mut backoff = Backoff(BACKOFF_MIN);
        loop {
            match self.session(&mut backoff).await {
                End::ReceiverGone => return,
                End::Broken => tokio::time::sleep(backoff.next()).await,
                End::Refused(reason) => {
                    let _ = self.tx.send(Err(DatastoreError::Config(format!(
                        "etcd at {} refused the watch on {}: {reason} (check the roles of \
                         ETCD_USERNAME)",
                        self.conn.endpoints, self.prefix
                    ))));
                    return;
                }
                End::Compacted { oldest } => {
                    if let Some(requested) = self.catching_up
                        && !self.delivered_any
                    {
                        let _ = self
                            .tx
                            .send(Err(DatastoreError::Compacted { requested, oldest }));
                        return;
                    }
                    match self.resync().await {
                        Ok(()) => backoff.reset(),
                        Err(Some(Gone)) => return,
                        Err(None) => tokio::time::sleep(backoff.next()).await,
                    }
                }
            }
        }
    }

    fn send(&self, event: WatchEvent) -> Result<(), Gone> {
        self.tx.send(Ok(event)).map_err(|_| Gone)
    }

    fn in_sync(&mut self) -> Result<(), Gone> {
        self.catching_up = None;
        self.send(WatchEvent::InSync {
            revision: self.last,
        })
    }

    /// One etcd watch stream, from creation until it breaks.
    async fn session(&mut self, backoff: &mut Backoff) -> End {
        let (start, end) = kv::prefix_range(&self.prefix);
        let opts = WatchOptions::new()
            .with_range(end)
            .with_start_revision(self.last + 1)
            .with_prev_key();
        let mut client = self.conn.client.clone();
        let limit = self.dial_timeout + self.request_timeout;
        let Ok(Ok(stream)) = timeout(limit, client.watch(start, Some(opts))).await else {
            return End::Broken;
        };
        let (mut requests, mut responses) = stream.split();
        let created = match timeout(self.request_timeout, responses.message()).await {
            Ok(Ok(Some(resp))) if resp.created() && !resp.canceled() => resp,
            Ok(Ok(Some(resp))) if resp.canceled() && resp.compact_revision() > 0 => {
                return End::Compacted {
                    oldest: resp.compact_revision(),
                };
            }
            Ok(Ok(Some(resp))) if resp.cancel_reason().contains("permission denied") => {
                return End::Refused(resp.cancel_reason().to_owned());
            }
            _ => return End::Broken,
        };
        backoff.reset();
        // Everything up to `target` existed when the watch was created: once it has been
        // delivered, the replay is over.
        let target = created.header().map_or(self.last, |h| h.revision());
        if self.catching_up.is_some() && self.last >= target && self.in_sync().is_err() {
            return End::ReceiverGone;
        }
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = responses.message() => {
                    let resp = match msg {
                        Ok(Some(resp)) => resp,
                        Ok(None) | Err(_) => return End::Broken,
                    };
                    if resp.canceled() {
                        if resp.compact_revision() > 0 {
                            return End::Compacted { oldest: resp.compact_revision() };
                        }
                        return End::Broken;
                    }
                    if let Err(Gone) = self.handle(&resp, target).await {
                        return End::ReceiverGone;
                    }
                }
                _ = tick.tick(), if self.catching_up.is_some() => {
                    // A failed request shows up as a broken response stream.
                    let _ = requests.request_progress().await;
                }
            }
        }
    }

    /// Deliver one response's events, or check a progress notification while catching up.
    async fn handle(&mut self, resp: &WatchResponse, target: Revision) -> Result<(), Gone> {
        if resp.events().is_empty() {
            if self.catching_up.is_some() && !resp.created() {
                let progress = resp.header().map_or(0, |h| h.revision());
                if progress >= target && self.confirm(progress).await {
                    self.confirmations += 1;
                    // A view read at `r + 1` can equal the store while the change at `r + 1`
                    // is still on its way; etcd sends pending history within its 100 ms sync
                    // loop, so a second confirmation one tick later settles it.
                    if !self.seed_ahead || self.delivered_any || self.confirmations >= 2 {
                        self.last = self.last.max(progress);
                        self.in_sync()?;
                    }
                } else {
                    self.confirmations = 0;
                }
            }
            return Ok(());
        }
        let mut newest = self.last;
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            let rev = kv.mod_revision();
            if rev <= self.last {
                continue; // replayed after a reconnect: already delivered
            }
            let event = match ev.event_type() {
                EventType::Put => WatchEvent::Put(kv::convert(kv)),
                EventType::Delete => WatchEvent::Delete {
                    key: String::from_utf8_lossy(kv.key()).into_owned(),
                    revision: rev,
                    prev: ev.prev_kv().map(kv::convert),
                },
            };
            resync::apply(&mut self.known, &event);
            self.send(event)?;
            self.delivered_any = true;
            newest = newest.max(rev);
        }
        self.last = newest;
        if self.catching_up.is_some() && self.last >= target {
            self.in_sync()?;
        }
        Ok(())
    }

    /// Is the consumer's view exactly the store's state at `revision`?
    async fn confirm(&self, revision: Revision) -> bool {
        let listing = timeout(
            self.request_timeout,
            kv::list_at(&self.conn, &self.prefix, Some(revision), true),
        )
        .await;
        matches!(listing, Ok(Ok(l)) if resync::matches(&self.known, &l.kvs))
    }

    /// The history since `last` is gone: bring the consumer to the current state by
    /// difference, then `InSync`. `Err(None)`: etcd unreachable, try again later.
    async fn resync(&mut self) -> Result<(), Option<Gone>> {
        let listing = timeout(
            self.request_timeout,
            kv::list_at(&self.conn, &self.prefix, None, false),
        )
        .await;
        let Ok(Ok(listing)) = listing else {
            return Err(None);
        };
        let revision = listing.revision;
        for event in resync::diff(&mut self.known, listing.kvs, revision) {
            if !matches!(event, WatchEvent::InSync { .. }) {
                self.delivered_any = true;
            }
            self.send(event).map_err(Some)?;
        }
        self.last = revision;
        self.catching_up = None;
        Ok(())
    }
}

/// The oldest revision etcd still keeps history for: a throw-away watch from revision 1 is
/// cancelled with the compaction revision (or stays open when nothing was compacted).
pub(crate) async fn oldest_revision(conn: &Conn, limit: Duration) -> Option<Revision> {
    let mut client = conn.client.clone();
    let opts = WatchOptions::new().with_start_revision(1);
    let stream = timeout(limit, client.watch(vec![0u8], Some(opts)))
        .await
        .ok()?
        .ok()?;
    let (_requests, mut responses) = stream.split();
    let deadline = tokio::time::Instant::now() + limit;
    // Bounded by the deadline: a created response, then the cancellation.
    while let Ok(Ok(Some(resp))) = tokio::time::timeout_at(deadline, responses.message()).await {
        if resp.compact_revision() > 0 {
            return Some(resp.compact_revision());
        }
        if resp.canceled() {
            return None;
        }
    }
    None
}
