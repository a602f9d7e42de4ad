//! `create`, `apply` and `replace`: check every document first (see [`crate::precheck`]), then
//! write them in order and report like Calico.

use anyhow::{Result, anyhow, bail};
use calico_client::ClientError;

use crate::input::{self, FileArgs};
use crate::log;
use crate::precheck::{self, Action};
use crate::report::{self, Outcome, Verb};
use crate::session::Globals;
use crate::stdout;

/// Options of a write command.
#[derive(Debug)]
pub struct WriteOpts {
    pub verb: Verb,
    pub file: FileArgs,
    pub namespace: Option<String>,
    /// `create --skip-exists`.
    pub skip_exists: bool,
}

/// Run `create`, `apply` or `replace`.
pub fn run(g: &Globals, opts: WriteOpts) -> Result<()> {
    let (action, base) = match opts.verb {
        Verb::Create => (Action::Create, "create"),
        Verb::Apply => (Action::Apply, "apply"),
        Verb::Replace => (Action::Replace, "replace"),
        Verb::Delete => bail!("internal error: delete is not a write command"),
    };
    let docs = input::load(&opts.file).map_err(|e| anyhow!("Failed to execute command: {e:#}"))?;
    if docs.is_empty() {
        stdout::line("No resources specified")?;
        return Ok(());
    }
    let summary = format!("Failed to {base} any resources");
    let checked = precheck::prepare_all(docs, opts.namespace.as_deref(), false, action)
        .map_err(|r| anyhow!(r.message(&summary, "; nothing was written")))?;

    let client = g.connect_checked()?;
    match precheck::check_tiers(&client, &checked) {
        Ok(None) => {}
        Ok(Some(r)) => bail!(r.message(&summary, "; nothing was written")),
        Err(e) => bail!("{summary}: {e}"),
    }
    // As Calico: make sure the cluster objects exist, but do not fail the command for it.
    if let Err(e) = client.ensure_initialized() {
        log::info(format_args!("Unable to initialize datastore: {e}"));
    }

    let mut outcome = Outcome {
        verb: opts.verb,
        total: checked.len(),
        handled: 0,
        errors: Vec::new(),
        single_kind: report::single_kind(checked.iter().map(|c| c.resource.kind())),
    };
    for c in checked {
        log::debug(format_args!(
            "{base} {} {}",
            c.resource.kind(),
            c.resource.display_name()
        ));
        let result = match opts.verb {
            Verb::Create => client.create(c.resource),
            Verb::Apply => client.apply(c.resource),
            _ => client.update(c.resource),
        };
        match result {
            Ok(_) => outcome.handled += 1,
            Err(ClientError::AlreadyExists { .. }) if opts.skip_exists => outcome.handled += 1,
            Err(e) => {
                outcome.errors.push(e.to_string());
                if opts.verb == Verb::Replace {
                    break;
                }
            }
        }
    }
    outcome.finish(&mut std::io::stdout().lock())
}
