//! `node status`: Calico's `calicoctl node status` from the local BGP speaker's peer table.
//!
//! Calico asks BIRD over its control socket (`show protocols`); the calico-rs speaker
//! (`calico-bgp-io`, module `status`) writes its peer table as a JSON file instead:
//!
//! ```json
//! {"peers":[{"address":"10.0.0.2","peerType":"node-to-node mesh","state":"up",
//!            "since":"02:10:04","info":"Established"}]}
//! ```
//!
//! The file is read from [`DEFAULT_STATUS_FILE`], or from the path in the environment variable
//! [`STATUS_FILE_ENV`]. A missing file means the node is not running: the command fails with
//! Calico's `Calico process is not running.`. Otherwise the output is Calico's: `Calico
//! process is running.`, then an `IPv4 BGP status` and an `IPv6 BGP status` section, each a
//! go-pretty table of the peers of that family (or `No IPv<N> peers found.`), then an empty
//! line. Peers are split by the family of their address and keep the file's order.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use serde::Deserialize;

use crate::commands::ipam::table::boxed;
use crate::stdout;

/// Where the speaker writes its peer table unless told otherwise.
pub const DEFAULT_STATUS_FILE: &str = "/var/run/calico/bgp-status.json";

/// The environment variable that overrides [`DEFAULT_STATUS_FILE`].
pub const STATUS_FILE_ENV: &str = "CALICO_BGP_STATUS_FILE";

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

/// The status file's path: [`STATUS_FILE_ENV`] when set and not empty, else the default.
pub fn status_path() -> PathBuf {
    match std::env::var_os(STATUS_FILE_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_STATUS_FILE),
    }
}

fn status() -> Result<()> {
    let peers = read_status(&status_path())?;
    stdout::print(&render(&peers))
}

/// One row of the speaker's peer table (the format of `calico_bgp_io::status::PeerRow`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerRow {
    pub address: String,
    pub peer_type: String,
    pub state: String,
    pub since: String,
    pub info: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusFile {
    peers: Vec<PeerRow>,
}

/// A peer with its address parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub ip: IpAddr,
    pub row: PeerRow,
}

/// Read and check the status file. Missing: [`NOT_RUNNING`]. Unreadable, not JSON of the
/// expected shape, or a peer address that is not an IP address: an error naming the file
/// and what was expected.
pub fn read_status(path: &Path) -> Result<Vec<Peer>> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(anyhow!(NOT_RUNNING)),
        Err(e) => {
            return Err(anyhow!(
                "Error executing command: unable to read the BGP status file {}: {e}",
                path.display()
            ));
        }
    };
    let file: StatusFile = serde_json::from_slice(&text).map_err(|e| {
        anyhow!(
            "Error executing command: {} is not a BGP status file (expected \
             {{\"peers\":[{{\"address\",\"peerType\",\"state\",\"since\",\"info\"}}]}}): {e}",
            path.display()
        )
    })?;
    file.peers
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let ip = row.address.parse::<IpAddr>().map_err(|_| {
                anyhow!(
                    "Error executing command: {}: peers[{i}].address {:?} is not an IP address",
                    path.display(),
                    row.address
                )
            })?;
            Ok(Peer { ip, row })
        })
        .collect()
}

/// Calico's output for a running node with these peers.
pub fn render(peers: &[Peer]) -> String {
    let mut out = String::from("Calico process is running.\n");
    for (label, v6) in [("4", false), ("6", true)] {
        out.push_str(&format!("\nIPv{label} BGP status\n"));
        let rows: Vec<Vec<String>> = peers
            .iter()
            .filter(|p| p.ip.is_ipv6() == v6)
            .map(|p| {
                vec![
                    p.ip.to_string(),
                    p.row.peer_type.clone(),
                    p.row.state.clone(),
                    p.row.since.clone(),
                    p.row.info.clone(),
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

    fn peer(addr: &str, ty: &str, info: &str) -> Peer {
        Peer {
            ip: addr.parse().unwrap(),
            row: PeerRow {
                address: addr.into(),
                peer_type: ty.into(),
                state: "up".into(),
                since: "23:30:04".into(),
                info: info.into(),
            },
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
}
