//! create / apply / replace / delete / validate / version through the real binary, with
//! Calico's messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, POOL1, POOL2, docs};

#[test]
fn create_get_delete() {
    let env = Env::new();
    let out = env.run_file(&["create"], &docs(&[POOL1, POOL2]));
    assert_eq!(out.ok(), "Successfully created 2 'IPPool' resource(s)\n");
    assert_eq!(env.stored("ippools").len(), 2);
    let out = env.run(&["delete", "ippool", "pool1"]);
    assert_eq!(out.ok(), "Successfully deleted 1 'IPPool' resource(s)\n");
    let out = env.run(&["delete", "ippool", "pool1"]);
    assert_eq!(
        out.fails(),
        "Failed to delete 'IPPool' resource: resource does not exist: IPPool(pool1)\n"
    );
    let out = env.run(&["delete", "ippool", "pool1", "--skip-not-exists"]);
    assert_eq!(out.ok(), "Successfully deleted 1 'IPPool' resource(s)\n");
    let f = env.write("p2.yaml", POOL2);
    let out = env.run(&["delete", "-f", f.to_str().unwrap()]);
    assert_eq!(out.ok(), "Successfully deleted 1 'IPPool' resource(s)\n");
    assert!(env.stored("ippools").is_empty());
}

#[test]
fn create_duplicate_fails_and_skip_exists_succeeds() {
    let env = Env::new();
    env.run_file(&["create"], POOL1).ok();
    let before = env
        .run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    let out = env.run_file(&["create"], POOL1);
    assert_eq!(
        out.fails(),
        "Failed to create 'IPPool' resource: [resource already exists: IPPool(pool1)]\n"
    );
    // The stored pool is untouched.
    assert_eq!(
        env.run(&["get", "ippool", "pool1", "-o", "yaml"]).ok(),
        before
    );
    let out = env.run_file(&["create", "--skip-exists"], POOL1);
    assert_eq!(out.ok(), "Successfully created 1 'IPPool' resource(s)\n");
}

#[test]
fn create_partial_success_keeps_calicos_report() {
    let env = Env::new();
    env.run_file(&["create"], POOL2).ok();
    let pool3 = POOL1.replace("pool1", "pool3").replace("10.1.", "10.3.");
    let out = env.run_file(&["create"], &docs(&[POOL1, &pool3, POOL2]));
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        "Partial success: created the first 2 out of 3 'IPPool' resources:\n"
    );
    assert_eq!(
        out.stderr,
        "Hit error: [resource already exists: IPPool(pool2)]\n"
    );
    assert_eq!(env.stored("ippools").len(), 3);
}

#[test]
fn apply_creates_then_updates() {
    let env = Env::new();
    let out = env.run_file(&["apply"], POOL1);
    assert_eq!(out.ok(), "Successfully applied 1 'IPPool' resource(s)\n");
    let changed = POOL1.replace("natOutgoing: true", "natOutgoing: false");
    env.run_file(&["apply"], &changed).ok();
    let yaml = env
        .run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    assert!(!yaml.contains("natOutgoing"), "{yaml}");
}

#[test]
fn replace_needs_existing_and_current_resource_version() {
    let env = Env::new();
    let out = env.run_file(&["replace"], POOL1);
    assert_eq!(
        out.fails(),
        "Failed to replace 'IPPool' resource: resource does not exist: IPPool(pool1)\n"
    );
    env.run_file(&["create"], POOL1).ok();
    // Fetch, change, replace: works with the fetched resourceVersion.
    let current = env
        .run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    let edited = current.replace("ipipMode: Always", "ipipMode: CrossSubnet");
    let out = env.run_file(&["replace"], &edited);
    assert_eq!(out.ok(), "Successfully replaced 1 'IPPool' resource(s)\n");
    // The same (now stale) resourceVersion again: conflict, nothing changes.
    let stale = current.replace("ipipMode: Always", "ipipMode: Never");
    let before = env
        .run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    let err = env.run_file(&["replace"], &stale).fails().to_string();
    assert!(
        err.starts_with("Failed to replace 'IPPool' resource: update conflict: IPPool(pool1)"),
        "{err}"
    );
    assert_eq!(
        env.run(&["get", "ippool", "pool1", "-o", "yaml"]).ok(),
        before
    );
    assert!(before.contains("ipipMode: CrossSubnet"), "{before}");
}

#[test]
fn replace_stops_at_first_failure() {
    let env = Env::new();
    env.run_file(&["create"], POOL1).ok();
    let out = env.run_file(&["replace"], &docs(&[POOL1, POOL2, POOL1]));
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        "Partial success: replaced the first 1 out of 3 'IPPool' resources:\n"
    );
    assert_eq!(
        out.stderr,
        "Hit error: resource does not exist: IPPool(pool2)\n"
    );
}

#[test]
fn mixed_kinds_are_counted_together() {
    let env = Env::new();
    let tier = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: net\nspec:\n  order: 100\n";
    let out = env.run_file(&["create"], &docs(&[POOL1, tier]));
    assert_eq!(out.ok(), "Successfully created 2 resource(s)\n");
    let out = env.run_file(&["delete"], &docs(&[POOL1, tier]));
    assert_eq!(out.ok(), "Successfully deleted 2 resource(s)\n");
}

