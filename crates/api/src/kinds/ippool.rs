//! `IPPool`: a range of addresses Calico IPAM allocates from, with its encapsulation, NAT and
//! node/namespace selection settings.
//!
//! Defaults follow Calico's client and CRD: block size 26 (IPv4) / 122 (IPv6), node selector
//! `all()`, allowed uses `[Workload, Tunnel]`, IPIP and VXLAN modes `Never`, assignment mode
//! `Automatic`, and the CIDR rewritten in canonical form. Validation follows Calico's IPPool
//! checks (strictly masked CIDR, block size range, link-local overlap, encapsulation rules,
//! LoadBalancer rules); [`check_ippool_update`] adds the update-time immutability rules and
//! [`check_ippool_overlap`] the create-time overlap rule.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::infra_common::{check_max_len, check_one_of, check_selector_no_global, net_is_v4};
use crate::error::FieldError;
use crate::meta::ObjectMeta;
use crate::serde_util::is_false;
use crate::validate::Validator;

/// `IPPool` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPPool {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: IPPoolSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IPPoolStatus>,
}

/// The pool's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPPoolSpec {
    /// The pool CIDR (required, strictly masked, immutable).
    #[serde(default)]
    pub cidr: String,
    /// `Never` (also when empty), `Always` or `CrossSubnet`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vxlan_mode: String,
    /// `Never` (also when empty), `Always` or `CrossSubnet`; IPv4 pools only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipip_mode: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub nat_outgoing: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disabled: bool,
    #[serde(default, rename = "disableBGPExport", skip_serializing_if = "is_false")]
    pub disable_bgp_export: bool,
    /// Prefix length of the allocation blocks; 0 means the default (26 / 122).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub block_size: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_selector: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace_selector: String,
    /// A set of `Workload`, `Tunnel`, `LoadBalancer`; empty means `[Workload, Tunnel]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_uses: Vec<String>,
    /// `Automatic` (default) or `Manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_mode: Option<String>,
}

/// `status` written by the IP pool controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPPoolStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A Kubernetes `metav1.Condition` (e.g. `Allocatable`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    #[serde(default)]
    pub last_transition_time: Option<String>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

pub(crate) fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

/// IPIP / VXLAN encapsulation modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncapMode {
    Never,
    Always,
    CrossSubnet,
}

impl EncapMode {
    pub fn parse(s: &str) -> Option<EncapMode> {
        match s {
            "" | "Never" => Some(EncapMode::Never),
            "Always" => Some(EncapMode::Always),
            "CrossSubnet" => Some(EncapMode::CrossSubnet),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EncapMode::Never => "Never",
            EncapMode::Always => "Always",
            EncapMode::CrossSubnet => "CrossSubnet",
        }
    }

    pub fn is_enabled(self) -> bool {
        self != EncapMode::Never
    }
}

pub const IPPOOL_USE_WORKLOAD: &str = "Workload";
pub const IPPOOL_USE_TUNNEL: &str = "Tunnel";
pub const IPPOOL_USE_LOAD_BALANCER: &str = "LoadBalancer";
pub const IPPOOL_ALLOWED_USES: &[&str] = &[
    IPPOOL_USE_WORKLOAD,
    IPPOOL_USE_TUNNEL,
    IPPOOL_USE_LOAD_BALANCER,
];
const ENCAP_MODES: &[&str] = &["Always", "CrossSubnet", "Never"];
const ASSIGNMENT_MODES: &[&str] = &["Automatic", "Manual"];

/// Default block sizes.
pub const DEFAULT_BLOCK_SIZE_V4: i64 = 26;
pub const DEFAULT_BLOCK_SIZE_V6: i64 = 122;

impl IPPoolSpec {
    /// The parsed CIDR, if it is a valid `address/prefix`.
    pub fn parsed_cidr(&self) -> Option<IpNet> {
        self.cidr.parse::<IpNet>().ok()
    }

    /// True for IPv4 pools (None when the CIDR does not parse).
    pub fn is_ipv4(&self) -> Option<bool> {
        self.parsed_cidr().map(|n| net_is_v4(&n))
    }

