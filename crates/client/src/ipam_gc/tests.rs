//! Collector tests over the in-memory datastore: a live endpoint's address is never released
//! (also when the endpoint appears between detection and release, when the allocation is
//! younger than the grace period, when a pod of the same name lives in another namespace), a
//! leaked one only after the grace period, all or none per handle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use calico_api::Resource;
use calico_datastore::MemoryBackend;
use calico_ipam::{AutoAssignArgs, Handle, IpamStore, Record, ReleaseOptions, cni_handle};
use serde_json::json;

use super::*;
use crate::ipam_store::pod_attrs;

const GRACE: Duration = Duration::from_secs(15 * 60);

fn res(v: serde_json::Value) -> Resource {
    Resource::from_value(v).unwrap()
}

fn cluster() -> ClientIpam {
    let client = Client::new(Arc::new(MemoryBackend::default()));
    client
        .create(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
            "metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/24", "blockSize": 28}}),
        ))
        .unwrap();
    for n in ["node-1", "node-2"] {
        add_node(&client, n);
    }
    ClientIpam::new(client)
}

fn add_node(client: &Client, name: &str) {
    client
        .create(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": name}}),
        ))
        .unwrap();
}

fn ts(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A CNI-style allocation for pod `ns/pod` in container `cid`, stamped `at`.
fn alloc(ipam: &ClientIpam, cid: &str, ns: &str, pod: &str, at: SystemTime) -> IpAddr {
    alloc_n(ipam, cid, ns, pod, at, 1)[0]
}

fn alloc_n(
    ipam: &ClientIpam,
    cid: &str,
    ns: &str,
    pod: &str,
    at: SystemTime,
    n: usize,
) -> Vec<IpAddr> {
    let mut a = AutoAssignArgs::new(cni_handle(cid), "node-1");
    a.num4 = n;
    a.attrs = pod_attrs(ns, pod, "node-1", &ts(at));
    ipam.auto_assign(a)
        .unwrap()
        .ipv4
        .iter()
        .map(|x| x.address)
        .collect()
}

fn wep(ipam: &ClientIpam, ns: &str, pod: &str, cid: &str, ips: &[IpAddr]) -> Resource {
    let nets: Vec<String> = ips.iter().map(|i| format!("{i}/32")).collect();
    ipam.client()
        .create(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
            "metadata": {"namespace": ns},
            "spec": {"orchestrator": "k8s", "node": "node-1", "pod": pod, "endpoint": "eth0",
                     "containerID": cid, "ipNetworks": nets, "interfaceName": "cali12345"}}),
        ))
        .unwrap()
}

fn delete(ipam: &ClientIpam, r: &Resource) {
    ipam.client()
        .delete(r.info(), r.namespace(), r.name(), None)
        .unwrap();
}

fn allocated(ipam: &ClientIpam, ip: IpAddr) -> bool {
    ipam.get_assignment_attributes(ip).unwrap().is_some()
}

fn released(r: &GcReport) -> BTreeSet<IpAddr> {
    r.released.iter().map(|c| c.address).collect()
}

fn base() -> SystemTime {
    SystemTime::now()
}

#[test]
fn a_live_endpoints_address_is_never_released() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    wep(&ipam, "default", "web", "c1", &[ip]);
    let mut st = GcState::with_grace_period(GRACE);
    for i in 0..10u32 {
        let r = run_once(&ipam, &mut st, t0 + GRACE * i).unwrap();
        assert!(r.released.is_empty(), "{r:?}");
        assert_eq!(r.waiting, 0);
    }
    assert!(allocated(&ipam, ip));
}

