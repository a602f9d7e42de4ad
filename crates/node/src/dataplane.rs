//! The nftables dataplane (`calico-dataplane`) behind [`DataplaneDriver`], configured from the
//! effective Felix settings.

use calico_calc::messages::DataplaneMessage;
use calico_dataplane::{Config, Dataplane, EndpointToHostAction, VxlanMode};

use crate::daemon::DataplaneDriver;
use crate::debug;
use crate::felix::FelixSettings;

/// The VXLAN device MTU when `vxlanMTU` is 0: from this namespace's interfaces (1450, a 1500
/// underlay's, if `mtuIfacePattern` does not compile; validation normally prevents that).
fn auto_vxlan_mtu(f: &FelixSettings) -> u32 {
    match regex::Regex::new(f.spec.effective_mtu_iface_pattern()) {
        Ok(pattern) => crate::mtu::workload_mtu(&crate::mtu::host_mtus(), &pattern, true, 0),
        Err(_) => 1450,
    }
}

/// The dataplane configuration the Felix settings ask for.
pub fn config_for(f: &FelixSettings) -> Config {
    let mut cfg = Config::default();
    cfg.vxlan.mode = match f.vxlan_enabled {
        None => VxlanMode::Auto,
        Some(true) => VxlanMode::Enabled,
        Some(false) => VxlanMode::Disabled,
    };
    cfg.vxlan.vni = f.vxlan_vni;
    cfg.vxlan.port = f.vxlan_port;
    // As Felix: `vxlanMTU`, or when it is 0 the smallest MTU of the host interfaces matching
    // `mtuIfacePattern` minus the 50 bytes of VXLAN overhead (1450 on a 1500 underlay).
    cfg.vxlan.mtu = Some(if f.vxlan_mtu > 0 {
        f.vxlan_mtu
    } else {
        auto_vxlan_mtu(f)
    });
    cfg.endpoint_to_host_action = match f
        .spec
        .effective_default_endpoint_to_host_action()
        .to_ascii_lowercase()
        .as_str()
    {
        "accept" => EndpointToHostAction::Accept,
        "return" => EndpointToHostAction::Return,
        _ => EndpointToHostAction::Drop,
    };
    cfg.interface_prefixes = f
        .spec
        .effective_interface_prefix()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    cfg.log_prefix = f.spec.effective_log_prefix().to_string();
    cfg.ipv6 = f.spec.effective_ipv6_support();
    cfg.drop_encap_from_workloads = !f.spec.effective_allow_vxlan_packets_from_workloads();
    cfg
}

/// The interface holding this node's IPv4 address (`Node.spec.bgp.ipv4Address`), Felix's
/// VXLAN "parent device": CrossSubnet routes to nodes on the same subnet go through it.
pub fn parent_device(client: &calico_client::Client, nodename: &str) -> Option<String> {
    let node = crate::startup::get_node(client, nodename).ok()??;
    let ip: std::net::IpAddr = node
        .spec
        .bgp
        .as_ref()?
        .ipv4_address
        .split('/')
        .next()?
        .parse()
        .ok()?;
    let ifaces = crate::autodetect::system_interfaces().ok()?;
    ifaces
        .into_iter()
        .find(|i| i.addrs.iter().any(|a| a.addr() == ip))
        .map(|i| i.name)
}

/// `calico-dataplane` acting on the network namespace of the thread that creates it.
#[derive(Debug)]
pub struct NftDataplane {
    inner: Dataplane,
    /// The warnings of the last apply, so a retried failure is logged once.
    last_warnings: Vec<String>,
}

impl NftDataplane {
    pub fn new(cfg: Config) -> Result<Self, String> {
        Ok(Self {
            inner: Dataplane::new(cfg).map_err(|e| e.to_string())?,
            last_warnings: Vec::new(),
        })
    }

    pub fn inner(&self) -> &Dataplane {
        &self.inner
    }
}

impl DataplaneDriver for NftDataplane {
    fn apply(&mut self, msgs: Vec<DataplaneMessage>) -> Result<(), String> {
        let stats = self.inner.apply_owned(msgs).map_err(|e| e.to_string())?;
        for w in &stats.warnings {
            if self.last_warnings.contains(w) {
                debug!("dataplane (still): {w}");
            } else {
                crate::warn!("dataplane: {w}");
            }
        }
        if stats.programmed {
            self.last_warnings = stats.warnings;
        }
        debug!(
            "dataplane: programmed={} full_resync={} nft_bytes={} net_ops={}",
            stats.programmed, stats.full_resync, stats.nft_script_bytes, stats.net_ops
        );
        Ok(())
    }
}
