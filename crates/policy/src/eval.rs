//! The reference evaluator: the verdict for a new flow and a step-by-step trace of how each
//! side (egress at the source endpoint, ingress at the destination endpoint) reached it.

use calico_api::Action;
use serde::Serialize;

use crate::ids::{Direction, EndpointId, PolicyKey, RuleId};
use crate::matching::{Mismatch, match_rule};
use crate::model::{Endpoint, Model};
use crate::packet::Packet;
use crate::program::{CompiledRule, DirectionProgram, compile_direction};

/// One step of a direction's evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// A tier with at least one policy selecting the endpoint.
    EnterTier { tier: String },
    /// A policy selecting the endpoint is evaluated (`staged`: for display only).
    EnterPolicy { policy: PolicyKey, staged: bool },
    /// A rule was tried.
    Rule {
        id: RuleId,
        action: Action,
        /// `None` when the rule matched; else the field that failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        mismatch: Option<Mismatch>,
    },
    /// No rule of the policy matched; evaluation goes on with the next policy.
    PolicyNoMatch { policy: PolicyKey },
    /// A staged policy's rule matched; it is not enforced, so evaluation goes on.
    StagedIgnored { policy: PolicyKey, id: RuleId },
    /// No policy of the tier decided: the tier's default action applies.
    EndOfTier {
        tier: String,
        action: Action,
        id: RuleId,
    },
    /// No tier decided; the endpoint's profiles are evaluated.
    EnterProfile { profile: String, exists: bool },
    /// Nothing allowed the packet.
    NoProfileDeny { id: RuleId },
}

/// How one direction at one endpoint went.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DirectionTrace {
    pub endpoint: EndpointId,
    pub direction: Direction,
    pub steps: Vec<Step>,
    pub allowed: bool,
    /// The rule (or synthetic decision) that ended the evaluation.
    pub deciding: RuleId,
}

/// The verdict for a packet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub allowed: bool,
    /// Egress at the source, `None` when the source is not a Calico endpoint.
    pub egress: Option<DirectionTrace>,
    /// Ingress at the destination, `None` when the destination is not a Calico endpoint.
    pub ingress: Option<DirectionTrace>,
    /// What decided: the denying side's decision, else the ingress side's, else egress's.
    pub deciding: RuleId,
}

/// Evaluates a new flow: the source endpoint's egress, then the destination endpoint's
/// ingress; both must allow. A side that is not a Calico endpoint is skipped. Traffic from an
/// endpoint to itself never leaves it and is allowed.
pub fn evaluate(model: &Model, pkt: &Packet) -> Verdict {
    let src = model.endpoint_for_ip(pkt.src_ip);
    let dst = model.endpoint_for_ip(pkt.dst_ip);
    if let (Some(s), Some(d)) = (src, dst)
        && s.id == d.id
    {
        return Verdict {
            allowed: true,
            egress: None,
            ingress: None,
            deciding: RuleId::loopback(),
        };
    }
    let egress = src.map(|e| evaluate_direction(model, e, Direction::Egress, pkt));
    let ingress = dst.map(|e| evaluate_direction(model, e, Direction::Ingress, pkt));
    let allowed =
        egress.as_ref().is_none_or(|t| t.allowed) && ingress.as_ref().is_none_or(|t| t.allowed);
    let deciding = match (&egress, &ingress) {
        (Some(e), _) if !e.allowed => e.deciding.clone(),
        (_, Some(i)) => i.deciding.clone(),
        (Some(e), None) => e.deciding.clone(),
        (None, None) => RuleId::not_calico_endpoint(),
    };
    Verdict {
        allowed,
        egress,
        ingress,
        deciding,
    }
}

/// What a run of rules came to.
enum Outcome {
    Allow(RuleId),
    Deny(RuleId),
    Pass(RuleId),
    NoMatch,
}

fn run_rules(
    model: &Model,
    rules: &[CompiledRule],
    pkt: &Packet,
    steps: &mut Vec<Step>,
) -> Outcome {
    for r in rules {
        let mismatch = match_rule(model, &r.rule, pkt).err();
        let matched = mismatch.is_none();
        steps.push(Step::Rule {
            id: r.id.clone(),
            action: r.rule.action,
            mismatch,
        });
        if !matched {
            continue;
        }
        match r.rule.action {
            Action::Allow => return Outcome::Allow(r.id.clone()),
            Action::Deny => return Outcome::Deny(r.id.clone()),
            Action::Pass => return Outcome::Pass(r.id.clone()),
            Action::Log => {}
        }
    }
    Outcome::NoMatch
}

/// Evaluates one direction at `endpoint`.
pub fn evaluate_direction(
    model: &Model,
    endpoint: &Endpoint,
    dir: Direction,
    pkt: &Packet,
) -> DirectionTrace {
    let program = compile_direction(model, endpoint, dir);
    let mut steps = Vec::new();
    let (allowed, deciding) = run_program(model, &program, pkt, &mut steps);
    DirectionTrace {
        endpoint: endpoint.id.clone(),
        direction: dir,
        steps,
        allowed,
        deciding,
    }
}

fn run_program(
    model: &Model,
    program: &DirectionProgram,
    pkt: &Packet,
    steps: &mut Vec<Step>,
) -> (bool, RuleId) {
    'tiers: for tier in &program.tiers {
        steps.push(Step::EnterTier {
            tier: tier.tier.clone(),
        });
        for p in &tier.policies {
            steps.push(Step::EnterPolicy {
                policy: p.policy.clone(),
                staged: p.staged,
            });
            let outcome = run_rules(model, &p.rules, pkt, steps);
            if p.staged {
                if let Outcome::Allow(id) | Outcome::Deny(id) | Outcome::Pass(id) = outcome {
                    steps.push(Step::StagedIgnored {
                        policy: p.policy.clone(),
                        id,
                    });
                } else {
                    steps.push(Step::PolicyNoMatch {
                        policy: p.policy.clone(),
                    });
                }
                continue;
            }
            match outcome {
                Outcome::Allow(id) => return (true, id),
                Outcome::Deny(id) => return (false, id),
                Outcome::Pass(_) => continue 'tiers,
                Outcome::NoMatch => steps.push(Step::PolicyNoMatch {
                    policy: p.policy.clone(),
                }),
            }
        }
        if let Some(end) = &tier.end_of_tier {
            steps.push(Step::EndOfTier {
                tier: tier.tier.clone(),
                action: end.action,
                id: end.id.clone(),
            });
            if end.action == Action::Deny {
                return (false, end.id.clone());
            }
        }
    }
    for profile in &program.profiles {
        steps.push(Step::EnterProfile {
            profile: profile.profile.clone(),
            exists: profile.exists,
        });
        match run_rules(model, &profile.rules, pkt, steps) {
            Outcome::Allow(id) => return (true, id),
            Outcome::Deny(id) => return (false, id),
            // Pass in a profile ends that profile; the next profile is tried.
            Outcome::Pass(_) | Outcome::NoMatch => {}
        }
    }
    let id = RuleId::no_profile_deny();
    steps.push(Step::NoProfileDeny { id: id.clone() });
    (false, id)
}
