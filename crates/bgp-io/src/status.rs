//! The peer table as a JSON file (`calicoctl node status` reads it instead of BIRD's socket).
//!
//! ```json
//! {"peers":[{"address":"10.0.0.2","peerType":"node-to-node mesh","state":"up",
//!            "since":"02:10:04","info":"Established"}]}
//! ```
//! Written to `PATH.tmp` then renamed, so a reader never sees a partial file.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One row of `calicoctl node status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerRow {
    /// The peer's IP address.
    pub address: String,
    /// `node-to-node mesh`, `global` or `node specific`.
    pub peer_type: String,
    /// BIRD's protocol state column: `up`, `start`, `down`.
    pub state: String,
    /// Wall-clock time (`HH:MM:SS`, UTC) of the last state change.
    pub since: String,
    /// The BGP state and any detail (`Established`, `Active Socket: Connection refused`).
    pub info: String,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusFile {
    pub peers: Vec<PeerRow>,
}

/// A status-file failure.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a calico-rs BGP status file: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Write atomically.
pub fn write(path: &Path, s: &StatusFile) -> Result<(), StatusError> {
    let p = path.display().to_string();
    let text = serde_json::to_vec_pretty(s).map_err(|source| StatusError::Json {
        path: p.clone(),
        source,
    })?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|source| StatusError::Io {
        path: tmp.display().to_string(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| StatusError::Io { path: p, source })
}

/// Read the file.
pub fn read(path: &Path) -> Result<StatusFile, StatusError> {
    let p = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| StatusError::Io {
        path: p.clone(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|source| StatusError::Json { path: p, source })
}

/// `HH:MM:SS` (UTC) of a UNIX time in seconds.
pub fn clock(unix_secs: u64) -> String {
    let d = unix_secs % 86_400;
    format!("{:02}:{:02}:{:02}", d / 3600, d % 3600 / 60, d % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bgp-status.json");
        let s = StatusFile {
            peers: vec![PeerRow {
                address: "10.0.0.2".into(),
                peer_type: "node-to-node mesh".into(),
                state: "up".into(),
                since: clock(1_700_000_000),
                info: "Established".into(),
            }],
        };
        write(&p, &s).expect("write");
        assert_eq!(read(&p).expect("read"), s);
        let text = std::fs::read_to_string(&p).expect("text");
        assert!(
            text.contains("\"peerType\": \"node-to-node mesh\""),
            "{text}"
        );
        assert_eq!(clock(1_700_000_000), "22:13:20");
        std::fs::write(&p, "{\"peers\":[{\"bogus\":1}]}").expect("write");
        let e = read(&p).expect_err("bad file");
        assert!(
            e.to_string().contains("not a calico-rs BGP status file"),
            "{e}"
        );
    }
}
