//! IPPool and IPReservation: defaults, validation (cases restated from Calico's validator
//! tests and client rules), update immutability and overlap checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::{IPPool, Resource, check_ippool_overlap, check_ippool_update};
use serde_json::{Value, json};

fn pool(name: &str, spec: Value) -> Resource {
    Resource::from_value(json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": "IPPool",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

fn ippool(r: Resource) -> IPPool {
    match r {
        Resource::IPPool(p) => p,
        other => panic!("not an IPPool: {other:?}"),
    }
}

/// Validation errors as `path: message` strings (after defaulting, as Calico's client does).
fn errors_after_defaults(mut r: Resource) -> Vec<String> {
    r.apply_defaults();
    match r.validate() {
        Ok(()) => vec![],
        Err(e) => e.errors.iter().map(|f| f.to_string()).collect(),
    }
}

#[test]
fn defaults_v4_and_v6() {
    let mut r = pool("p4", json!({"cidr": "10.0.0.0/16"}));
    r.apply_defaults();
    let p = ippool(r);
    assert_eq!(p.spec.block_size, 26);
    assert_eq!(p.spec.node_selector, "all()");
    assert_eq!(p.spec.allowed_uses, vec!["Workload", "Tunnel"]);
    assert_eq!(p.spec.ipip_mode, "Never");
    assert_eq!(p.spec.vxlan_mode, "Never");
    assert_eq!(p.spec.assignment_mode.as_deref(), Some("Automatic"));

    let mut r = pool(
        "p6",
        json!({"cidr": "fd00:0:0:0::/48", "allowedUses": ["LoadBalancer"]}),
    );
    r.apply_defaults();
    let p = ippool(r);
    assert_eq!(p.spec.block_size, 122);
    assert_eq!(p.spec.cidr, "fd00::/48", "CIDR rewritten in canonical form");
    assert_eq!(
        p.spec.allowed_uses,
        vec!["LoadBalancer"],
        "set uses are kept"
    );

    // Explicit values are not overwritten.
    let mut r = pool(
        "p",
        json!({"cidr": "10.0.0.0/16", "blockSize": 28, "nodeSelector": "zone == 'a'",
               "ipipMode": "CrossSubnet", "assignmentMode": "Manual"}),
    );
    r.apply_defaults();
    let p = ippool(r);
    assert_eq!(p.spec.block_size, 28);
    assert_eq!(p.spec.node_selector, "zone == 'a'");
    assert_eq!(p.spec.ipip_mode, "CrossSubnet");
    assert_eq!(p.spec.assignment_mode.as_deref(), Some("Manual"));
    assert!(!p.spec.is_automatic());
}

#[test]
fn defaults_leave_host_bits_for_validation() {
    let mut r = pool("p", json!({"cidr": "10.0.0.1/16"}));
    r.apply_defaults();
    assert_eq!(ippool(r.clone()).spec.cidr, "10.0.0.1/16");
    let err = r.validate().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("spec.cidr"), "{msg}");
    assert!(msg.contains("not strictly masked"), "{msg}");
    assert!(
        msg.contains("10.0.0.0/16"),
        "expected network address in: {msg}"
    );
}

#[test]
fn validation_table() {
    // (description, spec, expected error path fragment or None when valid)
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("IPv4 /26", json!({"cidr": "1.2.3.0/26"}), None),
        ("IPv4 /10", json!({"cidr": "1.0.0.0/10"}), None),
        (
            "IPv6 /122",
            json!({"cidr": "aabb:aabb::0000/122", "ipipMode": "Never", "vxlanMode": "Never"}),
            None,
        ),
        ("IPv6 /10", json!({"cidr": "aa00:0000::0000/10"}), None),
        (
            "disabled IPv4 /27",
            json!({"cidr": "1.2.3.0/27", "disabled": true}),
            None,
        ),
        (
            "disabled IPv6 /128",
            json!({"cidr": "aabb:aabb::ffff/128", "disabled": true}),
            None,
        ),
        (
            "IPv4 /27 smaller than a block",
            json!({"cidr": "1.2.3.0/27"}),
            Some("spec.cidr"),
        ),
        (
            "IPv6 /128 smaller than a block",
            json!({"cidr": "aabb:aabb::ffff/128"}),
            Some("spec.cidr"),
        ),
        ("IPv4 /33", json!({"cidr": "1.2.3.4/33"}), Some("spec.cidr")),
        (
            "IPv6 /129",
            json!({"cidr": "aa:bb::/129"}),
            Some("spec.cidr"),
        ),
        (
            "bare address",
            json!({"cidr": "10.0.0.0"}),
            Some("spec.cidr"),
        ),
        ("garbage", json!({"cidr": "not-a-cidr"}), Some("spec.cidr")),
        ("missing CIDR", json!({}), Some("spec.cidr")),
        (
            "host bits",
            json!({"cidr": "10.0.0.1/16"}),
            Some("spec.cidr"),
        ),
        (
            "IPv4 link local",
            json!({"cidr": "169.254.5.0/24"}),
            Some("spec.cidr"),
        ),
        (
            "contains IPv4 link local",
            json!({"cidr": "169.0.0.0/8"}),
            Some("spec.cidr"),
        ),
        (
            "IPv6 link local",
            json!({"cidr": "fe80::/120"}),
            Some("spec.cidr"),
        ),
        (
            "IPIP on IPv6",
            json!({"cidr": "aabb:aabb::ffff/128", "ipipMode": "Always", "disabled": true}),
            Some("spec.ipipMode"),
        ),
        (
            "VXLAN on IPv6",
            json!({"cidr": "fd00::/64", "vxlanMode": "Always"}),
            None,
        ),
        ("no IPIP mode", json!({"cidr": "1.2.3.0/24"}), None),
        (
            "IPIP Never",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "Never", "vxlanMode": "Never"}),
            None,
        ),
        (
            "IPIP Always",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "Always"}),
            None,
        ),
        (
            "IPIP CrossSubnet",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "CrossSubnet"}),
            None,
        ),
        (
            "IPIP badVal",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "badVal"}),
            Some("spec.ipipMode"),
        ),
        (
            "IPIP never (lower case)",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "never"}),
            Some("spec.ipipMode"),
        ),
        (
            "IPIP and VXLAN",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "Always", "vxlanMode": "Always"}),
            Some("spec.vxlanMode"),
        ),
        (
            "IPIP CrossSubnet and VXLAN CrossSubnet",
            json!({"cidr": "1.2.3.0/24", "ipipMode": "CrossSubnet", "vxlanMode": "CrossSubnet"}),
            Some("spec.vxlanMode"),
        ),
        (
            "VXLAN Always",
            json!({"cidr": "1.2.3.0/24", "vxlanMode": "Always"}),
            None,
        ),
        (
            "VXLAN CrossSubnet",
            json!({"cidr": "1.2.3.0/24", "vxlanMode": "CrossSubnet"}),
            None,
        ),
        (
            "VXLAN Never",
            json!({"cidr": "1.2.3.0/24", "vxlanMode": "Never"}),
            None,
        ),
        (
            "VXLAN never",
            json!({"cidr": "1.2.3.0/24", "vxlanMode": "never"}),
            Some("spec.vxlanMode"),
        ),
        (
            "VXLAN badVal",
            json!({"cidr": "1.2.3.0/24", "vxlanMode": "badVal"}),
            Some("spec.vxlanMode"),
        ),
        (
            "block size 20",
            json!({"cidr": "10.0.0.0/16", "blockSize": 20}),
            None,
        ),
        (
            "block size 32",
            json!({"cidr": "10.0.0.0/16", "blockSize": 32}),
            None,
        ),
        (
            "block size 19",
            json!({"cidr": "10.0.0.0/16", "blockSize": 19}),
            Some("spec.blockSize"),
        ),
        (
            "block size 33",
            json!({"cidr": "10.0.0.0/16", "blockSize": 33}),
            Some("spec.blockSize"),
        ),
        (
            "IPv6 block size 116",
            json!({"cidr": "fd00::/64", "blockSize": 116}),
            None,
        ),
        (
            "IPv6 block size 128",
            json!({"cidr": "fd00::/64", "blockSize": 128}),
            None,
        ),
        (
            "IPv6 block size 115",
            json!({"cidr": "fd00::/64", "blockSize": 115}),
            Some("spec.blockSize"),
        ),
        (
            "IPv6 block size 26",
            json!({"cidr": "fd00::/64", "blockSize": 26}),
            Some("spec.blockSize"),
        ),
        (
            "pool smaller than its block",
            json!({"cidr": "10.0.0.0/28", "blockSize": 26}),
            Some("spec.cidr"),
        ),
        (
            "disabled pool smaller than its block",
            json!({"cidr": "10.0.0.0/28", "blockSize": 26, "disabled": true}),
            None,
        ),
        (
            "valid nodeSelector",
            json!({"cidr": "1.2.3.0/26", "nodeSelector": "foo == \"bar\""}),
            None,
        ),
        (
            "invalid nodeSelector",
            json!({"cidr": "1.2.3.0/26", "nodeSelector": "this is not valid selector syntax"}),
            Some("spec.nodeSelector"),
        ),
        (
            "global() nodeSelector",
            json!({"cidr": "1.2.3.0/26", "nodeSelector": "global()"}),
            Some("spec.nodeSelector"),
        ),
        (
            "global() namespaceSelector",
            json!({"cidr": "1.2.3.0/26", "allowedUses": ["Workload"], "namespaceSelector": "global()"}),
            Some("spec.namespaceSelector"),
        ),
        (
            "namespaceSelector for workloads",
            json!({"cidr": "1.2.3.0/26", "allowedUses": ["Workload"], "namespaceSelector": "env == 'prod'"}),
            None,
        ),
        (
            "namespaceSelector with Tunnel use",
            json!({"cidr": "1.2.3.0/26", "allowedUses": ["Workload", "Tunnel"], "namespaceSelector": "all()"}),
            Some("spec.namespaceSelector"),
        ),
        (
            "namespaceSelector with default uses",
            json!({"cidr": "1.2.3.0/26", "namespaceSelector": "all()"}),
            Some("spec.namespaceSelector"),
        ),
        (
            "invalid namespaceSelector",
            json!({"cidr": "1.2.3.0/26", "allowedUses": ["Workload"], "namespaceSelector": "a ==="}),
            Some("spec.namespaceSelector"),
        ),
        (
            "allowed uses Workload, Tunnel",
            json!({"cidr": "1.0.0.0/10", "allowedUses": ["Workload", "Tunnel"]}),
            None,
        ),
        (
            "allowed use Garbage",
            json!({"cidr": "1.0.0.0/10", "allowedUses": ["Garbage"]}),
            Some("spec.allowedUses[0]"),
        ),
        (
            "duplicate allowed use",
            json!({"cidr": "1.0.0.0/10", "allowedUses": ["Tunnel", "Tunnel"]}),
            Some("spec.allowedUses[1]"),
        ),
        (
            "LoadBalancer pool",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer"]}),
            None,
        ),
        (
            "LoadBalancer with Workload",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer", "Workload"]}),
            Some("spec.allowedUses"),
        ),
        (
            "LoadBalancer with Tunnel",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["Tunnel", "LoadBalancer"]}),
            Some("spec.allowedUses"),
        ),
        (
            "LoadBalancer with IPIP",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer"], "ipipMode": "Always"}),
            Some("spec.ipipMode"),
        ),
        (
            "LoadBalancer with VXLAN",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer"], "vxlanMode": "CrossSubnet"}),
            Some("spec.vxlanMode"),
        ),
        (
            "LoadBalancer without BGP export",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer"], "disableBGPExport": true}),
            Some("spec.disableBGPExport"),
        ),
        (
            "LoadBalancer with a node selector",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer"], "nodeSelector": "zone == 'a'"}),
            Some("spec.nodeSelector"),
        ),
        (
            "LoadBalancer with all()",
            json!({"cidr": "10.10.0.0/16", "allowedUses": ["LoadBalancer"], "nodeSelector": "all()"}),
            None,
        ),
        (
            "assignment Manual",
            json!({"cidr": "10.10.0.0/16", "assignmentMode": "Manual"}),
            None,
        ),
        (
            "assignment bogus",
            json!({"cidr": "10.10.0.0/16", "assignmentMode": "Sometimes"}),
            Some("spec.assignmentMode"),
        ),
        (
            "natOutgoing and disableBGPExport",
            json!({"cidr": "10.10.0.0/16", "natOutgoing": true, "disableBGPExport": true}),
            None,
        ),
    ];
    for (desc, spec, want) in cases {
        let errs = errors_after_defaults(pool("pool.name", spec.clone()));
        match want {
            None => assert!(errs.is_empty(), "{desc}: expected valid, got {errs:?}"),
            Some(path) => assert!(
                errs.iter().any(|e| e.starts_with(&format!("{path}:"))),
                "{desc}: expected an error at {path}, got {errs:?}"
            ),
        }
    }
}

