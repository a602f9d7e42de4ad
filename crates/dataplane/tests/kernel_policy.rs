//! Kernel tests (root): a node namespace with pods wired like Calico's CNI wires them; the
//! dataplane programs the node; real TCP connections decide.

mod common;

use calico_api::Action;
use calico_calc::messages::{DataplaneMessage, EncapType, EndOfTierAction};
use calico_dataplane::{Config, Dataplane};
use calico_policy::Direction::{Egress, Ingress};
use calico_policy::RuleId;
use common::fixtures::*;
use common::lab::{Lab, Server, connects, sh, sh_ok};

const A: &str = "10.65.0.10";
const B: &str = "10.65.0.11";
const C: &str = "10.65.0.12";

fn kns() -> DataplaneMessage {
    profile(
        "kns.ns1",
        vec![profile_rule("kns.ns1", Ingress, 0, Action::Allow)],
        vec![profile_rule("kns.ns1", Egress, 0, Action::Allow)],
    )
}

fn pod_msg(
    name: &str,
    iface: &str,
    ip: &str,
    tiers: Vec<calico_calc::messages::TierInfo>,
) -> DataplaneMessage {
    endpoint("ns1", name, iface, &format!("{ip}/32"), tiers, &["kns.ns1"])
}

#[test]
fn policy_sets_tiers_profiles_counters_and_resync_in_the_kernel() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("pol");
    let node = lab.ns("node");
    // A default route (to a sink namespace), so proxy ARP answers the pods' 169.254.1.1.
    let sink = lab.ns("sink");
    lab.wire(
        &node,
        "dummy0",
        "192.0.2.1/24",
        &sink,
        "eth0",
        "192.0.2.2/24",
    );
    sh(&[
        "ip",
        "-n",
        &node,
        "route",
        "add",
        "default",
        "via",
        "192.0.2.2",
    ]);
    let pa = lab.pod(&node, "a", "caliaaaa", A, true);
    let pb = lab.pod(&node, "b", "calibbbb", B, true);
    // c's /32 route is left to the dataplane (LocalWorkload routes are ensured).
    let pc = lab.pod(&node, "c", "calicccc", C, false);
    let _sa80 = Server::start(&pa, 80);
    let _sa81 = Server::start(&pa, 81);
    let _sb80 = Server::start(&pb, 80);

    let mut dp = Dataplane::new(Config {
        netns: Some(Lab::path(&node)),
        ..Config::default()
    })
    .expect("dataplane");

    // a: default tier policy "allow TCP 80 from set X" (X = {b}); end-of-tier deny.
    let p1 = pid("default", "ns1", "allow-80-from-x");
    let mut r = rule(&p1, Ingress, 0, Action::Allow);
    r.protocol = Some(6);
    r.src.ip_set_ids = vec!["s:X".into()];
    r.dst.ports = ports(&[80]);
    let a_tiers = vec![tier("default", &[&p1], &[], EndOfTierAction::Deny)];
    let stats = dp
        .apply(&[
            host("node1", "172.16.0.1/24"),
            pool("p", "10.65.0.0/16", false, EncapType::None),
            set_update("s:X", &[&format!("{B}/32")]),
            policy(&p1, vec![r], vec![]),
            kns(),
            pod_msg("a", "caliaaaa", A, a_tiers.clone()),
            pod_msg("b", "calibbbb", B, vec![]),
            pod_msg("c", "calicccc", C, vec![]),
        ])
        .expect("fold");
    assert!(!stats.programmed, "nothing is programmed before InSync");
    assert!(!sh_ok(&[
        "ip", "netns", "exec", &node, "nft", "list", "table", "inet", "calico"
    ]));
    let stats = dp.apply(&[DataplaneMessage::InSync]).expect("in sync");
    assert!(stats.programmed && stats.full_resync, "{stats:?}");
    assert!(stats.warnings.is_empty(), "{:?}", stats.warnings);
    assert_eq!(
        sh(&[
            "ip",
            "netns",
            "exec",
            &node,
            "sysctl",
            "-n",
            "net.ipv4.ip_forward"
        ])
        .trim(),
        "1"
    );
    let routes = sh(&["ip", "-n", &node, "route", "show", "proto", "80"]);
    assert!(routes.contains(&format!("{C} dev calicccc")), "{routes}");

    assert!(
        connects(&pb, &format!("{A}:80")),
        "b → a:80 allowed by the policy"
    );
    assert!(!connects(&pc, &format!("{A}:80")), "c → a:80 not in set X");
    assert!(!connects(&pb, &format!("{A}:81")), "b → a:81 not allowed");
    assert!(connects(&pa, &format!("{B}:80")), "a → b: profiles allow");
    let ctr = dp.counters().expect("counters");
    let allow = RuleId::policy_rule("default", &p1.policy, Ingress, 0);
    assert!(ctr.get(&allow).is_some_and(|c| c.packets >= 1), "{ctr:?}");
    let eot = RuleId::end_of_tier("default", false);
    assert!(ctr.get(&eot).is_some_and(|c| c.packets >= 2), "{ctr:?}");
    assert!(
        ctr.get(&RuleId::profile_rule("kns.ns1", Ingress, 0))
            .is_some_and(|c| c.packets >= 1)
    );

    // Delta: c joins X, b leaves.
    let stats = dp
        .apply(&[set_delta(
            "s:X",
            &[&format!("{C}/32")],
            &[&format!("{B}/32")],
        )])
        .expect("delta");
    assert!(
        !stats.full_resync && stats.nft_transactions == 1,
        "{stats:?}"
    );
    assert!(connects(&pc, &format!("{A}:80")), "c now in X");
    assert!(!connects(&pb, &format!("{A}:80")), "b no longer in X");

    // Pass across tiers: tier sec passes traffic from c and denies the rest; default allows X.
    let sec = pid("sec", "", "sec.gate");
    let mut pass = rule(&sec, Ingress, 0, Action::Pass);
    pass.src.nets = vec![net(&format!("{C}/32"))];
    let deny = rule(&sec, Ingress, 1, Action::Deny);
    let mut tiers = vec![tier("sec", &[&sec], &[], EndOfTierAction::Deny)];
    tiers.extend(a_tiers.clone());
    dp.apply(&[
        set_update("s:X", &[&format!("{B}/32"), &format!("{C}/32")]),
        policy(&sec, vec![pass, deny], vec![]),
        pod_msg("a", "caliaaaa", A, tiers),
    ])
    .expect("tiers");
    assert!(
        connects(&pc, &format!("{A}:80")),
        "c passed by sec, allowed by default"
    );
    assert!(!connects(&pb, &format!("{A}:80")), "b denied in sec");
    let ctr = dp.counters().expect("counters");
    let denied = RuleId::policy_rule("sec", &sec.policy, Ingress, 1);
    assert!(ctr.get(&denied).is_some_and(|c| c.packets >= 1), "{ctr:?}");

    // An endpoint without profiles and without policies: everything dropped.
    dp.apply(&[endpoint(
        "ns1",
        "b",
        "calibbbb",
        &format!("{B}/32"),
        vec![],
        &[],
    )])
    .expect("no profiles");
    assert!(!connects(&pa, &format!("{B}:80")), "no profile → drop");
    assert!(dp.counters().expect("counters")[&RuleId::no_profile_deny()].packets >= 1);

    // Unknown cali interface: dropped.
    let pd = lab.pod(&node, "d", "calidddd", "10.65.0.13", true);
    assert!(
        !connects(&pd, &format!("{A}:80")),
        "unknown workload interface"
    );

    // Resync: a stale chain in our table and a stale route of ours go; other things stay.
    let ns_exec = |args: &[&str]| {
        let mut v = vec!["ip", "netns", "exec", node.as_str()];
        v.extend_from_slice(args);
        sh(&v)
    };
    ns_exec(&["nft", "add", "chain", "inet", "calico", "cali-stale"]);
    ns_exec(&["nft", "add", "table", "inet", "other"]);
    ns_exec(&[
        "ip",
        "route",
        "add",
        "10.99.0.0/24",
        "dev",
        "dummy0",
        "proto",
        "80",
    ]);
    ns_exec(&[
        "ip",
        "route",
        "add",
        "10.98.0.0/24",
        "dev",
        "dummy0",
        "proto",
        "static",
    ]);
    let stats = dp.resync().expect("resync");
    assert!(stats.full_resync);
    let table = ns_exec(&["nft", "list", "table", "inet", "calico"]);
    assert!(!table.contains("cali-stale"), "{table}");
    assert!(table.contains("cali-tw-caliaaaa"));
    assert!(sh_ok(&[
        "ip", "netns", "exec", &node, "nft", "list", "table", "inet", "other"
    ]));
    let routes = ns_exec(&["ip", "route", "show"]);
    assert!(!routes.contains("10.99.0.0/24"), "{routes}");
    assert!(routes.contains("10.98.0.0/24"), "{routes}");
    assert!(
        connects(&pc, &format!("{A}:80")),
        "still enforced after resync"
    );

    // Removing c's endpoint removes its chains, dispatch entries and our route to it.
    dp.apply(&[DataplaneMessage::WorkloadEndpointRemove {
        id: epid("ns1", "c"),
    }])
    .expect("remove c");
    let table = ns_exec(&["nft", "list", "table", "inet", "calico"]);
    assert!(!table.contains("calicccc"), "{table}");
    let routes = ns_exec(&["ip", "route", "show", "proto", "80"]);
    assert!(!routes.contains(C), "{routes}");
    drop(dp);
}

