//! IPv4 address autodetection, as calico/node does it (`IP_AUTODETECTION_METHOD`):
//! `first-found` (the default), `interface=REGEX[,REGEX...]`, `skip-interface=REGEX[,...]`,
//! `can-reach=DEST` and `cidr=CIDR[,CIDR...]`.
//!
//! The choice is a pure function over a list of interfaces ([`Iface`], in the kernel's index
//! order) so it is tested without a kernel; [`system_interfaces`] reads the list of the current
//! network namespace and [`route_source`] asks the kernel which source address it would use
//! for a destination (`can-reach`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};

use ipnet::{IpNet, Ipv4Net};
use regex::Regex;

/// Interfaces `first-found` and `skip-interface` never use (Calico's
/// `DEFAULT_INTERFACES_TO_EXCLUDE`).
pub const DEFAULT_INTERFACES_TO_EXCLUDE: &[&str] = &[
    "^docker.*",
    "^cbr.*",
    "^dummy.*",
    "^podman.*",
    "^virbr.*",
    "^lxcbr.*",
    "^veth.*",
    "^lo",
    "^br-.*",
    "^cali.*",
    "^tunl.*",
    "^flannel.*",
    "^kube-ipvs.*",
    "^cni.*",
    r"^vxlan\.calico.*",
    r"^vxlan-v6\.calico.*",
    r"^wireguard\.cali.*",
    r"^wg-v6\.cali.*",
    "^nodelocaldns.*",
];

/// One interface and its addresses (with their prefix lengths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    pub index: u32,
    pub addrs: Vec<IpNet>,
}

/// Why no address could be chosen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AutodetectError {
    #[error(
        "IP_AUTODETECTION_METHOD {0:?} is not valid: expected first-found, interface=REGEX, \
         skip-interface=REGEX, can-reach=DEST or cidr=CIDR"
    )]
    InvalidMethod(String),
    #[error("IP_AUTODETECTION_METHOD {method:?}: regex {regex:?} is not valid: {detail}")]
    BadRegex {
        method: String,
        regex: String,
        detail: String,
    },
    #[error("IP_AUTODETECTION_METHOD {method:?}: {cidr:?} is not a CIDR")]
    BadCidr { method: String, cidr: String },
    #[error(
        "IP_AUTODETECTION_METHOD kubernetes-internal-ip needs the Kubernetes datastore, which \
         calico-rs does not support yet"
    )]
    NoKubernetes,
    #[error("can-reach={dest}: {detail}")]
    CanReach { dest: String, detail: String },
    #[error("no valid IPv4 addresses found on the host interfaces (method {0})")]
    NotFound(String),
}

/// An autodetection method.
#[derive(Clone, Debug)]
pub enum Method {
    FirstFound,
    Interface(Vec<Regex>),
    SkipInterface(Vec<Regex>),
    CanReach(String),
    Cidr(Vec<IpNet>),
}

fn regexes(method: &str, list: &str) -> Result<Vec<Regex>, AutodetectError> {
    let splitter = Regex::new(r"\s*,\s*").map_err(|e| AutodetectError::BadRegex {
        method: method.into(),
        regex: ",".into(),
        detail: e.to_string(),
    })?;
    splitter
        .split(list.trim())
        .filter(|s| !s.is_empty())
        .map(|r| {
            Regex::new(r).map_err(|e| AutodetectError::BadRegex {
                method: method.into(),
                regex: r.into(),
                detail: e.to_string(),
            })
        })
        .collect()
}

