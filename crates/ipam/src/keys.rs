//! Calico's etcd key layout for IPAM records (only the `/` of a CIDR becomes `-`):
//!
//! - `/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26`
//! - `/calico/ipam/v2/host/<node>/ipv4/block/10.0.0.0-26`
//! - `/calico/ipam/v2/handle/<handle id>`
//! - `/calico/ipam/v2/config`
//!
//! Pure string functions; the datastore adapter and the in-memory store share them.

use ipnet::IpNet;

use crate::addr::IpVersion;
use crate::store::{Listing, RecordKey};

pub const IPAM_ROOT: &str = "/calico/ipam/v2/";
const BLOCKS: &str = "/calico/ipam/v2/assignment/";
const HOSTS: &str = "/calico/ipam/v2/host/";
const HANDLES: &str = "/calico/ipam/v2/handle/";
pub const CONFIG_KEY: &str = "/calico/ipam/v2/config";

/// `10.0.0.0/26` → `10.0.0.0-26`.
pub fn cidr_segment(cidr: &IpNet) -> String {
    format!("{}-{}", cidr.network(), cidr.prefix_len())
}

/// `10.0.0.0-26` → `10.0.0.0/26`.
pub fn parse_cidr_segment(s: &str) -> Option<IpNet> {
    let (addr, len) = s.rsplit_once('-')?;
    format!("{addr}/{len}").parse().ok()
}

impl RecordKey {
    /// The etcd key.
    pub fn path(&self) -> String {
        match self {
            RecordKey::Block(cidr) => format!(
                "{BLOCKS}{}/block/{}",
                IpVersion::of_net(cidr).key_segment(),
                cidr_segment(cidr)
            ),
            RecordKey::Affinity { host, cidr } => format!(
                "{HOSTS}{host}/{}/block/{}",
                IpVersion::of_net(cidr).key_segment(),
                cidr_segment(cidr)
            ),
            RecordKey::Handle(id) => format!("{HANDLES}{id}"),
            RecordKey::Config => CONFIG_KEY.to_string(),
        }
    }

    /// The record key an etcd key names, if it is one.
    pub fn parse(path: &str) -> Option<RecordKey> {
        if path == CONFIG_KEY {
            return Some(RecordKey::Config);
        }
        if let Some(id) = path.strip_prefix(HANDLES) {
            return (!id.is_empty()).then(|| RecordKey::Handle(id.to_string()));
        }
        if let Some(rest) = path.strip_prefix(BLOCKS) {
            let (_ver, rest) = rest.split_once('/')?;
            let cidr = parse_cidr_segment(rest.strip_prefix("block/")?)?;
            return Some(RecordKey::Block(cidr));
        }
        let rest = path.strip_prefix(HOSTS)?;
        // The node name cannot contain '/', the CIDR segment neither.
        let mut parts = rest.splitn(4, '/');
        let host = parts.next()?;
        let _ver = parts.next()?;
        if parts.next()? != "block" || host.is_empty() {
            return None;
        }
        let cidr = parse_cidr_segment(parts.next()?)?;
        Some(RecordKey::Affinity {
            host: host.to_string(),
            cidr,
        })
    }
}

impl Listing {
    /// The key prefix that selects the listed records.
    pub fn prefix(&self) -> String {
        match self {
            Listing::Blocks { version: Some(v) } => format!("{BLOCKS}{}/block/", v.key_segment()),
            Listing::Blocks { version: None } => BLOCKS.to_string(),
            Listing::Affinities {
                host: Some(h),
                version: Some(v),
            } => format!("{HOSTS}{h}/{}/block/", v.key_segment()),
            Listing::Affinities {
                host: Some(h),
                version: None,
            } => format!("{HOSTS}{h}/"),
            Listing::Affinities { host: None, .. } => HOSTS.to_string(),
            Listing::Handles => HANDLES.to_string(),
        }
    }

    /// Whether a parsed key belongs to this listing (a prefix can match more, e.g. all hosts
    /// listed for one version).
    pub fn selects(&self, key: &RecordKey) -> bool {
        match (self, key) {
            (Listing::Blocks { version }, RecordKey::Block(c)) => {
                version.is_none_or(|v| v == IpVersion::of_net(c))
            }
            (Listing::Affinities { host, version }, RecordKey::Affinity { host: h, cidr }) => {
                host.as_ref().is_none_or(|x| x == h)
                    && version.is_none_or(|v| v == IpVersion::of_net(cidr))
            }
            (Listing::Handles, RecordKey::Handle(_)) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_calico_and_parse_back() {
        let v4: IpNet = "10.0.0.0/26".parse().unwrap();
        let v6: IpNet = "fd00::40/122".parse().unwrap();
        let cases = [
            (
                RecordKey::Block(v4),
                "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26",
            ),
            (
                RecordKey::Block(v6),
                "/calico/ipam/v2/assignment/ipv6/block/fd00::40-122",
            ),
            (
                RecordKey::Affinity {
                    host: "node-1".into(),
                    cidr: v4,
                },
                "/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.0-26",
            ),
            (
                RecordKey::Handle("k8s-pod-network.abc".into()),
                "/calico/ipam/v2/handle/k8s-pod-network.abc",
            ),
            (RecordKey::Config, "/calico/ipam/v2/config"),
        ];
        for (key, path) in cases {
            assert_eq!(key.path(), path);
            assert_eq!(RecordKey::parse(path), Some(key));
        }
        assert_eq!(
            RecordKey::parse("/calico/ipam/v2/host/x/ipv4/nope/1.2.3.0-24"),
            None
        );
        assert_eq!(RecordKey::parse("/calico/resources/v3/x"), None);
    }

    #[test]
    fn listing_prefixes() {
        let l = Listing::Affinities {
            host: Some("n".into()),
            version: Some(IpVersion::V6),
        };
        assert_eq!(l.prefix(), "/calico/ipam/v2/host/n/ipv6/block/");
        assert_eq!(
            Listing::Blocks { version: None }.prefix(),
            "/calico/ipam/v2/assignment/"
        );
    }
}
