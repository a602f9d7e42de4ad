//! Every step of every scenario of `calico_policy::scenarios`: the reference evaluator must
//! reproduce the hand-written expected matrices exactly.

use calico_policy::scenarios::{
    self, Cluster, NODE_BLOCKS, PODS, POOL_CIDR, ProbeProtocol, SCENARIOS, evaluate_matrix,
    format_matrix_rows,
};

#[test]
fn every_step_matches_its_expected_matrices() {
    assert!(SCENARIOS.len() >= 45, "{} scenarios", SCENARIOS.len());
    let mut failures = Vec::new();
    let mut probes = 0;
    for s in SCENARIOS.iter() {
        assert!(!s.steps.is_empty(), "scenario {} has no steps", s.name);
        let mut cluster = Cluster::new();
        for (i, step) in s.steps.iter().enumerate() {
            cluster
                .apply_step(step)
                .unwrap_or_else(|e| panic!("scenario {} step {i}: {e}", s.name));
            let model = cluster
                .model()
                .unwrap_or_else(|e| panic!("scenario {} step {i}: {e}", s.name));
            assert!(!step.probes.is_empty(), "scenario {} step {i}", s.name);
            for probe in step.probes {
                probes += 1;
                let expected = probe
                    .matrix()
                    .unwrap_or_else(|e| panic!("scenario {} step {i}: {e}", s.name));
                let got = evaluate_matrix(&model, probe);
                if got != expected {
                    failures.push(format!(
                        "scenario {} step {i} ({}) {} {}:\nexpected:\n{}got:\n{}",
                        s.name,
                        step.description,
                        probe.protocol,
                        probe.port,
                        format_matrix_rows(&expected),
                        format_matrix_rows(&got),
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(probes >= 90, "{probes} probes");
}

#[test]
fn scenario_names_are_unique_and_findable() {
    let mut names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SCENARIOS.len());
    assert_eq!(scenarios::all().len(), SCENARIOS.len());
    assert!(scenarios::find("policy-deletion").is_some());
    assert!(scenarios::find("nope").is_none());
}

#[test]
fn coverage_of_the_required_kinds_of_scenario() {
    let all = scenarios::all();
    let any = |f: &dyn Fn(&scenarios::Scenario) -> bool| all.iter().any(f);
    let yaml = |needle: &'static str| {
        move |s: &scenarios::Scenario| s.steps.iter().any(|st| st.apply.contains(needle))
    };
    assert!(any(&yaml("except:")), "ipBlock except");
    assert!(any(&yaml("endPort")), "port ranges");
    assert!(any(&yaml("port: serve-")), "named ports");
    assert!(any(&yaml("policyTypes: [Egress]")), "egress only");
    assert!(any(&yaml("kind: GlobalNetworkPolicy")), "GNP");
    assert!(any(&yaml("kind: GlobalNetworkSet")), "GNS");
    assert!(any(&yaml("kind: NetworkSet")), "NetworkSet");
    assert!(any(&yaml("notSelector")), "notSelector");
    assert!(any(&yaml("action: Pass")), "Pass");
    assert!(any(&yaml("action: Deny")), "Deny");
    assert!(any(&yaml("kind: Tier")), "tiers");
    assert!(
        any(&|s| s.steps.iter().any(|st| !st.delete.is_empty())),
        "deletion"
    );
    assert!(
        any(&|s| s.steps.iter().any(|st| !st.relabel.is_empty())),
        "pod labels"
    );
    assert!(
        any(&|s| s.steps.len() > 1
            && s.steps[1..]
                .iter()
                .any(|st| st.apply.contains("kind: Namespace"))),
        "namespace labels"
    );
    assert!(
        any(&|s| s
            .steps
            .iter()
            .any(|st| st.probes.iter().any(|p| p.protocol == ProbeProtocol::Icmp))),
        "ICMP probes"
    );
}

#[test]
fn placement_is_half_on_each_node_with_addresses_in_the_node_blocks() {
    let pool: ipnet::IpNet = POOL_CIDR.parse().expect("pool");
    let blocks: Vec<ipnet::IpNet> = NODE_BLOCKS
        .iter()
        .map(|b| b.parse().expect("block"))
        .collect();
    let on_node_0 = PODS.iter().filter(|p| p.node == 0).count();
    assert!((4..=5).contains(&on_node_0));
    for p in &PODS {
        assert!(pool.contains(&p.ip_addr()), "{}", p.id());
        assert!(blocks[p.node].contains(&p.ip_addr()), "{}", p.id());
    }
    let mut ips: Vec<_> = PODS.iter().map(|p| p.ip).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), PODS.len());
    assert_eq!(scenarios::pod_names()[0], "x/a");
    assert_eq!(scenarios::find_pod("y/c").map(|p| p.node), Some(1));
    let step = &scenarios::find("port-specific").expect("scenario").steps[0];
    let m = step.matrices().expect("matrices");
    assert_eq!(m.len(), 3);
    assert_eq!((m[1].0, m[1].1), (ProbeProtocol::Tcp, 81));
    assert_eq!(m[1].2.len(), PODS.len());
    assert!(!m[1].2[1][0], "x/b -> x/a on TCP 81 is denied");
    assert!(m[1].2[0][0], "x/a -> x/a is allowed");
}

#[test]
fn teardown_returns_to_the_base_cluster() {
    let s = scenarios::find("namespace-label-change-target").expect("scenario");
    let t = s.teardown().expect("teardown");
    assert!(t.delete_yaml.contains("kind: GlobalNetworkPolicy"));
    assert!(t.delete_yaml.contains("name: \"quarantine\""));
    assert!(t.relabel.is_empty());
    let s = scenarios::find("pod-label-change-peer").expect("scenario");
    let t = s.teardown().expect("teardown");
    assert!(t.relabel.is_empty(), "the last step restored the labels");
    let s = scenarios::find("policy-deletion").expect("scenario");
    let t = s.teardown().expect("teardown");
    assert_eq!(t.delete_yaml, "");
    // Every teardown, applied, gives back the base cluster's matrices.
    for s in SCENARIOS.iter() {
        let mut c = Cluster::new();
        for st in s.steps {
            c.apply_step(st).expect("step");
        }
        let t = c.teardown();
        assert!(!t.delete_yaml.contains("kind: Namespace"), "{}", s.name);
    }
}

/// The WorkloadEndpoint Calico's CNI plugin writes for a scenario pod: the pod's labels plus
/// namespace, orchestrator and service-account labels, the kns/ksa profiles, the named ports.
fn wep_yaml(p: &scenarios::PodInfo, labels: &std::collections::BTreeMap<String, String>) -> String {
    let mut l: String = labels
        .iter()
        .map(|(k, v)| format!("    {k}: \"{v}\"\n"))
        .collect();
    l.push_str(&format!(
        "    projectcalico.org/namespace: \"{ns}\"\n    projectcalico.org/orchestrator: k8s\n    \
         projectcalico.org/serviceaccount: \"{sa}\"\n",
        ns = p.namespace,
        sa = p.service_account
    ));
    let ports: String = scenarios::SERVED_PORTS
        .iter()
        .map(|sp| {
            format!(
                "  - {{name: {}, protocol: {}, port: {}}}\n",
                sp.name(),
                sp.protocol.to_ascii_uppercase(),
                sp.port
            )
        })
        .collect();
    format!(
        "---\napiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  name: \
         node--{node}-k8s-{pod}-eth0\n  namespace: \"{ns}\"\n  labels:\n{l}spec:\n  orchestrator: \
         k8s\n  node: node-{node}\n  pod: \"{pod}\"\n  endpoint: eth0\n  interfaceName: cali0000000{ns}{pod}\n  \
         serviceAccountName: {sa}\n  ipNetworks: [{ip}/32]\n  profiles: [kns.{ns}, ksa.{ns}.{sa}]\n  ports:\n{ports}",
        node = p.node,
        pod = p.name,
        ns = p.namespace,
        sa = p.service_account,
        ip = p.ip,
    )
}

#[test]
fn workload_endpoints_give_the_same_matrices_as_pods() {
    for s in SCENARIOS.iter() {
        let mut cluster = Cluster::new();
        let mut labels: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<String, String>,
        > = PODS.iter().map(|p| (p.id(), p.label_map())).collect();
        for (i, step) in s.steps.iter().enumerate() {
            cluster.apply_step(step).expect("step");
            for rl in step.relabel {
                labels.insert(
                    rl.pod.to_string(),
                    rl.labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                );
            }
            let weps: String = PODS.iter().map(|p| wep_yaml(p, &labels[&p.id()])).collect();
            let mut resources = cluster.resources().expect("resources");
            for (_, r) in calico_api::codec::decode_all(&weps).expect("decode") {
                let mut r = r.expect("wep");
                r.apply_defaults();
                r.validate().expect("valid wep");
                resources.push(r);
            }
            let with_weps = calico_policy::Model::from_resources(&resources).expect("model");
            let pods_only = cluster.model().expect("model");
            for probe in step.probes {
                assert_eq!(
                    evaluate_matrix(&with_weps, probe),
                    evaluate_matrix(&pods_only, probe),
                    "scenario {} step {i} {} {}",
                    s.name,
                    probe.protocol,
                    probe.port
                );
            }
        }
    }
}
