//! `calicoctl ipam show | check | release | configure`, run as a binary against a private
//! embedded store; tables and reports compared with golden files (`UPDATE_GOLDENS=1` to
//! regenerate; run-dependent report values are masked).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ipam_support;

use std::net::IpAddr;

use calico_client::ipam_store::ClientIpam;
use calico_ipam::{AssignIpArgs, AutoAssignArgs, Handle, IpamStore, Record, cni_handle};
use common::{Env, golden};
use ipam_support::{
    Store, alloc, delete_node, mask_report, node, pod_attrs, pool, report_leaked_handles,
    report_leaks, res, wep,
};
use serde_json::json;

fn store(env: &Env) -> Store {
    Store::Embedded(env.db.clone())
}

fn ipam(env: &Env) -> ClientIpam {
    ClientIpam::new(store(env).client())
}

/// Calico's fv scenario: a v4 and a v6 pool, a /29 pool, a reservation, allocations.
fn utilization_cluster(env: &Env) -> ClientIpam {
    let ipam = ipam(env);
    let c = ipam.client();
    pool(c, "ipam-test-v4", "10.65.0.0/16", None);
    pool(c, "ipam-test-v6", "fd5f:abcd:64::/48", None);
    pool(c, "ipam-test-v4-b29", "10.66.0.0/16", Some(29));
    node(c, "node-1");
    c.create(res(json!({"apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
        "metadata": {"name": "r1"}, "spec": {"reservedCIDRs": ["10.65.255.0/24", "10.65.255.128/25"]}})))
        .unwrap();
    let mut a = AutoAssignArgs::new("ipam-test", "node-1");
    a.num4 = 5;
    a.num6 = 7;
    a.ipv4_pools = vec!["10.65.0.0/16".into()];
    a.attrs
        .insert("note".into(), "reserved by ipam_test".into());
    ipam.auto_assign(a).unwrap();
    let mut b = AutoAssignArgs::new("ipam-test-b29", "node-1");
    b.num4 = 11;
    b.ipv4_pools = vec!["10.66.0.0/16".into()];
    ipam.auto_assign(b).unwrap();
    ipam
}

#[test]
fn show_tables() {
    let env = Env::new();
    let out = env.run(&["ipam", "show"]).ok().to_string();
    assert!(out.contains("| GROUPING | CIDR | IPS TOTAL | IPS IN USE | IPS RESERVED | IPS FREE |"));
    utilization_cluster(&env);
    let pools = env.run(&["ipam", "show"]).ok().to_string();
    // 256 reserved (two overlapping reservations), 5 in use.
    assert!(
        pools.contains(" 5 (0%) |") && pools.contains(" 256 (0%) |"),
        "{pools}"
    );
    assert!(pools.contains(" 65275 (100%) |"), "{pools}");
    golden("ipam-show.txt", &pools);
    let blocks = env.run(&["ipam", "show", "--show-blocks"]).ok().to_string();
    assert!(
        blocks.contains("5 (8%)") && blocks.contains("59 (92%)"),
        "{blocks}"
    );
    assert!(
        blocks
            .lines()
            .any(|l| l.contains("Block") && l.contains("10.66") && l.contains("8 (100%)")),
        "{blocks}"
    );
    golden("ipam-show-blocks.txt", &blocks);
}

#[test]
fn show_ip() {
    let env = Env::new();
    let ipam = utilization_cluster(&env);
    let ip = ipam.engine().ips_by_handle("ipam-test").unwrap()[0];
    let out = env
        .run(&["ipam", "show", &format!("--ip={ip}")])
        .ok()
        .to_string();
    assert_eq!(
        out,
        format!(
            "IP {ip} is in use\nHandle ID: ipam-test\nActive Owner Attributes:\n  note: reserved by ipam_test\n"
        )
    );
    let b29 = ipam.engine().ips_by_handle("ipam-test-b29").unwrap()[0];
    let out = env
        .run(&["ipam", "show", "--ip", &b29.to_string()])
        .ok()
        .to_string();
    assert!(
        out.ends_with("Handle ID: ipam-test-b29\nNo Active Owner attributes defined\n"),
        "{out}"
    );
    assert_eq!(
        env.run(&["ipam", "show", "--ip=10.65.255.2"]).ok(),
        "10.65.255.2 is not assigned\n"
    );
    let err = env
        .run(&["ipam", "show", "--ip=10.240.0.300"])
        .fails()
        .to_string();
    assert!(
        err.contains("invalid IP address specified: 10.240.0.300"),
        "{err}"
    );
    // Calico's usage: one of --ip, --show-blocks, --show-borrowed, --show-configuration.
    env.run(&["ipam", "show", "--ip=10.0.0.1", "--show-blocks"])
        .fails();
}

