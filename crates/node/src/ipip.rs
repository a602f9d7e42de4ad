//! Felix's IP-in-IP device: `tunl0` up, with the node's IP-in-IP tunnel address
//! (`Node.spec.bgp.ipv4IPIPTunnelAddr`) as a /32.
//!
//! `tunl0` is the ipip driver's fallback device: it exists in every network namespace once the
//! driver is loaded and cannot be created otherwise. A kernel without the driver (such as the
//! one calico-rs is developed on) gets a clear error, and routes that BGP wants through
//! `tunl0` (pools with `ipipMode: Always`, or `CrossSubnet` across subnets) cannot be
//! installed.

use std::net::Ipv4Addr;
use std::path::Path;

use calico_linux::NetOps;
use ipnet::{IpNet, Ipv4Net};

/// The IP-in-IP device.
pub const IPIP_DEVICE: &str = "tunl0";

/// Bring `tunl0` up with `addr`/32 (added when missing).
pub fn configure_tunl0(ops: &dyn NetOps, ns: &Path, addr: Ipv4Addr) -> Result<(), String> {
    let link = ops
        .link(ns, IPIP_DEVICE)
        .map_err(|e| format!("IP-in-IP: looking up {IPIP_DEVICE}: {e}"))?;
    if link.is_none() {
        return Err(format!(
            "IP-in-IP: there is no {IPIP_DEVICE} device: this kernel has no ipip driver \
             (CONFIG_NET_IPIP); routes of IP-in-IP pools cannot be installed"
        ));
    }
    let want = IpNet::V4(Ipv4Net::from(addr));
    let have = ops
        .addresses(ns, IPIP_DEVICE)
        .map_err(|e| format!("IP-in-IP: addresses of {IPIP_DEVICE}: {e}"))?;
    if !have.contains(&want) {
        ops.add_address(ns, IPIP_DEVICE, want)
            .map_err(|e| format!("IP-in-IP: adding {want} to {IPIP_DEVICE}: {e}"))?;
    }
    ops.set_link_up(ns, IPIP_DEVICE)
        .map_err(|e| format!("IP-in-IP: setting {IPIP_DEVICE} up: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use calico_linux::FakeNet;

    #[test]
    fn missing_driver_is_a_clear_error() {
        let net = FakeNet::new();
        let ns = Path::new("/run/netns/n");
        net.add_netns(ns);
        let e = configure_tunl0(&net, ns, Ipv4Addr::new(10, 244, 0, 1)).unwrap_err();
        assert!(e.contains("this kernel has no ipip driver"), "{e}");
    }
}
