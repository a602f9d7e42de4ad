//! Format checks of FelixConfiguration string and list fields: override lists, region and
//! prefix formats, regular expressions, addresses, interface names, failsafe ports, node-port
//! ranges, health-timeout overrides, route table ranges and BPF conntrack timeouts.

use std::sync::LazyLock;

use regex::Regex;

use super::super::infra_common::{
    check_ipv4, check_ipv6, check_max_len, check_regex, is_bind_host, is_iface_filter,
    is_iface_name,
};
use super::check::matches;
use super::spec::FelixConfigurationSpec;
use super::types::ProtoPort;
use crate::kinds::Port;
use crate::validate::{Validator, is_dns_label, parse_cidr_or_ip};

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

pub(super) fn check_strings(s: &FelixConfigurationSpec, name: &str, v: &mut Validator) {
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

pub(super) fn check_lists(s: &FelixConfigurationSpec, v: &mut Validator) {
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
