//! Felix's own defaults for FelixConfiguration settings (what Felix uses when neither the
//! per-node nor the global FelixConfiguration sets a value), as a table and as typed
//! `effective_*` accessors, plus the global-then-per-node merge.

use super::super::duration::GoDuration;
use super::spec::FelixConfigurationSpec;
use super::types::ProtoPort;
use crate::kinds::{Dscp, Port};

/// The default of every FelixConfiguration field as `(JSON name, default)`, the default written
/// as in the Felix configuration reference; empty when the setting has no fixed default (e.g.
/// `vxlanEnabled`, which Felix derives from the IP pools).
pub static FELIX_DEFAULTS: &[(&str, &str)] = &[
    ("useInternalDataplaneDriver", "true"),
    ("dataplaneDriver", "calico-iptables-plugin"),
    ("dataplaneWatchdogTimeout", "1m30s"),
    ("ipv6Support", "true"),
    ("routeRefreshInterval", "1m30s"),
    ("interfaceRefreshInterval", "1m30s"),
    ("iptablesRefreshInterval", "3m0s"),
    ("iptablesPostWriteCheckInterval", "5s"),
    ("iptablesLockProbeInterval", "50ms"),
    ("featureDetectOverride", ""),
    ("featureGates", ""),
    ("ipsetsRefreshInterval", "1m30s"),
    ("maxIpsetSize", "1048576"),
    ("iptablesBackend", "Auto"),
    ("xdpRefreshInterval", "1m30s"),
    ("netlinkTimeout", "10s"),
    ("metadataAddr", "127.0.0.1"),
    ("metadataPort", "8775"),
    ("openstackRegion", ""),
    ("interfacePrefix", "cali"),
    ("interfaceExclude", "kube-ipvs0"),
    ("chainInsertMode", "Insert"),
    ("defaultEndpointToHostAction", "Drop"),
    ("iptablesFilterAllowAction", "Accept"),
    ("iptablesMangleAllowAction", "Accept"),
    ("iptablesFilterDenyAction", "Drop"),
    ("logPrefix", "calico-packet"),
    ("logFilePath", "/var/log/calico/felix.log"),
    ("logSeverityFile", "Info"),
    ("logSeverityScreen", "Info"),
    ("logSeveritySys", "Info"),
    ("logDebugFilenameRegex", ""),
    ("logActionRateLimit", ""),
    ("logActionRateLimitBurst", "5"),
    ("ipipEnabled", ""),
    ("ipipMTU", "0"),
    ("vxlanEnabled", ""),
    ("vxlanMTU", "0"),
    ("vxlanMTUV6", "0"),
    ("vxlanPort", "4789"),
    ("vxlanVNI", "4096"),
    ("allowVXLANPacketsFromWorkloads", "false"),
    ("allowIPIPPacketsFromWorkloads", "false"),
    ("reportingInterval", "30s"),
    ("reportingTTL", "1m30s"),
    ("endpointReportingEnabled", "false"),
    ("endpointReportingDelay", "1s"),
    ("endpointStatusPathPrefix", "/var/run/calico"),
    ("iptablesMarkMask", "0xffff0000"),
    ("disableConntrackInvalidCheck", "false"),
    ("healthEnabled", "false"),
    ("healthHost", "localhost"),
    ("healthPort", "9099"),
    ("healthTimeoutOverrides", ""),
    ("prometheusMetricsEnabled", "false"),
    ("prometheusGoMetricsEnabled", "true"),
    ("prometheusProcessMetricsEnabled", "true"),
    ("prometheusWireGuardMetricsEnabled", "true"),
    ("prometheusMetricsHost", ""),
    ("prometheusMetricsPort", "9091"),
    ("prometheusMetricsCAFile", ""),
    ("prometheusMetricsCertFile", ""),
    ("prometheusMetricsKeyFile", ""),
    ("prometheusMetricsClientAuth", "NoClientCert"),
    (
        "failsafeInboundHostPorts",
        "tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667",
    ),
    (
        "failsafeOutboundHostPorts",
        "udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667",
    ),
    ("kubeNodePortRanges", "30000:32767"),
    ("policySyncPathPrefix", ""),
    ("usageReportingEnabled", "true"),
    ("usageReportingInitialDelay", "5m0s"),
    ("usageReportingInterval", "24h0m0s"),
    ("natPortRange", ""),
    ("natOutgoingAddress", ""),
    ("natOutgoingExclusions", "IPPoolsOnly"),
    ("deviceRouteSourceAddress", ""),
    ("deviceRouteSourceAddressIPv6", ""),
    ("deviceRouteProtocol", "3"),
    ("removeExternalRoutes", "true"),
    ("programClusterRoutes", "EnabledIPIPOnly"),
    ("ipForwarding", "Enabled"),
    ("externalNodesList", ""),
    ("debugMemoryProfilePath", ""),
    ("debugDisableLogDropping", "false"),
    ("debugSimulateCalcGraphHangAfter", "0s"),
    ("debugSimulateDataplaneHangAfter", "0s"),
    ("debugSimulateDataplaneApplyDelay", "0s"),
    ("debugHost", "localhost"),
    ("debugPort", ""),
    ("iptablesNATOutgoingInterfaceFilter", ""),
    ("sidecarAccelerationEnabled", "false"),
    ("xdpEnabled", "true"),
    ("genericXDPEnabled", "false"),
    ("nftablesMode", "Auto"),
    ("nftablesRefreshInterval", "3m0s"),
    ("nftablesFilterAllowAction", "Accept"),
    ("nftablesMangleAllowAction", "Accept"),
    ("nftablesFilterDenyAction", "Drop"),
    ("nftablesMarkMask", "0xffff0000"),
    ("bpfEnabled", "false"),
    ("bpfDisableUnprivileged", "true"),
    ("bpfJITHardening", "Auto"),
    ("bpfLogLevel", "Off"),
    ("bpfConntrackLogLevel", "Off"),
    ("bpfConntrackMode", "Auto"),
    ("bpfConntrackTimeouts", ""),
    ("bpfLogFilters", ""),
    ("bpfCTLBLogFilter", ""),
    (
        "bpfDataIfacePattern",
        "^((en|wl|ww|sl|ib)[Popsx].*|(eth|wlan|wwan|bond).*)",
    ),
    ("bpfL3IfacePattern", ""),
    ("bpfConnectTimeLoadBalancingEnabled", ""),
    ("bpfConnectTimeLoadBalancing", "TCP"),
    ("bpfHostNetworkedNATWithoutCTLB", "Enabled"),
    ("bpfExternalServiceMode", "Tunnel"),
    ("bpfDSROptoutCIDRs", ""),
    ("bpfExtToServiceConnmark", "0"),
    ("bpfKubeProxyIptablesCleanupEnabled", "true"),
    ("bpfKubeProxyMinSyncPeriod", "1s"),
    ("bpfKubeProxyHealthzPort", "10256"),
    ("bpfPSNATPorts", "20000:29999"),
    ("bpfMapSizeNATFrontend", "65536"),
    ("bpfMapSizeNATBackend", "262144"),
    ("bpfMapSizeNATAffinity", "65536"),
    ("bpfMapSizeRoute", "262144"),
    ("bpfMapSizeConntrack", "512000"),
    ("bpfMapSizePerCpuConntrack", "0"),
    ("bpfMapSizeConntrackScaling", "DoubleIfFull"),
    ("bpfMapSizeConntrackCleanupQueue", "100000"),
    ("bpfMapSizeIPSets", "1048576"),
    ("bpfMapSizeIfState", "1000"),
    ("bpfHostConntrackBypass", "false"),
    ("bpfEnforceRPF", "Loose"),
    ("bpfPolicyDebugEnabled", "true"),
    ("bpfForceTrackPacketsFromIfaces", "docker+"),
    ("bpfDisableGROForIfaces", ""),
    ("bpfExcludeCIDRsFromNAT", ""),
    ("bpfExportBufferSizeMB", "1"),
    ("bpfRedirectToPeer", "Enabled"),
    ("bpfProfiling", "Disabled"),
    ("bpfAttachType", "Netkit"),
    ("bpfMaglevMaxEndpointsPerService", "100"),
    ("bpfMaglevMaxServices", "100"),
    ("bpfOverlayHostSourceIP", "TunnelAddress"),
    ("bpfIPFragTimeout", ""),
    ("bpfIPFragmentReassemblyEnabled", "true"),
    ("cgroupV2Path", ""),
    ("routeSource", "CalicoIPAM"),
    ("routeTableRanges", ""),
    ("routeTableRange", ""),
    ("routeSyncDisabled", "false"),
    ("wireguardEnabled", "false"),
    ("wireguardEnabledV6", "false"),
    ("wireguardThreadingEnabled", "false"),
    ("wireguardListeningPort", "51820"),
    ("wireguardListeningPortV6", "51821"),
    ("wireguardRoutingRulePriority", "99"),
    ("wireguardInterfaceName", "wireguard.cali"),
    ("wireguardInterfaceNameV6", "wg-v6.cali"),
    ("wireguardMTU", "0"),
    ("wireguardMTUV6", "0"),
    ("wireguardHostEncryptionEnabled", "false"),
    ("wireguardKeepAlive", "0s"),
    ("awsSrcDstCheck", "DoNothing"),
    ("serviceLoopPrevention", "Drop"),
    ("workloadSourceSpoofing", "Disabled"),
    (
        "mtuIfacePattern",
        "^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)",
    ),
    ("floatingIPs", "Disabled"),
    ("windowsManageFirewallRules", "Disabled"),
    ("goGCThreshold", "40"),
    ("goMemoryLimitMB", "-1"),
    ("goMaxProcs", "-1"),
    ("requireMTUFile", "false"),
    ("ipv4ElevatedRoutePriority", "512"),
    ("ipv4NormalRoutePriority", "1024"),
    ("ipv6ElevatedRoutePriority", "512"),
    ("ipv6NormalRoutePriority", "1024"),
    ("liveMigrationRouteConvergenceTime", "30s"),
    ("istioAmbientMode", "Disabled"),
    ("istioDSCPMark", "23"),
    ("localSubnetL2Reachability", "Disabled"),
    ("localSubnetL2ReachabilityRefreshInterval", "2m0s"),
    ("flowLogsFlushInterval", "5m0s"),
    ("flowLogsGoldmaneServer", ""),
    ("flowLogsLocalReporter", "Disabled"),
    ("flowLogsPolicyEvaluationMode", "Continuous"),
    ("flowLogsCollectorDebugTrace", "false"),
    ("nodeSelector", ""),
];

