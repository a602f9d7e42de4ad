//! The typed client against the in-memory and embedded backends: CRUD, CAS, defaults, tiers,
//! cluster information, immutable fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use calico_api::{Resource, find_kind};
use calico_client::{Client, ClientError};
use calico_datastore::memory::MemoryBackend;
use serde_json::json;

fn client() -> Client {
    Client::new(Arc::new(MemoryBackend::new()))
}

fn res(v: serde_json::Value) -> Resource {
    Resource::from_value(v).unwrap()
}

fn pool(name: &str, cidr: &str) -> Resource {
    res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
               "metadata": {"name": name}, "spec": {"cidr": cidr}}),
    )
}

#[test]
fn create_get_list_delete() {
    let c = client();
    let created = c.create(pool("p1", "10.1.0.0/16")).unwrap();
    assert!(!created.metadata().uid.is_empty());
    assert!(created.metadata().creation_timestamp.is_some());
    let info = find_kind("IPPool", None).unwrap();
    let got = c.get(info, "", "p1").unwrap();
    assert_eq!(
        got.metadata().resource_version,
        created.metadata().resource_version
    );
    // defaults were applied and stored
    let spec = got.to_value()["spec"].clone();
    assert_eq!(spec["blockSize"], 26, "{spec}");
    assert_eq!(spec["nodeSelector"], "all()", "{spec}");
    c.create(pool("p2", "10.2.0.0/16")).unwrap();
    let (items, _) = c.list(info, None).unwrap();
    let names: Vec<&str> = items.iter().map(|r| r.name()).collect();
    assert_eq!(names, ["p1", "p2"]);
    c.delete(info, "", "p1", None).unwrap();
    assert!(matches!(
        c.get(info, "", "p1"),
        Err(ClientError::NotFound { .. })
    ));
    assert!(matches!(
        c.delete(info, "", "p1", None),
        Err(ClientError::NotFound { .. })
    ));
}

#[test]
fn duplicate_create_is_already_exists() {
    let c = client();
    c.create(pool("p1", "10.1.0.0/16")).unwrap();
    let e = c.create(pool("p1", "10.1.0.0/16")).unwrap_err();
    assert_eq!(e.to_string(), "resource already exists: IPPool(p1)");
}

#[test]
fn invalid_resource_is_rejected_and_not_written() {
    let c = client();
    let e = c.create(pool("p1", "10.0.0.1/16")).unwrap_err();
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");
    assert!(e.to_string().contains("spec.cidr"), "{e}");
    let info = find_kind("IPPool", None).unwrap();
    assert!(c.list(info, None).unwrap().0.is_empty());
}

#[test]
fn replace_with_stale_resource_version_conflicts() {
    let c = client();
    let v1 = c.create(pool("p1", "10.1.0.0/16")).unwrap();
    let mut a = v1.clone();
    a.metadata_mut().labels.insert("x".into(), "1".into());
    let v2 = c.update(a).unwrap();
    assert_ne!(
        v1.metadata().resource_version,
        v2.metadata().resource_version
    );
    assert_eq!(v2.metadata().uid, v1.metadata().uid);
    let mut stale = v1.clone();
    stale.metadata_mut().labels.insert("x".into(), "2".into());
    let e = c.update(stale).unwrap_err();
    assert!(matches!(e, ClientError::Conflict { .. }), "{e}");
    // apply ignores the resourceVersion
    let mut again = v1;
    again.metadata_mut().labels.insert("x".into(), "3".into());
    let applied = c.apply(again).unwrap();
    assert_eq!(applied.metadata().labels["x"], "3");
}

#[test]
fn update_of_missing_resource_is_not_found() {
    let c = client();
    let e = c.update(pool("nope", "10.1.0.0/16")).unwrap_err();
    assert!(matches!(e, ClientError::NotFound { .. }), "{e}");
}

#[test]
fn pool_cidr_is_immutable() {
    let c = client();
    c.create(pool("p1", "10.1.0.0/16")).unwrap();
    let e = c.update(pool("p1", "10.9.0.0/16")).unwrap_err();
    assert!(e.to_string().contains("spec.cidr"), "{e}");
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");
}

#[test]
fn policy_needs_its_tier_and_default_tiers_appear() {
    let c = client();
    let np = |tier: &str| {
        res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                   "metadata": {"name": format!("{tier}.p"), "namespace": "ns1"},
                   "spec": {"tier": tier, "selector": "all()"}}),
        )
    };
    let e = c.create(np("missing")).unwrap_err();
    assert!(
        e.to_string().contains("tier \"missing\" does not exist"),
        "{e}"
    );
    // the default tier is created on demand
    let p = res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                       "metadata": {"name": "p", "namespace": "ns1"},
                       "spec": {"selector": "all()"}}),
    );
    c.create(p).unwrap();
    let tiers = c.list(find_kind("Tier", None).unwrap(), None).unwrap().0;
    let names: Vec<&str> = tiers.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["default", "kube-admin", "kube-baseline"]);
    let e = c
        .delete(find_kind("Tier", None).unwrap(), "", "default", None)
        .unwrap_err();
    assert!(e.to_string().contains("cannot be deleted"), "{e}");
}

#[test]
fn namespaced_kinds_default_to_the_default_namespace() {
    let c = client();
    let ns = res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkSet",
                        "metadata": {"name": "s"}, "spec": {"nets": ["10.0.0.0/8"]}}),
    );
    let r = c.create(ns).unwrap();
    assert_eq!(r.namespace(), "default");
}

#[test]
fn cluster_information_is_created_once() {
    let c = client();
    let a = c.ensure_cluster_information().unwrap();
    let b = c.ensure_cluster_information().unwrap();
    let guid = a.to_value()["spec"]["clusterGUID"].clone();
    assert_eq!(guid.as_str().unwrap().len(), 32);
    assert_eq!(guid, b.to_value()["spec"]["clusterGUID"]);
}

#[test]
fn works_on_the_embedded_store_across_clients() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    let open = || {
        Client::new(Arc::new(
            calico_datastore::embedded::EmbeddedBackend::open(&path).unwrap(),
        ))
    };
    open().create(pool("p1", "10.1.0.0/16")).unwrap();
    let info = find_kind("IPPool", None).unwrap();
    assert_eq!(open().get(info, "", "p1").unwrap().name(), "p1");
}

#[test]
fn overlapping_pools_are_rejected() {
    let c = client();
    c.create(pool("p1", "10.1.0.0/16")).unwrap();
    let e = c.create(pool("p2", "10.1.128.0/17")).unwrap_err();
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");
    assert!(e.to_string().contains("spec.cidr"), "{e}");
}
