//! ADD / DEL / CHECK against the fake kernel and an in-memory datastore: what is built, the
//! endpoint written, idempotent DEL, and rollback of every step.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::IpAddr;
use std::path::Path;

use calico_cni::add::add;
use calico_cni::check::check;
use calico_cni::del::del;
use calico_cni::names::veth_name_for_workload;
use calico_linux::{MacAddr, NetOps, Route};
use common::*;
use serde_json::json;

#[test]
fn add_builds_calico_networking_and_endpoint() {
    let w = World::new("10.244.0.0/24");
    create(
        &w.client,
        json!({"apiVersion":"v1","kind":"Pod",
        "metadata":{"name":"web-0","namespace":"ns1","labels":{"app":"web"}},
        "spec":{"serviceAccountName":"sa1","containers":[{"name":"c","ports":[{"name":"http","containerPort":80}]}]}}),
    );
    let inv = invocation(&conf("0.3.1", json!({})), &env("cid1", K8S_ARGS));
    let r = add(&w.deps(), &inv).unwrap();
    let host_if = veth_name_for_workload("ns1", "web-0", None);
    assert_eq!(r.interfaces[0].name, host_if);
    assert_eq!(r.interfaces[1].name, "eth0");
    let ip = r.ips[0].address;
    assert_eq!(ip.prefix_len(), 32);
    assert!(
        "10.244.0.0/24"
            .parse::<ipnet::IpNet>()
            .unwrap()
            .contains(&ip.addr())
    );

    let host = Path::new(HOST);
    let pod = Path::new(POD);
    let hl = w.net.link(host, &host_if).unwrap().unwrap();
    assert_eq!(hl.mac, Some(MacAddr::CALICO_HOST));
    assert_eq!(hl.mtu, Some(1410));
    assert!(
        w.net.addresses(host, &host_if).unwrap().is_empty(),
        "host end has no address"
    );
    assert_eq!(w.net.addresses(pod, "eth0").unwrap(), vec![ip]);
    let pod_routes = w.net.routes(pod).unwrap();
    assert!(pod_routes.contains(&Route::link("169.254.1.1/32".parse().unwrap(), "eth0")));
    assert!(pod_routes.contains(&Route::via(
        "0.0.0.0/0".parse().unwrap(),
        "169.254.1.1".parse().unwrap(),
        "eth0"
    )));
    assert!(
        w.net
            .routes(host)
            .unwrap()
            .contains(&Route::link(ip, &host_if))
    );
    for (key, val) in [
        ("proxy_arp", "1"),
        ("forwarding", "1"),
        ("route_localnet", "1"),
    ] {
        assert_eq!(
            w.net
                .sysctl(host, &format!("net/ipv4/conf/{host_if}/{key}"))
                .unwrap(),
            val,
            "{key}"
        );
    }
    assert_eq!(
        w.net
            .sysctl(host, &format!("net/ipv4/neigh/{host_if}/proxy_delay"))
            .unwrap(),
        "0"
    );
    assert_eq!(w.net.sysctl(pod, "net/ipv4/ip_forward").unwrap(), "0");

    let wep = w
        .store
        .inner
        .workload_endpoint_for_test("ns1", "node1-k8s-web--0-eth0");
    assert_eq!(wep.metadata.labels["app"], "web");
    assert_eq!(wep.metadata.labels["projectcalico.org/namespace"], "ns1");
    assert_eq!(wep.metadata.labels["projectcalico.org/orchestrator"], "k8s");
    assert_eq!(wep.spec.profiles, vec!["kns.ns1", "ksa.ns1.sa1"]);
    assert_eq!(wep.spec.ip_networks, vec![ip.to_string()]);
    assert_eq!(wep.spec.interface_name, host_if);
    assert_eq!(wep.spec.container_id, "cid1");
    assert_eq!(wep.spec.mac, r.interfaces[1].mac.clone().unwrap());
    assert_eq!(wep.spec.ports.len(), 1);
    assert_eq!(w.held("k8s-pod-network.cid1"), vec![ip.addr()]);

    check(&w.deps(), &inv).unwrap();
    w.net
        .delete_route(
            pod,
            &Route::via(
                "0.0.0.0/0".parse().unwrap(),
                "169.254.1.1".parse().unwrap(),
                "eth0",
            ),
        )
        .unwrap();
    let e = check(&w.deps(), &inv).unwrap_err();
    assert!(e.msg.contains("route 0.0.0.0/0 via 169.254.1.1"), "{e:?}");

    del(&w.deps(), &inv).unwrap();
    assert!(w.net.link(host, &host_if).unwrap().is_none());
    assert!(w.net.link(pod, "eth0").unwrap().is_none());
    assert!(!w.net.routes(host).unwrap().iter().any(|r| r.dev == host_if));
    assert_eq!(w.weps(), 0);
    assert!(w.held("k8s-pod-network.cid1").is_empty());
    // Idempotent: everything already gone, then the namespace too.
    del(&w.deps(), &inv).unwrap();
    w.net.remove_netns(POD);
    del(&w.deps(), &inv).unwrap();
}