#[test]
fn a_leaked_address_is_released_only_after_the_grace_period() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    let w = wep(&ipam, "default", "web", "c1", &[ip]);
    let keep = alloc(&ipam, "c2", "default", "db", old);
    wep(&ipam, "default", "db", "c2", &[keep]);
    delete(&ipam, &w);

    let mut st = GcState::with_grace_period(GRACE);
    let r = run_once(&ipam, &mut st, t0).unwrap();
    assert!(r.released.is_empty());
    assert_eq!(r.waiting, 1);
    let r = run_once(&ipam, &mut st, t0 + GRACE - Duration::from_secs(1)).unwrap();
    assert!(r.released.is_empty());
    assert!(allocated(&ipam, ip));
    let r = run_once(&ipam, &mut st, t0 + GRACE).unwrap();
    assert_eq!(released(&r), BTreeSet::from([ip]));
    assert!(!allocated(&ipam, ip));
    assert!(allocated(&ipam, keep));
    // The handle went with it; the check is exact.
    assert!(
        ipam.engine()
            .ips_by_handle(&cni_handle("c1"))
            .unwrap()
            .is_empty()
    );
    assert!(ipam.check().unwrap().is_exact());
    assert_eq!(st.candidate_count(), 0);
}

#[test]
fn an_allocation_younger_than_the_grace_period_waits() {
    let ipam = cluster();
    let t0 = base();
    // Stamped later than the collector first sees it (a clock ahead, or a restored store).
    let ip = alloc(&ipam, "c1", "default", "web", t0 + GRACE);
    let mut st = GcState::with_grace_period(GRACE);
    assert!(run_once(&ipam, &mut st, t0).unwrap().released.is_empty());
    let r = run_once(&ipam, &mut st, t0 + GRACE).unwrap();
    assert!(
        r.released.is_empty(),
        "a leak seen for the grace period but stamped now"
    );
    assert_eq!(r.waiting, 1);
    let r = run_once(&ipam, &mut st, t0 + GRACE * 2).unwrap();
    assert_eq!(released(&r), BTreeSet::from([ip]));
}

#[test]
fn a_fresh_allocation_without_endpoint_is_not_released_at_first_sight() {
    // A CNI ADD allocates first and writes the endpoint afterwards.
    let ipam = cluster();
    let t0 = base();
    let ip = alloc(&ipam, "c1", "default", "web", t0);
    let mut st = GcState::with_grace_period(GRACE);
    assert!(run_once(&ipam, &mut st, t0).unwrap().released.is_empty());
    wep(&ipam, "default", "web", "c1", &[ip]);
    for i in 1..5u32 {
        assert!(
            run_once(&ipam, &mut st, t0 + GRACE * i)
                .unwrap()
                .released
                .is_empty()
        );
    }
    assert!(allocated(&ipam, ip));
}

#[test]
fn an_endpoint_appearing_between_detection_and_release_keeps_its_address() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    let mut st = GcState::with_grace_period(GRACE);
    run_once(&ipam, &mut st, t0).unwrap();
    let c = collect(&ipam, &mut st, t0 + GRACE).unwrap().unwrap();
    assert_eq!(c.plan.confirmed.len(), 1, "{c:?}");
    // The endpoint is written after the collector decided, before it releases.
    wep(&ipam, "default", "web", "c1", &[ip]);
    let r = execute(&ipam, &mut st, c).unwrap();
    assert!(r.released.is_empty());
    assert_eq!(r.skipped.len(), 1);
    assert!(
        matches!(&r.skipped[0].1, Skip::Owned(o) if o.starts_with("Workload(default/")),
        "{r:?}"
    );
    assert!(allocated(&ipam, ip));
}

#[test]
fn an_address_reallocated_between_detection_and_release_is_kept() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    let mut st = GcState::with_grace_period(GRACE);
    run_once(&ipam, &mut st, t0).unwrap();
    let c = collect(&ipam, &mut st, t0 + GRACE).unwrap().unwrap();
    assert_eq!(c.plan.confirmed.len(), 1);
    // Someone releases it and it is handed out again, to the same handle even.
    ipam.release_ips(&[ReleaseOptions::address(ip)]).unwrap();
    let mut a = AutoAssignArgs::new(cni_handle("c1"), "node-1");
    a.attrs = pod_attrs("default", "web", "node-1", &ts(old));
    // The block reuses the longest-free address last, so allocate until we get it back.
    let mut got = Vec::new();
    loop {
        let x = ipam.auto_assign(a.clone()).unwrap().ipv4[0].address;
        got.push(x);
        if x == ip {
            break;
        }
        assert!(got.len() < 300, "never reallocated");
    }
    let r = execute(&ipam, &mut st, c).unwrap();
    assert!(r.released.is_empty(), "{r:?}");
    assert!(matches!(r.skipped[0].1, Skip::Reallocated), "{r:?}");
    assert!(allocated(&ipam, ip));
}

