//! The check itself, on data already read: [`Findings::scan`] classifies every allocation,
//! handle record and block; [`Findings::render`] prints Calico's sections;
//! [`Findings::report`] builds the JSON report.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use calico_client::ipam_gc::{IpUser, LiveOwners, Ownership, classify};
use calico_ipam::model::sanitize_handle;
use calico_ipam::{AffinityState, AllocationInfo, IpamSnapshot, Pools, attrs};
use ipnet::IpNet;

use super::Meta;
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

    /// The text Calico prints, with calico-rs's additional sections.
    pub fn render(&self, o: Options) -> String {
        let mut s = String::new();
        let mut line = |t: String| {
            s.push_str(&t);
            s.push('\n');
        };
        line("Checking IPAM for inconsistencies...".into());
        line(String::new());
        line("Loading all IPAM blocks...".into());
        line(format!("Found {} IPAM blocks.", self.blocks.len()));
        let mut num_allocs = 0;
        for (cidr, affinity, ips) in &self.blocks {
            line(format!(
                " IPAM block {cidr} affinity={}:",
                affinity.as_deref().unwrap_or("<none>")
            ));
            for ip in ips {
                num_allocs += 1;
                if o.show_all
                    && let Some(c) = self
                        .allocations
                        .get(ip)
                        .and_then(|v| v.iter().find(|c| c.info.block == *cidr))
                {
                    line(format!("  {ip} allocated; attrs {}", fmt_attrs(&c.info)));
                }
            }
        }
        line(format!("IPAM blocks record {num_allocs} allocations."));
        line(String::new());
        line("Loading all IPAM pools...".into());
        for p in &self.active_pools {
            line(format!("  {p}"));
        }
        line(format!(
            "Found {} active IP pools.",
            self.active_pools.len()
        ));
        line(String::new());
        line("Loading all nodes.".into());
        for (ip, who) in self.node_ips.iter().filter(|_| o.show_all) {
            line(format!("  {ip} belongs to {who}"));
        }
        line(format!("Found {} node tunnel IPs.", self.node_ips.len()));
        line(String::new());
        line("Loading all workload endpoints.".into());
        for (ip, who) in self.workload_ips.iter().filter(|_| o.show_all) {
            line(format!("  {ip} belongs to {who}"));
        }
        line(format!("Found {} workload IPs.", self.workload_ips.len()));
        line(format!(
            "Workloads and nodes are using {} IPs.",
            self.used.len()
        ));
        line(String::new());
        line("Loading all handles".into());
        self.render_nodes(&mut line);
        let problems = self.render_problems(o, &mut line);
        line(format!("Check complete; found {problems} problems."));
        s
    }

    fn render_nodes(&self, line: &mut impl FnMut(String)) {
        const TOP: usize = 20;
        line(format!(
            "Looking for top (up to {TOP}) nodes by allocations..."
        ));
        let mut nodes: Vec<(&String, &usize)> = self.by_node.iter().collect();
        nodes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (n, c) in nodes.iter().take(TOP) {
            line(format!("  {n} has {c} allocations"));
        }
        if let (Some(max), Some(median)) = (nodes.first(), nodes.get(nodes.len() / 2)) {
            line(format!(
                "Node with most allocations has {}; median is {}",
                max.1, median.1
            ));
        }
        line(String::new());
    }

    /// The scanning sections; returns the number of problems.
    fn render_problems(&self, o: Options, line: &mut impl FnMut(String)) -> usize {
        let mut problems = 0;
        line("Scanning for IPs that are allocated but not actually in use...".into());
        let leaked: Vec<&Checked> = self.leaked().collect();
        for c in leaked.iter().filter(|_| o.show_problems) {
            line(format!(
                "  {} leaked; attrs {}",
                c.info.address,
                fmt_attrs(&c.info)
            ));
        }
        let leaked_ips: BTreeSet<IpAddr> = leaked.iter().map(|c| c.info.address).collect();
        problems += leaked_ips.len();
        line(format!(
            "Found {} IPs that are allocated in IPAM but not actually in use.",
            leaked_ips.len()
        ));
        line(
            "Scanning for IPs that are in use by a workload or node but not allocated in IPAM..."
                .into(),
        );
        let (mut outside, mut unallocated) = (0, 0);
        for (ip, users) in &self.used {
            if o.show_problems && users.len() > 1 {
                line(format!("  {ip} has multiple owners."));
            }
            if self.allocations.contains_key(ip) {
                continue;
            }
            let in_pool = self.in_pool(*ip);
            for u in users.iter().filter(|_| o.show_problems) {
                line(if in_pool {
                    format!(
                        "  {ip} in use by {u} and in active IPAM pool but has no IPAM allocation."
                    )
                } else {
                    format!("  {ip} in use by {u} is not in any active IP pool.")
                });
            }
            if in_pool {
                unallocated += 1;
            } else {
                outside += 1;
            }
        }
        problems += outside + unallocated;
        line(format!(
            "Found {outside} in-use IPs that are not in active IP pools."
        ));
        line(format!(
            "Found {unallocated} in-use IPs that are in active IP pools but have no corresponding IPAM allocation."
        ));
        line(String::new());
        line("Scanning for IPAM handles with no matching IPs...".into());
        for h in self.leaked_handles.iter().filter(|_| o.show_all) {
            line(format!("  {} doesn't have any active IPs.", h.id));
        }
        problems += self.leaked_handles.len();
        line(format!(
            "Found {} handles with no matching IPs (and {} handles with matches).",
            self.leaked_handles.len(),
            self.handles_total - self.leaked_handles.len()
        ));
        line("Scanning for IPs with missing handle...".into());
        for h in self.missing_handles.iter().filter(|_| o.show_problems) {
            line(format!("  {h} is in use in a block but doesn't exist."));
        }
        problems += self.missing_handles.len();
        line(format!(
            "Found {} handles mentioned in blocks with no matching handle resource.",
            self.missing_handles.len()
        ));
        problems + self.render_extra(o, line)
    }

    /// calico-rs's sections; returns the number of problems among them.
    fn render_extra(&self, o: Options, line: &mut impl FnMut(String)) -> usize {
        let mut problems = 0;
        line("Scanning for handles whose counts disagree with their blocks...".into());
        for m in self.mismatches.iter().filter(|_| o.show_problems) {
            line(format!(
                "  {} records {} addresses in block {}, which holds {}.",
                m.handle, m.recorded, m.block, m.actual
            ));
        }
        let handles: BTreeSet<&str> = self.mismatches.iter().map(|m| m.handle.as_str()).collect();
        problems += handles.len();
        line(format!(
            "Found {} handles whose counts disagree with their blocks.",
            handles.len()
        ));
        line("Scanning for blocks affine to nodes that do not exist...".into());
        for b in self.missing_node_blocks.iter().filter(|_| o.show_problems) {
            line(format!(
                "  {} is affine to missing node {}.",
                b.block, b.node
            ));
        }
        problems += self.missing_node_blocks.len();
        line(format!(
            "Found {} blocks affine to nodes that do not exist.",
            self.missing_node_blocks.len()
        ));
        line("Scanning for addresses allocated or used more than once...".into());
        let dups = self.duplicates();
        for d in dups.iter().filter(|_| o.show_problems) {
            line(format!("  {d}."));
        }
        problems += dups.len();
        line(format!(
            "Found {} addresses allocated or used more than once.",
            dups.len()
        ));
        line("Scanning for malformed blocks and allocations without a handle...".into());
        for m in self.malformed.iter().filter(|_| o.show_problems) {
            line(format!("  {m}."));
        }
        problems += self.malformed.len();
        line(format!(
            "Found {} malformed blocks or allocations without a handle.",
            self.malformed.len()
        ));
        let unknown: Vec<(&Checked, &str)> = self.unknown().collect();
        for (c, why) in unknown.iter().filter(|_| o.show_problems) {
            line(format!("  {} owner unknown: {why}", c.info.address));
        }
        line(format!(
            "Found {} allocations whose owner cannot be determined (never treated as leaked).",
            unknown.len()
        ));
        for n in self.affinity_leftovers.iter().filter(|_| o.show_problems) {
            line(format!("  {n}."));
        }
        line(format!(
            "Found {} leftovers of interrupted block claims or releases (harmless).",
            self.affinity_leftovers.len()
        ));
        problems
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
