//! Watches on the embedded store, including writes made by other processes.
//!
//! ```text
//!  writes in this process ──bump──┐
//!                                 ▼
//!  poller thread ──bump──▶  Hub { generation } ──notify_all──▶ watch thread (one per Watch)
//!  (inotify on the WAL,              ▲                              │ reads log rows > cursor
//!   then PRAGMA data_version;        │                              ▼
//!   only while watches exist)   Watch dropped: stop flag      mpsc channel ──▶ Watch
//! ```
//!
//! SQLite's `PRAGMA data_version` changes whenever another connection (in any process) commits;
//! reading it costs a look at the WAL index in shared memory. The poller (one per open store,
//! only while watches exist) sleeps until inotify reports a write to the WAL file (see
//! [`super::notify`]), then checks it; without inotify it checks every `poll_interval`. Each
//! watch thread then reads the new log rows in one read transaction, in revision order, so no
//! change is skipped or repeated.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::notify::WalEvents;
use super::{Shared, open, ops};
use crate::backend::{DatastoreError, Result, Revision, Watch, WatchEvent, WatchFrom};

/// A watch thread re-reads the log at least this often even without a wake-up, as a safety net.
const MAX_IDLE: Duration = Duration::from_secs(1);
/// With inotify, the poller also checks this often without a WAL write (a safety net, and how
/// soon it notices that the last watch is gone).
const NOTIFY_TICK: Duration = Duration::from_millis(100);
/// After a WAL write, how long the poller keeps checking for the commit to become visible.
const SETTLE: Duration = Duration::from_millis(50);

