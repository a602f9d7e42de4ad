//! `BlockAffinity`: the index record saying a block belongs to a node.
//!
//! The block's own `affinity` field is what allocation trusts; affinity records let a node find
//! its blocks without listing every block, and carry the claim state machine
//! `pending → confirmed → pendingDeletion → (deleted)`. A pending affinity counts as absent for
//! ownership and routing; it exists so that a claim interrupted half-way can be finished or undone.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The claim state of an affinity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AffinityState {
    /// Being claimed; not yet owned.
    #[serde(rename = "pending")]
    Pending,
    /// Owned. Older data stores an empty state, which means the same.
    #[default]
    #[serde(rename = "confirmed", alias = "")]
    Confirmed,
    /// Being released.
    #[serde(rename = "pendingDeletion")]
    PendingDeletion,
}

impl AffinityState {
    pub fn as_str(self) -> &'static str {
        match self {
            AffinityState::Pending => "pending",
            AffinityState::Confirmed => "confirmed",
            AffinityState::PendingDeletion => "pendingDeletion",
        }
    }
}

/// A node's affinity to one block. The stored value is `{"state": ..., "deleted": ...}` as in
/// Calico; node and CIDR also live in the key (`/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`)
/// and are filled in from it when read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockAffinity {
    #[serde(default)]
    pub state: AffinityState,
    #[serde(default)]
    pub node: String,
    #[serde(default)]
    pub cidr: IpNet,
    #[serde(default)]
    pub deleted: bool,
}

impl BlockAffinity {
    pub fn new(node: impl Into<String>, cidr: IpNet, state: AffinityState) -> Self {
        Self {
            state,
            node: node.into(),
            cidr,
            deleted: false,
        }
    }
}
