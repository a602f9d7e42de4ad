//! What a connection does while another process holds the lock.
//!
//! SQLite's built-in `busy_timeout` handler sleeps 1, 2, 5, … up to 100 ms between tries. Under
//! steady writes from other processes a waiter then wakes mostly while the lock is taken again
//! and can starve past its timeout (measured with four processes committing with fsync: a
//! writer gave up after 5 s). This handler retries after short jittered sleeps (20 µs growing to
//! at most 1 ms), so a waiter gets a try in nearly every gap between two commits, and gives up
//! once `timeout` has passed since the first try.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

const FIRST_SLEEP_US: u64 = 20;
const MAX_SLEEP_US: u64 = 1_000;

/// The sleep before retry `attempt` (0-based): doubling from 20 µs to 1 ms, then uniformly
/// jittered over its upper half so that waiting processes do not retry in lockstep.
fn backoff(attempt: i32, random: u64) -> Duration {
    let shift = u32::try_from(attempt.clamp(0, 10)).unwrap_or(10);
    let cap = (FIRST_SLEEP_US << shift).min(MAX_SLEEP_US);
    Duration::from_micros(cap / 2 + random % (cap / 2 + 1))
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// Install the handler on `conn`.
pub(super) fn install(conn: &mut Connection, timeout: Duration) -> rusqlite::Result<()> {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos().into())
        ^ u64::from(std::process::id()) << 32;
    let mut random = seed | 1;
    let mut started = Instant::now();
    conn.busy_handler(Some(move |attempt: i32| {
        if attempt == 0 {
            started = Instant::now();
        }
        if started.elapsed() >= timeout {
            return false;
        }
        random = xorshift(random);
        std::thread::sleep(backoff(attempt, random));
        true
    }))
}

/// Whether `e` says the database was locked by another connection.
pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Run `f` again while it fails with a lock error that SQLite returned without waiting, until
/// `timeout` has passed. Some lock requests never call the busy handler: switching a new file
/// to WAL mode while another process does the same, or reading while another connection
/// recovers the WAL.
pub(super) fn retry<T, E>(
    timeout: Duration,
    busy: impl Fn(&E) -> bool,
    mut f: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let started = Instant::now();
    let mut random = u64::from(std::process::id()) | 1;
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if busy(&e) && started.elapsed() < timeout => {
                random = xorshift(random);
                std::thread::sleep(backoff(attempt, random));
                attempt = attempt.saturating_add(1);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_millisecond_with_jitter() {
        assert!(backoff(0, 0) >= Duration::from_micros(10));
        assert!(backoff(0, u64::MAX) <= Duration::from_micros(20));
        for attempt in [6, 7, 100, i32::MAX] {
            for r in [0, 1, 12_345, u64::MAX] {
                let d = backoff(attempt, r);
                assert!(
                    d >= Duration::from_micros(500) && d <= Duration::from_millis(1),
                    "{d:?}"
                );
            }
        }
        assert_eq!(backoff(-1, 0), backoff(0, 0));
    }

    #[test]
    fn retry_repeats_only_lock_errors_and_only_until_the_timeout() {
        let mut calls = 0;
        let ok: Result<u32, &str> = retry(
            Duration::from_secs(5),
            |e| *e == "busy",
            || {
                calls += 1;
                if calls < 3 { Err("busy") } else { Ok(calls) }
            },
        );
        assert_eq!(ok, Ok(3));

        let mut calls = 0;
        let other: Result<(), &str> = retry(
            Duration::from_secs(5),
            |e| *e == "busy",
            || {
                calls += 1;
                Err("broken")
            },
        );
        assert_eq!((other, calls), (Err("broken"), 1));

        let start = Instant::now();
        let gave_up: Result<(), &str> =
            retry(Duration::from_millis(30), |e| *e == "busy", || Err("busy"));
        assert_eq!(gave_up, Err("busy"));
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
