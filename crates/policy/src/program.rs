//! Compiling the program for one endpoint: per direction, the tiers whose policies select it
//! (in order), each with its policies (in order) and their rules, the tier's end-of-tier
//! action, then the endpoint's profiles and the final deny (Felix's `cali-tw-` / `cali-fw-`
//! chains, `felix/rules/endpoints.go`; inventory §4.4).

use calico_api::Action;
use serde::Serialize;

use crate::ids::{Direction, EndpointId, PolicyKey, RuleId};
use crate::model::{Endpoint, Model};
use crate::rule::BackendRule;

/// A rule with its stable ID.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompiledRule {
    pub id: RuleId,
    #[serde(flatten)]
    pub rule: BackendRule,
}

/// One policy of a tier, as it applies to the endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyProgram {
    pub policy: PolicyKey,
    /// Staged policies are listed (a trace shows them) but never enforced.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub staged: bool,
    pub rules: Vec<CompiledRule>,
}

/// One tier that applies to the endpoint in a direction.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierProgram {
    pub tier: String,
    /// The policies of the tier that select the endpoint for this direction, in order.
    pub policies: Vec<PolicyProgram>,
    /// The tier's default for traffic no policy decided (`Deny`, or `Pass` to the next tier);
    /// `None` when only staged policies apply, so the tier cannot drop anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_of_tier: Option<EndOfTier>,
}

/// A tier's default action for traffic that none of its policies decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndOfTier {
    /// `Deny`, or `Pass` (continue with the next tier).
    pub action: Action,
    pub id: RuleId,
}

/// A profile of the endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProfileProgram {
    pub profile: String,
    /// False for a referenced profile that does not exist: it then denies everything.
    pub exists: bool,
    pub rules: Vec<CompiledRule>,
}

/// Everything that applies to one direction of one endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DirectionProgram {
    pub tiers: Vec<TierProgram>,
    pub profiles: Vec<ProfileProgram>,
}

/// The compiled program of one endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointProgram {
    pub endpoint: EndpointId,
    pub ingress: DirectionProgram,
    pub egress: DirectionProgram,
}

/// Compiles the program for `endpoint` (which should belong to `model`).
pub fn compile(model: &Model, endpoint: &Endpoint) -> EndpointProgram {
    EndpointProgram {
        endpoint: endpoint.id.clone(),
        ingress: compile_direction(model, endpoint, Direction::Ingress),
        egress: compile_direction(model, endpoint, Direction::Egress),
    }
}

/// Compiles one direction.
pub fn compile_direction(model: &Model, endpoint: &Endpoint, dir: Direction) -> DirectionProgram {
    let mut tiers = Vec::new();
    for tier in model.ordered_tiers() {
        let policies: Vec<PolicyProgram> = model
            .ordered_policies(&tier.name)
            .into_iter()
            .filter(|p| p.applies_to(dir.policy_type()) && p.selector.matches(&endpoint.labels))
            .map(|p| {
                let rules = match dir {
                    Direction::Ingress => &p.ingress,
                    Direction::Egress => &p.egress,
                };
                PolicyProgram {
                    policy: p.key.clone(),
                    staged: p.is_staged(),
                    rules: rules
                        .iter()
                        .enumerate()
                        .map(|(i, r)| CompiledRule {
                            id: RuleId::policy_rule(&tier.name, &p.key, dir, i),
                            rule: r.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        if policies.is_empty() {
            continue;
        }
        let enforced = policies.iter().any(|p| !p.staged);
        let pass = tier.default_action == Action::Pass;
        tiers.push(TierProgram {
            tier: tier.name.clone(),
            policies,
            end_of_tier: enforced.then(|| {
                let action = if pass { Action::Pass } else { Action::Deny };
                EndOfTier {
                    action,
                    id: RuleId::end_of_tier(&tier.name, pass),
                }
            }),
        });
    }
    let profiles = endpoint
        .profiles
        .iter()
        .map(|name| match model.profiles.get(name) {
            Some(p) => {
                let rules = match dir {
                    Direction::Ingress => &p.ingress,
                    Direction::Egress => &p.egress,
                };
                ProfileProgram {
                    profile: name.clone(),
                    exists: true,
                    rules: rules
                        .iter()
                        .enumerate()
                        .map(|(i, r)| CompiledRule {
                            id: RuleId::profile_rule(name, dir, i),
                            rule: r.clone(),
                        })
                        .collect(),
                }
            }
            None => ProfileProgram {
                profile: name.clone(),
                exists: false,
                rules: vec![CompiledRule {
                    id: RuleId::profile_missing(name),
                    rule: BackendRule::match_all(Action::Deny),
                }],
            },
        })
        .collect();
    DirectionProgram { tiers, profiles }
}