#[test]
fn show_borrowed() {
    let env = Env::new();
    let ipam = ipam(&env);
    let c = ipam.client();
    pool(c, "p", "10.80.0.0/24", Some(28));
    node(c, "host-a");
    node(c, "host-b");
    let own = alloc(
        &ipam,
        &cni_handle("a1"),
        "host-a",
        pod_attrs("ns", "a1", "host-a"),
    );
    // Allocated in host-a's block for a pod on host-b.
    let ip = IpAddr::V4(match own {
        IpAddr::V4(v) => std::net::Ipv4Addr::from(u32::from(v) + 1),
        IpAddr::V6(_) => unreachable!(),
    });
    ipam.assign_ip(&AssignIpArgs {
        address: ip,
        handle_id: cni_handle("b1"),
        attrs: pod_attrs("ns", "b1", "host-b"),
        hostname: "host-a".into(),
        intended_use: None,
    })
    .unwrap();
    alloc(&ipam, "lb-1", "host-a", Default::default());
    golden(
        "ipam-show-borrowed.txt",
        env.run(&["ipam", "show", "--show-borrowed"]).ok(),
    );
}

#[test]
fn configure_and_show_configuration() {
    let env = Env::new();
    golden(
        "ipam-show-configuration.txt",
        env.run(&["ipam", "show", "--show-configuration"]).ok(),
    );
    let err = env.run(&["ipam", "configure"]).fails().to_string();
    assert!(
        err.contains("at least one configuration option must be specified"),
        "{err}"
    );
    let err = env
        .run(&["ipam", "configure", "--strictaffinity=maybe"])
        .fails()
        .to_string();
    assert!(
        err.contains("invalid value. Use true or false to set strictaffinity"),
        "{err}"
    );
    let err = env
        .run(&["ipam", "configure", "--max-blocks-per-host=lots"])
        .fails()
        .to_string();
    assert!(
        err.contains("invalid value for maxblockhost. Use a valid number"),
        "{err}"
    );
    let err = env
        .run(&["ipam", "configure", "--max-blocks-per-host=-3"])
        .fails()
        .to_string();
    assert!(err.contains("-3 is not between 0 and 1000000"), "{err}");
    let err = env
        .run(&["ipam", "configure", "--max-blocks-per-host=4"])
        .fails()
        .to_string();
    assert!(
        err.contains("error: MaxBlocksPerHost requires StrictAffinity to be enabled"),
        "{err}"
    );

    assert_eq!(
        env.run(&["ipam", "configure", "--strictaffinity=true"])
            .ok(),
        "Successfully set StrictAffinity to: true\n"
    );
    assert_eq!(
        env.run(&["ipam", "configure", "--maxblocksperhost=4"]).ok(),
        "Successfully set MaxBlocksPerHost to: 4\n"
    );
    let out = env
        .run(&["ipam", "show", "--show-configuration"])
        .ok()
        .to_string();
    assert!(out.contains("| StrictAffinity     | true  |"), "{out}");
    assert!(out.contains("| MaxBlocksPerHost   | 4     |"), "{out}");
    let err = env
        .run(&["ipam", "configure", "--strictaffinity=false"])
        .fails()
        .to_string();
    assert!(
        err.contains("MaxBlocksPerHost requires StrictAffinity"),
        "{err}"
    );
    assert_eq!(
        env.run(&[
            "ipam",
            "configure",
            "--strictaffinity=F",
            "--max-blocks-per-host",
            "0"
        ])
        .ok(),
        "Successfully set StrictAffinity to: false\nSuccessfully set MaxBlocksPerHost to: 0\n"
    );
    let cfg = ipam(&env).config().unwrap();
    assert!(!cfg.strict_affinity);
    assert_eq!(cfg.max_blocks_per_host, 0);
}

