//! `IPAMBlock`: the allocation state of one block, the unit of compare-and-swap.
//!
//! Stored as Calico stores it: `allocations[ordinal]` is the index of the allocation's
//! attributes (or null when free), `unallocated` is the FIFO of free ordinals (allocation pops
//! from the head, release pushes to the tail, so the longest-free address is reused first),
//! `attributes` holds one entry per distinct (handle, attributes) pair, `sequenceNumber` is bumped
//! by every write and `sequenceNumberForAllocation` remembers it per allocated ordinal, so that a
//! release carrying a stale sequence number cannot free an address that was re-allocated since.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::addr::{IpVersion, MAX_BLOCK_HOST_BITS, addr_to_u128, host_bits, u128_to_addr};
use crate::pools::AddrFilter;

/// The prefix of a host affinity string (`host:<node>`).
pub const HOST_AFFINITY_PREFIX: &str = "host:";

/// The attributes of one or more allocations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationAttribute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle_id: Option<String>,
    /// The owner's attributes (`namespace`, `pod`, `node`, `timestamp`, `type`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secondary: BTreeMap<String, String>,
}

/// A block of addresses and who holds each of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    pub cidr: IpNet,
    /// `host:<node>` when the block is affine to a node.
    #[serde(default)]
    pub affinity: Option<String>,
    /// When the affinity was claimed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity_claim_time: Option<String>,
    #[serde(default)]
    pub allocations: Vec<Option<u32>>,
    #[serde(default)]
    pub unallocated: Vec<u32>,
    #[serde(default)]
    pub attributes: Vec<AllocationAttribute>,
    #[serde(default)]
    pub sequence_number: u64,
    #[serde(default)]
    pub sequence_number_for_allocation: BTreeMap<u32, u64>,
    #[serde(default)]
    pub deleted: bool,
    /// Deprecated in Calico; kept so that records round-trip.
    #[serde(default)]
    pub strict_affinity: bool,
}

/// A request to release one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseOptions {
    pub address: IpAddr,
    /// When set, the address is only released if it is held by this handle.
    pub handle: Option<String>,
    /// When set, the address is only released if its allocation has this sequence number.
    pub sequence_number: Option<u64>,
}

impl ReleaseOptions {
    pub fn address(address: IpAddr) -> Self {
        Self {
            address,
            handle: None,
            sequence_number: None,
        }
    }
}

/// Why a requested release was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseRefusal {
    /// The allocation's sequence number differs: it was re-allocated since the caller looked.
    SequenceMismatch { requested: u64, actual: u64 },
    /// The address is held by another handle.
    HandleMismatch { requested: String, actual: String },
}

impl std::fmt::Display for ReleaseRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReleaseRefusal::SequenceMismatch { requested, actual } => write!(
                f,
                "its allocation has sequence number {actual}, not {requested} (it was \
                 re-allocated since it was read)"
            ),
            ReleaseRefusal::HandleMismatch { requested, actual } => {
                write!(f, "it is held by handle {actual:?}, not {requested:?}")
            }
        }
    }
}

/// The outcome of [`Block::release`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockRelease {
    /// Released addresses and the handle each was held by.
    pub released: Vec<(IpAddr, Option<String>)>,
    /// Addresses that were not allocated (nothing to do).
    pub not_allocated: Vec<IpAddr>,
    /// Addresses left allocated because a precondition failed.
    pub refused: Vec<(IpAddr, ReleaseRefusal)>,
}

/// Why [`Block::assign`] failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignError {
    NotInBlock,
    AlreadyAssigned { handle: Option<String> },
}

/// Truncate a handle ID at the first carriage return (Calico's `sanitizeHandle`).
pub fn sanitize_handle(handle: &str) -> &str {
    handle.split('\r').next().unwrap_or(handle)
}

/// `host:<node>`.
pub fn host_affinity(host: &str) -> String {
    format!("{HOST_AFFINITY_PREFIX}{host}")
}

