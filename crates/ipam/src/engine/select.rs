//! Which pools a request may use, and why each other pool is out.

use crate::addr::IpVersion;
use crate::engine::AutoAssignArgs;
use crate::error::{IpamError, PoolOutcome, PoolReport};
use crate::pools::{AssignmentMode, PoolInfo, Pools};

/// The pools of one IP version sorted into usable ones and the rest (with reasons).
#[derive(Debug)]
pub(crate) struct Selection<'a> {
    /// Usable for this request, in the order given.
    pub eligible: Vec<&'a PoolInfo>,
    /// Enabled pools that select the node (used to keep affinities to blocks in them).
    pub selecting_node: Vec<&'a PoolInfo>,
    /// Pools that were ruled out and why.
    pub excluded: Vec<PoolReport>,
    /// Whether some pool selected the node but none allowed the intended use.
    pub use_filtered_all: bool,
}

fn report(p: &PoolInfo, outcome: PoolOutcome) -> PoolReport {
    PoolReport {
        name: p.name.clone(),
        cidr: Some(p.cidr),
        outcome,
    }
}

pub(crate) fn select_pools<'a>(
    pools: &'a Pools,
    args: &AutoAssignArgs,
    version: IpVersion,
) -> Result<Selection<'a>, IpamError> {
    let requested = match version {
        IpVersion::V4 => &args.ipv4_pools,
        IpVersion::V6 => &args.ipv6_pools,
    };
    let mut sel = Selection {
        eligible: Vec::new(),
        selecting_node: Vec::new(),
        excluded: Vec::new(),
        use_filtered_all: false,
    };
    if !requested.is_empty() {
        // Requested pools are used as given: selectors and assignment mode are ignored, but
        // each must exist, be enabled, be of this version, and allow the use.
        for name in requested {
            let pool = pools
                .find(name)
                .filter(|p| !p.disabled)
                .ok_or_else(|| IpamError::PoolNotFound { pool: name.clone() })?;
            if pool.version() != version {
                return Err(IpamError::PoolVersion {
                    version,
                    pool: pool.name.clone(),
                    cidr: pool.cidr,
                });
            }
            if sel.eligible.iter().any(|p| p.name == pool.name) {
                continue;
            }
            sel.selecting_node.push(pool);
            if pool.allows(args.intended_use) {
                sel.eligible.push(pool);
            } else {
                sel.excluded.push(report(
                    pool,
                    PoolOutcome::UseNotAllowed {
                        intended: args.intended_use,
                        allowed: pool.allowed_uses.clone(),
                    },
                ));
            }
        }
        sel.use_filtered_all = sel.eligible.is_empty();
        return Ok(sel);
    }
    for pool in pools.pools.iter().filter(|p| p.version() == version) {
        if pool.disabled {
            sel.excluded.push(report(pool, PoolOutcome::Disabled));
            continue;
        }
        if !pool.node_selector.matches(&args.node_labels) {
            sel.excluded.push(report(
                pool,
                PoolOutcome::NodeNotSelected {
                    selector: pool.node_selector.to_string(),
                },
            ));
            continue;
        }
        sel.selecting_node.push(pool);
        if pool.assignment_mode == AssignmentMode::Manual {
            sel.excluded
                .push(report(pool, PoolOutcome::ManualAssignment));
            continue;
        }
        if let (Some(ns_sel), Some(ns_labels)) = (&pool.namespace_selector, &args.namespace_labels)
            && !ns_sel.matches(ns_labels)
        {
            sel.excluded.push(report(
                pool,
                PoolOutcome::NamespaceNotSelected {
                    selector: ns_sel.to_string(),
                },
            ));
            continue;
        }
        if !pool.allows(args.intended_use) {
            sel.excluded.push(report(
                pool,
                PoolOutcome::UseNotAllowed {
                    intended: args.intended_use,
                    allowed: pool.allowed_uses.clone(),
                },
            ));
            continue;
        }
        sel.eligible.push(pool);
    }
    sel.use_filtered_all = sel.eligible.is_empty()
        && sel
            .excluded
            .iter()
            .any(|r| matches!(r.outcome, PoolOutcome::UseNotAllowed { .. }));
    for (name, reason) in &pools.unusable {
        sel.excluded.push(PoolReport {
            name: name.clone(),
            cidr: None,
            outcome: PoolOutcome::Unusable {
                reason: reason.clone(),
            },
        });
    }
    Ok(sel)
}
