//! `ipam show [--ip=IP | --show-blocks | --show-borrowed | --show-configuration]`, with
//! Calico's tables and messages.

use std::net::IpAddr;

use anyhow::{Context, Result, anyhow};
use calico_client::ipam_store::ClientIpam;
use calico_ipam::addr::addr_to_u128;
use calico_ipam::{AddrFilter, Block, Pools, attrs};
use ipnet::IpNet;

use super::args::ShowArgs;
use super::table::{boxed, g5, with_percent};
use crate::session::Globals;
use crate::stdout;

pub fn run(g: &Globals, args: ShowArgs) -> Result<()> {
    let ip = args.ip.as_deref().map(parse_ip).transpose()?;
    let ipam = ClientIpam::new(g.connect_checked()?);
    let text = if let Some(ip) = ip {
        show_ip(&ipam, ip)?
    } else if args.show_configuration {
        show_configuration(&ipam)?
    } else if args.show_borrowed {
        let snap = ipam.engine().snapshot()?;
        let blocks: Vec<Block> = snap.blocks.into_iter().map(|b| b.value).collect();
        borrowed(&blocks)
    } else {
        let snap = ipam.engine().snapshot()?;
        let pools = ipam.pools().context("failed to load IP pools")?;
        let blocks: Vec<Block> = snap.blocks.into_iter().map(|b| b.value).collect();
        utilization(&pools, &blocks, args.show_blocks)
    };
    stdout::print(&text)
}

/// An IP address from the command line, with Calico's message when it is not one.
pub fn parse_ip(s: &str) -> Result<IpAddr> {
    s.trim()
        .parse()
        .map_err(|_| anyhow!("Error executing command: invalid IP address specified: {s}"))
}

fn show_ip(ipam: &ClientIpam, ip: IpAddr) -> Result<String> {
    let Some(a) = ipam.get_assignment_attributes(ip)? else {
        return Ok(format!("{ip} is not assigned\n"));
    };
    let mut s = format!("IP {ip} is in use\n");
    match &a.handle_id {
        Some(h) => s.push_str(&format!("Handle ID: {h}\n")),
        None => s.push_str("Handle ID: <none>\n"),
    }
    if a.attrs.is_empty() {
        s.push_str("No Active Owner attributes defined\n");
    } else {
        s.push_str("Active Owner Attributes:\n");
        for (k, v) in &a.attrs {
            s.push_str(&format!("  {k}: {v}\n"));
        }
    }
    Ok(s)
}

fn show_configuration(ipam: &ClientIpam) -> Result<String> {
    let c = ipam.config().map_err(|e| anyhow!("error: {e}"))?;
    let rows = vec![
        vec!["StrictAffinity".into(), c.strict_affinity.to_string()],
        vec![
            "AutoAllocateBlocks".into(),
            c.auto_allocate_blocks.to_string(),
        ],
        vec!["MaxBlocksPerHost".into(), c.max_blocks_per_host.to_string()],
    ];
    Ok(boxed(&["PROPERTY", "VALUE"], &[], &rows))
}

fn range(n: &IpNet) -> (u128, u128) {
    (addr_to_u128(n.network()), addr_to_u128(n.broadcast()))
}

