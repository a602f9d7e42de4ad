//! Releasing leaked addresses and handle records safely, for the collector and for `calicoctl
//! ipam release --from-report`: every address is re-validated right before it is released
//! (still allocated, to the same handle, with the same sequence number, and its owner still
//! absent, all or none per handle), and released with the handle and sequence number as
//! preconditions, so that a change after the re-validation makes that release fail instead of
//! freeing an address someone now holds. Handle records are deleted or corrected only at the
//! revision they were reported at.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use calico_ipam::{
    AllocationInfo, Block, Handle, IpamStore, Record, RecordKey, ReleaseOptions, Revision,
    StoreError,
};
use ipnet::IpNet;

use super::classify::{Ownership, classify};
use super::owners::LiveOwners;
use super::state::LeakClaim;
use crate::ipam_store::{ClientIpam, IpamClientError};

/// Why a leaked address or handle record was left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The address is no longer allocated.
    NotAllocated,
    /// The address is now held by another handle.
    HandleChanged { now: String },
    /// The address was released and allocated again since it was reported.
    Reallocated,
    /// Something owns the address now.
    Owned(String),
    /// Its owner can no longer be determined.
    UnknownOwner(String),
    /// Another address of the same handle is not leaked (all or none per handle).
    Sibling { address: IpAddr, why: Box<Skip> },
    /// The release precondition failed: the allocation changed after re-validation.
    Refused(String),
    /// The handle record is gone.
    HandleMissing,
    /// The handle record changed since it was reported.
    HandleRevisionChanged,
    /// The handle record now has addresses.
    HandleInUse,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::NotAllocated => write!(f, "it is no longer allocated"),
            Skip::HandleChanged { now } => write!(f, "it is now held by handle {now}"),
            Skip::Reallocated => write!(f, "it was released and allocated again"),
            Skip::Owned(o) => write!(f, "{o} now owns it"),
            Skip::UnknownOwner(why) => write!(f, "its owner cannot be determined: {why}"),
            Skip::Sibling { address, why } => {
                write!(f, "{address} of the same handle is not leaked: {why}")
            }
            Skip::Refused(why) => write!(f, "the allocation changed: {why}"),
            Skip::HandleMissing => write!(f, "the handle no longer exists"),
            Skip::HandleRevisionChanged => write!(f, "the handle changed since the report"),
            Skip::HandleInUse => write!(f, "the handle now holds addresses"),
        }
    }
}

/// Is the allocation `current` still exactly the leaked one `claim` names?
pub fn revalidate(
    claim: &LeakClaim,
    current: Option<&AllocationInfo>,
    owners: &LiveOwners,
) -> Result<(), Skip> {
    let Some(cur) = current else {
        return Err(Skip::NotAllocated);
    };
    match cur.handle_id.as_deref() {
        Some(h) if h == claim.handle => {}
        other => {
            return Err(Skip::HandleChanged {
                now: other.unwrap_or("<none>").to_string(),
            });
        }
    }
    if cur.sequence_number != claim.sequence_number {
        return Err(Skip::Reallocated);
    }
    match classify(cur, owners) {
        Ownership::Leaked(_) => Ok(()),
        Ownership::Live(o) => Err(Skip::Owned(o)),
        Ownership::Unknown(w) => Err(Skip::UnknownOwner(w)),
    }
}

/// The outcome for one claimed address (in the order of the claims).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimOutcome {
    pub claim: LeakClaim,
    /// `None`: released.
    pub skipped: Option<Skip>,
}

