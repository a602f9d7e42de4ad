//! `delete <KIND> <NAME>...` or `delete -f FILE`.

use anyhow::{Result, anyhow, bail};
use calico_client::ClientError;

use super::{Target, targets_from_args};
use crate::cli::DeleteArgs;
use crate::input;
use crate::precheck::{self, Action};
use crate::report::{self, Outcome, Verb};
use crate::session::Globals;
use crate::stdout;

pub fn run(g: &Globals, args: DeleteArgs) -> Result<()> {
    let ns = args.namespace.as_deref();
    let targets: Vec<Target> = match (args.file.file_args(), &args.kind) {
        (Some(file), _) => {
            let docs =
                input::load(&file).map_err(|e| anyhow!("Failed to execute command: {e:#}"))?;
            if docs.is_empty() {
                stdout::line("No resources specified")?;
                return Ok(());
            }
            precheck::prepare_all(docs, ns, false, Action::Delete)
                .map_err(|r| {
                    anyhow!(r.message("Failed to delete any resources", "; nothing was deleted"))
                })?
                .into_iter()
                .map(|c| Target {
                    info: c.resource.info(),
                    namespace: c.resource.namespace().to_string(),
                    name: c.resource.name().to_string(),
                    resource_version: Some(c.resource.metadata().resource_version.clone())
                        .filter(|rv| !rv.is_empty()),
                    problem: None,
                })
                .collect()
        }
        (None, Some(kind)) => {
            if args.names.is_empty() {
                bail!("No resources specified");
            }
            targets_from_args(kind, &args.names, ns, false, false)?
        }
        (None, None) => bail!("No resources specified"),
    };

    let client = g.connect_checked()?;
    let mut outcome = Outcome {
        verb: Verb::Delete,
        total: targets.len(),
        handled: 0,
        errors: Vec::new(),
        single_kind: report::single_kind(targets.iter().map(|t| t.info.kind)),
    };
    for t in &targets {
        if let Some(p) = &t.problem {
            outcome.errors.push(p.clone());
            continue;
        }
        if t.info.kind == "ClusterInformation" && t.info.is_calico() {
            outcome
                .errors
                .push("operation delete is not supported on ClusterInformation".into());
            continue;
        }
        match client.delete(t.info, &t.namespace, &t.name, t.resource_version.as_deref()) {
            Ok(_) => outcome.handled += 1,
            Err(ClientError::NotFound { .. }) if args.skip_not_exists => outcome.handled += 1,
            Err(e) => outcome.errors.push(e.to_string()),
        }
    }
    outcome.finish(&mut std::io::stdout().lock())
}
