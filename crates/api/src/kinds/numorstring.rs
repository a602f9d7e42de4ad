//! Calico's "number or string" values: [`Protocol`] (a name or an IP protocol number),
//! [`Port`] (a port, a `"min:max"` range or a named port) and [`Dscp`] (a DSCP number or a
//! well-known class name).
//!
//! Each accepts both forms on input and prints the form Calico prints: protocol names in their
//! canonical case (`tcp` in, `TCP` out), a single port as a number, a range as a string.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

// ------------------------------------------------------------------------------------------
// Protocol
// ------------------------------------------------------------------------------------------

/// An IP protocol: one of the names Calico knows or a protocol number (1–255).
///
/// Names are matched case-insensitively on input and printed canonically (`TCP`, `ICMPv6`).
/// A number stays a number (`6` is printed as `6`, not `TCP`), as Calico does; use
/// [`Protocol::number`] to compare across forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    IcmpV6,
    Sctp,
    UdpLite,
    /// A protocol given by number. `0` is not a valid protocol (validation rejects it).
    Number(u8),
}

const PROTOCOL_EXPECTED: &str =
    "expected TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a protocol number 1-255";

impl Protocol {
    /// The named protocols, in Calico's order.
    pub const NAMED: [Protocol; 6] = [
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Icmp,
        Protocol::IcmpV6,
        Protocol::Sctp,
        Protocol::UdpLite,
    ];

    /// The canonical name (`TCP`, `ICMPv6`, ...), or `None` for a numeric protocol.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Icmp => "ICMP",
            Protocol::IcmpV6 => "ICMPv6",
            Protocol::Sctp => "SCTP",
            Protocol::UdpLite => "UDPLite",
            Protocol::Number(_) => return None,
        })
    }

    /// Look a protocol name up, ignoring case.
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::NAMED
            .into_iter()
            .find(|p| p.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
    }

    /// The IP protocol number (`TCP` is 6, `ICMPv6` is 58, ...).
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Icmp => 1,
            Protocol::IcmpV6 => 58,
            Protocol::Sctp => 132,
            Protocol::UdpLite => 136,
            Protocol::Number(n) => n,
        }
    }

    /// Whether rules may match ports with this protocol (TCP, UDP or SCTP, by name or number).
    pub fn supports_ports(self) -> bool {
        matches!(self.number(), 6 | 17 | 132)
    }

    /// ICMP for IPv4 (`ICMP` or 1).
    pub fn is_icmp(self) -> bool {
        self.number() == 1
    }

    /// ICMP for IPv6 (`ICMPv6` or 58).
    pub fn is_icmpv6(self) -> bool {
        self.number() == 58
    }

    /// Parse the string form: a name (any case) or a decimal number 0–255.
    fn parse_str(s: &str) -> Result<Protocol, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<u8>() {
                Ok(0) | Err(_) => Err(format!(
                    "{s:?} is not a valid protocol: {PROTOCOL_EXPECTED}"
                )),
                Ok(n) => Ok(Protocol::Number(n)),
            };
        }
        Protocol::from_name(s)
            .ok_or_else(|| format!("{s:?} is not a valid protocol: {PROTOCOL_EXPECTED}"))
    }

    /// Why this value is invalid, if it is (only `Number(0)` can be).
    pub fn problem(self) -> Option<String> {
        (self == Protocol::Number(0))
            .then(|| format!("protocol number 0 is invalid: {PROTOCOL_EXPECTED}"))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.number()),
        }
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::parse_str(s)
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(n) => s.serialize_str(n),
            None => s.serialize_u8(self.number()),
        }
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Protocol;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a protocol name or number")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Protocol, E> {
                match u8::try_from(n) {
                    Ok(n) if n > 0 => Ok(Protocol::Number(n)),
                    _ => Err(E::custom(format!(
                        "{n} is not a valid protocol: {PROTOCOL_EXPECTED}"
                    ))),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Protocol, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "{n} is not a valid protocol: {PROTOCOL_EXPECTED}"
                    ))),
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Protocol, E> {
                Protocol::parse_str(s).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------------------------------------
// Port
// ------------------------------------------------------------------------------------------

static PORT_NAME_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.\-]{1,128}$").ok());

const PORT_EXPECTED: &str = "expected a port number 1-65535, a range \"min:max\" or a port name of letters, digits, '_', '.' and '-'";

/// A rule port: an inclusive numeric range (a single port has `min == max`) or a named port,
/// resolved per endpoint from its `ports`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Port {
    Range { min: u16, max: u16 },
    Named(String),
}

impl Port {
    /// A single port.
    pub fn single(port: u16) -> Port {
        Port::Range {
            min: port,
            max: port,
        }
    }