/// How many addresses of `net` the reservations cover (overlapping reservations counted once).
pub fn reserved_in(filter: &AddrFilter, net: &IpNet) -> f64 {
    let (lo, hi) = range(net);
    let mut parts: Vec<(u128, u128)> = filter
        .nets()
        .iter()
        .filter(|r| r.network().is_ipv4() == net.network().is_ipv4())
        .map(range)
        .filter_map(|(a, b)| {
            let (a, b) = (a.max(lo), b.min(hi));
            (a <= b).then_some((a, b))
        })
        .collect();
    parts.sort_unstable();
    let mut total = 0f64;
    let mut cur: Option<(u128, u128)> = None;
    for (a, b) in parts {
        cur = match cur {
            Some((ca, cb)) if a <= cb.saturating_add(1) => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += (cb - ca) as f64 + 1.0;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((a, b)) = cur {
        total += (b - a) as f64 + 1.0;
    }
    total
}

fn size(net: &IpNet) -> f64 {
    2f64.powi(i32::from(net.max_prefix_len() - net.prefix_len()))
}

/// One utilization row's numbers.
struct Usage {
    total: f64,
    in_use: f64,
    reserved: f64,
    free: f64,
}

fn row(kind: &str, cidr: &IpNet, u: &Usage) -> Vec<String> {
    vec![
        kind.into(),
        cidr.to_string(),
        g5(u.total),
        with_percent(u.in_use, u.total),
        with_percent(u.reserved, u.total),
        with_percent(u.free, u.total),
    ]
}

fn block_usage(b: &Block, reserved: &AddrFilter) -> Usage {
    Usage {
        total: b.expected_len() as f64,
        in_use: b.in_use() as f64,
        reserved: reserved_in(reserved, &b.cidr),
        free: b.free_count(reserved) as f64,
    }
}

/// The `GROUPING | CIDR | IPS TOTAL | IPS IN USE | IPS RESERVED | IPS FREE` table: one row
/// per pool (in name order), with `--show-blocks` one per block after its pool's; blocks in
/// no pool are listed (with `--show-blocks`) after all pools, without a pool row. An address
/// allocated and reserved counts in both IN USE and RESERVED.
pub fn utilization(pools: &Pools, blocks: &[Block], show_blocks: bool) -> String {
    let mut blocks: Vec<&Block> = blocks.iter().collect();
    blocks.sort_by_key(|b| (b.cidr.network(), b.cidr.prefix_len()));
    let mut taken = vec![false; blocks.len()];
    let mut rows = Vec::new();
    let reserved = &pools.reserved;
    for p in &pools.pools {
        let mut in_use = 0f64;
        let mut in_use_reserved = 0f64;
        let mut block_rows = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            if taken[i] || !p.cidr.contains(&b.cidr.network()) {
                continue;
            }
            taken[i] = true;
            in_use += b.in_use() as f64;
            in_use_reserved += b
                .allocated()
                .filter_map(|o| b.ip_at(o))
                .filter(|ip| reserved.matches(*ip))
                .count() as f64;
            block_rows.push(row("Block", &b.cidr, &block_usage(b, reserved)));
        }
        let total = size(&p.cidr);
        let res = reserved_in(reserved, &p.cidr);
        let usage = Usage {
            total,
            in_use,
            reserved: res,
            free: (total - in_use - (res - in_use_reserved)).max(0.0),
        };
        rows.push(row("IP Pool", &p.cidr, &usage));
        if show_blocks {
            rows.extend(block_rows);
        }
    }
    if show_blocks {
        for (i, b) in blocks.iter().enumerate() {
            if !taken[i] {
                rows.push(row("Block", &b.cidr, &block_usage(b, reserved)));
            }
        }
    }
    boxed(
        &[
            "GROUPING",
            "CIDR",
            "IPS TOTAL",
            "IPS IN USE",
            "IPS RESERVED",
            "IPS FREE",
        ],
        &[false, false, true, true, true, true],
        &rows,
    )
}

/// `--show-borrowed`: addresses whose `node` attribute is not the block's node.
pub fn borrowed(blocks: &[Block]) -> String {
    let mut blocks: Vec<&Block> = blocks.iter().collect();
    blocks.sort_by_key(|b| (b.cidr.network(), b.cidr.prefix_len()));
    let mut rows = Vec::new();
    let mut unclassified = 0;
    for b in blocks {
        let owner = b
            .affinity
            .as_deref()
            .map(|a| a.split_once(':').map_or(a, |(_, n)| n))
            .unwrap_or("");
        for o in b.allocated() {
            let (Some(ip), Some(attr)) = (b.ip_at(o), b.attribute_of(o)) else {
                continue;
            };
            let a = &attr.secondary;
            let Some(node) = a.get(attrs::NODE) else {
                unclassified += 1;
                continue;
            };
            if node == owner {
                continue;
            }
            let ns = a.get(attrs::NAMESPACE).map_or("", String::as_str);
            let (kind, to) = if let Some(vm) = a.get("vmi") {
                ("vmi".to_string(), format!("{ns}/{vm}"))
            } else if let Some(pod) = a.get(attrs::POD) {
                ("pod".to_string(), format!("{ns}/{pod}"))
            } else {
                (
                    a.get(attrs::TYPE).cloned().unwrap_or_default(),
                    String::new(),
                )
            };
            rows.push(vec![
                ip.to_string(),
                node.clone(),
                b.cidr.to_string(),
                owner.to_string(),
                kind,
                to,
            ]);
        }
    }
    let mut out = boxed(
        &[
            "IP",
            "BORROWING-NODE",
            "BLOCK",
            "BLOCK OWNER",
            "TYPE",
            "ALLOCATED-TO",
        ],
        &[],
        &rows,
    );
    if unclassified != 0 {
        out.push_str(&format!(
            "\nNote: found {unclassified} IP allocations without an explicit node association. \
             Unable to determine if they are borrowed.\n"
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::UNIX_EPOCH;

    use calico_ipam::PoolInfo;

    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn reserved_addresses_count_once_and_in_use_too() {
        let pools = Pools::new(vec![
            PoolInfo::with_block_size("p", net("10.0.0.0/24"), 28).unwrap(),
        ])
        .with_reserved(AddrFilter::new([
            net("10.0.0.0/30"),
            net("10.0.0.2/31"),
            net("10.0.0.8/32"),
            net("10.9.0.0/16"),
        ]));
        assert_eq!(reserved_in(&pools.reserved, &net("10.0.0.0/24")), 5.0);
        assert_eq!(reserved_in(&pools.reserved, &net("10.0.0.0/29")), 4.0);
        assert_eq!(reserved_in(&pools.reserved, &net("fd00::/64")), 0.0);
        let mut b = Block::new(net("10.0.0.0/28"), Some("host:n1".into()), UNIX_EPOCH).unwrap();
        // 10.0.0.4 and 10.0.0.5 (the reservations skip .0-.3), then .6.
        let got = b.auto_assign(3, "h", &BTreeMap::new(), &pools.reserved);
        assert_eq!(got.len(), 3);
        let mut orphan = Block::new(net("10.5.0.0/28"), None, UNIX_EPOCH).unwrap();
        orphan.auto_assign(1, "h2", &BTreeMap::new(), &AddrFilter::default());
        let text = utilization(&pools, &[orphan, b], true);
        assert_eq!(
            text,
            "+----------+-------------+-----------+------------+--------------+-----------+\n\
             | GROUPING | CIDR        | IPS TOTAL | IPS IN USE | IPS RESERVED | IPS FREE  |\n\
             +----------+-------------+-----------+------------+--------------+-----------+\n\
             | IP Pool  | 10.0.0.0/24 |       256 |     3 (1%) |       5 (2%) | 248 (97%) |\n\
             | Block    | 10.0.0.0/28 |        16 |    3 (19%) |      5 (31%) |   8 (50%) |\n\
             | Block    | 10.5.0.0/28 |        16 |     1 (6%) |       0 (0%) |  15 (94%) |\n\
             +----------+-------------+-----------+------------+--------------+-----------+\n"
        );
    }
}