#[test]
fn del_of_an_old_sandbox_keeps_the_running_endpoint() {
    let w = World::new("10.244.0.0/24");
    let c = conf("1.0.0", json!({}));
    add(&w.deps(), &invocation(&c, &env("new", K8S_ARGS))).unwrap();
    // The old sandbox's DEL (other container ID, same pod).
    let mut old_env = env("old", K8S_ARGS);
    old_env.netns = "/run/netns/gone".into();
    del(&w.deps(), &invocation(&c, &old_env)).unwrap();
    assert_eq!(w.weps(), 1);
    assert_eq!(w.held("k8s-pod-network.new").len(), 1);
}

#[test]
fn annotations_pick_pools_and_addresses() {
    let w = World::new("10.244.0.0/24");
    create(
        &w.client,
        json!({"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"special"},
        "spec":{"cidr":"10.99.0.0/24"}}),
    );
    create(
        &w.client,
        json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"ns1",
        "annotations":{"cni.projectcalico.org/ipv4pools":"[\"special\"]"}},"spec":{"containers":[{"name":"c"}]}}),
    );
    create(
        &w.client,
        json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"fixed","namespace":"ns1",
        "annotations":{"cni.projectcalico.org/ipAddrs":"[\"10.244.0.77\"]"}},"spec":{"containers":[{"name":"c"}]}}),
    );
    let c = conf("1.1.0", json!({}));
    let r = add(&w.deps(), &invocation(&c, &env("a", K8S_ARGS))).unwrap();
    assert!(
        "10.99.0.0/24"
            .parse::<ipnet::IpNet>()
            .unwrap()
            .contains(&r.ips[0].address.addr())
    );
    w.net.add_netns("/run/netns/pod-b");
    let mut eb = env("b", "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=fixed");
    eb.netns = "/run/netns/pod-b".into();
    let r = add(&w.deps(), &invocation(&c, &eb)).unwrap();
    assert_eq!(
        r.ips[0].address.addr(),
        "10.244.0.77".parse::<IpAddr>().unwrap()
    );
    assert_eq!(
        w.held("k8s-pod-network.b"),
        vec!["10.244.0.77".parse::<IpAddr>().unwrap()]
    );
    // ipAddrs needs calico-ipam.
    let hl = conf(
        "1.1.0",
        json!({"ipam": {"type": "host-local", "subnet": "10.5.0.0/24"}}),
    );
    let e = add(
        &w.deps(),
        &invocation(&hl, &env("c", "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=fixed")),
    )
    .unwrap_err();
    assert!(e.msg.contains("ipAddrs is not compatible"), "{e:?}");
}

