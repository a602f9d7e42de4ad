//! The dataplane's control flow over recording fakes (no root needed): nothing before
//! InSync, a full replace first, deltas after, a full replace again after a failure, netlink
//! operations planned from the desired state, counters summed per rule ID.

mod common;

use std::sync::{Arc, Mutex};

use calico_api::Action;
use calico_calc::messages::{DataplaneMessage, EncapType};
use calico_dataplane::net::{NetOp, NetState};
use calico_dataplane::{Config, Dataplane, Error, NetBackend, NftBackend};
use calico_policy::Direction::{Egress, Ingress};
use calico_policy::RuleId;
use common::fixtures::*;

#[derive(Clone, Default)]
struct Rec {
    scripts: Arc<Mutex<Vec<String>>>,
    ops: Arc<Mutex<Vec<NetOp>>>,
    fail_next_nft: Arc<Mutex<bool>>,
    json: Arc<Mutex<String>>,
}

impl NftBackend for Rec {
    fn run(&mut self, script: String) -> calico_dataplane::Result<()> {
        let mut f = self.fail_next_nft.lock().expect("lock");
        if *f {
            *f = false;
            return Err(Error::NftTransaction {
                table: "calico".into(),
                stderr: "injected".into(),
            });
        }
        self.scripts.lock().expect("lock").push(script);
        Ok(())
    }
    fn list_json(&self, _table: &str) -> calico_dataplane::Result<String> {
        Ok(self.json.lock().expect("lock").clone())
    }
}

impl NetBackend for Rec {
    fn observe(&mut self, _protocol: u8, _dev: &str) -> calico_dataplane::Result<NetState> {
        Ok(NetState::default())
    }
    fn execute(
        &mut self,
        _protocol: u8,
        ops: &[NetOp],
    ) -> calico_dataplane::Result<Vec<(NetOp, String)>> {
        self.ops.lock().expect("lock").extend(ops.iter().cloned());
        Ok(vec![])
    }
}

fn dp() -> (Dataplane, Rec) {
    let rec = Rec::default();
    let dp = Dataplane::with_backends(
        Config::default(),
        Box::new(rec.clone()),
        Box::new(rec.clone()),
    );
    (dp, rec)
}

fn kns() -> DataplaneMessage {
    profile(
        "kns.ns1",
        vec![profile_rule("kns.ns1", Ingress, 0, Action::Allow)],
        vec![profile_rule("kns.ns1", Egress, 0, Action::Allow)],
    )
}

#[test]
fn full_then_delta_then_full_after_failure() {
    let (mut dp, rec) = dp();
    let s = dp
        .apply(&[
            kns(),
            endpoint("ns1", "a", "caliaaaa", "10.65.0.1/32", vec![], &["kns.ns1"]),
        ])
        .expect("fold");
    assert!(!s.programmed);
    assert!(rec.scripts.lock().expect("lock").is_empty());
    let s = dp.apply(&[DataplaneMessage::InSync]).expect("sync");
    assert!(s.full_resync && s.nft_transactions == 1);
    assert!(
        rec.scripts.lock().expect("lock")[0]
            .starts_with("add table inet calico\ndelete table inet calico\n")
    );
    let s = dp
        .apply(&[set_update("s:X", &["10.65.0.2/32"])])
        .expect("delta");
    assert!(!s.full_resync);
    let last = rec
        .scripts
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("script");
    assert!(last.starts_with("add set inet calico cali40s-X"), "{last}");
    assert_eq!(
        dp.apply(&[]).expect("idle").nft_transactions,
        0,
        "nothing changed"
    );

    *rec.fail_next_nft.lock().expect("lock") = true;
    dp.apply(&[set_delta("s:X", &["10.65.0.3/32"], &[])])
        .expect_err("injected failure");
    let s = dp.apply(&[]).expect("retry");
    assert!(s.full_resync, "a failure is followed by a full replace");
    let last = rec
        .scripts
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("script");
    assert!(
        last.contains("10.65.0.2, 10.65.0.3") || last.contains("10.65.0.2/31"),
        "{last}"
    );
}

