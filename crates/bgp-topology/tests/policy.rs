//! Calico's BGP route policy: BGPFilter rules and the default export filter.

use std::collections::BTreeMap;
use std::net::IpAddr;

use calico_api::kinds::{BGPConfigurationSpec, BGPFilter};
use calico_bgp::export::{NextHopMode, PeerView, RoutePolicy};
use calico_bgp::wire::{AsPath, PathAttributes};
use calico_bgp_topology::policy::{
    CalicoPolicy, PolicyInputs, PoolExport, prefix_communities, service_cidrs,
};
use ipnet::IpNet;
use serde_json::json;

const LOCAL_AS: u32 = 64512;
const PEER: &str = "10.0.0.2";
const OTHER: &str = "10.0.0.9";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn net(s: &str) -> IpNet {
    s.parse().expect("test prefix")
}

fn comm(a: u32, b: u32) -> u32 {
    (a << 16) | b
}

fn peer(ebgp: bool) -> PeerView {
    PeerView {
        address: ip(PEER),
        remote_as: if ebgp { 65001 } else { LOCAL_AS },
        local_as: LOCAL_AS,
        ebgp,
        rr_client: false,
        next_hop_mode: NextHopMode::Auto,
        self_v4: None,
        self_v6: None,
    }
}

fn filter(name: &str, spec: serde_json::Value) -> BGPFilter {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).expect("BGPFilter")
}

/// Inputs with the given filters, all applied (in order) to PEER.
fn inputs(filters: Vec<BGPFilter>) -> PolicyInputs {
    let names: Vec<String> = filters.iter().map(|f| f.metadata.name.clone()).collect();
    PolicyInputs {
        filters: filters
            .into_iter()
            .map(|f| (f.metadata.name.clone(), f))
            .collect(),
        peer_filters: BTreeMap::from([(ip(PEER), names)]),
        ..PolicyInputs::default()
    }
}

fn policy(filters: Vec<BGPFilter>) -> CalicoPolicy {
    let (p, problems) = CalicoPolicy::new(inputs(filters));
    assert!(problems.is_empty(), "unexpected problems: {problems:?}");
    p
}

fn path(asns: &[u32]) -> PathAttributes {
    PathAttributes {
        as_path: Some(AsPath::sequence(asns.to_vec())),
        ..PathAttributes::default()
    }
}

fn import(p: &CalicoPolicy, ebgp: bool, prefix: &str, attrs: &mut PathAttributes) -> bool {
    p.import(&peer(ebgp), &net(prefix), attrs)
}

fn import_ok(p: &CalicoPolicy, prefix: &str) -> bool {
    import(p, true, prefix, &mut path(&[65001]))
}

/// Export of a route learned from OTHER (Some) or originated (None) to an eBGP PEER, with
/// the attributes as the speaker hands them over (its AS already prepended).
fn export_ebgp(p: &CalicoPolicy, prefix: &str, learned: bool) -> bool {
    let mut a = path(&[LOCAL_AS]);
    p.export(
        &peer(true),
        &net(prefix),
        &mut a,
        learned.then(|| ip(OTHER)),
    )
}

fn rules(dir: &str, rules: serde_json::Value) -> BGPFilter {
    filter("f", json!({ dir: rules }))
}

// ---- match operators -------------------------------------------------------------------

#[test]
fn operator_equal_matches_only_the_exact_prefix() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "Equal", "cidr": "10.1.0.0/16"}]),
    )]);
    assert!(!import_ok(&p, "10.1.0.0/16"));
    assert!(import_ok(&p, "10.1.2.0/24"));
    assert!(import_ok(&p, "10.0.0.0/8"));
}

#[test]
fn operator_not_equal_matches_everything_else() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "NotEqual", "cidr": "10.1.0.0/16"}]),
    )]);
    assert!(import_ok(&p, "10.1.0.0/16"));
    assert!(!import_ok(&p, "10.1.2.0/24"));
    assert!(!import_ok(&p, "192.168.0.0/24"));
}