#[test]
fn a_pod_of_the_same_name_in_another_namespace_does_not_count() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let gone = alloc(&ipam, "c1", "ns1", "web", old);
    let live = alloc(&ipam, "c2", "ns2", "web", old);
    wep(&ipam, "ns2", "web", "c2", &[live]);
    let mut st = GcState::with_grace_period(GRACE);
    run_once(&ipam, &mut st, t0).unwrap();
    let r = run_once(&ipam, &mut st, t0 + GRACE).unwrap();
    assert_eq!(released(&r), BTreeSet::from([gone]));
    for i in 2..6u32 {
        assert!(
            run_once(&ipam, &mut st, t0 + GRACE * i)
                .unwrap()
                .released
                .is_empty()
        );
    }
    assert!(allocated(&ipam, live));
}

#[test]
fn all_or_none_per_handle() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let ips = alloc_n(&ipam, "c1", "default", "web", old, 2);
    // Some other endpoint lists one of the two addresses.
    let other = wep(&ipam, "default", "other", "c9", &[ips[1]]);
    let mut st = GcState::with_grace_period(GRACE);
    for i in 0..4u32 {
        let r = run_once(&ipam, &mut st, t0 + GRACE * i).unwrap();
        assert!(r.released.is_empty(), "{r:?}");
    }
    delete(&ipam, &other);
    // The clock starts when the whole handle is leaked.
    let t1 = t0 + GRACE * 4;
    assert!(run_once(&ipam, &mut st, t1).unwrap().released.is_empty());
    let r = run_once(&ipam, &mut st, t1 + GRACE).unwrap();
    assert_eq!(released(&r), ips.iter().copied().collect());
}

#[test]
fn release_leaked_is_all_or_none_per_handle() {
    let ipam = cluster();
    let old = base() - Duration::from_secs(86_400);
    let ips = alloc_n(&ipam, "c1", "default", "web", old, 2);
    wep(&ipam, "default", "other", "c9", &[ips[1]]);
    let snap = ipam.engine().snapshot().unwrap();
    let first = snap
        .allocations()
        .into_iter()
        .find(|a| a.address == ips[0])
        .unwrap();
    let out = release_leaked(&ipam, &[LeakClaim::of(&first).unwrap()]).unwrap();
    assert!(
        matches!(&out[0].skipped, Some(Skip::Sibling { address, .. }) if *address == ips[1]),
        "{out:?}"
    );
    assert!(allocated(&ipam, ips[0]));
}

#[test]
fn node_tunnel_addresses_live_with_their_node() {
    let ipam = cluster();
    add_node(ipam.client(), "node-3");
    let t0 = base();
    let mut a = AutoAssignArgs::new("ipip-tunnel-addr-node-3", "node-1");
    a.intended_use = calico_ipam::IntendedUse::Tunnel;
    let ip = ipam.auto_assign(a).unwrap().ipv4[0].address;
    let mut st = GcState::with_grace_period(GRACE);
    for i in 0..3u32 {
        assert!(
            run_once(&ipam, &mut st, t0 + GRACE * i)
                .unwrap()
                .released
                .is_empty()
        );
    }
    let info = calico_api::find_kind("Node", None).unwrap();
    ipam.client().delete(info, "", "node-3", None).unwrap();
    let t1 = t0 + GRACE * 3;
    assert!(run_once(&ipam, &mut st, t1).unwrap().released.is_empty());
    let r = run_once(&ipam, &mut st, t1 + GRACE).unwrap();
    assert_eq!(released(&r), BTreeSet::from([ip]));
}

#[test]
fn unknown_owners_are_never_released() {
    let ipam = cluster();
    let t0 = base();
    let mut ips = Vec::new();
    for h in ["lb-0123abcd", "my-test-handle", "other-net.c1"] {
        ips.push(
            ipam.auto_assign(AutoAssignArgs::new(h, "node-1"))
                .unwrap()
                .ipv4[0]
                .address,
        );
    }
    let mut st = GcState::with_grace_period(GRACE);
    for i in 0..4u32 {
        let r = run_once(&ipam, &mut st, t0 + GRACE * i).unwrap();
        assert!(r.released.is_empty());
        assert_eq!(r.unknown, 3);
        assert_eq!(r.waiting, 0);
    }
    assert!(ips.iter().all(|ip| allocated(&ipam, *ip)));
}

