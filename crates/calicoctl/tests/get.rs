//! `get` output formats, checked against golden files in tests/golden (regenerate with
//! `UPDATE_GOLDENS=1 cargo test -p calicoctl`; server-set fields are masked).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, POOL1, POOL2, docs, golden, mask};

const TIER: &str = "apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
";

const GNS: &str = "apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: blocked
  labels:
    role: blocked
spec:
  nets:
  - 192.0.2.0/24
  - 198.51.100.0/24
";

const NETSET: &str = "apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: partners
  namespace: ns1
spec:
  nets:
  - 203.0.113.0/24
";

const NETSET_DEFAULT_NS: &str = "apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: internal
spec:
  nets:
  - 10.20.0.0/16
";

fn env_with_pools() -> Env {
    let env = Env::new();
    env.run_file(&["create"], &docs(&[POOL1, POOL2])).ok();
    env
}

#[test]
fn ippool_tables() {
    let env = env_with_pools();
    golden("ippool-ps.txt", env.run(&["get", "ippool"]).ok());
    golden(
        "ippool-wide.txt",
        env.run(&["get", "ippools", "-o", "wide"]).ok(),
    );
    golden(
        "ippool-custom.txt",
        env.run(&["get", "pool", "-o", "custom-columns=CIDR,NAME,VXLANMODE"])
            .ok(),
    );
}

#[test]
fn table_layout_matches_go_tabwriter() {
    let env = env_with_pools();
    let out = env.run(&["get", "ippool"]).ok().to_string();
    assert_eq!(
        out,
        "NAME    CIDR          SELECTOR      \n\
         pool1   10.1.0.0/16   all()         \n\
         pool2   fd00:1::/64   zone == 'a'   \n\
         \n"
    );
}

#[test]
fn one_table_per_named_resource() {
    let env = env_with_pools();
    let out = env
        .run(&["get", "ippool", "pool1", "pool2"])
        .ok()
        .to_string();
    assert_eq!(out.matches("NAME ").count(), 2, "{out}");
    golden("ippool-two-names.txt", &out);
}

#[test]
fn yaml_single_and_list() {
    let env = env_with_pools();
    golden(
        "ippool-single.yaml",
        &mask(env.run(&["get", "ippool", "pool1", "-o", "yaml"]).ok()),
    );
    let list = env.run(&["get", "ippool", "-o", "yaml"]).ok().to_string();
    assert!(list.contains("kind: IPPoolList\n"), "{list}");
    assert!(
        list.starts_with("apiVersion: projectcalico.org/v3\nitems:\n"),
        "{list}"
    );
    golden("ippool-list.yaml", &mask(&list));
    let yml = env.run(&["get", "ippool", "-o", "yml"]).ok().to_string();
    assert_eq!(mask(&yml), mask(&list));
}

#[test]
fn json_single_and_list() {
    let env = env_with_pools();
    let one = env
        .run(&["get", "ippool", "pool2", "-o", "json"])
        .ok()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["kind"], "IPPool");
    golden("ippool-single.json", &mask(&one));
    let list = env.run(&["get", "ippool", "-o", "json"]).ok().to_string();
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["kind"], "IPPoolList");
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert!(v["metadata"]["resourceVersion"].is_string());
}

#[test]
fn yaml_output_is_valid_input() {
    let env = env_with_pools();
    let list = env.run(&["get", "ippool", "-o", "yaml"]).ok().to_string();
    let two = env
        .run(&["get", "ippool", "pool1", "pool2", "-o", "yaml"])
        .ok()
        .to_string();
    assert!(two.starts_with("- apiVersion:"), "{two}");
    let env2 = Env::new();
    let out = env2.run_file(&["create"], &list);
    assert_eq!(out.ok(), "Successfully created 2 'IPPool' resource(s)\n");
    env2.run(&["delete", "ippool", "pool1", "pool2"]).ok();
    let out = env2.run_file(&["create"], &two);
    assert_eq!(out.ok(), "Successfully created 2 'IPPool' resource(s)\n");
}

