//! CNI results: one internal model, printed in the layout of the requested spec version, and
//! read back from any layout (results of delegated IPAM plugins, `prevResult`).

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value, json};

use crate::error::CniError;
use crate::version::{Layout, layout};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub sandbox: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpConfig {
    pub address: IpNet,
    pub gateway: Option<IpAddr>,
    /// Index into `interfaces`.
    pub interface: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    pub dst: IpNet,
    pub gw: Option<IpAddr>,
}

/// A plugin's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CniResult {
    pub interfaces: Vec<Interface>,
    pub ips: Vec<IpConfig>,
    pub routes: Vec<RouteEntry>,
    pub dns: Value,
}

fn ver(ip: &IpNet) -> &'static str {
    if ip.addr().is_ipv4() { "4" } else { "6" }
}

fn route_json(r: &RouteEntry) -> Value {
    let mut m = Map::new();
    m.insert("dst".into(), r.dst.to_string().into());
    if let Some(gw) = r.gw {
        m.insert("gw".into(), gw.to_string().into());
    }
    Value::Object(m)
}

fn dns_or_empty(dns: &Value) -> Value {
    if dns.is_object() {
        dns.clone()
    } else {
        json!({})
    }
}

impl CniResult {
    /// The result in `version`'s layout.
    pub fn to_json(&self, version: &str) -> Result<Value, CniError> {
        let l = layout(version)?;
        if l == Layout::V02 {
            return Ok(self.to_json_v02(version));
        }
        let interfaces: Vec<Value> = self
            .interfaces
            .iter()
            .map(|i| {
                let mut m = Map::new();
                m.insert("name".into(), i.name.clone().into());
                if let Some(mac) = &i.mac {
                    m.insert("mac".into(), mac.clone().into());
                }
                if l >= Layout::V11
                    && let Some(mtu) = i.mtu.filter(|m| *m > 0)
                {
                    m.insert("mtu".into(), mtu.into());
                }
                if let Some(sb) = &i.sandbox {
                    m.insert("sandbox".into(), sb.clone().into());
                }
                Value::Object(m)
            })
            .collect();
        let ips: Vec<Value> = self
            .ips
            .iter()
            .map(|ip| {
                let mut m = Map::new();
                if l == Layout::V04 {
                    m.insert("version".into(), ver(&ip.address).into());
                }
                if let Some(i) = ip.interface {
                    m.insert("interface".into(), i.into());
                }
                m.insert("address".into(), ip.address.to_string().into());
                if let Some(gw) = ip.gateway {
                    m.insert("gateway".into(), gw.to_string().into());
                }
                Value::Object(m)
            })
            .collect();
        let mut out = Map::new();
        out.insert("cniVersion".into(), version.into());
        if !interfaces.is_empty() {
            out.insert("interfaces".into(), interfaces.into());
        }
        out.insert("ips".into(), ips.into());
        if !self.routes.is_empty() {
            out.insert(
                "routes".into(),
                self.routes
                    .iter()
                    .map(route_json)
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
        out.insert("dns".into(), dns_or_empty(&self.dns));
        Ok(Value::Object(out))
    }

    fn to_json_v02(&self, version: &str) -> Value {
        let mut out = Map::new();
        out.insert("cniVersion".into(), version.into());
        for (key, v4) in [("ip4", true), ("ip6", false)] {
            let Some(ip) = self.ips.iter().find(|i| i.address.addr().is_ipv4() == v4) else {
                continue;
            };
            let mut m = Map::new();
            m.insert("ip".into(), ip.address.to_string().into());
            if let Some(gw) = ip.gateway {
                m.insert("gateway".into(), gw.to_string().into());
            }
            let routes: Vec<Value> = self
                .routes
                .iter()
                .filter(|r| r.dst.addr().is_ipv4() == v4)
                .map(route_json)
                .collect();
            if !routes.is_empty() {
                m.insert("routes".into(), routes.into());
            }
            out.insert(key.into(), Value::Object(m));
        }
        out.insert("dns".into(), dns_or_empty(&self.dns));
        Value::Object(out)
    }

    /// Read a result in any supported layout.
    pub fn from_json(v: &Value) -> Result<CniResult, CniError> {
        let bad = |what: String| CniError::internal(format!("cannot read CNI result: {what}"));
        let net = |s: &Value, field: &str| -> Result<IpNet, CniError> {
            let s = s
                .as_str()
                .ok_or_else(|| bad(format!("{field} is not a string")))?;
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| bad(format!("{field} {s:?} is not an address/prefix")))
        };
        let ipaddr = |s: Option<&Value>| -> Option<IpAddr> { s?.as_str()?.parse().ok() };
        let mut out = CniResult {
            dns: v.get("dns").cloned().unwrap_or(Value::Null),
            ..CniResult::default()
        };
        let routes_of = |rs: Option<&Value>| -> Result<Vec<RouteEntry>, CniError> {
            let mut out = Vec::new();
            for r in rs.and_then(Value::as_array).into_iter().flatten() {
                out.push(RouteEntry {
                    dst: net(r.get("dst").unwrap_or(&Value::Null), "routes[].dst")?,
                    gw: ipaddr(r.get("gw")),
                });
            }
            Ok(out)
        };
        if v.get("ips").is_none() && (v.get("ip4").is_some() || v.get("ip6").is_some()) {
            for key in ["ip4", "ip6"] {
                if let Some(o) = v.get(key) {
                    out.ips.push(IpConfig {
                        address: net(o.get("ip").unwrap_or(&Value::Null), &format!("{key}.ip"))?,
                        gateway: ipaddr(o.get("gateway")),
                        interface: None,
                    });
                    out.routes.extend(routes_of(o.get("routes"))?);
                }
            }
            return Ok(out);
        }
        for i in v
            .get("interfaces")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.interfaces.push(Interface {
                name: i
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
                mac: i.get("mac").and_then(Value::as_str).map(str::to_string),
                mtu: i
                    .get("mtu")
                    .and_then(Value::as_u64)
                    .and_then(|m| u32::try_from(m).ok()),
                sandbox: i.get("sandbox").and_then(Value::as_str).map(str::to_string),
            });
        }
        for ip in v.get("ips").and_then(Value::as_array).into_iter().flatten() {
            out.ips.push(IpConfig {
                address: net(ip.get("address").unwrap_or(&Value::Null), "ips[].address")?,
                gateway: ipaddr(ip.get("gateway")),
                interface: ip
                    .get("interface")
                    .and_then(Value::as_u64)
                    .and_then(|i| usize::try_from(i).ok()),
            });
        }
        out.routes = routes_of(v.get("routes"))?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample() -> CniResult {
        CniResult {
            interfaces: vec![
                Interface {
                    name: "cali12345678901".into(),
                    ..Default::default()
                },
                Interface {
                    name: "eth0".into(),
                    mac: Some("0a:58:00:00:00:01".into()),
                    mtu: Some(1410),
                    sandbox: Some("/run/netns/p".into()),
                },
            ],
            ips: vec![IpConfig {
                address: "10.0.0.5/32".parse().unwrap(),
                gateway: None,
                interface: Some(1),
            }],
            routes: vec![RouteEntry {
                dst: "0.0.0.0/0".parse().unwrap(),
                gw: None,
            }],
            dns: Value::Null,
        }
    }

    #[test]
    fn layouts_per_version() {
        let r = sample();
        let v031 = r.to_json("0.3.1").unwrap();
        assert_eq!(v031["ips"][0]["version"], "4");
        assert!(v031["interfaces"][1].get("mtu").is_none());
        let v100 = r.to_json("1.0.0").unwrap();
        assert!(v100["ips"][0].get("version").is_none());
        assert!(v100["interfaces"][1].get("mtu").is_none());
        let v110 = r.to_json("1.1.0").unwrap();
        assert_eq!(v110["interfaces"][1]["mtu"], 1410);
        assert_eq!(v110["cniVersion"], "1.1.0");
        let v020 = r.to_json("0.2.0").unwrap();
        assert_eq!(v020["ip4"]["ip"], "10.0.0.5/32");
        assert_eq!(v020["ip4"]["routes"][0]["dst"], "0.0.0.0/0");
        assert_eq!(r.to_json("3.0.0").unwrap_err().code, 1);
    }

    #[test]
    fn reads_back_every_layout() {
        let r = sample();
        for v in ["0.2.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
            let back = CniResult::from_json(&r.to_json(v).unwrap()).unwrap();
            assert_eq!(back.ips[0].address, r.ips[0].address, "{v}");
            assert_eq!(back.routes, r.routes, "{v}");
        }
        let hl = serde_json::json!({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.0.2/24","gateway":"10.1.0.1"}],"dns":{}});
        let back = CniResult::from_json(&hl).unwrap();
        assert_eq!(back.ips[0].gateway.unwrap().to_string(), "10.1.0.1");
        assert!(CniResult::from_json(&serde_json::json!({"ips":[{"address":5}]})).is_err());
    }
}
