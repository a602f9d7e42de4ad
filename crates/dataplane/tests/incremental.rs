//! The incremental renderer (what a flush uses) agrees with rendering from scratch after
//! every batch of a long pseudo-random message sequence, and its delta transaction is the
//! same as the diff of two full renders.

mod common;

use calico_api::Action;
use calico_calc::messages::{DataplaneMessage, EncapType, EndOfTierAction};
use calico_dataplane::render::{Dirty, Renderer, delta_script, render};
use calico_dataplane::{Config, DesiredState};
use calico_policy::Direction::{Egress, Ingress};
use common::fixtures::*;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn random_message(g: &mut Lcg) -> DataplaneMessage {
    let sets = ["s:a", "s:b", "s:c"];
    let pols = [
        pid("default", "ns", "p0"),
        pid("default", "ns", "p1"),
        pid("t1", "", "t1.q"),
    ];
    let profs = ["kns.ns", "ksa.ns.default"];
    let ip = |g: &mut Lcg| format!("10.65.{}.{}/32", g.next(3), g.next(8));
    match g.next(12) {
        0 => {
            // Sometimes a network-set CIDR: the set turns into an interval set.
            let wide = if g.next(3) == 0 {
                "10.65.0.0/28".to_string()
            } else {
                ip(g)
            };
            set_update(sets[g.next(3) as usize], &[&ip(g), &wide])
        }
        1 | 2 => set_delta(sets[g.next(3) as usize], &[&ip(g)], &[&ip(g)]),
        3 => DataplaneMessage::IpSetRemove {
            id: sets[g.next(3) as usize].into(),
        },
        4 | 5 => {
            let p = &pols[g.next(3) as usize];
            let mut r = rule(p, Ingress, 0, Action::Allow);
            r.src.ip_set_ids = vec![sets[g.next(3) as usize].into()];
            r.dst.ports = ports(&[80 + g.next(3) as u16]);
            let e = rule(
                p,
                Egress,
                0,
                if g.next(2) == 0 {
                    Action::Deny
                } else {
                    Action::Pass
                },
            );
            policy(p, vec![r], vec![e])
        }
        6 => DataplaneMessage::ActivePolicyRemove {
            id: pols[g.next(3) as usize].clone(),
        },
        7 => {
            let p = profs[g.next(2) as usize];
            profile(p, vec![profile_rule(p, Ingress, 0, Action::Allow)], vec![])
        }
        8 | 9 => {
            let n = g.next(4);
            let p = &pols[g.next(3) as usize];
            let tiers = if g.next(2) == 0 {
                vec![]
            } else {
                vec![tier(&p.tier, &[p], &[p], EndOfTierAction::Deny)]
            };
            // Two endpoints may claim one interface.
            endpoint(
                "ns",
                &format!("e{n}"),
                &format!("cali{}", n % 3),
                &ip(g),
                tiers,
                &[profs[g.next(2) as usize]],
            )
        }
        10 => DataplaneMessage::WorkloadEndpointRemove {
            id: epid("ns", &format!("e{}", g.next(4))),
        },
        _ => match g.next(3) {
            0 => pool("p", "10.65.0.0/16", g.next(2) == 0, EncapType::Vxlan),
            1 => vtep(
                "n2",
                "66:00:00:00:00:02",
                [10, 65, 1, 1],
                [172, 16, 0, g.next(3) as u8 + 2],
            ),
            _ => host("n1", "172.16.0.1/24"),
        },
    }
}

#[test]
fn incremental_render_equals_full_render() {
    let cfg = Config::default();
    for seed in 1..=40u64 {
        let mut g = Lcg(seed);
        let mut st = DesiredState::default();
        let mut r = Renderer::new(&cfg, &st);
        for _batch in 0..30 {
            let before = render(&cfg, &st);
            let mut dirty = Dirty::default();
            for _ in 0..(1 + g.next(5)) {
                let m = random_message(&mut g);
                dirty.note(&m);
                st.fold(&m);
            }
            let delta = r.update(&st, &dirty);
            let full = render(&cfg, &st);
            let inc = r.ruleset();
            for (name, c) in inc.chains.iter() {
                assert_eq!(Some(c), full.chains.get(name), "seed {seed}: chain {name}");
            }
            for (name, c) in full.chains.iter() {
                assert_eq!(Some(c), inc.chains.get(name), "seed {seed}: chain {name}");
            }
            for (name, c) in inc.sets.iter() {
                assert_eq!(Some(c), full.sets.get(name), "seed {seed}: set {name}");
            }
            assert_eq!(inc.sets.len(), full.sets.len(), "seed {seed}");
            assert_eq!(delta, delta_script(&before, &full), "seed {seed}");
        }
    }
}

#[test]
fn folding_owned_messages_equals_folding_borrowed_ones() {
    for seed in 1..=20u64 {
        let mut g = Lcg(seed);
        let (mut by_ref, mut owned) = (DesiredState::default(), DesiredState::default());
        for _ in 0..200 {
            let m = random_message(&mut g);
            let t = by_ref.fold(&m);
            assert_eq!(t, owned.fold_owned(m), "seed {seed}: touched");
        }
        assert_eq!(by_ref, owned, "seed {seed}");
    }
}
