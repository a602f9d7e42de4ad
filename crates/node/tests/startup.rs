//! Startup against the embedded datastore: Node creation and update, the default pool and
//! NO_DEFAULT_POOLS, ClusterInformation, FelixConfiguration, the VXLAN tunnel address.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::IpAddr;

use calico_api::{Resource, find_kind};
use calico_client::ipam_store::ClientIpam;
use calico_client::{Client, DatastoreConfig, DatastoreType};
use calico_node::autodetect::Iface;
use calico_node::settings::NodeSettings;
use calico_node::startup::{self, StartupError};
use calico_node::tunnel::{VXLAN_ATTR_TYPE, vxlan_handle, vxlan_mac};

struct Store {
    _dir: tempfile::TempDir,
    client: Client,
}

fn store() -> Store {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = DatastoreConfig {
        datastore_type: DatastoreType::Embedded,
        embedded_path: dir.path().join("calico.db"),
        etcd: Default::default(),
    };
    let client = Client::connect(&cfg).expect("open the embedded store");
    Store { _dir: dir, client }
}

fn settings(dir: &std::path::Path, vars: &[(&str, &str)]) -> NodeSettings {
    let mut m: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    m.insert(
        "CALICO_NODENAME_FILE".into(),
        dir.join("nodename").display().to_string(),
    );
    NodeSettings::from_lookup(&move |k| m.get(k).cloned()).expect("settings")
}

fn ifaces() -> Vec<Iface> {
    vec![
        Iface {
            name: "lo".into(),
            index: 1,
            addrs: vec!["127.0.0.1/8".parse().unwrap()],
        },
        Iface {
            name: "eth0".into(),
            index: 2,
            addrs: vec!["10.0.0.5/24".parse().unwrap()],
        },
        Iface {
            name: "eth1".into(),
            index: 3,
            addrs: vec!["172.16.1.9/20".parse().unwrap()],
        },
    ]
}

fn no_route(_: &str) -> Result<IpAddr, String> {
    Err("no route in this test".into())
}

fn get(c: &Client, kind: &str, name: &str) -> Option<Resource> {
    c.get(find_kind(kind, None).unwrap(), "", name).ok()
}

fn node(c: &Client, name: &str) -> calico_api::Node {
    match get(c, "Node", name) {
        Some(Resource::Node(n)) => n,
        other => panic!("Node {name}: {other:?}"),
    }
}

