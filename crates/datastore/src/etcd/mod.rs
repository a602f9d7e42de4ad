//! [`EtcdBackend`]: the [`Backend`] over etcd v3 (`DATASTORE_TYPE=etcdv3`).
//!
//! The backend is synchronous like the trait: it owns a one-worker tokio runtime
//! ([`runtime`]) and runs each etcd-client call on it with a deadline, so an unreachable etcd
//! gives [`DatastoreError::Unavailable`] naming the endpoints instead of a hang. Writes are
//! single etcd transactions ([`kv`]); watches are background tasks ([`watch`]) that reconnect
//! with backoff, resume from the last delivered revision, and resynchronise by difference
//! ([`resync`]) when etcd compacted the history they needed while they were disconnected.
//!
//! Revisions are etcd's own (`mod_revision`, `create_revision`, header revisions). The runtime
//! lives while the backend or any watch made from it does, so a watch outlives the handle that
//! created it; it stops when the last of them is dropped.

mod config;
mod error;
mod kv;
mod resync;
mod runtime;
mod watch;

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::Duration;

use etcd_client::Client;

pub use self::config::{
    DATASTORE_TYPE, DEFAULT_DIAL_TIMEOUT, DEFAULT_ENDPOINT, DEFAULT_REQUEST_TIMEOUT, EtcdConfig,
};
use self::error::Kind;
use self::kv::Conn;
use self::runtime::Executor;
use self::watch::Watcher;
use crate::backend::{
    Backend, DatastoreError, KeyValue, ListResult, Result, Revision, Watch, WatchEvent, WatchFrom,
};

/// The etcd v3 backend. Thread-safe; share it behind an `Arc`.
#[derive(Debug)]
pub struct EtcdBackend {
    conn: Conn,
    cfg: EtcdConfig,
    // Declared last so it is dropped after the connection handles; shared with the watches.
    exec: Arc<Executor>,
}

impl EtcdBackend {
    /// Connect to the cluster in `cfg` and check that it answers: fails with
    /// [`DatastoreError::Unavailable`] (naming the endpoints) within about
    /// `cfg.dial_timeout` when it does not, or [`DatastoreError::Config`] for bad settings or
    /// refused credentials.
    pub fn connect(cfg: EtcdConfig) -> Result<Self> {
        cfg.validate()?;
        let opts = cfg.connect_options()?;
        let exec = Arc::new(Executor::new()?);
        let endpoints: Arc<str> = Arc::from(cfg.endpoint_list());
        let eps = cfg.endpoints.clone();
        let what = Arc::clone(&endpoints);
        let client = exec.run(
            cfg.dial_timeout,
            || error::timed_out(&endpoints, "the connection attempt", cfg.dial_timeout),
            async move {
                Client::connect(eps, Some(opts))
                    .await
                    .map_err(|e| error::map(&what, "connect", e))
            },
        )?;
        let backend = Self {
            conn: Conn { client, endpoints },
            cfg,
            exec,
        };
        // The client connects lazily: one read proves the cluster is there.
        let dial = backend.cfg.dial_timeout;
        backend
            .call(dial, "a first read", kv::revision(backend.conn.clone()))
            .map_err(|e| match e {
                DatastoreError::Unavailable(m) => {
                    DatastoreError::Unavailable(format!("cannot connect: {m}"))
                }
                other => other,
            })?;
        Ok(backend)
    }

    /// [`EtcdBackend::connect`] with [`EtcdConfig::from_env`].
    pub fn from_env() -> Result<Self> {
        Self::connect(EtcdConfig::from_env()?)
    }

    /// The settings this backend was connected with.
    pub fn config(&self) -> &EtcdConfig {
        &self.cfg
    }

    /// The oldest revision whose change etcd still keeps (its last compaction revision), or
    /// `None` when nothing has been compacted.
    pub fn oldest_revision(&self) -> Result<Option<Revision>> {
        let conn = self.conn.clone();
        let limit = self.cfg.request_timeout;
        self.call(limit * 2, "a history probe", async move {
            Ok(watch::oldest_revision(&conn, limit).await)
        })
    }

    fn call<T, F>(&self, limit: Duration, what: &str, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let eps = &self.conn.endpoints;
        self.exec
            .run(limit, || error::timed_out(eps, what, limit), fut)
    }

    fn request<T, F>(&self, what: impl FnOnce() -> String, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let limit = self.cfg.request_timeout;
        let eps = &self.conn.endpoints;
        self.exec
            .run(limit, || error::timed_out(eps, &what(), limit), fut)
    }

