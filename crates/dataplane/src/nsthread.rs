//! One OS thread that lives in the dataplane's network namespace. Every `nft` process is
//! spawned from it (a child inherits the spawning thread's namespace) and every netlink
//! socket and `/proc/sys/net` write is made on it, so the dataplane acts in exactly one
//! namespace whichever thread calls it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

/// The worker thread. Dropping it stops the thread.
pub struct NsThread {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for NsThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NsThread")
    }
}

impl NsThread {
    /// Start a thread in the namespace `path` (`None`: the calling thread's namespace, which
    /// is captured now).
    pub fn spawn(path: Option<&Path>) -> Result<Self> {
        let path: PathBuf = path.map_or_else(|| "/proc/thread-self/ns/net".into(), Into::into);
        let file = File::open(&path).map_err(|e| Error::Netns {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
        let thread = std::thread::Builder::new()
            .name("dataplane-netns".into())
            .spawn(move || {
                let entered = setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| Error::Netns {
                    path: path.clone(),
                    detail: format!("setns: {e}"),
                });
                let ok = entered.is_ok();
                let _ = ready_tx.send(entered);
                if !ok {
                    return;
                }
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .map_err(|e| Error::Netns {
                path: "/proc/thread-self/ns/net".into(),
                detail: format!("cannot start a thread: {e}"),
            })?;
        ready_rx.recv().map_err(|_| Error::WorkerGone)??;
        Ok(NsThread {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Run `f` on the thread and wait for its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.tx
            .as_ref()
            .ok_or(Error::WorkerGone)?
            .send(job)
            .map_err(|_| Error::WorkerGone)?;
        rx.recv().map_err(|_| Error::WorkerGone)
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