#[test]
fn missing_resource() {
    let env = env_with_pools();
    let out = env.run(&["get", "ippool", "nope"]);
    assert_eq!(out.fails(), "resource does not exist: IPPool(nope)\n");
    assert_eq!(out.stdout, "");
    let out = env.run(&["get", "ippool", "pool1", "nope", "-o", "yaml"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("name: pool1"), "{out:?}");
    let out = env.run(&["get", "bogus"]);
    assert_eq!(
        out.fails(),
        "Failed to get resources: resource type 'bogus' is not supported\n"
    );
}

#[test]
fn output_format_errors() {
    let env = env_with_pools();
    let err = env
        .run(&["get", "ippool", "-o", "custom-columns=NAME,BOGUS"])
        .fails()
        .to_string();
    assert_eq!(
        err,
        "Unknown heading BOGUS, valid values are: NAME, CIDR, NAT, IPIPMODE, VXLANMODE, \
         DISABLED, DISABLEBGPEXPORT, SELECTOR, ASSIGNMENTMODE\n"
    );
    let err = env.run(&["get", "ippool", "-o", "xml"]).fails().to_string();
    assert_eq!(err, "unrecognized output format 'xml'\n");
    let err = env
        .run(&["get", "ippool", "-o", "custom-columns="])
        .fails()
        .to_string();
    assert_eq!(err, "need to specify at least one column\n");
}

#[test]
fn export_strips_cluster_fields_only_with_a_name() {
    let env = Env::new();
    env.run_file(&["create"], NETSET).ok();
    let out = env
        .run(&[
            "get",
            "networkset",
            "partners",
            "-n",
            "ns1",
            "-o",
            "yaml",
            "--export",
        ])
        .ok()
        .to_string();
    for field in [
        "uid:",
        "resourceVersion:",
        "creationTimestamp:",
        "namespace:",
    ] {
        assert!(!out.contains(field), "{field} in {out}");
    }
    golden("networkset-export.yaml", &out);
    let list = env
        .run(&["get", "networkset", "-n", "ns1", "-o", "yaml", "--export"])
        .ok()
        .to_string();
    assert!(
        list.contains("uid:") && list.contains("namespace: ns1"),
        "{list}"
    );
}

#[test]
fn namespaces() {
    let env = Env::new();
    env.run_file(&["create"], &docs(&[NETSET, NETSET_DEFAULT_NS]))
        .ok();
    // Default namespace, no NAMESPACE column.
    golden(
        "networkset-default-ns.txt",
        env.run(&["get", "netsets"]).ok(),
    );
    // -n adds the column, -A lists everything.
    golden(
        "networkset-ns1.txt",
        env.run(&["get", "networkset", "-n", "ns1", "-o", "wide"])
            .ok(),
    );
    golden(
        "networkset-all.txt",
        env.run(&["get", "networksets", "-A"]).ok(),
    );
    assert_eq!(
        env.run(&["get", "networksets", "-a"]).ok(),
        env.run(&["get", "networksets", "-A"]).ok()
    );
    let err = env.run(&["get", "ippool", "-n", "ns1"]).fails().to_string();
    assert_eq!(err, "IPPool is not namespaced\n");
    let err = env
        .run(&["get", "networkset", "partners", "-A"])
        .fails()
        .to_string();
    assert_eq!(
        err,
        "cannot use --all-namespace flag for getting a single resource\n"
    );
    // A namespaced resource named without -n is looked up in "default".
    env.run(&["get", "networkset", "internal"]).ok();
    env.run(&["get", "networkset", "partners"]).fails();
    env.run(&["delete", "networkset", "partners", "-n", "ns1"])
        .ok();
}

#[test]
fn tiers_sorted_by_order_with_go_floats() {
    let env = Env::new();
    env.run_file(&["create"], TIER).ok();
    golden("tier-ps.txt", env.run(&["get", "tiers"]).ok());
}

#[test]
fn global_network_set_and_cluster_information() {
    let env = Env::new();
    env.run_file(&["create"], GNS).ok();
    golden(
        "globalnetworkset-wide.txt",
        env.run(&["get", "gnetsets", "-o", "wide"]).ok(),
    );
    golden(
        "globalnetworkset.yaml",
        &mask(
            env.run(&["get", "globalnetworkset", "blocked", "-o", "yaml"])
                .ok(),
        ),
    );
    // ClusterInformation is created on first use.
    let ci = env
        .run(&["get", "clusterinformation", "default", "-o", "yaml"])
        .ok()
        .to_string();
    golden("clusterinformation.yaml", &mask(&ci));
    let table = env
        .run(&[
            "get",
            "clusterinfo",
            "-o",
            "custom-columns=NAME,CLUSTERTYPE,DATASTOREREADY",
        ])
        .ok()
        .to_string();
    golden("clusterinformation-custom.txt", &table);
}

#[test]
fn get_by_file_and_stdin() {
    let env = env_with_pools();
    let f = env.write("p.yaml", POOL2);
    let out = env
        .run(&[
            "get",
            "-f",
            f.to_str().unwrap(),
            "-o",
            "custom-columns=NAME",
        ])
        .ok()
        .to_string();
    assert_eq!(out, "NAME    \npool2   \n\n");
    let out = env.run_stdin(&["get", "-f", "-", "-o", "custom-columns=NAME"], POOL1);
    assert_eq!(out.ok(), "NAME    \npool1   \n\n");
}

const CLUSTER: &str = "apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: security.allow-dns
  namespace: ns1
spec:
  tier: security
  order: 10
  selector: app == 'web'
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-all
spec:
  selector: all()
  types: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: ns1
spec:
  podSelector:
    matchLabels:
      app: web
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node--a-k8s-web--1-eth0
  namespace: ns1
spec:
  node: node-a
  orchestrator: k8s
  pod: web-1
  endpoint: eth0
  interfaceName: cali1234
  ipNetworks: [10.1.2.3/32, fd00::3/128]
  profiles: [kns.ns1, ksa.ns1.default]
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-a
spec:
  bgp:
    ipv4Address: 192.168.1.10/24
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rr
spec:
  peerIP: 192.168.1.1
  asNumber: 64513
";

#[test]
fn policy_endpoint_and_bgp_tables() {
    let env = Env::new();
    env.run_file(&["create"], CLUSTER).ok();
    let mut all = String::new();
    for args in [
        &["get", "networkpolicy", "-A", "-o", "wide"][..],
        &["get", "gnp", "-o", "wide"],
        &["get", "knp", "-n", "ns1", "-o", "wide"],
        &["get", "wep", "-n", "ns1"],
        &["get", "weps", "-A", "-o", "wide"],
        &["get", "nodes", "-o", "wide"],
        &["get", "bgppeers"],
    ] {
        all.push_str(&format!("$ calicoctl {}\n", args.join(" ")));
        all.push_str(env.run(args).ok());
    }
    golden("tables.txt", &all);
    golden(
        "networkpolicy.yaml",
        &mask(
            env.run(&["get", "np", "security.allow-dns", "-n", "ns1", "-o", "yaml"])
                .ok(),
        ),
    );
}
