//! Ethernet (MAC) addresses.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet address, printed `ee:ee:ee:ee:ee:ee` as Calico prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The MAC Calico gives every host-side veth.
    pub const CALICO_HOST: MacAddr = MacAddr([0xee; 6]);

    /// From raw bytes; `None` unless exactly six.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        <[u8; 6]>::try_from(b).ok().map(MacAddr)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad =
            || format!("{s:?} is not a MAC address: expected six hex bytes like ee:ee:ee:ee:ee:ee");
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (o, p) in out.iter_mut().zip(parts) {
            if p.len() != 2 {
                return Err(bad());
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m: MacAddr = "ee:ee:ee:ee:ee:ee".parse().unwrap();
        assert_eq!(m, MacAddr::CALICO_HOST);
        assert_eq!(m.to_string(), "ee:ee:ee:ee:ee:ee");
        assert_eq!(
            "0A:1b:2c:3d:4e:5f".parse::<MacAddr>().unwrap().to_string(),
            "0a:1b:2c:3d:4e:5f"
        );
        for bad in [
            "",
            "ee:ee",
            "ee:ee:ee:ee:ee:eee",
            "zz:ee:ee:ee:ee:ee",
            "e:ee:ee:ee:ee:ee",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