#[test]
fn operator_in_matches_the_cidr_and_its_subnets() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "In", "cidr": "10.1.0.0/16"}]),
    )]);
    assert!(!import_ok(&p, "10.1.0.0/16"));
    assert!(!import_ok(&p, "10.1.2.0/24"));
    assert!(!import_ok(&p, "10.1.2.3/32"));
    assert!(import_ok(&p, "10.0.0.0/8"), "a supernet is not In");
    assert!(import_ok(&p, "10.2.0.0/24"));
}

#[test]
fn operator_not_in_matches_outside_the_cidr() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "NotIn", "cidr": "10.1.0.0/16"}]),
    )]);
    assert!(import_ok(&p, "10.1.0.0/16"));
    assert!(import_ok(&p, "10.1.2.0/24"));
    assert!(!import_ok(&p, "10.0.0.0/8"));
    assert!(!import_ok(&p, "192.168.1.0/24"));
}

#[test]
fn prefix_length_bounds_the_in_match() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "In", "cidr": "10.1.0.0/16",
                "prefixLength": {"min": 24, "max": 28}}]),
    )]);
    assert!(import_ok(&p, "10.1.0.0/16"));
    assert!(import_ok(&p, "10.1.0.0/23"));
    assert!(!import_ok(&p, "10.1.0.0/24"));
    assert!(!import_ok(&p, "10.1.5.16/28"));
    assert!(import_ok(&p, "10.1.5.16/29"));
}

#[test]
fn prefix_length_defaults_min_to_cidr_length_and_max_to_family_max() {
    // min below the CIDR's length is raised to it; max alone keeps min = /16.
    let p = policy(vec![rules(
        "importV4",
        json!([
            {"action": "Reject", "matchOperator": "In", "cidr": "10.1.0.0/16", "prefixLength": {"min": 8}},
            {"action": "Reject", "matchOperator": "In", "cidr": "10.2.0.0/16", "prefixLength": {"max": 20}}
        ]),
    )]);
    assert!(!import_ok(&p, "10.1.0.0/16"));
    assert!(!import_ok(&p, "10.1.0.1/32"), "max defaults to 32");
    assert!(import_ok(&p, "10.0.0.0/8"));
    assert!(!import_ok(&p, "10.2.0.0/16"));
    assert!(!import_ok(&p, "10.2.16.0/20"));
    assert!(import_ok(&p, "10.2.16.0/21"));
}

#[test]
fn prefix_length_with_not_in_negates_the_bounded_match() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "NotIn", "cidr": "10.1.0.0/16",
                "prefixLength": {"min": 24, "max": 24}}]),
    )]);
    assert!(import_ok(&p, "10.1.3.0/24"));
    assert!(!import_ok(&p, "10.1.3.0/25"));
    assert!(!import_ok(&p, "10.9.0.0/24"));
}

// ---- other conditions --------------------------------------------------------------------

#[test]
fn source_remote_peers_matches_only_routes_learned_from_peers() {
    let p = policy(vec![rules(
        "exportV4",
        json!([{"action": "Accept", "source": "RemotePeers"}]),
    )]);
    // Outside any pool: only the filter can accept it.
    assert!(export_ebgp(&p, "172.16.0.0/24", true));
    assert!(!export_ebgp(&p, "172.16.0.0/24", false));
    // On import every route comes from a peer.
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "source": "RemotePeers"}]),
    )]);
    assert!(!import_ok(&p, "172.16.0.0/24"));
}

#[test]
fn peer_type_selects_ebgp_or_ibgp_peers() {
    let p = policy(vec![rules(
        "importV4",
        json!([
            {"action": "Reject", "peerType": "eBGP", "matchOperator": "Equal", "cidr": "10.1.0.0/24"},
            {"action": "Reject", "peerType": "iBGP", "matchOperator": "Equal", "cidr": "10.2.0.0/24"}
        ]),
    )]);
    let mut a = path(&[65001]);
    assert!(!import(&p, true, "10.1.0.0/24", &mut a));
    assert!(import(&p, false, "10.1.0.0/24", &mut path(&[])));
    assert!(import(&p, true, "10.2.0.0/24", &mut path(&[65001])));
    assert!(!import(&p, false, "10.2.0.0/24", &mut path(&[])));
}

