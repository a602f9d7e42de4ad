//! `version [--client]`: Calico's layout; the cluster part comes from ClusterInformation
//! `default` (created on first use, as calico-node would have).

use anyhow::{Result, anyhow};

use crate::session::{CLIENT_VERSION, Globals};
use crate::stdout;

/// The commit this binary was built from, when the build set `CALICO_GIT_COMMIT`.
pub const GIT_COMMIT: &str = match option_env!("CALICO_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

pub fn run(g: &Globals, client_only: bool) -> Result<()> {
    stdout::line(&format!("Client Version:    {CLIENT_VERSION}"))?;
    stdout::line(&format!("Git commit:        {GIT_COMMIT}"))?;
    if client_only {
        return Ok(());
    }
    let client = g.connect()?;
    let ci = client
        .ensure_cluster_information()
        .map_err(|e| anyhow!("Unable to retrieve Cluster Version or Type: {e}"))?;
    let v = ci.to_value();
    let field = |name: &str| {
        v.pointer(&format!("/spec/{name}"))
            .and_then(|x| x.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string()
    };
    stdout::line(&format!("Cluster Version:   {}", field("calicoVersion")))?;
    stdout::line(&format!("Cluster Type:      {}", field("clusterType")))?;
    Ok(())
}