#[test]
fn a_starting_pod_keeps_its_new_address() {
    let ipam = cluster();
    let t0 = base();
    let old = t0 - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    ipam.client()
        .create(res(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Pending"}})))
        .unwrap();
    let mut st = GcState::with_grace_period(GRACE);
    for i in 0..3u32 {
        assert!(
            run_once(&ipam, &mut st, t0 + GRACE * i)
                .unwrap()
                .released
                .is_empty()
        );
    }
    assert!(allocated(&ipam, ip));
}

#[test]
fn empty_handle_records_go_after_the_grace_period_at_one_revision() {
    let ipam = cluster();
    let t0 = base();
    let mut h = Handle::new(cni_handle("gone"));
    h.block.insert("10.0.0.0/28".parse().unwrap(), 1);
    let store = ipam.engine().store();
    let rev = store.create(&Record::Handle(h.clone())).unwrap();
    let mut st = GcState::with_grace_period(GRACE);
    assert!(
        run_once(&ipam, &mut st, t0)
            .unwrap()
            .handles_deleted
            .is_empty()
    );
    // A change of the record restarts its clock.
    h.block.insert("10.0.0.16/28".parse().unwrap(), 1);
    store.update(&Record::Handle(h), rev).unwrap();
    assert!(
        run_once(&ipam, &mut st, t0 + GRACE)
            .unwrap()
            .handles_deleted
            .is_empty()
    );
    let r = run_once(&ipam, &mut st, t0 + GRACE * 2).unwrap();
    assert_eq!(r.handles_deleted, vec![cni_handle("gone")]);
    assert!(ipam.check().unwrap().is_exact());
}

#[test]
fn the_grace_period_comes_from_kube_controllers_configuration() {
    let ipam = cluster();
    let c = ipam.client();
    assert_eq!(
        leak_grace_period(c).unwrap(),
        Some(DEFAULT_LEAK_GRACE_PERIOD)
    );
    let kcc = |spec: serde_json::Value| {
        res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "KubeControllersConfiguration",
            "metadata": {"name": "default"}, "spec": spec}),
        )
    };
    c.apply(kcc(
        json!({"controllers": {"node": {"leakGracePeriod": "5m"}}}),
    ))
    .unwrap();
    assert_eq!(
        leak_grace_period(c).unwrap(),
        Some(Duration::from_secs(300))
    );
    assert_eq!(
        sync_period(Some(Duration::from_secs(300))),
        Duration::from_secs(150)
    );
    c.apply(kcc(
        json!({"controllers": {"node": {"leakGracePeriod": "0s"}}}),
    ))
    .unwrap();
    assert_eq!(leak_grace_period(c).unwrap(), None);
    c.apply(kcc(json!({"controllers": {"policy": {}}})))
        .unwrap();
    assert_eq!(leak_grace_period(c).unwrap(), None);
    c.apply(kcc(json!({"controllers": {"node": {}}}))).unwrap();
    assert_eq!(
        leak_grace_period(c).unwrap(),
        Some(DEFAULT_LEAK_GRACE_PERIOD)
    );

    // Disabled: nothing happens, however old the leak.
    c.apply(kcc(
        json!({"controllers": {"node": {"leakGracePeriod": "0s"}}}),
    ))
    .unwrap();
    let old = base() - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    let mut st = GcState::new();
    for i in 0..3u32 {
        let r = run_once(&ipam, &mut st, base() + GRACE * i).unwrap();
        assert!(r.disabled);
    }
    assert!(allocated(&ipam, ip));
    // Enabled with 1m: released after a minute of passes.
    c.apply(kcc(
        json!({"controllers": {"node": {"leakGracePeriod": "1m"}}}),
    ))
    .unwrap();
    let t0 = base();
    assert!(run_once(&ipam, &mut st, t0).unwrap().released.is_empty());
    let r = run_once(&ipam, &mut st, t0 + Duration::from_secs(60)).unwrap();
    assert_eq!(released(&r), BTreeSet::from([ip]));
}

