//! The check itself, on data already read: [`Findings::scan`] classifies every allocation,
//! handle record and block; [`Findings::report`] builds the JSON report; `render` prints
//! Calico's sections.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use calico_client::ipam_gc::{IpUser, LiveOwners, Ownership, classify};
use calico_ipam::model::sanitize_handle;
use calico_ipam::{AffinityState, AllocationInfo, IpamSnapshot, Pools, attrs};
use ipnet::IpNet;

use super::Meta;

mod render;
use crate::commands::ipam::report::{
    Allocation, BlockAffinity, HandleCountMismatch, HandleInfo, Report,
};

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub show_all: bool,
    pub show_problems: bool,
}

/// One allocation and what the check decided about it.
#[derive(Clone, Debug)]
struct Checked {
    info: AllocationInfo,
    node: String,
    borrowed: bool,
    ownership: Ownership,
    owners: Vec<String>,
}

/// Everything the check found.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    blocks: Vec<(IpNet, Option<String>, Vec<IpAddr>)>,
    allocations: BTreeMap<IpAddr, Vec<Checked>>,
    active_pools: Vec<IpNet>,
    node_ips: Vec<(IpAddr, String)>,
    workload_ips: Vec<(IpAddr, String)>,
    used: BTreeMap<IpAddr, Vec<IpUser>>,
    by_node: BTreeMap<String, usize>,
    handles_total: usize,
    leaked_handles: Vec<HandleInfo>,
    missing_handles: BTreeSet<String>,
    mismatches: Vec<HandleCountMismatch>,
    missing_node_blocks: Vec<BlockAffinity>,
    malformed: Vec<String>,
    affinity_leftovers: Vec<String>,
}

fn fmt_attrs(info: &AllocationInfo) -> String {
    let main = info.handle_id.as_deref().unwrap_or("<none>");
    let extra: Vec<String> = info.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("Main:{main} Extra:{}", extra.join(","))
}

impl Findings {
    pub fn scan(snap: &IpamSnapshot, pools: &Pools, owners: &LiveOwners) -> Self {
        let mut f = Findings::default();
        let mut blocks: Vec<_> = snap.blocks.iter().map(|b| &b.value).collect();
        blocks.sort_by_key(|b| (b.cidr.network(), b.cidr.prefix_len()));
        let mut per_block: BTreeMap<IpNet, Vec<AllocationInfo>> = BTreeMap::new();
        for a in snap.allocations() {
            per_block.entry(a.block).or_default().push(a);
        }
        // handle → block → addresses held, from the blocks.
        let mut held: BTreeMap<String, BTreeMap<IpNet, u32>> = BTreeMap::new();
        for b in &blocks {
            for p in b.problems() {
                f.malformed.push(p);
            }
            let host = b.host().map(str::to_string);
            let mut ips = Vec::new();
            for a in per_block.remove(&b.cidr).unwrap_or_default() {
                ips.push(a.address);
                match a.handle_id.as_deref().map(sanitize_handle) {
                    Some(h) if !h.is_empty() => {
                        *held
                            .entry(h.to_string())
                            .or_default()
                            .entry(b.cidr)
                            .or_default() += 1;
                    }
                    _ => f.malformed.push(format!(
                        "{} in block {} is allocated without a handle",
                        a.address, b.cidr
                    )),
                }
                let node = a
                    .attrs
                    .get(attrs::NODE)
                    .filter(|n| !n.is_empty())
                    .cloned()
                    .or_else(|| host.clone())
                    .unwrap_or_default();
                let borrowed = Some(&node) != host.as_ref();
                *f.by_node.entry(node.clone()).or_default() += 1;
                let ownership = classify(&a, owners);
                let owners_of: Vec<String> = owners
                    .ip_users(a.address)
                    .iter()
                    .map(|u| u.to_string())
                    .collect();
                f.allocations.entry(a.address).or_default().push(Checked {
                    info: a,
                    node,
                    borrowed,
                    ownership,
                    owners: owners_of,
                });
            }
            if let Some(h) = &host
                && !owners.node_exists(h)
            {
                f.missing_node_blocks.push(BlockAffinity {
                    block: b.cidr.to_string(),
                    node: h.clone(),
                });
            }
            f.blocks.push((b.cidr, b.affinity.clone(), ips));
        }
        f.active_pools = pools
            .pools
            .iter()
            .filter(|p| !p.disabled)
            .map(|p| p.cidr)
            .collect();
        for (ip, users) in owners.used_ips() {
            for u in users {
                match u {
                    IpUser::Node(_) => f.node_ips.push((ip, u.to_string())),
                    IpUser::Workload(_) => f.workload_ips.push((ip, u.to_string())),
                }
            }
            f.used.insert(ip, users.to_vec());
        }
        f.scan_handles(snap, &held);
        f.scan_affinities(snap);
        f
    }

