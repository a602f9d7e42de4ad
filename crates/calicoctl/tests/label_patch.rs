//! `label` and `patch` flows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, POOL1};

fn labels(env: &Env) -> serde_json::Value {
    let out = env
        .run(&["get", "ippool", "pool1", "-o", "json"])
        .ok()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["metadata"]["labels"].clone()
}

#[test]
fn label_set_update_remove() {
    let env = Env::new();
    env.run_file(&["create"], POOL1).ok();
    let out = env.run(&["label", "ippool", "pool1", "zone=a"]);
    assert_eq!(out.ok(), "Successfully set label zone on ippool pool1\n");
    assert_eq!(labels(&env)["zone"], "a");

    let err = env
        .run(&["label", "ippool", "pool1", "zone=b"])
        .fails()
        .to_string();
    assert_eq!(
        err,
        "failed to update label of ippool pool1, key zone is already present. please use \
         '--overwrite' to set a new value.\n"
    );
    let out = env.run(&["label", "ippools", "pool1", "zone=b", "--overwrite"]);
    assert_eq!(
        out.ok(),
        "Successfully updated label zone on ippools pool1\n"
    );
    assert_eq!(labels(&env)["zone"], "b");

    let out = env.run(&["label", "ippool", "pool1", "zone", "--remove"]);
    assert_eq!(
        out.ok(),
        "Successfully removed label zone from ippool pool1\n"
    );
    assert!(labels(&env).get("zone").is_none());
    let err = env
        .run(&["label", "ippool", "pool1", "zone", "--remove"])
        .fails()
        .to_string();
    assert_eq!(
        err,
        "cannot remove label of ippool pool1, key zone does not exist\n"
    );
}

#[test]
fn label_errors() {
    let env = Env::new();
    env.run_file(&["create"], POOL1).ok();
    let err = env
        .run(&["label", "ippool", "nope", "a=b"])
        .fails()
        .to_string();
    assert_eq!(err, "ippool nope not found\n");
    let err = env
        .run(&["label", "ippool", "pool1", "a=b=c"])
        .fails()
        .to_string();
    assert_eq!(err, "invalid label a=b=c\n");
    let err = env
        .run(&["label", "ippool", "pool1", "bad key!=x"])
        .fails()
        .to_string();
    assert!(
        err.starts_with("failed to update ippool pool1, label not changed: "),
        "{err}"
    );
    assert!(labels(&env).is_null());
}

#[test]
fn patch_merges_and_validates() {
    let env = Env::new();
    env.run_file(&["create"], POOL1).ok();
    let out = env.run(&[
        "patch",
        "ippool",
        "pool1",
        "-p",
        r#"{"spec":{"natOutgoing":false,"vxlanMode":"Always","ipipMode":"Never"}}"#,
    ]);
    assert_eq!(out.ok(), "Successfully patched 1 'IPPool' resource\n");
    let yaml = env
        .run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    assert!(
        yaml.contains("vxlanMode: Always") && !yaml.contains("natOutgoing"),
        "{yaml}"
    );

    let out = env.run(&[
        "patch",
        "ippool",
        "pool1",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"x":"y"}}}"#,
    ]);
    out.ok();
    // null removes.
    env.run(&[
        "patch",
        "ippool",
        "pool1",
        "-p",
        r#"{"metadata":{"labels":{"x":null}}}"#,
    ])
    .ok();
    assert!(labels(&env).is_null());

    // An invalid result is refused with the field path; the stored pool is unchanged.
    let before = env
        .run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    let err = env
        .run(&[
            "patch",
            "ippool",
            "pool1",
            "-p",
            r#"{"spec":{"nodeSelector":"a == 'b"}}"#,
        ])
        .fails()
        .to_string();
    assert!(
        err.starts_with("Hit error: updating existing resource: "),
        "{err}"
    );
    assert!(err.contains("spec.nodeSelector"), "{err}");
    let err = env
        .run(&["patch", "ippool", "pool1", "-p", r#"{"spec":{"bogus":1}}"#])
        .fails()
        .to_string();
    assert!(
        err.contains("creating resource from patched data") && err.contains("bogus"),
        "{err}"
    );
    assert_eq!(
        env.run(&["get", "ippool", "pool1", "-o", "yaml"]).ok(),
        before
    );
}

#[test]
fn patch_errors() {
    let env = Env::new();
    env.run_file(&["create"], POOL1).ok();
    let err = env
        .run(&["patch", "ippool", "nope", "-p", "{}"])
        .fails()
        .to_string();
    assert_eq!(err, "Hit error: resource does not exist: IPPool(nope)\n");
    let err = env
        .run(&["patch", "ippool", "pool1", "-p", "{not json"])
        .fails()
        .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    let err = env
        .run(&["patch", "ippool", "pool1", "-t", "json", "-p", "[]"])
        .fails()
        .to_string();
    assert!(err.contains("not supported"), "{err}");
    let err = env
        .run(&[
            "patch",
            "ippool",
            "pool1",
            "-p",
            r#"{"metadata":{"name":"other"}}"#,
        ])
        .fails()
        .to_string();
    assert!(err.contains("must not change"), "{err}");
    let err = env
        .run(&[
            "patch",
            "ippool",
            "pool1",
            "-p",
            r#"{"spec":{"cidr":"10.2.0.0/16"}}"#,
        ])
        .fails()
        .to_string();
    assert!(err.contains("spec.cidr"), "{err}");
}
