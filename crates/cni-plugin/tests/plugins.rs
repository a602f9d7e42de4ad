//! The plugin binaries against the real kernel, in namespaces of their own: ADD/CHECK/DEL,
//! traffic between two pods, every bad input's error code with nothing left behind, the
//! calico-ipam binary, Debian's host-local IPAM, GC, and concurrent ADDs.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use calico_linux::{MacAddr, NetOps, Route};
use common::*;
use serde_json::json;

const K8S: &str = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=";

#[test]
fn add_check_del_and_traffic_between_pods() {
    let lab = Lab::new("10.244.0.0/16");
    let pods = [netns("pod"), netns("pod")];
    let conf = lab.conf("0.3.1", json!({})).to_string();
    let mut ips = Vec::new();
    for (i, p) in pods.iter().enumerate() {
        let (out, ok) = lab.run(
            calico_bin(),
            &cni_env("ADD", &format!("c{i}"), p.path(), &format!("{K8S}web-{i}")),
            conf.as_bytes(),
        );
        assert!(ok, "ADD failed: {out}");
        assert_eq!(out["cniVersion"], "0.3.1");
        assert_eq!(out["ips"][0]["version"], "4");
        let ip: ipnet::IpNet = out["ips"][0]["address"].as_str().unwrap().parse().unwrap();
        assert_eq!(ip.prefix_len(), 32);
        let host_if = out["interfaces"][0]["name"].as_str().unwrap().to_string();
        assert_eq!(
            host_if,
            calico_cni::names::veth_name_for_workload("ns1", &format!("web-{i}"), None)
        );
        let link = lab.kernel.link(lab.node.path(), &host_if).unwrap().unwrap();
        assert_eq!(link.mac, Some(MacAddr::CALICO_HOST));
        assert_eq!(link.mtu, Some(1410));
        assert!(
            lab.kernel
                .routes(lab.node.path())
                .unwrap()
                .contains(&Route::link(ip, &host_if))
        );
        assert_eq!(
            lab.kernel
                .sysctl(
                    lab.node.path(),
                    &format!("net/ipv4/conf/{host_if}/proxy_arp")
                )
                .unwrap(),
            "1"
        );
        ips.push(ip.addr().to_string());
    }
    assert_ne!(ips[0], ips[1]);
    assert!(ping(&pods[0], &ips[1]), "pod 0 cannot reach pod 1");
    assert!(ping(&pods[1], &ips[0]), "pod 1 cannot reach pod 0");
    assert!(ping(&pods[0], "10.99.0.1"), "pod 0 cannot reach the node");
    assert_eq!(lab.weps().len(), 2);
    assert_eq!(lab.allocations().len(), 2);

    // CHECK (1.0.0 config) passes, then reports what is gone.
    let mut c = lab.conf("1.0.0", json!({}));
    c["prevResult"] = json!({"cniVersion":"1.0.0","ips":[{"address": format!("{}/32", ips[0])}]});
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("CHECK", "c0", pods[0].path(), &format!("{K8S}web-0")),
        c.to_string().as_bytes(),
    );
    assert!(ok, "CHECK: {out}");
    lab.kernel
        .delete_route(
            pods[0].path(),
            &Route::via(
                "0.0.0.0/0".parse().unwrap(),
                "169.254.1.1".parse().unwrap(),
                "eth0",
            ),
        )
        .unwrap();
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("CHECK", "c0", pods[0].path(), &format!("{K8S}web-0")),
        c.to_string().as_bytes(),
    );
    assert!(!ok);
    assert!(
        out["msg"]
            .as_str()
            .unwrap()
            .contains("0.0.0.0/0 via 169.254.1.1"),
        "{out}"
    );

    for (i, p) in pods.iter().enumerate() {
        for _ in 0..2 {
            let (out, ok) = lab.run(
                calico_bin(),
                &cni_env("DEL", &format!("c{i}"), p.path(), &format!("{K8S}web-{i}")),
                conf.as_bytes(),
            );
            assert!(ok, "DEL: {out}");
        }
    }
    lab.kernel.release(pods[0].path());
    lab.kernel.release(pods[1].path());
    lab.assert_clean();
    // DEL with the namespace gone is fine too.
    let gone = pods[0].path().to_path_buf();
    drop(pods);
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("DEL", "c0", &gone, &format!("{K8S}web-0")),
        conf.as_bytes(),
    );
    assert!(ok, "DEL without netns: {out}");
}

