//! IPAM over the datastore: records at Calico's keys in Calico's JSON, records written by Calico
//! read back, inputs (pools, reservations, node labels, configuration) taken from resources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;
use std::sync::Arc;

use calico_api::Resource;
use calico_client::Client;
use calico_client::ipam_store::{ClientIpam, IpamClientError, pod_attrs};
use calico_datastore::{Backend, EmbeddedBackend, MemoryBackend};
use calico_ipam::{AutoAssignArgs, IpamConfig, IpamError, PoolOutcome, ReleaseOptions, cni_handle};
use serde_json::json;

fn res(v: serde_json::Value) -> Resource {
    Resource::from_value(v).unwrap()
}

fn setup(backend: Arc<dyn Backend>) -> ClientIpam {
    let c = Client::new(backend);
    c.create(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "pool-a"},
        "spec": {"cidr": "10.65.0.0/24", "nodeSelector": "zone == 'a'"}}),
    ))
    .unwrap();
    c.create(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "pool-v6"}, "spec": {"cidr": "fd00:65::/120"}}),
    ))
    .unwrap();
    for (node, zone) in [("node-a", "a"), ("node-b", "b")] {
        c.create(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": node, "labels": {"zone": zone}}}),
        ))
        .unwrap();
    }
    ClientIpam::new(c)
}

fn memory() -> (Arc<dyn Backend>, ClientIpam) {
    let b: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    (b.clone(), setup(b))
}

fn value(b: &Arc<dyn Backend>, key: &str) -> serde_json::Value {
    let kv = b
        .get(key)
        .unwrap()
        .unwrap_or_else(|| panic!("{key} missing"));
    serde_json::from_slice(&kv.value).unwrap()
}

#[test]
fn records_use_calico_keys_and_json() {
    let (b, ipam) = memory();
    let mut args = AutoAssignArgs::new(cni_handle("c0ffee"), "node-a");
    args.attrs = pod_attrs(
        "default",
        "web-0",
        "node-a",
        "2026-01-01 00:00:00 +0000 UTC",
    );
    let got = ipam.auto_assign(args).unwrap();
    let a = &got.ipv4[0];
    let seg = format!("{}-26", a.block.network());
    let block = value(&b, &format!("/calico/ipam/v2/assignment/ipv4/block/{seg}"));
    assert_eq!(block["cidr"], a.block.to_string());
    assert_eq!(block["affinity"], "host:node-a");
    assert_eq!(block["allocations"].as_array().unwrap().len(), 64);
    assert_eq!(
        block["attributes"][0]["handle_id"],
        "k8s-pod-network.c0ffee"
    );
    assert_eq!(block["attributes"][0]["secondary"]["pod"], "web-0");
    assert!(block["sequenceNumber"].is_u64());
    let aff = value(&b, &format!("/calico/ipam/v2/host/node-a/ipv4/block/{seg}"));
    assert_eq!(aff["state"], "confirmed");
    let handle = value(&b, "/calico/ipam/v2/handle/k8s-pod-network.c0ffee");
    assert_eq!(handle["block"][a.block.to_string()], 1);
    let info = ipam.get_assignment_attributes(a.address).unwrap().unwrap();
    assert_eq!(
        info.attrs.get("namespace").map(String::as_str),
        Some("default")
    );
    assert!(ipam.check().unwrap().is_exact());
    assert_eq!(
        ipam.release_by_handle("k8s-pod-network.c0ffee").unwrap(),
        vec![a.address]
    );
    assert!(
        b.get("/calico/ipam/v2/handle/k8s-pod-network.c0ffee")
            .unwrap()
            .is_none()
    );
}

#[test]
fn records_written_by_calico_are_understood() {
    let (b, ipam) = memory();
    // As libcalico-go writes them: nil slots, string ordinal keys, no node/cidr in the
    // affinity value, no handle ID in the handle value.
    let mut allocations = vec![serde_json::Value::Null; 64];
    allocations[3] = json!(0);
    let unallocated: Vec<u32> = (0..64).filter(|o| *o != 3).collect();
    let block = json!({
        "cidr": "10.65.0.64/26", "affinity": "host:node-a",
        "affinityClaimTime": "2024-05-01T10:00:00.123456789Z",
        "strictAffinity": false, "allocations": allocations, "unallocated": unallocated,
        "attributes": [{"handle_id": "k8s-pod-network.abc", "secondary": {"pod": "p"}}],
        "sequenceNumber": 1714557600123456789u64,
        "sequenceNumberForAllocation": {"3": 1714557600123456788u64}, "deleted": false
    });
    b.create(
        "/calico/ipam/v2/assignment/ipv4/block/10.65.0.64-26",
        block.to_string().as_bytes(),
    )
    .unwrap();
    b.create(
        "/calico/ipam/v2/host/node-a/ipv4/block/10.65.0.64-26",
        br#"{"state":"confirmed","deleted":false}"#,
    )
    .unwrap();
    b.create(
        "/calico/ipam/v2/handle/k8s-pod-network.abc",
        br#"{"block":{"10.65.0.64/26":1},"deleted":false}"#,
    )
    .unwrap();
    assert!(
        ipam.check().unwrap().is_exact(),
        "{:#?}",
        ipam.check().unwrap()
    );
    let ip: IpAddr = "10.65.0.67".parse().unwrap();
    let info = ipam.get_assignment_attributes(ip).unwrap().unwrap();
    assert_eq!(info.sequence_number, 1714557600123456788);
    // The node's next address comes from its existing block.
    let got = ipam
        .auto_assign(AutoAssignArgs::new("k8s-pod-network.def", "node-a"))
        .unwrap();
    assert_eq!(got.ipv4[0].address, "10.65.0.64".parse::<IpAddr>().unwrap());
    // A release with the right sequence number works.
    let r = ipam
        .release_ips(&[ReleaseOptions {
            address: ip,
            handle: Some("k8s-pod-network.abc".into()),
            sequence_number: Some(1714557600123456788),
        }])
        .unwrap();
    assert_eq!(r.released, vec![ip]);
    assert!(ipam.check().unwrap().is_exact());
}

