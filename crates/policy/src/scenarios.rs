//! Connectivity scenarios in the style of the Kubernetes network-policy e2e tests, shared by
//! the reference evaluator's tests (here) and the kernel conformance suite (the lab).
//!
//! # The cluster
//!
//! Namespaces `x`, `y`, `z` (labels `ns: <name>` and `kubernetes.io/metadata.name: <name>`),
//! pods `a`, `b`, `c` in each ([`PODS`]: label `pod: <name>`, a service account, a node and a
//! fixed address), every pod serving TCP and UDP on ports 80 and 81 with container ports named
//! `serve-<port>-<tcp|udp>` ([`SERVED_PORTS`]). Pods alternate between node 0 and node 1 in a
//! checkerboard (x/a node 0, x/b node 1, x/c node 0, y/a node 1, ...), so every namespace and
//! every pod name spans both nodes and half of the pairs cross the overlay.
//!
//! Addresses are fixed (requested with the `cni.projectcalico.org/ipAddrs` annotation) inside
//! the lab's default pool [`POOL_CIDR`]: node 0's pods in [`NODE_BLOCKS`]`[0]`
//! (`10.244.200.0/26`), node 1's in `10.244.201.0/26`, so each node's pods share one IPAM block
//! affine to that node. The last octet is `8 × ns + pod` (ns x=1, y=2, z=3; pod a=1, b=2,
//! c=3): namespace y's pods are exactly `10.244.200.16/29` ∪ `10.244.201.16/29`.
//!
//! | pod | node | address        | service account |
//! |-----|------|----------------|-----------------|
//! | x/a | 0    | 10.244.200.9   | frontend        |
//! | x/b | 1    | 10.244.201.10  | frontend        |
//! | x/c | 0    | 10.244.200.11  | backend         |
//! | y/a | 1    | 10.244.201.17  | frontend        |
//! | y/b | 0    | 10.244.200.18  | frontend        |
//! | y/c | 1    | 10.244.201.19  | backend         |
//! | z/a | 0    | 10.244.200.25  | frontend        |
//! | z/b | 1    | 10.244.201.26  | frontend        |
//! | z/c | 0    | 10.244.200.27  | backend         |
//!
//! # Scenarios
//!
//! A [`Scenario`] is a sequence of [`Step`]s on top of the base cluster. Each step changes the
//! cluster — objects deleted ([`Step::delete`], as `calicoctl delete -f`), then manifests
//! applied ([`Step::apply`], as `calicoctl apply -f`), then pod labels replaced
//! ([`Step::relabel`], as `calico-lab pod label`) — and lists [`Probe`]s: a protocol, a port and
//! the expected matrix, written out by hand. Steps accumulate; after the last step
//! [`Scenario::teardown`] says how to return to the base cluster.
//!
//! A matrix has a header line naming the servers (`xa xb ...`, in [`PODS`] order), then one
//! line per client: its name and one cell per server, `.` where the connection succeeds and
//! `X` where it is denied. A pod reaching itself always succeeds (the packet never leaves the
//! pod). [`Probe::matrix`] turns it into `Vec<Vec<bool>>` (rows clients, columns servers) as
//! `calico-lab probe --output json` prints it.
//!
//! [`Cluster`] simulates the steps on an in-memory datastore and builds the [`Model`] the
//! reference evaluator runs on ([`evaluate_matrix`]).

mod catalog;
mod cluster;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

pub use catalog::SCENARIOS;
pub use cluster::{Cluster, Teardown, evaluate_matrix};

use crate::Model;

/// The lab's default IP pool; every scenario address is inside it.
pub const POOL_CIDR: &str = "10.244.0.0/16";
/// How many nodes the scenarios spread pods over.
pub const NODE_COUNT: usize = 2;
/// The IPAM block (default size /26) holding the pods of each node.
pub const NODE_BLOCKS: [&str; NODE_COUNT] = ["10.244.200.0/26", "10.244.201.0/26"];
/// The namespaces of the base cluster.
pub const NAMESPACES: [&str; 3] = ["x", "y", "z"];
/// The pod names in each namespace.
pub const POD_NAMES: [&str; 3] = ["a", "b", "c"];
/// The annotation asking Calico's CNI plugin / IPAM for a fixed address.
pub const ANNOTATION_IP_ADDRS: &str = "cni.projectcalico.org/ipAddrs";

/// A port every pod serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedPort {
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    pub port: u16,
}

impl ServedPort {
    /// The container port's name, `serve-80-tcp`.
    pub fn name(&self) -> String {
        format!("serve-{}-{}", self.port, self.protocol)
    }

