//! calico/node's startup settings from the environment, parsed and checked before anything is
//! written: `NODENAME`, `CALICO_NODENAME_FILE`, `IP`, `IP_AUTODETECTION_METHOD`,
//! `CALICO_IPV4POOL_CIDR`, `CALICO_IPV4POOL_BLOCK_SIZE`, `CALICO_IPV4POOL_VXLAN`,
//! `CALICO_IPV4POOL_IPIP`, `CALICO_IPV4POOL_NAT_OUTGOING`, `CALICO_IPV4POOL_NODE_SELECTOR`,
//! `NO_DEFAULT_POOLS`, `CLUSTER_TYPE`, `DISABLE_NODE_IP_CHECK`.

use std::path::PathBuf;

use ipnet::Ipv4Net;

use crate::autodetect::{AutodetectError, Method};

/// Calico's default node name file.
pub const DEFAULT_NODENAME_FILE: &str = "/var/lib/calico/nodename";
/// The default IPv4 pool's name and CIDR.
pub const DEFAULT_IPV4_POOL_NAME: &str = "default-ipv4-ippool";
pub const DEFAULT_IPV4_POOL_CIDR: &str = "192.168.0.0/16";
pub const DEFAULT_IPV4_BLOCK_SIZE: u8 = 26;

/// A setting that cannot be used; names the variable and what was expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{var}={value:?} is not valid: expected {expected}")]
    Invalid {
        var: &'static str,
        value: String,
        expected: String,
    },
    #[error(
        "NO_DEFAULT_POOLS=true cannot be combined with CALICO_IPV4POOL_CIDR: remove one of them"
    )]
    NoPoolsWithCidr,
    #[error("{0}")]
    Autodetect(#[from] AutodetectError),
    #[error("cannot determine the node name: set NODENAME")]
    NoNodeName,
}

/// What `IP` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpSetting {
    /// `IP` unset: keep the address stored on the Node, autodetect when there is none.
    KeepOrAutodetect,
    /// `IP=autodetect`.
    Autodetect,
    /// `IP=none`: no IPv4 address.
    None,
    /// An explicit address, with its prefix when given.
    Explicit {
        addr: std::net::Ipv4Addr,
        prefix: Option<u8>,
    },
}

/// The default IPv4 pool calico/node creates when no IPv4 pool exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultPool {
    pub name: String,
    pub cidr: Ipv4Net,
    pub block_size: u8,
    pub ipip_mode: &'static str,
    pub vxlan_mode: &'static str,
    pub nat_outgoing: bool,
    pub node_selector: String,
}

/// Every startup setting.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    pub nodename: String,
    pub nodename_file: PathBuf,
    pub ip: IpSetting,
    pub autodetect: Method,
    /// `None` with `NO_DEFAULT_POOLS=true` or `CALICO_IPV4POOL_CIDR=none`.
    pub default_pool: Option<DefaultPool>,
    /// Extra `clusterType` entries for ClusterInformation (`CLUSTER_TYPE`).
    pub cluster_type: Vec<String>,
    pub disable_node_ip_check: bool,
}

/// calico/node's boolean parsing (`evaluateENVBool`): unset gives the default; `false`, `0`,
/// `no`, `n`, `f`, `off` (any case) are false, anything else true.
pub fn env_bool(value: Option<&str>, default: bool) -> bool {
    match value {
        None => default,
        Some(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "n" | "f" | "off"
        ),
    }
}

