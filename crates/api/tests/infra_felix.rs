//! FelixConfiguration: validation table (restated from Calico's validator tests and CRD
//! schema), the defaults Calico applies on create, Felix's effective defaults and the
//! global/per-node merge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::{
    FELIX_DEFAULTS, FelixConfiguration, FelixConfigurationSpec, GoDuration, ProtoPort, Resource,
    felix_default,
};
use serde_json::{Value, json};

fn felix(name: &str, spec: Value) -> Resource {
    Resource::from_value(json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": "FelixConfiguration",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn spec_of(r: &Resource) -> &FelixConfigurationSpec {
    match r {
        Resource::FelixConfiguration(f) => &f.spec,
        other => panic!("not a FelixConfiguration: {other:?}"),
    }
}

fn errors(r: &Resource) -> Vec<String> {
    match r.validate() {
        Ok(()) => vec![],
        Err(e) => e.errors.iter().map(|f| f.to_string()).collect(),
    }
}

fn check(cases: Vec<(&str, Value, Option<&str>)>) {
    for (desc, spec, want) in cases {
        let errs = errors(&felix("default", spec));
        match want {
            None => assert!(errs.is_empty(), "{desc}: expected valid, got {errs:?}"),
            Some(path) => assert!(
                errs.iter().any(|e| e.starts_with(&format!("{path}:"))),
                "{desc}: expected an error at {path}, got {errs:?}"
            ),
        }
    }
}

#[test]
fn enums_and_actions() {
    check(vec![
        (
            "iptablesBackend Legacy",
            json!({"iptablesBackend": "Legacy"}),
            None,
        ),
        (
            "iptablesBackend NFT",
            json!({"iptablesBackend": "NFT"}),
            None,
        ),
        (
            "iptablesBackend Auto",
            json!({"iptablesBackend": "Auto"}),
            None,
        ),
        (
            "iptablesBackend badVal",
            json!({"iptablesBackend": "badVal"}),
            Some("spec.iptablesBackend"),
        ),
        (
            "endpoint-to-host Drop",
            json!({"defaultEndpointToHostAction": "Drop"}),
            None,
        ),
        (
            "endpoint-to-host Return",
            json!({"defaultEndpointToHostAction": "Return"}),
            None,
        ),
        (
            "endpoint-to-host drop",
            json!({"defaultEndpointToHostAction": "drop"}),
            Some("spec.defaultEndpointToHostAction"),
        ),
        (
            "filter allow Accept",
            json!({"iptablesFilterAllowAction": "Accept"}),
            None,
        ),
        (
            "mangle allow Return",
            json!({"iptablesMangleAllowAction": "Return"}),
            None,
        ),
        (
            "mangle allow Drop",
            json!({"iptablesMangleAllowAction": "Drop"}),
            Some("spec.iptablesMangleAllowAction"),
        ),
        (
            "filter deny Drop",
            json!({"iptablesFilterDenyAction": "Drop"}),
            None,
        ),
        (
            "filter deny Reject",
            json!({"iptablesFilterDenyAction": "Reject"}),
            None,
        ),
        (
            "nftables deny Accept",
            json!({"nftablesFilterDenyAction": "Accept"}),
            Some("spec.nftablesFilterDenyAction"),
        ),
        (
            "screen badVal",
            json!({"logSeverityScreen": "badVal"}),
            Some("spec.logSeverityScreen"),
        ),
        (
            "file badVal",
            json!({"logSeverityFile": "badVal"}),
            Some("spec.logSeverityFile"),
        ),
        (
            "sys badVal",
            json!({"logSeveritySys": "badVal"}),
            Some("spec.logSeveritySys"),
        ),
        (
            "sys Critical",
            json!({"logSeveritySys": "Critical"}),
            Some("spec.logSeveritySys"),
        ),
        ("screen Fatal", json!({"logSeverityScreen": "Fatal"}), None),
        (
            "screen Warning",
            json!({"logSeverityScreen": "Warning"}),
            None,
        ),
        ("file Debug", json!({"logSeverityFile": "Debug"}), None),
        ("sys Info", json!({"logSeveritySys": "Info"}), None),
        ("screen Trace", json!({"logSeverityScreen": "Trace"}), None),
        (
            "bpfLogLevel badVal",
            json!({"bpfLogLevel": "badVal"}),
            Some("spec.bpfLogLevel"),
        ),
        ("bpfLogLevel Info", json!({"bpfLogLevel": "Info"}), None),
        ("bpfLogLevel Debug", json!({"bpfLogLevel": "Debug"}), None),
        ("bpfLogLevel Off", json!({"bpfLogLevel": "Off"}), None),
        (
            "bpfExternalServiceMode Foo",
            json!({"bpfExternalServiceMode": "Foo"}),
            Some("spec.bpfExternalServiceMode"),
        ),
        (
            "bpfExternalServiceMode Tunnel",
            json!({"bpfExternalServiceMode": "Tunnel"}),
            None,
        ),
        (
            "bpfExternalServiceMode DSR",
            json!({"bpfExternalServiceMode": "DSR"}),
            None,
        ),
        (
            "serviceLoopPrevention Drop",
            json!({"serviceLoopPrevention": "Drop"}),
            None,
        ),
        (
            "serviceLoopPrevention Reject",
            json!({"serviceLoopPrevention": "Reject"}),
            None,
        ),
        (
            "serviceLoopPrevention Disabled",
            json!({"serviceLoopPrevention": "Disabled"}),
            None,
        ),
        (
            "serviceLoopPrevention Wibbly",
            json!({"serviceLoopPrevention": "Wibbly"}),
            Some("spec.serviceLoopPrevention"),
        ),
        (
            "windows firewall Disabled",
            json!({"windowsManageFirewallRules": "Disabled"}),
            None,
        ),
        (
            "windows firewall Enabled",
            json!({"windowsManageFirewallRules": "Enabled"}),
            None,
        ),
        (
            "windows firewall blah",
            json!({"windowsManageFirewallRules": "blah"}),
            Some("spec.windowsManageFirewallRules"),
        ),
        (
            "awsSrcDstCheck DoNothing",
            json!({"awsSrcDstCheck": "DoNothing"}),
            None,
        ),
        (
            "awsSrcDstCheck Enable",
            json!({"awsSrcDstCheck": "Enable"}),
            None,
        ),
        (
            "awsSrcDstCheck Disable",
            json!({"awsSrcDstCheck": "Disable"}),
            None,
        ),
        (
            "awsSrcDstCheck enable",
            json!({"awsSrcDstCheck": "enable"}),
            Some("spec.awsSrcDstCheck"),
        ),
        (
            "awsSrcDstCheck badVal",
            json!({"awsSrcDstCheck": "badVal"}),
            Some("spec.awsSrcDstCheck"),
        ),
        (
            "host NAT without CTLB Disabled",
            json!({"bpfHostNetworkedNATWithoutCTLB": "Disabled"}),
            None,
        ),
        (
            "host NAT without CTLB Enabled",
            json!({"bpfHostNetworkedNATWithoutCTLB": "Enabled"}),
            None,
        ),
        (
            "host NAT without CTLB enabled",
            json!({"bpfHostNetworkedNATWithoutCTLB": "enabled"}),
            Some("spec.bpfHostNetworkedNATWithoutCTLB"),
        ),
        (
            "host NAT without CTLB BadVal",
            json!({"bpfHostNetworkedNATWithoutCTLB": "BadVal"}),
            Some("spec.bpfHostNetworkedNATWithoutCTLB"),
        ),
        (
            "CTLB Enabled",
            json!({"bpfConnectTimeLoadBalancing": "Enabled"}),
            None,
        ),
        (
            "CTLB Disabled",
            json!({"bpfConnectTimeLoadBalancing": "Disabled"}),
            None,
        ),
        (
            "CTLB TCP",
            json!({"bpfConnectTimeLoadBalancing": "TCP"}),
            None,
        ),
        (
            "CTLB BadVal",
            json!({"bpfConnectTimeLoadBalancing": "BadVal"}),
            Some("spec.bpfConnectTimeLoadBalancing"),
        ),
        (
            "chainInsertMode append (case-insensitive)",
            json!({"chainInsertMode": "append"}),
            None,
        ),
        (
            "chainInsertMode bogus",
            json!({"chainInsertMode": "prepend"}),
            Some("spec.chainInsertMode"),
        ),
        (
            "routeSource WorkloadIPs",
            json!({"routeSource": "WorkloadIPs"}),
            None,
        ),
        (
            "routeSource bogus",
            json!({"routeSource": "BGP"}),
            Some("spec.routeSource"),
        ),
        (
            "nftablesMode Enabled",
            json!({"nftablesMode": "Enabled"}),
            None,
        ),
        (
            "nftablesMode bogus",
            json!({"nftablesMode": "On"}),
            Some("spec.nftablesMode"),
        ),
        (
            "bpfAttachType Netkit",
            json!({"bpfAttachType": "Netkit"}),
            None,
        ),
        (
            "bpfAttachType XDP",
            json!({"bpfAttachType": "XDP"}),
            Some("spec.bpfAttachType"),
        ),
        (
            "ipForwarding Disabled",
            json!({"ipForwarding": "Disabled"}),
            None,
        ),
        (
            "ipForwarding off",
            json!({"ipForwarding": "off"}),
            Some("spec.ipForwarding"),
        ),
        (
            "workloadSourceSpoofing Any",
            json!({"workloadSourceSpoofing": "Any"}),
            None,
        ),
        (
            "programClusterRoutes EnabledIPIPOnly",
            json!({"programClusterRoutes": "EnabledIPIPOnly"}),
            None,
        ),
        (
            "natOutgoingExclusions IPPoolsAndHostIPs",
            json!({"natOutgoingExclusions": "IPPoolsAndHostIPs"}),
            None,
        ),
        (
            "prometheus client auth",
            json!({"prometheusMetricsClientAuth": "RequireAnyClientCert"}),
            None,
        ),
        (
            "prometheus client auth bogus",
            json!({"prometheusMetricsClientAuth": "Maybe"}),
            Some("spec.prometheusMetricsClientAuth"),
        ),
    ]);
}

#[test]
fn numbers_and_ports() {
    check(vec![
        (
            "conn mark -1",
            json!({"bpfExtToServiceConnmark": -1}),
            Some("spec.bpfExtToServiceConnmark"),
        ),
        (
            "conn mark 2^32",
            json!({"bpfExtToServiceConnmark": 4294967296u64}),
            Some("spec.bpfExtToServiceConnmark"),
        ),
        ("conn mark 0", json!({"bpfExtToServiceConnmark": 0}), None),
        (
            "conn mark 0xffffffff",
            json!({"bpfExtToServiceConnmark": 4294967295u64}),
            None,
        ),
        (
            "wireguard port 12345",
            json!({"wireguardListeningPort": 12345}),
            None,
        ),
        (
            "wireguard port 99999",
            json!({"wireguardListeningPort": 99999}),
            Some("spec.wireguardListeningPort"),
        ),
        (
            "wireguard port 0",
            json!({"wireguardListeningPortV6": 0}),
            Some("spec.wireguardListeningPortV6"),
        ),
        (
            "wireguard rule priority 12345",
            json!({"wireguardRoutingRulePriority": 12345}),
            None,
        ),
        (
            "wireguard rule priority 99999",
            json!({"wireguardRoutingRulePriority": 99999}),
            Some("spec.wireguardRoutingRulePriority"),
        ),
        (
            "health port",
            json!({"healthEnabled": true, "healthPort": 9099, "healthHost": "0.0.0.0"}),
            None,
        ),
        (
            "health port 70000",
            json!({"healthPort": 70000}),
            Some("spec.healthPort"),
        ),
        (
            "prometheus port -1",
            json!({"prometheusMetricsPort": -1}),
            Some("spec.prometheusMetricsPort"),
        ),
        (
            "vxlan port 0",
            json!({"vxlanPort": 0}),
            Some("spec.vxlanPort"),
        ),
        (
            "vxlan settings",
            json!({"vxlanEnabled": true, "vxlanPort": 4789, "vxlanVNI": 4096, "vxlanMTU": 1450}),
            None,
        ),
        (
            "go GC -1",
            json!({"goGCThreshold": -1, "goMaxProcs": 4, "goMemoryLimitMB": -1}),
            None,
        ),
        (
            "go GC -2",
            json!({"goGCThreshold": -2}),
            Some("spec.goGCThreshold"),
        ),
        (
            "route priority",
            json!({"ipv4NormalRoutePriority": 1024, "ipv4ElevatedRoutePriority": 512}),
            None,
        ),
        (
            "route priority 0",
            json!({"ipv6NormalRoutePriority": 0}),
            Some("spec.ipv6NormalRoutePriority"),
        ),
        (
            "maglev 3001",
            json!({"bpfMaglevMaxServices": 3001}),
            Some("spec.bpfMaglevMaxServices"),
        ),
        (
            "cleanup queue 0",
            json!({"bpfMapSizeConntrackCleanupQueue": 0}),
            Some("spec.bpfMapSizeConntrackCleanupQueue"),
        ),
        (
            "log burst 10000",
            json!({"logActionRateLimitBurst": 10000}),
            Some("spec.logActionRateLimitBurst"),
        ),
        (
            "mark mask",
            json!({"iptablesMarkMask": 4294901760u64, "nftablesMarkMask": 16711680}),
            None,
        ),
        (
            "mark mask with one bit",
            json!({"iptablesMarkMask": 65536}),
            Some("spec.iptablesMarkMask"),
        ),
        (
            "mark mask 0",
            json!({"nftablesMarkMask": 0}),
            Some("spec.nftablesMarkMask"),
        ),
        ("DSCP number", json!({"istioDSCPMark": 23}), None),
        ("DSCP name", json!({"istioDSCPMark": "EF"}), None),
        (
            "node port ranges",
            json!({"kubeNodePortRanges": ["3000:4000", "5000:6000", "7000:8000", "8000:9000", "10000:11000", "12000:13000", 15000]}),
            None,
        ),
        (
            "too many node port ranges",
            json!({"kubeNodePortRanges": ["3000:4000", "5000:6000", "7000:8000", "8000:9000", "10000:11000", "12000:13000", "14000:15000", "16000:17000"]}),
            Some("spec.kubeNodePortRanges"),
        ),
        (
            "named node port",
            json!({"kubeNodePortRanges": ["testport"]}),
            Some("spec.kubeNodePortRanges[0]"),
        ),
        (
            "NAT port range",
            json!({"natPortRange": "32768:65535", "bpfPSNATPorts": 20000}),
            None,
        ),
    ]);
}

#[test]
fn strings_lists_and_ranges() {
    check(vec![
        (
            "external nodes",
            json!({"externalNodesList": ["1.1.1.1", "1.1.1.2/32", "1.1.3.0/23"]}),
            None,
        ),
        (
            "bad external nodes",
            json!({"externalNodesList": ["foobar", "1.1.1.1"]}),
            Some("spec.externalNodesList[0]"),
        ),
        (
            "IPv6 external nodes",
            json!({"externalNodesList": ["abcd::1", "abef::2/128"]}),
            Some("spec.externalNodesList[0]"),
        ),
        ("empty region", json!({"openstackRegion": ""}), None),
        ("region foo", json!({"openstackRegion": "foo"}), None),
        (
            "region FOO",
            json!({"openstackRegion": "FOO"}),
            Some("spec.openstackRegion"),
        ),
        (
            "overlong region",
            json!({"openstackRegion": "my-region-has-a-very-long-and-extremely-interesting-name"}),
            Some("spec.openstackRegion"),
        ),
        (
            "NAT interface filter",
            json!({"iptablesNATOutgoingInterfaceFilter": "cali-123"}),
            None,
        ),
        (
            "bad NAT interface filter",
            json!({"iptablesNATOutgoingInterfaceFilter": "cali@123"}),
            Some("spec.iptablesNATOutgoingInterfaceFilter"),
        ),
        (
            "BPF data iface pattern *",
            json!({"bpfDataIfacePattern": "*"}),
            Some("spec.bpfDataIfacePattern"),
        ),
        (
            "BPF data iface pattern",
            json!({"bpfDataIfacePattern": "eth.*"}),
            None,
        ),
        (
            "MTU iface pattern *",
            json!({"mtuIfacePattern": "*"}),
            Some("spec.mtuIfacePattern"),
        ),
        (
            "MTU iface pattern",
            json!({"mtuIfacePattern": "eth.*"}),
            None,
        ),
        (
            "route table range 1-250",
            json!({"routeTableRange": {"min": 1, "max": 250}}),
            None,
        ),
        (
            "route table range min 0",
            json!({"routeTableRange": {"min": 0, "max": 250}}),
            Some("spec.routeTableRange"),
        ),
        (
            "route table range min -5",
            json!({"routeTableRange": {"min": -5, "max": 250}}),
            Some("spec.routeTableRange"),
        ),
        (
            "route table range max < min",
            json!({"routeTableRange": {"min": 50, "max": 45}}),
            Some("spec.routeTableRange"),
        ),
        (
            "route table range max 253",
            json!({"routeTableRange": {"min": 1, "max": 253}}),
            Some("spec.routeTableRange"),
        ),
        (
            "route table range 8-8",
            json!({"routeTableRange": {"min": 8, "max": 8}}),
            None,
        ),
        (
            "route table ranges",
            json!({"routeTableRanges": [{"min": 1, "max": 10000}]}),
            None,
        ),
        (
            "route table ranges 8-8",
            json!({"routeTableRanges": [{"min": 8, "max": 8}]}),
            None,
        ),
        (
            "route table ranges 8-8,7-7",
            json!({"routeTableRanges": [{"min": 8, "max": 8}, {"min": 7, "max": 7}]}),
            None,
        ),
        (
            "route table ranges min 0",
            json!({"routeTableRanges": [{"min": 0, "max": 250}]}),
            Some("spec.routeTableRanges[0].min"),
        ),
        (
            "route table ranges min -5",
            json!({"routeTableRanges": [{"min": -5, "max": 250}]}),
            Some("spec.routeTableRanges[0].min"),
        ),
        (
            "route table ranges max < min",
            json!({"routeTableRanges": [{"min": 50, "max": 45}]}),
            Some("spec.routeTableRanges[0]"),
        ),
        (
            "route table ranges max too big",
            json!({"routeTableRanges": [{"min": 1, "max": 64424509440u64}]}),
            Some("spec.routeTableRanges[0].max"),
        ),
        (
            "route table ranges too many tables",
            json!({"routeTableRanges": [{"min": 1, "max": 65536}]}),
            Some("spec.routeTableRanges"),
        ),
        (
            "route table ranges too many in total",
            json!({"routeTableRanges": [{"min": 1, "max": 2}, {"min": 3, "max": 4}, {"min": 5, "max": 65536}]}),
            Some("spec.routeTableRanges"),
        ),
        (
            "both route table settings",
            json!({"routeTableRanges": [{"min": 1, "max": 250}], "routeTableRange": {"min": 1, "max": 250}}),
            Some("spec.routeTableRange"),
        ),
        (
            "health override 0",
            json!({"healthTimeoutOverrides": [{"name": "Valid", "timeout": "0s"}]}),
            None,
        ),
        (
            "health override negative",
            json!({"healthTimeoutOverrides": [{"name": "Valid", "timeout": "-1ns"}]}),
            Some("spec.healthTimeoutOverrides[0].timeout"),
        ),
        (
            "health override bad name",
            json!({"healthTimeoutOverrides": [{"name": "%", "timeout": "10s"}]}),
            Some("spec.healthTimeoutOverrides[0].name"),
        ),
        (
            "health override no name",
            json!({"healthTimeoutOverrides": [{"name": "", "timeout": "10s"}]}),
            Some("spec.healthTimeoutOverrides[0].name"),
        ),
        (
            "NAT address",
            json!({"natOutgoingAddress": "1.2.3.4"}),
            None,
        ),
        (
            "bad NAT address",
            json!({"natOutgoingAddress": "999.999.999.999"}),
            Some("spec.natOutgoingAddress"),
        ),
        (
            "masked NAT address",
            json!({"natOutgoingAddress": "1.2.3.4/32"}),
            Some("spec.natOutgoingAddress"),
        ),
        (
            "IPv6 NAT address",
            json!({"natOutgoingAddress": "aabb:aabb::ffff"}),
            Some("spec.natOutgoingAddress"),
        ),
        (
            "metrics host localhost",
            json!({"prometheusMetricsHost": "localhost"}),
            None,
        ),
        (
            "metrics host 10.0.0.1",
            json!({"prometheusMetricsHost": "10.0.0.1"}),
            None,
        ),
        (
            "metrics host IPv6",
            json!({"prometheusMetricsHost": "fe80::ea7a:70fa:cf74:25d5"}),
            None,
        ),
        (
            "metrics host localhost#",
            json!({"prometheusMetricsHost": "localhost#"}),
            Some("spec.prometheusMetricsHost"),
        ),
        (
            "metrics host with space",
            json!({"prometheusMetricsHost": "0: 1::1"}),
            Some("spec.prometheusMetricsHost"),
        ),
        (
            "route source address",
            json!({"deviceRouteSourceAddress": "1.2.3.4"}),
            None,
        ),
        (
            "route source address IPv6",
            json!({"deviceRouteSourceAddress": "aabb:aabb::ffff"}),
            Some("spec.deviceRouteSourceAddress"),
        ),
        (
            "route source address bad",
            json!({"deviceRouteSourceAddress": "999.999.999.999"}),
            Some("spec.deviceRouteSourceAddress"),
        ),
        (
            "route source address masked",
            json!({"deviceRouteSourceAddress": "1.2.3.4/32"}),
            Some("spec.deviceRouteSourceAddress"),
        ),
        (
            "IPv6 route source address",
            json!({"deviceRouteSourceAddressIPv6": "aabb:aabb::ffff"}),
            None,
        ),
        (
            "IPv6 route source address given IPv4",
            json!({"deviceRouteSourceAddressIPv6": "1.2.3.4"}),
            Some("spec.deviceRouteSourceAddressIPv6"),
        ),
        (
            "IPv6 route source address bad",
            json!({"deviceRouteSourceAddressIPv6": "xyz:::"}),
            Some("spec.deviceRouteSourceAddressIPv6"),
        ),
        (
            "IPv6 route source address masked",
            json!({"deviceRouteSourceAddressIPv6": "aabb:aabb::ffff/128"}),
            Some("spec.deviceRouteSourceAddressIPv6"),
        ),
        (
            "wireguard interface",
            json!({"wireguardInterfaceName": "wg0"}),
            None,
        ),
        (
            "bad wireguard interface",
            json!({"wireguardInterfaceName": "wg&0"}),
            Some("spec.wireguardInterfaceName"),
        ),
        (
            "force-track docker+",
            json!({"bpfForceTrackPacketsFromIfaces": ["docker+"]}),
            None,
        ),
        (
            "force-track docker0,docker1",
            json!({"bpfForceTrackPacketsFromIfaces": ["docker0", "docker1"]}),
            None,
        ),
        (
            "force-track cali@456",
            json!({"bpfForceTrackPacketsFromIfaces": ["cali-123", "cali@456"]}),
            Some("spec.bpfForceTrackPacketsFromIfaces[1]"),
        ),
        (
            "feature overrides",
            json!({"featureDetectOverride": "SNATFullyRandom=true,MASQFullyRandom=false,RestoreSupportsLock="}),
            None,
        ),
        (
            "bad feature overrides",
            json!({"featureDetectOverride": "SNATFullyRandom=yes"}),
            Some("spec.featureDetectOverride"),
        ),
        (
            "feature gates",
            json!({"featureGates": "BPFConnectTimeLoadBalancingWorkaround=enabled,XyZ=false"}),
            None,
        ),
        (
            "bad feature gates",
            json!({"featureGates": "NoValue"}),
            Some("spec.featureGates"),
        ),
        (
            "interface prefixes",
            json!({"interfacePrefix": "cali,tap"}),
            None,
        ),
        (
            "bad interface prefixes",
            json!({"interfacePrefix": "cali,"}),
            Some("spec.interfacePrefix"),
        ),
        (
            "log prefix",
            json!({"logPrefix": "calico-drop %t/%n:"}),
            None,
        ),
        (
            "bad log prefix",
            json!({"logPrefix": "drop!"}),
            Some("spec.logPrefix"),
        ),
        (
            "log rate limit",
            json!({"logActionRateLimit": "10/second"}),
            None,
        ),
        (
            "bad log rate limit",
            json!({"logActionRateLimit": "0/second"}),
            Some("spec.logActionRateLimit"),
        ),
        (
            "failsafe ports",
            json!({"failsafeInboundHostPorts": [{"protocol": "TCP", "port": 22}, {"protocol": "udp", "port": 68, "net": "10.0.0.0/8"}, {"port": 0}]}),
            None,
        ),
        (
            "no failsafe ports",
            json!({"failsafeOutboundHostPorts": []}),
            None,
        ),
        (
            "failsafe protocol jolly-UDP",
            json!({"failsafeInboundHostPorts": [{"protocol": "jolly-UDP", "port": 0}]}),
            Some("spec.failsafeInboundHostPorts[0].protocol"),
        ),
        (
            "failsafe bad net",
            json!({"failsafeOutboundHostPorts": [{"protocol": "SCTP", "port": 20, "net": "nope"}]}),
            Some("spec.failsafeOutboundHostPorts[0].net"),
        ),
        (
            "DSR opt-out CIDRs",
            json!({"bpfDSROptoutCIDRs": ["10.0.0.0/8", "fd00::1"]}),
            None,
        ),
        (
            "bad DSR opt-out CIDR",
            json!({"bpfDSROptoutCIDRs": ["ten"]}),
            Some("spec.bpfDSROptoutCIDRs[0]"),
        ),
        (
            "BPF log filters",
            json!({"bpfLogFilters": {"all": "tcp", "eth0": "udp port 53"}}),
            None,
        ),
        (
            "bad BPF log filter key",
            json!({"bpfLogFilters": {"not/an/iface": "tcp"}}),
            Some("spec.bpfLogFilters[not/an/iface]"),
        ),
        (
            "conntrack timeouts",
            json!({"bpfConntrackTimeouts": {"tcpEstablished": "1h", "tcpFinsSeen": "Auto", "udpTimeout": "1.5s"}}),
            None,
        ),
        (
            "bad conntrack timeout",
            json!({"bpfConntrackTimeouts": {"icmpTimeout": "soon"}}),
            Some("spec.bpfConntrackTimeouts.icmpTimeout"),
        ),
    ]);
}

#[test]
fn durations() {
    check(vec![
        (
            "refresh 90s",
            json!({"routeRefreshInterval": "90s", "iptablesRefreshInterval": "0"}),
            None,
        ),
        (
            "refresh 1m30s",
            json!({"reportingInterval": "1m30s", "reportingTTL": "1h"}),
            None,
        ),
        (
            "refresh negative",
            json!({"routeRefreshInterval": "-1s"}),
            Some("spec.routeRefreshInterval"),
        ),
        (
            "refresh below 1ms",
            json!({"ipsetsRefreshInterval": "10us"}),
            Some("spec.ipsetsRefreshInterval"),
        ),
        (
            "fractional",
            json!({"iptablesLockProbeInterval": "0.5s", "netlinkTimeout": "1.5s"}),
            None,
        ),
    ]);
    // An unparsable duration is a decode error naming the field.
    let e = Resource::from_value(json!({
        "apiVersion": "projectcalico.org/v3", "kind": "FelixConfiguration",
        "metadata": {"name": "default"}, "spec": {"routeRefreshInterval": "90"},
    }))
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("spec.routeRefreshInterval"), "{msg}");
    assert!(msg.contains("missing unit"), "{msg}");
    // Durations are written back in Go's canonical form.
    let r = felix(
        "default",
        json!({"routeRefreshInterval": "90s", "reportingInterval": "0"}),
    );
    let v = r.to_value();
    assert_eq!(v["spec"]["routeRefreshInterval"], "1m30s");
    assert_eq!(v["spec"]["reportingInterval"], "0s");
}