/// A cluster with one of each kind of finding. Returns the leaked address of a pod whose
/// endpoint will reappear, and the other leaked address.
fn troubled_cluster(env: &Env) -> (ClientIpam, IpAddr, IpAddr) {
    let ipam = ipam(env);
    let c = ipam.client();
    pool(c, "p", "10.70.0.0/24", Some(28));
    for n in ["node-1", "node-2", "node-3"] {
        node(c, n);
    }
    let live = alloc(
        &ipam,
        &cni_handle("c-live"),
        "node-1",
        pod_attrs("default", "live", "node-1"),
    );
    wep(c, "node-1", "default", "live", "c-live", &[live]);
    let gone = alloc(
        &ipam,
        &cni_handle("c-gone"),
        "node-1",
        pod_attrs("default", "gone", "node-1"),
    );
    alloc(&ipam, "lb-1234", "node-1", Default::default());
    let mut tunnel = AutoAssignArgs::new("ipip-tunnel-addr-node-2", "node-2");
    tunnel.intended_use = calico_ipam::IntendedUse::Tunnel;
    ipam.auto_assign(tunnel).unwrap();
    // Endpoints using addresses IPAM did not give them.
    wep(
        c,
        "node-2",
        "default",
        "stray",
        "c-stray",
        &["10.70.0.200".parse().unwrap()],
    );
    wep(
        c,
        "node-2",
        "default",
        "outside",
        "c-outside",
        &["192.168.5.5".parse().unwrap()],
    );
    // A handle record left by an interrupted allocation.
    let mut h = Handle::new(cni_handle("c-half"));
    h.block.insert("10.70.0.0/28".parse().unwrap(), 1);
    ipam.engine().store().create(&Record::Handle(h)).unwrap();
    // A node deleted with its block and a pod's address.
    let orphan = alloc(
        &ipam,
        &cni_handle("c3"),
        "node-3",
        pod_attrs("default", "p3", "node-3"),
    );
    delete_node(c, "node-3");
    (ipam, gone, orphan)
}

#[test]
fn check_reports_each_kind_of_problem() {
    let env = Env::new();
    let (_ipam, gone, orphan) = troubled_cluster(&env);
    let out = env
        .run(&["ipam", "check", "--show-problem-ips", "-o", "report.json"])
        .ok()
        .to_string();
    golden("ipam-check.txt", &out);
    assert!(
        out.ends_with("Check complete; found 6 problems.\n"),
        "{out}"
    );
    let report = std::fs::read_to_string(env.path("report.json")).unwrap();
    golden("ipam-check-report.json", &mask_report(&report));
    assert_eq!(report_leaks(&report), [gone, orphan].into_iter().collect());
    assert_eq!(
        report_leaked_handles(&report),
        [cni_handle("c-half")].into_iter().collect()
    );
    let plain = env.run(&["ipam", "check"]).ok().to_string();
    assert!(!plain.contains(" leaked; attrs "));
    assert!(plain.ends_with("Check complete; found 6 problems.\n"));
}