#[test]
fn net_ops_follow_the_desired_state() {
    let (mut dp, rec) = dp();
    dp.apply(&[
        host("node1", "172.16.0.1/24"),
        pool("p", "10.65.0.0/16", true, EncapType::Vxlan),
        vtep(
            "node1",
            "66:00:00:00:00:01",
            [10, 65, 0, 1],
            [172, 16, 0, 1],
        ),
        vtep(
            "node2",
            "66:00:00:00:00:02",
            [10, 65, 1, 1],
            [172, 16, 0, 2],
        ),
        remote_block("10.65.1.0/26", "node2", [172, 16, 0, 2]),
        // A route for a node without a VTEP waits for the VTEP.
        remote_block("10.65.2.0/26", "node3", [172, 16, 0, 3]),
        DataplaneMessage::InSync,
    ])
    .expect("sync");
    let ops = rec.ops.lock().expect("lock").clone();
    let text = format!("{ops:?}");
    assert!(
        matches!(&ops[0], NetOp::SetSysctl { key, value } if key == "net/ipv4/ip_forward" && value == "1")
    );
    assert!(ops.iter().any(|o| matches!(o, NetOp::CreateVxlan(d) if d.vni == 4096 && d.port == 4789 && d.address == std::net::Ipv4Addr::new(10, 65, 0, 1))), "{text}");
    assert!(
        ops.iter().any(
            |o| matches!(o, NetOp::AddFdb(f) if f.dst == std::net::Ipv4Addr::new(172, 16, 0, 2))
        ),
        "{text}"
    );
    assert!(
        ops.iter()
            .any(|o| matches!(o, NetOp::AddNeigh(n) if n.ip.to_string() == "10.65.1.1")),
        "{text}"
    );
    assert!(ops.iter().any(|o| matches!(o, NetOp::AddRoute(r) if r.dst.to_string() == "10.65.1.0/26" && r.onlink && r.dev == "vxlan.calico")), "{text}");
    assert!(!text.contains("10.65.2.0/26"), "{text}");

    rec.ops.lock().expect("lock").clear();
    dp.apply(&[DataplaneMessage::VtepRemove {
        node: "node2".into(),
    }])
    .expect("vtep gone");
    let ops = rec.ops.lock().expect("lock").clone();
    assert!(ops.iter().any(|o| matches!(o, NetOp::DeleteFdb(_))));
    assert!(ops.iter().any(|o| matches!(o, NetOp::DeleteNeigh(_))));
    assert!(
        ops.iter()
            .any(|o| matches!(o, NetOp::DeleteRoute(r) if r.dst.to_string() == "10.65.1.0/26"))
    );
    assert!(
        !ops.iter().any(|o| matches!(o, NetOp::SetSysctl { .. })),
        "sysctls only on resync"
    );
}

#[test]
fn counters_are_summed_per_rule_id() {
    let (mut dp, rec) = dp();
    dp.apply(&[
        kns(),
        endpoint("ns1", "a", "caliaaaa", "10.65.0.1/32", vec![], &["kns.ns1"]),
        DataplaneMessage::InSync,
    ])
    .expect("sync");
    *rec.json.lock().expect("lock") = r#"{"nftables": [{"metainfo": {}},
      {"rule": {"chain": "cali-pri-kns.ns1", "comment": "profile/kns.ns1/ingress/0", "expr": [{"counter": {"packets": 3, "bytes": 180}}]}},
      {"rule": {"chain": "x", "comment": "profile/kns.ns1/ingress/0", "expr": [{"counter": {"packets": 1, "bytes": 60}}]}},
      {"rule": {"chain": "y", "comment": "not ours", "expr": [{"counter": {"packets": 9, "bytes": 9}}]}}]}"#
        .into();
    let c = dp.counters().expect("counters");
    let id = RuleId::profile_rule("kns.ns1", Ingress, 0);
    assert_eq!((c[&id].packets, c[&id].bytes), (4, 240));
    assert_eq!(c.len(), 1);
}

#[test]
fn bad_configuration_is_refused_with_the_field_named() {
    let err = Dataplane::new(Config {
        interface_prefixes: vec![],
        ..Config::default()
    })
    .expect_err("no prefixes");
    assert!(err.to_string().contains("interface_prefixes"), "{err}");
    let err = Dataplane::new(Config {
        table: "cal ico".into(),
        ..Config::default()
    })
    .expect_err("bad table");
    assert!(err.to_string().contains("table"), "{err}");
    let mut cfg = Config::default();
    cfg.vxlan.vni = 1 << 24;
    let err = Dataplane::new(cfg).expect_err("bad VNI");
    assert!(err.to_string().contains("VNI"), "{err}");
}