#[test]
fn node_selector_only_on_other_names() {
    let sel = json!({"nodeSelector": "zone == 'east'", "logSeverityScreen": "Debug"});
    assert!(felix("east-nodes", sel.clone()).validate().is_ok());
    for name in ["default", "node.worker-1"] {
        let errs = errors(&felix(name, sel.clone()));
        assert!(
            errs.iter().any(|e| e.starts_with("spec.nodeSelector:")),
            "{name}: {errs:?}"
        );
    }
    let errs = errors(&felix("east", json!({"nodeSelector": "zone =="})));
    assert!(
        errs.iter().any(|e| e.starts_with("spec.nodeSelector:")),
        "{errs:?}"
    );
}

#[test]
fn defaults_applied_on_create() {
    let mut r = felix(
        "default",
        json!({"logSeverityScreen": "Info", "reportingInterval": "0s"}),
    );
    r.apply_defaults();
    assert_eq!(
        r.to_value()["spec"],
        json!({
            "logSeverityScreen": "Info",
            "reportingInterval": "0s",
            "floatingIPs": "Disabled",
            "bpfConnectTimeLoadBalancing": "TCP",
            "bpfHostNetworkedNATWithoutCTLB": "Enabled",
            "nftablesMode": "Auto",
        })
    );
    // The deprecated boolean is translated.
    let mut r = felix(
        "default",
        json!({"bpfConnectTimeLoadBalancingEnabled": false}),
    );
    r.apply_defaults();
    let s = spec_of(&r);
    assert_eq!(
        s.bpf_connect_time_load_balancing.as_deref(),
        Some("Disabled")
    );
    assert_eq!(
        s.bpf_host_networked_nat_without_ctlb.as_deref(),
        Some("Disabled")
    );
    let mut r = felix(
        "default",
        json!({"bpfConnectTimeLoadBalancingEnabled": true}),
    );
    r.apply_defaults();
    assert_eq!(
        spec_of(&r).bpf_connect_time_load_balancing.as_deref(),
        Some("Enabled")
    );
    // Explicit values are kept.
    let mut r = felix(
        "default",
        json!({"floatingIPs": "Enabled", "nftablesMode": "Disabled"}),
    );
    r.apply_defaults();
    assert_eq!(spec_of(&r).floating_ips.as_deref(), Some("Enabled"));
    assert_eq!(spec_of(&r).nftables_mode.as_deref(), Some("Disabled"));
}

