//! Node startup, as calico/node's `startup.Run` does it (one pass, before the agent loop):
//! ClusterInformation and the default tiers, the `Node` resource with its IPv4 address
//! (`spec.bgp.ipv4Address`, with prefix), the default IPv4 pool when no IPv4 pool exists,
//! the default FelixConfiguration, the VXLAN tunnel address, and the node name file.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use calico_api::{KindInfo, Node, NodeBGPSpec, Resource};
use calico_client::{CALICO_RS_VERSION, Client, ClientError, DatastoreConfig};
use ipnet::Ipv4Net;
use serde_json::json;

use crate::autodetect::{AutodetectError, Iface, autodetect_v4, find_local};
use crate::settings::{IpSetting, NodeSettings};
use crate::{info, warn};

/// Why startup failed; each message names the object and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("IPv4 autodetection failed: {0}")]
    Autodetect(#[from] AutodetectError),
    #[error(
        "Node {node}: IPv4 address {ip} is already in use by node {other}: set IP or \
         IP_AUTODETECTION_METHOD, or DISABLE_NODE_IP_CHECK=true"
    )]
    Conflict {
        node: String,
        ip: Ipv4Addr,
        other: String,
    },
    #[error("Node {node} does not exist")]
    NodeMissing { node: String },
    #[error("IPAM: {0}")]
    Ipam(String),
    #[error("Node {node}: {message}")]
    Stored { node: String, message: String },
}

pub(crate) fn kind(name: &str) -> Result<&'static KindInfo, StartupError> {
    calico_api::find_kind(name, None)
        .ok_or_else(|| StartupError::Ipam(format!("internal: kind {name} is not registered")))
}

