//! `FelixConfigurationSpec`: every FelixConfiguration field, with its JSON name.
//!
//! Unset fields (`None` / empty) mean "Felix's default"; see the `effective_*` accessors and
//! `FELIX_DEFAULTS` for the values Felix then uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::super::duration::GoDuration;
use super::types::{
    BPFConntrackTimeouts, HealthTimeoutOverride, ProtoPort, RouteTableIDRange, RouteTableRange,
};
use crate::kinds::{Dscp, Port};

/// The Felix settings stored in a FelixConfiguration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct FelixConfigurationSpec {
    /// Use Felix's built-in dataplane driver (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_internal_dataplane_driver: Option<bool>,
    /// External dataplane driver, used when `useInternalDataplaneDriver` is false.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dataplane_driver: String,
    /// Deprecated: use `healthTimeoutOverrides` (default 1m30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataplane_watchdog_timeout: Option<GoDuration>,
    /// Enable IPv6 support (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_support: Option<bool>,
    /// Route resync period; 0 disables (default 1m30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_refresh_interval: Option<GoDuration>,
    /// Interface rescan period; 0 disables (default 1m30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_refresh_interval: Option<GoDuration>,
    /// iptables resync period; 0 disables (default 3m0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptables_refresh_interval: Option<GoDuration>,
    /// Delay before re-reading iptables after a write (default 5s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptables_post_write_check_interval: Option<GoDuration>,
    /// Interval between xtables lock attempts (default 50ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptables_lock_probe_interval: Option<GoDuration>,
    /// Comma-separated `Feature=true|false|` overrides of detected features.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feature_detect_override: String,
    /// Comma-separated `Feature=value` tech-preview switches.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feature_gates: String,
    /// IP set resync period; 0 disables (default 1m30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipsets_refresh_interval: Option<GoDuration>,
    /// Maximum entries per IP set (default 1048576).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ipset_size: Option<i64>,
    /// `Legacy`, `NFT` or `Auto` (default Auto).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptables_backend: Option<String>,
    /// XDP resync period; 0 disables (default 1m30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xdp_refresh_interval: Option<GoDuration>,
    /// Timeout of netlink calls (default 10s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netlink_timeout: Option<GoDuration>,
    /// OpenStack metadata server address, or `none` (default 127.0.0.1).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub metadata_addr: String,
    /// OpenStack metadata server port (default 8775).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_port: Option<i64>,
    /// OpenStack region (a DNS label of at most 46 characters).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub openstack_region: String,
    /// Comma-separated workload interface prefixes (default `cali`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_prefix: String,
    /// Comma-separated host interfaces (or `/regex/`) to ignore (default `kube-ipvs0`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_exclude: String,
    /// `Insert` or `Append` Felix's jumps into the kernel chains (default Insert).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub chain_insert_mode: String,
    /// `Drop`, `Return` or `Accept` for workload-to-host traffic (default Drop).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub default_endpoint_to_host_action: String,
    /// `Accept` or `Return` for allowed traffic in the filter table (default Accept).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub iptables_filter_allow_action: String,
    /// `Accept` or `Return` for allowed traffic in the mangle table (default Accept).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub iptables_mangle_allow_action: String,
    /// `Drop` or `Reject` for denied traffic (default Drop).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub iptables_filter_deny_action: String,
    /// Prefix of packet-log lines; `%t %k %n %p` expand (default `calico-packet`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_prefix: String,
    /// Felix log file, or `none` (default /var/log/calico/felix.log).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_file_path: String,
    /// File log level (default Info).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_severity_file: String,
    /// Screen log level (default Info).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_severity_screen: String,
    /// Syslog log level (default Info).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_severity_sys: String,
    /// Only Debug logs from matching source files are kept.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log_debug_filename_regex: String,
    /// Rate limit of the `Log` action, `N/second|minute|hour|day`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_action_rate_limit: Option<String>,
    /// Burst of the `Log` action rate limit, 0-9999 (default 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_action_rate_limit_burst: Option<i64>,
    /// Force the IPIP device on or off (derived from the pools when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipip_enabled: Option<bool>,
    /// MTU of the IPIP device; 0 detects (default 0).
    #[serde(rename = "ipipMTU", skip_serializing_if = "Option::is_none")]
    pub ipip_mtu: Option<i64>,
    /// Force the IPv4 VXLAN device on or off (derived from the pools when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vxlan_enabled: Option<bool>,
    /// MTU of the IPv4 VXLAN device; 0 detects (default 0).
    #[serde(rename = "vxlanMTU", skip_serializing_if = "Option::is_none")]
    pub vxlan_mtu: Option<i64>,
    /// MTU of the IPv6 VXLAN device; 0 detects (default 0).
    #[serde(rename = "vxlanMTUV6", skip_serializing_if = "Option::is_none")]
    pub vxlan_mtu_v6: Option<i64>,
    /// VXLAN UDP port (default 4789).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vxlan_port: Option<i64>,
    /// VXLAN network identifier (default 4096).
    #[serde(rename = "vxlanVNI", skip_serializing_if = "Option::is_none")]
    pub vxlan_vni: Option<i64>,
    /// Let workloads send VXLAN packets (default false).
    #[serde(
        rename = "allowVXLANPacketsFromWorkloads",
        skip_serializing_if = "Option::is_none"
    )]
    pub allow_vxlan_packets_from_workloads: Option<bool>,
    /// Let workloads send IPIP packets (default false).
    #[serde(
        rename = "allowIPIPPacketsFromWorkloads",
        skip_serializing_if = "Option::is_none"
    )]
    pub allow_ipip_packets_from_workloads: Option<bool>,
    /// Status report period; 0 disables (default 30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_interval: Option<GoDuration>,
    /// TTL of status reports (default 1m30s).
    #[serde(rename = "reportingTTL", skip_serializing_if = "Option::is_none")]
    pub reporting_ttl: Option<GoDuration>,
    /// Report endpoint status to the datastore (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_reporting_enabled: Option<bool>,
    /// Delay before endpoint status reports (default 1s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_reporting_delay: Option<GoDuration>,
    /// Directory of endpoint status files; empty disables (default /var/run/calico).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub endpoint_status_path_prefix: String,
    /// Mark bits Felix may use in iptables (default 0xffff0000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptables_mark_mask: Option<u32>,
    /// Skip the conntrack INVALID check (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_conntrack_invalid_check: Option<bool>,
    /// Serve `/liveness` and `/readiness` (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_enabled: Option<bool>,
    /// Health server bind address (default localhost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_host: Option<String>,
    /// Health server port (default 9099).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_port: Option<i64>,
    /// Per-subcomponent liveness/readiness timeouts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub health_timeout_overrides: Vec<HealthTimeoutOverride>,
    /// Serve Prometheus metrics (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_metrics_enabled: Option<bool>,
    /// Include Go runtime metrics (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_go_metrics_enabled: Option<bool>,
    /// Include process metrics (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_process_metrics_enabled: Option<bool>,
    /// Include WireGuard metrics (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_wire_guard_metrics_enabled: Option<bool>,
    /// Metrics server bind address (all addresses when empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prometheus_metrics_host: String,
    /// Metrics server port (default 9091).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_metrics_port: Option<i64>,
    /// CA certificate for TLS on the metrics endpoint.
    #[serde(
        rename = "prometheusMetricsCAFile",
        skip_serializing_if = "Option::is_none"
    )]
    pub prometheus_metrics_ca_file: Option<String>,
    /// Certificate for TLS on the metrics endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_metrics_cert_file: Option<String>,
    /// Private key for TLS on the metrics endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_metrics_key_file: Option<String>,
    /// `NoClientCert`, `RequireAnyClientCert`, `VerifyClientCertIfGiven` or `RequireAndVerifyClientCert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus_metrics_client_auth: Option<String>,
    /// Inbound host ports always allowed; `[]` disables (default tcp:22, udp:68, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443, tcp:6666, tcp:6667).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failsafe_inbound_host_ports: Option<Vec<ProtoPort>>,
    /// Outbound host ports always allowed; `[]` disables (default udp:53, udp:67, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443, tcp:6666, tcp:6667).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failsafe_outbound_host_ports: Option<Vec<ProtoPort>>,
    /// Node-port ranges, at most 7, no named ports (default 30000:32767).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kube_node_port_ranges: Option<Vec<Port>>,
    /// Directory of the policy sync API sockets; empty disables.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_sync_path_prefix: String,
    /// Anonymous usage reporting (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_reporting_enabled: Option<bool>,
    /// Delay before the first usage report (default 5m0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_reporting_initial_delay: Option<GoDuration>,
    /// Usage report period (default 24h0m0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_reporting_interval: Option<GoDuration>,
    /// Source port range for outgoing NAT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_port_range: Option<Port>,
    /// SNAT to this IPv4 address instead of masquerading.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nat_outgoing_address: String,
    /// `IPPoolsOnly` or `IPPoolsAndHostIPs` (default IPPoolsOnly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_outgoing_exclusions: Option<String>,
    /// IPv4 source hint on routes to workloads.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub device_route_source_address: String,
    /// IPv6 source hint on routes to workloads.
    #[serde(
        rename = "deviceRouteSourceAddressIPv6",
        skip_serializing_if = "String::is_empty"
    )]
    pub device_route_source_address_ipv6: String,
    /// Protocol number on routes Felix programs (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_route_protocol: Option<i64>,
    /// Remove unexpected routes to workload interfaces (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove_external_routes: Option<bool>,
    /// Whether Felix programs routes to other nodes' workloads: `Enabled`, `Disabled`, `EnabledIPIPOnly`, `EnabledNoEncapOnly`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_cluster_routes: Option<String>,
    /// `Enabled` or `Disabled`: set the IP forwarding sysctls (default Enabled).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip_forwarding: String,
    /// IPv4 CIDRs of non-Calico nodes allowed to send overlay traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_nodes_list: Option<Vec<String>>,
    /// Where to write a heap profile on signal.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub debug_memory_profile_path: String,
    /// Block instead of dropping logs when the buffer is full (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_disable_log_dropping: Option<bool>,
    /// Test only: hang the calculation graph after this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_simulate_calc_graph_hang_after: Option<GoDuration>,
    /// Test only: hang the dataplane after this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_simulate_dataplane_hang_after: Option<GoDuration>,
    /// Test only: delay every dataplane apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_simulate_dataplane_apply_delay: Option<GoDuration>,
    /// Debug server bind address (default localhost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_host: Option<String>,
    /// Debug (pprof) server port; disabled when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_port: Option<i64>,
    /// Only masquerade out of matching interfaces (`+` wildcard).
    #[serde(
        rename = "iptablesNATOutgoingInterfaceFilter",
        skip_serializing_if = "String::is_empty"
    )]
    pub iptables_nat_outgoing_interface_filter: String,
    /// Experimental sidecar acceleration (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar_acceleration_enabled: Option<bool>,
    /// XDP acceleration of untracked deny rules (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xdp_enabled: Option<bool>,
    /// Allow generic (driver-less) XDP (default false).
    #[serde(rename = "genericXDPEnabled", skip_serializing_if = "Option::is_none")]
    pub generic_xdp_enabled: Option<bool>,
    /// `Auto`, `Enabled` or `Disabled` (default Auto).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nftables_mode: Option<String>,
    /// nftables resync period (default 3m0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nftables_refresh_interval: Option<GoDuration>,
    /// `Accept` or `Return` for allowed traffic in the nftables filter table (default Accept).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nftables_filter_allow_action: String,
    /// `Accept` or `Return` for allowed traffic in the nftables mangle table (default Accept).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nftables_mangle_allow_action: String,
    /// `Drop` or `Reject` for denied traffic in nftables (default Drop).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nftables_filter_deny_action: String,
    /// Mark bits Felix may use in nftables (default 0xffff0000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nftables_mark_mask: Option<u32>,
    /// Use the eBPF dataplane (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_enabled: Option<bool>,
    /// Disable unprivileged BPF via sysctl (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_disable_unprivileged: Option<bool>,
    /// `Auto` or `Strict` (default Auto).
    #[serde(rename = "bpfJITHardening", skip_serializing_if = "Option::is_none")]
    pub bpf_jit_hardening: Option<String>,
    /// BPF program log level: `Off`, `Info` or `Debug` (default Off).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_log_level: String,
    /// BPF conntrack cleanup log level: `Off` or `Debug` (default Off).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_conntrack_log_level: String,
    /// BPF conntrack cleanup: `Auto`, `Userspace` or `BPFProgram` (default Auto).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_conntrack_mode: Option<String>,
    /// Overrides of the BPF conntrack timers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_conntrack_timeouts: Option<BPFConntrackTimeouts>,
    /// pcap filters for BPF debug logs, by interface (`all`, `weps`, `heps`, or a name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_log_filters: Option<BTreeMap<String, String>>,
    /// What the connect-time load balancer logs at Debug (`all`).
    #[serde(rename = "bpfCTLBLogFilter", skip_serializing_if = "String::is_empty")]
    pub bpf_ctlb_log_filter: String,
    /// Regex of the host interfaces BPF programs attach to.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_data_iface_pattern: String,
    /// Regex of extra L3 (tunnel) interfaces BPF programs attach to.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_l3_iface_pattern: String,
    /// Deprecated: use `bpfConnectTimeLoadBalancing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_connect_time_load_balancing_enabled: Option<bool>,
    /// `TCP`, `Enabled` or `Disabled` (default TCP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_connect_time_load_balancing: Option<String>,
    /// `Enabled` or `Disabled` (default Enabled).
    #[serde(
        rename = "bpfHostNetworkedNATWithoutCTLB",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_host_networked_nat_without_ctlb: Option<String>,
    /// `Tunnel` or `DSR` for external traffic to services (default Tunnel).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_external_service_mode: String,
    /// Clients in these CIDRs are not served with DSR.
    #[serde(rename = "bpfDSROptoutCIDRs", skip_serializing_if = "Option::is_none")]
    pub bpf_dsr_optout_cidrs: Option<Vec<String>>,
    /// Mark set on external-to-service connections, 0-0xffffffff (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_ext_to_service_connmark: Option<i64>,
    /// Remove kube-proxy's iptables rules in BPF mode (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_kube_proxy_iptables_cleanup_enabled: Option<bool>,
    /// Minimum time between BPF kube-proxy updates (default 1s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_kube_proxy_min_sync_period: Option<GoDuration>,
    /// Port of the BPF kube-proxy health server; 0 disables (default 10256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_kube_proxy_healthz_port: Option<i64>,
    /// Ports used to resolve source port collisions (default 20000:29999).
    #[serde(rename = "bpfPSNATPorts", skip_serializing_if = "Option::is_none")]
    pub bpf_psnat_ports: Option<Port>,
    /// BPF NAT frontend map size (default 65536).
    #[serde(
        rename = "bpfMapSizeNATFrontend",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_map_size_nat_frontend: Option<i64>,
    /// BPF NAT backend map size (default 262144).
    #[serde(
        rename = "bpfMapSizeNATBackend",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_map_size_nat_backend: Option<i64>,
    /// BPF NAT affinity map size (default 65536).
    #[serde(
        rename = "bpfMapSizeNATAffinity",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_map_size_nat_affinity: Option<i64>,
    /// BPF route map size (default 262144).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_map_size_route: Option<i64>,
    /// BPF conntrack map size (default 512000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_map_size_conntrack: Option<i64>,
    /// Conntrack map entries per CPU; overrides `bpfMapSizeConntrack` when non-zero (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_map_size_per_cpu_conntrack: Option<i64>,
    /// `Disabled` or `DoubleIfFull` (default DoubleIfFull).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_map_size_conntrack_scaling: String,
    /// BPF conntrack cleanup queue size, at least 1 (default 100000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_map_size_conntrack_cleanup_queue: Option<i64>,
    /// BPF IP set map size (default 1048576).
    #[serde(rename = "bpfMapSizeIPSets", skip_serializing_if = "Option::is_none")]
    pub bpf_map_size_ip_sets: Option<i64>,
    /// BPF interface state map size (default 1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_map_size_if_state: Option<i64>,
    /// Bypass Linux conntrack in BPF mode (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_host_conntrack_bypass: Option<bool>,
    /// `Disabled`, `Strict` or `Loose` (default Loose).
    #[serde(rename = "bpfEnforceRPF", skip_serializing_if = "String::is_empty")]
    pub bpf_enforce_rpf: String,
    /// Record BPF policy debug information (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_policy_debug_enabled: Option<bool>,
    /// Interfaces whose traffic is conntracked by Linux in BPF mode (default [docker+]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_force_track_packets_from_ifaces: Option<Vec<String>>,
    /// Regex of interfaces whose GRO is disabled.
    #[serde(
        rename = "bpfDisableGROForIfaces",
        skip_serializing_if = "String::is_empty"
    )]
    pub bpf_disable_gro_for_ifaces: String,
    /// CIDRs the BPF NAT leaves to the host.
    #[serde(
        rename = "bpfExcludeCIDRsFromNAT",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_exclude_cidrs_from_nat: Option<Vec<String>>,
    /// BPF event buffer size in MB (default 1).
    #[serde(
        rename = "bpfExportBufferSizeMB",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_export_buffer_size_mb: Option<i64>,
    /// `Enabled` or `Disabled`: redirect straight to workload devices (default Enabled).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_redirect_to_peer: String,
    /// `Enabled` or `Disabled` BPF program profiling (default Disabled).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bpf_profiling: String,
    /// `Netkit`, `TCX` or `TC` attachment of BPF programs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_attach_type: Option<String>,
    /// Maglev endpoints per service, 1-3000 (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_maglev_max_endpoints_per_service: Option<i64>,
    /// Maglev services, 1-3000 (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpf_maglev_max_services: Option<i64>,
    /// `TunnelAddress` or `HostAddress` as the source of node traffic over the overlay (default TunnelAddress).
    #[serde(
        rename = "bpfOverlayHostSourceIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_overlay_host_source_ip: Option<String>,
    /// Fragment reassembly timeout in BPF mode (the kernel's when unset).
    #[serde(rename = "bpfIPFragTimeout", skip_serializing_if = "Option::is_none")]
    pub bpf_ip_frag_timeout: Option<GoDuration>,
    /// Reassemble external fragments in BPF mode (default true).
    #[serde(
        rename = "bpfIPFragmentReassemblyEnabled",
        skip_serializing_if = "Option::is_none"
    )]
    pub bpf_ip_fragment_reassembly_enabled: Option<bool>,
    /// Location of the cgroup v2 hierarchy.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroup_v2_path: String,
    /// `CalicoIPAM` or `WorkloadIPs` (default CalicoIPAM).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub route_source: String,
    /// Route table index ranges Felix may use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_ranges: Option<Vec<RouteTableIDRange>>,
    /// Deprecated: use `routeTableRanges`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table_range: Option<RouteTableRange>,
    /// Do not program routes at all (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_sync_disabled: Option<bool>,
    /// IPv4 WireGuard encryption (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_enabled: Option<bool>,
    /// IPv6 WireGuard encryption (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_enabled_v6: Option<bool>,
    /// Threaded NAPI on WireGuard devices (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_threading_enabled: Option<bool>,
    /// IPv4 WireGuard port (default 51820).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_listening_port: Option<i64>,
    /// IPv6 WireGuard port (default 51821).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_listening_port_v6: Option<i64>,
    /// Priority of the WireGuard routing rule, 1-32765 (default 99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_routing_rule_priority: Option<i64>,
    /// IPv4 WireGuard device (default wireguard.cali).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wireguard_interface_name: String,
    /// IPv6 WireGuard device (default wg-v6.cali).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub wireguard_interface_name_v6: String,
    /// IPv4 WireGuard MTU; 0 detects (default 0).
    #[serde(rename = "wireguardMTU", skip_serializing_if = "Option::is_none")]
    pub wireguard_mtu: Option<i64>,
    /// IPv6 WireGuard MTU; 0 detects (default 0).
    #[serde(rename = "wireguardMTUV6", skip_serializing_if = "Option::is_none")]
    pub wireguard_mtu_v6: Option<i64>,
    /// Encrypt host-to-host traffic too (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_host_encryption_enabled: Option<bool>,
    /// WireGuard persistent keepalive; 0 disables (default 0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wireguard_keep_alive: Option<GoDuration>,
    /// `DoNothing`, `Enable` or `Disable` the EC2 source/destination check (default DoNothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_src_dst_check: Option<String>,
    /// `Drop`, `Reject` or `Disabled` for unused service IPs (default Drop).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_loop_prevention: String,
    /// `Disabled` or `Any`: honour workloads' allowed spoofed prefixes (default Disabled).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub workload_source_spoofing: String,
    /// Regex of the host interfaces used to detect the MTU.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mtu_iface_pattern: String,
    /// `Enabled` or `Disabled` non-OpenStack floating IPs (default Disabled).
    #[serde(rename = "floatingIPs", skip_serializing_if = "Option::is_none")]
    pub floating_ips: Option<String>,
    /// `Enabled` or `Disabled` (default Disabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_manage_firewall_rules: Option<String>,
    /// Go GC percentage; -1 disables GC (default 40).
    #[serde(rename = "goGCThreshold", skip_serializing_if = "Option::is_none")]
    pub go_gc_threshold: Option<i64>,
    /// Go soft memory limit in MB; -1 disables (default -1).
    #[serde(rename = "goMemoryLimitMB", skip_serializing_if = "Option::is_none")]
    pub go_memory_limit_mb: Option<i64>,
    /// Go GOMAXPROCS; -1 uses the system default (default -1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go_max_procs: Option<i64>,
    /// Refuse to start without the MTU file (default false).
    #[serde(rename = "requireMTUFile", skip_serializing_if = "Option::is_none")]
    pub require_mtu_file: Option<bool>,
    /// Metric of elevated IPv4 routes during live migration (default 512).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_elevated_route_priority: Option<i64>,
    /// Metric of IPv4 workload routes (default 1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_normal_route_priority: Option<i64>,
    /// Metric of elevated IPv6 routes during live migration (default 512).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_elevated_route_priority: Option<i64>,
    /// Metric of IPv6 workload routes (default 1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_normal_route_priority: Option<i64>,
    /// How long elevated route priority is kept after a live migration (default 30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_migration_route_convergence_time: Option<GoDuration>,
    /// `Enabled` or `Disabled` Istio ambient mode integration (default Disabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub istio_ambient_mode: Option<String>,
    /// DSCP mark for traffic to Istio ztunnel (default 23).
    #[serde(rename = "istioDSCPMark", skip_serializing_if = "Option::is_none")]
    pub istio_dscp_mark: Option<Dscp>,
    /// `Disabled` or `PodsAndLoadBalancers`: answer ARP/NDP for local pod and LB IPs (default Disabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnet_l2_reachability: Option<String>,
    /// Re-announce period of proxied ARP/NDP addresses; 0 disables (default 2m0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnet_l2_reachability_refresh_interval: Option<GoDuration>,
    /// Flow log export period (default 5m0s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_logs_flush_interval: Option<GoDuration>,
    /// Goldmane flow server endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_logs_goldmane_server: Option<String>,
    /// `Enabled` or `Disabled` the local flow socket (default Disabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_logs_local_reporter: Option<String>,
    /// `Continuous` or `None` (default Continuous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_logs_policy_evaluation_mode: Option<String>,
    /// Log collector entries in full (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_logs_collector_debug_trace: Option<bool>,
    /// Nodes this (non-`default`, non-`node.*`) configuration applies to.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node_selector: String,
}
