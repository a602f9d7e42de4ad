//! The typed resource client: `projectcalico.org/v3` resources (and the Kubernetes kinds
//! calico-rs accepts) stored in any datastore [`Backend`].
//!
//! Layer 2 (adapter). It owns the key layout, the resource-version ↔ revision mapping,
//! server-side defaulting and validation, reference checks (a policy's tier must exist),
//! immutable fields, and the objects Calico creates on first use (ClusterInformation and the
//! well-known tiers). Binaries (`calicoctl`, the CNI plugins, `calico-node`) use it; it never
//! prints.
//!
//! Keys follow Calico's etcd layout:
//! `/calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>`; the Kubernetes
//! kinds live under `/calico/resources/v3/k8s/<plural>/...`. Values are the resource as JSON
//! without `resourceVersion`, which is the key's revision.

pub mod config;
mod init;
pub mod ipam_gc;
pub mod ipam_store;
mod keys;

use std::sync::Arc;

use calico_api::{DecodeError, KindInfo, Resource, ValidationError};
use calico_datastore::{Backend, DatastoreError, KeyValue, Revision};

pub use config::{DatastoreConfig, DatastoreType};
pub use init::{CALICO_RS_VERSION, DEFAULT_TIERS};
pub use keys::{key_for, kind_prefix};

/// Errors from the client; messages follow Calico's where Calico has one.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("resource already exists: {kind}({name})")]
    AlreadyExists { kind: String, name: String },
    #[error("resource does not exist: {kind}({name})")]
    NotFound { kind: String, name: String },
    #[error(
        "update conflict: {kind}({name}): the resourceVersion {given} is stale (the stored one \
         is {stored}); get the resource again and retry"
    )]
    Conflict {
        kind: String,
        name: String,
        given: String,
        stored: String,
    },
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{kind}({name}): {message}")]
    Precondition {
        kind: String,
        name: String,
        message: String,
    },
    #[error("stored {kind} at {key} cannot be read: {source}")]
    Stored {
        kind: String,
        key: String,
        source: Box<DecodeError>,
    },
    #[error("{0}")]
    Datastore(#[from] DatastoreError),
    #[error("{0}")]
    Config(String),
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Typed CRUD over a [`Backend`].
#[derive(Clone)]
pub struct Client {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({})", self.backend.name())
    }
}

fn ident(r: &Resource) -> (String, String) {
    (r.kind().to_string(), r.display_name())
}

