//! The pure pieces the graph and the from-scratch computation share: tier and policy order,
//! a local endpoint's tiers, an item's contribution to an IP set, scanned policy and profile
//! rules.

use std::collections::BTreeMap;

use calico_api::{Action, PolicyType};
use calico_policy::{Policy, ProfileInfo, RuleId, TierInfo};
use ipnet::IpNet;

use crate::messages::{EndOfTierAction, IpSetMember, PolicyId, PolicyRules, TierInfo as TierMsg};
use crate::scan::{self, IpSetDef, IpSetDefs};
use crate::source::{self, EpData, NetSetData};

pub(crate) fn well_known_tiers() -> BTreeMap<String, TierInfo> {
    [
        calico_api::DEFAULT_TIER_NAME,
        calico_api::KUBE_ADMIN_TIER_NAME,
        calico_api::KUBE_BASELINE_TIER_NAME,
    ]
    .into_iter()
    .filter_map(|name| {
        let (order, action) = calico_api::well_known_tier(name)?;
        Some((
            name.to_string(),
            TierInfo {
                name: name.into(),
                order: Some(order),
                default_action: action,
                valid: true,
            },
        ))
    })
    .collect()
}

/// Sorts tiers as Felix does: valid tiers by order (none last) then name, then tiers that
/// only policies name.
pub(crate) fn tier_sort_key(tier: Option<&TierInfo>, name: &str) -> (bool, f64, String) {
    match tier {
        Some(t) => (!t.valid, t.order.unwrap_or(f64::INFINITY), name.to_string()),
        None => (true, f64::INFINITY, name.to_string()),
    }
}

fn cmp_tier_keys(a: &(bool, f64, String), b: &(bool, f64, String)) -> std::cmp::Ordering {
    a.0.cmp(&b.0)
        .then_with(|| a.1.total_cmp(&b.1))
        .then_with(|| a.2.cmp(&b.2))
}

fn cmp_policies(a: &Policy, b: &Policy) -> std::cmp::Ordering {
    let oa = a.order.unwrap_or(f64::INFINITY);
    let ob = b.order.unwrap_or(f64::INFINITY);
    oa.total_cmp(&ob)
        .then_with(|| a.key.name.cmp(&b.key.name))
        .then_with(|| a.key.namespace.cmp(&b.key.namespace))
        .then_with(|| a.key.kind.kind_name().cmp(b.key.kind.kind_name()))
}

/// Builds the tiers of a local endpoint from the policies that select it.
pub(crate) fn build_tiers<'a>(
    matched: impl IntoIterator<Item = &'a Policy>,
    tiers: &BTreeMap<String, TierInfo>,
) -> Vec<TierMsg> {
    let mut by_tier: BTreeMap<&str, Vec<&Policy>> = BTreeMap::new();
    for p in matched {
        by_tier.entry(p.tier.as_str()).or_default().push(p);
    }
    let mut names: Vec<&str> = by_tier.keys().copied().collect();
    names.sort_by(|a, b| {
        cmp_tier_keys(
            &tier_sort_key(tiers.get(*a), a),
            &tier_sort_key(tiers.get(*b), b),
        )
    });
    let mut out = Vec::new();
    for name in names {
        let mut ps = by_tier.remove(name).unwrap_or_default();
        ps.sort_by(|a, b| cmp_policies(a, b));
        let ids = |ty: PolicyType| -> Vec<PolicyId> {
            ps.iter()
                .filter(|p| p.applies_to(ty))
                .map(|p| PolicyId {
                    tier: name.to_string(),
                    policy: p.key.clone(),
                })
                .collect()
        };
        let ingress = ids(PolicyType::Ingress);
        let egress = ids(PolicyType::Egress);
        if ingress.is_empty() && egress.is_empty() {
            continue;
        }
        let pass = tiers
            .get(name)
            .is_some_and(|t| t.default_action == Action::Pass);
        out.push(TierMsg {
            name: name.to_string(),
            ingress_policies: ingress,
            egress_policies: egress,
            end_of_tier: if pass {
                EndOfTierAction::Pass
            } else {
                EndOfTierAction::Deny
            },
        });
    }
    out
}

/// The contribution of an endpoint or network set to a set.
pub(crate) fn contributions(
    def: &IpSetDef,
    ep: Option<&EpData>,
    net: Option<&NetSetData>,
) -> Vec<IpSetMember> {
    match (&def.named_port, ep, net) {
        (None, Some(ep), _) => ep
            .ips
            .iter()
            .map(|ip| IpSetMember::Net(IpNet::from(*ip)))
            .collect(),
        (None, None, Some(n)) => n.nets.iter().map(|n| IpSetMember::Net(*n)).collect(),
        (Some(np), Some(ep), _) => ep
            .ports
            .iter()
            .filter(|p| p.name == np.name && p.protocol.number() == np.protocol)
            .flat_map(|p| {
                ep.ips.iter().map(move |ip| IpSetMember::IpPort {
                    ip: *ip,
                    protocol: np.protocol,
                    port: p.port,
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The rules of a profile as the dataplane gets them: a Profile resource's, a namespace's
/// allow-all, a synthesised `ksa.` profile's (none), or the deny-all stand-in for a missing one.
pub(crate) fn profile_rules(
    name: &str,
    profile: Option<&ProfileInfo>,
    defs: &mut IpSetDefs,
) -> PolicyRules {
    match profile {
        Some(p) => scan::scan_rules(
            &p.ingress,
            &p.egress,
            |d, i| RuleId::profile_rule(name, d, i),
            defs,
        ),
        None if source::service_account_labels(name).is_some() => PolicyRules::default(),
        None => scan::missing_profile_rules(name),
    }
}

/// The scanned rules of a policy.
pub(crate) fn policy_rules(p: &Policy, defs: &mut IpSetDefs) -> (PolicyId, PolicyRules) {
    let rules = scan::scan_rules(
        &p.ingress,
        &p.egress,
        |d, i| RuleId::policy_rule(&p.tier, &p.key, d, i),
        defs,
    );
    (
        PolicyId {
            tier: p.tier.clone(),
            policy: p.key.clone(),
        },
        rules,
    )
}