/// The default of one field (`None` for an unknown name).
pub fn felix_default(name: &str) -> Option<&'static str> {
    FELIX_DEFAULTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

/// Felix's default inbound failsafe ports.
pub fn default_failsafe_inbound_host_ports() -> Vec<ProtoPort> {
    [
        ("tcp", 22),
        ("udp", 68),
        ("tcp", 179),
        ("tcp", 2379),
        ("tcp", 2380),
        ("tcp", 5473),
        ("tcp", 6443),
        ("tcp", 6666),
        ("tcp", 6667),
    ]
    .into_iter()
    .map(|(p, n)| ProtoPort::new(p, n))
    .collect()
}

/// Felix's default outbound failsafe ports.
pub fn default_failsafe_outbound_host_ports() -> Vec<ProtoPort> {
    [
        ("udp", 53),
        ("udp", 67),
        ("tcp", 179),
        ("tcp", 2379),
        ("tcp", 2380),
        ("tcp", 5473),
        ("tcp", 6443),
        ("tcp", 6666),
        ("tcp", 6667),
    ]
    .into_iter()
    .map(|(p, n)| ProtoPort::new(p, n))
    .collect()
}

macro_rules! effective {
    (copy $name:ident, $field:ident: $ty:ty = $default:expr) => {
        #[doc = concat!("`", stringify!($field), "`, or Felix's default.")]
        pub fn $name(&self) -> $ty {
            self.$field.unwrap_or($default)
        }
    };
    (str $name:ident, $field:ident = $default:expr) => {
        #[doc = concat!("`", stringify!($field), "`, or Felix's default.")]
        pub fn $name(&self) -> &str {
            if self.$field.is_empty() {
                $default
            } else {
                &self.$field
            }
        }
    };
    (pstr $name:ident, $field:ident = $default:expr) => {
        #[doc = concat!("`", stringify!($field), "`, or Felix's default.")]
        pub fn $name(&self) -> &str {
            self.$field.as_deref().unwrap_or($default)
        }
    };
}