fn expect_error(lab: &Lab, env: &[(&str, String)], stdin: &[u8], code: u64, msg_part: &str) {
    let (out, ok) = lab.run(calico_bin(), env, stdin);
    assert!(!ok, "expected failure, got {out}");
    assert_eq!(out["code"], code, "{out}");
    assert!(
        out["msg"].as_str().unwrap_or_default().contains(msg_part),
        "{out}"
    );
    assert!(out.get("cniVersion").is_some(), "{out}");
    lab.assert_clean();
}

#[test]
fn bad_input_gives_spec_codes_and_leaves_nothing() {
    let lab = Lab::new("10.244.0.0/16");
    let pod = netns("pod");
    let good = lab.conf("1.0.0", json!({})).to_string();
    let env = cni_env("ADD", "c1", pod.path(), &format!("{K8S}web-1"));
    expect_error(&lab, &env, b"", 6, "empty");
    expect_error(&lab, &env, b"{not json", 6, "not valid JSON");
    let drop_var = |k: &str| {
        env.iter()
            .filter(|(n, _)| *n != k)
            .cloned()
            .collect::<Vec<_>>()
    };
    expect_error(
        &lab,
        &drop_var("CNI_COMMAND"),
        good.as_bytes(),
        4,
        "CNI_COMMAND",
    );
    expect_error(
        &lab,
        &drop_var("CNI_CONTAINERID"),
        good.as_bytes(),
        4,
        "CNI_CONTAINERID",
    );
    expect_error(
        &lab,
        &drop_var("CNI_NETNS"),
        good.as_bytes(),
        4,
        "CNI_NETNS",
    );
    let mut e = env.clone();
    e[2].1 = "/run/netns/cnipt-does-not-exist".into();
    expect_error(&lab, &e, good.as_bytes(), 4, "does not exist");
    let mut e = env.clone();
    e[3].1 = "eth0123456789abc".into();
    expect_error(&lab, &e, good.as_bytes(), 4, "longer than 15");
    expect_error(
        &lab,
        &env,
        lab.conf("2.0.0", json!({})).to_string().as_bytes(),
        1,
        "incompatible CNI versions",
    );
    // A datastore that cannot be reached: etcd on a port nothing listens on.
    let etcd = lab.conf(
        "1.0.0",
        json!({"datastore_type": "etcdv3", "etcd_endpoints": "http://127.0.0.1:9"}),
    );
    expect_error(&lab, &env, etcd.to_string().as_bytes(), 11, "unreachable");
    // Nothing got made in the pod either.
    let links: Vec<String> = lab
        .kernel
        .links(pod.path())
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(links, vec!["lo".to_string()]);
}

#[test]
fn exhausted_pool_is_code_100_and_leaves_the_failed_pod_clean() {
    let lab = Lab::new("10.244.0.0/30");
    let conf = lab.conf("1.0.0", json!({})).to_string();
    let pods: Vec<_> = (0..5).map(|_| netns("pod")).collect();
    let mut failed = None;
    for (i, p) in pods.iter().enumerate() {
        let (out, ok) = lab.run(
            calico_bin(),
            &cni_env("ADD", &format!("c{i}"), p.path(), &format!("{K8S}p{i}")),
            conf.as_bytes(),
        );
        if !ok {
            assert_eq!(out["code"], 100, "{out}");
            failed = Some(i);
            break;
        }
    }
    let i = failed.expect("a /30 pool ran out");
    assert_eq!(i, 4, "a /30 block holds 4 addresses");
    assert_eq!(lab.weps().len(), 4);
    assert_eq!(lab.allocations().len(), 4);
    assert_eq!(lab.node_links().len(), 4);
    let links: Vec<String> = lab
        .kernel
        .links(pods[i].path())
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(links, vec!["lo".to_string()]);
    for (j, p) in pods.iter().enumerate().take(i) {
        let (out, ok) = lab.run(
            calico_bin(),
            &cni_env("DEL", &format!("c{j}"), p.path(), &format!("{K8S}p{j}")),
            conf.as_bytes(),
        );
        assert!(ok, "{out}");
    }
    lab.assert_clean();
}