    /// The block size in effect (the stored one, or the family default when 0).
    pub fn effective_block_size(&self) -> Option<i64> {
        if self.block_size != 0 {
            return Some(self.block_size);
        }
        self.is_ipv4().map(|v4| {
            if v4 {
                DEFAULT_BLOCK_SIZE_V4
            } else {
                DEFAULT_BLOCK_SIZE_V6
            }
        })
    }

    /// The IPIP mode in effect (`None` for an invalid value).
    pub fn ipip(&self) -> Option<EncapMode> {
        EncapMode::parse(&self.ipip_mode)
    }

    /// The VXLAN mode in effect (`None` for an invalid value).
    pub fn vxlan(&self) -> Option<EncapMode> {
        EncapMode::parse(&self.vxlan_mode)
    }

    /// The allowed uses in effect (`[Workload, Tunnel]` when empty).
    pub fn effective_allowed_uses(&self) -> Vec<&str> {
        if self.allowed_uses.is_empty() {
            vec![IPPOOL_USE_WORKLOAD, IPPOOL_USE_TUNNEL]
        } else {
            self.allowed_uses.iter().map(String::as_str).collect()
        }
    }

    /// Whether the pool may be used for `use` (`Workload`, `Tunnel`, `LoadBalancer`).
    pub fn allows(&self, use_: &str) -> bool {
        self.effective_allowed_uses().contains(&use_)
    }

    /// The node selector in effect (`all()` when empty).
    pub fn effective_node_selector(&self) -> &str {
        if self.node_selector.is_empty() {
            "all()"
        } else {
            &self.node_selector
        }
    }

    /// True unless the assignment mode is `Manual`.
    pub fn is_automatic(&self) -> bool {
        self.assignment_mode.as_deref() != Some("Manual")
    }
}

crate::impl_kind!(IPPool, kind: "IPPool", api_version: crate::resource::CALICO_API_VERSION, plural: "ippools", namespaced: false);

impl IPPool {
    fn defaults(&mut self) {
        let spec = &mut self.spec;
        // Canonical CIDR text (e.g. `2001:db8:0::/64` -> `2001:db8::/64`), only when it is
        // already strictly masked: a CIDR with host bits must still be reported by validation.
        if let Some(net) = spec.parsed_cidr()
            && net.trunc() == net
        {
            spec.cidr = net.to_string();
        }
        if spec.node_selector.is_empty() {
            spec.node_selector = "all()".to_string();
        }
        if spec.block_size == 0
            && let Some(bs) = spec.effective_block_size()
        {
            spec.block_size = bs;
        }
        if spec.allowed_uses.is_empty() {
            spec.allowed_uses = vec![IPPOOL_USE_WORKLOAD.into(), IPPOOL_USE_TUNNEL.into()];
        }
        if spec.ipip_mode.is_empty() {
            spec.ipip_mode = "Never".into();
        }
        if spec.vxlan_mode.is_empty() {
            spec.vxlan_mode = "Never".into();
        }
        if spec.assignment_mode.is_none() {
            spec.assignment_mode = Some("Automatic".into());
        }
    }

    fn check(&self, v: &mut Validator) {
        v.field("spec", |v| check_spec(&self.spec, v));
    }
}