    fn scan_handles(&mut self, snap: &IpamSnapshot, held: &BTreeMap<String, BTreeMap<IpNet, u32>>) {
        self.handles_total = snap.handles.len();
        let mut recorded = BTreeSet::new();
        for h in &snap.handles {
            let id = &h.value.handle_id;
            recorded.insert(id.clone());
            let Some(actual) = held.get(id) else {
                self.leaked_handles.push(HandleInfo {
                    id: id.clone(),
                    uid: None,
                    revision: h.revision.to_string(),
                });
                continue;
            };
            let cidrs: BTreeSet<&IpNet> = actual.keys().chain(h.value.block.keys()).collect();
            for cidr in cidrs {
                let (r, a) = (
                    h.value.block.get(cidr).copied().unwrap_or(0),
                    actual.get(cidr).copied().unwrap_or(0),
                );
                if r != a {
                    self.mismatches.push(HandleCountMismatch {
                        handle: id.clone(),
                        revision: h.revision.to_string(),
                        block: cidr.to_string(),
                        recorded: r,
                        actual: a,
                    });
                }
            }
        }
        self.missing_handles = held
            .keys()
            .filter(|h| !recorded.contains(*h))
            .cloned()
            .collect();
    }

    fn scan_affinities(&mut self, snap: &IpamSnapshot) {
        let blocks: BTreeMap<IpNet, &calico_ipam::Block> = snap
            .blocks
            .iter()
            .map(|b| (b.value.cidr, &b.value))
            .collect();
        for a in &snap.affinities {
            let a = &a.value;
            let note = match blocks.get(&a.cidr) {
                None => Some(format!("affinity of {} to {} has no block", a.cidr, a.node)),
                Some(b) if !b.is_affine_to(&a.node) => Some(format!(
                    "affinity of {} to {} is stale (the block is not affine to it)",
                    a.cidr, a.node
                )),
                Some(_) if a.state != AffinityState::Confirmed => Some(format!(
                    "affinity of {} to {} is {}",
                    a.cidr,
                    a.node,
                    a.state.as_str()
                )),
                Some(_) => None,
            };
            self.affinity_leftovers.extend(note);
        }
        for b in blocks.values() {
            if let Some(h) = b.host()
                && !snap
                    .affinities
                    .iter()
                    .any(|a| a.value.node == h && a.value.cidr == b.cidr)
            {
                self.affinity_leftovers.push(format!(
                    "block {} is affine to {h} but has no affinity record",
                    b.cidr
                ));
            }
        }
    }

    fn leaked(&self) -> impl Iterator<Item = &Checked> {
        self.allocations
            .values()
            .flatten()
            .filter(|c| c.ownership.is_leaked())
    }

    fn unknown(&self) -> impl Iterator<Item = (&Checked, &str)> {
        self.allocations
            .values()
            .flatten()
            .filter_map(|c| match &c.ownership {
                Ownership::Unknown(w) => Some((c, w.as_str())),
                _ => None,
            })
    }

    fn in_pool(&self, ip: IpAddr) -> bool {
        self.active_pools.iter().any(|p| p.contains(&ip))
    }

    /// Addresses in two blocks, and addresses used by two owners.
    fn duplicates(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (ip, allocs) in &self.allocations {
            if allocs.len() > 1 {
                let blocks: Vec<String> = allocs.iter().map(|c| c.info.block.to_string()).collect();
                out.push(format!(
                    "{ip} is allocated in blocks {}",
                    blocks.join(" and ")
                ));
            }
        }
        for (ip, users) in &self.used {
            if users.len() > 1 {
                let names: Vec<String> = users.iter().map(ToString::to_string).collect();
                out.push(format!("{ip} is used by {}", names.join(" and ")));
            }
        }
        out
    }