#[test]
fn calico_ipam_binary_and_gc() {
    let lab = Lab::new("10.244.0.0/16");
    let conf = lab.conf("1.1.0", json!({}));
    let pod = netns("pod");
    let mut got = Vec::new();
    for cid in ["a1", "a2", "a3"] {
        let (out, ok) = lab.run(
            ipam_bin(),
            &cni_env("ADD", cid, pod.path(), ""),
            conf.to_string().as_bytes(),
        );
        assert!(ok, "{out}");
        let ip: ipnet::IpNet = out["ips"][0]["address"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            ip.prefix_len(),
            26,
            "calico-ipam returns the block's prefix"
        );
        got.push(ip.addr());
    }
    let handles: BTreeSet<String> = lab.allocations().into_iter().map(|(h, _)| h).collect();
    assert_eq!(
        handles,
        [
            "k8s-pod-network.a1",
            "k8s-pod-network.a2",
            "k8s-pod-network.a3"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    // A specific address through the IP arg.
    let (out, ok) = lab.run(
        ipam_bin(),
        &cni_env("ADD", "fixed", pod.path(), "IP=10.244.7.7"),
        conf.to_string().as_bytes(),
    );
    assert!(ok, "{out}");
    assert_eq!(
        out["ips"][0]["address"].as_str().unwrap().split('/').next(),
        Some("10.244.7.7")
    );
    // STATUS, then GC keeping only a2.
    let (out, ok) = lab.run(
        ipam_bin(),
        &[("CNI_COMMAND", "STATUS".to_string())],
        conf.to_string().as_bytes(),
    );
    assert!(ok, "{out}");
    let mut gc = conf.clone();
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "a2", "ifname": "eth0"}]);
    let (out, ok) = lab.run(
        calico_bin(),
        &[("CNI_COMMAND", "GC".to_string())],
        gc.to_string().as_bytes(),
    );
    assert!(ok, "{out}");
    let left: Vec<String> = lab.allocations().into_iter().map(|(h, _)| h).collect();
    assert_eq!(left, vec!["k8s-pod-network.a2".to_string()]);
    let (out, ok) = lab.run(
        ipam_bin(),
        &cni_env("DEL", "a2", pod.path(), ""),
        conf.to_string().as_bytes(),
    );
    assert!(ok, "{out}");
    let (_, ok) = lab.run(
        ipam_bin(),
        &cni_env("DEL", "a2", pod.path(), ""),
        conf.to_string().as_bytes(),
    );
    assert!(ok, "DEL is idempotent");
    lab.assert_clean();
    // STATUS with an unreachable datastore.
    let bad = lab.conf(
        "1.1.0",
        json!({"datastore_type": "etcdv3", "etcd_endpoints": "http://127.0.0.1:9"}),
    );
    let (out, ok) = lab.run(
        calico_bin(),
        &[("CNI_COMMAND", "STATUS".to_string())],
        bad.to_string().as_bytes(),
    );
    assert!(!ok);
    assert_eq!(out["code"], 50, "{out}");
}

#[test]
fn host_local_ipam() {
    let lab = Lab::new("10.244.0.0/16");
    let data = lab.dir.path().join("host-local");
    let conf = lab.conf(
        "0.4.0",
        json!({"ipam": {"type": "host-local", "subnet": "10.88.0.0/24",
        "dataDir": data.display().to_string()}}),
    );
    let pod = netns("pod");
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("ADD", "h1", pod.path(), &format!("{K8S}hl")),
        conf.to_string().as_bytes(),
    );
    assert!(ok, "{out}");
    let ip: ipnet::IpNet = out["ips"][0]["address"].as_str().unwrap().parse().unwrap();
    assert!(
        "10.88.0.0/24"
            .parse::<ipnet::IpNet>()
            .unwrap()
            .contains(&ip.addr()),
        "{out}"
    );
    assert_eq!(ip.prefix_len(), 32);
    assert!(
        data.join("k8s-pod-network")
            .join(ip.addr().to_string())
            .exists()
    );
    assert!(ping(&pod, "10.99.0.1"));
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("DEL", "h1", pod.path(), &format!("{K8S}hl")),
        conf.to_string().as_bytes(),
    );
    assert!(ok, "{out}");
    assert!(
        !data
            .join("k8s-pod-network")
            .join(ip.addr().to_string())
            .exists()
    );
    lab.kernel.release(pod.path());
    lab.assert_clean();
}

