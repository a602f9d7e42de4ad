//! A thread living in another network namespace: it enters the namespace, opens the
//! namespace's netlink socket (handed back to [`crate::Kernel`], which then uses it from any
//! thread) and runs the jobs that must run inside the namespace (sysctl writes: `/proc/sys/net`
//! is the namespace of the thread that opens the file).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

use crate::nl::NlSocket;
use crate::{LinuxError, Result};

type Job = Box<dyn FnOnce(std::result::Result<(), &LinuxError>) + Send>;

/// The answer a new worker sends once: the namespace's netlink socket.
pub(crate) type SocketReply = mpsc::Receiver<Result<NlSocket>>;

/// A thread in one network namespace.
pub(crate) struct Worker {
    ns: PathBuf,
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start a worker in the namespace `ns` (opened as `file`). It enters the namespace and
    /// opens a netlink socket there in the background; the socket (or the failure) arrives on
    /// the returned receiver.
    pub fn spawn(ns: &Path, file: File) -> Result<(Self, SocketReply)> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (sock_tx, sock_rx) = mpsc::channel();
        let path = ns.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("netns-worker".into())
            // Jobs are small (file writes): no need for the default 2 MiB stack.
            .stack_size(256 * 1024)
            .spawn(move || {
                let entered =
                    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| LinuxError::Netns {
                        path: path.clone(),
                        source: e.into(),
                    });
                drop(file);
                let _ = sock_tx.send(match &entered {
                    Ok(()) => NlSocket::open().map_err(|source| LinuxError::Netns {
                        path: path.clone(),
                        source,
                    }),
                    Err(e) => Err(LinuxError::Worker(format!(
                        "cannot enter the namespace: {e}"
                    ))),
                });
                while let Ok(job) = rx.recv() {
                    match &entered {
                        Ok(()) => job(Ok(())),
                        Err(e) => job(Err(e)),
                    }
                }
            })
            .map_err(|e| LinuxError::Worker(format!("cannot start a thread: {e}")))?;
        Ok((
            Worker {
                ns: ns.to_path_buf(),
                tx: Some(tx),
                thread: Some(thread),
            },
            sock_rx,
        ))
    }

    /// Run `f` on the worker thread (inside the namespace) and wait for its result.
    pub fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move |entered| {
            let res = match entered {
                Ok(()) => f(),
                Err(e) => Err(LinuxError::Worker(format!(
                    "cannot enter the namespace: {e}"
                ))),
            };
            let _ = tx.send(res);
        });
        let gone = || LinuxError::Worker(format!("worker for {} is gone", self.ns.display()));
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