#[test]
fn validation_without_defaults_uses_effective_values() {
    // Validation does not require defaults to have been applied first.
    let r = pool("p", json!({"cidr": "10.0.0.0/27"}));
    let err = r.validate().unwrap_err();
    assert_eq!(err.errors[0].path, "spec.cidr");
    assert!(err.errors[0].message.contains("/26"), "{}", err.errors[0]);
    assert!(pool("p", json!({"cidr": "10.0.0.0/26"})).validate().is_ok());
}

#[test]
fn metadata_cases() {
    let long63 = "x".repeat(63);
    let ok = |meta: Value| {
        let r = Resource::from_value(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "IPPool",
            "metadata": meta, "spec": {"cidr": "1.2.3.0/26"},
        }))
        .unwrap();
        r.validate().is_ok()
    };
    assert!(ok(
        json!({"name": "pool.name", "labels": {"projectcalico.org/label": long63}})
    ));
    assert!(!ok(
        json!({"name": "pool.name", "labels": {"projectcalico.org/label": "x".repeat(64)}})
    ));
    assert!(!ok(
        json!({"name": "pool.name", "labels": {"ProjectCalico.org/label": "value"}})
    ));
    assert!(ok(
        json!({"name": "pool.name", "labels": {"projectcalico.org/Label": "value"}})
    ));
    assert!(ok(json!({"name": "x".repeat(253)})));
    assert!(!ok(json!({"name": "x".repeat(254)})));
    assert!(!ok(json!({"name": "Pool"})));
}

