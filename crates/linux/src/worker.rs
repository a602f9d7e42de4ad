//! One OS thread per network namespace, holding a current-thread tokio runtime and an
//! rtnetlink connection opened inside that namespace. Jobs are closures run on that thread.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

use crate::netns::open_netns;
use crate::{LinuxError, Result};

/// What a job gets: the runtime to block on and the namespace's rtnetlink handle.
pub(crate) struct Ctx {
    pub rt: tokio::runtime::Runtime,
    pub handle: rtnetlink::Handle,
}

type Job = Box<dyn FnOnce(Result<&Ctx, &LinuxError>) + Send>;

/// A thread living in one network namespace.
pub(crate) struct Worker {
    ns: PathBuf,
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Start a worker in `ns`; fails at once if the namespace does not exist. The thread
    /// enters the namespace and opens its netlink socket in the background: a failure there
    /// is reported by the first [`Worker::run`].
    pub fn spawn(ns: &Path) -> Result<Self> {
        let file = open_netns(ns)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let path = ns.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("netns-worker".into())
            .spawn(move || {
                let ctx = enter(&path, file.as_fd());
                while let Ok(job) = rx.recv() {
                    match &ctx {
                        Ok(ctx) => job(Ok(ctx)),
                        Err(e) => job(Err(e)),
                    }
                }
            })
            .map_err(|e| LinuxError::Worker(format!("cannot start a thread: {e}")))?;
        Ok(Worker {
            ns: ns.to_path_buf(),
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Run `f` on the worker thread and wait for its result.
    pub fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move |ctx| {
            let res = match ctx {
                Ok(ctx) => f(ctx),
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

fn enter(path: &Path, fd: std::os::fd::BorrowedFd<'_>) -> Result<Ctx> {
    setns(fd, CloneFlags::CLONE_NEWNET).map_err(|e| LinuxError::Netns {
        path: path.into(),
        source: e.into(),
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| LinuxError::Worker(format!("tokio runtime: {e}")))?;
    let handle = rt.block_on(async {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| LinuxError::Worker(format!("netlink socket: {e}")))?;
        tokio::spawn(conn);
        Ok::<_, LinuxError>(handle)
    })?;
    Ok(Ctx { rt, handle })
}