#[test]
fn cni_orchestrator_without_pod_args() {
    let w = World::new("10.244.0.0/24");
    let r = add(
        &w.deps(),
        &invocation(&conf("0.4.0", json!({})), &env("0123456789abcdef", "")),
    )
    .unwrap();
    assert_eq!(r.interfaces[0].name, "cali0123456789a");
    let wep = w
        .store
        .inner
        .workload_endpoint_for_test("default", "node1-cni-0123456789abcdef-eth0");
    assert_eq!(wep.spec.profiles, vec!["k8s-pod-network"]);
    assert_eq!(wep.spec.orchestrator, "cni");
}

/// Fail each mutating kernel call of ADD in turn: the error comes back and nothing is left:
/// no link, route or sysctl, no endpoint, no allocation.
#[test]
fn every_failed_kernel_step_is_rolled_back() {
    let probe = World::new("10.244.0.0/24");
    let before = probe.net.state();
    let c = conf("0.3.1", json!({}));
    let inv = invocation(&c, &env("probe", K8S_ARGS));
    probe.net.clear_calls();
    add(&probe.deps(), &inv).unwrap();
    let steps = probe.net.mutation_count();
    let mutations: Vec<_> = probe
        .net
        .calls()
        .into_iter()
        .filter(|c| c.mutating)
        .collect();
    assert!(
        steps >= 8,
        "expected the full wiring, saw {steps} mutations"
    );
    del(&probe.deps(), &inv).unwrap();
    assert_eq!(probe.net.state().links, before.links);

    for n in 1..=steps {
        let w = World::new("10.244.0.0/24");
        let before = w.net.state();
        w.net.fail_mutation(n);
        let res = add(&w.deps(), &inv);
        if mutations[n - 1].detail.contains("accept_ra") {
            // Calico only warns when accept_ra cannot be set.
            assert!(res.is_ok(), "step {n}: {res:?}");
            continue;
        }
        let e = res.unwrap_err();
        assert!(
            e.msg.contains("injected") || e.details.contains("injected"),
            "step {n}: {e:?}"
        );
        let after = w.net.state();
        assert_eq!(after.links, before.links, "step {n}: links left behind");
        assert_eq!(after.routes, before.routes, "step {n}: routes left behind");
        assert_eq!(after.neighbours, before.neighbours, "step {n}");
        assert_eq!(w.weps(), 0, "step {n}: endpoint left behind");
        assert!(
            w.held("k8s-pod-network.probe").is_empty(),
            "step {n}: allocation left behind"
        );
    }
}

#[test]
fn failed_endpoint_write_is_rolled_back() {
    let w = World::new("10.244.0.0/24");
    let before = w.net.state();
    w.store
        .fail_put
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let e = add(
        &w.deps(),
        &invocation(&conf("1.0.0", json!({})), &env("x", K8S_ARGS)),
    )
    .unwrap_err();
    assert!(e.msg.contains("endpoint write failed"), "{e:?}");
    assert_eq!(w.net.state().links, before.links);
    assert_eq!(w.net.state().routes, before.routes);
    assert!(w.held("k8s-pod-network.x").is_empty());
    assert_eq!(w.weps(), 0);
}

#[test]
fn failed_endpoint_update_restores_the_previous_endpoint() {
    let w = World::new("10.244.0.0/24");
    let c = conf("1.0.0", json!({}));
    add(&w.deps(), &invocation(&c, &env("first", K8S_ARGS))).unwrap();
    let old = w
        .store
        .inner
        .workload_endpoint_for_test("ns1", "node1-k8s-web--0-eth0");
    // A second ADD for the same pod (new sandbox) in another namespace fails at the endpoint.
    w.net.add_netns("/run/netns/pod2");
    let mut e2 = env("second", K8S_ARGS);
    e2.netns = "/run/netns/pod2".into();
    w.store
        .fail_put
        .store(true, std::sync::atomic::Ordering::SeqCst);
    add(&w.deps(), &invocation(&c, &e2)).unwrap_err();
    w.store
        .fail_put
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let now = w
        .store
        .inner
        .workload_endpoint_for_test("ns1", "node1-k8s-web--0-eth0");
    assert_eq!(now.spec, old.spec);
    assert!(w.held("k8s-pod-network.second").is_empty());
}