#[test]
fn concurrent_adds_get_distinct_addresses() {
    let lab = Lab::new("10.244.0.0/16");
    let conf = lab.conf("1.0.0", json!({})).to_string();
    let pods: Vec<_> = (0..20).map(|_| netns("pod")).collect();
    let outs: Vec<(serde_json::Value, bool)> = std::thread::scope(|s| {
        let hs: Vec<_> = pods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (lab, conf) = (&lab, &conf);
                s.spawn(move || {
                    lab.run(
                        calico_bin(),
                        &cni_env("ADD", &format!("k{i}"), p.path(), &format!("{K8S}w{i}")),
                        conf.as_bytes(),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ips = BTreeSet::new();
    for (out, ok) in &outs {
        assert!(ok, "{out}");
        ips.insert(out["ips"][0]["address"].as_str().unwrap().to_string());
    }
    assert_eq!(ips.len(), 20, "duplicate addresses: {outs:?}");
    assert_eq!(lab.weps().len(), 20);
    for (i, p) in pods.iter().enumerate() {
        let (out, ok) = lab.run(
            calico_bin(),
            &cni_env("DEL", &format!("k{i}"), p.path(), &format!("{K8S}w{i}")),
            conf.as_bytes(),
        );
        assert!(ok, "{out}");
    }
    lab.assert_clean();
}

#[test]
fn dual_stack_add_and_del() {
    let lab = Lab::new("10.244.0.0/16");
    lab.client
        .create(doc(
            json!({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
            "metadata":{"name":"pool6"},"spec":{"cidr":"fd00:10::/112"}}),
        ))
        .unwrap();
    let n = lab.node.path();
    lab.kernel
        .add_address(n, "lo", "fd00:99::1/128".parse().unwrap())
        .unwrap();
    let conf = lab
        .conf(
            "1.0.0",
            json!({"ipam": {"type": "calico-ipam", "assign_ipv6": "true"}}),
        )
        .to_string();
    let pod = netns("pod");
    let env = cni_env("ADD", "d1", pod.path(), &format!("{K8S}dual"));
    let (out, ok) = lab.run(calico_bin(), &env, conf.as_bytes());
    assert!(ok, "{out}");
    let ips: Vec<ipnet::IpNet> = out["ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["address"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ips.len(), 2, "{out}");
    let v6 = ips.iter().find(|i| i.addr().is_ipv6()).unwrap();
    assert_eq!(v6.prefix_len(), 128);
    assert!(
        "fd00:10::/112"
            .parse::<ipnet::IpNet>()
            .unwrap()
            .contains(&v6.addr())
    );
    let routes = lab.kernel.routes(pod.path()).unwrap();
    let want = Route {
        dst: "::/0".parse().unwrap(),
        gateway: Some("fe80::ecee:eeff:feee:eeee".parse().unwrap()),
        dev: "eth0".into(),
        scope: calico_linux::RouteScope::Universe,
    };
    assert!(routes.contains(&want), "{routes:?}");
    let host_if = out["interfaces"][0]["name"].as_str().unwrap().to_string();
    assert!(
        lab.kernel
            .routes(n)
            .unwrap()
            .contains(&Route::link(*v6, &host_if))
    );
    assert_eq!(
        lab.kernel
            .sysctl(n, &format!("net/ipv6/conf/{host_if}/proxy_ndp"))
            .unwrap(),
        "1"
    );
    assert!(
        ping(&pod, "fd00:99::1"),
        "pod cannot reach the node over IPv6"
    );
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("DEL", "d1", pod.path(), &format!("{K8S}dual")),
        conf.as_bytes(),
    );
    assert!(ok, "{out}");
    lab.kernel.release(pod.path());
    lab.assert_clean();
}

#[test]
fn second_add_into_a_used_namespace_fails_and_keeps_the_first() {
    let lab = Lab::new("10.244.0.0/16");
    let conf = lab.conf("1.0.0", json!({})).to_string();
    let pod = netns("pod");
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("ADD", "first", pod.path(), &format!("{K8S}a")),
        conf.as_bytes(),
    );
    assert!(ok, "{out}");
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("ADD", "second", pod.path(), &format!("{K8S}b")),
        conf.as_bytes(),
    );
    assert!(!ok);
    assert_eq!(out["code"], 4, "{out}");
    assert!(
        out["msg"].as_str().unwrap().contains("already exists"),
        "{out}"
    );
    // The first workload is untouched, the second left nothing.
    assert!(lab.kernel.link(pod.path(), "eth0").unwrap().is_some());
    assert_eq!(lab.node_links().len(), 1);
    assert_eq!(lab.weps().len(), 1);
    let held: Vec<String> = lab.allocations().into_iter().map(|(h, _)| h).collect();
    assert_eq!(held, vec!["k8s-pod-network.first".to_string()]);
    let (out, ok) = lab.run(
        calico_bin(),
        &cni_env("DEL", "first", pod.path(), &format!("{K8S}a")),
        conf.as_bytes(),
    );
    assert!(ok, "{out}");
    lab.kernel.release(pod.path());
    lab.assert_clean();
}
