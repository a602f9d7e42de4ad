//! `ipam check [--show-all-ips] [--show-problem-ips] [-o FILE]`: Calico's consistency check,
//! with the same sections and closing line (`Check complete; found N problems.`), judging
//! ownership as the garbage collector does ([`calico_client::ipam_gc::classify`]): an
//! allocation is leaked when its owner is gone, never when its owner is merely unknown.
//! calico-rs adds handle counts that disagree with the blocks, blocks affine to missing nodes,
//! addresses allocated twice and malformed blocks to the problems.

mod scan;

use std::path::Path;

use anyhow::{Context, Result};
use calico_client::ipam_gc::LiveOwners;
use calico_client::ipam_store::ClientIpam;

use self::scan::{Findings, Options};
use super::args::CheckArgs;
use super::report::Report;
use crate::log;
use crate::session::{CLIENT_VERSION, Globals};
use crate::stdout;

/// Who wrote the report, and for which cluster.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub version: String,
    pub cluster_guid: String,
    pub datastore_locked: bool,
    pub cluster_info_revision: String,
    pub cluster_type: String,
    pub generated_at: String,
}

pub fn run(g: &Globals, args: CheckArgs) -> Result<()> {
    if args.kubeconfig.is_some() {
        log::info(format_args!(
            "--kubeconfig ignored: workloads are read from the datastore"
        ));
    }
    let client = g.connect_checked()?;
    let ci = client
        .ensure_cluster_information()
        .context("cannot read ClusterInformation")?;
    let v = ci.to_value();
    let spec = |f: &str| v.pointer(&format!("/spec/{f}")).cloned();
    let meta = Meta {
        version: CLIENT_VERSION.to_string(),
        cluster_guid: spec("clusterGUID")
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default(),
        datastore_locked: spec("datastoreReady").and_then(|x| x.as_bool()) == Some(false),
        cluster_info_revision: ci.metadata().resource_version.clone(),
        cluster_type: spec("clusterType")
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default(),
        generated_at: calico_client::now_rfc3339(),
    };
    let ipam = ClientIpam::new(client);
    // Allocations first, owners after: an owner created in between makes its address look
    // used, never leaked.
    let snapshot = ipam
        .engine()
        .snapshot()
        .context("failed to list IPAM blocks")?;
    let pools = ipam.pools().context("failed to load IP pools")?;
    let owners = LiveOwners::load(ipam.client()).context("failed to list workloads and nodes")?;
    let opts = Options {
        show_all: args.show_all_ips,
        show_problems: args.show_all_ips || args.show_problem_ips,
    };
    let findings = Findings::scan(&snapshot, &pools, &owners);
    stdout::print(&findings.render(opts))?;
    if let Some(path) = &args.output {
        write_report(path, &findings.report(meta))?;
    }
    Ok(())
}

fn write_report(path: &Path, report: &Report) -> Result<()> {
    let text = report.to_json().context("cannot encode the report")?;
    std::fs::write(path, text)
        .with_context(|| format!("cannot write the report to {}", path.display()))
}
