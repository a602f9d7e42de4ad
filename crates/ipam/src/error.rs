//! Engine errors, written for the operator. An exhausted request says, pool by pool, what was
//! tried and why it gave nothing.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::addr::IpVersion;
use crate::pools::IntendedUse;
use crate::store::StoreError;

/// Why a pool gave no address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolOutcome {
    /// `spec.disabled` is true.
    Disabled,
    /// The pool's nodeSelector does not match the node's labels.
    NodeNotSelected { selector: String },
    /// The pool's namespaceSelector does not match the namespace's labels.
    NamespaceNotSelected { selector: String },
    /// `assignmentMode: Manual` and the pool was not requested by name.
    ManualAssignment,
    /// `allowedUses` does not include the intended use.
    UseNotAllowed {
        intended: IntendedUse,
        allowed: Vec<IntendedUse>,
    },
    /// Every address is allocated (or reserved), and no block could be claimed or borrowed.
    Full,
    /// The node already owns its maximum number of blocks and they are full.
    BlockLimit { limit: u32 },
    /// The node's blocks are full, no block is left to claim, and strictAffinity forbids
    /// borrowing from other nodes' blocks.
    StrictAffinity,
    /// The node's blocks are full and autoAllocateBlocks is off.
    NoAutoAllocate,
    /// The pool could not be read.
    Unusable { reason: String },
}

impl fmt::Display for PoolOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolOutcome::Disabled => f.write_str("disabled"),
            PoolOutcome::NodeNotSelected { selector } => {
                write!(f, "nodeSelector {selector:?} does not select the node")
            }
            PoolOutcome::NamespaceNotSelected { selector } => {
                write!(
                    f,
                    "namespaceSelector {selector:?} does not select the namespace"
                )
            }
            PoolOutcome::ManualAssignment => {
                f.write_str("assignmentMode is Manual (only used when requested by name)")
            }
            PoolOutcome::UseNotAllowed { intended, allowed } => {
                let allowed: Vec<&str> = allowed.iter().map(|u| u.as_str()).collect();
                write!(
                    f,
                    "allowedUses [{}] does not include {intended}",
                    allowed.join(", ")
                )
            }
            PoolOutcome::Full => f.write_str("full"),
            PoolOutcome::BlockLimit { limit } => write!(
                f,
                "the node's blocks are full and it may not claim more (limit of {limit} blocks \
                 per host reached)"
            ),
            PoolOutcome::StrictAffinity => f.write_str(
                "the node's blocks are full, no free block is left to claim and strictAffinity \
                 forbids borrowing from other nodes' blocks",
            ),
            PoolOutcome::NoAutoAllocate => {
                f.write_str("the node's blocks are full and autoAllocateBlocks is off")
            }
            PoolOutcome::Unusable { reason } => write!(f, "unusable: {reason}"),
        }
    }
}

/// One pool's part in an exhausted request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolReport {
    pub name: String,
    pub cidr: Option<IpNet>,
    pub outcome: PoolOutcome,
}

/// A request that could not be fulfilled. Nothing it claimed is left allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exhaustion {
    pub version: IpVersion,
    pub requested: usize,
    /// How many were found before giving up (all released again).
    pub found: usize,
    pub node: String,
    /// Calico-style summary messages (e.g. `No IPs available in pools: [10.0.0.0/29]`).
    pub messages: Vec<String>,
    /// Every pool of this IP version and why it gave nothing.
    pub pools: Vec<PoolReport>,
}

impl fmt::Display for Exhaustion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Assigned {} out of {} requested {} addresses",
            self.found, self.requested, self.version
        )?;
        for m in &self.messages {
            write!(f, "; {m}")?;
        }
        if self.found > 0 {
            write!(f, "; the {} found were released again", self.found)?;
        }
        if !self.pools.is_empty() {
            write!(f, "; pools tried for node {}:", self.node)?;
            for (i, p) in self.pools.iter().enumerate() {
                let sep = if i == 0 { " " } else { ", " };
                match p.cidr {
                    Some(c) => write!(f, "{sep}{} ({c}): {}", p.name, p.outcome)?,
                    None => write!(f, "{sep}{}: {}", p.name, p.outcome)?,
                }
            }
        }
        Ok(())
    }
}

/// Errors from the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    #[error("{0}")]
    Exhausted(Box<Exhaustion>),
    #[error("the given pool ({pool}) does not exist, or is not enabled")]
    PoolNotFound { pool: String },
    #[error(
        "provided {version} IPPools list contains pool {pool} ({cidr}) of the other IP version"
    )]
    PoolVersion {
        version: IpVersion,
        pool: String,
        cidr: IpNet,
    },
    #[error("handle ID must not be empty")]
    EmptyHandle,
    #[error("node name {node:?} is not valid: it must be non-empty and contain no '/'")]
    InvalidNode { node: String },
    #[error("{use_} addresses are not supported by this IPAM yet")]
    UseNotSupported { use_: IntendedUse },
    #[error("IP address {ip} is not in a configured pool")]
    NotInPool { ip: IpAddr },
    #[error("IP address {ip} is in IP pool {pool:?}, which is disabled")]
    PoolDisabled { ip: IpAddr, pool: String },
    #[error(
        "IP address {ip} is in IP pool {pool:?}, which is not allowed for use \"{use_}\" \
         (allowedUses: {allowed})"
    )]
    UseNotAllowed {
        ip: IpAddr,
        pool: String,
        use_: IntendedUse,
        allowed: String,
    },
    #[error("IP address {ip} is already assigned (handle {handle:?})")]
    AlreadyAssigned { ip: IpAddr, handle: String },
    #[error(
        "IP address {ip} is in block {block}, which is affine to {owner}, and strictAffinity is \
         on"
    )]
    AffinityConflict {
        ip: IpAddr,
        block: IpNet,
        owner: String,
    },
    #[error("block {block} is not affine to node {node}")]
    NotAffine { block: IpNet, node: String },
    #[error("block {block} still has {in_use} addresses in use")]
    BlockNotEmpty { block: IpNet, in_use: usize },
    #[error("block {block} changed while its affinity was being released; retry")]
    BlockChanged { block: IpNet },
    #[error("{what}: gave up after {retries} attempts: too many concurrent IPAM requests")]
    TooManyRetries { what: String, retries: usize },
    #[error("IPAM configuration is not valid: {detail}")]
    InvalidConfig { detail: String },
    #[error("stored {what} is not usable: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("datastore: {0}")]
    Store(#[from] StoreError),
}

impl IpamError {
    /// The exhaustion details, if this is an exhaustion error.
    pub fn exhaustion(&self) -> Option<&Exhaustion> {
        match self {
            IpamError::Exhausted(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_message_lists_pools() {
        let e = IpamError::Exhausted(Box::new(Exhaustion {
            version: IpVersion::V4,
            requested: 1,
            found: 0,
            node: "n1".into(),
            messages: vec!["No IPs available in pools: [10.0.0.0/29]".into()],
            pools: vec![
                PoolReport {
                    name: "small".into(),
                    cidr: Some("10.0.0.0/29".parse().unwrap()),
                    outcome: PoolOutcome::Full,
                },
                PoolReport {
                    name: "off".into(),
                    cidr: Some("10.1.0.0/24".parse().unwrap()),
                    outcome: PoolOutcome::Disabled,
                },
            ],
        }));
        assert_eq!(
            e.to_string(),
            "Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \
             [10.0.0.0/29]; pools tried for node n1: small (10.0.0.0/29): full, off \
             (10.1.0.0/24): disabled"
        );
    }
}