#[test]
fn release_from_report_revalidates_everything() {
    let env = Env::new();
    let (ipam, gone, orphan) = troubled_cluster(&env);
    env.run(&["ipam", "check", "-o", "report.json"]).ok();
    // The pod of `gone` comes back (its endpoint is written late) before the release.
    wep(
        ipam.client(),
        "node-1",
        "default",
        "gone",
        "c-gone",
        &[gone],
    );
    let out = env
        .run(&["ipam", "release", "--from-report=report.json"])
        .ok()
        .to_string();
    assert_eq!(
        out,
        format!(
            "Releasing 2 old IPs...\n  \
             Skipped {gone} (handle k8s-pod-network.c-gone): Workload(default/node--1-k8s-gone-eth0) now owns it\n  \
             Released {orphan} (handle k8s-pod-network.c3)\n\
             Released 1 IPs successfully\n\
             Skipped 1 addresses that are no longer leaked or changed since the report.\n\
             Deleting 1 handles...\n\
             Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n\
             .\n\
             Released 1 handles; 0 skipped; 0 errors.\n"
        )
    );
    assert!(ipam.get_assignment_attributes(gone).unwrap().is_some());
    assert!(ipam.get_assignment_attributes(orphan).unwrap().is_none());
    // What is left is what a release cannot fix: the endpoints' unallocated addresses and the
    // block of the deleted node.
    let out = env.run(&["ipam", "check"]).ok().to_string();
    assert!(out.contains("Found 0 IPs that are allocated in IPAM but not actually in use."));
    assert!(out.contains("Found 0 handles with no matching IPs"));
    assert!(
        out.ends_with("Check complete; found 3 problems.\n"),
        "{out}"
    );
    // The same report again: everything it names is gone or owned now.
    let out = env
        .run(&["ipam", "release", "--from-report=report.json"])
        .ok()
        .to_string();
    assert!(out.contains("Released 0 IPs successfully\n1 addresses marked as leaked in the report had already been cleaned up."), "{out}");
    assert!(
        out.contains("Released 0 handles; 1 skipped; 0 errors."),
        "{out}"
    );
    assert!(
        out.contains("Handle k8s-pod-network.c-half: the handle no longer exists"),
        "{out}"
    );
}