fn check_spec(spec: &IPPoolSpec, v: &mut Validator) {
    let net = v.field("cidr", |v| check_cidr(spec, v));

    let ipip = v.field("ipipMode", |v| {
        check_one_of(v, or_never(&spec.ipip_mode), ENCAP_MODES)
            .then(|| spec.ipip())
            .flatten()
    });
    let vxlan = v.field("vxlanMode", |v| {
        check_one_of(v, or_never(&spec.vxlan_mode), ENCAP_MODES)
            .then(|| spec.vxlan())
            .flatten()
    });
    let ipip_on = ipip.is_some_and(EncapMode::is_enabled);
    let vxlan_on = vxlan.is_some_and(EncapMode::is_enabled);
    if ipip_on && vxlan_on {
        v.error_at(
            "vxlanMode",
            "IPIP and VXLAN cannot both be enabled on the same pool: set ipipMode or vxlanMode \
             to Never",
        );
    }
    if let Some(net) = net
        && !net_is_v4(&net)
        && ipip_on
    {
        v.error_at(
            "ipipMode",
            format!(
                "IPIP is not supported on IPv6 pools: expected Never, got {:?}",
                spec.ipip_mode
            ),
        );
    }

    // Block size: range per family, and the pool must hold at least one block unless disabled.
    if let Some(net) = net {
        let v4 = net_is_v4(&net);
        let block = spec.effective_block_size().unwrap_or(0);
        let (lo, hi) = if v4 { (20, 32) } else { (116, 128) };
        let range_ok = (lo..=hi).contains(&block);
        if !range_ok {
            v.error_at(
                "blockSize",
                format!(
                    "{} block size must be between {lo} and {hi}, got {block}",
                    if v4 { "IPv4" } else { "IPv6" }
                ),
            );
        }
        if range_ok && !spec.disabled && i64::from(net.prefix_len()) > block {
            v.error_at(
                "cidr",
                format!(
                    "the pool /{} is smaller than one /{block} block: use a prefix length of at \
                     most {block}, a larger blockSize, or set disabled",
                    net.prefix_len()
                ),
            );
        }
    } else if spec.block_size < 0 || spec.block_size > 128 {
        v.error_at(
            "blockSize",
            format!(
                "block size {} is out of range: expected 0 to 128",
                spec.block_size
            ),
        );
    }

    if let Some(mode) = &spec.assignment_mode {
        v.field("assignmentMode", |v| {
            check_one_of(v, mode, ASSIGNMENT_MODES)
        });
    }

    // Allowed uses.
    let uses = spec.effective_allowed_uses();
    v.field("allowedUses", |v| {
        if spec.allowed_uses.len() > 10 {
            v.error(format!(
                "too many allowed uses ({}): at most 10",
                spec.allowed_uses.len()
            ));
        }
        for (i, u) in spec.allowed_uses.iter().enumerate() {
            v.index(i, |v| {
                check_one_of(v, u, IPPOOL_ALLOWED_USES);
                if spec.allowed_uses[..i].contains(u) {
                    v.error(format!("duplicate allowed use {u:?}"));
                }
            });
        }
    });
    let lb = uses.contains(&IPPOOL_USE_LOAD_BALANCER);
    if lb {
        if uses
            .iter()
            .any(|u| *u == IPPOOL_USE_WORKLOAD || *u == IPPOOL_USE_TUNNEL)
        {
            v.error_at(
                "allowedUses",
                "LoadBalancer cannot be combined with Workload or Tunnel",
            );
        }
        if ipip_on || vxlan_on {
            v.error_at(
                if ipip_on { "ipipMode" } else { "vxlanMode" },
                "a LoadBalancer pool cannot use IPIP or VXLAN: expected Never",
            );
        }
        if spec.disable_bgp_export {
            v.error_at(
                "disableBGPExport",
                "a LoadBalancer pool must be exported over BGP: disableBGPExport must be false",
            );
        }
        if spec.effective_node_selector() != "all()" {
            v.error_at(
                "nodeSelector",
                format!(
                    "a LoadBalancer pool must select all nodes: expected \"all()\", got {:?}",
                    spec.node_selector
                ),
            );
        }
    }

    if !spec.node_selector.is_empty() {
        v.field("nodeSelector", |v| {
            check_selector_no_global(v, &spec.node_selector, "use all() to select every node")
        });
    }
    if !spec.namespace_selector.is_empty() {
        v.field("namespaceSelector", |v| {
            check_selector_no_global(
                v,
                &spec.namespace_selector,
                "use all() to select every namespace",
            );
            if uses.contains(&IPPOOL_USE_TUNNEL) {
                v.error(
                    "a pool used for Tunnel addresses cannot have a namespaceSelector (tunnel \
                     addresses belong to nodes, not namespaces): remove it or set allowedUses \
                     to [Workload]",
                );
            }
        });
    }
}

fn or_never(mode: &str) -> &str {
    if mode.is_empty() { "Never" } else { mode }
}

