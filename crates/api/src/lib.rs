//! The `projectcalico.org/v3` API of calico-rs, and the Kubernetes kinds it accepts in place of a
//! Kubernetes API server (`networking.k8s.io/v1 NetworkPolicy`, `v1 Namespace`, `v1 Pod`).
//!
//! Layer 0: pure types, defaults and validation; no I/O. Field names, defaults and validation
//! follow Calico's API (see `shared/reference/calico-inventory.md` section 2). Unknown fields
//! are rejected with their path.
//!
//! Typical use: [`codec::decode_all`] a file, [`Resource::apply_defaults`], then
//! [`Resource::validate`]; [`Resource::to_value`] and [`codec::to_yaml`] for output.

pub mod codec;
pub mod error;
pub mod kinds;
pub mod meta;
pub mod resource;
pub mod serde_util;
pub mod validate;

pub use error::{DecodeError, FieldError, ValidationError};
pub use kinds::*;
pub use meta::ObjectMeta;
pub use resource::{
    CALICO_API_VERSION, K8S_CORE_API_VERSION, K8S_NETWORKING_API_VERSION, KINDS, Kind, KindInfo,
    NameRule, Resource, find_kind,
};
