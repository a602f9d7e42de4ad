//! Datastore keys and values → calculation-graph inputs: `projectcalico.org/v3` (and accepted
//! Kubernetes) resources under `/calico/resources/v3/...`, and IPAM blocks
//! (`/calico/ipam/v2/assignment/ipv4/block/<cidr>`, for block affinities). Other keys (IPAM
//! handles and affinity records, configuration) are not graph inputs.

use calico_api::{KINDS, KindInfo, Resource};
use calico_calc::{BlockInfo, ResourceKey, Update};
use ipnet::IpNet;

use crate::syncer::KeyUpdate;

const RESOURCES: &str = "/calico/resources/v3/";
const BLOCKS: &[&str] = &[
    "/calico/ipam/v2/assignment/ipv4/block/",
    "/calico/ipam/v2/assignment/ipv6/block/",
];

/// A key that names a resource: its kind, namespace and name.
pub fn resource_key(key: &str) -> Option<(&'static KindInfo, String, String)> {
    let rest = key.strip_prefix(RESOURCES)?;
    let (group, rest) = rest.split_once('/')?;
    let (plural, rest) = rest.split_once('/')?;
    let info = KINDS.iter().find(|k| {
        k.plural == plural
            && (if group == "projectcalico.org" {
                k.is_calico()
            } else {
                group == "k8s" && !k.is_calico()
            })
    })?;
    if info.namespaced {
        let (ns, name) = rest.split_once('/')?;
        Some((info, ns.to_string(), name.to_string()))
    } else {
        Some((info, String::new(), rest.to_string()))
    }
}

/// The CIDR of a block key (`10.0.0.0-26` → `10.0.0.0/26`).
pub fn block_cidr(key: &str) -> Option<IpNet> {
    let tail = BLOCKS.iter().find_map(|p| key.strip_prefix(p))?;
    let (addr, len) = tail.rsplit_once('-')?;
    format!("{addr}/{len}").parse().ok()
}

/// Convert one key update; `Ok(None)` for keys the graph does not take, `Err` for a value
/// that cannot be read (the caller logs it and treats the key as deleted).
pub fn to_update(u: &KeyUpdate) -> Result<Option<Update>, String> {
    match u {
        KeyUpdate::InSync => Ok(Some(Update::InSync)),
        KeyUpdate::Delete { key } => {
            if let Some((info, ns, name)) = resource_key(key) {
                return Ok(Some(Update::Delete(ResourceKey::from_kind(
                    info, &ns, &name,
                ))));
            }
            Ok(block_cidr(key).map(Update::BlockDelete))
        }
        KeyUpdate::Put {
            key,
            value,
            revision,
        } => {
            if let Some((info, _, _)) = resource_key(key) {
                let v: serde_json::Value = serde_json::from_slice(value)
                    .map_err(|e| format!("{key}: stored value is not JSON: {e}"))?;
                let mut r = if v.get("kind").is_some() {
                    Resource::from_value(v)
                } else {
                    info.decode(v)
                }
                .map_err(|e| format!("{key}: {e}"))?;
                r.metadata_mut().resource_version = revision.to_string();
                return Ok(Some(Update::Upsert(r)));
            }
            if let Some(cidr) = block_cidr(key) {
                let v: serde_json::Value = serde_json::from_slice(value)
                    .map_err(|e| format!("{key}: stored block is not JSON: {e}"))?;
                let affinity = v.get("affinity").and_then(|a| a.as_str());
                return Ok(Some(Update::Block(BlockInfo::from_affinity(
                    cidr, affinity,
                ))));
            }
            Ok(None)
        }
    }
}

/// The delete that replaces an unreadable value.
pub fn delete_for(key: &str) -> Option<Update> {
    to_update(&KeyUpdate::Delete { key: key.into() })
        .ok()
        .flatten()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_kinds() {
        let (i, ns, n) =
            resource_key("/calico/resources/v3/projectcalico.org/networkpolicies/ns1/p").unwrap();
        assert_eq!(
            (i.kind, ns.as_str(), n.as_str()),
            ("NetworkPolicy", "ns1", "p")
        );
        assert!(i.is_calico());
        let (i, _, _) = resource_key("/calico/resources/v3/k8s/networkpolicies/ns1/p").unwrap();
        assert!(!i.is_calico());
        let (i, ns, n) = resource_key("/calico/resources/v3/projectcalico.org/nodes/n1").unwrap();
        assert_eq!((i.kind, ns.as_str(), n.as_str()), ("Node", "", "n1"));
        assert!(resource_key("/calico/ipam/v2/handle/x").is_none());
        assert_eq!(
            block_cidr("/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26")
                .unwrap()
                .to_string(),
            "10.0.0.0/26"
        );
    }

    #[test]
    fn values_decode() {
        let put = KeyUpdate::Put {
            key: "/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26".into(),
            value: br#"{"cidr":"10.0.0.64/26","affinity":"host:n2"}"#.to_vec(),
            revision: 5,
        };
        assert_eq!(
            to_update(&put).unwrap(),
            Some(Update::Block(BlockInfo {
                cidr: "10.0.0.64/26".parse().unwrap(),
                affinity: Some("n2".into())
            }))
        );
        let put = KeyUpdate::Put {
            key: "/calico/resources/v3/projectcalico.org/ippools/p".into(),
            value: br#"{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"p"},"spec":{"cidr":"10.0.0.0/16"}}"#.to_vec(),
            revision: 7,
        };
        match to_update(&put).unwrap() {
            Some(Update::Upsert(Resource::IPPool(p))) => {
                assert_eq!(p.metadata.resource_version, "7")
            }
            other => panic!("{other:?}"),
        }
        let bad = KeyUpdate::Put {
            key: "/calico/resources/v3/projectcalico.org/ippools/p".into(),
            value: b"{nope".to_vec(),
            revision: 8,
        };
        assert!(
            to_update(&bad)
                .unwrap_err()
                .starts_with("/calico/resources/v3/projectcalico.org/ippools/p")
        );
        assert!(matches!(
            delete_for("/calico/resources/v3/projectcalico.org/ippools/p"),
            Some(Update::Delete(_))
        ));
    }
}