fn encap_mode(var: &'static str, v: Option<String>) -> Result<&'static str, SettingsError> {
    let v = v.unwrap_or_default();
    Ok(match v.trim().to_ascii_lowercase().as_str() {
        "" | "off" | "never" => "Never",
        "crosssubnet" | "cross-subnet" => "CrossSubnet",
        "always" => "Always",
        _ => {
            return Err(SettingsError::Invalid {
                var,
                value: v,
                expected: "Always, CrossSubnet or Never".into(),
            });
        }
    })
}

fn parse_ip(v: &str) -> Result<IpSetting, SettingsError> {
    let t = v.trim();
    match t.to_ascii_lowercase().as_str() {
        "" => return Ok(IpSetting::KeepOrAutodetect),
        "autodetect" => return Ok(IpSetting::Autodetect),
        "none" => return Ok(IpSetting::None),
        _ => {}
    }
    let bad = || SettingsError::Invalid {
        var: "IP",
        value: v.into(),
        expected: "an IPv4 address or CIDR, \"autodetect\" or \"none\"".into(),
    };
    if let Ok(n) = t.parse::<Ipv4Net>() {
        return Ok(IpSetting::Explicit {
            addr: n.addr(),
            prefix: Some(n.prefix_len()),
        });
    }
    t.parse::<std::net::Ipv4Addr>()
        .map(|addr| IpSetting::Explicit { addr, prefix: None })
        .map_err(|_| bad())
}

fn host_name(lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(h) = lookup("HOSTNAME").filter(|s| !s.trim().is_empty()) {
        return Some(h.trim().to_lowercase());
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

impl NodeSettings {
    /// From the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&|k| std::env::var(k).ok())
    }

    /// From any variable lookup (tests pass a map).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |k: &str| lookup(k).filter(|s| !s.trim().is_empty());
        let nodename_file = get("CALICO_NODENAME_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_NODENAME_FILE));
        // NODENAME > the node name file > HOSTNAME > the kernel's host name.
        let nodename = match get("NODENAME") {
            Some(n) => n.trim().to_string(),
            None => match std::fs::read_to_string(&nodename_file)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
            {
                Some(n) => n,
                None => host_name(lookup).ok_or(SettingsError::NoNodeName)?,
            },
        };
        let ip = parse_ip(&lookup("IP").unwrap_or_default())?;
        let autodetect = Method::parse(&lookup("IP_AUTODETECTION_METHOD").unwrap_or_default())?;

        let cidr_var = get("CALICO_IPV4POOL_CIDR");
        // calico/node compares the lower-cased value with "true".
        let no_pools =
            lookup("NO_DEFAULT_POOLS").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let default_pool = if no_pools {
            if cidr_var.is_some() {
                return Err(SettingsError::NoPoolsWithCidr);
            }
            None
        } else if cidr_var
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("none"))
        {
            None
        } else {
            let text = cidr_var.unwrap_or_else(|| DEFAULT_IPV4_POOL_CIDR.into());
            let cidr: Ipv4Net = text.trim().parse().map_err(|_| SettingsError::Invalid {
                var: "CALICO_IPV4POOL_CIDR",
                value: text.clone(),
                expected: "an IPv4 CIDR such as 192.168.0.0/16".into(),
            })?;
            let block_size = match get("CALICO_IPV4POOL_BLOCK_SIZE") {
                None => DEFAULT_IPV4_BLOCK_SIZE,
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|n| (20..=32).contains(n))
                    .ok_or_else(|| SettingsError::Invalid {
                        var: "CALICO_IPV4POOL_BLOCK_SIZE",
                        value: b.clone(),
                        expected: "a prefix length between 20 and 32".into(),
                    })?,
            };
            let ipip_mode = encap_mode("CALICO_IPV4POOL_IPIP", lookup("CALICO_IPV4POOL_IPIP"))?;
            let vxlan_mode = encap_mode("CALICO_IPV4POOL_VXLAN", lookup("CALICO_IPV4POOL_VXLAN"))?;
            if ipip_mode != "Never" && vxlan_mode != "Never" {
                return Err(SettingsError::Invalid {
                    var: "CALICO_IPV4POOL_IPIP",
                    value: lookup("CALICO_IPV4POOL_IPIP").unwrap_or_default(),
                    expected: "Never when CALICO_IPV4POOL_VXLAN is enabled (a pool uses one \
                               encapsulation)"
                        .into(),
                });
            }
            Some(DefaultPool {
                name: DEFAULT_IPV4_POOL_NAME.into(),
                cidr: cidr.trunc(),
                block_size,
                ipip_mode,
                vxlan_mode,
                nat_outgoing: env_bool(lookup("CALICO_IPV4POOL_NAT_OUTGOING").as_deref(), true),
                node_selector: get("CALICO_IPV4POOL_NODE_SELECTOR").unwrap_or_default(),
            })
        };
        let cluster_type = lookup("CLUSTER_TYPE")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Self {
            nodename,
            nodename_file,
            ip,
            autodetect,
            default_pool,
            cluster_type,
            disable_node_ip_check: env_bool(lookup("DISABLE_NODE_IP_CHECK").as_deref(), false),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<NodeSettings, SettingsError> {
        let mut m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.entry("CALICO_NODENAME_FILE".into())
            .or_insert_with(|| "/nonexistent/nodename".into());
        NodeSettings::from_lookup(&move |k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let s = settings(&[("NODENAME", "n1")]).unwrap();
        assert_eq!(s.nodename, "n1");
        assert_eq!(s.ip, IpSetting::KeepOrAutodetect);
        assert!(matches!(s.autodetect, Method::FirstFound));
        let p = s.default_pool.unwrap();
        assert_eq!(p.name, "default-ipv4-ippool");
        assert_eq!(p.cidr.to_string(), "192.168.0.0/16");
        assert_eq!((p.ipip_mode, p.vxlan_mode), ("Never", "Never"));
        assert!(p.nat_outgoing);
        assert_eq!(p.block_size, 26);
    }

    #[test]
    fn hostname_fallback() {
        let s = settings(&[("HOSTNAME", "MyHost")]).unwrap();
        assert_eq!(s.nodename, "myhost");
    }

    #[test]
    fn pool_variables() {
        let s = settings(&[
            ("NODENAME", "n1"),
            ("CALICO_IPV4POOL_CIDR", "10.244.0.0/16"),
            ("CALICO_IPV4POOL_VXLAN", "CrossSubnet"),
            ("CALICO_IPV4POOL_NAT_OUTGOING", "false"),
            ("CALICO_IPV4POOL_BLOCK_SIZE", "24"),
        ])
        .unwrap();
        let p = s.default_pool.unwrap();
        assert_eq!(p.cidr.to_string(), "10.244.0.0/16");
        assert_eq!(p.vxlan_mode, "CrossSubnet");
        assert!(!p.nat_outgoing);
        assert_eq!(p.block_size, 24);
        let e = settings(&[("NODENAME", "n"), ("CALICO_IPV4POOL_VXLAN", "sometimes")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CALICO_IPV4POOL_VXLAN=\"sometimes\" is not valid: expected Always, CrossSubnet or Never"
        );
        let e =
            settings(&[("NODENAME", "n"), ("CALICO_IPV4POOL_CIDR", "10.0.0.0/40")]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("CALICO_IPV4POOL_CIDR=\"10.0.0.0/40\""),
            "{e}"
        );
        let e = settings(&[
            ("NODENAME", "n"),
            ("CALICO_IPV4POOL_VXLAN", "Always"),
            ("CALICO_IPV4POOL_IPIP", "Always"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("one encapsulation"), "{e}");
    }

    #[test]
    fn no_default_pools() {
        let s = settings(&[("NODENAME", "n"), ("NO_DEFAULT_POOLS", "true")]).unwrap();
        assert!(s.default_pool.is_none());
        assert_eq!(
            settings(&[
                ("NODENAME", "n"),
                ("NO_DEFAULT_POOLS", "true"),
                ("CALICO_IPV4POOL_CIDR", "10.0.0.0/16")
            ])
            .unwrap_err(),
            SettingsError::NoPoolsWithCidr
        );
        let s = settings(&[("NODENAME", "n"), ("CALICO_IPV4POOL_CIDR", "none")]).unwrap();
        assert!(s.default_pool.is_none());
    }

    #[test]
    fn ip_forms() {
        let ip = |v: &str| settings(&[("NODENAME", "n"), ("IP", v)]).map(|s| s.ip);
        assert_eq!(ip("autodetect").unwrap(), IpSetting::Autodetect);
        assert_eq!(ip("none").unwrap(), IpSetting::None);
        assert_eq!(
            ip("10.0.0.5/24").unwrap(),
            IpSetting::Explicit {
                addr: "10.0.0.5".parse().unwrap(),
                prefix: Some(24)
            }
        );
        assert_eq!(
            ip("10.0.0.5").unwrap(),
            IpSetting::Explicit {
                addr: "10.0.0.5".parse().unwrap(),
                prefix: None
            }
        );
        assert!(
            ip("fe80::1")
                .unwrap_err()
                .to_string()
                .starts_with("IP=\"fe80::1\"")
        );
        let e = settings(&[("NODENAME", "n"), ("IP_AUTODETECTION_METHOD", "guess")]).unwrap_err();
        assert!(e.to_string().contains("\"guess\""), "{e}");
    }

    #[test]
    fn bools() {
        assert!(env_bool(None, true));
        assert!(!env_bool(Some("FALSE"), true));
        assert!(env_bool(Some("yes"), false));
        assert!(!env_bool(Some("0"), true));
    }
}