fn pools(c: &Client) -> Vec<calico_api::IPPool> {
    c.list(find_kind("IPPool", None).unwrap(), None)
        .unwrap()
        .0
        .into_iter()
        .filter_map(|r| match r {
            Resource::IPPool(p) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn first_start_creates_node_pool_cluster_info_and_felix_config() {
    let s = store();
    let dir = tempfile::tempdir().unwrap();
    let st = settings(
        dir.path(),
        &[("NODENAME", "node-a"), ("CLUSTER_TYPE", "lab")],
    );
    let out = startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    assert_eq!(out.ipv4.unwrap().to_string(), "10.0.0.5/24", "first-found");
    let n = node(&s.client, "node-a");
    assert_eq!(n.spec.bgp.as_ref().unwrap().ipv4_address, "10.0.0.5/24");
    assert!(n.spec.ipv4_vxlan_tunnel_addr.is_empty(), "no VXLAN pool");

    let p = pools(&s.client);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].metadata.name, "default-ipv4-ippool");
    assert_eq!(p[0].spec.cidr, "192.168.0.0/16");
    assert!(p[0].spec.nat_outgoing);
    assert_eq!(p[0].spec.vxlan_mode, "Never");
    assert_eq!(p[0].spec.block_size, 26);

    let Some(Resource::ClusterInformation(ci)) = get(&s.client, "ClusterInformation", "default")
    else {
        panic!("no ClusterInformation");
    };
    assert_eq!(ci.spec.calico_version, calico_client::CALICO_RS_VERSION);
    assert_eq!(ci.spec.datastore_ready, Some(true));
    assert!(
        ci.spec.cluster_type.split(',').any(|t| t == "lab"),
        "{}",
        ci.spec.cluster_type
    );
    assert!(!ci.spec.cluster_guid.is_empty());
    let Some(Resource::FelixConfiguration(fc)) = get(&s.client, "FelixConfiguration", "default")
    else {
        panic!("no FelixConfiguration default");
    };
    assert_eq!(fc.spec.log_severity_screen, "Info");
    for tier in ["default", "kube-admin", "kube-baseline"] {
        assert!(get(&s.client, "Tier", tier).is_some(), "tier {tier}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("nodename")).unwrap(),
        "node-a"
    );
}

#[test]
fn restart_keeps_or_updates_the_node() {
    let s = store();
    let dir = tempfile::tempdir().unwrap();
    let st = settings(dir.path(), &[("NODENAME", "node-a")]);
    startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    let first = node(&s.client, "node-a");

    // IP unset: the stored address is kept even if autodetection would find another one.
    let other_ifaces = vec![Iface {
        name: "eth0".into(),
        index: 2,
        addrs: vec!["10.0.9.9/24".parse().unwrap()],
    }];
    startup::run(&s.client, &st, &other_ifaces, no_route).unwrap();
    let again = node(&s.client, "node-a");
    assert_eq!(again.spec.bgp.as_ref().unwrap().ipv4_address, "10.0.0.5/24");
    assert_eq!(again.metadata.uid, first.metadata.uid);

    // IP=autodetect re-detects; the Node is updated, not recreated.
    let st2 = settings(
        dir.path(),
        &[
            ("NODENAME", "node-a"),
            ("IP", "autodetect"),
            ("IP_AUTODETECTION_METHOD", "interface=eth1"),
        ],
    );
    startup::run(&s.client, &st2, &ifaces(), no_route).unwrap();
    let upd = node(&s.client, "node-a");
    assert_eq!(upd.spec.bgp.as_ref().unwrap().ipv4_address, "172.16.1.9/20");
    assert_eq!(upd.metadata.uid, first.metadata.uid);
    assert_ne!(
        upd.metadata.resource_version,
        first.metadata.resource_version
    );

    // An explicit IP without prefix takes the prefix of the interface that holds it.
    let st3 = settings(dir.path(), &[("NODENAME", "node-a"), ("IP", "10.0.0.5")]);
    startup::run(&s.client, &st3, &ifaces(), no_route).unwrap();
    assert_eq!(
        node(&s.client, "node-a").spec.bgp.unwrap().ipv4_address,
        "10.0.0.5/24"
    );

    // IP=none removes the IPv4 address (and the then-empty bgp section).
    let st4 = settings(dir.path(), &[("NODENAME", "node-a"), ("IP", "none")]);
    startup::run(&s.client, &st4, &ifaces(), no_route).unwrap();
    assert!(node(&s.client, "node-a").spec.bgp.is_none());
}

#[test]
fn no_default_pools_and_existing_pools() {
    let s = store();
    let dir = tempfile::tempdir().unwrap();
    let st = settings(
        dir.path(),
        &[("NODENAME", "node-a"), ("NO_DEFAULT_POOLS", "true")],
    );
    startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    assert!(pools(&s.client).is_empty());

    // A pool that already exists: no default pool is added.
    let pool = Resource::from_value(serde_json::json!({
        "apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "mine"}, "spec": {"cidr": "10.50.0.0/16"}
    }))
    .unwrap();
    s.client.create(pool).unwrap();
    let st = settings(
        dir.path(),
        &[
            ("NODENAME", "node-a"),
            ("CALICO_IPV4POOL_CIDR", "10.60.0.0/16"),
        ],
    );
    startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    let p = pools(&s.client);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].metadata.name, "mine");
}

#[test]
fn address_conflict_is_refused_unless_disabled() {
    let s = store();
    let dir = tempfile::tempdir().unwrap();
    startup::run(
        &s.client,
        &settings(dir.path(), &[("NODENAME", "node-a")]),
        &ifaces(),
        no_route,
    )
    .unwrap();
    let e = startup::run(
        &s.client,
        &settings(dir.path(), &[("NODENAME", "node-b")]),
        &ifaces(),
        no_route,
    )
    .unwrap_err();
    assert!(matches!(e, StartupError::Conflict { .. }), "{e}");
    assert!(
        e.to_string().contains("already in use by node node-a"),
        "{e}"
    );
    startup::run(
        &s.client,
        &settings(
            dir.path(),
            &[("NODENAME", "node-b"), ("DISABLE_NODE_IP_CHECK", "true")],
        ),
        &ifaces(),
        no_route,
    )
    .unwrap();
}

