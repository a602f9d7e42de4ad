//! The `get` table columns of each kind: the default (`ps`) and `wide` headings and how each
//! heading's value is drawn from a resource, following Calico's `resourcemgr` templates (for
//! example IPPool SELECTOR is `spec.nodeSelector`, IPIPMODE/VXLANMODE print `Never` when empty,
//! WorkloadEndpoint NETWORKS joins `spec.ipNetworks` with `,`, an unset order prints `<nil>`).
//!
//! Values are read from the resource's JSON form, so a field the typed spec does not carry yet
//! prints as Go would print the zero value of its type.

use std::cell::OnceCell;

use calico_api::KindInfo;
use serde_json::Value;

use super::gofmt;

/// What a column needs beyond the resource itself: the cluster's default AS number (Node ASN),
/// fetched at most once.
pub struct Ctx<'a> {
    default_asn: Box<dyn Fn() -> String + 'a>,
    cached: OnceCell<String>,
}

impl<'a> Ctx<'a> {
    /// `default_asn` is called the first time a Node without its own AS number is printed.
    pub fn new(default_asn: impl Fn() -> String + 'a) -> Self {
        Self {
            default_asn: Box::new(default_asn),
            cached: OnceCell::new(),
        }
    }

    fn default_asn(&self) -> &str {
        self.cached.get_or_init(|| (self.default_asn)())
    }
}

type Render = fn(&Value, &Ctx<'_>) -> String;

/// One heading and how to draw its value.
pub struct Column {
    pub heading: &'static str,
    render: Render,
}

impl Column {
    pub fn render(&self, v: &Value, ctx: &Ctx<'_>) -> String {
        (self.render)(v, ctx)
    }
}

/// The table layout of one kind.
pub struct KindTable {
    pub ps: &'static [&'static str],
    pub wide: &'static [&'static str],
    /// Every heading `custom-columns` accepts, in the order listed in error messages.
    pub columns: &'static [Column],
}

impl KindTable {
    pub fn column(&self, heading: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.heading == heading)
    }

    pub fn has_namespace(&self) -> bool {
        self.column("NAMESPACE").is_some()
    }

    pub fn headings_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.heading).collect();
        names.join(", ")
    }
}

fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))
        .filter(|v| !v.is_null())
}

/// A Go `string` field.
fn s(v: &Value, path: &str) -> String {
    at(v, path).map(gofmt::value).unwrap_or_default()
}

/// A Go `bool` field.
fn b(v: &Value, path: &str) -> String {
    at(v, path).map_or_else(|| "false".into(), gofmt::value)
}

/// A Go integer field.
fn int(v: &Value, path: &str) -> String {
    at(v, path).map_or_else(|| "0".into(), gofmt::value)
}

/// A Go pointer field.
fn ptr(v: &Value, path: &str) -> String {
    at(v, path).map_or_else(|| "<nil>".into(), gofmt::value)
}

/// A Go `*float64` field.
fn float_ptr(v: &Value, path: &str) -> String {
    at(v, path).map_or_else(|| "<nil>".into(), gofmt::float_value)
}

/// Length of a Go slice field.
fn len(v: &Value, path: &str) -> String {
    at(v, path)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
        .to_string()
}

/// calicoctl's `join`: slice items, or a map's sorted `k=v` pairs.
fn items(v: &Value, path: &str) -> Vec<String> {
    match at(v, path) {
        Some(Value::Array(a)) => a.iter().map(gofmt::value).collect(),
        Some(Value::Object(m)) => {
            let mut kv: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", gofmt::value(v)))
                .collect();
            kv.sort();
            kv
        }
        Some(other) => vec![gofmt::value(other)],
        None => Vec::new(),
    }
}

fn join(v: &Value, path: &str) -> String {
    items(v, path).join(",")
}

/// calicoctl's `joinAndTruncate items "," 80`.
fn join_truncate(v: &Value, path: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, item) in items(v, path).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
        if out.len() > max {
            let mut cut = max.saturating_sub(3);
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
            break;
        }
    }
    out
}