#[test]
fn handle_kinds() {
    let none = BTreeMap::new();
    let pod = pod_attrs("ns", "p", "n", "");
    assert_eq!(
        handle_kind("k8s-pod-network.abc-1", &none),
        HandleKind::Workload {
            network: "k8s-pod-network",
            container_id: "abc-1"
        }
    );
    assert_eq!(
        handle_kind("my.net.c1", &pod),
        HandleKind::Workload {
            network: "my.net",
            container_id: "c1"
        }
    );
    assert_eq!(handle_kind("my-net.c1", &none), HandleKind::Other);
    assert_eq!(handle_kind("k8s-pod-network.", &none), HandleKind::Other);
    assert_eq!(handle_kind("k8s-pod-network.a_b", &none), HandleKind::Other);
    assert_eq!(
        handle_kind("vxlan-v6-tunnel-addr-n1", &none),
        HandleKind::Tunnel { node: "n1" }
    );
    assert_eq!(
        handle_kind("wireguard-tunnel-addr-n.x", &none),
        HandleKind::Tunnel { node: "n.x" }
    );
    assert_eq!(
        handle_kind(WINDOWS_RESERVED_HANDLE, &none),
        HandleKind::WindowsReserved
    );
    let mut vm = pod.clone();
    vm.insert("vmi".into(), "vm1".into());
    assert_eq!(
        handle_kind("k8s-pod-network.ns-vm1", &vm),
        HandleKind::Other
    );
    assert_eq!(handle_kind("lb-1234", &none), HandleKind::Other);
}

#[test]
fn allocation_timestamps_in_both_formats() {
    let t = |s: &str| allocation_time(&BTreeMap::from([("timestamp".to_string(), s.to_string())]));
    let want = humantime::parse_rfc3339("2024-05-01T10:11:12Z").unwrap();
    assert_eq!(t("2024-05-01T10:11:12Z"), Some(want));
    assert_eq!(
        t("2024-05-01 10:11:12.5 +0000 UTC"),
        Some(want + Duration::from_millis(500))
    );
    assert_eq!(t("2024-05-01 10:11:12 +0200 CEST"), None);
    assert_eq!(t("yesterday"), None);
    assert_eq!(allocation_time(&BTreeMap::new()), None);
}

/// A small deterministic generator, so the randomized test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random pods come and go (allocation, endpoint, endpoint deletion, sometimes without the CNI
/// DEL that releases the address), the clock jumps, passes run. After every pass: nothing an
/// endpoint listed or owned was released, and everything released had been without its
/// endpoint for at least the grace period.
#[test]
fn randomized_passes_never_release_a_live_address() {
    for seed in 1..=6u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        let ipam = cluster();
        let mut st = GcState::with_grace_period(GRACE);
        let mut now = base();
        // container → (address, endpoint, when its endpoint went away)
        let mut pods: BTreeMap<String, (IpAddr, Option<Resource>, Option<SystemTime>)> =
            BTreeMap::new();
        let mut released_total = 0;
        for step in 0..120 {
            match rng.below(6) {
                0 | 1 => {
                    let cid = format!("c{seed}-{step}");
                    let ip = alloc(&ipam, &cid, "default", &format!("p{step}"), now);
                    let w = (rng.below(4) != 0)
                        .then(|| wep(&ipam, "default", &format!("p{step}"), &cid, &[ip]));
                    let gone = w.is_none().then_some(now);
                    pods.insert(cid, (ip, w, gone));
                }
                2 => {
                    // Endpoint deleted without releasing the address (a lost CNI DEL).
                    if let Some((_, (_, w, gone))) =
                        pods.iter_mut().find(|(_, (_, w, _))| w.is_some())
                    {
                        delete(&ipam, w.as_ref().unwrap());
                        *w = None;
                        *gone = Some(now);
                    }
                }
                3 => now += Duration::from_secs(rng.below(20 * 60)),
                _ => {
                    let live: BTreeSet<IpAddr> = pods
                        .values()
                        .filter(|(_, w, _)| w.is_some())
                        .map(|(ip, _, _)| *ip)
                        .collect();
                    let r = run_once(&ipam, &mut st, now).unwrap();
                    for c in &r.released {
                        assert!(
                            !live.contains(&c.address),
                            "seed {seed}: released live {c:?}"
                        );
                        let cid = c.handle.rsplit('.').next().unwrap();
                        let (_, _, gone) = pods.remove(cid).unwrap();
                        let gone = gone.unwrap();
                        assert!(
                            now.duration_since(gone).unwrap() >= GRACE,
                            "seed {seed}: released before the grace period"
                        );
                    }
                    released_total += r.released.len();
                }
            }
        }
        for (ip, w, _) in pods.values() {
            if w.is_some() {
                assert!(allocated(&ipam, *ip), "seed {seed}: live {ip} lost");
            }
        }
        assert!(ipam.check().unwrap().is_consistent());
        // Let every remaining leak age out, then one more pass cleans them all.
        let leaked_left = pods.values().filter(|(_, w, _)| w.is_none()).count();
        let mut last = 0;
        for _ in 0..2 {
            now += GRACE;
            let r = run_once(&ipam, &mut st, now).unwrap();
            assert!(r.skipped.is_empty(), "seed {seed}: {r:?}");
            last += r.released.len();
        }
        released_total += last;
        assert_eq!(last, leaked_left, "seed {seed}");
        assert!(ipam.check().unwrap().is_exact(), "seed {seed}");
        assert!(
            released_total > 0,
            "seed {seed}: the test exercised nothing"
        );
    }
}