    /// The consumer's starting view for `WatchFrom::After(r)`: the prefix at revision `r`
    /// (keys only). When `r` itself is compacted but `r + 1` is not, the view at `r + 1`, marked
    /// `ahead`. `Ok(None)`: compacted.
    fn seed(&self, prefix: &str, r: Revision) -> Result<Option<Seed>> {
        if r <= 0 {
            // Nothing exists before etcd's first revision.
            return Ok(Some(Seed::default()));
        }
        // Bounded: a retry happens only when `r` was in the future and the store moved past
        // it between two reads.
        for _ in 0..3 {
            match self.list_keys_at(prefix, Some(r))? {
                Ok(listing) => return Ok(Some(Seed::exact(&listing))),
                Err((Kind::Compacted, _)) => {
                    return match self.list_keys_at(prefix, Some(r + 1))? {
                        Ok(listing) => Ok(Some(Seed {
                            known: resync::known_from(&listing.kvs),
                            ahead: true,
                        })),
                        Err((Kind::Compacted, _)) => Ok(None),
                        Err((_, e)) => Err(e),
                    };
                }
                Err((Kind::FutureRevision, _)) => {
                    // Nothing can change between now and `r` without passing the watch.
                    match self.list_keys_at(prefix, None)? {
                        Ok(now) if now.revision <= r => return Ok(Some(Seed::exact(&now))),
                        Ok(_) => {}
                        Err((_, e)) => return Err(e),
                    }
                }
                Err((_, e)) => return Err(e),
            }
        }
        Err(DatastoreError::Unavailable(format!(
            "etcd at {}: the store kept changing while starting a watch on {prefix}",
            self.conn.endpoints
        )))
    }

    /// A keys-only listing at `at` (now for `None`), with the classified error.
    fn list_keys_at(
        &self,
        prefix: &str,
        at: Option<Revision>,
    ) -> Result<std::result::Result<ListResult, (Kind, DatastoreError)>> {
        let conn = self.conn.clone();
        let p = prefix.to_owned();
        self.request(
            || format!("list {prefix} at revision {}", at.unwrap_or(0)),
            async move { Ok(kv::list_at(&conn, &p, at, true).await) },
        )
    }
}

/// See [`EtcdBackend::seed`].
#[derive(Debug, Default)]
struct Seed {
    known: resync::Known,
    /// The view includes the changes at `r + 1`, which the watch will replay.
    ahead: bool,
}

impl Seed {
    fn exact(listing: &ListResult) -> Self {
        Self {
            known: resync::known_from(&listing.kvs),
            ahead: false,
        }
    }
}

impl Backend for EtcdBackend {
    fn name(&self) -> &'static str {
        DATASTORE_TYPE
    }

    fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let fut = kv::get(self.conn.clone(), key.to_owned());
        self.request(|| format!("get {key}"), fut)
    }

    fn list(&self, prefix: &str) -> Result<ListResult> {
        let fut = kv::list(self.conn.clone(), prefix.to_owned());
        self.request(|| format!("list {prefix}"), fut)
    }

    fn create(&self, key: &str, value: &[u8]) -> Result<KeyValue> {
        let fut = kv::create(self.conn.clone(), key.to_owned(), value.to_vec());
        self.request(|| format!("create {key}"), fut)
    }

    fn update(&self, key: &str, value: &[u8], expected: Option<Revision>) -> Result<KeyValue> {
        let fut = kv::update(self.conn.clone(), key.to_owned(), value.to_vec(), expected);
        self.request(|| format!("update {key}"), fut)
    }

    fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        let fut = kv::delete(self.conn.clone(), key.to_owned(), expected);
        self.request(|| format!("delete {key}"), fut)
    }

    fn revision(&self) -> Result<Revision> {
        let fut = kv::revision(self.conn.clone());
        self.request(|| "read the store revision".to_owned(), fut)
    }

    fn compact(&self, revision: Revision) -> Result<()> {
        let fut = kv::compact(self.conn.clone(), revision);
        self.request(|| format!("compact to revision {revision}"), fut)
    }

    fn watch(&self, prefix: &str, from: WatchFrom) -> Result<Watch> {
        let (tx, rx) = channel();
        let mut watcher = Watcher {
            conn: self.conn.clone(),
            prefix: prefix.to_owned(),
            tx,
            known: resync::Known::new(),
            last: 0,
            catching_up: None,
            delivered_any: false,
            seed_ahead: false,
            confirmations: 0,
            dial_timeout: self.cfg.dial_timeout,
            request_timeout: self.cfg.request_timeout,
        };
        match from {
            WatchFrom::Snapshot => {
                let listing = self.list(prefix)?;
                watcher.known = resync::known_from(&listing.kvs);
                watcher.last = listing.revision;
                // The receiver is still ours, so these sends cannot fail.
                for kv in listing.kvs {
                    let _ = watcher.tx.send(Ok(WatchEvent::Put(kv)));
                }
                let _ = watcher.tx.send(Ok(WatchEvent::InSync {
                    revision: listing.revision,
                }));
            }
            WatchFrom::After(r) => {
                let Some(seed) = self.seed(prefix, r)? else {
                    let oldest = self.oldest_revision()?.unwrap_or(r.max(0) + 2);
                    let _ = watcher.tx.send(Err(DatastoreError::Compacted {
                        requested: r,
                        oldest,
                    }));
                    return Ok(Watch::new(rx));
                };
                watcher.known = seed.known;
                watcher.seed_ahead = seed.ahead;
                watcher.last = r.max(0);
                watcher.catching_up = Some(r);
            }
        }
        let task = self.exec.spawn(watcher.run())?;
        let exec = Arc::clone(&self.exec);
        Ok(Watch::with_cancel(rx, move || {
            task.abort();
            // The last owner stops the runtime (without blocking).
            drop(exec);
        }))
    }
}
