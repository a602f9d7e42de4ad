//! The peer table as a JSON file: the one definition of the format the BGP speaker writes and
//! `calicoctl node status` reads (Calico's calicoctl asks BIRD over its control socket instead).
//!
//! ```json
//! {"peers":[{"address":"10.0.0.2","peerType":"node-to-node mesh","state":"up",
//!            "since":"02:10:04","info":"Established"}]}
//! ```
//!
//! - Location: [`status_file_path`]: the path in [`STATUS_FILE_ENV`] when set and not empty,
//!   else [`DEFAULT_STATUS_FILE`].
//! - Written by [`write`] to `PATH.tmp` then renamed, so a reader never sees a partial file.
//! - Read by [`read`], which rejects unknown or missing fields and a peer address that is not
//!   an IP address, naming the file and the offending entry.
//! - A missing file means the speaker is not running ([`StatusError::is_not_found`]).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the speaker writes its peer table unless [`STATUS_FILE_ENV`] says otherwise.
pub const DEFAULT_STATUS_FILE: &str = "/var/run/calico/bgp-status.json";

/// The environment variable naming another status file path.
pub const STATUS_FILE_ENV: &str = "CALICO_BGP_STATUS_FILE";

/// Calico's peer type of a node-to-node mesh peer (BIRD protocol `Mesh_<ip>`).
pub const PEER_TYPE_MESH: &str = "node-to-node mesh";
/// Calico's peer type of a global BGPPeer (BIRD protocol `Global_<ip>`).
pub const PEER_TYPE_GLOBAL: &str = "global";
/// Calico's peer type of a node-specific BGPPeer (BIRD protocol `Node_<ip>`).
pub const PEER_TYPE_NODE: &str = "node specific";

/// The status file's path: [`STATUS_FILE_ENV`] when set and not empty, else
/// [`DEFAULT_STATUS_FILE`].
pub fn status_file_path() -> PathBuf {
    path_from(std::env::var_os(STATUS_FILE_ENV))
}

/// The status file's path from the value of [`STATUS_FILE_ENV`] (`None` when unset).
pub fn path_from(var: Option<std::ffi::OsString>) -> PathBuf {
    match var {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_STATUS_FILE),
    }
}

/// One row of `calicoctl node status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerRow {
    /// The peer's IP address.
    pub address: String,
    /// [`PEER_TYPE_MESH`], [`PEER_TYPE_GLOBAL`] or [`PEER_TYPE_NODE`].
    pub peer_type: String,
    /// BIRD's protocol state column: `up`, `start`, `down`.
    pub state: String,
    /// Wall-clock time (`HH:MM:SS`, UTC) of the last state change.
    pub since: String,
    /// The BGP state and any detail (`Established`, `Active Socket: Connection refused`).
    pub info: String,
}

