//! Validation of FelixConfiguration values: enumerations, numeric ranges, durations, address
//! and interface formats, regular expressions, route table ranges and failsafe ports, as
//! Calico's validator and CRD schema check them.

use std::sync::LazyLock;

use regex::Regex;

use super::super::duration::GoDuration;
use super::super::infra_common::{
    check_ipv4, check_ipv6, check_log_level, check_max_len, check_one_of, check_one_of_ci,
    check_range, check_regex, is_bind_host, is_iface_filter, is_iface_name,
};
use super::spec::FelixConfigurationSpec;
use super::types::ProtoPort;
use crate::kinds::Port;
use crate::validate::{Validator, is_dns_label, parse_cidr_or_ip};

const ENABLED_DISABLED: &[&str] = &["Enabled", "Disabled"];
const MAX_ROUTE_PRIORITY: i64 = 2_147_483_646;

fn matches(pattern: &'static LazyLock<Option<Regex>>, s: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(s))
}

static FEATURE_DETECT_OVERRIDE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$").ok()
});
static FEATURE_GATES: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$").ok());
static LOG_PREFIX: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([a-zA-Z0-9%: /_-])*$").ok());
static LOG_RATE_LIMIT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[1-9]\d{0,3}/(?:second|minute|hour|day)$").ok());
static INTERFACE_PREFIX: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_-]{1,15}(,[a-zA-Z0-9_-]{1,15})*$").ok());
static HEALTH_OVERRIDE_NAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_ -]+$").ok());
static CONNTRACK_TIMEOUT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(([0-9]*(\.[0-9]*)?(ms|s|h|m|us)+)+|Auto)$").ok());

/// Check every field of `spec`; `name` is the resource's name (for the `nodeSelector` rule).
pub(super) fn check_spec(spec: &FelixConfigurationSpec, name: &str, v: &mut Validator) {
    check_enums(spec, v);
    check_numbers(spec, v);
    check_durations(spec, v);
    check_strings(spec, name, v);
    check_lists(spec, v);
}

fn one_of(v: &mut Validator, field: &str, value: Option<&str>, allowed: &[&str]) {
    if let Some(value) = value {
        v.field(field, |v| check_one_of(v, value, allowed));
    }
}

fn one_of_ci(v: &mut Validator, field: &str, value: Option<&str>, allowed: &[&str]) {
    if let Some(value) = value {
        v.field(field, |v| check_one_of_ci(v, value, allowed));
    }
}

