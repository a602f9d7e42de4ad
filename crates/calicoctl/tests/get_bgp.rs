//! `get` tables of the BGP kinds (BGPPeer, BGPConfiguration, BGPFilter), default (`ps`) and
//! `-o wide`, against golden files in tests/golden (regenerate with
//! `UPDATE_GOLDENS=1 cargo test -p calicoctl --test get_bgp`).
//!
//! Calico's templates (`calicoctl/calicoctl/resourcemgr/{bgppeer,bgpconfig,bgpfilter}.go`):
//! - BGPPeer NAME, PEERIP, NODE, ASN (wide: the same). NODE is `spec.node`, else
//!   `spec.nodeSelector`, else `(global)`; ASN prints `0` when unset (a Go `uint32`).
//! - BGPConfiguration NAME, LOGSEVERITY, MESHENABLED, ASNUMBER (wide: the same).
//!   MESHENABLED and ASNUMBER are pointers printed as their value when set (also `false`
//!   and `0`) and `-` when unset.
//! - BGPFilter NAME, NUMEXPORTV4, NUMIMPORTV4, NUMEXPORTV6, NUMIMPORTV6 (wide: the same):
//!   the number of rules of each list.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, docs, golden};

const PEER_GLOBAL: &str = "apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor-global
spec:
  peerIP: 192.0.2.1
  asNumber: 64513
";

const PEER_NODE: &str = "apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: node-a-tor
spec:
  node: node-a
  peerIP: 192.0.2.2
  asNumber: 64514
";

/// Node selector and peer selector: no peer IP, no AS number.
const PEER_SELECTOR: &str = "apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rr-clients
spec:
  nodeSelector: \"!has(route-reflector)\"
  peerSelector: has(route-reflector)
";

/// IPv6 peer with a port, a 4-byte AS number given in AS-dot notation, and a filter.
const PEER_V6: &str = "apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: v6-upstream
spec:
  peerIP: \"[2001:db8::1]:1790\"
  asNumber: \"64086.59904\"
  filters:
  - edge
";

/// The cluster-wide configuration with every shown field unset.
const CONFIG_DEFAULT_EMPTY: &str = "apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec: {}
";

/// The cluster-wide configuration with the mesh off and an AS number.
const CONFIG_DEFAULT_SET: &str = "apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Warning
  nodeToNodeMeshEnabled: false
  asNumber: 64512
";

/// A per-node configuration (mesh and AS number may only be set on `default`).
const CONFIG_NODE: &str = "apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: node.node-a
spec:
  logSeverityScreen: Debug
  listenPort: 1790
";

const FILTER_EDGE: &str = "apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: edge
spec:
  exportV4:
  - action: Accept
    matchOperator: In
    cidr: 10.0.0.0/8
  - action: Reject
    matchOperator: NotIn
    cidr: 10.1.0.0/16
  importV6:
  - action: Accept
    matchOperator: Equal
    cidr: fd00::/64
";

const FILTER_EMPTY: &str = "apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata:
  name: empty
spec: {}
";

/// `calicoctl ARGS` for each `args`, each run preceded by a `$ calicoctl ...` line.
fn transcript(env: &Env, runs: &[&[&str]]) -> String {
    let mut all = String::new();
    for args in runs {
        all.push_str(&format!("$ calicoctl {}\n", args.join(" ")));
        all.push_str(env.run(args).ok());
    }
    all
}

#[test]
fn bgppeer_tables() {
    let env = Env::new();
    let out = env.run_file(
        &["create"],
        &docs(&[PEER_GLOBAL, PEER_NODE, PEER_SELECTOR, PEER_V6]),
    );
    assert_eq!(out.ok(), "Successfully created 4 'BGPPeer' resource(s)\n");
    let ps = env.run(&["get", "bgppeers"]).ok().to_string();
    assert_eq!(
        ps,
        "NAME          PEERIP               NODE                    ASN          \n\
         node-a-tor    192.0.2.2            node-a                  64514        \n\
         rr-clients                         !has(route-reflector)   0            \n\
         tor-global    192.0.2.1            (global)                64513        \n\
         v6-upstream   [2001:db8::1]:1790   (global)                4200000000   \n\
         \n"
    );
    golden("bgppeer-ps.txt", &ps);
    let wide = env.run(&["get", "bgppeer", "-o", "wide"]).ok().to_string();
    assert_eq!(
        wide, ps,
        "Calico's wide columns for BGPPeer are the ps columns"
    );
    golden(
        "bgppeer-aliases.txt",
        &transcript(
            &env,
            &[
                &["get", "bgpp", "tor-global"],
                &["get", "bps", "-o", "wide"],
                &["get", "bp", "node-a-tor", "rr-clients"],
                &["get", "bgppeers", "-o", "custom-columns=ASN,NODE"],
            ],
        ),
    );
}