    /// The JSON report.
    pub fn report(&self, meta: Meta) -> Report {
        let mut allocations: BTreeMap<String, Vec<Allocation>> = BTreeMap::new();
        for (ip, cs) in &self.allocations {
            let list = cs.iter().map(report_allocation).collect();
            allocations.insert(ip.to_string(), list);
        }
        let mut problems = self.duplicates();
        problems.extend(self.malformed.iter().cloned());
        Report {
            version: meta.version,
            cluster_guid: meta.cluster_guid,
            datastore_locked: meta.datastore_locked,
            cluster_info_revision: meta.cluster_info_revision,
            cluster_type: meta.cluster_type,
            generated_at: meta.generated_at,
            allocations,
            leaked_handles: self.leaked_handles.clone(),
            handle_count_mismatches: self.mismatches.clone(),
            blocks_affine_to_missing_nodes: self.missing_node_blocks.clone(),
            problems,
        }
    }
}

fn report_allocation(c: &Checked) -> Allocation {
    let a = &c.info;
    let get = |k: &str| a.attrs.get(k).cloned().unwrap_or_default();
    let (in_use, leak_reason, owner_unknown, owners) = match &c.ownership {
        Ownership::Live(o) => {
            let mut owners = c.owners.clone();
            if owners.is_empty() {
                owners.push(o.clone());
            }
            (true, String::new(), String::new(), Some(owners))
        }
        Ownership::Leaked(why) => (false, why.clone(), String::new(), None),
        Ownership::Unknown(why) => (true, String::new(), why.clone(), None),
    };
    Allocation {
        ip: a.address.to_string(),
        handle: a.handle_id.clone().unwrap_or_default(),
        sequence_number: Some(a.sequence_number),
        pod: get(attrs::POD),
        namespace: get(attrs::NAMESPACE),
        node: c.node.clone(),
        kind: get(attrs::TYPE),
        creation_timestamp: get(attrs::TIMESTAMP),
        in_use,
        borrowed: c.borrowed,
        owners,
        block: a.block.to_string(),
        leak_reason,
        owner_unknown,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::UNIX_EPOCH;

    use calico_ipam::{AddrFilter, Block, Handle, PoolInfo, Stored};

    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn stored<T>(value: T) -> Stored<T> {
        Stored { value, revision: 7 }
    }

    #[test]
    fn overlapping_blocks_and_wrong_counts_are_problems() {
        let none = BTreeMap::new();
        let free = AddrFilter::default();
        let mut a = Block::new(net("10.0.0.0/26"), Some("host:gone".into()), UNIX_EPOCH).unwrap();
        a.auto_assign(2, "lb-a", &none, &free);
        // A second block over the first one's addresses: 10.0.0.0 is allocated twice.
        let mut b = Block::new(net("10.0.0.0/28"), None, UNIX_EPOCH).unwrap();
        b.auto_assign(1, "lb-b", &none, &free);
        let mut ha = Handle::new("lb-a");
        ha.block.insert(net("10.0.0.0/26"), 3);
        let snap = IpamSnapshot {
            blocks: vec![stored(a), stored(b)],
            handles: vec![stored(ha)],
            ..IpamSnapshot::default()
        };
        let pools = Pools::new(vec![PoolInfo::new("p", net("10.0.0.0/24")).unwrap()]);
        let f = Findings::scan(&snap, &pools, &LiveOwners::default());
        let text = f.render(Options {
            show_all: false,
            show_problems: true,
        });
        for want in [
            "  lb-a records 3 addresses in block 10.0.0.0/26, which holds 2.\n",
            "Found 1 handles whose counts disagree with their blocks.\n",
            "  lb-b is in use in a block but doesn't exist.\n",
            "  10.0.0.0/26 is affine to missing node gone.\n",
            "  10.0.0.0 is allocated in blocks 10.0.0.0/26 and 10.0.0.0/28.\n",
            "Found 3 allocations whose owner cannot be determined (never treated as leaked).\n",
            "  block 10.0.0.0/26 is affine to gone but has no affinity record.\n",
            // mismatch + missing handle + missing node + double allocation
            "Check complete; found 4 problems.\n",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        let r = f.report(Meta::default());
        assert_eq!(r.handle_count_mismatches.len(), 1);
        assert_eq!(r.allocations["10.0.0.0"].len(), 2);
        assert!(r.allocations.values().flatten().all(|a| a.in_use));
        assert_eq!(r.problems.len(), 1);
    }
}