/// Open the datastore, retrying with backoff (100 ms doubling to 5 s) until it answers or
/// `give_up_after` has passed.
pub fn connect_with_retry(
    cfg: &DatastoreConfig,
    give_up_after: Option<Duration>,
) -> Result<Client, ClientError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match Client::connect(cfg) {
            Ok(c) => return Ok(c),
            Err(e) => {
                if give_up_after.is_some_and(|g| start.elapsed() >= g) {
                    return Err(e);
                }
                warn!("cannot reach the datastore, retrying in {pause:?}: {e}");
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The stored Node, if any.
pub fn get_node(client: &Client, name: &str) -> Result<Option<Node>, StartupError> {
    match client.get(kind("Node")?, "", name) {
        Ok(Resource::Node(n)) => Ok(Some(n)),
        Ok(_) => Err(StartupError::Stored {
            node: name.into(),
            message: "the stored object is not a Node".into(),
        }),
        Err(ClientError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Read-modify-write of the Node with compare-and-swap, retried on conflicts.
pub fn update_node(
    client: &Client,
    name: &str,
    change: impl Fn(&mut Node),
) -> Result<Node, StartupError> {
    let mut last = None;
    for _ in 0..10 {
        let Some(mut node) = get_node(client, name)? else {
            return Err(StartupError::NodeMissing { node: name.into() });
        };
        change(&mut node);
        normalise(&mut node);
        match client.update(Resource::Node(node)) {
            Ok(Resource::Node(n)) => return Ok(n),
            Ok(_) => {}
            Err(e @ ClientError::Conflict { .. }) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last
        .map(StartupError::from)
        .unwrap_or_else(|| StartupError::NodeMissing { node: name.into() }))
}

/// `spec.bgp` must not be an empty struct.
fn normalise(node: &mut Node) {
    if node
        .spec
        .bgp
        .as_ref()
        .is_some_and(|b| *b == NodeBGPSpec::default())
    {
        node.spec.bgp = None;
    }
}

/// The node's IPv4 address (with prefix) that `IP` asks for; `stored` is the Node's current
/// `spec.bgp.ipv4Address`.
pub fn choose_ipv4(
    settings: &NodeSettings,
    stored: Option<&str>,
    ifaces: &[Iface],
    route_src: impl Fn(&str) -> Result<IpAddr, String>,
) -> Result<Option<Ipv4Net>, StartupError> {
    let stored: Option<Ipv4Net> = stored.and_then(|s| {
        s.parse::<Ipv4Net>()
            .ok()
            .or_else(|| s.parse::<Ipv4Addr>().ok().map(Ipv4Net::from))
    });
    Ok(match &settings.ip {
        IpSetting::None => None,
        IpSetting::KeepOrAutodetect if stored.is_some() => stored,
        IpSetting::KeepOrAutodetect | IpSetting::Autodetect => {
            let (iface, net) = autodetect_v4(&settings.autodetect, ifaces, route_src)?;
            info!("using autodetected IPv4 address {net} on interface {iface}");
            Some(net)
        }
        IpSetting::Explicit { addr, prefix } => match prefix {
            Some(p) => Ipv4Net::new(*addr, *p).ok(),
            None => Some(
                find_local(ifaces, *addr)
                    .map(|(_, n)| n)
                    .unwrap_or_else(|| Ipv4Net::from(*addr)),
            ),
        },
    })
}

/// ClusterInformation `default` (with the default tiers): created when missing; `calicoVersion`
/// set to ours, `clusterType` extended with `CLUSTER_TYPE`'s entries, `datastoreReady` set to
/// true unless someone set it (false is the migration lock and is left alone).
pub fn ensure_cluster_information(
    client: &Client,
    cluster_type: &[String],
) -> Result<(), StartupError> {
    let info = client.ensure_initialized()?;
    let Resource::ClusterInformation(mut ci) = info else {
        return Ok(());
    };
    let before = ci.clone();
    let mut types: Vec<String> = ci
        .spec
        .cluster_type
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for t in cluster_type {
        if !types.contains(t) {
            types.push(t.clone());
        }
    }
    ci.spec.cluster_type = types.join(",");
    ci.spec.calico_version = CALICO_RS_VERSION.to_string();
    if ci.spec.datastore_ready.is_none() {
        ci.spec.datastore_ready = Some(true);
    }
    if ci != before {
        match client.update(Resource::ClusterInformation(ci)) {
            Ok(_) | Err(ClientError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn create_if_missing(client: &Client, value: serde_json::Value) -> Result<bool, StartupError> {
    let r =
        Resource::from_value(value).map_err(|e| StartupError::Ipam(format!("internal: {e}")))?;
    match client.create(r) {
        Ok(_) => Ok(true),
        Err(ClientError::AlreadyExists { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Create the default IPv4 pool when the settings ask for one and no IPv4 pool exists.
pub fn ensure_default_pool(client: &Client, settings: &NodeSettings) -> Result<(), StartupError> {
    let Some(pool) = &settings.default_pool else {
        info!("skipping IPv4 pool configuration");
        return Ok(());
    };
    let (pools, _) = client.list(kind("IPPool")?, None)?;
    let v4_present = pools.iter().any(|p| match p {
        Resource::IPPool(p) => p.spec.is_ipv4() == Some(true),
        _ => false,
    });
    if v4_present {
        return Ok(());
    }
    let mut spec = json!({
        "cidr": pool.cidr.to_string(),
        "blockSize": pool.block_size,
        "ipipMode": pool.ipip_mode,
        "vxlanMode": pool.vxlan_mode,
        "natOutgoing": pool.nat_outgoing,
    });
    if !pool.node_selector.is_empty() {
        spec["nodeSelector"] = json!(pool.node_selector);
    }
    let created = create_if_missing(
        client,
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
               "metadata": {"name": pool.name}, "spec": spec}),
    )?;
    if created {
        info!(
            "created default IPv4 pool {} ({}) with NAT outgoing {}. IPIP mode: {}, VXLAN mode: {}",
            pool.name, pool.cidr, pool.nat_outgoing, pool.ipip_mode, pool.vxlan_mode
        );
    }
    Ok(())
}

/// Create or update this node's `Node` resource with its IPv4 address.
pub fn ensure_node(
    client: &Client,
    settings: &NodeSettings,
    ifaces: &[Iface],
    route_src: impl Fn(&str) -> Result<IpAddr, String>,
) -> Result<Node, StartupError> {
    let name = &settings.nodename;
    let existing = get_node(client, name)?;
    let stored = existing
        .as_ref()
        .and_then(|n| n.spec.bgp.as_ref())
        .map(|b| b.ipv4_address.clone())
        .filter(|s| !s.is_empty());
    let ipv4 = choose_ipv4(settings, stored.as_deref(), ifaces, route_src)?;
    if let Some(net) = ipv4
        && !settings.disable_node_ip_check
    {
        let (nodes, _) = client.list(kind("Node")?, None)?;
        for n in nodes {
            let Resource::Node(n) = n else { continue };
            if n.metadata.name == *name {
                continue;
            }
            let theirs = n
                .spec
                .bgp
                .as_ref()
                .and_then(|b| b.ipv4_address.split('/').next()?.parse::<Ipv4Addr>().ok());
            if theirs == Some(net.addr()) {
                return Err(StartupError::Conflict {
                    node: name.clone(),
                    ip: net.addr(),
                    other: n.metadata.name.clone(),
                });
            }
        }
    }
    let set_ip = |n: &mut Node| match ipv4 {
        Some(net) => n.spec.bgp.get_or_insert_with(Default::default).ipv4_address = net.to_string(),
        None => {
            if let Some(b) = n.spec.bgp.as_mut() {
                b.ipv4_address.clear();
            }
        }
    };
    if existing.is_none() {
        let mut node = Node::default();
        node.metadata.name = name.clone();
        set_ip(&mut node);
        normalise(&mut node);
        match client.create(Resource::Node(node)) {
            Ok(Resource::Node(n)) => {
                info!("created Node {name}");
                return Ok(n);
            }
            Ok(_) | Err(ClientError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let before = get_node(client, name)?;
    let mut want = before.clone().unwrap_or_default();
    set_ip(&mut want);
    normalise(&mut want);
    if before.as_ref() == Some(&want) {
        return Ok(want);
    }
    let n = update_node(client, name, set_ip)?;
    info!("updated Node {name}");
    Ok(n)
}

/// The FelixConfiguration `default` calico/node creates when missing.
pub fn ensure_default_felix_config(client: &Client) -> Result<(), StartupError> {
    create_if_missing(
        client,
        json!({"apiVersion": "projectcalico.org/v3", "kind": "FelixConfiguration",
               "metadata": {"name": "default"},
               "spec": {"logSeverityScreen": "Info", "reportingInterval": "0s"}}),
    )?;
    Ok(())
}

/// What startup found.
#[derive(Clone, Debug)]
pub struct StartupOutcome {
    pub node: Node,
    pub ipv4: Option<Ipv4Net>,
    pub vxlan_tunnel_addr: Option<Ipv4Addr>,
    pub ipip_tunnel_addr: Option<Ipv4Addr>,
}

/// The whole startup sequence.
pub fn run(
    client: &Client,
    settings: &NodeSettings,
    ifaces: &[Iface],
    route_src: impl Fn(&str) -> Result<IpAddr, String>,
) -> Result<StartupOutcome, StartupError> {
    ensure_cluster_information(client, &settings.cluster_type)?;
    let node = ensure_node(client, settings, ifaces, route_src)?;
    ensure_default_pool(client, settings)?;
    ensure_default_felix_config(client)?;
    let vxlan_tunnel_addr = crate::tunnel::reconcile_vxlan_tunnel(client, &settings.nodename)?;
    let ipip_tunnel_addr = crate::tunnel::reconcile_ipip_tunnel(client, &settings.nodename)?;
    if let Err(e) = write_nodename_file(settings) {
        warn!("{e}");
    }
    let node = get_node(client, &settings.nodename)?.unwrap_or(node);
    let ipv4 = node
        .spec
        .bgp
        .as_ref()
        .and_then(|b| b.ipv4_address.parse().ok());
    Ok(StartupOutcome {
        node,
        ipv4,
        vxlan_tunnel_addr,
        ipip_tunnel_addr,
    })
}

fn write_nodename_file(settings: &NodeSettings) -> Result<(), String> {
    let path = &settings.nodename_file;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, &settings.nodename)
        .map_err(|e| format!("cannot write the node name file {}: {e}", path.display()))
}