#[test]
fn a_failed_transaction_applies_nothing_and_the_next_apply_resyncs() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("fail");
    let node = lab.ns("node");
    let mut dp = Dataplane::new(Config {
        netns: Some(Lab::path(&node)),
        ..Config::default()
    })
    .expect("dataplane");
    dp.apply(&[
        kns(),
        pod_msg("a", "caliaaaa", A, vec![]),
        DataplaneMessage::InSync,
    ])
    .expect("first");
    // Somebody deletes our table: the next delta (which adds a chain and its rules before
    // it flushes a chain that no longer exists) fails as a whole and leaves nothing behind.
    sh(&[
        "ip", "netns", "exec", &node, "nft", "delete", "table", "inet", "calico",
    ]);
    let err = dp
        .apply(&[
            pod_msg("z", "calizzzz", "10.65.0.99", vec![]),
            profile("kns.ns1", vec![], vec![]),
        ])
        .expect_err("the delta refers to a missing table");
    assert!(err.to_string().contains("nftables transaction"), "{err}");
    assert!(
        !sh_ok(&[
            "ip", "netns", "exec", &node, "nft", "list", "table", "inet", "calico"
        ]),
        "nothing of the failed transaction was applied"
    );
    let stats = dp.apply(&[]).expect("retry");
    assert!(stats.full_resync, "{stats:?}");
    let table = sh(&[
        "ip", "netns", "exec", &node, "nft", "list", "table", "inet", "calico",
    ]);
    assert!(table.contains("cali-fw-caliaaaa") && !table.contains("profile/kns.ns1/ingress/0"));
}

