//! Every policy scenario of `calico_policy::scenarios`, driven through `calicoctl` against a
//! private embedded datastore as the lab's conformance suite drives it: the base namespaces
//! and pods applied, then each step's deletions (`calicoctl delete -f -`), manifests
//! (`calicoctl apply -f`) and pod label changes (a Pod manifest applied). After each step the
//! datastore's contents, loaded into the policy model, must give the step's written matrices;
//! after the last step the scenario's teardown must give back the base cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use calico_api::{KINDS, Resource};
use calico_client::{Client, DatastoreConfig};
use calico_policy::Model;
use calico_policy::scenarios::{
    self, Cluster, PODS, SCENARIOS, Step, evaluate_matrix, format_matrix_rows, tcp,
};
use common::Env;

fn datastore_model(env: &Env) -> Model {
    let cfg = DatastoreConfig::load(Some(&env.cfg)).unwrap();
    let client = Client::connect(&cfg).unwrap();
    let mut resources: Vec<Resource> = Vec::new();
    for info in KINDS {
        resources.extend(client.list(info, None).unwrap().0);
    }
    Model::from_resources(&resources).unwrap()
}

fn apply(env: &Env, yaml: &str, what: &str) {
    if yaml.trim().is_empty() {
        return;
    }
    let out = env.run_stdin(&["apply", "-f", "-"], yaml);
    assert_eq!(out.code, Some(0), "{what}: apply failed\n{out:#?}\n{yaml}");
}

fn delete(env: &Env, yaml: &str, what: &str) {
    if yaml.trim().is_empty() {
        return;
    }
    let out = env.run_stdin(&["delete", "-f", "-"], yaml);
    assert_eq!(out.code, Some(0), "{what}: delete failed\n{out:#?}\n{yaml}");
}

fn relabel(env: &Env, pod: &str, labels: &[(String, String)], what: &str) {
    let p = scenarios::find_pod(pod).unwrap_or_else(|| panic!("{what}: no pod {pod}"));
    let map = labels.iter().cloned().collect();
    apply(env, &scenarios::pod_yaml(p, &map), what);
}

fn base_cluster(env: &Env) {
    apply(env, &scenarios::base_cluster(), "base cluster");
}

fn check(env: &Env, step: &Step, what: &str, failures: &mut Vec<String>) {
    let model = datastore_model(env);
    for probe in step.probes {
        let want = probe.matrix().unwrap();
        let got = evaluate_matrix(&model, probe);
        if got != want {
            failures.push(format!(
                "{what} {} {}:\nexpected:\n{}got:\n{}",
                probe.protocol,
                probe.port,
                format_matrix_rows(&want),
                format_matrix_rows(&got)
            ));
        }
    }
}

/// The base cluster: everything allowed.
const BASE_STEP: Step = Step {
    description: "base",
    delete: &[],
    apply: "",
    relabel: &[],
    probes: &[tcp(
        80,
        "
    xa xb xc ya yb yc za zb zc
xa  .  .  .  .  .  .  .  .  .
xb  .  .  .  .  .  .  .  .  .
xc  .  .  .  .  .  .  .  .  .
ya  .  .  .  .  .  .  .  .  .
yb  .  .  .  .  .  .  .  .  .
yc  .  .  .  .  .  .  .  .  .
za  .  .  .  .  .  .  .  .  .
zb  .  .  .  .  .  .  .  .  .
zc  .  .  .  .  .  .  .  .  .
",
    )],
};

#[test]
fn scenarios_through_calicoctl_and_the_datastore() {
    let mut failures = Vec::new();
    for s in SCENARIOS.iter() {
        let env = Env::new();
        base_cluster(&env);
        for (i, step) in s.steps.iter().enumerate() {
            let what = format!("scenario {} step {i} ({})", s.name, step.description);
            delete(&env, &step.delete_yaml(), &what);
            apply(&env, step.apply, &what);
            for rl in step.relabel {
                let labels: Vec<(String, String)> = rl
                    .labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                relabel(&env, rl.pod, &labels, &what);
            }
            check(&env, step, &what, &mut failures);
        }
        // The teardown returns to the base cluster: everything allowed.
        let t = s.teardown().unwrap();
        let what = format!("scenario {} teardown", s.name);
        delete(&env, &t.delete_yaml, &what);
        apply(&env, &t.apply_yaml, &what);
        for (pod, labels) in &t.relabel {
            relabel(&env, pod, labels, &what);
        }
        check(&env, &BASE_STEP, &what, &mut failures);
        // Nothing but the base namespaces and pods is left.
        let left = datastore_model(&env);
        let base = Cluster::new().model().unwrap();
        assert_eq!(left.policies, base.policies, "{what}");
        assert_eq!(left.net_sets, base.net_sets, "{what}");
        assert_eq!(left.endpoints.len(), PODS.len(), "{what}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