fn or_never(v: &Value, path: &str) -> String {
    let x = s(v, path);
    if x.is_empty() { "Never".into() } else { x }
}

/// WorkloadEndpoint NATS: Go prints each `IPNAT` struct as `{internal external}`.
fn nats(v: &Value) -> String {
    let Some(Value::Array(a)) = at(v, "spec.ipNATs") else {
        return String::new();
    };
    let parts: Vec<String> = a
        .iter()
        .map(|n| format!("{{{} {}}}", s(n, "internalIP"), s(n, "externalIP")))
        .collect();
    parts.join(",")
}

/// BGPPeer NODE: the node, else the node selector, else `(global)`.
fn peer_node(v: &Value) -> String {
    let node = s(v, "spec.node");
    if !node.is_empty() {
        return node;
    }
    let sel = s(v, "spec.nodeSelector");
    if sel.is_empty() {
        "(global)".into()
    } else {
        sel
    }
}

/// Node ASN: the node's own, else the cluster default in parentheses; empty without BGP.
fn node_asn(v: &Value, ctx: &Ctx<'_>) -> String {
    if at(v, "spec.bgp").is_none() {
        return String::new();
    }
    match at(v, "spec.bgp.asNumber") {
        Some(asn) => gofmt::value(asn),
        None => format!("({})", ctx.default_asn()),
    }
}

/// `{{if .X}}{{.X}}{{else}}-{{end}}` for a pointer field.
fn ptr_or_dash(v: &Value, path: &str) -> String {
    at(v, path).map_or_else(|| "-".into(), gofmt::value)
}

/// A Kubernetes label selector in kubectl's short form (`app=web,tier in (a,b)`).
fn label_selector(v: &Value, path: &str) -> String {
    let Some(sel) = at(v, path) else {
        return "<none>".into();
    };
    let mut parts = items(sel, "matchLabels");
    if let Some(Value::Array(exprs)) = at(sel, "matchExpressions") {
        for e in exprs {
            let (key, op) = (s(e, "key"), s(e, "operator"));
            let values = items(e, "values").join(",");
            parts.push(match op.as_str() {
                "In" => format!("{key} in ({values})"),
                "NotIn" => format!("{key} notin ({values})"),
                "Exists" => key,
                "DoesNotExist" => format!("!{key}"),
                other => format!("{key} {other} ({values})"),
            });
        }
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

macro_rules! col {
    ($h:literal, |$v:ident| $e:expr) => {
        Column {
            heading: $h,
            render: |$v, _| $e,
        }
    };
    ($h:literal, |$v:ident, $c:ident| $e:expr) => {
        Column {
            heading: $h,
            render: |$v, $c| $e,
        }
    };
}

const NAME: Column = col!("NAME", |v| s(v, "metadata.name"));
const NAMESPACE: Column = col!("NAMESPACE", |v| s(v, "metadata.namespace"));
const ORDER: Column = col!("ORDER", |v| float_ptr(v, "spec.order"));
const SELECTOR: Column = col!("SELECTOR", |v| s(v, "spec.selector"));
const TIER: Column = col!("TIER", |v| s(v, "spec.tier"));
const NETS: Column = col!("NETS", |v| join_truncate(v, "spec.nets", 80));

const NAME_ONLY: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME"],
    columns: &[NAME],
};

const POLICY_PS: &[&str] = &["NAME", "TIER"];
const POLICY_WIDE: &[&str] = &["NAME", "TIER", "ORDER", "SELECTOR"];

static IPPOOL: KindTable = KindTable {
    ps: &["NAME", "CIDR", "SELECTOR"],
    wide: &[
        "NAME",
        "CIDR",
        "NAT",
        "IPIPMODE",
        "VXLANMODE",
        "DISABLED",
        "DISABLEBGPEXPORT",
        "SELECTOR",
        "ASSIGNMENTMODE",
    ],
    columns: &[
        NAME,
        col!("CIDR", |v| s(v, "spec.cidr")),
        col!("NAT", |v| b(v, "spec.natOutgoing")),
        col!("IPIPMODE", |v| or_never(v, "spec.ipipMode")),
        col!("VXLANMODE", |v| or_never(v, "spec.vxlanMode")),
        col!("DISABLED", |v| b(v, "spec.disabled")),
        col!("DISABLEBGPEXPORT", |v| b(v, "spec.disableBGPExport")),
        col!("SELECTOR", |v| s(v, "spec.nodeSelector")),
        col!("ASSIGNMENTMODE", |v| ptr(v, "spec.assignmentMode")),
    ],
};

static IPRESERVATION: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "CIDRS"],
    columns: &[NAME, col!("CIDRS", |v| join(v, "spec.reservedCIDRs"))],
};