impl PeerRow {
    /// The peer's address, `None` when it is not an IP address (never for a file [`read`]
    /// accepted).
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Whether the session is up (`Established`).
    pub fn established(&self) -> bool {
        self.info.starts_with("Established")
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusFile {
    pub peers: Vec<PeerRow>,
}

/// The shape [`read`] expects, for error messages.
const EXPECTED: &str = r#"{"peers":[{"address","peerType","state","since","info"}]}"#;

/// A status-file failure.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("unable to read the BGP status file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unable to write the BGP status file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a BGP status file (expected {EXPECTED}): {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: peers[{index}].address {address:?} is not an IP address")]
    Address {
        path: String,
        index: usize,
        address: String,
    },
}

impl StatusError {
    /// The file does not exist (the speaker is not running).
    pub fn is_not_found(&self) -> bool {
        matches!(self, StatusError::Read { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Write atomically (`PATH.tmp`, then rename).
pub fn write(path: &Path, s: &StatusFile) -> Result<(), StatusError> {
    let p = path.display().to_string();
    let text = serde_json::to_vec_pretty(s).map_err(|source| StatusError::Json {
        path: p.clone(),
        source,
    })?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|source| StatusError::Write {
        path: tmp.display().to_string(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| StatusError::Write { path: p, source })
}

/// Read and check the file.
pub fn read(path: &Path) -> Result<StatusFile, StatusError> {
    let p = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| StatusError::Read {
        path: p.clone(),
        source,
    })?;
    let file: StatusFile = serde_json::from_slice(&text).map_err(|source| StatusError::Json {
        path: p.clone(),
        source,
    })?;
    if let Some((index, row)) = file
        .peers
        .iter()
        .enumerate()
        .find(|(_, r)| r.ip().is_none())
    {
        return Err(StatusError::Address {
            path: p,
            index,
            address: row.address.clone(),
        });
    }
    Ok(file)
}

/// `HH:MM:SS` (UTC) of a UNIX time in seconds.
pub fn clock(unix_secs: u64) -> String {
    let d = unix_secs % 86_400;
    format!("{:02}:{:02}:{:02}", d / 3600, d % 3600 / 60, d % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(address: &str, peer_type: &str) -> PeerRow {
        PeerRow {
            address: address.into(),
            peer_type: peer_type.into(),
            state: "up".into(),
            since: clock(1_700_000_000),
            info: "Established".into(),
        }
    }

    #[test]
    fn round_trip_and_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bgp-status.json");
        let s = StatusFile {
            peers: vec![
                row("10.0.0.2", PEER_TYPE_MESH),
                row("fd00::3", PEER_TYPE_GLOBAL),
            ],
        };
        write(&p, &s).expect("write");
        assert_eq!(read(&p).expect("read"), s);
        assert!(!p.with_extension("tmp").exists());
        let text = std::fs::read_to_string(&p).expect("text");
        assert!(
            text.contains("\"peerType\": \"node-to-node mesh\""),
            "{text}"
        );
        assert_eq!(clock(1_700_000_000), "22:13:20");
        assert_eq!(s.peers[1].ip(), Some("fd00::3".parse().expect("ip")));
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bgp-status.json");
        let shown = p.display().to_string();
        for (content, want) in [
            ("{not json", "is not a BGP status file (expected {\"peers\""),
            (r#"{"peers":[{"bogus":1}]}"#, "unknown field `bogus`"),
            (
                r#"{"peers":[{"address":"10.0.0.2","peerType":"global","state":"up"}]}"#,
                "missing field `since`",
            ),
            (
                r#"{"peers":[{"address":"10.0.0.2","peerType":"global","state":"up",
                   "since":"01:02:03","info":"Established"},
                  {"address":"node-2","peerType":"global","state":"up",
                   "since":"01:02:03","info":"Established"}]}"#,
                r#"peers[1].address "node-2" is not an IP address"#,
            ),
        ] {
            std::fs::write(&p, content).expect("write");
            let e = read(&p).expect_err(content).to_string();
            assert!(e.contains(want), "{content}: {e}");
            assert!(e.contains(&shown), "{content}: {e}");
        }
    }

    #[test]
    fn missing_and_unreadable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read(&dir.path().join("absent.json")).expect_err("absent");
        assert!(e.is_not_found(), "{e}");
        let e = read(dir.path()).expect_err("a directory");
        assert!(!e.is_not_found(), "{e}");
        assert!(
            e.to_string()
                .starts_with("unable to read the BGP status file"),
            "{e}"
        );
        let e = write(
            &dir.path().join("no/such/dir/x.json"),
            &StatusFile::default(),
        )
        .expect_err("no parent");
        assert!(
            e.to_string()
                .starts_with("unable to write the BGP status file"),
            "{e}"
        );
    }

    #[test]
    fn path_from_env_or_default() {
        assert_eq!(path_from(None), PathBuf::from(DEFAULT_STATUS_FILE));
        assert_eq!(
            path_from(Some("".into())),
            PathBuf::from(DEFAULT_STATUS_FILE)
        );
        assert_eq!(
            path_from(Some("/tmp/x.json".into())),
            PathBuf::from("/tmp/x.json")
        );
    }
}