#[test]
fn vxlan_tunnel_address_from_ipam() {
    let s = store();
    let dir = tempfile::tempdir().unwrap();
    let st = settings(
        dir.path(),
        &[
            ("NODENAME", "node-a"),
            ("CALICO_IPV4POOL_CIDR", "10.244.0.0/16"),
            ("CALICO_IPV4POOL_VXLAN", "Always"),
        ],
    );
    let out = startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    let ip = out.vxlan_tunnel_addr.expect("a tunnel address");
    let n = node(&s.client, "node-a");
    assert_eq!(n.spec.ipv4_vxlan_tunnel_addr, ip.to_string());
    assert_eq!(n.spec.vxlan_tunnel_mac_addr, vxlan_mac("node-a"));
    assert!(
        "10.244.0.0/16"
            .parse::<ipnet::IpNet>()
            .unwrap()
            .contains(&IpAddr::V4(ip))
    );

    let ipam = ClientIpam::new(s.client.clone());
    let info = ipam
        .get_assignment_attributes(IpAddr::V4(ip))
        .unwrap()
        .expect("allocated");
    assert_eq!(
        info.handle_id.as_deref(),
        Some(vxlan_handle("node-a").as_str())
    );
    assert_eq!(
        info.attrs.get("type").map(String::as_str),
        Some(VXLAN_ATTR_TYPE)
    );
    assert_eq!(info.attrs.get("node").map(String::as_str), Some("node-a"));
    assert_eq!(info.block_affinity.as_deref(), Some("host:node-a"));

    // A restart keeps the same address.
    let again = startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    assert_eq!(again.vxlan_tunnel_addr, Some(ip));
    assert_eq!(
        ipam.engine()
            .ips_by_handle(&vxlan_handle("node-a"))
            .unwrap(),
        vec![IpAddr::V4(ip)]
    );

    // VXLAN turned off on the pool: the address is released and the fields cleared.
    let Some(Resource::IPPool(mut p)) = get(&s.client, "IPPool", "default-ipv4-ippool") else {
        panic!("no pool");
    };
    p.spec.vxlan_mode = "Never".into();
    s.client.update(Resource::IPPool(p)).unwrap();
    assert_eq!(
        calico_node::tunnel::reconcile_vxlan_tunnel(&s.client, "node-a").unwrap(),
        None
    );
    let n = node(&s.client, "node-a");
    assert!(n.spec.ipv4_vxlan_tunnel_addr.is_empty());
    assert!(n.spec.vxlan_tunnel_mac_addr.is_empty());
    assert!(
        ipam.get_assignment_attributes(IpAddr::V4(ip))
            .unwrap()
            .is_none()
    );
}

#[test]
fn follow_hook_tracks_felix_config_pools_and_mtu() {
    use calico_node::agent::{Follow, load_felix};
    use calico_node::daemon::KeyHook;
    use calico_node::felix::FelixEnv;
    use calico_node::log::{self, Level};

    let s = store();
    let dir = tempfile::tempdir().unwrap();
    let st = settings(
        dir.path(),
        &[("NODENAME", "node-a"), ("CALICO_IPV4POOL_VXLAN", "Always")],
    );
    startup::run(&s.client, &st, &ifaces(), no_route).unwrap();
    assert!(
        !node(&s.client, "node-a")
            .spec
            .ipv4_vxlan_tunnel_addr
            .is_empty()
    );
    let env = FelixEnv::default();
    let mut follow = Follow {
        client: s.client.clone(),
        node: "node-a".into(),
        current: load_felix(&s.client, "node-a", &env).unwrap(),
        env,
        mtu_file: dir.path().join("mtu"),
        bgp: None,
        health: std::sync::Arc::new(calico_node::health::Health::new()),
        ipip_error: None,
        ipip_logged: false,
    };
    assert_eq!(follow.current.log_level, Level::Info);

    // The per-node configuration raises the log level; it applies at once.
    s.client
        .create(
            Resource::from_value(serde_json::json!({
                "apiVersion": "projectcalico.org/v3", "kind": "FelixConfiguration",
                "metadata": {"name": "node.node-a"}, "spec": {"logSeverityScreen": "Debug"}
            }))
            .unwrap(),
        )
        .unwrap();
    follow.changed(&["/calico/resources/v3/projectcalico.org/felixconfigurations/node.node-a"]);
    assert_eq!(follow.current.log_level, Level::Debug);
    assert!(log::enabled(Level::Debug));
    log::set_level(Level::Info);
    let pattern = regex::Regex::new(follow.current.spec.effective_mtu_iface_pattern()).unwrap();
    let host = calico_node::mtu::host_mtus();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mtu")).unwrap(),
        calico_node::mtu::workload_mtu(&host, &pattern, true, 0).to_string()
    );

    // VXLAN switched off on the pool: the tunnel address goes, the MTU loses the overhead.
    let Some(Resource::IPPool(mut p)) = get(&s.client, "IPPool", "default-ipv4-ippool") else {
        panic!("no pool");
    };
    p.spec.vxlan_mode = "Never".into();
    s.client.update(Resource::IPPool(p)).unwrap();
    follow.changed(&["/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool"]);
    assert!(
        node(&s.client, "node-a")
            .spec
            .ipv4_vxlan_tunnel_addr
            .is_empty()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mtu")).unwrap(),
        calico_node::mtu::workload_mtu(&host, &pattern, false, 0).to_string()
    );
}
