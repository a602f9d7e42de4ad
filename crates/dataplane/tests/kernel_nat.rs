//! Kernel test (root): `natOutgoing` masquerades pod traffic to destinations outside every
//! pool; an "external" host (203.0.113.0/24, in its own namespace) sees the node's address.

mod common;

use calico_api::Action;
use calico_calc::messages::{DataplaneMessage, EncapType};
use calico_dataplane::{Config, Dataplane};
use calico_policy::Direction::{Egress, Ingress};
use common::fixtures::*;
use common::lab::{Lab, Server, connects, sh, sh_ok};

#[test]
fn nat_outgoing_masquerades_to_the_outside_only_for_nat_pools() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("nat");
    let node = lab.ns("node");
    let ext = lab.ns("ext");
    lab.wire(
        &node,
        "eth0",
        "203.0.113.2/24",
        &ext,
        "eth0",
        "203.0.113.1/24",
    );
    sh(&[
        "ip",
        "-n",
        &node,
        "route",
        "add",
        "default",
        "via",
        "203.0.113.1",
    ]);
    let pod = lab.pod(&node, "p", "caliaaaa", "10.65.0.10", true);
    let server = Server::start(&ext, 80);

    let mut dp = Dataplane::new(Config {
        netns: Some(Lab::path(&node)),
        ..Config::default()
    })
    .expect("dataplane");
    dp.apply(&[
        host("node1", "203.0.113.2/24"),
        pool("p", "10.65.0.0/16", false, EncapType::None),
        profile(
            "kns.ns1",
            vec![profile_rule("kns.ns1", Ingress, 0, Action::Allow)],
            vec![profile_rule("kns.ns1", Egress, 0, Action::Allow)],
        ),
        endpoint(
            "ns1",
            "p",
            "caliaaaa",
            "10.65.0.10/32",
            vec![],
            &["kns.ns1"],
        ),
        DataplaneMessage::InSync,
    ])
    .expect("program");
    assert!(
        !connects(&pod, "203.0.113.1:80"),
        "without natOutgoing the external host cannot answer 10.65.0.10"
    );
    dp.apply(&[pool("p", "10.65.0.0/16", true, EncapType::None)])
        .expect("natOutgoing on");
    while server.peers.try_recv().is_ok() {}
    assert!(
        connects(&pod, "203.0.113.1:80"),
        "masqueraded to the node's address"
    );
    let peer = server
        .peers
        .recv_timeout(std::time::Duration::from_secs(2))
        .expect("the server saw the connection");
    assert_eq!(
        peer.ip().to_string(),
        "203.0.113.2",
        "the external host sees the node"
    );
}