#[test]
fn effective_defaults() {
    let s = FelixConfigurationSpec::default();
    assert_eq!(s.effective_log_severity_screen(), "Info");
    assert_eq!(s.effective_vxlan_port(), 4789);
    assert_eq!(s.effective_vxlan_vni(), 4096);
    assert_eq!(s.effective_vxlan_mtu(), 0);
    assert_eq!(s.vxlan_enabled, None);
    assert!(!s.effective_health_enabled());
    assert_eq!(s.effective_health_host(), "localhost");
    assert_eq!(s.effective_health_port(), 9099);
    assert!(!s.effective_prometheus_metrics_enabled());
    assert_eq!(s.effective_prometheus_metrics_port(), 9091);
    assert_eq!(s.effective_default_endpoint_to_host_action(), "Drop");
    assert_eq!(s.effective_interface_prefix(), "cali");
    assert!(s.effective_ipv6_support());
    assert_eq!(s.effective_iptables_mark_mask(), 0xffff_0000);
    assert_eq!(s.effective_nftables_mark_mask(), 0xffff_0000);
    assert_eq!(
        s.effective_route_refresh_interval(),
        GoDuration::from_secs(90)
    );
    assert_eq!(s.effective_reporting_interval(), GoDuration::from_secs(30));
    assert_eq!(s.effective_reporting_ttl(), GoDuration::from_secs(90));
    assert_eq!(
        s.effective_iptables_refresh_interval(),
        GoDuration::from_secs(180)
    );
    assert_eq!(s.effective_wireguard_listening_port(), 51820);
    assert_eq!(s.effective_wireguard_interface_name(), "wireguard.cali");
    assert_eq!(s.effective_nftables_mode(), "Auto");
    assert_eq!(
        s.effective_failsafe_inbound_host_ports()[0],
        ProtoPort::new("tcp", 22)
    );
    assert_eq!(s.effective_failsafe_outbound_host_ports().len(), 9);
    assert_eq!(felix_default("healthPort"), Some("9099"));
    assert_eq!(felix_default("vxlanEnabled"), Some(""));
    assert_eq!(felix_default("noSuchField"), None);

    // Set values win; an explicitly empty failsafe list stays empty.
    let s: FelixConfigurationSpec = serde_json::from_value(json!({
        "healthPort": 9199, "logSeverityScreen": "Debug", "failsafeInboundHostPorts": [],
    }))
    .unwrap();
    assert_eq!(s.effective_health_port(), 9199);
    assert_eq!(s.effective_log_severity_screen(), "Debug");
    assert!(s.effective_failsafe_inbound_host_ports().is_empty());
}