#[test]
fn communities_match_requires_the_standard_community() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "communities": {"values": ["65000:100"]}}]),
    )]);
    let mut with = path(&[65001]);
    with.communities = vec![comm(1, 1), comm(65000, 100)];
    assert!(!import(&p, true, "10.1.0.0/24", &mut with));
    let mut other = path(&[65001]);
    other.communities = vec![comm(65000, 101)];
    assert!(import(&p, true, "10.1.0.0/24", &mut other));
    assert!(import(&p, true, "10.1.0.0/24", &mut path(&[65001])));
}

#[test]
fn as_path_prefix_matches_the_leading_as_numbers() {
    let p = policy(vec![rules(
        "importV4",
        json!([
            {"action": "Reject", "asPathPrefix": [65001, 65002]},
            {"action": "Accept", "asPathPrefix": [65003], "operations": [{"addCommunity": {"value": "1:3"}}]}
        ]),
    )]);
    assert!(!import(
        &p,
        true,
        "10.1.0.0/24",
        &mut path(&[65001, 65002, 7])
    ));
    assert!(!import(&p, true, "10.1.0.0/24", &mut path(&[65001, 65002])));
    assert!(import(
        &p,
        true,
        "10.1.0.0/24",
        &mut path(&[65001, 7, 65002])
    ));
    assert!(import(&p, true, "10.1.0.0/24", &mut path(&[65002, 65001])));
    let mut a = path(&[65003, 9]);
    assert!(import(&p, true, "10.1.0.0/24", &mut a));
    assert_eq!(
        a.communities,
        vec![comm(1, 3)],
        "single-AS prefix rule matched"
    );
}

#[test]
fn as_path_prefix_on_export_to_ebgp_ignores_the_as_the_speaker_prepends() {
    let p = policy(vec![rules(
        "exportV4",
        json!([{"action": "Accept", "asPathPrefix": [65009]}]),
    )]);
    // The route as learned had path [65009]; the speaker handed it over as [64512, 65009].
    let mut a = path(&[LOCAL_AS, 65009]);
    assert!(p.export(&peer(true), &net("172.16.0.0/24"), &mut a, Some(ip(OTHER))));
    let mut b = path(&[LOCAL_AS, 65010]);
    assert!(!p.export(&peer(true), &net("172.16.0.0/24"), &mut b, Some(ip(OTHER))));
}

#[test]
fn priority_matches_the_route_priority_from_local_pref() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "priority": 512}]),
    )]);
    let mut elevated = path(&[]);
    elevated.local_pref = Some(2_147_483_647 - 512);
    assert!(!import(&p, false, "10.1.0.0/24", &mut elevated));
    let mut normal = path(&[]);
    normal.local_pref = Some(2_147_483_647 - 1024);
    assert!(import(&p, false, "10.1.0.0/24", &mut normal));
    // No LOCAL_PREF: the normal route priority (1024).
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "priority": 1024}]),
    )]);
    assert!(!import(&p, true, "10.1.0.0/24", &mut path(&[65001])));
}

#[test]
fn empty_rule_matches_every_route() {
    let p = policy(vec![rules("importV4", json!([{"action": "Reject"}]))]);
    assert!(!import_ok(&p, "10.1.0.0/24"));
    assert!(!import_ok(&p, "0.0.0.0/0"));
}

// ---- ordering ----------------------------------------------------------------------------

#[test]
fn first_matching_rule_of_a_filter_decides() {
    let p = policy(vec![rules(
        "importV4",
        json!([
            {"action": "Accept", "matchOperator": "In", "cidr": "10.1.1.0/24"},
            {"action": "Reject", "matchOperator": "In", "cidr": "10.1.0.0/16"}
        ]),
    )]);
    assert!(import_ok(&p, "10.1.1.0/24"));
    assert!(!import_ok(&p, "10.1.2.0/24"));
}