#[test]
fn update_rules() {
    let mk = |spec: Value| {
        let mut r = pool("p", spec);
        r.apply_defaults();
        ippool(r)
    };
    let old = mk(json!({"cidr": "10.0.0.0/16"}));
    assert!(
        check_ippool_update(
            &old,
            &mk(json!({"cidr": "10.0.0.0/16", "natOutgoing": true}))
        )
        .is_empty()
    );

    let errs = check_ippool_update(&old, &mk(json!({"cidr": "10.1.0.0/16"})));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "spec.cidr");
    assert!(errs[0].message.contains("cannot be changed"), "{}", errs[0]);

    let errs = check_ippool_update(&old, &mk(json!({"cidr": "10.0.0.0/16", "blockSize": 28})));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].path, "spec.blockSize");

    // Unset and explicit default block sizes are the same.
    let raw = ippool(pool("p", json!({"cidr": "10.0.0.0/16"})));
    assert!(
        check_ippool_update(&raw, &mk(json!({"cidr": "10.0.0.0/16", "blockSize": 26}))).is_empty()
    );

    // Rewriting the CIDR in canonical form is allowed; other textual changes are not.
    let v6 = ippool(pool("p", json!({"cidr": "fd00:0::/48"})));
    assert!(check_ippool_update(&v6, &mk(json!({"cidr": "fd00::/48"}))).is_empty());
    assert!(!check_ippool_update(&v6, &mk(json!({"cidr": "fd00::/64"}))).is_empty());

    // A LoadBalancer pool cannot become a workload pool.
    let lb = mk(json!({"cidr": "10.9.0.0/16", "allowedUses": ["LoadBalancer"]}));
    let errs = check_ippool_update(
        &lb,
        &mk(json!({"cidr": "10.9.0.0/16", "allowedUses": ["Workload"]})),
    );
    assert_eq!(errs[0].path, "spec.allowedUses");
    let to_lb = check_ippool_update(
        &old,
        &mk(json!({"cidr": "10.0.0.0/16", "allowedUses": ["LoadBalancer"]})),
    );
    assert!(to_lb.is_empty(), "{to_lb:?}");
}

