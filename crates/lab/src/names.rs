//! Names and addresses of a lab's parts (pure).
//!
//! | part | network namespace | address |
//! |---|---|---|
//! | underlay (bridge `br0`, etcd) | `cl-<lab>-ul` | 172.18.0.1/24 on `br0` |
//! | node I (1-based) | `cl-<lab>-n<I>` | 172.18.0.(10+I)/24 on `eth0`, default route via 172.18.0.1 |
//! | pod NS/NAME | `cl-<lab>-p-<NS>-<NAME>` (`cl-<lab>-p-<hash>` when longer than 60) | from the pool |
//!
//! Each lab's underlay is its own namespace, so two labs use the same addresses without meeting.

use std::net::Ipv4Addr;

use crate::error::{LabError, Result};

/// Prefix of every namespace a lab makes.
pub const NETNS_PREFIX: &str = "cl-";
/// The underlay subnet (inside the lab's underlay namespace).
pub const UNDERLAY_CIDR: &str = "172.18.0.0/24";
/// Prefix length of the underlay.
pub const UNDERLAY_PREFIX: u8 = 24;
/// The underlay namespace's address on its bridge (the nodes' gateway, etcd's address).
pub const UNDERLAY_GATEWAY: Ipv4Addr = Ipv4Addr::new(172, 18, 0, 1);
/// etcd's client port on the underlay.
pub const ETCD_CLIENT_PORT: u16 = 2379;
/// The most nodes a lab can have (addresses .11 to .210).
pub const MAX_NODES: usize = 200;
/// The longest namespace name the lab makes.
const MAX_NETNS_LEN: usize = 60;

/// Check a lab name: 1 to 20 characters, lowercase letters, digits and `-`, starting with a
/// letter or digit.
pub fn validate_lab_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 20
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(LabError::Invalid(format!(
            "--name {name:?}: expected 1-20 characters of a-z, 0-9 and '-', not starting with '-'"
        )))
    }
}

/// Check a Kubernetes object name (a DNS-1123 label).
pub fn validate_k8s_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(LabError::Invalid(format!(
            "{what} {name:?}: expected a DNS label (a-z, 0-9 and '-', at most 63 characters)"
        )))
    }
}

/// Split `NS/NAME`, checking both parts.
pub fn parse_pod_ref(s: &str) -> Result<(String, String)> {
    let Some((ns, name)) = s.split_once('/') else {
        return Err(LabError::Invalid(format!(
            "pod {s:?}: expected NAMESPACE/NAME, for example x/a"
        )));
    };
    validate_k8s_name("namespace", ns)?;
    validate_k8s_name("pod name", name)?;
    Ok((ns.to_string(), name.to_string()))
}

/// The underlay namespace.
pub fn underlay_netns(lab: &str) -> String {
    format!("{NETNS_PREFIX}{lab}-ul")
}

/// Node `index`'s namespace (1-based).
pub fn node_netns(lab: &str, index: usize) -> String {
    format!("{NETNS_PREFIX}{lab}-n{index}")
}

/// Node `index`'s Calico node name.
pub fn node_name(index: usize) -> String {
    format!("node{index}")
}

/// Node `index`'s underlay address.
pub fn node_ip(index: usize) -> Ipv4Addr {
    // MAX_NODES keeps this within the /24.
    let last = 10 + index.min(MAX_NODES);
    Ipv4Addr::new(172, 18, 0, u8::try_from(last).unwrap_or(u8::MAX))
}

/// The underlay-side veth of node `index`.
pub fn node_uplink(index: usize) -> String {
    format!("n{index}")
}

/// A pod's namespace.
pub fn pod_netns(lab: &str, ns: &str, pod: &str) -> String {
    let full = format!("{NETNS_PREFIX}{lab}-p-{ns}-{pod}");
    if full.len() <= MAX_NETNS_LEN {
        full
    } else {
        format!(
            "{NETNS_PREFIX}{lab}-p-{:016x}",
            fnv1a64(format!("{ns}/{pod}").as_bytes())
        )
    }
}

/// A container ID for a pod's sandbox: 64 hex digits, unique per add.
pub fn container_id(lab: &str, ns: &str, pod: &str, nonce: u128) -> String {
    let a = fnv1a64(format!("{lab}/{ns}/{pod}").as_bytes());
    let b = fnv1a64(&nonce.to_le_bytes());
    let c = fnv1a64(format!("{a:x}{b:x}").as_bytes());
    format!("{a:016x}{b:016x}{c:016x}{:016x}", a ^ b ^ c)
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lab_names() {
        for ok in ["default", "a", "lab-2", "0x"] {
            validate_lab_name(ok).unwrap();
        }
        for bad in ["", "-a", "A", "a_b", "a/b", "abcdefghijklmnopqrstu"] {
            let e = validate_lab_name(bad).unwrap_err().to_string();
            assert!(e.contains("--name"), "{e}");
        }
    }

    #[test]
    fn pod_refs() {
        assert_eq!(parse_pod_ref("x/a").unwrap(), ("x".into(), "a".into()));
        for bad in ["x", "x/", "/a", "X/a", "x/a/b", "x/-a"] {
            assert!(parse_pod_ref(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn namespace_names() {
        assert_eq!(underlay_netns("default"), "cl-default-ul");
        assert_eq!(node_netns("default", 2), "cl-default-n2");
        assert_eq!(pod_netns("default", "x", "a"), "cl-default-p-x-a");
        let long = pod_netns("default", &"n".repeat(40), &"p".repeat(40));
        assert!(
            long.len() <= 60 && long.starts_with("cl-default-p-"),
            "{long}"
        );
        assert_ne!(long, pod_netns("default", &"n".repeat(40), &"q".repeat(40)));
    }

    #[test]
    fn addresses() {
        assert_eq!(node_ip(1), Ipv4Addr::new(172, 18, 0, 11));
        assert_eq!(node_ip(MAX_NODES), Ipv4Addr::new(172, 18, 0, 210));
        assert_eq!(node_name(1), "node1");
    }

    #[test]
    fn container_ids_are_unique_hex() {
        let a = container_id("l", "x", "a", 1);
        let b = container_id("l", "x", "a", 2);
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
