//! The policy conformance runner shared by the VXLAN and the BGP (no encapsulation) suites:
//! every scenario of `calico_policy::scenarios` (Kubernetes' network-policy e2e style:
//! namespaces x, y, z; pods a, b, c; TCP and UDP on 80 and 81; ICMP) on one two-node lab with
//! the real calico-node enforcing. Pods are placed and addressed as the scenario table says,
//! so half of the pairs cross between the nodes.
//!
//! For each scenario: each step is applied as a user would (`calicoctl delete -f -`,
//! `calicoctl apply -f -`, `calico-lab pod label`), then every probe of the step is repeated
//! until the kernel's matrix equals the written one or a bounded deadline passes; then the
//! scenario's teardown returns the cluster to its base state. Every mismatch is collected and
//! reported together at the end.

use std::time::{Duration, Instant};

use super::Lab;
use calico_lab::Matrix;
use calico_policy::scenarios::{self, PODS, Probe, SERVED_PORTS, Scenario, Step};

/// How long a step may take to be enforced.
const DEADLINE: Duration = Duration::from_secs(6);
/// Probe timeout while polling (local namespaces answer in well under a millisecond).
const POLL_TIMEOUT: Duration = Duration::from_millis(400);
/// Probe timeout of the final, deciding round after the deadline.
const FINAL_TIMEOUT: Duration = Duration::from_secs(2);

fn serve_arg() -> String {
    SERVED_PORTS
        .iter()
        .map(|p| p.spec())
        .collect::<Vec<_>>()
        .join(",")
}

/// The lab's matrix reordered into [`PODS`] order.
fn ordered(m: &Matrix) -> Vec<Vec<bool>> {
    let names = scenarios::pod_names();
    names
        .iter()
        .map(|from| {
            names
                .iter()
                .map(|to| {
                    m.get(from, to)
                        .unwrap_or_else(|| panic!("the probe has no {from} -> {to}"))
                })
                .collect()
        })
        .collect()
}

fn show(m: &[Vec<bool>]) -> String {
    let shorts: Vec<String> = PODS.iter().map(|p| p.short()).collect();
    let mut out = format!("    {}\n", shorts.join(" "));
    for (from, row) in shorts.iter().zip(m) {
        out.push_str(from);
        for c in row {
            out.push_str(if *c { "  ." } else { "  X" });
        }
        out.push('\n');
    }
    out
}

/// Poll the probe until it matches; the last matrix seen.
fn settle(lab: &Lab, probe: &Probe, want: &[Vec<bool>]) -> Vec<Vec<bool>> {
    let start = Instant::now();
    let proto = probe.protocol.as_str();
    loop {
        let got = ordered(&lab.probe(proto, probe.port, POLL_TIMEOUT));
        if got == want {
            return got;
        }
        if start.elapsed() > DEADLINE {
            // One deciding round with a generous timeout, so a loaded machine is not
            // mistaken for a dropped packet.
            return ordered(&lab.probe(proto, probe.port, FINAL_TIMEOUT));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn apply_step(lab: &Lab, step: &Step) -> Result<(), String> {
    let del = step.delete_yaml();
    if !del.is_empty() {
        let o = lab.calicoctl(&["delete", "-f", "-"], &del);
        if !o.status.success() {
            return Err(format!(
                "calicoctl delete: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    if !step.apply.trim().is_empty() {
        let o = lab.calicoctl(&["apply", "-f", "-"], step.apply);
        if !o.status.success() {
            return Err(format!(
                "calicoctl apply: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    for r in step.relabel {
        let labels = scenarios::labels_arg(r.labels);
        let o = lab.run(&["pod", "label", r.pod, "--labels", &labels]);
        if !o.status.success() {
            return Err(format!(
                "pod label {}: {}",
                r.pod,
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    Ok(())
}

fn teardown(lab: &Lab, s: &Scenario) -> Result<(), String> {
    let t = s.teardown()?;
    if !t.delete_yaml.trim().is_empty() {
        let o = lab.calicoctl(&["delete", "--skip-not-exists", "-f", "-"], &t.delete_yaml);
        if !o.status.success() {
            return Err(format!(
                "teardown delete: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    if !t.apply_yaml.trim().is_empty() {
        let o = lab.calicoctl(&["apply", "-f", "-"], &t.apply_yaml);
        if !o.status.success() {
            return Err(format!(
                "teardown apply: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    for (pod, labels) in &t.relabel {
        let arg = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let o = lab.run(&["pod", "label", pod, "--labels", &arg]);
        if !o.status.success() {
            return Err(format!(
                "teardown pod label {pod}: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    Ok(())
}

/// Bring a two-node lab up with `up_args` (besides `--nodes 2 --pool`), place the
/// scenario pods and run every scenario; panics listing every mismatch.
pub fn run(tag: &str, up_args: &[&str], check: impl FnOnce(&Lab)) {
    let mut args = vec!["--nodes", "2", "--pool", scenarios::POOL_CIDR];
    args.extend_from_slice(up_args);
    let lab = Lab::up(tag, &args);
    lab.calicoctl_ok(&["apply", "-f", "-"], &scenarios::namespaces_yaml());
    let serve = serve_arg();
    for p in &PODS {
        let node = (p.node + 1).to_string();
        let ip = p.ip.to_string();
        let out = lab.ok(&[
            "pod",
            "add",
            &p.id(),
            "--node",
            &node,
            "--labels",
            &p.labels_arg(),
            "--serve",
            &serve,
            "--ip",
            &ip,
            "--service-account",
            p.service_account,
        ]);
        assert!(
            out.contains(&format!(": {ip} (")),
            "{} did not get its address {ip}: {out}",
            p.id()
        );
    }
    eprintln!("{}", lab.ok(&["status"]));
    check(&lab);

    let all = scenarios::all();
    assert!(all.len() >= 40, "only {} scenarios", all.len());
    let mut mismatches = Vec::new();
    let mut probes_run = 0;
    let started = Instant::now();
    for s in &all {
        let t0 = Instant::now();
        let mut bad = 0;
        for (i, step) in s.steps.iter().enumerate() {
            if let Err(e) = apply_step(&lab, step) {
                mismatches.push(format!("{} step {i} ({}): {e}", s.name, step.description));
                bad += 1;
                continue;
            }
            for probe in step.probes {
                probes_run += 1;
                let want = match probe.matrix() {
                    Ok(m) => m,
                    Err(e) => {
                        mismatches.push(format!("{} step {i}: bad matrix: {e}", s.name));
                        bad += 1;
                        continue;
                    }
                };
                let got = settle(&lab, probe, &want);
                if got != want {
                    bad += 1;
                    mismatches.push(format!(
                        "{} step {i} ({}), {}/{}:\nexpected\n{}kernel\n{}",
                        s.name,
                        step.description,
                        probe.protocol,
                        probe.port,
                        show(&want),
                        show(&got)
                    ));
                }
            }
        }
        if let Err(e) = teardown(&lab, s) {
            mismatches.push(format!("{}: teardown: {e}", s.name));
            bad += 1;
        }
        eprintln!(
            "scenario {:<40} {} ({} step(s), {:.1} s)",
            s.name,
            if bad == 0 { "ok" } else { "MISMATCH" },
            s.steps.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "{} scenarios, {probes_run} probes, {} mismatch(es), {:.0} s",
        all.len(),
        mismatches.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        mismatches.is_empty(),
        "the kernel disagrees with {} written matrices:\n\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