impl FelixConfigurationSpec {
    effective!(copy effective_use_internal_dataplane_driver, use_internal_dataplane_driver: bool = true);
    effective!(str effective_dataplane_driver, dataplane_driver = "calico-iptables-plugin");
    effective!(copy effective_dataplane_watchdog_timeout, dataplane_watchdog_timeout: GoDuration = GoDuration::from_secs(90));
    effective!(copy effective_ipv6_support, ipv6_support: bool = true);
    effective!(copy effective_route_refresh_interval, route_refresh_interval: GoDuration = GoDuration::from_secs(90));
    effective!(copy effective_interface_refresh_interval, interface_refresh_interval: GoDuration = GoDuration::from_secs(90));
    effective!(copy effective_iptables_refresh_interval, iptables_refresh_interval: GoDuration = GoDuration::from_secs(180));
    effective!(copy effective_iptables_post_write_check_interval, iptables_post_write_check_interval: GoDuration = GoDuration::from_secs(5));
    effective!(copy effective_iptables_lock_probe_interval, iptables_lock_probe_interval: GoDuration = GoDuration::from_millis(50));
    effective!(copy effective_ipsets_refresh_interval, ipsets_refresh_interval: GoDuration = GoDuration::from_secs(90));
    effective!(copy effective_max_ipset_size, max_ipset_size: i64 = 1048576);
    effective!(pstr effective_iptables_backend, iptables_backend = "Auto");
    effective!(copy effective_xdp_refresh_interval, xdp_refresh_interval: GoDuration = GoDuration::from_secs(90));
    effective!(copy effective_netlink_timeout, netlink_timeout: GoDuration = GoDuration::from_secs(10));
    effective!(str effective_metadata_addr, metadata_addr = "127.0.0.1");
    effective!(copy effective_metadata_port, metadata_port: i64 = 8775);
    effective!(str effective_interface_prefix, interface_prefix = "cali");
    effective!(str effective_interface_exclude, interface_exclude = "kube-ipvs0");
    effective!(str effective_chain_insert_mode, chain_insert_mode = "Insert");
    effective!(str effective_default_endpoint_to_host_action, default_endpoint_to_host_action = "Drop");
    effective!(str effective_iptables_filter_allow_action, iptables_filter_allow_action = "Accept");
    effective!(str effective_iptables_mangle_allow_action, iptables_mangle_allow_action = "Accept");
    effective!(str effective_iptables_filter_deny_action, iptables_filter_deny_action = "Drop");
    effective!(str effective_log_prefix, log_prefix = "calico-packet");
    effective!(str effective_log_file_path, log_file_path = "/var/log/calico/felix.log");
    effective!(str effective_log_severity_file, log_severity_file = "Info");
    effective!(str effective_log_severity_screen, log_severity_screen = "Info");
    effective!(str effective_log_severity_sys, log_severity_sys = "Info");
    effective!(copy effective_log_action_rate_limit_burst, log_action_rate_limit_burst: i64 = 5);
    effective!(copy effective_ipip_mtu, ipip_mtu: i64 = 0);
    effective!(copy effective_vxlan_mtu, vxlan_mtu: i64 = 0);
    effective!(copy effective_vxlan_mtu_v6, vxlan_mtu_v6: i64 = 0);
    effective!(copy effective_vxlan_port, vxlan_port: i64 = 4789);
    effective!(copy effective_vxlan_vni, vxlan_vni: i64 = 4096);
    effective!(copy effective_allow_vxlan_packets_from_workloads, allow_vxlan_packets_from_workloads: bool = false);
    effective!(copy effective_allow_ipip_packets_from_workloads, allow_ipip_packets_from_workloads: bool = false);
    effective!(copy effective_reporting_interval, reporting_interval: GoDuration = GoDuration::from_secs(30));
    effective!(copy effective_reporting_ttl, reporting_ttl: GoDuration = GoDuration::from_secs(90));
    effective!(copy effective_endpoint_reporting_enabled, endpoint_reporting_enabled: bool = false);
    effective!(copy effective_endpoint_reporting_delay, endpoint_reporting_delay: GoDuration = GoDuration::from_secs(1));
    effective!(str effective_endpoint_status_path_prefix, endpoint_status_path_prefix = "/var/run/calico");
    effective!(copy effective_iptables_mark_mask, iptables_mark_mask: u32 = 0xffff_0000);
    effective!(copy effective_disable_conntrack_invalid_check, disable_conntrack_invalid_check: bool = false);
    effective!(copy effective_health_enabled, health_enabled: bool = false);
    effective!(pstr effective_health_host, health_host = "localhost");
    effective!(copy effective_health_port, health_port: i64 = 9099);
    effective!(copy effective_prometheus_metrics_enabled, prometheus_metrics_enabled: bool = false);
    effective!(copy effective_prometheus_go_metrics_enabled, prometheus_go_metrics_enabled: bool = true);
    effective!(copy effective_prometheus_process_metrics_enabled, prometheus_process_metrics_enabled: bool = true);
    effective!(copy effective_prometheus_wire_guard_metrics_enabled, prometheus_wire_guard_metrics_enabled: bool = true);
    effective!(copy effective_prometheus_metrics_port, prometheus_metrics_port: i64 = 9091);
    effective!(pstr effective_prometheus_metrics_client_auth, prometheus_metrics_client_auth = "NoClientCert");
    effective!(copy effective_usage_reporting_enabled, usage_reporting_enabled: bool = true);
    effective!(copy effective_usage_reporting_initial_delay, usage_reporting_initial_delay: GoDuration = GoDuration::from_secs(300));
    effective!(copy effective_usage_reporting_interval, usage_reporting_interval: GoDuration = GoDuration::from_secs(86400));
    effective!(pstr effective_nat_outgoing_exclusions, nat_outgoing_exclusions = "IPPoolsOnly");
    effective!(copy effective_device_route_protocol, device_route_protocol: i64 = 3);
    effective!(copy effective_remove_external_routes, remove_external_routes: bool = true);
    effective!(pstr effective_program_cluster_routes, program_cluster_routes = "EnabledIPIPOnly");
    effective!(str effective_ip_forwarding, ip_forwarding = "Enabled");
    effective!(copy effective_debug_disable_log_dropping, debug_disable_log_dropping: bool = false);
    effective!(copy effective_debug_simulate_calc_graph_hang_after, debug_simulate_calc_graph_hang_after: GoDuration = GoDuration::from_secs(0));
    effective!(copy effective_debug_simulate_dataplane_hang_after, debug_simulate_dataplane_hang_after: GoDuration = GoDuration::from_secs(0));
    effective!(copy effective_debug_simulate_dataplane_apply_delay, debug_simulate_dataplane_apply_delay: GoDuration = GoDuration::from_secs(0));
    effective!(pstr effective_debug_host, debug_host = "localhost");
    effective!(copy effective_sidecar_acceleration_enabled, sidecar_acceleration_enabled: bool = false);
    effective!(copy effective_xdp_enabled, xdp_enabled: bool = true);
    effective!(copy effective_generic_xdp_enabled, generic_xdp_enabled: bool = false);
    effective!(pstr effective_nftables_mode, nftables_mode = "Auto");
    effective!(copy effective_nftables_refresh_interval, nftables_refresh_interval: GoDuration = GoDuration::from_secs(180));
    effective!(str effective_nftables_filter_allow_action, nftables_filter_allow_action = "Accept");
    effective!(str effective_nftables_mangle_allow_action, nftables_mangle_allow_action = "Accept");
    effective!(str effective_nftables_filter_deny_action, nftables_filter_deny_action = "Drop");
    effective!(copy effective_nftables_mark_mask, nftables_mark_mask: u32 = 0xffff_0000);
    effective!(copy effective_bpf_enabled, bpf_enabled: bool = false);
    effective!(copy effective_bpf_disable_unprivileged, bpf_disable_unprivileged: bool = true);
    effective!(pstr effective_bpf_jit_hardening, bpf_jit_hardening = "Auto");
    effective!(str effective_bpf_log_level, bpf_log_level = "Off");
    effective!(str effective_bpf_conntrack_log_level, bpf_conntrack_log_level = "Off");
    effective!(pstr effective_bpf_conntrack_mode, bpf_conntrack_mode = "Auto");
    effective!(str effective_bpf_data_iface_pattern, bpf_data_iface_pattern = "^((en|wl|ww|sl|ib)[Popsx].*|(eth|wlan|wwan|bond).*)");
    effective!(pstr effective_bpf_connect_time_load_balancing, bpf_connect_time_load_balancing = "TCP");
    effective!(pstr effective_bpf_host_networked_nat_without_ctlb, bpf_host_networked_nat_without_ctlb = "Enabled");
    effective!(str effective_bpf_external_service_mode, bpf_external_service_mode = "Tunnel");
    effective!(copy effective_bpf_ext_to_service_connmark, bpf_ext_to_service_connmark: i64 = 0);
    effective!(copy effective_bpf_kube_proxy_iptables_cleanup_enabled, bpf_kube_proxy_iptables_cleanup_enabled: bool = true);
    effective!(copy effective_bpf_kube_proxy_min_sync_period, bpf_kube_proxy_min_sync_period: GoDuration = GoDuration::from_secs(1));
    effective!(copy effective_bpf_kube_proxy_healthz_port, bpf_kube_proxy_healthz_port: i64 = 10256);
    effective!(copy effective_bpf_map_size_nat_frontend, bpf_map_size_nat_frontend: i64 = 65536);
    effective!(copy effective_bpf_map_size_nat_backend, bpf_map_size_nat_backend: i64 = 262144);
    effective!(copy effective_bpf_map_size_nat_affinity, bpf_map_size_nat_affinity: i64 = 65536);
    effective!(copy effective_bpf_map_size_route, bpf_map_size_route: i64 = 262144);
    effective!(copy effective_bpf_map_size_conntrack, bpf_map_size_conntrack: i64 = 512000);
    effective!(copy effective_bpf_map_size_per_cpu_conntrack, bpf_map_size_per_cpu_conntrack: i64 = 0);
    effective!(str effective_bpf_map_size_conntrack_scaling, bpf_map_size_conntrack_scaling = "DoubleIfFull");
    effective!(copy effective_bpf_map_size_conntrack_cleanup_queue, bpf_map_size_conntrack_cleanup_queue: i64 = 100000);
    effective!(copy effective_bpf_map_size_ip_sets, bpf_map_size_ip_sets: i64 = 1048576);
    effective!(copy effective_bpf_map_size_if_state, bpf_map_size_if_state: i64 = 1000);
    effective!(copy effective_bpf_host_conntrack_bypass, bpf_host_conntrack_bypass: bool = false);
    effective!(str effective_bpf_enforce_rpf, bpf_enforce_rpf = "Loose");
    effective!(copy effective_bpf_policy_debug_enabled, bpf_policy_debug_enabled: bool = true);
    effective!(copy effective_bpf_export_buffer_size_mb, bpf_export_buffer_size_mb: i64 = 1);
    effective!(str effective_bpf_redirect_to_peer, bpf_redirect_to_peer = "Enabled");
    effective!(str effective_bpf_profiling, bpf_profiling = "Disabled");
    effective!(pstr effective_bpf_attach_type, bpf_attach_type = "Netkit");
    effective!(copy effective_bpf_maglev_max_endpoints_per_service, bpf_maglev_max_endpoints_per_service: i64 = 100);
    effective!(copy effective_bpf_maglev_max_services, bpf_maglev_max_services: i64 = 100);
    effective!(pstr effective_bpf_overlay_host_source_ip, bpf_overlay_host_source_ip = "TunnelAddress");
    effective!(copy effective_bpf_ip_fragment_reassembly_enabled, bpf_ip_fragment_reassembly_enabled: bool = true);
    effective!(str effective_route_source, route_source = "CalicoIPAM");
    effective!(copy effective_route_sync_disabled, route_sync_disabled: bool = false);
    effective!(copy effective_wireguard_enabled, wireguard_enabled: bool = false);
    effective!(copy effective_wireguard_enabled_v6, wireguard_enabled_v6: bool = false);
    effective!(copy effective_wireguard_threading_enabled, wireguard_threading_enabled: bool = false);
    effective!(copy effective_wireguard_listening_port, wireguard_listening_port: i64 = 51820);
    effective!(copy effective_wireguard_listening_port_v6, wireguard_listening_port_v6: i64 = 51821);
    effective!(copy effective_wireguard_routing_rule_priority, wireguard_routing_rule_priority: i64 = 99);
    effective!(str effective_wireguard_interface_name, wireguard_interface_name = "wireguard.cali");
    effective!(str effective_wireguard_interface_name_v6, wireguard_interface_name_v6 = "wg-v6.cali");
    effective!(copy effective_wireguard_mtu, wireguard_mtu: i64 = 0);
    effective!(copy effective_wireguard_mtu_v6, wireguard_mtu_v6: i64 = 0);
    effective!(copy effective_wireguard_host_encryption_enabled, wireguard_host_encryption_enabled: bool = false);
    effective!(copy effective_wireguard_keep_alive, wireguard_keep_alive: GoDuration = GoDuration::from_secs(0));
    effective!(pstr effective_aws_src_dst_check, aws_src_dst_check = "DoNothing");
    effective!(str effective_service_loop_prevention, service_loop_prevention = "Drop");
    effective!(str effective_workload_source_spoofing, workload_source_spoofing = "Disabled");
    effective!(str effective_mtu_iface_pattern, mtu_iface_pattern = "^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)");
    effective!(pstr effective_floating_ips, floating_ips = "Disabled");
    effective!(pstr effective_windows_manage_firewall_rules, windows_manage_firewall_rules = "Disabled");
    effective!(copy effective_go_gc_threshold, go_gc_threshold: i64 = 40);
    effective!(copy effective_go_memory_limit_mb, go_memory_limit_mb: i64 = -1);
    effective!(copy effective_go_max_procs, go_max_procs: i64 = -1);
    effective!(copy effective_require_mtu_file, require_mtu_file: bool = false);
    effective!(copy effective_ipv4_elevated_route_priority, ipv4_elevated_route_priority: i64 = 512);
    effective!(copy effective_ipv4_normal_route_priority, ipv4_normal_route_priority: i64 = 1024);
    effective!(copy effective_ipv6_elevated_route_priority, ipv6_elevated_route_priority: i64 = 512);
    effective!(copy effective_ipv6_normal_route_priority, ipv6_normal_route_priority: i64 = 1024);
    effective!(copy effective_live_migration_route_convergence_time, live_migration_route_convergence_time: GoDuration = GoDuration::from_secs(30));
    effective!(pstr effective_istio_ambient_mode, istio_ambient_mode = "Disabled");
    effective!(pstr effective_local_subnet_l2_reachability, local_subnet_l2_reachability = "Disabled");
    effective!(copy effective_local_subnet_l2_reachability_refresh_interval, local_subnet_l2_reachability_refresh_interval: GoDuration = GoDuration::from_secs(120));
    effective!(copy effective_flow_logs_flush_interval, flow_logs_flush_interval: GoDuration = GoDuration::from_secs(300));
    effective!(pstr effective_flow_logs_local_reporter, flow_logs_local_reporter = "Disabled");
    effective!(pstr effective_flow_logs_policy_evaluation_mode, flow_logs_policy_evaluation_mode = "Continuous");
    effective!(copy effective_flow_logs_collector_debug_trace, flow_logs_collector_debug_trace: bool = false);