static IPAMCONFIG: KindTable = KindTable {
    ps: &["NAME", "STRICTAFFINITY", "AUTOALLOCATEBLOCKS"],
    wide: &[
        "NAME",
        "STRICTAFFINITY",
        "AUTOALLOCATEBLOCKS",
        "MAXBLOCKSPERHOST",
    ],
    columns: &[
        NAME,
        col!("STRICTAFFINITY", |v| b(v, "spec.strictAffinity")),
        col!("AUTOALLOCATEBLOCKS", |v| b(v, "spec.autoAllocateBlocks")),
        col!("MAXBLOCKSPERHOST", |v| int(v, "spec.maxBlocksPerHost")),
    ],
};

static NAMESPACED_POLICY: KindTable = KindTable {
    ps: POLICY_PS,
    wide: POLICY_WIDE,
    columns: &[NAME, NAMESPACE, ORDER, SELECTOR, TIER],
};

static GLOBAL_POLICY: KindTable = KindTable {
    ps: POLICY_PS,
    wide: POLICY_WIDE,
    columns: &[NAME, ORDER, SELECTOR, TIER],
};

static TIER_TABLE: KindTable = KindTable {
    ps: &["NAME", "ORDER"],
    wide: &["NAME", "ORDER"],
    columns: &[NAME, ORDER],
};

static NETWORKSET: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "NETS"],
    columns: &[NAME, NAMESPACE, NETS],
};

static GLOBALNETWORKSET: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "NETS"],
    columns: &[NAME, NETS],
};

static HOSTENDPOINT: KindTable = KindTable {
    ps: &["NAME", "NODE"],
    wide: &["NAME", "NODE", "INTERFACE", "IPS", "PROFILES"],
    columns: &[
        NAME,
        col!("NODE", |v| s(v, "spec.node")),
        col!("INTERFACE", |v| s(v, "spec.interfaceName")),
        col!("IPS", |v| join(v, "spec.expectedIPs")),
        col!("PROFILES", |v| join(v, "spec.profiles")),
    ],
};

static WORKLOADENDPOINT: KindTable = KindTable {
    ps: &["WORKLOAD", "NODE", "NETWORKS", "INTERFACE"],
    wide: &[
        "NAME",
        "WORKLOAD",
        "NODE",
        "NETWORKS",
        "INTERFACE",
        "PROFILES",
        "NATS",
    ],
    columns: &[
        NAME,
        NAMESPACE,
        col!("NODE", |v| s(v, "spec.node")),
        col!("ORCHESTRATOR", |v| s(v, "spec.orchestrator")),
        col!("WORKLOAD", |v| {
            let w = s(v, "spec.workload");
            if w.is_empty() { s(v, "spec.pod") } else { w }
        }),
        col!("NETWORKS", |v| join(v, "spec.ipNetworks")),
        col!("NATS", |v| nats(v)),
        col!("PROFILES", |v| join(v, "spec.profiles")),
        col!("INTERFACE", |v| s(v, "spec.interfaceName")),
    ],
};

static PROFILE: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "LABELS"],
    columns: &[NAME, col!("LABELS", |v| join(v, "spec.labelsToApply"))],
};

static BGPCONFIG: KindTable = KindTable {
    ps: &["NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"],
    wide: &["NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"],
    columns: &[
        NAME,
        col!("LOGSEVERITY", |v| s(v, "spec.logSeverityScreen")),
        col!("MESHENABLED", |v| ptr_or_dash(
            v,
            "spec.nodeToNodeMeshEnabled"
        )),
        col!("ASNUMBER", |v| ptr_or_dash(v, "spec.asNumber")),
    ],
};

