//! The network configuration on a plugin's stdin (`NetConf`), with Calico's fields.
//!
//! [`parse_netconf`] takes raw stdin bytes and never panics: empty input or bad JSON is error
//! code 6, a field of the wrong type or a missing required field is code 7 (with the field's
//! path), an unsupported `cniVersion` is code 1. Unknown fields are kept (runtimes add their
//! own), the whole document is kept as JSON for delegating to another IPAM plugin.
//!
//! calico-rs extension: `datastore_path` names the embedded datastore file (otherwise
//! `CALICO_DATASTORE_PATH`, then `/var/lib/calico/calico.db`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::error::{CODE_DECODE, CniError};
use crate::version;

/// `ipam` of the network configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct IpamConf {
    #[serde(rename = "type")]
    pub ipam_type: String,
    /// calico-ipam: assign an IPv4 address (default true). Calico writes `"true"`/`"false"`.
    #[serde(deserialize_with = "opt_bool")]
    pub assign_ipv4: Option<bool>,
    /// calico-ipam: assign an IPv6 address (default false).
    #[serde(deserialize_with = "opt_bool")]
    pub assign_ipv6: Option<bool>,
    /// calico-ipam: pools (names or CIDRs) to allocate IPv4 from.
    pub ipv4_pools: Vec<String>,
    pub ipv6_pools: Vec<String>,
    /// host-local: `subnet` (`usePodCidr` is Calico's magic value).
    pub subnet: String,
}

impl IpamConf {
    pub fn want_v4(&self) -> bool {
        self.assign_ipv4.unwrap_or(true)
    }

    pub fn want_v6(&self) -> bool {
        self.assign_ipv6.unwrap_or(false)
    }
}

/// `container_settings`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerSettings {
    #[serde(deserialize_with = "de_bool")]
    pub allow_ip_forwarding: bool,
}

/// `policy`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct PolicyConf {
    #[serde(rename = "type")]
    pub policy_type: String,
    pub k8s_api_root: String,
}

/// `kubernetes`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct KubernetesConf {
    pub kubeconfig: String,
    pub k8s_api_root: String,
    pub node_name: String,
}

/// `feature_control`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct FeatureControl {
    #[serde(deserialize_with = "de_bool")]
    pub ip_addrs_no_ipam: bool,
    #[serde(deserialize_with = "de_bool")]
    pub floating_ips: bool,
}

/// The parsed network configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetConf {
    #[serde(rename = "cniVersion")]
    pub cni_version: String,
    pub name: String,
    #[serde(rename = "type")]
    pub plugin_type: String,
    pub ipam: IpamConf,
    #[serde(deserialize_with = "de_u32")]
    pub mtu: u32,
    #[serde(deserialize_with = "de_u32")]
    pub num_queues: u32,
    pub nodename: String,
    pub nodename_file: String,
    #[serde(deserialize_with = "de_bool")]
    pub nodename_file_optional: bool,
    pub hostname: String,
    pub datastore_type: String,
    pub etcd_endpoints: String,
    pub etcd_key_file: String,
    pub etcd_cert_file: String,
    pub etcd_ca_cert_file: String,
    /// calico-rs extension: the embedded datastore file.
    pub datastore_path: String,
    pub log_level: String,
    pub log_file_path: String,
    pub container_settings: ContainerSettings,
    pub policy: PolicyConf,
    pub kubernetes: KubernetesConf,
    pub feature_control: FeatureControl,
    #[serde(deserialize_with = "de_bool")]
    pub include_default_routes: bool,
    pub mode: String,
    pub device_type: String,
    #[serde(rename = "runtimeConfig")]
    pub runtime_config: serde_json::Value,
    #[serde(rename = "prevResult")]
    pub prev_result: Option<serde_json::Value>,
    /// Any other field, kept as given.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A parsed configuration and the document it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub conf: NetConf,
    pub raw: serde_json::Value,
}

/// Parse a plugin's stdin. Never panics.
pub fn parse_netconf(bytes: &[u8]) -> Result<Parsed, CniError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CniError::new(
            CODE_DECODE,
            "empty network configuration on stdin: expected a JSON object",
        ));
    }
    let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        CniError::new(CODE_DECODE, "network configuration is not valid JSON")
            .with_details(e.to_string())
    })?;
    if !raw.is_object() {
        return Err(CniError::new(
            CODE_DECODE,
            "network configuration must be a JSON object",
        ));
    }
    let mut conf: NetConf = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let path = e.path().to_string();
        CniError::invalid_config(format!("invalid network configuration: {path}"))
            .with_details(e.into_inner().to_string())
    })?;
    if conf.cni_version.is_empty() {
        // Calico's default when a configuration names no version.
        conf.cni_version = "0.2.0".into();
    }
    version::layout(&conf.cni_version)?;
    Ok(Parsed { conf, raw })
}

