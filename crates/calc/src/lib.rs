//! Felix's calculation graph (layer 1: pure, sans-IO).
//!
//! Datastore updates go in ([`Update`]: resource upserts and deletes, IPAM block affinities,
//! `InSync`); [`messages::DataplaneMessage`]s come out, in the order the dataplane can apply
//! them (see the [`messages`] contract). The messages are the contract with the dataplane
//! (`crates/dataplane`) and are modelled on Felix's `felix/proto/felixbackend.proto`.
//!
//! ```
//! use calico_calc::{CalcGraph, Update};
//! let mut g = CalcGraph::new("node-1");
//! let out = g.apply([Update::InSync]);
//! assert_eq!(out.messages, vec![calico_calc::messages::DataplaneMessage::InSync]);
//! ```
//!
//! - [`CalcGraph`]: the incremental graph (`graph` module docs explain the indexes);
//! - [`expected_state`]: the same result computed from scratch from the datastore contents,
//!   and [`DataplaneState`]: a consumer's view of the stream that checks the contract;
//! - [`network`]: routes, VTEPs (with Felix's VXLAN MAC derivation), pools.
//!
//! Bad input: the datastore validated what it stores, so a resource the engine still cannot use
//! (a selector or CIDR that does not parse, two resources claiming one endpoint ID) is
//! reported in [`Output::errors`] and treated as absent (Felix's validation filter turns such
//! values into deletes); the graph never panics on input.
//!
//! Not handled yet: Pods as endpoints (the graph uses WorkloadEndpoints, which the CNI plugin
//! writes), HostEndpoint policy programs (HEPs only contribute IP-set members), borrowed IPAM
//! addresses (`/32` routes to the owning node), service IP sets, WireGuard.

mod expected;
mod graph;
pub mod input;
pub mod messages;
pub mod network;
mod program;
pub mod scan;
mod source;
pub mod state;

pub use expected::expected_state;
pub use graph::CalcGraph;
pub use input::{BlockInfo, ResourceKey, Update};
pub use state::{ContractError, DataplaneState, IpSetState};

use messages::DataplaneMessage;
use thiserror::Error;

/// What one batch produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// The dataplane messages, in contract order.
    pub messages: Vec<DataplaneMessage>,
    /// Inputs that could not be used (each treated as a delete of its key).
    pub errors: Vec<InputError>,
}

/// An input the graph could not use.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum InputError {
    /// A resource the policy engine rejects (the message names the field).
    #[error("{key}: ignored: {message}")]
    Invalid { key: ResourceKey, message: String },
    /// A second resource for an endpoint ID another resource already has.
    #[error("{key}: ignored: endpoint {endpoint} already comes from another resource")]
    Duplicate { key: ResourceKey, endpoint: String },
}
