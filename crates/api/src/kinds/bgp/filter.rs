//! `BGPFilter`: ordered import/export rules, per address family, that BGP peers reference by
//! name. Each rule matches on CIDR (with an operator and optional prefix-length range),
//! source, interface, peer type, community, AS-path prefix and priority, and either rejects the
//! route or accepts it after optional operations (add community, prepend AS path, set
//! priority).

use serde::{Deserialize, Serialize};

use super::super::infra_common::{
    AsNumber, check_max_len, check_net, check_one_of, check_range, is_iface_glob,
};
use super::parse_community;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `BGPFilter` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilter {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: BGPFilterSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterSpec {
    #[serde(default, rename = "exportV4", skip_serializing_if = "Vec::is_empty")]
    pub export_v4: Vec<BGPFilterRule>,
    #[serde(default, rename = "importV4", skip_serializing_if = "Vec::is_empty")]
    pub import_v4: Vec<BGPFilterRule>,
    #[serde(default, rename = "exportV6", skip_serializing_if = "Vec::is_empty")]
    pub export_v6: Vec<BGPFilterRule>,
    #[serde(default, rename = "importV6", skip_serializing_if = "Vec::is_empty")]
    pub import_v6: Vec<BGPFilterRule>,
}

/// One filter rule. The same shape serves the IPv4 and IPv6 lists; the list decides which
/// family the CIDR and prefix lengths must belong to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterRule {
    /// Strictly masked CIDR of the rule's family.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<BGPFilterPrefixLength>,
    /// `RemotePeers`: only routes learned from BGP peers.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Outgoing interface (a glob; `*` allowed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interface: String,
    /// `Equal`, `NotEqual`, `In` or `NotIn` (required with `cidr`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub match_operator: String,
    /// `eBGP` or `iBGP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub peer_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communities: Option<BGPFilterCommunityMatch>,
    #[serde(
        default,
        rename = "asPathPrefix",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub as_path_prefix: Vec<AsNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// `Accept` or `Reject` (required).
    #[serde(default)]
    pub action: String,
    /// Route changes applied before accepting (`Accept` rules only; 1-10 entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<BGPFilterOperation>,
}

pub type BGPFilterRuleV4 = BGPFilterRule;
pub type BGPFilterRuleV6 = BGPFilterRule;

/// Prefix-length bounds for the CIDR match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterPrefixLength {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i32>,
}

/// Match on a community carried by the route (exactly one value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterCommunityMatch {
    #[serde(default)]
    pub values: Vec<String>,
}

/// One route modification; exactly one field is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterOperation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_community: Option<BGPFilterAddCommunity>,
    #[serde(
        default,
        rename = "prependASPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub prepend_as_path: Option<BGPFilterPrependASPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_priority: Option<BGPFilterSetPriority>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterAddCommunity {
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterPrependASPath {
    #[serde(default)]
    pub prefix: Vec<AsNumber>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterSetPriority {
    pub value: Option<i64>,
}

crate::impl_kind!(BGPFilter, kind: "BGPFilter", api_version: crate::resource::CALICO_API_VERSION, plural: "bgpfilters", namespaced: false);

impl BGPFilter {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        let s = &self.spec;
        v.field("spec", |v| {
            for (name, rules, v4) in [
                ("exportV4", &s.export_v4, true),
                ("importV4", &s.import_v4, true),
                ("exportV6", &s.export_v6, false),
                ("importV6", &s.import_v6, false),
            ] {
                v.field(name, |v| {
                    for (i, r) in rules.iter().enumerate() {
                        v.index(i, |v| check_rule(r, v4, v));
                    }
                });
            }
        });
    }
}

const MAX_PRIORITY: i64 = 2_147_483_646;