    /// The `calico-lab pod add --serve` form, `tcp/80`.
    pub fn spec(&self) -> String {
        format!("{}/{}", self.protocol, self.port)
    }
}

/// The ports every pod serves, in `--serve` order.
pub const SERVED_PORTS: [ServedPort; 4] = [
    ServedPort {
        protocol: "tcp",
        port: 80,
    },
    ServedPort {
        protocol: "tcp",
        port: 81,
    },
    ServedPort {
        protocol: "udp",
        port: 80,
    },
    ServedPort {
        protocol: "udp",
        port: 81,
    },
];

/// A pod of the base cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodInfo {
    pub namespace: &'static str,
    pub name: &'static str,
    /// Index of the node (0 or 1) the pod runs on.
    pub node: usize,
    pub ip: Ipv4Addr,
    /// The pod's labels in the base cluster.
    pub labels: &'static [(&'static str, &'static str)],
    pub service_account: &'static str,
}

impl PodInfo {
    /// `x/a`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// `xa`, the matrix form.
    pub fn short(&self) -> String {
        format!("{}{}", self.namespace, self.name)
    }

    pub fn ip_addr(&self) -> IpAddr {
        IpAddr::V4(self.ip)
    }

    /// The base labels as a map.
    pub fn label_map(&self) -> BTreeMap<String, String> {
        labels_map(self.labels)
    }

    /// `k=v,k=v` as `calico-lab pod add --labels` takes them.
    pub fn labels_arg(&self) -> String {
        labels_arg(self.labels)
    }
}

/// `k=v,k=v` for `calico-lab pod add|label --labels`.
pub fn labels_arg(labels: &[(&str, &str)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn labels_map(labels: &[(&str, &str)]) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const fn pod(
    namespace: &'static str,
    name: &'static str,
    node: usize,
    last_octet: u8,
    labels: &'static [(&'static str, &'static str)],
    service_account: &'static str,
) -> PodInfo {
    PodInfo {
        namespace,
        name,
        node,
        ip: Ipv4Addr::new(10, 244, 200 + node as u8, last_octet),
        labels,
        service_account,
    }
}

/// The nine pods, in matrix order (x/a, x/b, x/c, y/a, ..., z/c).
pub const PODS: [PodInfo; 9] = [
    pod("x", "a", 0, 9, &[("pod", "a")], "frontend"),
    pod("x", "b", 1, 10, &[("pod", "b")], "frontend"),
    pod("x", "c", 0, 11, &[("pod", "c")], "backend"),
    pod("y", "a", 1, 17, &[("pod", "a")], "frontend"),
    pod("y", "b", 0, 18, &[("pod", "b")], "frontend"),
    pod("y", "c", 1, 19, &[("pod", "c")], "backend"),
    pod("z", "a", 0, 25, &[("pod", "a")], "frontend"),
    pod("z", "b", 1, 26, &[("pod", "b")], "frontend"),
    pod("z", "c", 0, 27, &[("pod", "c")], "backend"),
];

/// `x/a`-style names of [`PODS`], in matrix order.
pub fn pod_names() -> Vec<String> {
    PODS.iter().map(PodInfo::id).collect()
}

/// The pod named `x/a` (or `xa`).
pub fn find_pod(name: &str) -> Option<&'static PodInfo> {
    PODS.iter().find(|p| p.id() == name || p.short() == name)
}

/// `x/a`-style name of a pod.
pub fn pod_name(ns: &str, pod: &str) -> String {
    format!("{ns}/{pod}")
}

/// The address of a pod of the base cluster.
pub fn pod_ip(ns: &str, pod: &str) -> Option<IpAddr> {
    PODS.iter()
        .find(|p| p.namespace == ns && p.name == pod)
        .map(PodInfo::ip_addr)
}

/// The labels of a namespace in the base cluster.
pub fn namespace_labels(ns: &str) -> Vec<(String, String)> {
    vec![
        ("kubernetes.io/metadata.name".into(), ns.into()),
        ("ns".into(), ns.into()),
    ]
}

/// The Namespace manifests of the base cluster (apply before adding pods).
pub fn namespaces_yaml() -> String {
    NAMESPACES
        .iter()
        .map(|ns| {
            let labels: String = namespace_labels(ns)
                .iter()
                .map(|(k, v)| format!("    {k}: \"{v}\"\n"))
                .collect();
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"{ns}\"\n  labels:\n{labels}---\n")
        })
        .collect()
}