    /// `failsafeInboundHostPorts`, or Felix's default list.
    pub fn effective_failsafe_inbound_host_ports(&self) -> Vec<ProtoPort> {
        self.failsafe_inbound_host_ports
            .clone()
            .unwrap_or_else(default_failsafe_inbound_host_ports)
    }

    /// `failsafeOutboundHostPorts`, or Felix's default list.
    pub fn effective_failsafe_outbound_host_ports(&self) -> Vec<ProtoPort> {
        self.failsafe_outbound_host_ports
            .clone()
            .unwrap_or_else(default_failsafe_outbound_host_ports)
    }

    /// `kubeNodePortRanges`, or `[30000:32767]`.
    pub fn effective_kube_node_port_ranges(&self) -> Vec<Port> {
        self.kube_node_port_ranges.clone().unwrap_or_else(|| {
            vec![Port::Range {
                min: 30000,
                max: 32767,
            }]
        })
    }

    /// `bpfPSNATPorts`, or `20000:29999`.
    pub fn effective_bpf_psnat_ports(&self) -> Port {
        self.bpf_psnat_ports.clone().unwrap_or(Port::Range {
            min: 20000,
            max: 29999,
        })
    }

    /// `bpfForceTrackPacketsFromIfaces`, or `[docker+]`.
    pub fn effective_bpf_force_track_packets_from_ifaces(&self) -> Vec<String> {
        self.bpf_force_track_packets_from_ifaces
            .clone()
            .unwrap_or_else(|| vec!["docker+".to_string()])
    }

    /// `istioDSCPMark`, or 23.
    pub fn effective_istio_dscp_mark(&self) -> Dscp {
        self.istio_dscp_mark.clone().unwrap_or(Dscp::Number(23))
    }

    /// The settings in effect on a node: every field set in `node` (the `node.<name>`
    /// configuration) overrides the same field of `global` (the `default` configuration).
    /// Fields set in neither stay unset (use the `effective_*` accessors for Felix's defaults).
    pub fn merged(
        global: &FelixConfigurationSpec,
        node: &FelixConfigurationSpec,
    ) -> FelixConfigurationSpec {
        let (Ok(serde_json::Value::Object(mut base)), Ok(serde_json::Value::Object(over))) =
            (serde_json::to_value(global), serde_json::to_value(node))
        else {
            return node.clone();
        };
        base.extend(over);
        serde_json::from_value(serde_json::Value::Object(base)).unwrap_or_else(|_| node.clone())
    }
}
