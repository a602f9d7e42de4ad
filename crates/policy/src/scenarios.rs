//! Reusable connectivity scenarios in the style of the Kubernetes network-policy e2e tests:
//! namespaces `x`, `y`, `z` (label `ns: <name>`), pods `a`, `b`, `c` in each (label
//! `pod: <name>`, address `10.0.<ns 1-3>.<pod 1-3>`, container ports 80 and 81 on TCP and UDP
//! named `serve-<port>-<tcp|udp>`), plus each scenario's policy resources as YAML, and the
//! expected reachability matrices.
//!
//! The data form is deliberately plain (strings) so that other suites — the lab's kernel
//! conformance tests — can apply the same YAML to a real cluster and probe the same matrix.
//!
//! A matrix has a header line naming the destination pods, then one line per source pod:
//! its name and one cell per destination, `.` for allowed and `X` for denied. A pod reaching
//! itself is always allowed (the packet never leaves the pod).

mod catalog;

pub use catalog::SCENARIOS;

/// The namespaces of the base cluster.
pub const NAMESPACES: [&str; 3] = ["x", "y", "z"];
/// The pods in each namespace.
pub const PODS: [&str; 3] = ["a", "b", "c"];

/// One scenario: resources on top of [`base_cluster`] and the probes to run.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    /// YAML documents (policies, tiers, network sets...) to add to the base cluster.
    pub resources: &'static str,
    pub probes: &'static [Probe],
}

/// One probe: a protocol (`TCP`, `UDP`, `SCTP` or `ICMP` for an echo request), a destination
/// port (ignored for ICMP) and the expected matrix.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub protocol: &'static str,
    pub port: u16,
    pub expected: &'static str,
}

/// `x/a`-style name of a pod.
pub fn pod_name(ns: &str, pod: &str) -> String {
    format!("{ns}/{pod}")
}

/// The address of a pod of the base cluster.
pub fn pod_ip(ns: &str, pod: &str) -> Option<std::net::IpAddr> {
    let n = NAMESPACES.iter().position(|x| *x == ns)? + 1;
    let p = PODS.iter().position(|x| *x == pod)? + 1;
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        10, 0, n as u8, p as u8,
    )))
}

/// The base cluster: three namespaces and nine pods, as YAML.
pub fn base_cluster() -> String {
    let mut out = String::new();
    for ns in NAMESPACES {
        out.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"{ns}\"\n  labels:\n    ns: \"{ns}\"\n---\n"
        ));
    }
    for ns in NAMESPACES {
        for pod in PODS {
            let ip = pod_ip(ns, pod).map(|ip| ip.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"{pod}\"\n  namespace: \"{ns}\"\n  labels:\n    pod: \"{pod}\"\nspec:\n  nodeName: node1\n  containers:\n  - name: serve\n    image: agnhost\n    ports:\n"
            ));
            for port in [80, 81] {
                for (proto, lower) in [("TCP", "tcp"), ("UDP", "udp")] {
                    out.push_str(&format!(
                        "    - name: serve-{port}-{lower}\n      containerPort: {port}\n      protocol: {proto}\n"
                    ));
                }
            }
            out.push_str(&format!(
                "status:\n  phase: Running\n  podIP: {ip}\n  podIPs:\n  - ip: {ip}\n---\n"
            ));
        }
    }
    out
}

/// The whole input of a scenario: the base cluster and the scenario's resources.
pub fn scenario_yaml(s: &Scenario) -> String {
    format!("{}{}", base_cluster(), s.resources)
}

/// Parses a matrix into `(from, to, allowed)` triples with `x/a`-style pod names.
///
/// # Errors
/// A description of the malformed line.
pub fn parse_matrix(text: &str) -> Result<Vec<(String, String, bool)>, String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty matrix")?
        .split_whitespace()
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let (from, cells) = cells
            .split_first()
            .ok_or_else(|| format!("empty row in {text:?}"))?;
        if cells.len() != header.len() {
            return Err(format!(
                "row {from:?} has {} cells, expected {}",
                cells.len(),
                header.len()
            ));
        }
        for (to, cell) in header.iter().zip(cells) {
            let allowed = match *cell {
                "." => true,
                "X" => false,
                other => return Err(format!("row {from:?}: cell {other:?} is neither . nor X")),
            };
            out.push((expand(from), expand(to), allowed));
        }
    }
    Ok(out)
}

/// `xa` → `x/a` (names already containing `/` are kept).
fn expand(short: &str) -> String {
    if short.contains('/') {
        return short.to_string();
    }
    let mut chars = short.chars();
    match (chars.next(), chars.as_str()) {
        (Some(ns), pod) if !pod.is_empty() => format!("{ns}/{pod}"),
        _ => short.to_string(),
    }
}

/// Prints a matrix in the same form from a `(from, to) → allowed` function.
pub fn format_matrix(allowed: impl Fn(&str, &str) -> bool) -> String {
    let names: Vec<(String, String)> = NAMESPACES
        .iter()
        .flat_map(|ns| {
            PODS.iter()
                .map(move |p| (format!("{ns}{p}"), pod_name(ns, p)))
        })
        .collect();
    let mut out = String::from("    ");
    out.push_str(
        &names
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push('\n');
    for (short, from) in &names {
        out.push_str(short);
        for (_, to) in &names {
            out.push_str(if allowed(from, to) { "  ." } else { "  X" });
        }
        out.push('\n');
    }
    out
}
