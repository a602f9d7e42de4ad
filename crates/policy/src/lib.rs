//! Calico's policy engine, pure and deterministic (layer 1: no I/O).
//!
//! - [`Model`]: a snapshot of the datastore (tiers, every policy kind in one backend form with
//!   namespace / service-account scoping compiled into selectors as Calico's update processors
//!   do, profiles including the synthesised `kns.<ns>` / `ksa.<ns>.<sa>`, network sets, and
//!   endpoints — WEPs, HEPs, and pods when there is no API server — with inherited labels);
//! - [`compile`]: the ordered program of tiers → policies → rules, end-of-tier actions and
//!   profiles for one endpoint, every rule carrying a stable [`RuleId`];
//! - [`evaluate`]: the reference evaluator, returning a [`Verdict`] with the deciding rule and
//!   a step-by-step [`DirectionTrace`] per side: each tier entered, each policy of it that
//!   selects the endpoint (policies that do not select it never appear), each rule tried with
//!   the [`Mismatch`] that stopped it, end-of-tier and profile decisions; [`explain::render`]
//!   turns a verdict into the text `calicoctl explain` prints;
//! - [`k8s::convert`]: Kubernetes NetworkPolicy → Calico NetworkPolicy as Calico converts it;
//! - single-resource builders for incremental users (the calculation graph):
//!   [`tier_from_resource`], [`policy_from_resource`], [`profile_from_resource`],
//!   [`service_account_profile`], [`net_set_from_resource`], [`endpoint_from_resource`], and
//!   [`Model::inherit`] for effective labels;
//! - [`scenarios`]: connectivity scenarios (steps of manifests, pod placement and fixed
//!   addresses, expected matrices) shared with the lab's kernel conformance suite.
//!
//! Semantics follow `shared/reference/calico-inventory.md` §3.7 and §4. Only new flows are
//! evaluated (established/related traffic is out of scope), and only the normal filter
//! policies (not preDNAT, doNotTrack or applyOnForward host-endpoint forwarding).

mod endpoints;
mod error;
mod eval;
pub mod explain;
mod ids;
pub mod k8s;
mod matching;
mod model;
mod packet;
mod program;
mod rule;
pub mod scenarios;
pub mod scope;

pub use error::ModelError;
pub use eval::{DirectionTrace, Step, Verdict, evaluate, evaluate_direction};
pub use ids::{Direction, EndpointId, EndpointKind, PolicyKey, PolicyKind, RuleId};
pub use matching::{Mismatch, match_rule, selector_matches};
pub use model::{
    Endpoint, Member, Model, NamedPort, NetSet, Policy, ProfileInfo, TierInfo,
    endpoint_from_resource, net_set_from_resource, policy_from_resource, profile_from_resource,
    service_account_profile, tier_from_resource,
};
pub use packet::Packet;
pub use program::{
    CompiledRule, DirectionProgram, EndOfTier, EndpointProgram, PolicyProgram, ProfileProgram,
    TierProgram, compile, compile_direction,
};
pub use rule::{BackendEntity, BackendRule};
