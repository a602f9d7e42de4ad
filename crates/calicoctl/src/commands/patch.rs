//! `patch <KIND> <NAME> -p '<JSON>'`: a JSON merge patch (RFC 7386) over the stored resource,
//! then the usual defaults and validation, written back with compare-and-swap on the
//! resourceVersion that was read.

use anyhow::{Result, anyhow, bail};
use calico_api::Resource;
use serde_json::Value;

use super::targets_from_args;
use crate::cli::PatchArgs;
use crate::session::Globals;
use crate::stdout;

pub fn run(g: &Globals, args: PatchArgs) -> Result<()> {
    match args.patch_type.as_str() {
        "strategic" | "merge" => {}
        "json" => bail!(
            "patch type 'json' (RFC 6902 JSON Patch) is not supported: use --type merge \
             (RFC 7386 JSON Merge Patch)"
        ),
        other => bail!("unknown patch type '{other}': expected strategic, json or merge"),
    }
    let target = targets_from_args(
        &args.kind,
        std::slice::from_ref(&args.name),
        args.namespace.as_deref(),
        false,
        false,
    )?
    .into_iter()
    .next()
    .map(super::Target::usable)
    .transpose()
    .map_err(|e| anyhow!("Hit error: {e}"))?
    .ok_or_else(|| anyhow!("No resources specified"))?;
    let patch: Value = serde_json::from_str(&args.patch).map_err(|e| {
        anyhow!("Hit error: performing merge patch: the patch is not valid JSON: {e}")
    })?;
    if !patch.is_object() {
        bail!("Hit error: performing merge patch: the patch must be a JSON object");
    }

    let client = g.connect_checked()?;
    let stored = client
        .get(target.info, &target.namespace, &target.name)
        .map_err(|e| anyhow!("Hit error: {e}"))?;
    let mut merged = stored.to_value();
    merge_patch(&mut merged, &patch);
    let mut patched = Resource::from_value(merged)
        .map_err(|e| anyhow!("Hit error: creating resource from patched data: {e}"))?;
    if patched.info().kind != stored.info().kind
        || patched.info().api_version != stored.info().api_version
        || patched.name() != stored.name()
        || patched.namespace() != stored.namespace()
    {
        bail!(
            "Hit error: the patch must not change apiVersion, kind, metadata.name or \
             metadata.namespace"
        );
    }
    if patched.metadata().resource_version.is_empty() {
        patched.metadata_mut().resource_version = stored.metadata().resource_version.clone();
    }
    client
        .update(patched)
        .map_err(|e| anyhow!("Hit error: updating existing resource: {e}"))?;
    stdout::line(&format!(
        "Successfully patched 1 '{}' resource",
        stored.kind()
    ))?;
    Ok(())
}

/// RFC 7386: objects merge key by key, `null` removes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rfc7386_examples() {
        // From RFC 7386, appendix A.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
        ];
        for (mut target, patch, want) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, want, "patch {patch}");
        }
    }
}