#[test]
fn node_selector_reservations_and_exhaustion_from_resources() {
    let (b, ipam) = memory();
    let c = Client::new(b);
    c.create(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
        "metadata": {"name": "r"}, "spec": {"reservedCIDRs": ["10.65.0.0/25"]}}),
    ))
    .unwrap();
    // node-b is not selected by pool-a (and has no IPv6 request).
    let err = ipam
        .auto_assign(AutoAssignArgs::new("h-b", "node-b"))
        .unwrap_err();
    let IpamClientError::Ipam(IpamError::Exhausted(e)) = err else {
        panic!("expected exhaustion, got {err}");
    };
    assert_eq!(
        e.pools[0].outcome,
        PoolOutcome::NodeNotSelected {
            selector: "zone == \"a\"".into()
        }
    );
    // node-a gets addresses only from the unreserved half.
    let mut args = AutoAssignArgs::new("h-a", "node-a");
    args.num4 = 128;
    args.num6 = 2;
    let got = ipam.auto_assign(args).unwrap();
    assert!(
        got.ipv4
            .iter()
            .all(|a| a.address >= "10.65.0.128".parse::<IpAddr>().unwrap())
    );
    assert_eq!(got.ipv6.len(), 2);
    let err = ipam
        .auto_assign(AutoAssignArgs::new("h-a2", "node-a"))
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \
             [10.65.0.0/24]"
        ),
        "{err}"
    );
    assert!(ipam.check().unwrap().is_exact());
}

#[test]
fn configuration_is_the_ipamconfiguration_resource() {
    let (b, ipam) = memory();
    assert_eq!(ipam.config().unwrap(), IpamConfig::default());
    let c = Client::new(b.clone());
    c.create(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPAMConfiguration",
        "metadata": {"name": "default"},
        "spec": {"strictAffinity": true, "maxBlocksPerHost": 1}}),
    ))
    .unwrap();
    assert_eq!(
        ipam.config().unwrap(),
        IpamConfig {
            strict_affinity: true,
            auto_allocate_blocks: true,
            max_blocks_per_host: 1,
        }
    );
    let mut args = AutoAssignArgs::new("h", "node-a");
    args.num4 = 65;
    let err = ipam.auto_assign(args).unwrap_err();
    assert!(
        err.to_string().contains("limit of 1 blocks reached"),
        "{err}"
    );
    ipam.set_config(IpamConfig::default()).unwrap();
    let stored = value(
        &b,
        "/calico/resources/v3/projectcalico.org/ipamconfigurations/default",
    );
    assert_eq!(stored["spec"]["strictAffinity"], false, "{stored}");
    assert!(
        ipam.set_config(IpamConfig {
            strict_affinity: false,
            auto_allocate_blocks: false,
            max_blocks_per_host: 0
        })
        .is_err()
    );
}

#[test]
fn a_missing_node_is_an_error() {
    let (_, ipam) = memory();
    let err = ipam
        .auto_assign(AutoAssignArgs::new("h", "nowhere"))
        .unwrap_err();
    assert!(matches!(err, IpamClientError::NodeNotFound { .. }), "{err}");
}

#[test]
fn embedded_store_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let b: Arc<dyn Backend> = Arc::new(EmbeddedBackend::open(dir.path().join("store.db")).unwrap());
    let ipam = setup(b);
    let mut args = AutoAssignArgs::new("h", "node-a");
    args.num4 = 70;
    args.num6 = 3;
    let got = ipam.auto_assign(args).unwrap();
    assert_eq!((got.ipv4.len(), got.ipv6.len()), (70, 3));
    assert!(ipam.check().unwrap().is_exact());
    assert_eq!(ipam.release_by_handle("h").unwrap().len(), 73);
    let report = ipam.check().unwrap();
    assert!(report.is_exact(), "{report:#?}");
    assert_eq!(report.allocations, 0);
}
