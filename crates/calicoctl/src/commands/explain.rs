//! `explain --from NS/POD --to NS/POD --port N --protocol tcp|udp|sctp|icmp [-o text|json]`:
//! loads the policy-relevant resources of the datastore into a
//! [`calico_policy::Model`], finds both pods' endpoints, evaluates the first packet of a new
//! flow with the reference evaluator and prints the egress evaluation at the source, the
//! ingress evaluation at the destination, step by step, and the verdict with its deciding
//! rule ([`calico_policy::explain`] has the format).
//!
//! A pod's endpoint is its WorkloadEndpoint (`spec.pod`, or a WEP named exactly as given);
//! without one, a scheduled, addressed, non-host-network Pod stands in for it (as in a
//! cluster without Kubernetes API server). The exit status is 0 whatever the verdict;
//! bad input exits 1 with the reason.

use std::net::IpAddr;

use anyhow::{Result, anyhow, bail};
use calico_api::{KINDS, Protocol, Resource};
use calico_policy::{EndpointId, EndpointKind, Model, Packet, evaluate, explain};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::session::Globals;
use crate::stdout;

/// The protocols `explain` can probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainProtocol {
    Tcp,
    Udp,
    Sctp,
    Icmp,
}

/// Output of `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainOutput {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The client pod, NAMESPACE/POD.
    #[arg(long, value_name = "NS/POD")]
    pub from: String,

    /// The server pod, NAMESPACE/POD.
    #[arg(long, value_name = "NS/POD")]
    pub to: String,

    /// The destination port (1-65535); required except for icmp.
    #[arg(long, value_name = "N")]
    pub port: Option<String>,

    /// The protocol of the packet; icmp sends an echo request (ICMPv6 for IPv6 endpoints)
    /// and takes no --port.
    #[arg(long, value_enum, default_value = "tcp")]
    pub protocol: ExplainProtocol,

    /// text (step by step) or json (the evaluator's trace).
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ExplainOutput,
}

/// The kinds the policy model is built from.
const MODEL_KINDS: &[&str] = &[
    "Tier",
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "NetworkSet",
    "GlobalNetworkSet",
    "HostEndpoint",
    "WorkloadEndpoint",
    "Profile",
    "Namespace",
    "Pod",
];

fn split_pod(flag: &str, value: &str) -> Result<(String, String)> {
    match value.split_once('/') {
        Some((ns, pod)) if !ns.is_empty() && !pod.is_empty() && !pod.contains('/') => {
            Ok((ns.to_string(), pod.to_string()))
        }
        _ => bail!("{flag} {value:?}: expected NAMESPACE/POD"),
    }
}

fn parse_port(protocol: ExplainProtocol, port: Option<&str>) -> Result<u16> {
    match (protocol, port) {
        (ExplainProtocol::Icmp, None) => Ok(0),
        (ExplainProtocol::Icmp, Some(_)) => {
            bail!("--port: ICMP has no ports; leave --port out with --protocol icmp")
        }
        (_, None) => bail!("--port is required with --protocol tcp, udp or sctp"),
        (_, Some(p)) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => bail!("--port {p:?}: expected a port number 1-65535"),
        },
    }
}

pub fn run(g: &Globals, args: ExplainArgs) -> Result<()> {
    let from = split_pod("--from", &args.from)?;
    let to = split_pod("--to", &args.to)?;
    let port = parse_port(args.protocol, args.port.as_deref())?;

    let client = g.connect()?;
    let mut resources = Vec::new();
    for info in KINDS.iter().filter(|k| MODEL_KINDS.contains(&k.kind)) {
        let (list, _) = client
            .list(info, None)
            .map_err(|e| anyhow!("Failed to list {}: {e}", info.plural))?;
        resources.extend(list);
    }
    let model = Model::from_resources(&resources)
        .map_err(|e| anyhow!("Failed to build the policy model: {e}"))?;

    let src = endpoint_ip(&model, &resources, &from, None)?;
    let dst = endpoint_ip(&model, &resources, &to, Some(src))?;
    let pkt = match args.protocol {
        ExplainProtocol::Icmp => Packet::ping(src, dst),
        ExplainProtocol::Tcp => Packet::ports(src, dst, Protocol::Tcp, port),
        ExplainProtocol::Udp => Packet::ports(src, dst, Protocol::Udp, port),
        ExplainProtocol::Sctp => Packet::ports(src, dst, Protocol::Sctp, port),
    };
    let verdict = evaluate(&model, &pkt);
    let text = match args.output {
        ExplainOutput::Text => explain::render(&model, &pkt, &verdict, &args.from, &args.to),
        ExplainOutput::Json => {
            let mut s = serde_json::to_string_pretty(&json!({
                "from": args.from,
                "to": args.to,
                "packet": pkt,
                "verdict": verdict,
            }))?;
            s.push('\n');
            s
        }
    };
    stdout::print(&text)
}

/// The address of the endpoint of pod `ns/pod` (of the same family as `peer`, when given).
fn endpoint_ip(
    model: &Model,
    resources: &[Resource],
    (ns, pod): &(String, String),
    peer: Option<IpAddr>,
) -> Result<IpAddr> {
    let by_pod = EndpointId {
        kind: EndpointKind::Workload,
        namespace: ns.clone(),
        name: pod.clone(),
    };
    let ep = model.endpoint(&by_pod).or_else(|| {
        // A WorkloadEndpoint named as given (`<node>-k8s-<pod>-<iface>`).
        resources.iter().find_map(|r| match r {
            Resource::WorkloadEndpoint(w)
                if w.metadata.namespace == *ns && w.metadata.name == *pod =>
            {
                let name = if w.spec.pod.is_empty() {
                    &w.metadata.name
                } else {
                    &w.spec.pod
                };
                model.endpoint(&EndpointId {
                    kind: EndpointKind::Workload,
                    namespace: ns.clone(),
                    name: name.clone(),
                })
            }
            _ => None,
        })
    });
    let Some(ep) = ep else {
        let pod_exists = resources.iter().any(|r| {
            matches!(r, Resource::Pod(p) if p.metadata.namespace == *ns && p.metadata.name == *pod)
        });
        if pod_exists {
            bail!(
                "pod {ns}/{pod} has no Calico endpoint: no WorkloadEndpoint for it, and the \
                 Pod is not a running, scheduled, addressed, non-host-network pod"
            );
        }
        bail!("unknown pod {ns}/{pod}: no WorkloadEndpoint or Pod of that name in namespace {ns}");
    };
    let ip = match peer {
        Some(p) => ep.ips.iter().find(|ip| ip.is_ipv4() == p.is_ipv4()),
        None => ep.ips.iter().find(|ip| ip.is_ipv4()).or(ep.ips.first()),
    };
    ip.copied().ok_or_else(|| match peer {
        Some(p) => anyhow!(
            "endpoint {} of pod {ns}/{pod} has no IPv{} address to match the source {p}",
            ep.id,
            if p.is_ipv4() { 4 } else { 6 }
        ),
        None => anyhow!("endpoint {} of pod {ns}/{pod} has no address", ep.id),
    })
}