/// A Pod manifest for `pod` with `labels`: its node (`node-<index>`), service account, the
/// fixed-address annotation, the served container ports, and a running status with its
/// address (what the evaluator needs when there is no WorkloadEndpoint).
pub fn pod_yaml(pod: &PodInfo, labels: &BTreeMap<String, String>) -> String {
    let mut out = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{}\"\n  namespace: \"{}\"\n",
        pod.name, pod.namespace
    );
    if !labels.is_empty() {
        out.push_str("  labels:\n");
        for (k, v) in labels {
            out.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    out.push_str(&format!(
        "  annotations:\n    {ANNOTATION_IP_ADDRS}: '[\"{ip}\"]'\nspec:\n  nodeName: node-{node}\n  \
         serviceAccountName: {sa}\n  containers:\n  - name: serve\n    image: agnhost\n    ports:\n",
        ip = pod.ip,
        node = pod.node,
        sa = pod.service_account,
    ));
    for p in SERVED_PORTS {
        out.push_str(&format!(
            "    - name: {}\n      containerPort: {}\n      protocol: {}\n",
            p.name(),
            p.port,
            p.protocol.to_ascii_uppercase()
        ));
    }
    out.push_str(&format!(
        "status:\n  phase: Running\n  podIP: {ip}\n  podIPs:\n  - ip: {ip}\n---\n",
        ip = pod.ip
    ));
    out
}

/// The base cluster as YAML: namespaces and pods with their base labels.
pub fn base_cluster() -> String {
    let mut out = namespaces_yaml();
    for p in &PODS {
        out.push_str(&pod_yaml(p, &p.label_map()));
    }
    out
}

/// What a probe sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeProtocol {
    Tcp,
    Udp,
    /// An ICMP echo request (the port is ignored).
    Icmp,
}

impl ProbeProtocol {
    /// `tcp`, `udp`, `icmp` (the lab's `--protocol` values).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeProtocol::Tcp => "tcp",
            ProbeProtocol::Udp => "udp",
            ProbeProtocol::Icmp => "icmp",
        }
    }
}

impl fmt::Display for ProbeProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One probe: every pod to every pod with one protocol and port, and the expected matrix.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub protocol: ProbeProtocol,
    /// The destination port (0 for ICMP).
    pub port: u16,
    /// The matrix, as written in the source (see the module documentation).
    pub expected: &'static str,
}

impl Probe {
    /// The expected matrix: rows are clients, columns servers, both in [`PODS`] order.
    ///
    /// # Errors
    /// A malformed matrix (wrong header, row names or cells).
    pub fn matrix(&self) -> Result<Vec<Vec<bool>>, String> {
        parse_matrix_rows(self.expected)
    }
}

/// A TCP probe.
pub const fn tcp(port: u16, expected: &'static str) -> Probe {
    Probe {
        protocol: ProbeProtocol::Tcp,
        port,
        expected,
    }
}

/// A UDP probe.
pub const fn udp(port: u16, expected: &'static str) -> Probe {
    Probe {
        protocol: ProbeProtocol::Udp,
        port,
        expected,
    }
}

/// An ICMP echo probe.
pub const fn icmp(expected: &'static str) -> Probe {
    Probe {
        protocol: ProbeProtocol::Icmp,
        port: 0,
        expected,
    }
}

/// An object a step deletes, named as `calicoctl delete -f` needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    /// `projectcalico.org/v3`, `networking.k8s.io/v1` or `v1`.
    pub api_version: &'static str,
    pub kind: &'static str,
    /// Empty for cluster-scoped kinds.
    pub namespace: &'static str,
    pub name: &'static str,
}

impl ObjectRef {
    /// A minimal manifest naming the object, for `calicoctl delete -f -`.
    pub fn to_yaml(&self) -> String {
        object_ref_yaml(self.api_version, self.kind, self.namespace, self.name)
    }
}

pub(crate) fn object_ref_yaml(
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> String {
    let ns = if namespace.is_empty() {
        String::new()
    } else {
        format!("  namespace: \"{namespace}\"\n")
    };
    format!("apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: \"{name}\"\n{ns}---\n")
}

/// A probe's protocol, port and expected matrix (rows clients, columns servers).
pub type ExpectedMatrix = (ProbeProtocol, u16, Vec<Vec<bool>>);

/// A pod's labels replaced (all of them).
#[derive(Clone, Copy, Debug)]
pub struct Relabel {
    /// `x/a`.
    pub pod: &'static str,
    pub labels: &'static [(&'static str, &'static str)],
}

/// One change to the cluster and the probes that check its effect.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub description: &'static str,
    /// Objects to delete first.
    pub delete: &'static [ObjectRef],
    /// YAML documents to apply next (Namespace, NetworkPolicy of either API, Tier, ...).
    pub apply: &'static str,
    /// Pod label replacements, last.
    pub relabel: &'static [Relabel],
    pub probes: &'static [Probe],
}