#[test]
fn filters_apply_in_the_peers_order_and_the_first_match_decides() {
    let reject = filter(
        "a-reject",
        json!({"exportV4": [{"action": "Reject", "matchOperator": "In", "cidr": "192.168.0.0/16"}]}),
    );
    let accept = filter(
        "b-accept",
        json!({"exportV4": [{"action": "Accept", "matchOperator": "In", "cidr": "192.168.0.0/16"}]}),
    );
    let pools = vec![PoolExport {
        cidr: net("192.168.0.0/16"),
        exported: true,
    }];
    let mk = |order: [&str; 2]| {
        let mut i = inputs(vec![reject.clone(), accept.clone()]);
        i.peer_filters = BTreeMap::from([(ip(PEER), order.map(String::from).to_vec())]);
        i.pools = pools.clone();
        let (p, problems) = CalicoPolicy::new(i);
        assert!(problems.is_empty(), "{problems:?}");
        p
    };
    let reject_first = mk(["a-reject", "b-accept"]);
    assert!(!export_ebgp(&reject_first, "192.168.1.0/26", false));
    // The same filters the other way round: the Accept wins over the later Reject (and the
    // default export filter, which would accept too, is not needed).
    let accept_first = mk(["b-accept", "a-reject"]);
    assert!(export_ebgp(&accept_first, "192.168.1.0/26", false));
    // A peer without filters gets only the default export filter.
    let mut a = path(&[LOCAL_AS]);
    let other = PeerView {
        address: ip(OTHER),
        ..peer(true)
    };
    assert!(reject_first.export(&other, &net("192.168.1.0/26"), &mut a, None));
}

// ---- operations --------------------------------------------------------------------------

#[test]
fn operations_modify_attributes_on_import() {
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Accept", "operations": [
            {"addCommunity": {"value": "65000:200"}},
            {"addCommunity": {"value": "65000:200"}},
            {"prependASPath": {"prefix": [65101, 65102]}},
            {"setPriority": {"value": 256}}
        ]}]),
    )]);
    let mut a = path(&[65001]);
    assert!(import(&p, true, "10.1.0.0/24", &mut a));
    assert_eq!(a.communities, vec![comm(65000, 200)], "added once");
    assert_eq!(a.as_path, Some(AsPath::sequence(vec![65101, 65102, 65001])));
    assert_eq!(a.local_pref, Some(2_147_483_647 - 256));
}

#[test]
fn operations_on_export_to_ebgp_prepend_behind_the_speakers_as() {
    let p = policy(vec![rules(
        "exportV4",
        json!([{"action": "Accept", "operations": [
            {"prependASPath": {"prefix": [64999, 64998]}},
            {"addCommunity": {"value": "1:2"}},
            {"setPriority": {"value": 100}}
        ]}]),
    )]);
    let mut a = path(&[LOCAL_AS, 65009]);
    assert!(p.export(&peer(true), &net("172.16.0.0/24"), &mut a, Some(ip(OTHER))));
    assert_eq!(
        a.as_path,
        Some(AsPath::sequence(vec![LOCAL_AS, 64999, 64998, 65009]))
    );
    assert_eq!(a.communities, vec![comm(1, 2)]);
    assert_eq!(a.local_pref, None, "no LOCAL_PREF towards eBGP peers");
}

#[test]
fn set_priority_on_export_to_ibgp_sets_local_pref() {
    let p = policy(vec![rules(
        "exportV4",
        json!([{"action": "Accept", "operations": [{"setPriority": {"value": 512}}]}]),
    )]);
    let mut a = path(&[]);
    a.local_pref = Some(100);
    assert!(p.export(&peer(false), &net("172.16.0.0/24"), &mut a, None));
    assert_eq!(a.local_pref, Some(2_147_483_647 - 512));
}

// ---- families ----------------------------------------------------------------------------

#[test]
fn v4_rules_apply_to_ipv4_prefixes_and_v6_rules_to_ipv6() {
    let p = policy(vec![filter(
        "f",
        json!({
            "importV4": [{"action": "Reject"}],
            "exportV6": [{"action": "Accept", "matchOperator": "In", "cidr": "fd00:1::/48"}],
            "importV6": [{"action": "Reject", "matchOperator": "Equal", "cidr": "fd00:2::/64"}]
        }),
    )]);
    assert!(!import_ok(&p, "10.0.0.0/24"));
    assert!(
        import_ok(&p, "fd00:9::/64"),
        "v4 reject-all does not touch IPv6"
    );
    assert!(!import_ok(&p, "fd00:2::/64"));
    assert!(export_ebgp(&p, "fd00:1:0:5::/64", false));
    assert!(
        !export_ebgp(&p, "172.16.0.0/24", false),
        "no v4 export rule: default"
    );
}