impl NetConf {
    /// The checks every command needs: a valid network name and a plugin type.
    pub fn validate(&self) -> Result<(), CniError> {
        if self.name.is_empty() {
            return Err(CniError::invalid_config(
                "invalid network configuration: name: missing (required)",
            ));
        }
        let ok = self
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && self
                .name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(CniError::invalid_config(format!(
                "invalid network configuration: name {:?}: expected alphanumerics, '-', '_' and '.', starting with an alphanumeric",
                self.name
            )));
        }
        if !matches!(self.device_type.as_str(), "" | "veth") {
            return Err(CniError::invalid_config(format!(
                "invalid network configuration: device_type {:?}: only \"veth\" is supported",
                self.device_type
            )));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolLike {
    Bool(bool),
    Str(String),
}

fn bool_from(v: BoolLike) -> Result<bool, String> {
    match v {
        BoolLike::Bool(b) => Ok(b),
        BoolLike::Str(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(format!("{s:?} is not a boolean: expected true or false")),
        },
    }
}

fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v: Option<BoolLike> = Option::deserialize(d)?;
    v.map(bool_from)
        .transpose()
        .map_err(serde::de::Error::custom)
}

fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

fn de_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumLike {
        Num(u32),
        Str(String),
    }
    match Option::<NumLike>::deserialize(d)? {
        None => Ok(0),
        Some(NumLike::Num(n)) => Ok(n),
        Some(NumLike::Str(s)) if s.is_empty() => Ok(0),
        Some(NumLike::Str(s)) => s
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a non-negative integer"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STOCK: &str = r#"{
      "name": "k8s-pod-network", "cniVersion": "0.3.1",
      "type": "calico", "log_level": "info", "log_file_path": "/var/log/calico/cni/cni.log",
      "datastore_type": "etcdv3", "etcd_endpoints": "http://10.0.0.1:2379",
      "nodename": "node-1", "mtu": 1410,
      "ipam": {"type": "calico-ipam", "assign_ipv4": "true", "assign_ipv6": "false", "ipv4_pools": ["default-ipv4-ippool"]},
      "container_settings": {"allow_ip_forwarding": true},
      "policy": {"type": "k8s"},
      "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}
    }"#;

    #[test]
    fn stock_config() {
        let p = parse_netconf(STOCK.as_bytes()).unwrap();
        let c = &p.conf;
        assert_eq!(c.cni_version, "0.3.1");
        assert_eq!(c.name, "k8s-pod-network");
        assert_eq!(c.mtu, 1410);
        assert!(c.ipam.want_v4() && !c.ipam.want_v6());
        assert_eq!(c.ipam.ipv4_pools, vec!["default-ipv4-ippool"]);
        assert!(c.container_settings.allow_ip_forwarding);
        assert_eq!(c.policy.policy_type, "k8s");
        c.validate().unwrap();
    }

    #[test]
    fn bad_input_codes() {
        assert_eq!(parse_netconf(b"").unwrap_err().code, 6);
        assert_eq!(parse_netconf(b"  \n").unwrap_err().code, 6);
        assert_eq!(parse_netconf(b"{nope").unwrap_err().code, 6);
        assert_eq!(parse_netconf(b"[1]").unwrap_err().code, 6);
        let e = parse_netconf(br#"{"cniVersion":"0.3.1","name":"n","type":"calico","mtu":"big"}"#)
            .unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.contains("mtu"), "{e:?}");
        let e =
            parse_netconf(br#"{"cniVersion":"0.3.1","name":"n","ipam":{"assign_ipv4":"maybe"}}"#)
                .unwrap_err();
        assert!(e.msg.contains("ipam.assign_ipv4"), "{e:?}");
        assert_eq!(
            parse_netconf(br#"{"cniVersion":"9.9.9","name":"n"}"#)
                .unwrap_err()
                .code,
            1
        );
        let p = parse_netconf(br#"{"name":"n","type":"calico"}"#).unwrap();
        assert_eq!(p.conf.cni_version, "0.2.0");
        let p = parse_netconf(br#"{"cniVersion":"1.0.0","type":"calico"}"#).unwrap();
        assert_eq!(p.conf.validate().unwrap_err().code, 7);
        let p = parse_netconf(br#"{"cniVersion":"1.0.0","name":"a b","type":"calico"}"#).unwrap();
        assert_eq!(p.conf.validate().unwrap_err().code, 7);
    }

    #[test]
    fn unknown_fields_are_kept() {
        let p =
            parse_netconf(br#"{"cniVersion":"1.0.0","name":"n","type":"calico","foo":{"x":1}}"#)
                .unwrap();
        assert_eq!(p.conf.other["foo"]["x"], 1);
    }
}
