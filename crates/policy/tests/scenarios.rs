//! Every scenario of `calico_policy::scenarios`: the evaluator must reproduce the hand-written
//! expected matrices exactly.

use calico_api::Protocol;
use calico_policy::scenarios::{self, SCENARIOS, Scenario};
use calico_policy::{Model, Packet, evaluate};

fn packet(s: &Scenario, protocol: &str, port: u16, from: &str, to: &str) -> Packet {
    let ip = |name: &str| {
        let (ns, pod) = name.split_once('/').expect("x/a form");
        scenarios::pod_ip(ns, pod).expect("known pod")
    };
    if protocol == "ICMP" {
        return Packet::ping(ip(from), ip(to));
    }
    let proto = Protocol::from_name(protocol)
        .unwrap_or_else(|| panic!("{}: unknown protocol {protocol}", s.name));
    Packet::ports(ip(from), ip(to), proto, port)
}

#[test]
fn scenarios_match_expected_matrices() {
    assert!(SCENARIOS.len() >= 20);
    let mut failures = Vec::new();
    for s in SCENARIOS {
        let model = Model::from_yaml(&scenarios::scenario_yaml(s))
            .unwrap_or_else(|e| panic!("scenario {}: {e}", s.name));
        for probe in s.probes {
            let expected = scenarios::parse_matrix(probe.expected)
                .unwrap_or_else(|e| panic!("scenario {}: {e}", s.name));
            assert_eq!(expected.len(), 81, "scenario {}", s.name);
            let mut wrong = Vec::new();
            for (from, to, allowed) in &expected {
                let v = evaluate(&model, &packet(s, probe.protocol, probe.port, from, to));
                if v.allowed != *allowed {
                    wrong.push(format!(
                        "{from} -> {to}: got {} by {}",
                        v.allowed, v.deciding
                    ));
                }
            }
            if !wrong.is_empty() {
                let got = scenarios::format_matrix(|from, to| {
                    evaluate(&model, &packet(s, probe.protocol, probe.port, from, to)).allowed
                });
                failures.push(format!(
                    "scenario {} ({} {}):\n{}\ngot:\n{got}",
                    s.name,
                    probe.protocol,
                    probe.port,
                    wrong.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn scenario_names_are_unique() {
    let mut names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SCENARIOS.len());
}
