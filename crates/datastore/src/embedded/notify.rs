//! Learning that another process wrote the store: inotify on the store's WAL file.
//!
//! Every commit appends frames to `<store>-wal` with `write(2)`, which inotify reports as
//! `IN_MODIFY`. The commit becomes visible to readers a moment after its last frame is written
//! (SQLite then updates the WAL index in shared memory, which inotify does not see), so a wake-up
//! is followed by a few quick `data_version` checks (see `watch::poll`). Where inotify is not
//! available the poller falls back to checking every `poll_interval`.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// Modifications of one store's WAL file.
pub(super) struct WalEvents {
    inotify: Inotify,
}

impl WalEvents {
    /// Watch the WAL of the store at `db_path`; `None` if inotify is unavailable or the WAL does
    /// not exist (the caller's connection must have read the store first).
    pub(super) fn new(db_path: &Path) -> Option<Self> {
        let mut wal = db_path.as_os_str().to_owned();
        wal.push("-wal");
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
        inotify
            .add_watch(&PathBuf::from(wal), AddWatchFlags::IN_MODIFY)
            .ok()?;
        Some(Self { inotify })
    }

    /// Wait until the WAL is written to or `timeout` passes; true if it was written to.
    pub(super) fn wait(&self, timeout: Duration) -> bool {
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
        let ready = matches!(poll(&mut fds, timeout), Ok(n) if n > 0);
        if ready {
            // Drain: one wake-up covers every write so far. Non-blocking, so this ends with
            // EAGAIN (or an empty read) once the queue is empty.
            while matches!(self.inotify.read_events(), Ok(events) if !events.is_empty()) {}
        }
        ready
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_write_to_the_wal_wakes_the_waiter() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calico.db");
        assert!(WalEvents::new(&db).is_none(), "no WAL yet");
        let wal_path = dir.path().join("calico.db-wal");
        let mut wal = std::fs::File::create(&wal_path).unwrap();
        let events = WalEvents::new(&db).unwrap();
        assert!(
            !events.wait(Duration::from_millis(20)),
            "nothing written yet"
        );
        wal.write_all(b"frame").unwrap();
        assert!(events.wait(Duration::from_secs(5)));
        assert!(
            !events.wait(Duration::from_millis(20)),
            "the queue was drained"
        );
    }
}