/// Parse and check the CIDR: required, `address/prefix`, strictly masked, no link-local overlap.
fn check_cidr(spec: &IPPoolSpec, v: &mut Validator) -> Option<IpNet> {
    let cidr = &spec.cidr;
    if cidr.is_empty() {
        v.error("an IP pool CIDR is required (e.g. 192.168.0.0/16)");
        return None;
    }
    check_max_len(v, cidr, 48);
    let Ok(net) = cidr.parse::<IpNet>() else {
        v.error(format!(
            "{cidr:?} is not a valid CIDR: expected address/prefix-length, e.g. 192.168.0.0/16"
        ));
        return None;
    };
    if net.trunc() != net {
        v.error(format!(
            "IP pool CIDR {cidr:?} is not strictly masked (host bits are set): expected the \
             network address {}",
            net.trunc()
        ));
    }
    let link_local: IpNet = if net_is_v4(&net) {
        IpNet::V4(ipnet::Ipv4Net::new_assert([169, 254, 0, 0].into(), 16))
    } else {
        IpNet::V6(ipnet::Ipv6Net::new_assert(
            [0xfe80, 0, 0, 0, 0, 0, 0, 0].into(),
            10,
        ))
    };
    if overlaps(&net, &link_local) {
        v.error(format!(
            "IP pool CIDR {cidr:?} overlaps the link-local range {link_local}"
        ));
    }
    // Masking problems are reported above; further checks use the masked network.
    Some(net.trunc())
}

/// Whether two networks share any address.
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Checks Calico applies when an existing pool is replaced: the CIDR and block size cannot
/// change (a CIDR rewritten in canonical form is allowed), and a LoadBalancer pool cannot become
/// a Workload/Tunnel pool. Both pools are compared with their defaults applied.
pub fn check_ippool_update(old: &IPPool, new: &IPPool) -> Vec<FieldError> {
    let mut v = Validator::new();
    v.field("spec", |v| {
        if !cidr_change_ok(&old.spec.cidr, &new.spec.cidr) {
            v.error_at(
                "cidr",
                format!(
                    "the CIDR of an IP pool cannot be changed (from {:?} to {:?}): create a new \
                     pool and migrate to it instead",
                    old.spec.cidr, new.spec.cidr
                ),
            );
        }
        let (ob, nb) = (
            old.spec.effective_block_size(),
            new.spec.effective_block_size(),
        );
        if ob != nb {
            v.error_at(
                "blockSize",
                format!(
                    "the block size of an IP pool cannot be changed (from {} to {}): create a \
                     new pool and migrate to it instead",
                    ob.unwrap_or(0),
                    nb.unwrap_or(0)
                ),
            );
        }
        let old_lb = old.spec.allows(IPPOOL_USE_LOAD_BALANCER);
        if old_lb
            && new
                .spec
                .effective_allowed_uses()
                .iter()
                .any(|u| *u != IPPOOL_USE_LOAD_BALANCER)
        {
            v.error_at(
                "allowedUses",
                "the allowed uses of a LoadBalancer pool cannot be changed to Workload or Tunnel",
            );
        }
    });
    v.into_errors()
}

fn cidr_change_ok(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    match (old.parse::<IpNet>(), new.parse::<IpNet>()) {
        (Ok(o), Ok(n)) => {
            o.trunc() == n.trunc()
                && o.prefix_len() == n.prefix_len()
                && n.trunc().to_string() == new
        }
        _ => false,
    }
}

/// The create-time rule that a new pool must not overlap any existing pool (other than one with
/// the same name).
pub fn check_ippool_overlap(new: &IPPool, existing: &[IPPool]) -> Vec<FieldError> {
    let mut v = Validator::new();
    if let Some(net) = new.spec.parsed_cidr() {
        for other in existing {
            if other.metadata.name == new.metadata.name {
                continue;
            }
            if let Some(o) = other.spec.parsed_cidr()
                && overlaps(&net.trunc(), &o.trunc())
            {
                v.field("spec", |v| {
                    v.error_at(
                        "cidr",
                        format!(
                            "IP pool {} CIDR {} overlaps IP pool {} CIDR {}",
                            new.metadata.name, new.spec.cidr, other.metadata.name, other.spec.cidr
                        ),
                    )
                });
            }
        }
    }
    v.into_errors()
}