/// `Some(s)` unless `s` is empty (non-pointer string fields: empty means unset).
fn set(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn check_enums(s: &FelixConfigurationSpec, v: &mut Validator) {
    // Case-sensitive: Calico's validator checks these exactly.
    one_of(
        v,
        "defaultEndpointToHostAction",
        set(&s.default_endpoint_to_host_action),
        &["Drop", "Accept", "Return"],
    );
    one_of(
        v,
        "iptablesFilterAllowAction",
        set(&s.iptables_filter_allow_action),
        &["Accept", "Return"],
    );
    one_of(
        v,
        "iptablesMangleAllowAction",
        set(&s.iptables_mangle_allow_action),
        &["Accept", "Return"],
    );
    one_of(
        v,
        "iptablesFilterDenyAction",
        set(&s.iptables_filter_deny_action),
        &["Drop", "Reject"],
    );
    one_of(
        v,
        "nftablesFilterAllowAction",
        set(&s.nftables_filter_allow_action),
        &["Accept", "Return"],
    );
    one_of(
        v,
        "nftablesMangleAllowAction",
        set(&s.nftables_mangle_allow_action),
        &["Accept", "Return"],
    );
    one_of(
        v,
        "nftablesFilterDenyAction",
        set(&s.nftables_filter_deny_action),
        &["Drop", "Reject"],
    );
    for (field, value) in [
        ("logSeverityFile", &s.log_severity_file),
        ("logSeverityScreen", &s.log_severity_screen),
        ("logSeveritySys", &s.log_severity_sys),
    ] {
        if !value.is_empty() {
            v.field(field, |v| check_log_level(v, value));
        }
    }
    one_of(v, "ipForwarding", set(&s.ip_forwarding), ENABLED_DISABLED);
    one_of(
        v,
        "bpfLogLevel",
        set(&s.bpf_log_level),
        &["Debug", "Info", "Off"],
    );
    one_of(
        v,
        "bpfConntrackLogLevel",
        set(&s.bpf_conntrack_log_level),
        &["Off", "Debug"],
    );
    one_of(
        v,
        "bpfExternalServiceMode",
        set(&s.bpf_external_service_mode),
        &["Tunnel", "DSR"],
    );
    one_of(
        v,
        "bpfRedirectToPeer",
        set(&s.bpf_redirect_to_peer),
        ENABLED_DISABLED,
    );
    one_of(v, "bpfProfiling", set(&s.bpf_profiling), ENABLED_DISABLED);
    one_of(
        v,
        "serviceLoopPrevention",
        set(&s.service_loop_prevention),
        &["Drop", "Reject", "Disabled"],
    );
    one_of(
        v,
        "workloadSourceSpoofing",
        set(&s.workload_source_spoofing),
        &["Disabled", "Any"],
    );
    one_of(
        v,
        "iptablesBackend",
        s.iptables_backend.as_deref(),
        &["Legacy", "NFT", "Auto"],
    );
    one_of(
        v,
        "prometheusMetricsClientAuth",
        s.prometheus_metrics_client_auth.as_deref(),
        &[
            "RequireAndVerifyClientCert",
            "RequireAnyClientCert",
            "VerifyClientCertIfGiven",
            "NoClientCert",
        ],
    );
    one_of(
        v,
        "natOutgoingExclusions",
        s.nat_outgoing_exclusions.as_deref(),
        &["IPPoolsOnly", "IPPoolsAndHostIPs"],
    );
    one_of(
        v,
        "programClusterRoutes",
        s.program_cluster_routes.as_deref(),
        crate::kinds::PROGRAM_CLUSTER_ROUTES_VALUES,
    );
    one_of(
        v,
        "nftablesMode",
        s.nftables_mode.as_deref(),
        &["Disabled", "Enabled", "Auto"],
    );
    one_of(
        v,
        "bpfJITHardening",
        s.bpf_jit_hardening.as_deref(),
        &["Auto", "Strict"],
    );
    one_of(
        v,
        "bpfConntrackMode",
        s.bpf_conntrack_mode.as_deref(),
        &["Auto", "Userspace", "BPFProgram"],
    );
    one_of(
        v,
        "bpfConnectTimeLoadBalancing",
        s.bpf_connect_time_load_balancing.as_deref(),
        &["TCP", "Enabled", "Disabled"],
    );
    one_of(
        v,
        "bpfHostNetworkedNATWithoutCTLB",
        s.bpf_host_networked_nat_without_ctlb.as_deref(),
        ENABLED_DISABLED,
    );
    one_of(
        v,
        "bpfAttachType",
        s.bpf_attach_type.as_deref(),
        &["Netkit", "TCX", "TC"],
    );
    one_of(
        v,
        "bpfOverlayHostSourceIP",
        s.bpf_overlay_host_source_ip.as_deref(),
        &["TunnelAddress", "HostAddress"],
    );
    one_of(
        v,
        "awsSrcDstCheck",
        s.aws_src_dst_check.as_deref(),
        &["DoNothing", "Enable", "Disable"],
    );
    one_of(
        v,
        "floatingIPs",
        s.floating_ips.as_deref(),
        ENABLED_DISABLED,
    );
    one_of(
        v,
        "windowsManageFirewallRules",
        s.windows_manage_firewall_rules.as_deref(),
        ENABLED_DISABLED,
    );
    one_of(
        v,
        "istioAmbientMode",
        s.istio_ambient_mode.as_deref(),
        ENABLED_DISABLED,
    );
    one_of(
        v,
        "localSubnetL2Reachability",
        s.local_subnet_l2_reachability.as_deref(),
        &["Disabled", "PodsAndLoadBalancers"],
    );
    one_of(
        v,
        "flowLogsLocalReporter",
        s.flow_logs_local_reporter.as_deref(),
        ENABLED_DISABLED,
    );
    one_of(
        v,
        "flowLogsPolicyEvaluationMode",
        s.flow_logs_policy_evaluation_mode.as_deref(),
        &["None", "Continuous"],
    );
    // Case-insensitive: only the CRD schema constrains these.
    one_of_ci(
        v,
        "chainInsertMode",
        set(&s.chain_insert_mode),
        &["Insert", "Append"],
    );
    one_of_ci(
        v,
        "bpfMapSizeConntrackScaling",
        set(&s.bpf_map_size_conntrack_scaling),
        &["Disabled", "DoubleIfFull"],
    );
    one_of_ci(
        v,
        "bpfEnforceRPF",
        set(&s.bpf_enforce_rpf),
        &["Disabled", "Strict", "Loose"],
    );
    one_of_ci(
        v,
        "routeSource",
        set(&s.route_source),
        &["WorkloadIPs", "CalicoIPAM"],
    );
}

fn range(v: &mut Validator, field: &str, value: Option<i64>, min: i64, max: i64) {
    if let Some(n) = value {
        v.field(field, |v| check_range(v, n, min, max));
    }
}

fn check_numbers(s: &FelixConfigurationSpec, v: &mut Validator) {
    for (field, value) in [
        ("healthPort", s.health_port),
        ("prometheusMetricsPort", s.prometheus_metrics_port),
        ("debugPort", s.debug_port),
        ("metadataPort", s.metadata_port),
        ("bpfKubeProxyHealthzPort", s.bpf_kube_proxy_healthz_port),
    ] {
        range(v, field, value, 0, 65535);
    }
    for (field, value) in [
        ("vxlanPort", s.vxlan_port),
        ("wireguardListeningPort", s.wireguard_listening_port),
        ("wireguardListeningPortV6", s.wireguard_listening_port_v6),
    ] {
        range(v, field, value, 1, 65535);
    }
    range(
        v,
        "wireguardRoutingRulePriority",
        s.wireguard_routing_rule_priority,
        1,
        32765,
    );
    range(
        v,
        "bpfExtToServiceConnmark",
        s.bpf_ext_to_service_connmark,
        0,
        0xffff_ffff,
    );
    range(
        v,
        "bpfMapSizeConntrackCleanupQueue",
        s.bpf_map_size_conntrack_cleanup_queue,
        1,
        i64::MAX,
    );
    range(
        v,
        "bpfMaglevMaxEndpointsPerService",
        s.bpf_maglev_max_endpoints_per_service,
        1,
        3000,
    );
    range(
        v,
        "bpfMaglevMaxServices",
        s.bpf_maglev_max_services,
        1,
        3000,
    );
    for (field, value) in [
        ("goGCThreshold", s.go_gc_threshold),
        ("goMemoryLimitMB", s.go_memory_limit_mb),
        ("goMaxProcs", s.go_max_procs),
    ] {
        range(v, field, value, -1, i64::MAX);
    }
    for (field, value) in [
        ("ipv4ElevatedRoutePriority", s.ipv4_elevated_route_priority),
        ("ipv4NormalRoutePriority", s.ipv4_normal_route_priority),
        ("ipv6ElevatedRoutePriority", s.ipv6_elevated_route_priority),
        ("ipv6NormalRoutePriority", s.ipv6_normal_route_priority),
    ] {
        range(v, field, value, 1, MAX_ROUTE_PRIORITY);
    }
    range(
        v,
        "logActionRateLimitBurst",
        s.log_action_rate_limit_burst,
        0,
        9999,
    );
    for (field, value) in [
        ("iptablesMarkMask", s.iptables_mark_mask),
        ("nftablesMarkMask", s.nftables_mark_mask),
    ] {
        if let Some(mask) = value
            && mask.count_ones() < 2
        {
            v.error_at(
                field,
                format!(
                    "mark mask {mask:#010x} has {} bit(s) set: Felix needs at least 2 (e.g. \
                     0xffff0000)",
                    mask.count_ones()
                ),
            );
        }
    }
    if let Some(problem) = s.istio_dscp_mark.as_ref().and_then(|d| d.problem()) {
        v.error_at("istioDSCPMark", problem);
    }
}

/// Durations whose schema only allows whole units down to milliseconds (no negative values, no
/// sub-millisecond precision), as the CRD's duration pattern does.
fn check_duration(v: &mut Validator, field: &str, d: Option<GoDuration>, strict: bool) {
    let Some(d) = d else { return };
    if d.is_negative() {
        v.error_at(
            field,
            format!("duration {d} is negative: expected 0 or more"),
        );
    } else if strict && d.nanos() > 0 && d.nanos() < 1_000_000 {
        v.error_at(
            field,
            format!("duration {d} is below the 1ms resolution: expected 0 or at least 1ms"),
        );
    }
}

fn check_durations(s: &FelixConfigurationSpec, v: &mut Validator) {
    for (field, d) in [
        ("routeRefreshInterval", s.route_refresh_interval),
        ("interfaceRefreshInterval", s.interface_refresh_interval),
        ("iptablesRefreshInterval", s.iptables_refresh_interval),
        (
            "iptablesPostWriteCheckInterval",
            s.iptables_post_write_check_interval,
        ),
        ("iptablesLockProbeInterval", s.iptables_lock_probe_interval),
        ("ipsetsRefreshInterval", s.ipsets_refresh_interval),
        ("xdpRefreshInterval", s.xdp_refresh_interval),
        ("netlinkTimeout", s.netlink_timeout),
        ("reportingInterval", s.reporting_interval),
        ("reportingTTL", s.reporting_ttl),
        ("endpointReportingDelay", s.endpoint_reporting_delay),
        (
            "usageReportingInitialDelay",
            s.usage_reporting_initial_delay,
        ),
        ("usageReportingInterval", s.usage_reporting_interval),
        (
            "debugSimulateCalcGraphHangAfter",
            s.debug_simulate_calc_graph_hang_after,
        ),
        (
            "debugSimulateDataplaneHangAfter",
            s.debug_simulate_dataplane_hang_after,
        ),
        (
            "debugSimulateDataplaneApplyDelay",
            s.debug_simulate_dataplane_apply_delay,
        ),
        (
            "bpfKubeProxyMinSyncPeriod",
            s.bpf_kube_proxy_min_sync_period,
        ),
        ("bpfIPFragTimeout", s.bpf_ip_frag_timeout),
        ("wireguardKeepAlive", s.wireguard_keep_alive),
        ("flowLogsFlushInterval", s.flow_logs_flush_interval),
        (
            "liveMigrationRouteConvergenceTime",
            s.live_migration_route_convergence_time,
        ),
    ] {
        check_duration(v, field, d, true);
    }
    for (field, d) in [
        ("dataplaneWatchdogTimeout", s.dataplane_watchdog_timeout),
        ("nftablesRefreshInterval", s.nftables_refresh_interval),
        (
            "localSubnetL2ReachabilityRefreshInterval",
            s.local_subnet_l2_reachability_refresh_interval,
        ),
    ] {
        check_duration(v, field, d, false);
    }
}

fn check_strings(s: &FelixConfigurationSpec, name: &str, v: &mut Validator) {
    if !s.feature_detect_override.is_empty()
        && !matches(&FEATURE_DETECT_OVERRIDE, &s.feature_detect_override)
    {
        v.error_at(
            "featureDetectOverride",
            format!(
                "{:?} is not a valid override list: expected comma-separated Name=true|false| \
                 pairs, e.g. \"SNATFullyRandom=true,MASQFullyRandom=false\"",
                s.feature_detect_override
            ),
        );
    }
    if !s.feature_gates.is_empty() && !matches(&FEATURE_GATES, &s.feature_gates) {
        v.error_at(
            "featureGates",
            format!(
                "{:?} is not a valid feature gate list: expected comma-separated Name=value pairs",
                s.feature_gates
            ),
        );
    }
    if !s.openstack_region.is_empty() {
        v.field("openstackRegion", |v| {
            if s.openstack_region.len() > 46 {
                v.error(format!(
                    "{:?} is too long: at most 46 characters (it is used in a namespace name)",
                    s.openstack_region
                ));
            } else if !is_dns_label(&s.openstack_region) {
                v.error(format!(
                    "{:?} is not a valid region: expected a DNS label (lower-case alphanumerics \
                     and '-')",
                    s.openstack_region
                ));
            }
        });
    }
    if !s.interface_prefix.is_empty() && !matches(&INTERFACE_PREFIX, &s.interface_prefix) {
        v.error_at(
            "interfacePrefix",
            format!(
                "{:?} is not a valid prefix list: expected comma-separated prefixes of 1-15 \
                 letters, digits, '_' and '-'",
                s.interface_prefix
            ),
        );
    }
    if !s.log_prefix.is_empty() && !matches(&LOG_PREFIX, &s.log_prefix) {
        v.error_at(
            "logPrefix",
            format!(
                "{:?} is not a valid log prefix: expected letters, digits, '%', ':', ' ', '/', \
                 '_' and '-'",
                s.log_prefix
            ),
        );
    }
    if let Some(limit) = &s.log_action_rate_limit
        && !matches(&LOG_RATE_LIMIT, limit)
    {
        v.error_at(
            "logActionRateLimit",
            format!("{limit:?} is not a valid rate: expected N/second, N/minute, N/hour or N/day with N 1-9999"),
        );
    }
    for (field, value) in [
        ("logDebugFilenameRegex", &s.log_debug_filename_regex),
        ("bpfDataIfacePattern", &s.bpf_data_iface_pattern),
        ("bpfL3IfacePattern", &s.bpf_l3_iface_pattern),
        ("bpfDisableGROForIfaces", &s.bpf_disable_gro_for_ifaces),
        ("mtuIfacePattern", &s.mtu_iface_pattern),
    ] {
        if !value.is_empty() {
            v.field(field, |v| check_regex(v, value));
        }
    }
    for (field, value, v4) in [
        ("natOutgoingAddress", &s.nat_outgoing_address, true),
        (
            "deviceRouteSourceAddress",
            &s.device_route_source_address,
            true,
        ),
        (
            "deviceRouteSourceAddressIPv6",
            &s.device_route_source_address_ipv6,
            false,
        ),
    ] {
        if !value.is_empty() {
            v.field(field, |v| {
                check_max_len(v, value, 45);
                if v4 {
                    check_ipv4(v, value)
                } else {
                    check_ipv6(v, value)
                }
            });
        }
    }
    if !s.iptables_nat_outgoing_interface_filter.is_empty()
        && !is_iface_filter(&s.iptables_nat_outgoing_interface_filter)
    {
        v.error_at(
            "iptablesNATOutgoingInterfaceFilter",
            format!(
                "{:?} is not a valid interface match: expected 1-15 characters of letters, \
                 digits, ':', '.', '_', '+' and '-'",
                s.iptables_nat_outgoing_interface_filter
            ),
        );
    }
    if !s.prometheus_metrics_host.is_empty() && !is_bind_host(&s.prometheus_metrics_host) {
        v.error_at(
            "prometheusMetricsHost",
            format!(
                "{:?} is not a valid host: expected an IP address or host name of 1-64 \
                 characters (letters, digits, ':', '.', '_', '+', '-')",
                s.prometheus_metrics_host
            ),
        );
    }
    for (field, value) in [
        ("wireguardInterfaceName", &s.wireguard_interface_name),
        ("wireguardInterfaceNameV6", &s.wireguard_interface_name_v6),
    ] {
        if !(value.is_empty() || value == "*" || is_iface_name(value)) {
            v.error_at(
                field,
                format!(
                    "{value:?} is not a valid interface name: expected 1-15 characters of \
                     letters, digits, '_', '.' and '-'"
                ),
            );
        }
    }
    if !s.node_selector.is_empty() {
        v.field("nodeSelector", |v| {
            check_max_len(v, &s.node_selector, 1024);
            v.check_selector(&s.node_selector);
            if name == "default" || name.starts_with("node.") {
                v.error(
                    "nodeSelector must not be set on the \"default\" or a per-node (\"node.*\") \
                     FelixConfiguration: use a separately named FelixConfiguration",
                );
            }
        });
    }
}

fn check_lists(s: &FelixConfigurationSpec, v: &mut Validator) {
    if let Some(nets) = &s.external_nodes_list {
        v.field("externalNodesList", |v| {
            for (i, n) in nets.iter().enumerate() {
                v.index(i, |v| match parse_cidr_or_ip(n) {
                    None => v.error(format!("{n:?} is not a valid CIDR or IP address")),
                    Some(ipnet::IpNet::V6(_)) => v.error(format!(
                        "{n:?} is an IPv6 CIDR: only IPv4 CIDRs are supported"
                    )),
                    Some(_) => {}
                });
            }
        });
    }
    for (field, list) in [
        ("bpfDSROptoutCIDRs", &s.bpf_dsr_optout_cidrs),
        ("bpfExcludeCIDRsFromNAT", &s.bpf_exclude_cidrs_from_nat),
    ] {
        if let Some(list) = list {
            v.field(field, |v| {
                for (i, n) in list.iter().enumerate() {
                    v.index(i, |v| v.check_cidr(n));
                }
            });
        }
    }
    if let Some(ifaces) = &s.bpf_force_track_packets_from_ifaces {
        v.field("bpfForceTrackPacketsFromIfaces", |v| {
            for (i, n) in ifaces.iter().enumerate() {
                if !is_iface_filter(n) {
                    v.index(i, |v| {
                        v.error(format!(
                            "{n:?} is not a valid interface match: expected 1-15 characters of \
                             letters, digits, ':', '.', '_', '+' and '-'"
                        ))
                    });
                }
            }
        });
    }
    if let Some(filters) = &s.bpf_log_filters {
        v.field("bpfLogFilters", |v| {
            for k in filters.keys() {
                if !is_iface_name(k) {
                    v.key(k, |v| {
                        v.error(format!(
                            "{k:?} is not a valid interface name (or all, weps, heps)"
                        ))
                    });
                }
            }
        });
    }
    for (field, ports) in [
        ("failsafeInboundHostPorts", &s.failsafe_inbound_host_ports),
        ("failsafeOutboundHostPorts", &s.failsafe_outbound_host_ports),
    ] {
        if let Some(ports) = ports {
            v.field(field, |v| {
                for (i, p) in ports.iter().enumerate() {
                    v.index(i, |v| check_proto_port(p, v));
                }
            });
        }
    }
    if let Some(ranges) = &s.kube_node_port_ranges {
        v.field("kubeNodePortRanges", |v| {
            if ranges.len() > 7 {
                v.error(format!(
                    "too many node port ranges ({}): at most 7",
                    ranges.len()
                ));
            }
            for (i, r) in ranges.iter().enumerate() {
                if let Port::Named(n) = r {
                    v.index(i, |v| {
                        v.error(format!(
                            "named port {n:?} is not allowed: expected a number or min:max"
                        ))
                    });
                }
            }
        });
    }
    v.field("healthTimeoutOverrides", |v| {
        for (i, h) in s.health_timeout_overrides.iter().enumerate() {
            v.index(i, |v| {
                if !matches(&HEALTH_OVERRIDE_NAME, &h.name) {
                    v.error_at(
                        "name",
                        format!(
                            "{:?} is not a valid name: expected letters, digits, '_', ' ' and '-'",
                            h.name
                        ),
                    );
                }
                if h.timeout.is_negative() {
                    v.error_at(
                        "timeout",
                        format!("timeout {} must not be negative", h.timeout),
                    );
                }
            });
        }
    });
    if let Some(r) = &s.route_table_range
        && !(r.min >= 1 && r.max >= r.min && r.max <= 250)
    {
        v.error_at(
            "routeTableRange",
            format!(
                "{}-{} is not a valid range: expected route table indices within 1-250 with min \
                 <= max",
                r.min, r.max
            ),
        );
    }
    if let Some(ranges) = &s.route_table_ranges {
        v.field("routeTableRanges", |v| {
            let mut total: i64 = 0;
            for (i, r) in ranges.iter().enumerate() {
                v.index(i, |v| {
                    if r.min < 1 {
                        v.error_at(
                            "min",
                            format!("{} is below 1: table indices start at 1", r.min),
                        );
                    }
                    if r.min > r.max {
                        v.error(format!("min {} is greater than max {}", r.min, r.max));
                    }
                    if r.max > 0xffff_ffff {
                        v.error_at(
                            "max",
                            format!("{} is above the highest table index 4294967295", r.max),
                        );
                    }
                });
                total = total.saturating_add(r.max.saturating_sub(r.min).saturating_add(1));
            }
            if total > 0xffff {
                v.error(format!(
                    "the ranges cover {total} tables: at most 65535 are allowed"
                ));
            }
        });
        if s.route_table_range.is_some() {
            v.error_at(
                "routeTableRange",
                "routeTableRange and routeTableRanges cannot both be set (routeTableRange is \
                 deprecated)",
            );
        }
    }
    if let Some(t) = &s.bpf_conntrack_timeouts {
        v.field("bpfConntrackTimeouts", |v| {
            for (k, val) in t.entries() {
                if !matches(&CONNTRACK_TIMEOUT, val) {
                    v.error_at(
                        k,
                        format!(
                            "{val:?} is not a valid timeout: expected a duration (e.g. 30s) or Auto"
                        ),
                    );
                }
            }
        });
    }
}

fn check_proto_port(p: &ProtoPort, v: &mut Validator) {
    if !p.protocol.is_empty()
        && !["TCP", "UDP", "SCTP"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&p.protocol))
    {
        v.error_at(
            "protocol",
            format!(
                "invalid protocol {:?}: expected TCP, UDP or SCTP",
                p.protocol
            ),
        );
    }
    if !p.net.is_empty() {
        v.field("net", |v| v.check_cidr(&p.net));
    }
}
