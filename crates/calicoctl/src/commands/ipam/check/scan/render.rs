//! Calico's `ipam check` text: its sections in its order, then calico-rs's additional ones,
//! and the closing `Check complete; found N problems.` line.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::{Checked, Findings, Options, fmt_attrs};

impl Findings {
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
}
