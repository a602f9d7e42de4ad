//! [`Executor`]: the small tokio runtime an [`super::EtcdBackend`] owns, and the bridge that lets
//! synchronous callers run etcd-client futures on it.
//!
//! One worker thread drives the I/O and the background watch tasks. A caller outside any tokio
//! runtime blocks on the future directly; a caller inside one (where `block_on` would panic) has
//! the future spawned onto the worker and waits on a plain channel.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

use crate::backend::DatastoreError;

#[derive(Debug)]
pub(crate) struct Executor {
    /// `None` only while dropping.
    rt: Option<Runtime>,
}

impl Executor {
    pub(crate) fn new() -> Result<Self, DatastoreError> {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .thread_name("calico-etcd")
            .enable_all()
            .build()
            .map_err(|e| {
                DatastoreError::Internal(format!("cannot start the etcd client runtime: {e}"))
            })?;
        Ok(Self { rt: Some(rt) })
    }

    fn handle(&self) -> Result<&Handle, DatastoreError> {
        self.rt
            .as_ref()
            .map(Runtime::handle)
            .ok_or_else(|| DatastoreError::Internal("the etcd client runtime is gone".to_owned()))
    }

    /// Run `fut` to completion on this runtime, waiting at most `limit`; `on_timeout` builds the
    /// error for a late answer.
    pub(crate) fn run<T, F>(
        &self,
        limit: Duration,
        on_timeout: impl FnOnce() -> DatastoreError,
        fut: F,
    ) -> Result<T, DatastoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, DatastoreError>> + Send + 'static,
    {
        let handle = self.handle()?;
        let bounded = async move { tokio::time::timeout(limit, fut).await };
        let outcome = if Handle::try_current().is_err() {
            handle.block_on(bounded)
        } else {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            handle.spawn(async move {
                let _ = tx.send(bounded.await);
            });
            rx.recv().map_err(|_| {
                DatastoreError::Internal("an etcd request task stopped without answering".into())
            })?
        };
        match outcome {
            Ok(result) => result,
            Err(_elapsed) => Err(on_timeout()),
        }
    }

    /// Start a background task (a watcher).
    pub(crate) fn spawn<F>(&self, fut: F) -> Result<JoinHandle<()>, DatastoreError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Ok(self.handle()?.spawn(fut))
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Never blocks, so dropping a backend is safe anywhere, even inside another runtime;
        // the watch tasks are cancelled and their channels close.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