impl Method {
    /// Parse `IP_AUTODETECTION_METHOD` (empty means `first-found`).
    pub fn parse(s: &str) -> Result<Method, AutodetectError> {
        let s = s.trim();
        if s.is_empty() || s == "first-found" {
            return Ok(Method::FirstFound);
        }
        if s == "kubernetes-internal-ip" {
            return Err(AutodetectError::NoKubernetes);
        }
        let Some((name, arg)) = s.split_once('=') else {
            return Err(AutodetectError::InvalidMethod(s.into()));
        };
        match name {
            "interface" => {
                let r = regexes(s, arg)?;
                if r.is_empty() {
                    return Err(AutodetectError::InvalidMethod(s.into()));
                }
                Ok(Method::Interface(r))
            }
            "skip-interface" => Ok(Method::SkipInterface(regexes(s, arg)?)),
            "can-reach" if !arg.trim().is_empty() => Ok(Method::CanReach(arg.trim().into())),
            "cidr" => {
                let nets = arg
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| {
                        c.parse::<IpNet>().map_err(|_| AutodetectError::BadCidr {
                            method: s.into(),
                            cidr: c.into(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if nets.is_empty() {
                    return Err(AutodetectError::InvalidMethod(s.into()));
                }
                Ok(Method::Cidr(nets))
            }
            _ => Err(AutodetectError::InvalidMethod(s.into())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Method::FirstFound => "first-found".into(),
            Method::Interface(r) => format!("interface={}", join(r)),
            Method::SkipInterface(r) => format!("skip-interface={}", join(r)),
            Method::CanReach(d) => format!("can-reach={d}"),
            Method::Cidr(c) => format!(
                "cidr={}",
                c.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

fn join(r: &[Regex]) -> String {
    r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Go's `IP.IsGlobalUnicast` for IPv4: not unspecified, loopback, multicast, link-local or
/// the limited broadcast address (private ranges count).
pub fn is_global_unicast(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_link_local()
        || ip.is_broadcast())
}

fn v4_addrs(iface: &Iface) -> impl Iterator<Item = Ipv4Net> + '_ {
    iface.addrs.iter().filter_map(|a| match a {
        IpNet::V4(n) => Some(*n),
        IpNet::V6(_) => None,
    })
}

fn default_excludes() -> Vec<Regex> {
    DEFAULT_INTERFACES_TO_EXCLUDE
        .iter()
        .filter_map(|r| Regex::new(r).ok())
        .collect()
}

/// The first global-unicast IPv4 address on an interface that matches `include` (any, when
/// empty) and none of `exclude`, and lies in one of `cidrs` (any, when empty).
fn first_match(
    ifaces: &[Iface],
    include: &[Regex],
    exclude: &[Regex],
    cidrs: &[IpNet],
) -> Option<(String, Ipv4Net)> {
    for iface in ifaces {
        if !include.is_empty() && !include.iter().any(|r| r.is_match(&iface.name)) {
            continue;
        }
        if exclude.iter().any(|r| r.is_match(&iface.name)) {
            continue;
        }
        for net in v4_addrs(iface) {
            if !is_global_unicast(net.addr()) {
                continue;
            }
            if !cidrs.is_empty() && !cidrs.iter().any(|c| c.contains(&IpAddr::V4(net.addr()))) {
                continue;
            }
            return Some((iface.name.clone(), net));
        }
    }
    None
}

/// The interface holding `ip` and the address with its prefix.
pub fn find_local(ifaces: &[Iface], ip: Ipv4Addr) -> Option<(String, Ipv4Net)> {
    ifaces.iter().find_map(|i| {
        v4_addrs(i)
            .find(|n| n.addr() == ip)
            .map(|n| (i.name.clone(), n))
    })
}

/// Choose this node's IPv4 address (with its prefix) and the interface it is on.
/// `route_src` answers `can-reach`: the source address the kernel would use towards a
/// destination.
pub fn autodetect_v4(
    method: &Method,
    ifaces: &[Iface],
    route_src: impl Fn(&str) -> Result<IpAddr, String>,
) -> Result<(String, Ipv4Net), AutodetectError> {
    let found = match method {
        Method::FirstFound => first_match(ifaces, &[], &default_excludes(), &[]),
        Method::Interface(include) => first_match(ifaces, include, &[], &[]),
        Method::SkipInterface(skip) => {
            let mut ex = default_excludes();
            ex.extend(skip.iter().cloned());
            first_match(ifaces, &[], &ex, &[])
        }
        Method::Cidr(cidrs) => first_match(ifaces, &[], &[], cidrs),
        Method::CanReach(dest) => {
            let src = route_src(dest).map_err(|detail| AutodetectError::CanReach {
                dest: dest.clone(),
                detail,
            })?;
            let IpAddr::V4(v4) = src else {
                return Err(AutodetectError::CanReach {
                    dest: dest.clone(),
                    detail: format!("the route's source address {src} is not IPv4"),
                });
            };
            let hit = find_local(ifaces, v4);
            if hit.is_none() {
                return Err(AutodetectError::CanReach {
                    dest: dest.clone(),
                    detail: format!("source address {v4} is on no local interface"),
                });
            }
            hit
        }
    };
    found.ok_or_else(|| AutodetectError::NotFound(method.describe()))
}

/// The interfaces of the current network namespace, in index order, with their addresses.
pub fn system_interfaces() -> Result<Vec<Iface>, String> {
    use nix::ifaddrs::getifaddrs;
    let mut out: Vec<Iface> = Vec::new();
    let addrs = getifaddrs().map_err(|e| format!("cannot list interfaces: {e}"))?;
    for a in addrs {
        let pos = match out.iter().position(|i| i.name == a.interface_name) {
            Some(p) => p,
            None => {
                let index = nix::net::if_::if_nametoindex(a.interface_name.as_str()).unwrap_or(0);
                out.push(Iface {
                    name: a.interface_name.clone(),
                    index,
                    addrs: Vec::new(),
                });
                out.len() - 1
            }
        };
        let (Some(addr), Some(mask)) = (a.address.as_ref(), a.netmask.as_ref()) else {
            continue;
        };
        let net = if let (Some(ip), Some(m)) = (addr.as_sockaddr_in(), mask.as_sockaddr_in()) {
            let plen = u32::from(m.ip()).count_ones() as u8;
            Ipv4Net::new(ip.ip(), plen).ok().map(IpNet::V4)
        } else if let (Some(ip), Some(m)) = (addr.as_sockaddr_in6(), mask.as_sockaddr_in6()) {
            let plen = u128::from(m.ip()).count_ones() as u8;
            ipnet::Ipv6Net::new(ip.ip(), plen).ok().map(IpNet::V6)
        } else {
            None
        };
        if let Some(n) = net {
            out[pos].addrs.push(n);
        }
    }
    out.sort_by_key(|i| i.index);
    Ok(out)
}

/// The source address the kernel picks for UDP to `dest` port 80 (no packet is sent).
pub fn route_source(dest: &str) -> Result<IpAddr, String> {
    let target: SocketAddr = if let Ok(ip) = dest.parse::<IpAddr>() {
        SocketAddr::new(ip, 80)
    } else {
        (dest, 80)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {dest:?}: {e}"))?
            .find(SocketAddr::is_ipv4)
            .ok_or_else(|| format!("{dest:?} has no IPv4 address"))?
    };
    let sock = UdpSocket::bind("0.0.0.0:0").map_err(|e| format!("cannot open a socket: {e}"))?;
    sock.connect(target)
        .map_err(|e| format!("no route to {target}: {e}"))?;
    sock.local_addr()
        .map(|a| a.ip())
        .map_err(|e| format!("cannot read the socket's address: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn iface(name: &str, index: u32, addrs: &[&str]) -> Iface {
        Iface {
            name: name.into(),
            index,
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    fn host() -> Vec<Iface> {
        vec![
            iface("lo", 1, &["127.0.0.1/8", "::1/128"]),
            iface("docker0", 2, &["172.17.0.1/16"]),
            iface("eth0", 3, &["169.254.3.3/16", "10.0.0.5/24", "fe80::1/64"]),
            iface("eth1", 4, &["192.168.50.2/24"]),
            iface("cali1234", 5, &["10.9.9.9/32"]),
            iface("ens5", 6, &["172.31.4.7/20"]),
        ]
    }

    fn no_route(_: &str) -> Result<IpAddr, String> {
        Err("no".into())
    }

    fn detect(method: &str) -> Result<(String, Ipv4Net), AutodetectError> {
        autodetect_v4(&Method::parse(method).unwrap(), &host(), no_route)
    }

    #[test]
    fn first_found_skips_default_excludes_and_link_local() {
        let (i, n) = detect("first-found").unwrap();
        assert_eq!(
            (i.as_str(), n.to_string().as_str()),
            ("eth0", "10.0.0.5/24")
        );
        assert_eq!(detect("").unwrap().1.to_string(), "10.0.0.5/24");
    }

    #[test]
    fn interface_regex_list() {
        assert_eq!(
            detect("interface=eth1").unwrap().1.to_string(),
            "192.168.50.2/24"
        );
        assert_eq!(
            detect("interface=nomatch , ens.*").unwrap().1.to_string(),
            "172.31.4.7/20"
        );
        // No default excludes with interface=.
        assert_eq!(detect("interface=docker0").unwrap().0, "docker0");
        assert!(matches!(
            detect("interface=wlan.*"),
            Err(AutodetectError::NotFound(_))
        ));
    }

    #[test]
    fn skip_interface_adds_to_defaults() {
        assert_eq!(detect("skip-interface=eth0").unwrap().0, "eth1");
        assert_eq!(
            detect("skip-interface=eth.*,ens5").unwrap_err().to_string(),
            "no valid IPv4 addresses found on the host interfaces (method skip-interface=eth.*,ens5)"
        );
    }

    #[test]
    fn cidr_method() {
        assert_eq!(detect("cidr=192.168.0.0/16").unwrap().0, "eth1");
        assert_eq!(
            detect("cidr=10.1.0.0/16, 172.16.0.0/12")
                .unwrap()
                .1
                .to_string(),
            "172.17.0.1/16"
        );
        assert!(matches!(
            Method::parse("cidr=10.0.0.0/33"),
            Err(AutodetectError::BadCidr { .. })
        ));
    }

    #[test]
    fn can_reach_uses_the_route_source() {
        let m = Method::parse("can-reach=192.168.50.1").unwrap();
        let got = autodetect_v4(&m, &host(), |d| {
            assert_eq!(d, "192.168.50.1");
            Ok("192.168.50.2".parse().unwrap())
        })
        .unwrap();
        assert_eq!(got.1.to_string(), "192.168.50.2/24");
        let e = autodetect_v4(&m, &host(), |_| Ok("8.8.8.8".parse().unwrap())).unwrap_err();
        assert!(e.to_string().contains("on no local interface"), "{e}");
        let e = autodetect_v4(&m, &host(), no_route).unwrap_err();
        assert!(e.to_string().starts_with("can-reach=192.168.50.1"), "{e}");
    }

    #[test]
    fn invalid_methods_are_named() {
        for bad in [
            "bogus",
            "interface=",
            "can-reach=",
            "cidr=",
            "kubernetes-internal-ip",
        ] {
            assert!(Method::parse(bad).is_err(), "{bad}");
        }
        let e = Method::parse("interface=(").unwrap_err();
        assert!(e.to_string().contains("\"(\""), "{e}");
        let e = Method::parse("magic").unwrap_err();
        assert!(e.to_string().contains("\"magic\""), "{e}");
    }

    #[test]
    fn global_unicast() {
        assert!(is_global_unicast("10.0.0.1".parse().unwrap()));
        assert!(!is_global_unicast("169.254.0.1".parse().unwrap()));
        assert!(!is_global_unicast("127.0.0.1".parse().unwrap()));
        assert!(!is_global_unicast("224.0.0.1".parse().unwrap()));
        assert!(!is_global_unicast("255.255.255.255".parse().unwrap()));
    }
}