/// The golden rulesets are valid nft: they load into a fresh namespace, and the golden delta
/// applies on top of the golden full table.
#[test]
fn golden_rulesets_load_into_the_kernel() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("gold");
    let node = lab.ns("node");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
    for f in ["full.nft", "delta.nft", "rules.nft"] {
        sh(&[
            "ip",
            "netns",
            "exec",
            &node,
            "nft",
            "-f",
            &format!("{dir}/{f}"),
        ]);
    }
    let t = sh(&[
        "ip", "netns", "exec", &node, "nft", "list", "table", "inet", "calico",
    ]);
    assert!(t.contains("cali-pi-np/ns1/cases"), "{t}");
}

/// Workload → host traffic: the workload's egress policy, then Felix's
/// `defaultEndpointToHostAction` (Drop by default; Accept configurable).
#[test]
fn workload_to_host_follows_egress_policy_then_the_endpoint_to_host_action() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("host");
    let node = lab.ns("node");
    let sink = lab.ns("sink");
    lab.wire(
        &node,
        "uplink",
        "192.0.2.1/24",
        &sink,
        "eth0",
        "192.0.2.2/24",
    );
    sh(&[
        "ip",
        "-n",
        &node,
        "route",
        "add",
        "default",
        "via",
        "192.0.2.2",
    ]);
    let pa = lab.pod(&node, "a", "caliaaaa", A, true);
    let pb = lab.pod(&node, "b", "calibbbb", B, true);
    let _host_server = Server::start(&node, 8080);
    // b's egress policy denies everything.
    let deny = pid("default", "ns1", "deny-egress");
    let msgs = vec![
        kns(),
        policy(&deny, vec![], vec![rule(&deny, Egress, 0, Action::Deny)]),
        pod_msg("a", "caliaaaa", A, vec![]),
        pod_msg(
            "b",
            "calibbbb",
            B,
            vec![tier("default", &[], &[&deny], EndOfTierAction::Deny)],
        ),
        DataplaneMessage::InSync,
    ];
    let mut dp = Dataplane::new(Config {
        netns: Some(Lab::path(&node)),
        ..Config::default()
    })
    .expect("dataplane");
    dp.apply(&msgs).expect("program");
    assert!(
        !connects(&pa, "192.0.2.1:8080"),
        "default endpoint-to-host action drops"
    );
    drop(dp);
    let mut dp = Dataplane::new(Config {
        netns: Some(Lab::path(&node)),
        endpoint_to_host_action: calico_dataplane::EndpointToHostAction::Accept,
        ..Config::default()
    })
    .expect("dataplane");
    dp.apply(&msgs).expect("program");
    assert!(
        connects(&pa, "192.0.2.1:8080"),
        "accepted after egress policy allowed"
    );
    assert!(
        !connects(&pb, "192.0.2.1:8080"),
        "egress policy still applies"
    );
    let ctr = dp.counters().expect("counters");
    assert!(ctr[&RuleId::policy_rule("default", &deny.policy, Egress, 0)].packets >= 1);
}