// ---- default export filter ---------------------------------------------------------------

fn default_policy() -> CalicoPolicy {
    let i = PolicyInputs {
        pools: vec![
            PoolExport {
                cidr: net("192.168.0.0/16"),
                exported: true,
            },
            PoolExport {
                cidr: net("10.244.0.0/16"),
                exported: false,
            },
            PoolExport {
                cidr: net("fd00:10::/48"),
                exported: true,
            },
        ],
        service_cidrs: vec![net("10.96.0.0/12")],
        prefix_communities: vec![
            (net("192.168.0.0/16"), vec![comm(65000, 1)]),
            (net("192.168.1.0/24"), vec![comm(65000, 2), comm(65000, 1)]),
        ],
        ..PolicyInputs::default()
    };
    let (p, problems) = CalicoPolicy::new(i);
    assert!(problems.is_empty(), "{problems:?}");
    p
}

#[test]
fn default_export_accepts_prefixes_of_exported_pools() {
    let p = default_policy();
    assert!(export_ebgp(&p, "192.168.5.0/26", false));
    assert!(export_ebgp(&p, "192.168.5.7/32", true));
    assert!(export_ebgp(&p, "fd00:10:0:1::/122", false));
}

#[test]
fn default_export_rejects_pools_not_exported() {
    // disabled or disableBGPExport: the caller sets exported = false.
    let p = default_policy();
    assert!(!export_ebgp(&p, "10.244.1.0/26", false));
    assert!(!export_ebgp(&p, "10.244.0.0/16", false));
}

#[test]
fn default_export_rejects_prefixes_outside_pools_and_services() {
    let p = default_policy();
    assert!(!export_ebgp(&p, "172.16.0.0/24", false));
    assert!(
        !export_ebgp(&p, "192.0.0.0/8", false),
        "a supernet of a pool"
    );
    assert!(!export_ebgp(&p, "fd00:11::/64", true));
}

#[test]
fn default_export_accepts_service_cidrs() {
    let p = default_policy();
    assert!(export_ebgp(&p, "10.96.0.0/12", false));
    assert!(export_ebgp(&p, "10.96.0.10/32", false));
    assert!(!export_ebgp(&p, "10.112.0.0/24", false));
}

#[test]
fn default_export_adds_prefix_advertisement_communities() {
    let p = default_policy();
    let mut a = path(&[LOCAL_AS]);
    assert!(p.export(&peer(true), &net("192.168.1.0/26"), &mut a, None));
    assert_eq!(a.communities, vec![comm(65000, 1), comm(65000, 2)]);
    let mut b = path(&[LOCAL_AS]);
    assert!(p.export(&peer(true), &net("192.168.7.0/26"), &mut b, None));
    assert_eq!(b.communities, vec![comm(65000, 1)]);
    // A filter's Accept ends evaluation before the default filter: no communities.
    let mut i = p.inputs().clone();
    i.filters = BTreeMap::from([(
        "f".to_string(),
        rules("exportV4", json!([{"action": "Accept"}])),
    )]);
    i.peer_filters = BTreeMap::from([(ip(PEER), vec!["f".to_string()])]);
    let (p2, _) = CalicoPolicy::new(i);
    let mut c = path(&[LOCAL_AS]);
    assert!(p2.export(&peer(true), &net("192.168.1.0/26"), &mut c, None));
    assert!(c.communities.is_empty());
}

#[test]
fn export_to_ibgp_carries_the_priority_in_local_pref() {
    let p = default_policy();
    // Originated: the normal route priority.
    let mut a = path(&[]);
    a.local_pref = Some(100);
    assert!(p.export(&peer(false), &net("192.168.1.0/26"), &mut a, None));
    assert_eq!(a.local_pref, Some(2_147_483_647 - 1024));
    // Learned with an elevated priority: kept.
    let mut b = path(&[]);
    b.local_pref = Some(2_147_483_647 - 512);
    assert!(p.export(
        &peer(false),
        &net("192.168.1.0/26"),
        &mut b,
        Some(ip(OTHER))
    ));
    assert_eq!(b.local_pref, Some(2_147_483_647 - 512));
}

// ---- import default ----------------------------------------------------------------------

