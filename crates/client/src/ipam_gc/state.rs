//! [`GcState`]: the garbage collector's memory, sans I/O. Each pass hands it what the datastore
//! holds (allocations, handle records, live owners) and the time; it answers which handles are
//! confirmed leaked. Nothing here reads a clock or the datastore.
//!
//! Rules:
//! - a handle is a leak **candidate** when every one of its allocations is
//!   [`Ownership::Leaked`] (all or none per handle); it stops being one as soon as any of them
//!   is not, and its clock starts again;
//! - a candidate is **confirmed** once it has been a candidate in every pass for the grace
//!   period, and every allocation's `timestamp` attribute (when readable) is at least that old;
//! - an allocation is identified by address, handle *and* sequence number, so an address freed
//!   and allocated again starts afresh;
//! - a handle record that holds no address is confirmed in the same way, as long as its
//!   revision does not change.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use calico_ipam::{AllocationInfo, Handle, Revision, Stored};

use super::classify::{Ownership, allocation_time, classify};
use super::owners::LiveOwners;

/// One allocation exactly: re-allocating the address changes the sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeakClaim {
    pub address: IpAddr,
    pub handle: String,
    pub sequence_number: u64,
}

impl LeakClaim {
    pub fn of(a: &AllocationInfo) -> Option<Self> {
        Some(LeakClaim {
            address: a.address,
            handle: a.handle_id.clone()?,
            sequence_number: a.sequence_number,
        })
    }
}

/// A handle whose every allocation is confirmed leaked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmedLeak {
    pub handle: String,
    pub claims: Vec<LeakClaim>,
    /// Why the owner is considered gone (of the first allocation).
    pub reason: String,
}

/// What one pass decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Handles confirmed leaked: release them (after re-validating).
    pub confirmed: Vec<ConfirmedLeak>,
    /// Handles that are candidates but still within the grace period.
    pub waiting: usize,
    /// Allocations whose owner cannot be determined (never released).
    pub unknown: usize,
    /// Handle records holding nothing for the whole grace period: `(id, revision)`.
    pub empty_handles: Vec<(String, Revision)>,
}

/// The collector's state between passes.
#[derive(Clone, Debug, Default)]
pub struct GcState {
    grace_override: Option<Duration>,
    /// Allocation → when it was first seen as part of a leak candidate.
    candidates: HashMap<LeakClaim, SystemTime>,
    /// Empty handle record → (revision, first seen empty).
    empty: HashMap<String, (Revision, SystemTime)>,
}

/// `now - since`, zero if the clock went backwards.
fn elapsed(now: SystemTime, since: SystemTime) -> Duration {
    now.duration_since(since).unwrap_or(Duration::ZERO)
}

impl GcState {
    /// A collector that reads the grace period from the KubeControllersConfiguration on every
    /// pass (see [`super::leak_grace_period`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A collector with a fixed grace period, whatever the datastore says (zero disables it).
    pub fn with_grace_period(grace: Duration) -> Self {
        Self {
            grace_override: Some(grace),
            ..Self::default()
        }
    }

    /// The fixed grace period, if one was given.
    pub fn grace_override(&self) -> Option<Duration> {
        self.grace_override
    }

    /// Allocations currently tracked as leak candidates.
    pub fn candidate_count(&self) -> usize {
        self.candidates.len()
    }

    /// Forget everything (the collector was disabled).
    pub fn clear(&mut self) {
        self.candidates.clear();
        self.empty.clear();
    }

    /// Forget allocations that were released.
    pub fn forget(&mut self, released: &[LeakClaim]) {
        for c in released {
            self.candidates.remove(c);
        }
    }

    /// One pass over what the datastore holds now. `allocations` and `handles` must have been
    /// read before `owners`.
    pub fn observe(
        &mut self,
        allocations: &[AllocationInfo],
        handles: &[Stored<Handle>],
        owners: &LiveOwners,
        grace: Duration,
        now: SystemTime,
    ) -> Plan {
        let mut plan = Plan::default();
        let mut by_handle: BTreeMap<&str, Vec<(&AllocationInfo, Ownership)>> = BTreeMap::new();
        for a in allocations {
            let own = classify(a, owners);
            if matches!(own, Ownership::Unknown(_)) {
                plan.unknown += 1;
            }
            if let Some(h) = a.handle_id.as_deref() {
                by_handle.entry(h).or_default().push((a, own));
            }
        }
        let mut seen: HashMap<LeakClaim, SystemTime> = HashMap::new();
        for (handle, allocs) in &by_handle {
            if !allocs.iter().all(|(_, o)| o.is_leaked()) {
                continue; // dropped from `seen`: its clock restarts
            }
            let mut confirmed = true;
            let mut claims = Vec::with_capacity(allocs.len());
            for (a, _) in allocs {
                let Some(claim) = LeakClaim::of(a) else {
                    continue;
                };
                let since = self.candidates.get(&claim).copied().unwrap_or(now);
                let old_enough = allocation_time(&a.attrs).is_none_or(|t| elapsed(now, t) >= grace);
                confirmed &= elapsed(now, since) >= grace && old_enough;
                seen.insert(claim.clone(), since);
                claims.push(claim);
            }
            if confirmed {
                let reason = match &allocs[0].1 {
                    Ownership::Leaked(r) => r.clone(),
                    _ => String::new(),
                };
                plan.confirmed.push(ConfirmedLeak {
                    handle: (*handle).to_string(),
                    claims,
                    reason,
                });
            } else {
                plan.waiting += 1;
            }
        }
        self.candidates = seen;
        self.observe_empty_handles(&by_handle, handles, grace, now, &mut plan);
        plan
    }

    fn observe_empty_handles(
        &mut self,
        by_handle: &BTreeMap<&str, Vec<(&AllocationInfo, Ownership)>>,
        handles: &[Stored<Handle>],
        grace: Duration,
        now: SystemTime,
        plan: &mut Plan,
    ) {
        let mut empty = HashMap::new();
        for h in handles {
            let id = h.value.handle_id.as_str();
            if by_handle.contains_key(id) {
                continue;
            }
            let since = match self.empty.get(id) {
                Some((rev, t)) if *rev == h.revision => *t,
                _ => now,
            };
            if elapsed(now, since) >= grace {
                plan.empty_handles.push((id.to_string(), h.revision));
            }
            empty.insert(id.to_string(), (h.revision, since));
        }
        self.empty = empty;
    }
}