#[test]
fn delete_by_kind_and_several_names() {
    let env = Env::new();
    env.run_file(&["create"], &docs(&[POOL1, POOL2])).ok();
    let out = env.run(&["delete", "pools", "pool1", "pool2", "nope"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "Successfully deleted 2 'IPPool' resource(s)\n");
    assert_eq!(
        out.stderr,
        "Failed to delete 'IPPool' resource: resource does not exist: IPPool(nope)\n"
    );
    let out = env.run(&["delete", "ippool", "pool1", "-n", "ns1"]);
    assert_eq!(
        out.fails(),
        "Failed to delete 'IPPool' resource: IPPool is not namespaced\n"
    );
    let out = env.run(&["delete", "bogus", "x"]);
    assert_eq!(out.fails(), "resource type 'bogus' is not supported\n");
}

#[test]
fn cluster_information_is_read_only() {
    let env = Env::new();
    env.run(&["get", "clusterinfo"]).ok();
    let out = env.run(&["delete", "clusterinformation", "default"]);
    assert_eq!(
        out.fails(),
        "Failed to delete 'ClusterInformation' resource: operation delete is not supported on \
         ClusterInformation\n"
    );
    let ci =
        "apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\n";
    let err = env.run_file(&["apply"], ci).fails().to_string();
    assert!(
        err.contains(
            "operation apply is not supported on ClusterInformation: resource is readonly"
        ),
        "{err}"
    );
}

#[test]
fn validate_is_offline() {
    let env = Env::new();
    let out = env.run_file(&["validate"], &docs(&[POOL1, POOL2]));
    assert_eq!(out.ok(), "Successfully validated 2 'IPPool' resource(s)\n");
    let bad = POOL1.replace("10.1.0.0/16", "10.1.0.1/16");
    let err = env
        .run_file(&["validate"], &docs(&[POOL2, &bad]))
        .fails()
        .to_string();
    assert!(
        err.contains("error in document 2 (IPPool pool1): spec.cidr:"),
        "{err}"
    );
    assert!(
        err.ends_with("failed to validate resources: 1 of 2 documents is invalid\n"),
        "{err}"
    );
    assert!(!env.db.exists(), "validate must not open a datastore");
}

#[test]
fn version_layout() {
    let env = Env::new();
    let out = env.run(&["version", "--client"]).ok().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("Client Version:    v"), "{out}");
    assert!(lines[1].starts_with("Git commit:        "), "{out}");
    assert!(!env.db.exists());
    let out = env.run(&["version"]).ok().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let client_version = lines[0].trim_start_matches("Client Version:    ");
    assert_eq!(lines[2], format!("Cluster Version:   {client_version}"));
    assert_eq!(lines[3], "Cluster Type:      calico-rs");
}

#[test]
fn version_mismatch_is_refused_unless_allowed() {
    let env = Env::new();
    env.run(&["version"]).ok();
    // Pretend the cluster runs another release: rewrite ClusterInformation in the store.
    {
        use calico_datastore::Backend;
        let b = calico_datastore::EmbeddedBackend::open(&env.db).unwrap();
        let key = "/calico/resources/v3/projectcalico.org/clusterinformations/default";
        let kv = b.get(key).unwrap().unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&kv.value).unwrap();
        v["spec"]["calicoVersion"] = "v3.29.1".into();
        b.update(key, v.to_string().as_bytes(), None).unwrap();
    }
    let err = env.run(&["get", "ippool"]).fails().to_string();
    assert!(
        err.starts_with("Version mismatch.\nClient Version:   v"),
        "{err}"
    );
    assert!(
        err.contains("Cluster Version:  3.29.1\nUse --allow-version-mismatch"),
        "{err}"
    );
    env.run(&["get", "ippool", "--allow-version-mismatch"]).ok();
    env.run(&["--allow-version-mismatch", "get", "ippool"]).ok();
}

#[test]
fn environment_only_configuration() {
    let env = Env::new();
    let db = env.path("env.db");
    let Some(out) = env.run_env_only(
        &["get", "ippool"],
        &[("CALICO_DATASTORE_PATH", db.to_str().unwrap())],
    ) else {
        return;
    };
    out.ok();
    assert!(db.exists());
}

#[test]
fn usage_errors() {
    let env = Env::new();
    let err = env
        .run(&["-l", "loud", "get", "ippool"])
        .fails()
        .to_string();
    assert!(
        err.starts_with("Unknown log level: loud, expected one of:"),
        "{err}"
    );
    env.run(&["get"]).fails();
    env.run(&["create"]).fails();
    let out = env.run(&["--help"]);
    assert!(out.ok().contains("--context"));
    let missing = std::path::Path::new("/nonexistent/calicoctl.cfg");
    let err = env.run_with_config(missing, &["get", "ippool"]);
    assert!(
        err.fails()
            .starts_with("Failed to create Calico API client: cannot read config file")
    );
}
