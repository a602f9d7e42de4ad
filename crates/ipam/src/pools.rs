//! The engine's view of IP pools and reservations: plain inputs built by the caller (the client
//! adapter converts `IPPool` and `IPReservation` resources), so the engine does not depend on
//! the API types.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use calico_selector::Selector;
use ipnet::IpNet;

use crate::addr::{BlockLayout, IpVersion, MAX_BLOCK_HOST_BITS};

/// What an address is for (an `IPPool`'s `allowedUses`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntendedUse {
    Workload,
    Tunnel,
    LoadBalancer,
}

impl IntendedUse {
    pub fn as_str(self) -> &'static str {
        match self {
            IntendedUse::Workload => "Workload",
            IntendedUse::Tunnel => "Tunnel",
            IntendedUse::LoadBalancer => "LoadBalancer",
        }
    }

    /// Parses Calico's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Workload" => Some(IntendedUse::Workload),
            "Tunnel" => Some(IntendedUse::Tunnel),
            "LoadBalancer" => Some(IntendedUse::LoadBalancer),
            _ => None,
        }
    }
}

impl fmt::Display for IntendedUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `IPPool`'s `assignmentMode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssignmentMode {
    /// Used by automatic assignment.
    #[default]
    Automatic,
    /// Only used when requested by name or for specific addresses.
    Manual,
}

/// Why a pool description is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error(
        "IP pool {name} ({cidr}): blockSize {block_size} is not usable: it must be between the \
         pool's prefix length and {max}, and a block may hold at most {max_addrs} addresses"
    )]
    BlockSize {
        name: String,
        cidr: IpNet,
        block_size: u8,
        max: u8,
        max_addrs: u32,
    },
}

/// One IP pool as the engine needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolInfo {
    pub name: String,
    pub cidr: IpNet,
    pub block_size: u8,
    pub disabled: bool,
    /// Which nodes may auto-assign from the pool (`all()` by default).
    pub node_selector: Selector,
    /// Which namespaces may auto-assign from it (`None`: all).
    pub namespace_selector: Option<Selector>,
    /// Never empty; defaults to `[Workload, Tunnel]`.
    pub allowed_uses: Vec<IntendedUse>,
    pub assignment_mode: AssignmentMode,
    layout: BlockLayout,
}

impl PoolInfo {
    /// An enabled pool for every node with the default block size and uses.
    pub fn new(name: impl Into<String>, cidr: IpNet) -> Result<Self, PoolError> {
        let block_size = IpVersion::of_net(&cidr).default_block_size();
        Self::with_block_size(name, cidr, block_size)
    }

    /// An enabled pool with the given block prefix length.
    pub fn with_block_size(
        name: impl Into<String>,
        cidr: IpNet,
        block_size: u8,
    ) -> Result<Self, PoolError> {
        let name = name.into();
        let cidr = cidr.trunc();
        let layout = BlockLayout::new(cidr, block_size).ok_or_else(|| PoolError::BlockSize {
            name: name.clone(),
            cidr,
            block_size,
            max: cidr.max_prefix_len(),
            max_addrs: 1 << MAX_BLOCK_HOST_BITS,
        })?;
        Ok(Self {
            name,
            cidr,
            block_size,
            disabled: false,
            node_selector: Selector::all(),
            namespace_selector: None,
            allowed_uses: vec![IntendedUse::Workload, IntendedUse::Tunnel],
            assignment_mode: AssignmentMode::Automatic,
            layout,
        })
    }

    pub fn version(&self) -> IpVersion {
        IpVersion::of_net(&self.cidr)
    }

    pub fn layout(&self) -> &BlockLayout {
        &self.layout
    }

    pub fn allows(&self, used: IntendedUse) -> bool {
        self.allowed_uses.contains(&used)
    }

    /// The block (of this pool's block size) containing `ip`, if `ip` is in the pool.
    pub fn block_for(&self, ip: IpAddr) -> Option<IpNet> {
        self.layout.block_for(ip)
    }

    /// Short description for messages: `name (cidr)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.name, self.cidr)
    }
}

/// Addresses auto-assignment must not hand out (`IPReservation` CIDRs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrFilter {
    nets: Vec<IpNet>,
}

impl AddrFilter {
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        let mut nets: Vec<IpNet> = nets.into_iter().map(|n| n.trunc()).collect();
        nets.sort_unstable();
        nets.dedup();
        Self { nets }
    }

    /// Parses reservation entries: CIDRs (host bits allowed) or single addresses.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut nets = Vec::new();
        for e in entries {
            let net = match e.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => match e.parse::<IpAddr>() {
                    Ok(a) => IpNet::from(a),
                    Err(_) => return Err(format!("{e:?} is not an IP address or CIDR")),
                },
            };
            nets.push(net);
        }
        Ok(Self::new(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    pub fn matches(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The reservation that covers the whole of `cidr`, if any.
    pub fn covering(&self, cidr: &IpNet) -> Option<&IpNet> {
        self.nets.iter().find(|n| n.contains(cidr))
    }

    /// Whether some but maybe not all of `cidr` is reserved.
    pub fn overlaps(&self, cidr: &IpNet) -> bool {
        self.nets
            .iter()
            .any(|n| n.contains(cidr) || cidr.contains(n))
    }
}

/// Everything the engine needs to know about pools for one call.
#[derive(Clone, Debug, Default)]
pub struct Pools {
    pub pools: Vec<PoolInfo>,
    pub reserved: AddrFilter,
    /// Pools that exist but could not be converted, with the reason (reported in exhaustion
    /// errors so that the operator sees them).
    pub unusable: Vec<(String, String)>,
}

impl Pools {
    pub fn new(pools: Vec<PoolInfo>) -> Self {
        Self {
            pools,
            ..Self::default()
        }
    }

    pub fn with_reserved(mut self, reserved: AddrFilter) -> Self {
        self.reserved = reserved;
        self
    }

    /// The pool (enabled or not) containing `ip`.
    pub fn containing(&self, ip: IpAddr) -> Option<&PoolInfo> {
        self.pools.iter().find(|p| p.cidr.contains(&ip))
    }

    /// The pool named `name` or with CIDR `name`.
    pub fn find(&self, name: &str) -> Option<&PoolInfo> {
        let as_net = name.parse::<IpNet>().ok().map(|n| n.trunc());
        self.pools
            .iter()
            .find(|p| p.name == name || Some(p.cidr) == as_net)
    }

    /// The block containing `ip` according to its pool's block size.
    pub fn block_for(&self, ip: IpAddr) -> Option<IpNet> {
        self.containing(ip).and_then(|p| p.block_for(ip))
    }
}

/// Labels as a sorted map (node, namespace).
pub type Labels = BTreeMap<String, String>;
