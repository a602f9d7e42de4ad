//! `node status`: Calico's `calicoctl node status` from the local BGP speaker's peer table.
//!
//! Calico asks BIRD over its control socket (`show protocols`); the calico-rs speaker writes
//! its peer table as a JSON file instead. The file's format, its location
//! ([`status::status_file_path`]: `CALICO_BGP_STATUS_FILE`, else
//! `/var/run/calico/bgp-status.json`), its reader and its writer are defined once, in
//! `calico_bgp_io::status`.
//!
//! A missing file means the node is not running: the command fails with Calico's `Calico
//! process is not running.`. Otherwise the output is Calico's: `Calico process is running.`,
//! then an `IPv4 BGP status` and an `IPv6 BGP status` section, each a go-pretty table of the
//! peers of that family (or `No IPv<N> peers found.`), then an empty line. Peers are split by
//! the family of their address and keep the file's order.

use anyhow::{Result, anyhow};
use calico_bgp_io::status::{self, PeerRow};
use clap::{Args, Subcommand};

use crate::commands::ipam::table::boxed;
use crate::stdout;

/// Calico's error when no node is running.
pub const NOT_RUNNING: &str = "Calico process is not running.";

#[derive(Debug, Args)]
pub struct NodeArgs {
    #[command(subcommand)]
    pub command: NodeCommand,
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// View the current status of a Calico node: whether it runs, and its BGP peers.
    #[command(
        after_help = "The peer table is read from the file the local BGP speaker writes: \
                      /var/run/calico/bgp-status.json, or the path in CALICO_BGP_STATUS_FILE."
    )]
    Status,
}

pub fn run(args: NodeArgs) -> Result<()> {
    match args.command {
        NodeCommand::Status => status(),
    }
}

fn status() -> Result<()> {
    let peers = read_status(&status::status_file_path())?;
    stdout::print(&render(&peers))
}

/// Read and check the status file ([`status::read`]). Missing: [`NOT_RUNNING`]; any other
/// failure: the reader's error (naming the file and what was expected).
pub fn read_status(path: &std::path::Path) -> Result<Vec<PeerRow>> {
    match status::read(path) {
        Ok(f) => Ok(f.peers),
        Err(e) if e.is_not_found() => Err(anyhow!(NOT_RUNNING)),
        Err(e) => Err(anyhow!("Error executing command: {e}")),
    }
}

/// Calico's output for a running node with these peers. A row whose address is not an IP
/// address (which [`read_status`] never returns) goes to the IPv4 table as written.
pub fn render(peers: &[PeerRow]) -> String {
    let mut out = String::from("Calico process is running.\n");
    for (label, v6) in [("4", false), ("6", true)] {
        out.push_str(&format!("\nIPv{label} BGP status\n"));
        let rows: Vec<Vec<String>> = peers
            .iter()
            .filter(|p| p.ip().is_some_and(|ip| ip.is_ipv6()) == v6)
            .map(|p| {
                vec![
                    p.ip()
                        .map_or_else(|| p.address.clone(), |ip| ip.to_string()),
                    p.peer_type.clone(),
                    p.state.clone(),
                    p.since.clone(),
                    p.info.clone(),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push_str(&format!("No IPv{label} peers found.\n"));
        } else {
            out.push_str(&boxed(
                &["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"],
                &[],
                &rows,
            ));
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn peer(addr: &str, ty: &str, info: &str) -> PeerRow {
        PeerRow {
            address: addr.into(),
            peer_type: ty.into(),
            state: "up".into(),
            since: "23:30:04".into(),
            info: info.into(),
        }
    }

    #[test]
    fn calico_example_layout() {
        let out = render(&[peer("172.17.8.102", "node-to-node mesh", "Established")]);
        assert_eq!(
            out,
            "Calico process is running.\n\
             \n\
             IPv4 BGP status\n\
             +--------------+-------------------+-------+----------+-------------+\n\
             | PEER ADDRESS | PEER TYPE         | STATE | SINCE    | INFO        |\n\
             +--------------+-------------------+-------+----------+-------------+\n\
             | 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established |\n\
             +--------------+-------------------+-------+----------+-------------+\n\
             \n\
             IPv6 BGP status\n\
             No IPv6 peers found.\n\
             \n"
        );
    }

    #[test]
    fn help_names_the_status_file_definition() {
        use clap::CommandFactory;
        let mut cmd = crate::cli::Cli::command();
        let status = cmd
            .find_subcommand_mut("node")
            .unwrap()
            .find_subcommand_mut("status")
            .unwrap();
        let help = status.render_long_help().to_string();
        assert!(help.contains(status::DEFAULT_STATUS_FILE), "{help}");
        assert!(help.contains(status::STATUS_FILE_ENV), "{help}");
    }

    #[test]
    fn rows_split_by_family_in_file_order() {
        let out = render(&[
            peer("fd00::2", "global", "Established"),
            peer("10.0.0.9", "node specific", "Idle"),
            peer("not-an-ip", "global", "Connect"),
        ]);
        let v6 = out.split("IPv6 BGP status").nth(1).unwrap();
        assert!(v6.contains("| fd00::2      | global    |"), "{out}");
        assert!(!v6.contains("10.0.0.9"), "{out}");
        let v4 = out.split("IPv6 BGP status").next().unwrap();
        assert!(v4.contains("| 10.0.0.9     | node specific |"), "{out}");
        assert!(v4.contains("| not-an-ip    | global        |"), "{out}");
    }
}