static BGPPEER: KindTable = KindTable {
    ps: &["NAME", "PEERIP", "NODE", "ASN"],
    wide: &["NAME", "PEERIP", "NODE", "ASN"],
    columns: &[
        NAME,
        col!("PEERIP", |v| s(v, "spec.peerIP")),
        col!("NODE", |v| peer_node(v)),
        col!("ASN", |v| int(v, "spec.asNumber")),
    ],
};

static BGPFILTER: KindTable = KindTable {
    ps: &[
        "NAME",
        "NUMEXPORTV4",
        "NUMIMPORTV4",
        "NUMEXPORTV6",
        "NUMIMPORTV6",
    ],
    wide: &[
        "NAME",
        "NUMEXPORTV4",
        "NUMIMPORTV4",
        "NUMEXPORTV6",
        "NUMIMPORTV6",
    ],
    columns: &[
        NAME,
        col!("NUMEXPORTV4", |v| len(v, "spec.exportV4")),
        col!("NUMIMPORTV4", |v| len(v, "spec.importV4")),
        col!("NUMEXPORTV6", |v| len(v, "spec.exportV6")),
        col!("NUMIMPORTV6", |v| len(v, "spec.importV6")),
    ],
};

static NODE: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "ASN", "IPV4", "IPV6"],
    columns: &[
        NAME,
        col!("ASN", |v, ctx| node_asn(v, ctx)),
        col!("IPV4", |v| s(v, "spec.bgp.ipv4Address")),
        col!("IPV6", |v| s(v, "spec.bgp.ipv6Address")),
    ],
};

static CLUSTERINFO: KindTable = KindTable {
    ps: &[
        "NAME",
        "CLUSTERGUID",
        "CLUSTERTYPE",
        "CALICOVERSION",
        "DATASTOREREADY",
    ],
    wide: &[
        "NAME",
        "CLUSTERGUID",
        "CLUSTERTYPE",
        "CALICOVERSION",
        "DATASTOREREADY",
    ],
    columns: &[
        NAME,
        col!("CLUSTERGUID", |v| s(v, "spec.clusterGUID")),
        col!("CLUSTERTYPE", |v| s(v, "spec.clusterType")),
        col!("CALICOVERSION", |v| s(v, "spec.calicoVersion")),
        col!("DATASTOREREADY", |v| ptr(v, "spec.datastoreReady")),
    ],
};

static K8S_NETWORKPOLICY: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "PODSELECTOR"],
    columns: &[
        NAME,
        NAMESPACE,
        col!("PODSELECTOR", |v| label_selector(v, "spec.podSelector")),
    ],
};

static POD: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME", "NODE"],
    columns: &[NAME, NAMESPACE, col!("NODE", |v| s(v, "spec.nodeName"))],
};

static NAMESPACED_NAME_ONLY: KindTable = KindTable {
    ps: &["NAME"],
    wide: &["NAME"],
    columns: &[NAME, NAMESPACE],
};

static GLOBAL_NAME_ONLY: KindTable = NAME_ONLY;