#[test]
fn import_accepts_when_no_rule_matches() {
    let p = default_policy();
    let mut a = path(&[65001]);
    assert!(import(&p, true, "172.16.0.0/24", &mut a), "no filters");
    assert_eq!(
        a.local_pref,
        Some(2_147_483_647 - 1024),
        "a route without LOCAL_PREF gets the normal priority"
    );
    let p = policy(vec![rules(
        "importV4",
        json!([{"action": "Reject", "matchOperator": "In", "cidr": "10.0.0.0/8"}]),
    )]);
    assert!(import_ok(&p, "172.16.0.0/24"));
    let mut b = path(&[]);
    b.local_pref = Some(300);
    assert!(import(&p, false, "172.16.0.0/24", &mut b));
    assert_eq!(b.local_pref, Some(300), "a present LOCAL_PREF is kept");
}

// ---- bad content -------------------------------------------------------------------------

#[test]
fn unknown_filter_name_is_reported_and_ignored() {
    let mut i = inputs(vec![rules("importV4", json!([{"action": "Reject"}]))]);
    i.peer_filters = BTreeMap::from([(ip(PEER), vec!["missing".to_string(), "f".to_string()])]);
    let (p, problems) = CalicoPolicy::new(i);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("\"missing\""), "{}", problems[0]);
    assert!(problems[0].contains("spec.filters[0]"), "{}", problems[0]);
    assert!(problems[0].contains("10.0.0.2"), "{}", problems[0]);
    assert!(
        !import_ok(&p, "10.0.0.0/24"),
        "the existing filter still applies"
    );
}

#[test]
fn bad_rules_are_reported_and_skipped() {
    let f = filter(
        "bad",
        json!({"importV4": [
            {"action": "Reject", "matchOperator": "In", "cidr": "10.0.0.0/33"},
            {"action": "Reject", "matchOperator": "In", "cidr": "fd00::/64"},
            {"action": "Reject", "matchOperator": "Inside", "cidr": "10.0.0.0/8"},
            {"action": "Drop"},
            {"action": "Reject", "cidr": "10.0.0.0/8"},
            {"action": "Reject", "peerType": "internal"},
            {"action": "Reject", "source": "Kernel"},
            {"action": "Reject", "communities": {"values": ["65536:1"]}},
            {"action": "Accept", "operations": [{}]},
            {"action": "Reject", "matchOperator": "Equal", "cidr": "10.1.0.0/16"}
        ]}),
    );
    let (p, problems) = CalicoPolicy::new(inputs(vec![f]));
    assert_eq!(problems.len(), 9, "{problems:#?}");
    for (i, p) in problems.iter().enumerate() {
        assert!(
            p.starts_with(&format!("BGPFilter \"bad\" spec.importV4[{i}].")),
            "{p}"
        );
        assert!(p.contains("expected"), "{p}");
    }
    assert!(problems[0].contains(".cidr"));
    assert!(problems[1].contains("not an IPv4 CIDR"));
    assert!(problems[2].contains(".matchOperator"));
    assert!(problems[3].contains(".action"));
    // Everything skipped but the last rule.
    assert!(import_ok(&p, "10.0.0.0/24"));
    assert!(!import_ok(&p, "10.1.0.0/16"));
}

#[test]
fn interface_rules_never_match_and_are_reported() {
    let f = rules(
        "importV4",
        json!([{"action": "Reject", "interface": "eth*"}]),
    );
    let (p, problems) = CalicoPolicy::new(inputs(vec![f]));
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("spec.importV4[0].interface"),
        "{}",
        problems[0]
    );
    assert!(import_ok(&p, "10.0.0.0/24"));
}

#[test]
fn large_communities_are_reported_as_unsupported() {
    let f = rules(
        "importV4",
        json!([
            {"action": "Reject", "communities": {"values": ["65000:1:2"]}},
            {"action": "Accept", "operations": [
                {"addCommunity": {"value": "65000:1:2"}},
                {"addCommunity": {"value": "65000:3"}}
            ]}
        ]),
    );
    let (p, problems) = CalicoPolicy::new(inputs(vec![f]));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p.contains("large community")));
    let mut a = path(&[65001]);
    assert!(import(&p, true, "10.0.0.0/24", &mut a));
    assert_eq!(a.communities, vec![comm(65000, 3)]);
}