#[test]
fn release_from_report_refuses_foreign_or_stale_reports() {
    let env = Env::new();
    let (ipam, _gone, orphan) = troubled_cluster(&env);
    env.run(&["ipam", "check", "-o", "report.json"]).ok();
    let text = std::fs::read_to_string(env.path("report.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut w = v.clone();
        f(&mut w);
        env.write("edited.json", &serde_json::to_string(&w).unwrap());
    };
    edit(&|w| w["clusterGUID"] = json!("0123456789abcdef"));
    let err = env
        .run(&["ipam", "release", "--from-report=edited.json"])
        .fails()
        .to_string();
    assert!(
        err.contains("mismatched cluster GUID. Refusing to release"),
        "{err}"
    );
    assert!(err.contains("--force") || !err.is_empty());
    let err = env
        .run(&["ipam", "release", "--from-report=edited.json", "--force"])
        .fails()
        .to_string();
    assert!(
        err.contains("mismatched cluster GUID"),
        "--force never overrides the GUID"
    );
    edit(&|w| w["clusterInformationRevision"] = json!("1"));
    let err = env
        .run(&["ipam", "release", "--from-report=edited.json"])
        .fails()
        .to_string();
    assert!(err.contains("the provided reports are all stale"), "{err}");
    edit(&|w| w["version"] = json!("v0.0.1"));
    let err = env
        .run(&["ipam", "release", "--from-report=edited.json"])
        .fails()
        .to_string();
    assert!(
        err.contains("was produced using a different version (v0.0.1)"),
        "{err}"
    );
    assert!(
        ipam.get_assignment_attributes(orphan).unwrap().is_some(),
        "nothing released"
    );
    let out = env
        .run(&["ipam", "release", "--from-report=edited.json", "--force"])
        .ok()
        .to_string();
    assert!(out.starts_with("WARNING: Report was produced using a different version"));
    assert!(out.contains(&format!("Released {orphan} (handle")), "{out}");
    // Two reports: only what both name. A report without the orphan releases nothing.
    v["allocations"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| k != &orphan.to_string());
    env.write("other.json", &serde_json::to_string(&v).unwrap());
    let out = env
        .run(&[
            "ipam",
            "release",
            "--from-report=report.json",
            "--from-report=other.json",
        ])
        .ok()
        .to_string();
    assert!(!out.contains(&orphan.to_string()), "{out}");
}

#[test]
fn release_one_address() {
    let env = Env::new();
    let ipam = utilization_cluster(&env);
    let ip = ipam.engine().ips_by_handle("ipam-test").unwrap()[0];
    assert_eq!(
        env.run(&["ipam", "release", &format!("--ip={ip}")]).ok(),
        format!("Successfully released IP address {ip}\n")
    );
    let err = env
        .run(&["ipam", "release", &format!("--ip={ip}")])
        .fails()
        .to_string();
    assert_eq!(err, format!("IP address {ip} is not assigned\n"));
    let err = env
        .run(&["ipam", "release", "--ip=nope"])
        .fails()
        .to_string();
    assert!(err.contains("invalid IP address specified: nope"));
    env.run(&["ipam", "release"]).fails();
}

#[test]
fn check_on_an_empty_cluster_is_clean() {
    let env = Env::new();
    let out = env.run(&["ipam", "check"]).ok().to_string();
    assert!(out.starts_with(
        "Checking IPAM for inconsistencies...\n\nLoading all IPAM blocks...\nFound 0 IPAM blocks.\n"
    ));
    assert!(out.ends_with("Check complete; found 0 problems.\n"));
}

#[test]
fn configure_changes_only_its_fields() {
    let env = Env::new();
    env.run_file(
        &["apply"],
        "apiVersion: projectcalico.org/v3
kind: IPAMConfiguration
metadata:
  name: default
  labels:
    team: net
spec:
  kubeVirtVMAddressPersistence: Disabled
  ipCooldownSeconds: 30
",
    )
    .ok();
    env.run(&[
        "ipam",
        "configure",
        "--strictaffinity=true",
        "--max-blocks-per-host=3",
    ])
    .ok();
    let out = env
        .run(&["get", "ipamconfiguration", "default", "-o", "yaml"])
        .ok()
        .to_string();
    for want in [
        "team: net",
        "kubeVirtVMAddressPersistence: Disabled",
        "ipCooldownSeconds: 30",
        "maxBlocksPerHost: 3",
        "strictAffinity: true",
        "autoAllocateBlocks: true",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
}

#[test]
fn release_from_report_corrects_handle_counts_left_too_high() {
    let env = Env::new();
    let ipam = ipam(&env);
    let c = ipam.client();
    pool(c, "p", "10.71.0.0/24", Some(28));
    node(c, "node-1");
    let ip = alloc(
        &ipam,
        &cni_handle("c1"),
        "node-1",
        pod_attrs("default", "web", "node-1"),
    );
    wep(c, "node-1", "default", "web", "c1", &[ip]);
    // What a process killed between raising the count and writing the block leaves.
    let store = ipam.engine().store();
    let key = calico_ipam::RecordKey::Handle(cni_handle("c1"));
    let s = store.get(&key).unwrap().unwrap();
    let Record::Handle(mut h) = s.value else {
        panic!()
    };
    for n in h.block.values_mut() {
        *n += 1;
    }
    store.update(&Record::Handle(h), s.revision).unwrap();
    let out = env
        .run(&["ipam", "check", "--show-problem-ips", "-o", "r.json"])
        .ok()
        .to_string();
    assert!(
        out.contains("Found 1 handles whose counts disagree with their blocks."),
        "{out}"
    );
    assert!(
        out.ends_with("Check complete; found 1 problems.\n"),
        "{out}"
    );
    let out = env
        .run(&["ipam", "release", "--from-report=r.json"])
        .ok()
        .to_string();
    assert!(
        out.ends_with(
            "Correcting the counts of 1 handles...\n  Corrected handle k8s-pod-network.c1\n\
             Corrected 1 handles; 0 skipped.\n"
        ),
        "{out}"
    );
    let out = env.run(&["ipam", "check"]).ok().to_string();
    assert!(
        out.ends_with("Check complete; found 0 problems.\n"),
        "{out}"
    );
    assert!(ipam.get_assignment_attributes(ip).unwrap().is_some());
}