/// Release the claimed addresses that are still leaked (see the module docs). Reads the
/// current allocations, then the owners, then releases with preconditions.
pub fn release_leaked(
    ipam: &ClientIpam,
    claims: &[LeakClaim],
) -> Result<Vec<ClaimOutcome>, IpamClientError> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let pools = ipam.pools()?;
    let engine = ipam.engine();
    // The claimed addresses and every other address their handles hold, as they are now.
    let mut current: BTreeMap<IpAddr, Option<AllocationInfo>> = BTreeMap::new();
    let mut by_handle: BTreeMap<&str, Vec<&LeakClaim>> = BTreeMap::new();
    for c in claims {
        by_handle.entry(c.handle.as_str()).or_default().push(c);
    }
    let mut siblings: BTreeMap<&str, Vec<IpAddr>> = BTreeMap::new();
    for (h, cs) in &by_handle {
        if h.is_empty() {
            continue;
        }
        let claimed: BTreeSet<IpAddr> = cs.iter().map(|c| c.address).collect();
        let held = engine.ips_by_handle(h)?;
        siblings.insert(
            h,
            held.into_iter()
                .filter(|ip| !claimed.contains(ip))
                .collect(),
        );
    }
    let wanted = claims
        .iter()
        .map(|c| c.address)
        .chain(siblings.values().flatten().copied());
    for ip in wanted {
        if let std::collections::btree_map::Entry::Vacant(e) = current.entry(ip) {
            e.insert(engine.get_assignment_attributes(&pools, ip)?);
        }
    }
    let owners = LiveOwners::load(ipam.client())?;

    let mut out = Vec::with_capacity(claims.len());
    let mut requests = Vec::new();
    for (h, cs) in &by_handle {
        let mut verdict: Option<Skip> = None;
        for ip in siblings.get(h).into_iter().flatten() {
            let Some(Some(a)) = current.get(ip) else {
                continue;
            };
            if a.handle_id.as_deref() != Some(*h) {
                continue;
            }
            match classify(a, &owners) {
                Ownership::Leaked(_) => {}
                Ownership::Live(o) => verdict = Some(sibling(*ip, Skip::Owned(o))),
                Ownership::Unknown(w) => verdict = Some(sibling(*ip, Skip::UnknownOwner(w))),
            }
        }
        let checks: Vec<Result<(), Skip>> = cs
            .iter()
            .map(|c| revalidate(c, current.get(&c.address).and_then(Option::as_ref), &owners))
            .collect();
        if verdict.is_none() {
            // A claimed address that is owned again keeps the others; one that is simply gone
            // or re-allocated no longer belongs to this handle and does not.
            verdict = cs.iter().zip(&checks).find_map(|(c, r)| match r {
                Err(e @ (Skip::Owned(_) | Skip::UnknownOwner(_))) => {
                    Some(sibling(c.address, e.clone()))
                }
                _ => None,
            });
        }
        for (c, r) in cs.iter().zip(checks) {
            let skip = match (r, &verdict) {
                (Err(e), _) => Some(e),
                (Ok(()), Some(v)) => Some(v.clone()),
                (Ok(()), None) => None,
            };
            if skip.is_none() {
                requests.push(ReleaseOptions {
                    address: c.address,
                    handle: Some(c.handle.clone()),
                    sequence_number: Some(c.sequence_number),
                });
            }
            out.push(ClaimOutcome {
                claim: (*c).clone(),
                skipped: skip,
            });
        }
    }
    let order: std::collections::HashMap<&LeakClaim, usize> =
        claims.iter().enumerate().map(|(i, c)| (c, i)).collect();
    out.sort_by_key(|o| order.get(&o.claim).copied());
    if !requests.is_empty() {
        let res = engine.release_ips(&pools, &requests)?;
        for o in out.iter_mut().filter(|o| o.skipped.is_none()) {
            let ip = o.claim.address;
            if let Some((_, why)) = res.refused.iter().find(|(a, _)| *a == ip) {
                o.skipped = Some(Skip::Refused(why.to_string()));
            } else if res.not_allocated.contains(&ip) {
                o.skipped = Some(Skip::NotAllocated);
            }
        }
    }
    Ok(out)
}