#[test]
fn ipam_failure_makes_nothing() {
    let w = World::new("10.244.0.0/24");
    let failing = FailingIpam::default();
    let before = w.net.state();
    let e = add(
        &w.deps_with(&failing),
        &invocation(&conf("1.0.0", json!({})), &env("x", K8S_ARGS)),
    )
    .unwrap_err();
    assert_eq!(e.code, 100);
    assert_eq!(w.net.state(), before);
    assert_eq!(w.weps(), 0);
    // The handle is released all the same (a half-done IPAM ADD).
    assert_eq!(
        *failing.dels.lock().unwrap(),
        vec!["k8s-pod-network.x".to_string()]
    );
}

#[test]
fn exhausted_pool_is_code_100_and_leaves_nothing() {
    let w = World::new("10.244.0.0/30");
    let c = conf("1.0.0", json!({}));
    let mut n = 0;
    let err = loop {
        n += 1;
        assert!(n < 10, "a /30 pool cannot hold {n} addresses");
        let args = format!("K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=p{n}");
        w.net.add_netns(format!("/run/netns/p{n}"));
        let mut e = env(&format!("c{n}"), &args);
        e.netns = format!("/run/netns/p{n}");
        match add(&w.deps(), &invocation(&c, &e)) {
            Ok(_) => continue,
            Err(e) => break (e, n),
        }
    };
    let (e, n) = err;
    assert_eq!(e.code, 100, "{e:?}");
    assert_eq!(w.weps(), n - 1);
    assert!(
        w.net
            .link(Path::new(&format!("/run/netns/p{n}")), "eth0")
            .unwrap()
            .is_none()
    );
}

#[test]
fn unreachable_datastore_is_code_11_and_makes_nothing() {
    let w = World::new("10.244.0.0/24");
    w.store
        .fail_ready
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let before = w.net.state();
    let e = add(
        &w.deps(),
        &invocation(&conf("1.0.0", json!({})), &env("x", K8S_ARGS)),
    )
    .unwrap_err();
    assert_eq!(e.code, 11);
    assert_eq!(w.net.state(), before);
    assert!(w.held("k8s-pod-network.x").is_empty());
    // DEL refuses too (it cannot tell whose endpoint it is).
    assert_eq!(
        del(
            &w.deps(),
            &invocation(&conf("1.0.0", json!({})), &env("x", K8S_ARGS))
        )
        .unwrap_err()
        .code,
        11
    );
}

#[test]
fn missing_netns_is_code_4() {
    let w = World::new("10.244.0.0/24");
    let mut e = env("x", K8S_ARGS);
    e.netns = "/run/netns/nope".into();
    let err = add(&w.deps(), &invocation(&conf("1.0.0", json!({})), &e)).unwrap_err();
    assert_eq!(err.code, 4);
    assert!(w.held("k8s-pod-network.x").is_empty());
}

/// The binaries create the veth pair while the datastore opens; a later failure removes it.
#[test]
fn early_pair_is_removed_when_a_later_step_fails() {
    use calico_cni::add::{EarlyPair, add_with_early_pair, networking_spec};
    use calico_cni::dataplane::create_pair;
    let w = World::new("10.244.0.0/24");
    let before = w.net.state();
    let inv = invocation(&conf("1.0.0", json!({})), &env("e1", K8S_ARGS));
    let deps = w.deps();
    let spec = networking_spec(&deps, &inv, Path::new(POD), vec![], vec![]);
    let pair = create_pair(&w.net, &spec, true);
    assert!(pair.is_ok());
    w.store
        .fail_ready
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let e = add_with_early_pair(
        &deps,
        &inv,
        Some(EarlyPair {
            spec: spec.clone(),
            result: pair.into(),
            configurer: None,
        }),
    )
    .unwrap_err();
    assert_eq!(e.code, 11);
    assert_eq!(w.net.state().links, before.links);

    // Success path: the early pair is configured, not created again.
    w.store
        .fail_ready
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let pair = create_pair(&w.net, &spec, true);
    w.net.clear_calls();
    let r = add_with_early_pair(
        &deps,
        &inv,
        Some(EarlyPair {
            spec,
            result: pair.into(),
            configurer: None,
        }),
    )
    .unwrap();
    assert!(!w.net.calls().iter().any(|c| c.op == "create_veth"));
    assert_eq!(
        w.net.addresses(Path::new(POD), "eth0").unwrap(),
        vec![r.ips[0].address]
    );
}