#[test]
fn bgpconfiguration_tables() {
    let env = Env::new();
    env.run_file(&["create"], &docs(&[CONFIG_DEFAULT_EMPTY, CONFIG_NODE]))
        .ok();
    let unset = transcript(
        &env,
        &[
            &["get", "bgpconfig"],
            &["get", "bgpconfigurations", "-o", "wide"],
        ],
    );
    // An unset mesh flag or AS number prints `-`, not the effective default.
    assert!(
        unset.contains("\nnode.node-a   Debug         -             -          \n"),
        "{unset}"
    );
    env.run_file(&["apply"], CONFIG_DEFAULT_SET).ok();
    let set = transcript(
        &env,
        &[
            &["get", "bgpconfiguration"],
            &["get", "bgpconfigs", "default", "-o", "wide"],
        ],
    );
    assert!(
        set.contains("\ndefault       Warning       false         64512      \n"),
        "{set}"
    );
    env.run_file(
        &["apply"],
        &CONFIG_DEFAULT_SET.replace(
            "nodeToNodeMeshEnabled: false",
            "nodeToNodeMeshEnabled: true",
        ),
    )
    .ok();
    let on = transcript(&env, &[&["get", "bgpconfig", "default"]]);
    assert!(
        on.contains("\ndefault   Warning       true          64512      \n"),
        "{on}"
    );
    golden("bgpconfiguration-tables.txt", &format!("{unset}{set}{on}"));
    let ps = env.run(&["get", "bgpconfig"]).ok().to_string();
    let wide = env
        .run(&["get", "bgpconfig", "-o", "wide"])
        .ok()
        .to_string();
    assert_eq!(ps, wide);
}

#[test]
fn bgpfilter_tables() {
    let env = Env::new();
    env.run_file(&["create"], &docs(&[FILTER_EDGE, FILTER_EMPTY]))
        .ok();
    let ps = env.run(&["get", "bgpfilters"]).ok().to_string();
    assert_eq!(
        ps,
        "NAME    NUMEXPORTV4   NUMIMPORTV4   NUMEXPORTV6   NUMIMPORTV6   \n\
         edge    2             0             0             1             \n\
         empty   0             0             0             0             \n\
         \n"
    );
    let wide = env
        .run(&["get", "bgpfilter", "-o", "wide"])
        .ok()
        .to_string();
    assert_eq!(wide, ps);
    golden(
        "bgpfilter-tables.txt",
        &transcript(
            &env,
            &[
                &["get", "bgpfilters"],
                &["get", "bf", "-o", "wide"],
                &["get", "bgpf", "edge"],
            ],
        ),
    );
}

#[test]
fn bgp_custom_column_errors_list_calico_headings() {
    let env = Env::new();
    for (kind, want) in [
        ("bgppeer", "NAME, PEERIP, NODE, ASN"),
        ("bgpconfig", "NAME, LOGSEVERITY, MESHENABLED, ASNUMBER"),
        (
            "bgpfilter",
            "NAME, NUMEXPORTV4, NUMIMPORTV4, NUMEXPORTV6, NUMIMPORTV6",
        ),
    ] {
        let err = env
            .run(&["get", kind, "-o", "custom-columns=BOGUS"])
            .fails()
            .to_string();
        assert_eq!(
            err,
            format!("Unknown heading BOGUS, valid values are: {want}\n"),
            "{kind}"
        );
    }
}

#[test]
fn empty_bgp_lists_print_headings_only() {
    let env = Env::new();
    assert_eq!(
        env.run(&["get", "bgppeers"]).ok(),
        "NAME   PEERIP   NODE   ASN   \n\n"
    );
    assert_eq!(
        env.run(&["get", "bgpconfig", "-o", "wide"]).ok(),
        "NAME   LOGSEVERITY   MESHENABLED   ASNUMBER   \n\n"
    );
}
