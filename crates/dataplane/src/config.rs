//! What the dataplane is told by calico-node (Felix's configuration parameters that matter here).

use std::path::PathBuf;

/// The route protocol number calico-rs puts on every route it installs (Felix's
/// `dataplanedefs.DefaultRouteProto`, 80). A resync deletes stale routes carrying it and
/// never touches a route with any other protocol.
pub const ROUTE_PROTOCOL: u8 = 80;

/// Felix's mark bits (`iptablesMarkMask` 0xffff0000, allocated lowest first): a policy or
/// profile that allowed the packet sets `MARK_ACCEPT`; a `Pass` sets `MARK_PASS`.
pub const MARK_ACCEPT: u32 = 0x0001_0000;
pub const MARK_PASS: u32 = 0x0002_0000;

/// Whether the `vxlan.calico` device is managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VxlanMode {
    /// On when some enabled IP pool uses VXLAN (Felix's automatic `vxlanEnabled`).
    #[default]
    Auto,
    Enabled,
    /// Never create it (and remove one left by an earlier run).
    Disabled,
}

/// VXLAN parameters (Felix's `vxlanVNI`, `vxlanPort`, `vxlanMTU`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanConfig {
    pub mode: VxlanMode,
    /// Device name, `vxlan.calico`.
    pub device: String,
    /// 4096.
    pub vni: u32,
    /// 4789.
    pub port: u16,
    /// The device's MTU; `None` lets the kernel choose (parent MTU - 50).
    pub mtu: Option<u32>,
    /// The interface holding the node's address (Felix's "parent device"). With a
    /// `vxlanMode: CrossSubnet` pool, routes to nodes on the same subnet go directly through
    /// it instead of through the VXLAN device; unknown (`None`): always through VXLAN.
    pub parent_device: Option<String>,
}

impl Default for VxlanConfig {
    fn default() -> Self {
        VxlanConfig {
            mode: VxlanMode::Auto,
            device: "vxlan.calico".into(),
            vni: 4096,
            port: 4789,
            mtu: None,
            parent_device: None,
        }
    }
}

/// Felix's `defaultEndpointToHostAction`: what happens to traffic from a workload to the host
/// itself once the workload's egress policy allowed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EndpointToHostAction {
    /// Felix's default.
    #[default]
    Drop,
    Accept,
    /// Continue with host-endpoint policy; calico-rs has none yet, so this accepts.
    Return,
}

/// The dataplane's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The nftables table (family `inet`) the dataplane owns; Felix's name is `calico`.
    pub table: String,
    /// Workload interface prefixes (Felix's `interfacePrefix`, default `cali`).
    pub interface_prefixes: Vec<String>,
    pub vxlan: VxlanConfig,
    pub endpoint_to_host_action: EndpointToHostAction,
    /// The `log` prefix of `Log` rules (Felix's `logPrefix`, `calico-packet`).
    pub log_prefix: String,
    /// Protocol number of the routes the dataplane installs; see [`ROUTE_PROTOCOL`].
    pub route_protocol: u8,
    /// Also enable IPv6 forwarding (Felix's `ipv6Support`). IPv6 rules are rendered always.
    pub ipv6: bool,
    /// Drop VXLAN (UDP to the VXLAN port) and IP-in-IP packets sent by workloads (Felix's
    /// `allowVXLANPacketsFromWorkloads`/`allowIPIPPacketsFromWorkloads` = false).
    pub drop_encap_from_workloads: bool,
    /// The network namespace to program: `None` is the namespace of the thread that calls
    /// [`crate::Dataplane::new`] (calico-node runs inside the node's namespace), `Some(path)`
    /// a namespace file such as `/run/netns/NAME`.
    pub netns: Option<PathBuf>,
    /// The `nft` binary.
    pub nft: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            table: "calico".into(),
            interface_prefixes: vec!["cali".into()],
            vxlan: VxlanConfig::default(),
            endpoint_to_host_action: EndpointToHostAction::Drop,
            log_prefix: "calico-packet".into(),
            route_protocol: ROUTE_PROTOCOL,
            ipv6: false,
            drop_encap_from_workloads: true,
            netns: None,
            nft: PathBuf::from("nft"),
        }
    }
}
