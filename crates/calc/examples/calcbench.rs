//! How long the graph takes: the initial snapshot of a cluster and single changes after it.
//!
//! `cargo run --release -p calico-calc --example calcbench -- [ENDPOINTS] [POLICIES]`
//! (defaults 1000 and 1000; a tenth of the endpoints are local). Prints p50/p99 per kind of
//! change over 50 changes each, and how many messages each sent.

use std::time::{Duration, Instant};

use calico_api::Resource;
use calico_calc::{CalcGraph, Update};
use serde_json::json;

fn res(v: serde_json::Value) -> Resource {
    match Resource::from_value(v) {
        Ok(mut r) => {
            r.apply_defaults();
            r
        }
        Err(e) => panic!("bench resource: {e}"),
    }
}

fn wep(i: usize, local: bool, grp: usize, app: &str) -> Update {
    let ns = format!("ns{}", (i / 10) % 10);
    Update::Upsert(res(json!({
        "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
        "metadata": {"namespace": ns, "name": format!("k8s-p{i}-eth0"),
                     "labels": {"grp": grp.to_string(), "app": app}},
        "spec": {"orchestrator": "k8s", "node": if local { "node-1" } else { "node-2" },
                 "pod": format!("p{i}"), "endpoint": "eth0",
                 "ipNetworks": [format!("10.{}.{}.{}/32", 1 + i / 65536, (i / 256) % 256, i % 256)],
                 "profiles": [format!("kns.{ns}"), format!("ksa.{ns}.default")],
                 "interfaceName": format!("cali{i}"),
                 "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}
    })))
}

/// Local endpoints are `a0` or `a10`, which every policy selects half of; remote ones `a5`.
fn local_app(i: usize) -> &'static str {
    match (i % 10, (i / 100) % 2) {
        (0, 0) => "a0",
        (0, _) => "a10",
        _ => "a5",
    }
}

fn policy(p: usize, peer: usize) -> Update {
    Update::Upsert(res(json!({
        "apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
        "metadata": {"namespace": format!("ns{}", p % 10), "name": format!("pol{p}")},
        "spec": {"order": p, "selector": format!("app == 'a{}'", (p % 2) * 10),
                 "ingress": [{"action": "Allow", "protocol": "TCP",
                              "source": {"selector": format!("grp == '{peer}'")},
                              "destination": {"ports": ["http", 443]}}],
                 "egress": [{"action": "Allow"}]}
    })))
}

fn namespace(i: usize, env: &str) -> Update {
    Update::Upsert(res(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": format!("ns{i}"), "labels": {"env": env}}
    })))
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n_eps = args.first().copied().unwrap_or(1000);
    let n_pols = args.get(1).copied().unwrap_or(1000);
    let mut g = CalcGraph::new("node-1");
    let mut snap: Vec<Update> = (0..10).map(|i| namespace(i, "prod")).collect();
    for i in 0..n_eps {
        snap.push(wep(i, i % 10 == 0, i % 100, local_app(i)));
    }
    for p in 0..n_pols {
        snap.push(policy(p, p % 100));
    }
    snap.push(Update::InSync);
    let t = Instant::now();
    let out = g.apply(snap);
    let snap_time = t.elapsed();
    let st = g.state();
    println!(
        "snapshot: {n_eps} endpoints ({} local), {n_pols} policies: {:.1} ms, {} messages, \
         {} IP sets ({} members), {} active policies",
        st.endpoints.len(),
        snap_time.as_secs_f64() * 1e3,
        out.messages.len(),
        st.ip_sets.len(),
        st.ip_sets.values().map(|s| s.members.len()).sum::<usize>(),
        st.policies.len(),
    );
    type Change = Box<dyn Fn(usize) -> Vec<Update>>;
    let changes: Vec<(&str, Change)> = vec![
        (
            "remote pod label",
            Box::new(move |k| vec![wep(1 + 10 * k, false, (k * 7) % 100, "a5")]),
        ),
        (
            "local pod label",
            Box::new(move |k| {
                let app = if k % 2 == 0 { "a0" } else { "a10" };
                vec![wep(10 * k, true, (k * 3) % 100, app)]
            }),
        ),
        (
            "policy rule edit",
            Box::new(move |k| vec![policy(k % n_pols.max(1), (k * 11) % 100)]),
        ),
        (
            "namespace label",
            Box::new(|k| vec![namespace(k % 10, if k % 2 == 0 { "dev" } else { "prod" })]),
        ),
    ];
    for (name, change) in changes {
        let mut times = Vec::new();
        let mut msgs = 0;
        for k in 0..50 {
            let updates = change(k);
            let t = Instant::now();
            let out = g.apply(updates);
            times.push(t.elapsed());
            msgs += out.messages.len();
        }
        println!(
            "{name:<18} p50 {:>8.3} ms  p99 {:>8.3} ms  messages/change {:.1}",
            percentile(&mut times, 0.5).as_secs_f64() * 1e3,
            percentile(&mut times, 0.99).as_secs_f64() * 1e3,
            msgs as f64 / 50.0
        );
    }
}