#[test]
fn overlap_rule() {
    let a = ippool(pool("a", json!({"cidr": "10.0.0.0/16"})));
    let b = ippool(pool("b", json!({"cidr": "10.0.128.0/17"})));
    let c = ippool(pool("c", json!({"cidr": "10.1.0.0/16"})));
    let errs = check_ippool_overlap(&b, &[a.clone(), c.clone()]);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].message.contains("overlaps IP pool a"),
        "{}",
        errs[0]
    );
    assert!(check_ippool_overlap(&c, std::slice::from_ref(&a)).is_empty());
    // The same pool (by name) is not an overlap with itself.
    assert!(check_ippool_overlap(&a, std::slice::from_ref(&a)).is_empty());
}

#[test]
fn accessors() {
    let p = ippool(pool(
        "p",
        json!({"cidr": "10.0.0.0/16", "vxlanMode": "CrossSubnet"}),
    ));
    assert_eq!(p.spec.is_ipv4(), Some(true));
    assert_eq!(p.spec.effective_block_size(), Some(26));
    assert_eq!(p.spec.vxlan(), Some(calico_api::EncapMode::CrossSubnet));
    assert_eq!(p.spec.ipip(), Some(calico_api::EncapMode::Never));
    assert!(p.spec.allows("Workload") && p.spec.allows("Tunnel") && !p.spec.allows("LoadBalancer"));
    assert_eq!(p.spec.effective_node_selector(), "all()");
}