impl Step {
    /// The YAML to give `calicoctl delete -f -` (empty when nothing is deleted).
    pub fn delete_yaml(&self) -> String {
        self.delete.iter().map(ObjectRef::to_yaml).collect()
    }

    /// Every probe's `(protocol, port, expected matrix)`, matrices as [`Probe::matrix`].
    ///
    /// # Errors
    /// The first malformed matrix.
    pub fn matrices(&self) -> Result<Vec<ExpectedMatrix>, String> {
        self.probes
            .iter()
            .map(|p| Ok((p.protocol, p.port, p.matrix()?)))
            .collect()
    }
}

/// A scenario: steps applied in order to the base cluster.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    pub steps: &'static [Step],
}

impl Scenario {
    /// The model after `steps[..=index]` (for tests and tools that need the evaluator's view).
    ///
    /// # Errors
    /// A step that does not apply (bad YAML, unknown pod) or a model that does not build.
    pub fn model_at(&self, index: usize) -> Result<Model, String> {
        let mut c = Cluster::new();
        for step in self.steps.iter().take(index + 1) {
            c.apply_step(step)?;
        }
        c.model()
    }

    /// What returns the cluster to its base state after every step was applied.
    ///
    /// # Errors
    /// As [`Scenario::model_at`].
    pub fn teardown(&self) -> Result<Teardown, String> {
        let mut c = Cluster::new();
        for step in self.steps {
            c.apply_step(step)?;
        }
        Ok(c.teardown())
    }
}

/// Every scenario, in a stable order.
pub fn all() -> Vec<Scenario> {
    SCENARIOS.to_vec()
}

/// The scenario named `name`.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// Parses a matrix into rows of cells in [`PODS`] order, checking the header and row names.
///
/// # Errors
/// A description of the first malformed line.
pub fn parse_matrix_rows(text: &str) -> Result<Vec<Vec<bool>>, String> {
    let shorts: Vec<String> = PODS.iter().map(PodInfo::short).collect();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty matrix")?
        .split_whitespace()
        .collect();
    if header != shorts {
        return Err(format!(
            "matrix header {header:?} is not the pods in order {shorts:?}"
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let (from, cells) = cells
            .split_first()
            .ok_or_else(|| format!("empty row {i}"))?;
        if shorts.get(i).map(String::as_str) != Some(*from) {
            return Err(format!(
                "row {i} is named {from:?}, expected {:?}",
                shorts.get(i)
            ));
        }
        if cells.len() != shorts.len() {
            return Err(format!(
                "row {from:?} has {} cells, expected {}",
                cells.len(),
                shorts.len()
            ));
        }
        let row = cells
            .iter()
            .map(|c| match *c {
                "." => Ok(true),
                "X" => Ok(false),
                other => Err(format!("row {from:?}: cell {other:?} is neither . nor X")),
            })
            .collect::<Result<Vec<bool>, String>>()?;
        rows.push(row);
    }
    if rows.len() != shorts.len() {
        return Err(format!("{} rows, expected {}", rows.len(), shorts.len()));
    }
    Ok(rows)
}

/// Parses a matrix into `(from, to, allowed)` triples with `x/a`-style pod names.
///
/// # Errors
/// As [`parse_matrix_rows`].
pub fn parse_matrix(text: &str) -> Result<Vec<(String, String, bool)>, String> {
    let rows = parse_matrix_rows(text)?;
    let mut out = Vec::new();
    for (from, row) in PODS.iter().zip(&rows) {
        for (to, allowed) in PODS.iter().zip(row) {
            out.push((from.id(), to.id(), *allowed));
        }
    }
    Ok(out)
}

/// Prints a matrix in the source form from rows of cells in [`PODS`] order.
pub fn format_matrix_rows(rows: &[Vec<bool>]) -> String {
    let mut out = String::from("    ");
    out.push_str(
        &PODS
            .iter()
            .map(PodInfo::short)
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push('\n');
    for (p, row) in PODS.iter().zip(rows) {
        out.push_str(&p.short());
        for cell in row {
            out.push_str(if *cell { "  ." } else { "  X" });
        }
        out.push('\n');
    }
    out
}

/// Prints a matrix in the source form from a `(from, to) → allowed` function over `x/a` names.
pub fn format_matrix(allowed: impl Fn(&str, &str) -> bool) -> String {
    let rows: Vec<Vec<bool>> = PODS
        .iter()
        .map(|from| {
            PODS.iter()
                .map(|to| allowed(&from.id(), &to.id()))
                .collect()
        })
        .collect();
    format_matrix_rows(&rows)
}