#[test]
fn prefix_communities_resolve_names_and_report_bad_entries() {
    let cfg: BGPConfigurationSpec = serde_json::from_value(json!({
        "communities": [{"name": "gold", "value": "65000:100"}, {"name": "big", "value": "1:2:3"}],
        "prefixAdvertisements": [
            {"cidr": "192.168.0.0/16", "communities": ["gold", "65000:7"]},
            {"cidr": "192.168.1.0/24", "communities": ["silver", "big"]},
            {"cidr": "not-a-cidr", "communities": ["gold"]}
        ]
    }))
    .expect("BGPConfigurationSpec");
    let (list, problems) = prefix_communities(&cfg);
    assert_eq!(
        list,
        vec![
            (
                net("192.168.0.0/16"),
                vec![comm(65000, 100), comm(65000, 7)]
            ),
            (net("192.168.1.0/24"), vec![]),
        ]
    );
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("prefixAdvertisements[1].communities[0]"));
    assert!(problems[0].contains("\"silver\""));
    assert!(problems[1].contains("large community"));
    assert!(problems[2].contains("prefixAdvertisements[2].cidr"));
}

#[test]
fn service_cidrs_come_from_the_three_service_fields() {
    let cfg: BGPConfigurationSpec = serde_json::from_value(json!({
        "serviceClusterIPs": [{"cidr": "10.96.0.0/12"}],
        "serviceExternalIPs": [{"cidr": "203.0.113.0/24"}, {"cidr": "bogus"}],
        "serviceLoadBalancerIPs": [{"cidr": "198.51.100.7/32"}, {"cidr": "10.96.0.0/12"}]
    }))
    .expect("BGPConfigurationSpec");
    let (cidrs, problems) = service_cidrs(&cfg);
    assert_eq!(
        cidrs,
        vec![
            net("10.96.0.0/12"),
            net("203.0.113.0/24"),
            net("198.51.100.7/32")
        ]
    );
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("spec.serviceExternalIPs[1].cidr"));
}

#[test]
fn policies_compare_equal_when_built_from_equal_inputs() {
    let a = default_policy();
    let b = default_policy();
    assert!(a == b);
    let mut i = a.inputs().clone();
    i.service_cidrs.push(net("10.0.0.0/24"));
    let (c, _) = CalicoPolicy::new(i);
    assert!(a != c);
}

// ---- own blocks (calico_aggr) -------------------------------------------------------------

fn block_policy() -> CalicoPolicy {
    let i = PolicyInputs {
        pools: vec![PoolExport {
            cidr: net("192.168.0.0/16"),
            exported: true,
        }],
        local_blocks: vec![net("192.168.1.0/26")],
        ..PolicyInputs::default()
    };
    let (p, problems) = CalicoPolicy::new(i);
    assert!(problems.is_empty(), "{problems:?}");
    p
}

#[test]
fn own_blocks_are_exported_as_aggregates_only() {
    let p = block_policy();
    assert!(export_ebgp(&p, "192.168.1.0/26", false), "the block itself");
    assert!(
        !export_ebgp(&p, "192.168.1.5/32", false),
        "a more specific route inside an own block"
    );
    assert!(
        !export_ebgp(&p, "192.168.1.5/32", true),
        "also when learned from another node"
    );
    assert!(
        export_ebgp(&p, "192.168.2.5/32", true),
        "outside own blocks: the pool decides"
    );
}

#[test]
fn elevated_priority_routes_inside_own_blocks_are_exported() {
    let p = block_policy();
    let mut a = path(&[]);
    a.local_pref = Some(2_147_483_647 - 512);
    assert!(p.export(
        &peer(false),
        &net("192.168.1.5/32"),
        &mut a,
        Some(ip(OTHER))
    ));
    let mut b = path(&[]);
    b.local_pref = Some(2_147_483_647 - 1024);
    assert!(!p.export(
        &peer(false),
        &net("192.168.1.5/32"),
        &mut b,
        Some(ip(OTHER))
    ));
}

// ---- from a topology plan ----------------------------------------------------------------