fn read_handle(ipam: &ClientIpam, id: &str) -> (Handle, calico_ipam::Revision) {
    let key = calico_ipam::RecordKey::Handle(id.to_string());
    match ipam.engine().store().get(&key).unwrap().unwrap() {
        calico_ipam::Stored {
            value: Record::Handle(h),
            revision,
        } => (h, revision),
        other => panic!("{other:?}"),
    }
}

#[test]
fn handle_records_are_corrected_and_deleted_only_at_their_revision() {
    let ipam = cluster();
    let old = base() - Duration::from_secs(86_400);
    let ip = alloc(&ipam, "c1", "default", "web", old);
    let id = cni_handle("c1");
    let store = ipam.engine().store();
    // An interrupted allocation left the count one too high, and a block it never got.
    let (mut h, rev) = read_handle(&ipam, &id);
    let cidr = *h.block.keys().next().unwrap();
    h.block.insert(cidr, 2);
    h.block.insert("10.0.0.240/28".parse().unwrap(), 1);
    let rev2 = store.update(&Record::Handle(h), rev).unwrap();
    assert!(!ipam.check().unwrap().is_exact());
    // A stale revision changes nothing; a handle holding addresses is never deleted.
    assert!(matches!(
        correct_handle_counts(&ipam, &id, rev).unwrap(),
        Some(Skip::HandleRevisionChanged)
    ));
    assert!(matches!(
        delete_leaked_handle(&ipam, &id, rev2).unwrap(),
        Some(Skip::HandleInUse)
    ));
    assert_eq!(correct_handle_counts(&ipam, &id, rev2).unwrap(), None);
    let (h, rev3) = read_handle(&ipam, &id);
    assert_eq!(h.block, BTreeMap::from([(cidr, 1)]));
    assert!(ipam.check().unwrap().is_exact());
    // Already right: nothing to do.
    assert_eq!(correct_handle_counts(&ipam, &id, rev3).unwrap(), None);
    assert_eq!(read_handle(&ipam, &id).1, rev3);
    assert!(allocated(&ipam, ip));
    // A record claiming only blocks it holds nothing in is deleted by a correction.
    let mut ghost = Handle::new(cni_handle("ghost"));
    ghost.block.insert(cidr, 3);
    let grev = store.create(&Record::Handle(ghost)).unwrap();
    assert_eq!(
        correct_handle_counts(&ipam, &cni_handle("ghost"), grev).unwrap(),
        None
    );
    assert!(matches!(
        delete_leaked_handle(&ipam, &cni_handle("ghost"), grev).unwrap(),
        Some(Skip::HandleMissing)
    ));
    assert!(ipam.check().unwrap().is_exact());
}
