//! Safe IPAM garbage collection: find addresses whose owner is gone and release them, without
//! ever releasing an address a live workload or node holds.
//!
//! Calico's collector (kube-controllers) once released addresses of live pods. This one
//! releases an address only when all of these hold:
//! 1. its handle names an owner this code understands (a CNI `<network>.<containerID>` handle,
//!    a node tunnel handle) and that owner is absent from the datastore, and no
//!    WorkloadEndpoint, Node or running Pod lists the address ([`classify`]); an allocation
//!    whose owner cannot be determined is never released;
//! 2. every address of the handle is leaked (all or none per handle);
//! 3. it has been seen leaked in every pass for the whole grace period, and its `timestamp`
//!    attribute, when present, is at least that old ([`GcState`]);
//! 4. right before the release it is re-read and re-checked (same handle, same sequence
//!    number, owner still absent; owners are read after the allocation), and the release
//!    carries the handle and sequence number as preconditions, so a change after the check
//!    makes the release fail rather than free an address in use ([`release_leaked`]).
//!
//! Handle records that hold no address are deleted under the same grace period, at the
//! revision they were seen at.
//!
//! The grace period is KubeControllersConfiguration `default`'s
//! `spec.controllers.node.leakGracePeriod` (15 minutes by default; 0 disables collection; no
//! node controller section disables it, as it disables Calico's node controller).
//!
//! ```text
//! caller (calico-node / kube-controllers timer, every sync_period)
//!   └─ run_once(&ClientIpam, &mut GcState, now)
//!        ├─ collect: snapshot (blocks, handles) → LiveOwners::load → GcState::observe → Plan
//!        └─ execute: release_leaked (re-validate, release with preconditions),
//!                    delete_leaked_handle
//! ```

mod classify;
mod owners;
mod release;
mod state;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime};

use calico_api::Resource;

pub use classify::{
    DEFAULT_CNI_NETWORK, HandleKind, Ownership, TUNNEL_HANDLE_PREFIXES, WINDOWS_RESERVED_HANDLE,
    allocation_time, classify, handle_kind,
};
pub use owners::{IpUser, LiveOwners, PodEndpoint, PodState};
pub use release::{
    ClaimOutcome, Skip, correct_handle_counts, delete_leaked_handle, release_leaked, revalidate,
};
pub use state::{ConfirmedLeak, GcState, LeakClaim, Plan};

use crate::ipam_store::{ClientIpam, IpamClientError};
use crate::{Client, ClientError};

/// Calico's default `leakGracePeriod`.
pub const DEFAULT_LEAK_GRACE_PERIOD: Duration = Duration::from_secs(15 * 60);

/// How often Calico's collector runs a full pass when the grace period is 0.
pub const DISABLED_SYNC_PERIOD: Duration = Duration::from_secs(5 * 60);

/// Errors from a collection pass.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error("IPAM garbage collection: {0}")]
    Ipam(#[from] IpamClientError),
    #[error("IPAM garbage collection: {0}")]
    Client(#[from] ClientError),
}

/// The grace period in effect: `None` when collection is disabled (see the module docs).
pub fn leak_grace_period(client: &Client) -> Result<Option<Duration>, ClientError> {
    let info = calico_api::find_kind("KubeControllersConfiguration", None).ok_or_else(|| {
        ClientError::Config("the API has no kind KubeControllersConfiguration".into())
    })?;
    let kcc = match client.get(info, "", "default") {
        Ok(Resource::KubeControllersConfiguration(k)) => k,
        Ok(_) | Err(ClientError::NotFound { .. }) => return Ok(Some(DEFAULT_LEAK_GRACE_PERIOD)),
        Err(e) => return Err(e),
    };
    let Some(node) = kcc.spec.controllers.node else {
        return Ok(None);
    };
    Ok(match node.leak_grace_period {
        None => Some(DEFAULT_LEAK_GRACE_PERIOD),
        Some(d) => d.as_std().filter(|d| !d.is_zero()),
    })
}

/// How often to run a pass: half the grace period, as Calico does (5 minutes when disabled).
pub fn sync_period(grace: Option<Duration>) -> Duration {
    grace.map_or(DISABLED_SYNC_PERIOD, |g| {
        (g / 2).max(Duration::from_secs(1))
    })
}

/// What [`collect`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    pub plan: Plan,
    pub grace_period: Duration,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Collection is disabled (grace period 0 or no node controller).
    pub disabled: bool,
    pub grace_period: Duration,
    /// Handles seen leaked but still within the grace period.
    pub waiting: usize,
    /// Allocations whose owner cannot be determined (never released).
    pub unknown: usize,
    pub released: Vec<LeakClaim>,
    /// Confirmed leaks left alone by the re-validation or a failed precondition.
    pub skipped: Vec<(LeakClaim, Skip)>,
    pub handles_deleted: Vec<String>,
    pub handles_skipped: Vec<(String, Skip)>,
}

/// The first half of a pass: read the allocations, then the owners, and update `state`.
/// `None` when collection is disabled (the state is then cleared).
pub fn collect(
    ipam: &ClientIpam,
    state: &mut GcState,
    now: SystemTime,
) -> Result<Option<Collected>, GcError> {
    let grace = match state.grace_override() {
        Some(g) => Some(g).filter(|g| !g.is_zero()),
        None => leak_grace_period(ipam.client())?,
    };
    let Some(grace) = grace else {
        state.clear();
        return Ok(None);
    };
    let snap = ipam.engine().snapshot().map_err(IpamClientError::from)?;
    let owners = LiveOwners::load(ipam.client())?;
    let plan = state.observe(&snap.allocations(), &snap.handles, &owners, grace, now);
    Ok(Some(Collected {
        plan,
        grace_period: grace,
    }))
}

/// The second half of a pass: release what `collect` confirmed, re-validating each address.
pub fn execute(
    ipam: &ClientIpam,
    state: &mut GcState,
    collected: Collected,
) -> Result<GcReport, GcError> {
    let Collected { plan, grace_period } = collected;
    let mut report = GcReport {
        grace_period,
        waiting: plan.waiting,
        unknown: plan.unknown,
        ..GcReport::default()
    };
    let claims: Vec<LeakClaim> = plan
        .confirmed
        .iter()
        .flat_map(|c| c.claims.iter().cloned())
        .collect();
    for o in release_leaked(ipam, &claims)? {
        match o.skipped {
            None => report.released.push(o.claim),
            Some(s) => report.skipped.push((o.claim, s)),
        }
    }
    state.forget(&report.released);
    for (id, revision) in &plan.empty_handles {
        match delete_leaked_handle(ipam, id, *revision)? {
            None => report.handles_deleted.push(id.clone()),
            Some(s) => report.handles_skipped.push((id.clone(), s)),
        }
    }
    Ok(report)
}

/// One garbage collection pass at time `now`: [`collect`] then [`execute`]. Call it every
/// [`sync_period`] with the same `state`.
pub fn run_once(
    ipam: &ClientIpam,
    state: &mut GcState,
    now: SystemTime,
) -> Result<GcReport, GcError> {
    match collect(ipam, state, now)? {
        Some(c) => execute(ipam, state, c),
        None => Ok(GcReport {
            disabled: true,
            ..GcReport::default()
        }),
    }
}
