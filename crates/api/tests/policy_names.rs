//! WorkloadEndpoint names: building, prefixing, matching and parsing, with dashes escaped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::{
    NameError, WorkloadEndpointIdentifiers, parse_workload_endpoint_name, split_name,
};
use proptest::prelude::*;

fn ids(node: &str, orch: &str, third: &str, endpoint: &str) -> WorkloadEndpointIdentifiers {
    let mut ids = WorkloadEndpointIdentifiers {
        node: node.into(),
        orchestrator: orch.into(),
        endpoint: endpoint.into(),
        ..Default::default()
    };
    match orch {
        "k8s" => ids.pod = third.into(),
        "cni" => ids.container_id = third.into(),
        "libnetwork" => {}
        _ => ids.workload = third.into(),
    }
    ids
}

#[test]
fn names_per_orchestrator() {
    let cases = [
        (
            ids("node-1", "k8s", "web-0", "eth0"),
            "node--1-k8s-web--0-eth0",
        ),
        (ids("n", "cni", "abc123", "eth0"), "n-cni-abc123-eth0"),
        (
            ids("host-a", "libnetwork", "", "ep-1"),
            "host--a-libnetwork-libnetwork-ep--1",
        ),
        (
            ids("h", "openstack", "vm-1", "tap0"),
            "h-openstack-vm--1-tap0",
        ),
    ];
    for (ids, want) in cases {
        assert_eq!(ids.name().unwrap(), want);
        assert!(ids.name_matches(want).unwrap());
        let parsed = parse_workload_endpoint_name(want).unwrap();
        assert_eq!(parsed.node, ids.node);
        assert_eq!(parsed.orchestrator, ids.orchestrator);
        assert_eq!(parsed.endpoint, ids.endpoint);
        assert_eq!(parsed.pod, ids.pod);
        assert_eq!(parsed.container_id, ids.container_id);
        assert_eq!(parsed.workload, ids.workload);
    }
    assert_eq!(
        WorkloadEndpointIdentifiers::k8s("node-1", "web-0", "eth0")
            .name()
            .unwrap(),
        "node--1-k8s-web--0-eth0"
    );
}

#[test]
fn name_errors() {
    assert_eq!(
        ids("", "k8s", "p", "e").name(),
        Err(NameError::Missing { field: "node" })
    );
    assert_eq!(
        ids("n", "k8s", "", "e").name(),
        Err(NameError::Missing { field: "pod" })
    );
    assert_eq!(
        ids("n", "cni", "", "e").name(),
        Err(NameError::Missing {
            field: "containerID"
        })
    );
    assert!(matches!(
        ids("-n", "k8s", "p", "e").name(),
        Err(NameError::LeadingDash { field: "node", .. })
    ));
    assert!(matches!(
        ids("n", "k8s", "p-", "e").name(),
        Err(NameError::TrailingDash { field: "pod", .. })
    ));
    assert_eq!(parse_workload_endpoint_name(""), Err(NameError::Empty));
    assert!(matches!(
        parse_workload_endpoint_name("a-k8s-b-c-d"),
        Err(NameError::TooManyParts { .. })
    ));
}

#[test]
fn prefixes_and_matching() {
    let partial = ids("node1", "k8s", "pod", "");
    assert_eq!(partial.name_prefix().unwrap(), "node1-k8s-pod-");
    assert_eq!(
        ids("node-1", "k8s", "", "").name_prefix().unwrap(),
        "node--1-k8s-"
    );
    // A prefix list would also return pod "pod-1"'s endpoints: matching tells them apart.
    assert!(partial.name_matches("node1-k8s-pod-eth0").unwrap());
    assert!(!partial.name_matches("node1-k8s-pod--1-eth0").unwrap());
    assert!(!partial.name_matches("node1-k8s-pod").unwrap());
    assert_eq!(
        split_name("a-b--c-d", 3),
        Some(vec!["a".into(), "b-c".into(), "d".into()])
    );
    assert_eq!(split_name("a-b", 3), None);
    let parsed = parse_workload_endpoint_name("node1-k8s").unwrap();
    assert_eq!(
        (parsed.node.as_str(), parsed.orchestrator.as_str()),
        ("node1", "k8s")
    );
}

proptest! {
    #[test]
    fn build_then_parse(
        node in "[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?",
        pod in "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
        endpoint in "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?",
    ) {
        let ids = WorkloadEndpointIdentifiers::k8s(&node, &pod, &endpoint);
        let name = ids.name().unwrap();
        let parsed = parse_workload_endpoint_name(&name).unwrap();
        prop_assert_eq!(parsed, ids.clone());
        prop_assert!(ids.name_matches(&name).unwrap());
    }
}