    /// A named port.
    pub fn named(name: impl Into<String>) -> Port {
        Port::Named(name.into())
    }

    /// The inclusive numeric range, or `None` for a named port.
    pub fn range(&self) -> Option<(u16, u16)> {
        match self {
            Port::Range { min, max } => Some((*min, *max)),
            Port::Named(_) => None,
        }
    }

    /// The port name, or `None` for a numeric port.
    pub fn name(&self) -> Option<&str> {
        match self {
            Port::Named(n) => Some(n),
            Port::Range { .. } => None,
        }
    }

    pub fn is_named(&self) -> bool {
        matches!(self, Port::Named(_))
    }

    /// Whether numeric `port` falls in this range (always false for a named port).
    pub fn contains(&self, port: u16) -> bool {
        self.range()
            .is_some_and(|(lo, hi)| lo <= port && port <= hi)
    }

    /// Why this port is invalid, if it is: 0 in a range, `min > max`, or a bad name.
    pub fn problem(&self) -> Option<String> {
        match self {
            Port::Range { min, max } if *min == 0 || *max == 0 => Some(format!(
                "port {self} is invalid: port numbers must be between 1 and 65535"
            )),
            Port::Range { min, max } if min > max => Some(format!(
                "port range {self} is invalid: the minimum is greater than the maximum"
            )),
            Port::Named(n) if !is_port_name(n) => Some(format!(
                "{n:?} is not a port or port range: {PORT_EXPECTED}"
            )),
            _ => None,
        }
    }
}

/// Whether `s` matches Calico's named-port syntax (`[a-zA-Z0-9_.-]{1,128}`).
fn is_port_name(s: &str) -> bool {
    PORT_NAME_RE.as_ref().is_some_and(|re| re.is_match(s))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl FromStr for Port {
    type Err = String;

    /// `"80"`, `"1000:2000"` or a name; a range must have `min <= max`.
    fn from_str(s: &str) -> Result<Port, String> {
        let bad = || format!("{s:?} is not a port or port range: {PORT_EXPECTED}");
        if all_digits(s) {
            return s.parse::<u16>().map(Port::single).map_err(|_| bad());
        }
        if let Some((lo, hi)) = s.split_once(':')
            && all_digits(lo)
            && all_digits(hi)
        {
            let (Ok(min), Ok(max)) = (lo.parse::<u16>(), hi.parse::<u16>()) else {
                return Err(bad());
            };
            if min > max {
                return Err(format!(
                    "port range {s:?} is invalid: the minimum ({min}) is greater than the maximum ({max})"
                ));
            }
            return Ok(Port::Range { min, max });
        }
        if is_port_name(s) {
            Ok(Port::Named(s.to_string()))
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Named(n) => f.write_str(n),
            Port::Range { min, max } if min == max => write!(f, "{min}"),
            Port::Range { min, max } => write!(f, "{min}:{max}"),
        }
    }
}

impl Serialize for Port {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Port::Range { min, max } if min == max => s.serialize_u16(*min),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number, a \"min:max\" range or a port name")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Port, E> {
                u16::try_from(n).map(Port::single).map_err(|_| {
                    E::custom(format!("{n} is not a port or port range: {PORT_EXPECTED}"))
                })
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Port, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "{n} is not a port or port range: {PORT_EXPECTED}"
                    ))),
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Port, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether `s` is a valid endpoint port name (Kubernetes `IANA_SVC_NAME`): 1–15 characters of
/// lower-case letters, digits and '-', at least one letter, no leading, trailing or doubled '-'.
pub fn is_iana_port_name(s: &str) -> bool {
    (1..=15).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// Why `s` is not a valid endpoint port name, if it is not.
pub fn iana_port_name_problem(s: &str) -> Option<String> {
    (!is_iana_port_name(s)).then(|| {
        format!(
            "{s:?} is not a valid port name: expected 1-15 lower-case letters, digits and '-', \
             with at least one letter and no leading, trailing or doubled '-'"
        )
    })
}

// ------------------------------------------------------------------------------------------
// DSCP
// ------------------------------------------------------------------------------------------

/// The DSCP class names Calico accepts and their values.
pub const DSCP_NAMES: [(&str, u8); 21] = [
    ("DF", 0),
    ("EF", 46),
    ("AF11", 10),
    ("AF12", 12),
    ("AF13", 14),
    ("AF21", 18),
    ("AF22", 20),
    ("AF23", 22),
    ("AF31", 26),
    ("AF32", 28),
    ("AF33", 30),
    ("AF41", 34),
    ("AF42", 36),
    ("AF43", 38),
    ("CS0", 0),
    ("CS1", 8),
    ("CS2", 16),
    ("CS3", 24),
    ("CS4", 32),
    ("CS5", 40),
    ("CS6", 48),
];

/// A DSCP marking: a number 0–63 or a class name (`EF`, `AF11`, `CS1`, ...; any case on input).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dscp {
    Number(u8),
    /// A class name from [`DSCP_NAMES`], in canonical (upper) case.
    Named(String),
}