#[test]
fn inputs_from_a_topology_plan() {
    use calico_api::Resource;
    use calico_bgp_topology::topology::{NoSecrets, State};
    let res = |v: serde_json::Value| Resource::from_value(v).expect("resource");
    let mut s = State::new();
    for (name, addr) in [("a", "172.18.0.2"), ("b", "172.18.0.3")] {
        s.upsert(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": name}, "spec": {"bgp": {"ipv4Address": format!("{addr}/24")}}}),
        ));
    }
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
        "metadata": {"name": "default"}, "spec": {
            "serviceClusterIPs": [{"cidr": "10.96.0.0/12"}],
            "communities": [{"name": "gold", "value": "65000:100"}],
            "prefixAdvertisements": [{"cidr": "10.244.0.0/16", "communities": ["gold"]}],
            "ipv4NormalRoutePriority": 2048}}),
    ));
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "p"}, "spec": {"cidr": "10.244.0.0/16"}}),
    ));
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
        "metadata": {"name": "q"}, "spec": {"cidr": "10.99.0.0/16", "disableBGPExport": true}}),
    ));
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPFilter",
        "metadata": {"name": "no-tens"}, "spec": {
            "exportV4": [{"action": "Reject", "matchOperator": "In", "cidr": "10.244.9.0/24"}]}}),
    ));
    s.upsert(res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
        "metadata": {"name": "tor"}, "spec": {"peerIP": "10.0.0.2", "asNumber": 65001,
            "filters": ["no-tens"]}}),
    ));
    s.block(net("10.244.1.0/26"), Some("a".into()));
    let plan = s.plan("a", None, &NoSecrets).expect("plan");
    let (i, problems) = PolicyInputs::from_plan(&plan);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(i.normal_priority_v4, 2048);
    assert_eq!(i.local_blocks, vec![net("10.244.1.0/26")]);
    assert_eq!(i.peer_filters[&ip(PEER)], vec!["no-tens".to_string()]);
    let (p, problems) = CalicoPolicy::new(i);
    assert!(problems.is_empty(), "{problems:?}");
    let mut a = path(&[LOCAL_AS]);
    assert!(p.export(&peer(true), &net("10.244.1.0/26"), &mut a, None));
    assert_eq!(a.communities, vec![comm(65000, 100)]);
    assert!(!export_ebgp(&p, "10.244.9.0/26", true), "the peer's filter");
    assert!(export_ebgp(&p, "10.244.8.0/26", true));
    assert!(!export_ebgp(&p, "10.99.0.0/26", true), "disableBGPExport");
    assert!(export_ebgp(&p, "10.96.0.0/12", false), "service CIDR");
}

#[test]
fn out_of_range_numbers_are_reported_not_panicked_on() {
    let f = filter(
        "nums",
        json!({"importV4": [
            {"action": "Reject", "matchOperator": "In", "cidr": "10.1.0.0/16",
             "prefixLength": {"min": -5, "max": 99}},
            {"action": "Reject", "priority": 0},
            {"action": "Accept", "operations": [{"setPriority": {}}]},
            {"action": "Accept", "operations": [{"prependASPath": {"prefix": []}}]},
            {"action": "Reject", "matchOperator": "Equal", "cidr": "10.2.0.0/16",
             "prefixLength": {"min": 20}}
        ]}),
    );
    let (p, problems) = CalicoPolicy::new(inputs(vec![f]));
    assert_eq!(problems.len(), 6, "{problems:#?}");
    assert!(problems[0].contains("spec.importV4[0].prefixLength.min"));
    assert!(problems[1].contains("spec.importV4[0].prefixLength.max"));
    assert!(problems[2].contains("spec.importV4[1].priority"));
    assert!(problems[3].contains("spec.importV4[2].operations[0].setPriority.value"));
    assert!(problems[4].contains("spec.importV4[3].operations[0].prependASPath.prefix"));
    assert!(problems[5].contains("spec.importV4[4].prefixLength"));
    // Rule 0 clamps to /16../32; rule 4 is an exact match whatever prefixLength says.
    assert!(!import_ok(&p, "10.1.0.0/16"));
    assert!(!import_ok(&p, "10.1.2.3/32"));
    assert!(!import_ok(&p, "10.2.0.0/16"));
    assert!(import_ok(&p, "10.2.0.0/20"));
}
