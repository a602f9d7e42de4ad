//! The JSON report `ipam check -o FILE` writes and `ipam release --from-report` reads. The
//! fields Calico's report has keep Calico's names (so reports are read both ways); calico-rs
//! adds the handle-count, affinity and double-allocation findings and, per allocation, its
//! block and whether it is leaked (`inUse` is false only for leaked allocations; an
//! allocation whose owner cannot be determined is reported in use, with `ownerUnknown`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The calicoctl version that wrote the report.
    pub version: String,
    #[serde(rename = "clusterGUID")]
    pub cluster_guid: String,
    #[serde(rename = "datastoreLocked", default)]
    pub datastore_locked: bool,
    #[serde(rename = "clusterInformationRevision", default)]
    pub cluster_info_revision: String,
    #[serde(rename = "clusterType", default)]
    pub cluster_type: String,
    /// When the report was written (RFC 3339).
    #[serde(
        rename = "generatedAt",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub generated_at: String,
    /// Address → its allocations (more than one when blocks overlap).
    #[serde(default)]
    pub allocations: BTreeMap<String, Vec<Allocation>>,
    /// Handle records that hold no address.
    #[serde(
        rename = "leakedHandles",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub leaked_handles: Vec<HandleInfo>,
    /// Handle records whose counts differ from what the blocks hold.
    #[serde(
        rename = "handleCountMismatches",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub handle_count_mismatches: Vec<HandleCountMismatch>,
    /// Blocks affine to a node that does not exist.
    #[serde(
        rename = "blocksAffineToMissingNodes",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub blocks_affine_to_missing_nodes: Vec<BlockAffinity>,
    /// Other broken invariants (malformed blocks, allocations without a handle, addresses in
    /// two blocks or used by two owners), one message each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One allocated address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub ip: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub handle: String,
    #[serde(
        rename = "sequenceNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence_number: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pod: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(
        rename = "creationTimestamp",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub creation_timestamp: String,
    /// False when the allocation is leaked (its owner is gone).
    #[serde(rename = "inUse", default)]
    pub in_use: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub borrowed: bool,
    /// What uses or owns it (`Workload(ns/name)`, `Node(name)`, ...).
    #[serde(default)]
    pub owners: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub block: String,
    /// Why it is considered leaked.
    #[serde(
        rename = "leakReason",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub leak_reason: String,
    /// Why its owner cannot be determined (it is then never released).
    #[serde(
        rename = "ownerUnknown",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub owner_unknown: String,
}

/// A handle record (Calico's `HandleInfo`, Go field names).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "UID", default)]
    pub uid: Option<String>,
    #[serde(rename = "Revision", default)]
    pub revision: String,
}

/// A handle record that claims a different number of addresses in a block than it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleCountMismatch {
    pub handle: String,
    pub revision: String,
    pub block: String,
    pub recorded: u32,
    pub actual: u32,
}

/// A block affine to a missing node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockAffinity {
    pub block: String,
    pub node: String,
}

impl Report {
    /// Render as Calico does (`json.MarshalIndent`, two spaces).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}