#[test]
fn every_field_has_a_defaults_entry() {
    // Every name in the table is a field of the spec (not rejected as unknown).
    for (name, _) in FELIX_DEFAULTS {
        let mut m = serde_json::Map::new();
        m.insert((*name).to_string(), Value::Null);
        if let Err(e) = serde_json::from_value::<FelixConfigurationSpec>(Value::Object(m)) {
            assert!(!e.to_string().contains("unknown field"), "{name}: {e}");
        }
    }
    assert!(FELIX_DEFAULTS.len() > 180, "{}", FELIX_DEFAULTS.len());
    assert!(serde_json::from_value::<FelixConfigurationSpec>(json!({"noSuchField": 1})).is_err());
}

#[test]
fn per_node_merge() {
    let global: FelixConfigurationSpec = serde_json::from_value(json!({
        "logSeverityScreen": "Info", "healthEnabled": true, "reportingInterval": "0s",
    }))
    .unwrap();
    let node: FelixConfigurationSpec = serde_json::from_value(json!({
        "logSeverityScreen": "Debug", "defaultEndpointToHostAction": "Return",
    }))
    .unwrap();
    let m = FelixConfigurationSpec::merged(&global, &node);
    assert_eq!(m.log_severity_screen, "Debug");
    assert_eq!(m.default_endpoint_to_host_action, "Return");
    assert_eq!(m.health_enabled, Some(true));
    assert_eq!(m.reporting_interval, Some(GoDuration::ZERO));
    let fc = FelixConfiguration {
        metadata: calico_api::ObjectMeta::named(FelixConfiguration::node_config_name("w1")),
        spec: node,
    };
    assert_eq!(fc.per_node_name(), Some("w1"));
}

#[test]
fn proto_port_list_parsing() {
    let l =
        ProtoPort::parse_list("tcp:22,udp:68,8080,tcp:[fd00::/8]:443,udp:10.0.0.0/8:53").unwrap();
    assert_eq!(l[0], ProtoPort::new("tcp", 22));
    assert_eq!(l[2], ProtoPort::new("tcp", 8080));
    assert_eq!(l[3].net, "fd00::/8");
    assert_eq!(l[3].port, 443);
    assert_eq!(l[4].net, "10.0.0.0/8");
    assert!(ProtoPort::parse_list("").unwrap().is_empty());
    assert!(ProtoPort::parse_list("icmp:1").is_err());
    assert!(ProtoPort::parse_list("tcp:99999").is_err());
}
