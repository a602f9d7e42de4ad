//! The `ipam` command line, with Calico's flag spellings (`--max-blocks-per-host` also as
//! `--maxblocksperhost`).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};

#[derive(Debug, Args)]
pub struct IpamArgs {
    #[command(subcommand)]
    pub command: IpamCommand,
}

#[derive(Debug, Subcommand)]
pub enum IpamCommand {
    /// Show IP pool and block utilization, one address's owner, borrowed addresses, or the
    /// IPAM configuration.
    Show(ShowArgs),
    /// Check the integrity of the IPAM data against the endpoints and nodes that use it.
    Check(CheckArgs),
    /// Release an address, or the leaked addresses and handles of a check report.
    Release(ReleaseArgs),
    /// Modify the IPAM configuration.
    Configure(ConfigureArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").multiple(false)))]
pub struct ShowArgs {
    /// Report whether this IP address is in use, and by whom.
    #[arg(long, value_name = "IP", group = "what")]
    pub ip: Option<String>,
    /// Also show the utilization of each block.
    #[arg(long, group = "what")]
    pub show_blocks: bool,
    /// Show addresses allocated from blocks affine to another node.
    #[arg(long, group = "what")]
    pub show_borrowed: bool,
    /// Show the IPAM configuration.
    #[arg(long, group = "what")]
    pub show_configuration: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print every IP that is checked.
    #[arg(long)]
    pub show_all_ips: bool,
    /// Print every IP that is leaked or not allocated properly.
    #[arg(long)]
    pub show_problem_ips: bool,
    /// Write a JSON report to this file (for `ipam release --from-report`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Accepted for compatibility and ignored: calico-rs reads workloads from its datastore.
    #[arg(long, value_name = "KUBECONFIG")]
    pub kubeconfig: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).multiple(false)))]
pub struct ReleaseArgs {
    /// The IP address to release.
    #[arg(long, value_name = "IP", group = "what")]
    pub ip: Option<String>,
    /// Release the leaked addresses and handles of a report written by `ipam check -o`.
    /// With several reports, only what all of them name is released.
    #[arg(long = "from-report", value_name = "REPORT", group = "what")]
    pub from_report: Vec<PathBuf>,
    /// Release even if a report was written by another calicoctl version.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// Set StrictAffinity (true or false). With strict affinity, nodes never borrow addresses
    /// from other nodes' blocks.
    #[arg(long, value_name = "true/false")]
    pub strictaffinity: Option<String>,
    /// Set the maximum number of blocks a node may own (0: the default, 20).
    #[arg(
        long = "max-blocks-per-host",
        visible_alias = "maxblocksperhost",
        value_name = "NUMBER",
        allow_hyphen_values = true
    )]
    pub max_blocks_per_host: Option<String>,
}