/// The table layout for a kind (`NAME` only for kinds without one of their own).
pub fn table_for(info: &KindInfo) -> &'static KindTable {
    if !info.is_calico() {
        return match info.kind {
            "NetworkPolicy" => &K8S_NETWORKPOLICY,
            "Pod" => &POD,
            _ if info.namespaced => &NAMESPACED_NAME_ONLY,
            _ => &GLOBAL_NAME_ONLY,
        };
    }
    match info.kind {
        "IPPool" => &IPPOOL,
        "IPReservation" => &IPRESERVATION,
        "IPAMConfiguration" => &IPAMCONFIG,
        "NetworkPolicy" | "StagedNetworkPolicy" => &NAMESPACED_POLICY,
        "GlobalNetworkPolicy" | "StagedGlobalNetworkPolicy" => &GLOBAL_POLICY,
        "Tier" => &TIER_TABLE,
        "NetworkSet" => &NETWORKSET,
        "GlobalNetworkSet" => &GLOBALNETWORKSET,
        "HostEndpoint" => &HOSTENDPOINT,
        "WorkloadEndpoint" => &WORKLOADENDPOINT,
        "Profile" => &PROFILE,
        "BGPConfiguration" => &BGPCONFIG,
        "BGPPeer" => &BGPPEER,
        "BGPFilter" => &BGPFILTER,
        "Node" => &NODE,
        "ClusterInformation" => &CLUSTERINFO,
        _ if info.namespaced => &NAMESPACED_NAME_ONLY,
        _ => &GLOBAL_NAME_ONLY,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use calico_api::find_kind;
    use serde_json::json;

    use super::*;

    fn render(kind: &str, heading: &str, v: Value) -> String {
        let t = table_for(find_kind(kind, None).unwrap());
        let ctx = Ctx::new(|| "64512".to_string());
        t.column(heading).unwrap().render(&v, &ctx)
    }

    #[test]
    fn ippool_templates() {
        let v = json!({"metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/16",
            "ipipMode": "Always", "nodeSelector": "all()"}});
        assert_eq!(render("IPPool", "SELECTOR", v.clone()), "all()");
        assert_eq!(render("IPPool", "IPIPMODE", v.clone()), "Always");
        assert_eq!(render("IPPool", "VXLANMODE", v.clone()), "Never");
        assert_eq!(render("IPPool", "NAT", v), "false");
    }

    #[test]
    fn policy_order_and_tier() {
        let v = json!({"spec": {"order": 1000000, "tier": "default"}});
        assert_eq!(render("Tier", "ORDER", v.clone()), "1e+06");
        assert_eq!(render("Tier", "ORDER", json!({"spec": {}})), "<nil>");
        assert_eq!(render("NetworkPolicy", "TIER", v), "default");
    }

    #[test]
    fn joins() {
        let v = json!({"spec": {"ipNetworks": ["10.0.0.1/32", "fd00::1/128"],
            "ipNATs": [{"internalIP": "10.0.0.1", "externalIP": "1.2.3.4"}]}});
        assert_eq!(
            render("WorkloadEndpoint", "NETWORKS", v.clone()),
            "10.0.0.1/32,fd00::1/128"
        );
        assert_eq!(render("WorkloadEndpoint", "NATS", v), "{10.0.0.1 1.2.3.4}");
        let nets: Vec<String> = (0..20).map(|i| format!("10.0.{i}.0/24")).collect();
        let out = render("GlobalNetworkSet", "NETS", json!({"spec": {"nets": nets}}));
        assert_eq!(out.len(), 80);
        assert!(out.ends_with("..."));
        let labels = json!({"spec": {"labelsToApply": {"b": "2", "a": "1"}}});
        assert_eq!(render("Profile", "LABELS", labels), "a=1,b=2");
    }

    #[test]
    fn bgp_templates() {
        assert_eq!(render("BGPPeer", "NODE", json!({"spec": {}})), "(global)");
        assert_eq!(
            render(
                "BGPPeer",
                "NODE",
                json!({"spec": {"nodeSelector": "rr == 'true'"}})
            ),
            "rr == 'true'"
        );
        assert_eq!(
            render("BGPConfiguration", "ASNUMBER", json!({"spec": {}})),
            "-"
        );
        assert_eq!(
            render(
                "BGPConfiguration",
                "MESHENABLED",
                json!({"spec": {"nodeToNodeMeshEnabled": false}})
            ),
            "false"
        );
        assert_eq!(
            render("Node", "ASN", json!({"spec": {"bgp": {}}})),
            "(64512)"
        );
        assert_eq!(render("Node", "ASN", json!({"spec": {}})), "");
    }

    #[test]
    fn every_default_heading_has_a_column() {
        for k in calico_api::KINDS {
            let t = table_for(k);
            for h in t.ps.iter().chain(t.wide) {
                assert!(t.column(h).is_some(), "{} {h}", k.kind);
            }
        }
    }
}