/// Wake-ups for watch threads.
#[derive(Debug, Default)]
pub(super) struct Hub {
    state: Mutex<HubState>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct HubState {
    generation: u64,
    watches: usize,
    poller_running: bool,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Something may have been written: wake every watch thread.
    pub(super) fn bump(&self) {
        self.lock().generation += 1;
        self.cv.notify_all();
    }

    pub(super) fn active_watches(&self) -> usize {
        self.lock().watches
    }
}

type Tx = Sender<Result<WatchEvent>>;

/// Start a watch: the initial snapshot or replay happens here, the live part in a thread.
pub(super) fn start(shared: &Arc<Shared>, prefix: &str, from: WatchFrom) -> Result<Watch> {
    let mut conn = open::connect(&shared.path, &shared.opts)?;
    let (tx, rx) = channel();
    let read = conn
        .transaction()
        .and_then(|t| {
            let head = ops::meta(&t, "revision")?;
            let oldest = ops::meta(&t, "oldest_kept")?;
            let cursor = match from {
                WatchFrom::Snapshot => {
                    ops::scan(&t, prefix, |kv| tx.send(Ok(WatchEvent::Put(kv))).is_ok())?;
                    head
                }
                WatchFrom::After(rev) if rev + 1 < oldest => {
                    return Ok(Err(DatastoreError::Compacted {
                        requested: rev,
                        oldest,
                    }));
                }
                WatchFrom::After(rev) => {
                    ops::changes(&t, prefix, rev, head, |ev| tx.send(Ok(ev)).is_ok())?;
                    rev.max(head)
                }
            };
            t.finish()?;
            Ok(Ok((head, cursor)))
        })
        .map_err(|e| shared.sql_error("starting a watch", e))?;
    let (head, cursor) = match read {
        Ok(v) => v,
        Err(compacted) => {
            let _ = tx.send(Err(compacted));
            return Ok(Watch::new(rx));
        }
    };
    let _ = tx.send(Ok(WatchEvent::InSync { revision: head }));

    let stop = Arc::new(AtomicBool::new(false));
    register(shared)?;
    let thread_shared = Arc::clone(shared);
    let thread_stop = Arc::clone(&stop);
    let prefix = prefix.to_owned();
    let spawned = thread::Builder::new()
        .name("calico-ds-watch".into())
        .spawn(move || {
            follow(&thread_shared, conn, &prefix, cursor, &tx, &thread_stop);
            thread_shared.hub.lock().watches -= 1;
        });
    if let Err(e) = spawned {
        shared.hub.lock().watches -= 1;
        return Err(DatastoreError::Internal(format!(
            "cannot start a watch thread: {e}"
        )));
    }
    let hub_shared = Arc::clone(shared);
    Ok(Watch::with_cancel(rx, move || {
        stop.store(true, Ordering::SeqCst);
        // Taking the lock orders this store before the thread's next check-then-wait.
        drop(hub_shared.hub.lock());
        hub_shared.hub.cv.notify_all();
    }))
}

/// Count a new watch, starting the poller if none runs.
fn register(shared: &Arc<Shared>) -> Result<()> {
    let mut state = shared.hub.lock();
    state.watches += 1;
    if state.poller_running {
        return Ok(());
    }
    let conn = match open::connect(&shared.path, &shared.opts) {
        Ok(c) => c,
        Err(e) => {
            state.watches -= 1;
            return Err(e);
        }
    };
    let poller_shared = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name("calico-ds-poll".into())
        .spawn(move || poll(&poller_shared, &conn));
    match spawned {
        Ok(_) => {
            state.poller_running = true;
            Ok(())
        }
        Err(e) => {
            state.watches -= 1;
            Err(DatastoreError::Internal(format!(
                "cannot start the watch poller thread: {e}"
            )))
        }
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

/// Wake the watch threads whenever another connection has committed; exit with the last watch.
fn poll(shared: &Shared, conn: &Connection) {
    // Reading once makes sure the WAL file exists before it is watched.
    let _ = ops::meta(conn, "revision");
    let events = WalEvents::new(&shared.path);
    let mut last = data_version(conn).ok();
    let mut changed = || {
        let now = data_version(conn).ok();
        let changed = now != last || now.is_none();
        last = now;
        changed
    };
    loop {
        let written = match &events {
            Some(events) => events.wait(NOTIFY_TICK),
            None => {
                thread::sleep(shared.opts.poll_interval);
                false
            }
        };
        {
            let mut state = shared.hub.lock();
            if state.watches == 0 {
                state.poller_running = false;
                return;
            }
        }
        if changed() {
            shared.hub.bump();
        } else if written {
            // The commit becomes visible just after its last WAL write: check again shortly.
            let start = Instant::now();
            let mut pause = Duration::from_micros(50);
            while start.elapsed() < SETTLE {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
                if changed() {
                    shared.hub.bump();
                    break;
                }
            }
        }
    }
}

/// The live part of a watch: deliver log rows after `cursor` until stopped or disconnected.
fn follow(
    shared: &Shared,
    mut conn: Connection,
    prefix: &str,
    mut cursor: Revision,
    tx: &Tx,
    stop: &AtomicBool,
) {
    let mut seen = shared.hub.lock().generation;
    loop {
        match catch_up(shared, &mut conn, prefix, &mut cursor, tx) {
            Ok(true) => {}
            Ok(false) => return, // The Watch was dropped.
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
        let mut state = shared.hub.lock();
        while state.generation == seen && !stop.load(Ordering::SeqCst) {
            let (next, timeout) = shared
                .hub
                .cv
                .wait_timeout(state, MAX_IDLE)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if timeout.timed_out() {
                break;
            }
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        seen = state.generation;
    }
}

/// Send every change after `cursor`; `Ok(false)` when the receiver is gone.
fn catch_up(
    shared: &Shared,
    conn: &mut Connection,
    prefix: &str,
    cursor: &mut Revision,
    tx: &Tx,
) -> Result<bool> {
    let t = conn
        .transaction()
        .map_err(|e| shared.sql_error("reading changes for a watch", e))?;
    let step = (|| {
        let head = ops::meta(&t, "revision")?;
        if head <= *cursor {
            return Ok(Ok(true));
        }
        let oldest = ops::meta(&t, "oldest_kept")?;
        if *cursor + 1 < oldest {
            return Ok(Err(DatastoreError::Compacted {
                requested: *cursor,
                oldest,
            }));
        }
        let mut open = true;
        ops::changes(&t, prefix, *cursor, head, |ev| {
            open = tx.send(Ok(ev)).is_ok();
            open
        })?;
        *cursor = head;
        Ok(Ok(open))
    })()
    .map_err(|e| shared.sql_error("reading changes for a watch", e))?;
    t.finish()
        .map_err(|e| shared.sql_error("reading changes for a watch", e))?;
    step
}