/// Nanoseconds since the Unix epoch (0 before it).
pub fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Block {
    /// A new, empty block. `None` if the CIDR holds more than 4096 addresses.
    pub fn new(cidr: IpNet, affinity: Option<String>, now: SystemTime) -> Option<Self> {
        let cidr = cidr.trunc();
        let bits = host_bits(&cidr);
        if bits > MAX_BLOCK_HOST_BITS {
            return None;
        }
        let n = 1u32 << bits;
        let claim_time = affinity
            .as_ref()
            .map(|_| humantime::format_rfc3339_nanos(now).to_string());
        Some(Self {
            cidr,
            affinity,
            affinity_claim_time: claim_time,
            allocations: vec![None; n as usize],
            unallocated: (0..n).collect(),
            attributes: Vec::new(),
            // A recreated block must not reuse the sequence numbers of a deleted one.
            sequence_number: unix_nanos(now),
            sequence_number_for_allocation: BTreeMap::new(),
            deleted: false,
            strict_affinity: false,
        })
    }

    pub fn version(&self) -> IpVersion {
        IpVersion::of_net(&self.cidr)
    }

    /// Number of addresses the CIDR holds.
    pub fn expected_len(&self) -> usize {
        let bits = host_bits(&self.cidr);
        if bits > MAX_BLOCK_HOST_BITS {
            0
        } else {
            1usize << bits
        }
    }

    /// The node this block is affine to (`host:<node>`).
    pub fn host(&self) -> Option<&str> {
        self.affinity.as_deref()?.strip_prefix(HOST_AFFINITY_PREFIX)
    }

    /// Whether the block is affine to `host`.
    pub fn is_affine_to(&self, host: &str) -> bool {
        self.host() == Some(host)
    }

    /// When the affinity was claimed, if recorded and readable.
    pub fn claim_time(&self) -> Option<SystemTime> {
        humantime::parse_rfc3339_weak(self.affinity_claim_time.as_deref()?).ok()
    }

    pub fn ip_at(&self, ordinal: u32) -> Option<IpAddr> {
        if (ordinal as usize) >= self.expected_len() {
            return None;
        }
        let base = addr_to_u128(self.cidr.network());
        Some(u128_to_addr(self.version(), base + u128::from(ordinal)))
    }

    pub fn ordinal_of(&self, ip: IpAddr) -> Option<u32> {
        if !self.cidr.contains(&ip) {
            return None;
        }
        let off = addr_to_u128(ip) - addr_to_u128(self.cidr.network());
        u32::try_from(off).ok()
    }

    /// The attributes of an allocated ordinal.
    pub fn attribute_of(&self, ordinal: u32) -> Option<&AllocationAttribute> {
        let idx = (*self.allocations.get(ordinal as usize)?)?;
        self.attributes.get(idx as usize)
    }

    /// The handle holding an allocated ordinal.
    pub fn handle_of(&self, ordinal: u32) -> Option<&str> {
        self.attribute_of(ordinal)?.handle_id.as_deref()
    }

    /// The sequence number recorded for an allocated ordinal (0 when absent, as in older data).
    pub fn sequence_of(&self, ordinal: u32) -> u64 {
        self.sequence_number_for_allocation
            .get(&ordinal)
            .copied()
            .unwrap_or(0)
    }

    /// Allocated ordinals in order.
    pub fn allocated(&self) -> impl Iterator<Item = u32> + '_ {
        self.allocations
            .iter()
            .enumerate()
            .filter(|(_, a)| a.is_some())
            .filter_map(|(i, _)| u32::try_from(i).ok())
    }

    pub fn in_use(&self) -> usize {
        self.allocations.iter().filter(|a| a.is_some()).count()
    }

    /// No address is allocated.
    pub fn is_empty(&self) -> bool {
        self.allocations.iter().all(Option::is_none)
    }

    /// Free addresses that are not reserved.
    pub fn free_count(&self, reserved: &AddrFilter) -> usize {
        if reserved.covering(&self.cidr).is_some() {
            return 0;
        }
        if !reserved.overlaps(&self.cidr) {
            return self.unallocated.len();
        }
        self.unallocated
            .iter()
            .filter(|&&o| self.ip_at(o).is_some_and(|ip| !reserved.matches(ip)))
            .count()
    }

    fn find_or_add_attribute(&mut self, handle: &str, attrs: &BTreeMap<String, String>) -> u32 {
        let pos = self
            .attributes
            .iter()
            .position(|a| a.handle_id.as_deref() == Some(handle) && &a.secondary == attrs);
        let idx = pos.unwrap_or_else(|| {
            self.attributes.push(AllocationAttribute {
                handle_id: Some(handle.to_string()),
                secondary: attrs.clone(),
            });
            self.attributes.len() - 1
        });
        u32::try_from(idx).unwrap_or(u32::MAX)
    }

    /// Allocate up to `num` free, unreserved addresses from the head of the free queue.
    /// Returns `(address, ordinal)` pairs; the allocations get the current sequence number
    /// (the caller bumps it when writing the block).
    pub fn auto_assign(
        &mut self,
        num: usize,
        handle: &str,
        attrs: &BTreeMap<String, String>,
        reserved: &AddrFilter,
    ) -> Vec<(IpAddr, u32)> {
        let mut out = Vec::new();
        if num == 0 {
            return out;
        }
        let mut attr_index = None;
        let mut keep = Vec::with_capacity(self.unallocated.len());
        let queue = std::mem::take(&mut self.unallocated);
        for ordinal in queue {
            let usable = out.len() < num
                && self.allocations.get(ordinal as usize) == Some(&None)
                && self.ip_at(ordinal).is_some_and(|ip| !reserved.matches(ip));
            if !usable {
                keep.push(ordinal);
                continue;
            }
            let Some(ip) = self.ip_at(ordinal) else {
                continue;
            };
            let idx = match attr_index {
                Some(i) => i,
                None => {
                    let i = self.find_or_add_attribute(handle, attrs);
                    attr_index = Some(i);
                    i
                }
            };
            if let Some(slot) = self.allocations.get_mut(ordinal as usize) {
                *slot = Some(idx);
            }
            self.sequence_number_for_allocation
                .insert(ordinal, self.sequence_number);
            out.push((ip, ordinal));
        }
        self.unallocated = keep;
        out
    }

    /// Allocate one specific address.
    pub fn assign(
        &mut self,
        ip: IpAddr,
        handle: &str,
        attrs: &BTreeMap<String, String>,
    ) -> Result<u32, AssignError> {
        let ordinal = self.ordinal_of(ip).ok_or(AssignError::NotInBlock)?;
        match self.allocations.get(ordinal as usize) {
            None => return Err(AssignError::NotInBlock),
            Some(Some(_)) => {
                return Err(AssignError::AlreadyAssigned {
                    handle: self.handle_of(ordinal).map(str::to_string),
                });
            }
            Some(None) => {}
        }
        let idx = self.find_or_add_attribute(handle, attrs);
        if let Some(slot) = self.allocations.get_mut(ordinal as usize) {
            *slot = Some(idx);
        }
        self.sequence_number_for_allocation
            .insert(ordinal, self.sequence_number);
        self.unallocated.retain(|&o| o != ordinal);
        Ok(ordinal)
    }

    fn free_ordinal(&mut self, ordinal: u32) {
        if let Some(slot) = self.allocations.get_mut(ordinal as usize) {
            *slot = None;
        }
        self.sequence_number_for_allocation.remove(&ordinal);
        if !self.unallocated.contains(&ordinal) {
            self.unallocated.push(ordinal);
        }
    }

    /// Release addresses, honouring each request's handle and sequence-number preconditions.
    /// Duplicate requests for one address count once.
    pub fn release(&mut self, requests: &[ReleaseOptions]) -> BlockRelease {
        let mut out = BlockRelease::default();
        let mut seen = Vec::new();
        for req in requests {
            if seen.contains(&req.address) {
                continue;
            }
            seen.push(req.address);
            let Some(ordinal) = self.ordinal_of(req.address) else {
                out.not_allocated.push(req.address);
                continue;
            };
            if self
                .allocations
                .get(ordinal as usize)
                .copied()
                .flatten()
                .is_none()
            {
                out.not_allocated.push(req.address);
                continue;
            }
            let actual_seq = self.sequence_of(ordinal);
            if let Some(requested) = req.sequence_number
                && requested != actual_seq
            {
                out.refused.push((
                    req.address,
                    ReleaseRefusal::SequenceMismatch {
                        requested,
                        actual: actual_seq,
                    },
                ));
                continue;
            }
            let holder = self
                .handle_of(ordinal)
                .map(|h| sanitize_handle(h).to_string());
            if let Some(requested) = &req.handle {
                let requested = sanitize_handle(requested);
                if holder.as_deref() != Some(requested) {
                    out.refused.push((
                        req.address,
                        ReleaseRefusal::HandleMismatch {
                            requested: requested.to_string(),
                            actual: holder.unwrap_or_default(),
                        },
                    ));
                    continue;
                }
            }
            self.free_ordinal(ordinal);
            out.released.push((req.address, holder));
        }
        self.prune_attributes();
        out
    }

    /// Release every address held by `handle`; returns them.
    pub fn release_by_handle(&mut self, handle: &str) -> Vec<IpAddr> {
        let handle = sanitize_handle(handle);
        let ordinals: Vec<u32> = self
            .allocated()
            .filter(|&o| self.handle_of(o).map(sanitize_handle) == Some(handle))
            .collect();
        let mut out = Vec::with_capacity(ordinals.len());
        for o in ordinals {
            if let Some(ip) = self.ip_at(o) {
                out.push(ip);
            }
            self.free_ordinal(o);
        }
        self.prune_attributes();
        out
    }

    /// Addresses held by `handle`.
    pub fn ips_of_handle(&self, handle: &str) -> Vec<IpAddr> {
        let handle = sanitize_handle(handle);
        self.allocated()
            .filter(|&o| self.handle_of(o).map(sanitize_handle) == Some(handle))
            .filter_map(|o| self.ip_at(o))
            .collect()
    }

    /// Number of allocations per handle (allocations without a handle count under `""`).
    pub fn counts_by_handle(&self) -> BTreeMap<String, u32> {
        let mut m = BTreeMap::new();
        for o in self.allocated() {
            let h = self.handle_of(o).map(sanitize_handle).unwrap_or("");
            *m.entry(h.to_string()).or_insert(0) += 1;
        }
        m
    }

    /// Drop attributes no allocation refers to, renumbering the rest.
    fn prune_attributes(&mut self) {
        let mut used = vec![false; self.attributes.len()];
        for idx in self.allocations.iter().flatten() {
            if let Some(u) = used.get_mut(*idx as usize) {
                *u = true;
            }
        }
        if used.iter().all(|u| *u) {
            return;
        }
        let mut remap = vec![None; self.attributes.len()];
        let mut kept = Vec::new();
        for (i, attr) in std::mem::take(&mut self.attributes).into_iter().enumerate() {
            if used.get(i).copied().unwrap_or(false) {
                remap[i] = u32::try_from(kept.len()).ok();
                kept.push(attr);
            }
        }
        self.attributes = kept;
        for slot in self.allocations.iter_mut() {
            if let Some(idx) = *slot {
                *slot = remap.get(idx as usize).copied().flatten();
            }
        }
    }

    /// Structural problems (empty when the block is well formed): allocation array length,
    /// attribute indexes, and the free queue being exactly the unallocated ordinals.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let n = self.expected_len();
        if n == 0 {
            out.push(format!("block {} is larger than 4096 addresses", self.cidr));
            return out;
        }
        if self.cidr.trunc() != self.cidr {
            out.push(format!("block CIDR {} has host bits set", self.cidr));
        }
        if self.allocations.len() != n {
            out.push(format!(
                "block {}: {} allocation slots, expected {n}",
                self.cidr,
                self.allocations.len()
            ));
        }
        for (o, a) in self.allocations.iter().enumerate() {
            if let Some(idx) = a
                && (*idx as usize) >= self.attributes.len()
            {
                out.push(format!(
                    "block {}: ordinal {o} refers to attribute {idx}, which does not exist",
                    self.cidr
                ));
            }
        }
        let mut in_queue = vec![false; n];
        for &o in &self.unallocated {
            match in_queue.get_mut(o as usize) {
                None => out.push(format!(
                    "block {}: free ordinal {o} is out of range",
                    self.cidr
                )),
                Some(seen) if *seen => out.push(format!(
                    "block {}: ordinal {o} is queued as free twice",
                    self.cidr
                )),
                Some(seen) => *seen = true,
            }
            if self
                .allocations
                .get(o as usize)
                .copied()
                .flatten()
                .is_some()
            {
                out.push(format!(
                    "block {}: ordinal {o} is both allocated and queued as free",
                    self.cidr
                ));
            }
        }
        for (o, queued) in in_queue.iter().enumerate() {
            if !*queued && self.allocations.get(o).copied().flatten().is_none() {
                out.push(format!(
                    "block {}: ordinal {o} is neither allocated nor queued as free",
                    self.cidr
                ));
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t0() -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)
    }

    fn block(cidr: &str) -> Block {
        Block::new(cidr.parse().unwrap(), Some(host_affinity("n1")), t0()).unwrap()
    }

    fn attrs(pod: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("pod".to_string(), pod.to_string())])
    }

    #[test]
    fn new_block_hands_out_the_network_address_first() {
        let mut b = block("10.0.0.0/30");
        assert_eq!(b.allocations.len(), 4);
        assert_eq!(b.unallocated, vec![0, 1, 2, 3]);
        let got = b.auto_assign(2, "h1", &attrs("a"), &AddrFilter::default());
        assert_eq!(
            got,
            vec![
                ("10.0.0.0".parse().unwrap(), 0),
                ("10.0.0.1".parse().unwrap(), 1)
            ]
        );
        assert_eq!(
            b.attributes.len(),
            1,
            "one attribute entry per handle+attrs"
        );
        assert_eq!(b.sequence_of(1), b.sequence_number);
        assert!(b.problems().is_empty());
        assert_eq!(b.host(), Some("n1"));
    }

    #[test]
    fn reserved_addresses_are_skipped_and_stay_queued() {
        let mut b = block("10.0.0.0/30");
        let r = AddrFilter::parse(["10.0.0.0/31"]).unwrap();
        assert_eq!(b.free_count(&r), 2);
        let got = b.auto_assign(4, "h", &attrs("a"), &r);
        assert_eq!(got.len(), 2);
        assert_eq!(b.unallocated, vec![0, 1]);
        assert_eq!(b.free_count(&r), 0);
        assert!(b.problems().is_empty());
    }

    #[test]
    fn release_pushes_to_the_tail_and_checks_preconditions() {
        let mut b = block("10.0.0.0/29");
        let got = b.auto_assign(3, "h1", &attrs("a"), &AddrFilter::default());
        let seq = b.sequence_number;
        b.sequence_number += 1;
        let ip0 = got[0].0;
        let ip1 = got[1].0;
        let ip2 = got[2].0;
        let r = b.release(&[
            ReleaseOptions {
                address: ip0,
                handle: Some("h1".into()),
                sequence_number: Some(seq),
            },
            ReleaseOptions {
                address: ip1,
                handle: None,
                sequence_number: Some(seq + 7),
            },
            ReleaseOptions {
                address: ip2,
                handle: Some("other".into()),
                sequence_number: None,
            },
            ReleaseOptions::address("10.0.0.7".parse().unwrap()),
            ReleaseOptions::address(ip0),
        ]);
        assert_eq!(r.released, vec![(ip0, Some("h1".to_string()))]);
        assert_eq!(r.not_allocated, vec!["10.0.0.7".parse::<IpAddr>().unwrap()]);
        assert_eq!(r.refused.len(), 2);
        assert_eq!(
            *b.unallocated.last().unwrap(),
            0,
            "released ordinal goes to the tail"
        );
        assert!(b.problems().is_empty());
        // Releasing again is harmless.
        let again = b.release(&[ReleaseOptions::address(ip0)]);
        assert_eq!(again.not_allocated, vec![ip0]);
    }

    #[test]
    fn release_by_handle_prunes_attributes_and_renumbers() {
        let mut b = block("10.0.0.0/29");
        let none = AddrFilter::default();
        b.auto_assign(2, "h1", &attrs("a"), &none);
        b.auto_assign(2, "h2", &attrs("b"), &none);
        b.auto_assign(1, "h3", &attrs("c"), &none);
        assert_eq!(b.attributes.len(), 3);
        let freed = b.release_by_handle("h2");
        assert_eq!(freed.len(), 2);
        assert_eq!(b.attributes.len(), 2);
        assert_eq!(
            b.ips_of_handle("h3"),
            vec!["10.0.0.4".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(b.counts_by_handle().get("h1"), Some(&2));
        assert!(b.problems().is_empty());
        assert!(b.release_by_handle("h2").is_empty());
    }

    #[test]
    fn assign_specific_address() {
        let mut b = block("fd00::/126");
        let ip: IpAddr = "fd00::2".parse().unwrap();
        assert_eq!(b.assign(ip, "h", &attrs("x")), Ok(2));
        assert_eq!(
            b.assign(ip, "h2", &attrs("y")),
            Err(AssignError::AlreadyAssigned {
                handle: Some("h".into())
            })
        );
        assert_eq!(
            b.assign("fd00::9".parse().unwrap(), "h", &attrs("x")),
            Err(AssignError::NotInBlock)
        );
        assert_eq!(b.unallocated, vec![0, 1, 3]);
        assert!(b.problems().is_empty());
    }

    #[test]
    fn json_matches_calico_field_names() {
        let mut b = block("10.0.0.0/30");
        b.auto_assign(
            1,
            "k8s-pod-network.abc",
            &attrs("p"),
            &AddrFilter::default(),
        );
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["cidr"], "10.0.0.0/30");
        assert_eq!(v["affinity"], "host:n1");
        assert_eq!(v["allocations"], serde_json::json!([0, null, null, null]));
        assert_eq!(v["unallocated"], serde_json::json!([1, 2, 3]));
        assert_eq!(
            v["attributes"],
            serde_json::json!([{"handle_id": "k8s-pod-network.abc", "secondary": {"pod": "p"}}])
        );
        assert!(v["sequenceNumberForAllocation"]["0"].is_u64());
        let back: Block = serde_json::from_value(v).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.claim_time(), Some(t0()));
    }

    #[test]
    fn malformed_blocks_are_reported_not_panicked_on() {
        let mut b = block("10.0.0.0/30");
        b.allocations = vec![Some(9)];
        b.unallocated = vec![7, 7];
        assert!(b.problems().len() >= 3);
        // Operations on a malformed block do not panic.
        b.auto_assign(3, "h", &BTreeMap::new(), &AddrFilter::default());
        b.release(&[ReleaseOptions::address("10.0.0.3".parse().unwrap())]);
        b.release_by_handle("h");
        assert_eq!(sanitize_handle("a\rb"), "a");
    }
}