/// The binaries' path: the thread that made the pair configures it (the container end's and
/// the host end's steps) while the endpoint is written. Fail each of its mutating kernel
/// calls in turn: the error comes back and nothing is left.
#[test]
fn early_pair_configured_by_its_thread_is_rolled_back_at_every_step() {
    use calico_cni::add::{Configurer, EarlyPair, add_with_early_pair, networking_spec};
    use calico_cni::dataplane::{configure_pair, create_pair};

    fn run(w: &World, inv: &calico_cni::context::Invocation, fail: Option<usize>) -> bool {
        let deps = w.deps();
        let spec = networking_spec(&deps, inv, Path::new(POD), vec![], vec![]);
        let pair = create_pair(&w.net, &spec, true).unwrap();
        if let Some(n) = fail {
            w.net.fail_mutation(n);
        }
        std::thread::scope(|sc| {
            let (configurer, thread) = Configurer::channel();
            let net = &w.net;
            let worker = sc.spawn(move || {
                if let Some(full) = thread.wait() {
                    thread.reply(configure_pair(net, &full, &pair));
                }
            });
            let res = add_with_early_pair(
                &deps,
                inv,
                Some(EarlyPair {
                    spec,
                    result: Ok(pair).into(),
                    configurer: Some(configurer),
                }),
            );
            worker.join().unwrap();
            match fail {
                None => {
                    let r = res.unwrap();
                    assert_eq!(
                        w.net.addresses(Path::new(POD), "eth0").unwrap(),
                        vec![r.ips[0].address]
                    );
                    true
                }
                Some(n) => match res {
                    Ok(_) => false,
                    Err(e) => {
                        assert!(
                            e.msg.contains("injected") || e.details.contains("injected"),
                            "step {n}: {e:?}"
                        );
                        true
                    }
                },
            }
        })
    }

    let inv = invocation(&conf("1.0.0", json!({})), &env("cfg", K8S_ARGS));
    let probe = World::new("10.244.0.0/24");
    let deps = probe.deps();
    let spec = networking_spec(&deps, &inv, Path::new(POD), vec![], vec![]);
    let made = create_pair(&probe.net, &spec, true).unwrap();
    probe.net.clear_calls();
    let full = calico_cni::dataplane::NetworkingSpec {
        ips: vec!["10.244.0.9/32".parse().unwrap()],
        routes: vec!["0.0.0.0/0".parse().unwrap()],
        ..spec
    };
    configure_pair(&probe.net, &full, &made).unwrap();
    let steps = probe.net.mutation_count();
    assert!(
        steps >= 7,
        "expected the full wiring, saw {steps} mutations"
    );

    let w = World::new("10.244.0.0/24");
    assert!(run(&w, &inv, None));
    for n in 1..=steps {
        let w = World::new("10.244.0.0/24");
        let before = w.net.state();
        if !run(&w, &inv, Some(n)) {
            // Only accept_ra may fail without failing the ADD (Calico only warns).
            let host_if = veth_name_for_workload("ns1", "web-0", None);
            let key = (
                std::path::PathBuf::from(HOST),
                format!("net/ipv6/conf/{host_if}/accept_ra"),
            );
            assert!(
                !w.net.state().sysctls.contains_key(&key),
                "step {n}: the ADD succeeded although a step failed"
            );
            continue;
        }
        let after = w.net.state();
        assert_eq!(after.links, before.links, "step {n}: links left behind");
        assert_eq!(after.routes, before.routes, "step {n}: routes left behind");
        assert_eq!(w.weps(), 0, "step {n}: endpoint left behind");
        assert!(
            w.held("k8s-pod-network.cfg").is_empty(),
            "step {n}: allocation left behind"
        );
    }
}