impl Dscp {
    /// The 6-bit DSCP value.
    pub fn value(&self) -> u8 {
        match self {
            Dscp::Number(n) => *n,
            Dscp::Named(name) => DSCP_NAMES
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| *v),
        }
    }

    /// Why this value is invalid, if it is.
    pub fn problem(&self) -> Option<String> {
        match self {
            Dscp::Number(n) if *n > 63 => Some(format!("DSCP {n} is invalid: expected 0-63")),
            Dscp::Named(n) if !DSCP_NAMES.iter().any(|(k, _)| k == n) => Some(format!(
                "{n:?} is not a valid DSCP value: expected 0-63 or a class name such as EF, AF11 or CS1"
            )),
            _ => None,
        }
    }

    fn parse_str(s: &str) -> Result<Dscp, String> {
        if all_digits(s) {
            return s
                .parse::<u8>()
                .map(Dscp::Number)
                .map_err(|_| format!("DSCP {s} is invalid: expected 0-63"));
        }
        let t = s.trim();
        DSCP_NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(t))
            .map(|(n, _)| Dscp::Named((*n).to_string()))
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a valid DSCP value: expected 0-63 or a class name such as EF, AF11 or CS1"
                )
            })
    }
}

impl fmt::Display for Dscp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dscp::Number(n) => write!(f, "{n}"),
            Dscp::Named(n) => f.write_str(n),
        }
    }
}

impl Serialize for Dscp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dscp::Number(n) => s.serialize_u8(*n),
            Dscp::Named(n) => s.serialize_str(n),
        }
    }
}

impl<'de> Deserialize<'de> for Dscp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dscp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DSCP number or class name")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Dscp, E> {
                u8::try_from(n)
                    .map(Dscp::Number)
                    .map_err(|_| E::custom(format!("DSCP {n} is invalid: expected 0-63")))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Dscp, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!("DSCP {n} is invalid: expected 0-63"))),
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dscp, E> {
                Dscp::parse_str(s).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn protocol_forms() {
        let p: Protocol = serde_json::from_str("\"tcp\"").unwrap();
        assert_eq!(p, Protocol::Tcp);
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"TCP\"");
        let p: Protocol = serde_json::from_str("\"icmpv6\"").unwrap();
        assert_eq!(p, Protocol::IcmpV6);
        let p: Protocol = serde_json::from_str("\"255\"").unwrap();
        assert_eq!(p, Protocol::Number(255));
        assert_eq!(serde_json::to_string(&p).unwrap(), "255");
        assert!(serde_json::from_str::<Protocol>("0").is_err());
        assert!(serde_json::from_str::<Protocol>("\"256\"").is_err());
        assert!(serde_json::from_str::<Protocol>("\"tcpfoo\"").is_err());
        assert!(Protocol::Number(6).supports_ports());
        assert!(!Protocol::Number(7).supports_ports());
        assert_eq!(Protocol::UdpLite.number(), 136);
    }

    #[test]
    fn port_forms() {
        assert_eq!("80".parse::<Port>().unwrap(), Port::single(80));
        assert_eq!(
            "1000:2000".parse::<Port>().unwrap(),
            Port::Range {
                min: 1000,
                max: 2000
            }
        );
        assert_eq!("http".parse::<Port>().unwrap(), Port::named("http"));
        assert!("2000:1000".parse::<Port>().is_err());
        assert!("65536".parse::<Port>().is_err());
        assert!("a b".parse::<Port>().is_err());
        assert_eq!(serde_json::to_string(&Port::single(5)).unwrap(), "5");
        assert_eq!(
            serde_json::to_string(&Port::Range { min: 1, max: 2 }).unwrap(),
            "\"1:2\""
        );
        assert!(Port::single(0).problem().is_some());
        assert!(Port::Range { min: 9, max: 3 }.problem().is_some());
        assert!(Port::Range { min: 3, max: 9 }.contains(5));
    }

    #[test]
    fn dscp_forms() {
        let d: Dscp = serde_json::from_str("\"af11\"").unwrap();
        assert_eq!(d, Dscp::Named("AF11".into()));
        assert_eq!(d.value(), 10);
        let d: Dscp = serde_json::from_str("\"12\"").unwrap();
        assert_eq!(d, Dscp::Number(12));
        assert!(Dscp::Number(64).problem().is_some());
        assert!(serde_json::from_str::<Dscp>("\"XX\"").is_err());
    }
}
