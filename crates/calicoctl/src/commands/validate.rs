//! `validate -f FILE`: decode, default and validate every document offline (no datastore);
//! every problem is listed.

use anyhow::{Result, anyhow};

use crate::input::{self, FileArgs};
use crate::precheck::{self, Action};
use crate::report;
use crate::stdout;

pub fn run(file: &FileArgs) -> Result<()> {
    let docs = input::load(file).map_err(|e| anyhow!("failed to execute command: {e:#}"))?;
    if docs.is_empty() {
        stdout::line("No resources specified")?;
        return Ok(());
    }
    let checked = precheck::prepare_all(docs, None, false, Action::Validate)
        .map_err(|r| anyhow!(r.message("failed to validate resources", "")))?;
    match report::single_kind(checked.iter().map(|c| c.resource.kind())) {
        Some(k) => stdout::line(&format!(
            "Successfully validated {} '{k}' resource(s)",
            checked.len()
        ))?,
        None => stdout::line(&format!(
            "Successfully validated {} resource(s)",
            checked.len()
        ))?,
    }
    Ok(())
}
