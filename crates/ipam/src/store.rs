//! The narrow compare-and-swap store the engine is written against.
//!
//! Five operations over four record kinds. Every record read carries the [`Revision`] it was
//! read at; `update` and `delete` succeed only if the record still has that revision
//! ([`StoreError::Conflict`] otherwise), `create` only if the record does not exist
//! ([`StoreError::AlreadyExists`]). The engine retries conflicts itself, so implementations
//! never retry. Revisions only need to change on every write of a key; a store-wide counter
//! (etcd's `mod_revision`) is fine.

use ipnet::IpNet;

use crate::addr::IpVersion;
use crate::model::{Block, BlockAffinity, Handle, IpamConfig};

/// The revision a record was read or written at.
pub type Revision = i64;

/// Identifies one record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKey {
    Block(IpNet),
    Affinity { host: String, cidr: IpNet },
    Handle(String),
    Config,
}

/// One record.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Block(Block),
    Affinity(BlockAffinity),
    Handle(Handle),
    Config(IpamConfig),
}

impl Record {
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Block(b) => RecordKey::Block(b.cidr),
            Record::Affinity(a) => RecordKey::Affinity {
                host: a.node.clone(),
                cidr: a.cidr,
            },
            Record::Handle(h) => RecordKey::Handle(h.handle_id.clone()),
            Record::Config(_) => RecordKey::Config,
        }
    }

    /// The record kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Block(_) => "IPAMBlock",
            Record::Affinity(_) => "BlockAffinity",
            Record::Handle(_) => "IPAMHandle",
            Record::Config(_) => "IPAMConfig",
        }
    }
}

/// A set of records to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Blocks, of one IP version or all.
    Blocks {
        version: Option<IpVersion>,
    },
    /// Affinities, of one host or all, of one IP version or all.
    Affinities {
        host: Option<String>,
        version: Option<IpVersion>,
    },
    Handles,
}

/// A value and the revision it was read at.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored<T> {
    pub value: T,
    pub revision: Revision,
}

/// Store failures. Messages name the record's key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{key} already exists")]
    AlreadyExists { key: String },
    #[error("{key} does not exist")]
    NotFound { key: String },
    #[error("{key} was changed by another writer (compare-and-swap failed)")]
    Conflict { key: String },
    #[error("stored record {key} cannot be read: {detail}")]
    Corrupt { key: String, detail: String },
    #[error("{0}")]
    Backend(String),
}

/// A compare-and-swap store of IPAM records.
pub trait IpamStore: Send + Sync {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError>;
    /// Records of a listing, in key order.
    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError>;
    /// Create a record that must not exist yet.
    fn create(&self, record: &Record) -> Result<Revision, StoreError>;
    /// Replace a record that must still be at revision `expected`.
    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError>;
    /// Delete a record that must still be at revision `expected`.
    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError>;
}

impl<T: IpamStore + ?Sized> IpamStore for &T {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError> {
        (**self).get(key)
    }
    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError> {
        (**self).list(what)
    }
    fn create(&self, record: &Record) -> Result<Revision, StoreError> {
        (**self).create(record)
    }
    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError> {
        (**self).update(record, expected)
    }
    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError> {
        (**self).delete(key, expected)
    }
}

impl<T: IpamStore + ?Sized> IpamStore for std::sync::Arc<T> {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError> {
        (**self).get(key)
    }
    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError> {
        (**self).list(what)
    }
    fn create(&self, record: &Record) -> Result<Revision, StoreError> {
        (**self).create(record)
    }
    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError> {
        (**self).update(record, expected)
    }
    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError> {
        (**self).delete(key, expected)
    }
}
