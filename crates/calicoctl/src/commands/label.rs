//! `label <KIND> <NAME> key=value [--overwrite]` and `label <KIND> <NAME> key --remove`, with
//! Calico's messages. The update is a compare-and-swap on the resourceVersion that was read.

use anyhow::{Result, anyhow, bail};
use calico_client::ClientError;

use super::targets_from_args;
use crate::cli::LabelArgs;
use crate::session::Globals;
use crate::stdout;

pub fn run(g: &Globals, args: LabelArgs) -> Result<()> {
    let (kind, name) = (&args.kind, &args.name);
    let (key, value) = if args.remove {
        (args.label.clone(), String::new())
    } else {
        let parts: Vec<&str> = args.label.split('=').collect();
        let [k, v] = parts[..] else {
            bail!("invalid label {}", args.label);
        };
        (k.to_string(), v.to_string())
    };
    let target = targets_from_args(
        kind,
        std::slice::from_ref(name),
        args.namespace.as_deref(),
        false,
        false,
    )
    .map_err(|e| anyhow!("failed to get {kind} {name}, error {e}"))?
    .into_iter()
    .next()
    .map(super::Target::usable)
    .transpose()?
    .ok_or_else(|| anyhow!("{kind} {name} not found"))?;

    let client = g.connect_checked()?;
    let mut resource = match client.get(target.info, &target.namespace, &target.name) {
        Ok(r) => r,
        Err(ClientError::NotFound { .. }) => bail!("{kind} {name} not found"),
        Err(e) => bail!("failed to get {kind} {name}, error {e}"),
    };
    let labels = &mut resource.metadata_mut().labels;
    let mut overwritten = false;
    if args.remove {
        if labels.remove(&key).is_none() {
            bail!("cannot remove label of {kind} {name}, key {key} does not exist");
        }
    } else {
        match labels.get(&key) {
            Some(old) if args.overwrite || *old == value => overwritten = true,
            Some(_) => bail!(
                "failed to update label of {kind} {name}, key {key} is already present. please \
                 use '--overwrite' to set a new value."
            ),
            None => {}
        }
        labels.insert(key.clone(), value);
    }
    client
        .update(resource)
        .map_err(|e| anyhow!("failed to update {kind} {name}, label not changed: {e}"))?;
    if args.remove {
        stdout::line(&format!(
            "Successfully removed label {key} from {kind} {name}"
        ))?;
    } else if overwritten {
        stdout::line(&format!(
            "Successfully updated label {key} on {kind} {name}"
        ))?;
    } else {
        stdout::line(&format!("Successfully set label {key} on {kind} {name}"))?;
    }
    Ok(())
}