#[test]
fn status_conditions_round_trip() {
    let v = json!({
        "apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "p"},
        "spec": {"cidr": "10.0.0.0/16"},
        "status": {"conditions": [{
            "type": "Allocatable", "status": "True", "reason": "OK", "message": "",
            "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 3,
        }]},
    });
    let r = Resource::from_value(v).unwrap();
    let back = r.to_value();
    assert_eq!(back["status"]["conditions"][0]["type"], "Allocatable");
    assert_eq!(Resource::from_value(back).unwrap(), r);
}

#[test]
fn ipreservation_cases() {
    let res = |cidrs: Value| {
        Resource::from_value(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "IPReservation",
            "metadata": {"name": "ip-reservation.name"},
            "spec": {"reservedCIDRs": cidrs},
        }))
        .unwrap()
        .validate()
    };
    assert!(res(json!(["10.0.0.1"])).is_ok());
    assert!(res(json!(["10.0.1.0/24"])).is_ok());
    assert!(res(json!(["10.0.1.0/24", "192.168.0.34"])).is_ok());
    assert!(res(json!(["10.0.0.1", "cafe::1", "cafe:f00d::/96"])).is_ok());
    assert!(
        res(json!(["10.0.1.5/24"])).is_ok(),
        "host bits are allowed in reservations"
    );
    let e = res(json!(["10.0.0.1", "garbage"])).unwrap_err();
    assert_eq!(e.errors[0].path, "spec.reservedCIDRs[1]");
    assert!(res(json!(["10.0.1.0/33"])).is_err());
}
