//! `calicoctl node status`: Calico's output from the BGP speaker's status file
//! (`CALICO_BGP_STATUS_FILE`), and the errors for a missing or malformed file.
//! `UPDATE_GOLDENS=1 cargo test -p calicoctl --test node_status` rewrites the golden files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{BIN, Run, golden};

/// `calicoctl node status` with the status file at `path`.
fn status(path: &Path) -> Run {
    let o = Command::new(BIN)
        .args(["node", "status"])
        .env(calico_bgp_io::status::STATUS_FILE_ENV, path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn file(content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bgp-status.json");
    std::fs::write(&p, content).unwrap();
    (dir, p)
}

/// Mesh, global and node-specific peers of both families, in the speaker's (pretty) format.
const MIXED: &str = r#"{
  "peers": [
    {"address": "172.17.8.102", "peerType": "node-to-node mesh", "state": "up",
     "since": "23:30:04", "info": "Established"},
    {"address": "10.0.0.1", "peerType": "global", "state": "start",
     "since": "23:31:10", "info": "Active Socket: Connection refused"},
    {"address": "fd80:24e2:f998:72d7::2", "peerType": "node-to-node mesh", "state": "up",
     "since": "23:30:05", "info": "Established"},
    {"address": "192.168.100.254", "peerType": "node specific", "state": "down",
     "since": "23:29:59", "info": "Idle"},
    {"address": "2001:db8::1", "peerType": "global", "state": "start",
     "since": "23:32:00", "info": "Connect"}
  ]
}"#;

#[test]
fn mixed_peers_golden() {
    let (_d, p) = file(MIXED);
    let r = status(&p);
    golden("node-status-mixed.txt", r.ok());
    assert!(r.stderr.is_empty(), "{r:#?}");
}

#[test]
fn no_peers() {
    let (_d, p) = file(r#"{"peers":[]}"#);
    assert_eq!(
        status(&p).ok(),
        "Calico process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n\n\
         IPv6 BGP status\nNo IPv6 peers found.\n\n"
    );
}

#[test]
fn only_v6_peers() {
    let (_d, p) = file(
        r#"{"peers":[{"address":"fd00::2","peerType":"node specific","state":"up",
            "since":"01:02:03","info":"Established"}]}"#,
    );
    let out = status(&p).ok().to_string();
    assert!(
        out.starts_with("Calico process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n"),
        "{out}"
    );
    assert!(
        out.contains("| fd00::2      | node specific | up    | 01:02:03 | Established |\n"),
        "{out}"
    );
}

#[test]
fn missing_file_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let r = status(&dir.path().join("absent.json"));
    assert_eq!(r.fails(), "Calico process is not running.\n");
    assert!(r.stdout.is_empty(), "{r:#?}");
}

#[test]
fn malformed_files_are_clear_errors() {
    for (content, want) in [
        ("{not json", "is not a BGP status file"),
        (r#"{"peers":[{"bogus":1}]}"#, "unknown field `bogus`"),
        (
            r#"{"peers":[{"address":"10.0.0.2","peerType":"global","state":"up"}]}"#,
            "missing field `since`",
        ),
        (
            r#"{"peers":[{"address":"node-2","peerType":"global","state":"up",
                "since":"01:02:03","info":"Established"}]}"#,
            r#"peers[0].address "node-2" is not an IP address"#,
        ),
    ] {
        let (_d, p) = file(content);
        let r = status(&p);
        let err = r.fails();
        assert!(err.contains(want), "{content}: {err}");
        assert!(err.contains(&p.display().to_string()), "{content}: {err}");
        assert!(r.stdout.is_empty(), "{r:#?}");
    }
}

#[test]
fn unreadable_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = status(dir.path());
    let err = r.fails();
    assert!(err.contains("unable to read the BGP status file"), "{err}");
}

/// A file written by the speaker's own writer reads back as the same table.
#[test]
fn speaker_written_file() {
    use calico_bgp_io::status::{
        PEER_TYPE_GLOBAL, PEER_TYPE_MESH, PEER_TYPE_NODE, PeerRow, StatusFile, clock, write,
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bgp-status.json");
    let row = |address: &str, peer_type: &str| PeerRow {
        address: address.into(),
        peer_type: peer_type.into(),
        state: "up".into(),
        since: clock(1_700_000_000),
        info: "Established".into(),
    };
    write(
        &p,
        &StatusFile {
            peers: vec![
                row("10.0.0.2", PEER_TYPE_MESH),
                row("fd00::3", PEER_TYPE_GLOBAL),
                row("192.0.2.7", PEER_TYPE_NODE),
            ],
        },
    )
    .unwrap();
    let out = status(&p).ok().to_string();
    assert!(
        out.contains("| 10.0.0.2     | node-to-node mesh | up    | 22:13:20 | Established |\n"),
        "{out}"
    );
    assert!(
        out.contains("| 192.0.2.7    | node specific     | up    | 22:13:20 | Established |\n"),
        "{out}"
    );
    let v6 = out.split("IPv6 BGP status\n").nth(1).unwrap();
    assert!(
        v6.contains("| fd00::3      | global    | up    | 22:13:20 | Established |\n"),
        "{out}"
    );
    assert!(
        !v6.contains("10.0.0.2") && !v6.contains("192.0.2.7"),
        "{out}"
    );
}

/// An empty `CALICO_BGP_STATUS_FILE` means the default path (/var/run/calico/bgp-status.json).
#[test]
fn empty_env_means_default_path() {
    use calico_bgp_io::status::DEFAULT_STATUS_FILE;
    if Path::new(DEFAULT_STATUS_FILE).exists() {
        eprintln!(
            "SKIPPED: {DEFAULT_STATUS_FILE} exists (a node runs here); not checking the default"
        );
        return;
    }
    let r = status(Path::new(""));
    assert_eq!(r.fails(), "Calico process is not running.\n");
}