impl Client {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend }
    }

    /// Open the datastore the configuration names.
    pub fn connect(cfg: &DatastoreConfig) -> Result<Self> {
        let backend: Arc<dyn Backend> = match cfg.datastore_type {
            DatastoreType::Embedded => Arc::new(calico_datastore::embedded::EmbeddedBackend::open(
                &cfg.embedded_path,
            )?),
            DatastoreType::EtcdV3 => Arc::new(calico_datastore::etcd::EtcdBackend::connect(
                cfg.etcd.clone(),
            )?),
        };
        Ok(Self::new(backend))
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    fn decode(&self, info: &KindInfo, kv: KeyValue) -> Result<Resource> {
        let value: serde_json::Value =
            serde_json::from_slice(&kv.value).map_err(|e| ClientError::Stored {
                kind: info.kind.into(),
                key: kv.key.clone(),
                source: Box::new(DecodeError::Syntax(e.to_string())),
            })?;
        let mut r = Resource::from_value(value).map_err(|source| ClientError::Stored {
            kind: info.kind.into(),
            key: kv.key.clone(),
            source: Box::new(source),
        })?;
        r.metadata_mut().resource_version = kv.mod_revision.to_string();
        Ok(r)
    }

    fn encode(r: &Resource) -> Vec<u8> {
        let mut r = r.clone();
        r.metadata_mut().resource_version.clear();
        r.to_value().to_string().into_bytes()
    }

    /// One resource.
    pub fn get(&self, info: &KindInfo, namespace: &str, name: &str) -> Result<Resource> {
        let key = key_for(info, namespace, name);
        match self.backend.get(&key)? {
            Some(kv) => self.decode(info, kv),
            None => Err(ClientError::NotFound {
                kind: info.kind.into(),
                name: display(info, namespace, name),
            }),
        }
    }

    /// Every resource of a kind, in one namespace or (`None`) all of them, sorted by
    /// namespace then name; and the revision of the listing.
    pub fn list(
        &self,
        info: &KindInfo,
        namespace: Option<&str>,
    ) -> Result<(Vec<Resource>, Revision)> {
        let prefix = kind_prefix(info, namespace);
        let res = self.backend.list(&prefix)?;
        let mut out = Vec::with_capacity(res.kvs.len());
        for kv in res.kvs {
            out.push(self.decode(info, kv)?);
        }
        Ok((out, res.revision))
    }

    /// Create a new resource (defaults and validation applied). Fails if it exists.
    pub fn create(&self, mut r: Resource) -> Result<Resource> {
        prepare(&mut r)?;
        self.check_references(&r)?;
        self.check_overlap(&r)?;
        let meta = r.metadata_mut();
        meta.uid = new_uid();
        meta.creation_timestamp = Some(now_rfc3339());
        meta.resource_version.clear();
        let key = key_for(r.info(), r.namespace(), r.name());
        match self.backend.create(&key, &Self::encode(&r)) {
            Ok(kv) => {
                r.metadata_mut().resource_version = kv.mod_revision.to_string();
                Ok(r)
            }
            Err(DatastoreError::AlreadyExists { .. }) => {
                let (kind, name) = ident(&r);
                Err(ClientError::AlreadyExists { kind, name })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Replace an existing resource. When `metadata.resourceVersion` is set it must be the
    /// stored one (compare-and-swap); uid and creationTimestamp are kept from the stored copy.
    pub fn update(&self, mut r: Resource) -> Result<Resource> {
        prepare(&mut r)?;
        let info = r.info();
        let key = key_for(info, r.namespace(), r.name());
        let given = r.metadata().resource_version.clone();
        let expected: Option<Revision> = if given.is_empty() {
            None
        } else {
            Some(given.parse().map_err(|_| ClientError::Precondition {
                kind: r.kind().into(),
                name: r.display_name(),
                message: format!(
                    "metadata.resourceVersion {given:?} is not valid: expected a number as \
                     returned by get"
                ),
            })?)
        };
        let Some(stored_kv) = self.backend.get(&key)? else {
            let (kind, name) = ident(&r);
            return Err(ClientError::NotFound { kind, name });
        };
        let stored_rev = stored_kv.mod_revision;
        if let Some(exp) = expected
            && exp != stored_rev
        {
            let (kind, name) = ident(&r);
            return Err(ClientError::Conflict {
                kind,
                name,
                given,
                stored: stored_rev.to_string(),
            });
        }
        let stored = self.decode(info, stored_kv)?;
        self.check_immutable(&stored, &r)?;
        self.check_references(&r)?;
        self.check_overlap(&r)?;
        {
            let (sm, m) = (stored.metadata(), r.metadata_mut());
            m.uid = sm.uid.clone();
            m.creation_timestamp = sm.creation_timestamp.clone();
        }
        match self
            .backend
            .update(&key, &Self::encode(&r), Some(stored_rev))
        {
            Ok(kv) => {
                r.metadata_mut().resource_version = kv.mod_revision.to_string();
                Ok(r)
            }
            Err(DatastoreError::Conflict { actual, .. }) => {
                let (kind, name) = ident(&r);
                Err(ClientError::Conflict {
                    kind,
                    name,
                    given: stored_rev.to_string(),
                    stored: actual.to_string(),
                })
            }
            Err(DatastoreError::NotFound { .. }) => {
                let (kind, name) = ident(&r);
                Err(ClientError::NotFound { kind, name })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Create, or overwrite whatever is stored (the given resourceVersion is ignored).
    pub fn apply(&self, r: Resource) -> Result<Resource> {
        // Bounded retries: a concurrent writer can make us lose the race a few times.
        let mut last = None;
        for _ in 0..16 {
            let info = r.info();
            let exists = self
                .backend
                .get(&key_for(info, ns_or_default(&r), r.name()))?
                .map(|kv| kv.mod_revision);
            let mut attempt = r.clone();
            let res = match exists {
                None => self.create(attempt),
                Some(rev) => {
                    attempt.metadata_mut().resource_version = rev.to_string();
                    self.update(attempt)
                }
            };
            match res {
                Err(e @ (ClientError::AlreadyExists { .. } | ClientError::Conflict { .. })) => {
                    last = Some(e);
                }
                Err(ClientError::NotFound { .. }) if exists.is_some() => {}
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| {
            ClientError::Datastore(DatastoreError::Internal(
                "apply kept racing with other writers".into(),
            ))
        }))
    }

    /// Delete a resource; `resource_version`, when given, must match.
    pub fn delete(
        &self,
        info: &KindInfo,
        namespace: &str,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<Resource> {
        let namespace = if info.namespaced && namespace.is_empty() {
            "default"
        } else {
            namespace
        };
        let key = key_for(info, namespace, name);
        let disp = display(info, namespace, name);
        let expected = match resource_version.filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<Revision>()
                    .map_err(|_| ClientError::Precondition {
                        kind: info.kind.into(),
                        name: disp.clone(),
                        message: format!(
                            "metadata.resourceVersion {s:?} is not valid: expected a number"
                        ),
                    })?,
            ),
            None => None,
        };
        self.check_delete(info, namespace, name)?;
        match self.backend.delete(&key, expected) {
            Ok(kv) => self.decode(info, kv),
            Err(DatastoreError::NotFound { .. }) => Err(ClientError::NotFound {
                kind: info.kind.into(),
                name: disp,
            }),
            Err(DatastoreError::Conflict {
                actual, expected, ..
            }) => Err(ClientError::Conflict {
                kind: info.kind.into(),
                name: disp,
                given: expected.to_string(),
                stored: actual.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// Defaults (including namespace `default` for namespaced kinds) and validation, without a
/// datastore. Used to check every document before any is written.
pub fn prepare(r: &mut Resource) -> Result<(), ValidationError> {
    if r.info().namespaced && r.metadata().namespace.is_empty() {
        r.metadata_mut().namespace = "default".into();
    }
    r.apply_defaults();
    r.validate()
}

fn ns_or_default(r: &Resource) -> &str {
    if r.info().namespaced && r.namespace().is_empty() {
        "default"
    } else {
        r.namespace()
    }
}

fn display(info: &KindInfo, namespace: &str, name: &str) -> String {
    if info.namespaced {
        format!("{namespace}/{name}")
    } else {
        name.to_string()
    }
}

/// A random RFC 4122 version-4 UUID string.
pub fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Now, as Kubernetes prints timestamps (`2026-11-22T10:00:00Z`).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
