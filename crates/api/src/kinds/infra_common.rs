//! Value types and checks shared by the infrastructure kinds (IP pools, BGP, Felix, Node, IPAM):
//! AS numbers, Kubernetes secret references, and the small format
//! validators Calico registers (`ipv4`, `net`, `mac`, `IP:port`, log levels, ...).

use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use ipnet::IpNet;
use regex::Regex;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validate::{Validator, parse_cidr_or_ip};

// ---------------------------------------------------------------------------------------------
// AS numbers
// ---------------------------------------------------------------------------------------------

/// A BGP AS number. Accepted as a JSON number, a decimal string, or the "asdot" form `A.B`
/// (two 16-bit halves); always written as a number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsNumber(pub u32);

impl AsNumber {
    /// Parse `64512` or `1.10` (asdot).
    pub fn parse(s: &str) -> Result<AsNumber, String> {
        if let Ok(n) = s.parse::<u32>() {
            return Ok(AsNumber(n));
        }
        let bad = || format!("invalid AS number {s:?}: expected a number 0-4294967295 or A.B");
        let (hi, lo) = s.split_once('.').ok_or_else(bad)?;
        let hi: u16 = hi.parse().map_err(|_| bad())?;
        let lo: u16 = lo.parse().map_err(|_| bad())?;
        Ok(AsNumber((u32::from(hi) << 16) | u32::from(lo)))
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for AsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for AsNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for AsNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AsNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number (0-4294967295, or A.B)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AsNumber, E> {
                u32::try_from(v)
                    .map(AsNumber)
                    .map_err(|_| E::custom(format!("AS number {v} is out of range 0-4294967295")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AsNumber, E> {
                u32::try_from(v)
                    .map(AsNumber)
                    .map_err(|_| E::custom(format!("AS number {v} is out of range 0-4294967295")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AsNumber, E> {
                Err(E::custom(format!(
                    "AS number {v} is not an integer (write asdot numbers as a string, \"A.B\")"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AsNumber, E> {
                AsNumber::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes secret references
// ---------------------------------------------------------------------------------------------

/// A key of a Kubernetes Secret (`k8s.io/api/core/v1.SecretKeySelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretKeySelector {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Format checks (the validators Calico registers by name)
// ---------------------------------------------------------------------------------------------

macro_rules! regex_fn {
    ($(#[$m:meta])* $name:ident, $pat:expr) => {
        $(#[$m])*
        pub(crate) fn $name(s: &str) -> bool {
            static RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new($pat).ok());
            RE.as_ref().is_some_and(|re| re.is_match(s))
        }
    };
}

regex_fn!(
    /// Calico's `logLevel`: `Trace|Debug|Info|Warning|Error|Fatal` (case-sensitive).
    is_log_level,
    r"^(Trace|Debug|Info|Warning|Error|Fatal)$"
);
regex_fn!(
    /// Host names/addresses for metrics and health servers.
    is_bind_host,
    r"^[a-zA-Z0-9:._+-]{1,64}$"
);
regex_fn!(
    /// An iptables-style interface match (`+` wildcard allowed), at most 15 characters.
    is_iface_filter,
    r"^[a-zA-Z0-9:._+-]{1,15}$"
);
regex_fn!(
    /// A BGP filter / ignored-interface glob (`*` wildcard allowed), at most 15 characters.
    is_iface_glob,
    r"^[a-zA-Z0-9_.*-]{1,15}$"
);
regex_fn!(
    /// A Linux interface name, at most 15 characters.
    is_iface_name,
    r"^[a-zA-Z0-9_.-]{1,15}$"
);

/// Record "expected one of ..." unless `value` is one of `allowed` (exact match).
pub(crate) fn check_one_of(v: &mut Validator, value: &str, allowed: &[&str]) -> bool {
    if allowed.contains(&value) {
        return true;
    }
    v.error(format!(
        "invalid value {value:?}: expected one of {}",
        allowed.join(", ")
    ));
    false
}

/// Like [`check_one_of`] but ignoring ASCII case (for fields whose schema is case-insensitive).
pub(crate) fn check_one_of_ci(v: &mut Validator, value: &str, allowed: &[&str]) -> bool {
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
        return true;
    }
    v.error(format!(
        "invalid value {value:?}: expected one of {} (case-insensitive)",
        allowed.join(", ")
    ));
    false
}

/// A log level as Calico validates it (`Trace`, `Debug`, `Info`, `Warning`, `Error`, `Fatal`).
pub(crate) fn check_log_level(v: &mut Validator, value: &str) -> bool {
    if is_log_level(value) {
        return true;
    }
    v.error(format!(
        "invalid log level {value:?}: expected one of Trace, Debug, Info, Warning, Error, Fatal"
    ));
    false
}

/// Parse an address the way Go's `net.ParseIP` does and report whether it is IPv4 (including
/// IPv4-mapped IPv6 addresses, which Go treats as IPv4).
pub(crate) fn ip_is_v4(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(_) => true,
        IpAddr::V6(a) => a.to_ipv4_mapped().is_some(),
    }
}

/// An IPv4 address (Calico's `ipv4`).
pub(crate) fn check_ipv4(v: &mut Validator, value: &str) -> bool {
    match value.parse::<IpAddr>() {
        Ok(ip) if ip_is_v4(&ip) => true,
        _ => {
            v.error(format!("{value:?} is not a valid IPv4 address"));
            false
        }
    }
}

/// An IPv6 address (Calico's `ipv6`).
pub(crate) fn check_ipv6(v: &mut Validator, value: &str) -> bool {
    match value.parse::<IpAddr>() {
        Ok(ip) if !ip_is_v4(&ip) => true,
        _ => {
            v.error(format!("{value:?} is not a valid IPv6 address"));
            false
        }
    }
}

/// A CIDR (host bits allowed) or bare address of the given family (Calico's `cidrv4`/`cidrv6`).
pub(crate) fn check_cidr_family(v: &mut Validator, value: &str, want_v4: bool) -> bool {
    let family = if want_v4 { "IPv4" } else { "IPv6" };
    match parse_cidr_or_ip(value) {
        Some(net) if net_is_v4(&net) == want_v4 => true,
        _ => {
            v.error(format!(
                "{value:?} is not a valid {family} CIDR or address (e.g. {})",
                if want_v4 { "10.0.0.5/24" } else { "fd00::5/64" }
            ));
            false
        }
    }
}

pub(crate) fn net_is_v4(net: &IpNet) -> bool {
    matches!(net, IpNet::V4(_))
}

/// A strictly masked CIDR or a bare address (Calico's `net`); optionally of one family.
pub(crate) fn check_net(v: &mut Validator, value: &str, family: Option<bool>) -> Option<IpNet> {
    let Some(net) = parse_cidr_or_ip(value) else {
        v.error(format!("{value:?} is not a valid CIDR or IP address"));
        return None;
    };
    if let Some(want_v4) = family
        && net_is_v4(&net) != want_v4
    {
        v.error(format!(
            "{value:?} is an {} CIDR: expected an {} CIDR",
            if want_v4 { "IPv6" } else { "IPv4" },
            if want_v4 { "IPv4" } else { "IPv6" },
        ));
        return None;
    }
    if net.trunc() != net {
        v.error(format!(
            "{value:?} has host bits set: expected the network address {}",
            net.trunc()
        ));
        return None;
    }
    Some(net)
}

/// A valid regular expression.
pub(crate) fn check_regex(v: &mut Validator, value: &str) -> bool {
    match Regex::new(value) {
        Ok(_) => true,
        Err(e) => {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or("").trim().to_string();
            v.error(format!(
                "{value:?} is not a valid regular expression: {last}"
            ));
            false
        }
    }
}

/// A MAC address in one of the forms Go's `net.ParseMAC` accepts: `aa:bb:cc:dd:ee:ff`,
/// `aa-bb-cc-dd-ee-ff` or `aabb.ccdd.eeff` (6, 8 or 20 bytes).
pub fn parse_mac(s: &str) -> Option<Vec<u8>> {
    let hex_byte = |p: &str| -> Option<u8> {
        if p.len() == 2 {
            u8::from_str_radix(p, 16).ok()
        } else {
            None
        }
    };
    let bytes: Vec<u8> = if s.contains(':') || s.contains('-') {
        let sep = if s.contains(':') { ':' } else { '-' };
        s.split(sep).map(hex_byte).collect::<Option<Vec<u8>>>()?
    } else if s.contains('.') {
        let mut out = Vec::new();
        for group in s.split('.') {
            if group.len() != 4 {
                return None;
            }
            out.push(hex_byte(group.get(0..2)?)?);
            out.push(hex_byte(group.get(2..4)?)?);
        }
        out
    } else {
        return None;
    };
    matches!(bytes.len(), 6 | 8 | 20).then_some(bytes)
}

pub(crate) fn check_mac(v: &mut Validator, value: &str) -> bool {
    if parse_mac(value).is_some() {
        return true;
    }
    v.error(format!(
        "{value:?} is not a valid MAC address (expected e.g. \"66:aa:bb:cc:dd:ee\")"
    ));
    false
}

/// Split `IP`, `IPv4:port` or `[IPv6]:port` (Calico's `IP:port`, used by `BGPPeer.peerIP`).
/// Returns the address and the port (0 when absent).
pub fn parse_ip_port(s: &str) -> Option<(IpAddr, u16)> {
    static V4_PORT: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^(\d+).(\d+).(\d+).(\d+):(\d+)$").ok());
    static V6_PORT: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^\[[0-9a-fA-F:.]+\]:(\d+)$").ok());
    if s.is_empty() {
        return None;
    }
    let with_port = V4_PORT.as_ref().is_some_and(|r| r.is_match(s))
        || V6_PORT.as_ref().is_some_and(|r| r.is_match(s));
    if with_port {
        let (host, port) = s.rsplit_once(':')?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port: u16 = port.parse().ok()?;
        if port < 1 {
            return None;
        }
        return host.parse::<IpAddr>().ok().map(|ip| (ip, port));
    }
    s.parse::<IpAddr>().ok().map(|ip| (ip, 0))
}

/// Decode standard base64 (with padding) without pulling in a dependency.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i + 1 == chunks;
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc: u32 = 0;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | val(c)?;
        }
        acc <<= 6 * u32::try_from(pad).ok()?;
        let b = acc.to_be_bytes();
        out.extend_from_slice(&b[1..4 - pad]);
    }
    Some(out)
}

/// A WireGuard public key: standard base64 of exactly 32 bytes.
pub(crate) fn check_wireguard_key(v: &mut Validator, value: &str) -> bool {
    if decode_base64(value).is_some_and(|b| b.len() == 32) {
        return true;
    }
    v.error(format!(
        "{value:?} is not a valid WireGuard public key: expected 32 bytes in standard base64"
    ));
    false
}

/// An integer within `[min, max]`.
pub(crate) fn check_range(v: &mut Validator, value: i64, min: i64, max: i64) -> bool {
    if (min..=max).contains(&value) {
        return true;
    }
    v.error(format!("{value} is out of range: expected {min} to {max}"));
    false
}

/// A selector that parses and does not use `global()`.
pub(crate) fn check_selector_no_global(v: &mut Validator, value: &str, use_instead: &str) {
    if let Some(sel) = v.check_selector(value)
        && (sel.uses_global() || value.contains("global("))
    {
        v.error(format!("global() is not allowed here: {use_instead}"));
    }
}

/// At most `max` bytes.
pub(crate) fn check_max_len(v: &mut Validator, value: &str, max: usize) -> bool {
    if value.len() <= max {
        return true;
    }
    v.error(format!(
        "value is too long ({} characters): at most {max} allowed",
        value.len()
    ));
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn as_numbers() {
        assert_eq!(AsNumber::parse("64512").unwrap(), AsNumber(64512));
        assert_eq!(AsNumber::parse("1.10").unwrap(), AsNumber(65546));
        assert!(AsNumber::parse("65536.1").is_err());
        assert!(AsNumber::parse("x").is_err());
        let v: AsNumber = serde_json::from_str("\"1.10\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "65546");
        assert!(serde_json::from_str::<AsNumber>("-1").is_err());
        assert!(serde_json::from_str::<AsNumber>("4294967296").is_err());
    }

    #[test]
    fn macs_and_keys() {
        assert!(parse_mac("66:aa:bb:cc:dd:ee").is_some());
        assert!(parse_mac("66-aa-bb-cc-dd-ee").is_some());
        assert!(parse_mac("66aa.bbcc.ddee").is_some());
        assert!(parse_mac("66:aa:bb:cc:dd").is_none());
        assert!(parse_mac("zz:aa:bb:cc:dd:ee").is_none());
        assert_eq!(decode_base64("TWFu").unwrap(), b"Man");
        assert_eq!(decode_base64("TWE=").unwrap(), b"Ma");
        assert_eq!(decode_base64("TQ==").unwrap(), b"M");
        assert!(decode_base64("TQ=").is_none());
        assert_eq!(
            decode_base64("jlkVyQYooZYzI2wFfNhSZez5eWh44yfq1wKVjLvSXgY=")
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn ip_ports() {
        assert!(parse_ip_port("1.2.3.4").is_some());
        assert_eq!(parse_ip_port("192.168.1.1:500").unwrap().1, 500);
        assert_eq!(parse_ip_port("[9000::]:500").unwrap().1, 500);
        for bad in [
            "192.168.0.0:65536",
            "192.168.0.0:0",
            "192.168.0.330:170",
            "[9000::]:98956",
            "192.168.0.0:",
            "[9000::]:",
            "[9000::FFFFF]:170",
            ":8552",
            "[]:8552",
            "999.999.999.999",
            "xyz:::",
        ] {
            assert!(parse_ip_port(bad).is_none(), "{bad}");
        }
    }
}
