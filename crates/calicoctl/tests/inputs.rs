//! `-f` inputs (files, directories, stdin, Lists, JSON) and the all-or-nothing checking of
//! multi-document writes: every bad document is reported and nothing is written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, POOL1, POOL2, docs};

const TIER: &str = "apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
";

const POLICY_IN_TIER: &str = "apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: security.allow-dns
  namespace: ns1
spec:
  tier: security
  order: 10
  selector: all()
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
";

const POLICY_BAD_PORT: &str = "apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: p
  namespace: ns1
spec:
  selector: all()
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [\"8 o\"]
";

/// Run a write command on `content`, expect it to fail, and check nothing reached the store.
#[track_caller]
fn rejected(env: &Env, verb: &str, content: &str) -> String {
    let before = env.stored_keys();
    let err = env.run_file(&[verb], content).fails().to_string();
    assert_eq!(env.stored_keys(), before, "the store changed\n{err}");
    err
}

#[test]
fn multi_document_failure_writes_nothing_and_lists_every_error() {
    let env = Env::new();
    let bad_pool = POOL2.replace("fd00:1::/64", "10.0.0.1/16");
    let err = rejected(&env, "create", &docs(&[POOL1, &bad_pool, POLICY_BAD_PORT]));
    assert!(
        err.contains("error in document 2 (IPPool pool2): spec.cidr:"),
        "{err}"
    );
    assert!(
        err.contains(
            "error in document 3 (NetworkPolicy ns1/p): spec.ingress[0].destination.ports[0]:"
        ),
        "{err}"
    );
    assert!(err.contains("\"8 o\" is not a port or port range"), "{err}");
    assert!(
        err.ends_with(
            "Failed to create any resources: 2 of 3 documents are invalid; nothing was written\n"
        ),
        "{err}"
    );
    assert!(!env.db.exists(), "the datastore should not even be opened");
    // apply and replace check the same way.
    rejected(&env, "apply", &docs(&[POOL1, &bad_pool]));
    rejected(&env, "replace", &docs(&[POOL1, &bad_pool]));
}

#[test]
fn each_kind_of_bad_document_is_reported() {
    let env = Env::new();
    env.run_file(&["create"], POOL2).ok(); // an existing store, to check it stays unchanged
    let cases: &[(&str, &str)] = &[
        ("kind: [unclosed\n", "error in document 2: invalid YAML"),
        (
            "apiVersion: projectcalico.org/v3\nmetadata:\n  name: x\n",
            "error in document 2: the document has no `kind` field",
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: IPPoolz\nmetadata:\n  name: x\n",
            "error in document 2: unknown kind \"IPPoolz\"",
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: x\nspec:\n  cidr: 10.5.0.0/16\n  bogus: 1\n",
            "error in document 2 (IPPool x): spec.bogus: unknown field `bogus`",
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: x\nspec:\n  cidr: 10.0.0.1/16\n",
            "error in document 2 (IPPool x): spec.cidr:",
        ),
        (
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: x\nspec:\n  cidr: 10.5.0.0/16\n  nodeSelector: \"zone == 'a\"\n",
            "error in document 2 (IPPool x): spec.nodeSelector:",
        ),
    ];
    for (doc, want) in cases {
        let err = rejected(&env, "create", &docs(&[POOL1, doc]));
        assert!(err.contains(want), "want {want:?} in\n{err}");
        assert!(
            err.contains("1 of 2 documents is invalid; nothing was written"),
            "{err}"
        );
    }
    assert_eq!(env.stored("ippools").len(), 1);
}

#[test]
fn selector_with_overlong_label_is_rejected() {
    let env = Env::new();
    let long = "k".repeat(600);
    let pool = POOL1.replace("natOutgoing: true", &format!("nodeSelector: {long} == 'x'"));
    let err = rejected(&env, "apply", &pool);
    assert!(
        err.contains("error in document 1 (IPPool pool1): spec.nodeSelector:"),
        "{err}"
    );
}

#[test]
fn tiers_must_exist_or_come_earlier_in_the_input() {
    let env = Env::new();
    // The policy names a tier that exists nowhere: rejected, nothing written.
    env.run_file(&["create"], POOL1).ok();
    let err = rejected(&env, "create", &docs(&[POOL2, POLICY_IN_TIER]));
    assert!(
        err.contains(
            "error in document 2 (NetworkPolicy ns1/security.allow-dns): spec.tier: tier \"security\" does not exist"
        ),
        "{err}"
    );
    // After the tier in the same input: fine.
    let err = rejected(&env, "create", &docs(&[POLICY_IN_TIER, TIER]));
    assert!(err.contains("tier \"security\" does not exist"), "{err}");
    let out = env.run_file(&["create"], &docs(&[TIER, POLICY_IN_TIER]));
    assert_eq!(out.ok(), "Successfully created 2 resource(s)\n");
    // The default tier is created on demand.
    let default_tier = POLICY_IN_TIER
        .replace("security.allow-dns", "allow-dns")
        .replace("  tier: security\n", "");
    env.run_file(&["apply"], &default_tier).ok();
    let out = env
        .run(&["get", "networkpolicy", "-n", "ns1"])
        .ok()
        .to_string();
    assert!(out.contains("security.allow-dns   security"), "{out}");
    assert!(out.contains("allow-dns            default"), "{out}");
}

#[test]
fn list_input() {
    let env = Env::new();
    let list = "apiVersion: projectcalico.org/v3
kind: IPPoolList
items:
- kind: IPPool
  metadata:
    name: a
  spec:
    cidr: 10.7.0.0/16
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata:
    name: b
  spec:
    cidr: 10.8.0.0/16
";
    let out = env.run_file(&["create"], list);
    assert_eq!(out.ok(), "Successfully created 2 'IPPool' resource(s)\n");
    // An error inside a List names the item's position.
    let bad = list.replace("10.8.0.0/16", "10.8.0.1/16");
    let err = env.run_file(&["apply"], &bad).fails().to_string();
    assert!(
        err.contains("error in document 2 (IPPool b): spec.cidr:"),
        "{err}"
    );
}

#[test]
fn json_input() {
    let env = Env::new();
    let json = r#"{"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                   "metadata": {"name": "j"}, "spec": {"cidr": "10.9.0.0/16"}}"#;
    let f = env.write("pool.json", json);
    let out = env.run(&["create", "-f", f.to_str().unwrap()]);
    assert_eq!(out.ok(), "Successfully created 1 'IPPool' resource(s)\n");
    let arr = format!(
        "[{}]",
        json.replace("\"j\"", "\"k\"").replace("10.9.", "10.10.")
    );
    let out = env.run_stdin(&["create", "-f", "-"], &arr);
    assert_eq!(out.ok(), "Successfully created 1 'IPPool' resource(s)\n");
}

#[test]
fn directory_input() {
    let env = Env::new();
    env.write("manifests/a.yaml", POOL1);
    env.write("manifests/b.yml", POOL2);
    env.write("manifests/notes.txt", "not a manifest");
    env.write(
        "manifests/sub/c.json",
        r#"{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "t"}, "spec": {"order": 5}}"#,
    );
    let dir = env.path("manifests");
    let dir = dir.to_str().unwrap();
    let out = env.run(&["create", "-f", dir]);
    assert_eq!(out.ok(), "Successfully created 2 'IPPool' resource(s)\n");
    let out = env.run(&["create", "-f", dir, "-R", "--skip-exists"]);
    assert_eq!(out.ok(), "Successfully created 3 resource(s)\n");
    // One bad file in the directory: nothing from any file is written; errors name the file.
    env.run(&["delete", "-f", dir, "-R"]).ok();
    env.write(
        "manifests/sub/d.yaml",
        "apiVersion: projectcalico.org/v3\nkind: Nope\n",
    );
    let err = env.run(&["create", "-f", dir, "-R"]).fails().to_string();
    assert!(
        err.contains("d.yaml document 1: unknown kind \"Nope\""),
        "{err}"
    );
    assert!(env.stored("ippools").is_empty());
    assert!(env.stored("tiers").iter().all(|k| !k.ends_with("/t")));
}

#[test]
fn stdin_input() {
    let env = Env::new();
    let out = env.run_stdin(&["apply", "-f", "-"], &docs(&[POOL1, POOL2]));
    assert_eq!(out.ok(), "Successfully applied 2 'IPPool' resource(s)\n");
    let out = env.run_stdin(&["delete", "-f", "-"], POOL1);
    assert_eq!(out.ok(), "Successfully deleted 1 'IPPool' resource(s)\n");
    let out = env.run_stdin(&["create", "-f", "-"], "");
    assert_eq!(
        out.fails(),
        "Failed to execute command: No resources specified in file -\n"
    );
    let out = env.run_stdin(&["create", "-f", "-", "--skip-empty"], "# nothing\n");
    assert_eq!(out.ok(), "No resources specified\n");
}

#[test]
fn missing_file() {
    let env = Env::new();
    let err = env.run(&["apply", "-f", "nope.yaml"]).fails().to_string();
    assert!(
        err.starts_with("Failed to execute command: open nope.yaml:"),
        "{err}"
    );
}

#[test]
fn namespace_flag_and_documents() {
    let env = Env::new();
    let ns_less = "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: s\nspec:\n  nets: [10.0.0.0/8]\n";
    env.run_file(&["create", "-n", "ns2"], ns_less).ok();
    assert_eq!(
        env.stored("networksets"),
        vec!["/calico/resources/v3/projectcalico.org/networksets/ns2/s".to_string()]
    );
    let with_ns = ns_less.replace("name: s", "name: s\n  namespace: ns3");
    let err = env
        .run_file(&["create", "-n", "ns2"], &with_ns)
        .fails()
        .to_string();
    assert!(
        err.contains("resource namespace does not match client namespace. ns3 != ns2"),
        "{err}"
    );
    let err = env
        .run_file(&["create", "-n", "ns2"], POOL1)
        .fails()
        .to_string();
    assert!(
        err.contains("(IPPool pool1): IPPool is not namespaced"),
        "{err}"
    );
}