fn sibling(address: IpAddr, why: Skip) -> Skip {
    Skip::Sibling {
        address,
        why: Box::new(why),
    }
}

fn store_err(e: StoreError) -> IpamClientError {
    IpamClientError::Ipam(e.into())
}

/// How many addresses of `handle` each of the given blocks holds now.
fn held_counts(
    ipam: &ClientIpam,
    handle: &str,
    blocks: impl Iterator<Item = IpNet>,
) -> Result<BTreeMap<IpNet, u32>, IpamClientError> {
    let store = ipam.engine().store();
    let mut out = BTreeMap::new();
    for cidr in blocks {
        let n = match store.get(&RecordKey::Block(cidr)).map_err(store_err)? {
            Some(s) => match s.value {
                Record::Block(b) => count_in(&b, handle),
                _ => 0,
            },
            None => 0,
        };
        out.insert(cidr, n);
    }
    Ok(out)
}

fn count_in(b: &Block, handle: &str) -> u32 {
    b.counts_by_handle().get(handle).copied().unwrap_or(0)
}

fn read_handle(
    ipam: &ClientIpam,
    id: &str,
    revision: Revision,
) -> Result<Result<Handle, Skip>, IpamClientError> {
    let key = RecordKey::Handle(id.to_string());
    match ipam.engine().store().get(&key).map_err(store_err)? {
        None => Ok(Err(Skip::HandleMissing)),
        Some(s) if s.revision != revision => Ok(Err(Skip::HandleRevisionChanged)),
        Some(s) => match s.value {
            Record::Handle(h) => Ok(Ok(h)),
            _ => Ok(Err(Skip::HandleMissing)),
        },
    }
}

fn cas_result(r: Result<(), StoreError>) -> Result<Option<Skip>, IpamClientError> {
    match r {
        Ok(()) => Ok(None),
        Err(StoreError::Conflict { .. }) => Ok(Some(Skip::HandleRevisionChanged)),
        Err(StoreError::NotFound { .. }) => Ok(Some(Skip::HandleMissing)),
        Err(e) => Err(store_err(e)),
    }
}

/// Delete a handle record that holds no address, if it is still at `revision` and its blocks
/// still hold nothing of it. `None`: deleted.
pub fn delete_leaked_handle(
    ipam: &ClientIpam,
    id: &str,
    revision: Revision,
) -> Result<Option<Skip>, IpamClientError> {
    let h = match read_handle(ipam, id, revision)? {
        Ok(h) => h,
        Err(skip) => return Ok(Some(skip)),
    };
    if held_counts(ipam, id, h.block.keys().copied())?
        .values()
        .any(|n| *n > 0)
    {
        return Ok(Some(Skip::HandleInUse));
    }
    let key = RecordKey::Handle(id.to_string());
    cas_result(ipam.engine().store().delete(&key, revision))
}

/// Lower the counts of a handle record that claims more addresses in some block than the block
/// holds, if it is still at `revision`. Counts are only ever lowered, to what the blocks hold
/// now; a record left with nothing is deleted. `None`: corrected.
pub fn correct_handle_counts(
    ipam: &ClientIpam,
    id: &str,
    revision: Revision,
) -> Result<Option<Skip>, IpamClientError> {
    let h = match read_handle(ipam, id, revision)? {
        Ok(h) => h,
        Err(skip) => return Ok(Some(skip)),
    };
    let held = held_counts(ipam, id, h.block.keys().copied())?;
    let mut fixed = h.clone();
    fixed.block = h
        .block
        .iter()
        .map(|(cidr, n)| (*cidr, (*n).min(held.get(cidr).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect();
    if fixed.block == h.block {
        return Ok(None);
    }
    let store = ipam.engine().store();
    let r = if fixed.block.is_empty() {
        store.delete(&RecordKey::Handle(id.to_string()), revision)
    } else {
        store.update(&Record::Handle(fixed), revision).map(|_| ())
    };
    cas_result(r)
}
