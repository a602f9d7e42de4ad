//! Validation of FelixConfiguration values: enumerations, numeric ranges, durations, address
//! and interface formats, regular expressions, route table ranges and failsafe ports, as
//! Calico's validator and CRD schema check them.

use std::sync::LazyLock;

use regex::Regex;

use super::super::duration::GoDuration;
use super::super::infra_common::{check_log_level, check_one_of, check_one_of_ci, check_range};
use super::check_format;
use super::spec::FelixConfigurationSpec;
use crate::validate::Validator;

const ENABLED_DISABLED: &[&str] = &["Enabled", "Disabled"];
const MAX_ROUTE_PRIORITY: i64 = 2_147_483_646;

pub(super) fn matches(pattern: &'static LazyLock<Option<Regex>>, s: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(s))
}

/// Check every field of `spec`; `name` is the resource's name (for the `nodeSelector` rule).
pub(super) fn check_spec(spec: &FelixConfigurationSpec, name: &str, v: &mut Validator) {
    check_enums(spec, v);
    check_numbers(spec, v);
    check_durations(spec, v);
    check_format::check_strings(spec, name, v);
    check_format::check_lists(spec, v);
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
