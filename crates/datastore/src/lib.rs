//! The datastore adapter layer: one [`Backend`] trait over a revisioned key/value store, and the
//! backends behind it (an in-memory store for tests, the embedded single-file store that is the
//! default, and etcd v3).
//!
//! Keys are `/`-separated strings such as
//! `/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool`; values are opaque bytes
//! (the typed resource layer stores JSON). Every write bumps one store-wide revision, as in etcd.

pub mod backend;
pub mod embedded;
pub mod etcd;
pub mod memory;

pub use backend::{
    Backend, DatastoreError, KeyValue, ListResult, Result, Revision, Watch, WatchEvent, WatchFrom,
};
pub use embedded::{EmbeddedBackend, EmbeddedOptions};
pub use etcd::{EtcdBackend, EtcdConfig};
pub use memory::MemoryBackend;