/// The binaries do not wait for the pair before the datastore work: a pair still being made
/// when a datastore step fails is removed once it is made; a failed creation stops the ADD.
#[test]
fn pending_early_pair_is_waited_for_and_undone() {
    use calico_cni::add::{EarlyPair, PairOutcome, add_with_early_pair, networking_spec};
    use calico_cni::dataplane::create_pair;
    let w = World::new("10.244.0.0/24");
    let before = w.net.state();
    let inv = invocation(&conf("1.0.0", json!({})), &env("p1", K8S_ARGS));
    let deps = w.deps();
    let spec = networking_spec(&deps, &inv, Path::new(POD), vec![], vec![]);
    w.store
        .fail_ready
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let e = std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::channel();
        let (net, s) = (&w.net, &spec);
        sc.spawn(move || {
            // Made only after ADD has started.
            std::thread::sleep(std::time::Duration::from_millis(50));
            let _ = tx.send(create_pair(net, s, true));
        });
        add_with_early_pair(
            &deps,
            &inv,
            Some(EarlyPair {
                spec: spec.clone(),
                result: PairOutcome::Pending(rx),
                configurer: None,
            }),
        )
        .unwrap_err()
    });
    assert_eq!(e.code, 11);
    assert_eq!(w.net.state().links, before.links, "the late pair was left");

    // A creation that failed stops ADD before IPAM.
    w.store
        .fail_ready
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(Err(calico_cni::CniError::internal("no veth for you")))
        .unwrap();
    let e = add_with_early_pair(
        &deps,
        &inv,
        Some(EarlyPair {
            spec,
            result: PairOutcome::Pending(rx),
            configurer: None,
        }),
    )
    .unwrap_err();
    assert!(e.msg.contains("no veth for you"), "{e:?}");
    assert!(w.held("k8s-pod-network.p1").is_empty());
    assert_eq!(w.weps(), 0);
}

/// A host link left over with the workload's name (an earlier sandbox of the same pod) is
/// replaced; an interface name taken inside the container is still an error (code 4).
#[test]
fn stale_host_link_is_replaced() {
    use calico_linux::VethSpec;
    let w = World::new("10.244.0.0/24");
    let host_if = veth_name_for_workload("ns1", "web-0", None);
    w.net.add_netns("/run/netns/old");
    w.net
        .create_veth(&VethSpec {
            container_ns: "/run/netns/old".into(),
            container_if: "eth0".into(),
            host_ns: HOST.into(),
            host_if: host_if.clone(),
            mtu: None,
            host_mac: None,
            container_mac: None,
            up: true,
        })
        .unwrap();
    let inv = invocation(&conf("1.0.0", json!({})), &env("new1", K8S_ARGS));
    let r = add(&w.deps(), &inv).unwrap();
    assert_eq!(r.interfaces[0].name, host_if);
    assert!(w.net.link(Path::new(POD), "eth0").unwrap().is_some());
    assert!(
        w.net
            .link(Path::new("/run/netns/old"), "eth0")
            .unwrap()
            .is_none(),
        "the old sandbox's pair is gone"
    );

    // Another pod's ADD into a namespace whose eth0 is taken fails with code 4 and leaves
    // the working pair alone.
    let other = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-1";
    let inv2 = invocation(&conf("1.0.0", json!({})), &env("new2", other));
    let e = add(&w.deps(), &inv2).unwrap_err();
    assert_eq!(e.code, 4, "{e:?}");
    assert!(e.msg.contains("already exists"), "{e:?}");
    assert!(w.net.link(Path::new(POD), "eth0").unwrap().is_some());
    assert!(w.net.link(Path::new(HOST), &host_if).unwrap().is_some());
    assert!(w.held("k8s-pod-network.new2").is_empty());
}