fn check_rule(r: &BGPFilterRule, v4: bool, v: &mut Validator) {
    let family = if v4 { "IPv4" } else { "IPv6" };
    if !r.cidr.is_empty() {
        v.field("cidr", |v| {
            check_max_len(v, &r.cidr, if v4 { 18 } else { 43 });
            check_net(v, &r.cidr, Some(v4));
        });
    }
    if !r.cidr.is_empty() && r.match_operator.is_empty() {
        v.error_at(
            "matchOperator",
            "matchOperator is required when cidr is set (Equal, NotEqual, In or NotIn)",
        );
    }
    if r.cidr.is_empty() && !r.match_operator.is_empty() {
        v.error_at("cidr", "cidr is required when matchOperator is set");
    }
    if !r.match_operator.is_empty() {
        v.field("matchOperator", |v| {
            check_one_of(v, &r.match_operator, &["Equal", "NotEqual", "In", "NotIn"])
        });
    }
    if let Some(pl) = &r.prefix_length {
        v.field("prefixLength", |v| {
            if r.cidr.is_empty() {
                v.error("cidr is required when prefixLength is set");
            }
            let max = if v4 { 32 } else { 128 };
            for (name, val) in [("min", pl.min), ("max", pl.max)] {
                if let Some(n) = val
                    && !(0..=max).contains(&n)
                {
                    v.error_at(
                        name,
                        format!("{n} is not a valid {family} prefix length: expected 0 to {max}"),
                    );
                }
            }
        });
    }
    if !r.source.is_empty() {
        v.field("source", |v| check_one_of(v, &r.source, &["RemotePeers"]));
    }
    if !(r.interface.is_empty() || r.interface == "*" || is_iface_glob(&r.interface)) {
        v.error_at(
            "interface",
            format!(
                "{:?} is not a valid interface pattern: expected 1-15 characters of letters, \
                 digits, '_', '.', '-' and '*'",
                r.interface
            ),
        );
    }
    if !r.peer_type.is_empty() {
        v.field("peerType", |v| {
            check_one_of(v, &r.peer_type, &["eBGP", "iBGP"])
        });
    }
    if let Some(c) = &r.communities {
        v.field("communities", |v| {
            v.field("values", |v| {
                if c.values.len() != 1 {
                    v.error(format!(
                        "exactly one community value is supported, got {}",
                        c.values.len()
                    ));
                }
                for (i, val) in c.values.iter().enumerate() {
                    v.index(i, |v| check_community_value(v, val));
                }
            })
        });
    }
    if let Some(p) = r.priority {
        v.field("priority", |v| check_range(v, p, 1, MAX_PRIORITY));
    }
    if r.action.is_empty() {
        v.error_at("action", "an action is required: Accept or Reject");
    } else {
        v.field("action", |v| {
            check_one_of(v, &r.action, &["Accept", "Reject"])
        });
    }
    if !r.operations.is_empty() {
        v.field("operations", |v| {
            if r.action != "Accept" {
                v.error("operations may only be used with action Accept");
            }
            if r.operations.len() > 10 {
                v.error(format!(
                    "too many operations ({}): at most 10",
                    r.operations.len()
                ));
            }
            for (i, op) in r.operations.iter().enumerate() {
                v.index(i, |v| check_operation(op, v));
            }
        });
    }
}

fn check_community_value(v: &mut Validator, value: &str) {
    if value.len() > 32 {
        v.error(format!(
            "community value {value:?} is too long: at most 32 characters"
        ));
    } else if let Err(e) = parse_community(value) {
        v.error(e);
    } else if value.split(':').any(|p| p.len() > 1 && p.starts_with('0')) {
        v.error(format!(
            "invalid community value {value:?}: numbers must not have leading zeros"
        ));
    }
}

fn check_operation(op: &BGPFilterOperation, v: &mut Validator) {
    let set = [
        op.add_community.is_some(),
        op.prepend_as_path.is_some(),
        op.set_priority.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set != 1 {
        v.error(format!(
            "exactly one of addCommunity, prependASPath or setPriority must be set, got {set}"
        ));
    }
    if let Some(ac) = &op.add_community {
        v.field("addCommunity", |v| {
            v.field("value", |v| match &ac.value {
                None => v.error("a community value (aa:nn or aa:nn:mm) is required"),
                Some(val) => check_community_value(v, val),
            })
        });
    }
    if let Some(pp) = &op.prepend_as_path {
        v.field("prependASPath", |v| {
            v.field("prefix", |v| {
                if pp.prefix.is_empty() || pp.prefix.len() > 10 {
                    v.error(format!(
                        "expected 1 to 10 AS numbers, got {}",
                        pp.prefix.len()
                    ));
                }
            })
        });
    }
    if let Some(sp) = &op.set_priority {
        v.field("setPriority", |v| {
            v.field("value", |v| match sp.value {
                None => v.error("a priority (1-2147483646) is required"),
                Some(p) => {
                    check_range(v, p, 1, MAX_PRIORITY);
                }
            })
        });
    }
}
