//! A lab's state directory and state file.
//!
//! ```text
//! /run/calico-lab/<name>/        ($CALICO_LAB_STATE/<name>/ when set)
//!   state.json      what the lab made: namespaces, processes (pid + start time), pods
//!   lock            flock(2) held by every command that changes the lab
//!   calico.db       the embedded datastore (--datastore embedded)
//!   etcd/           etcd's data directory (--datastore etcd)
//!   netconf-node<I>.json  the CNI network configuration of node I's pods (for reference;
//!                   `pod add` builds the same one)
//!   n<I>/bgp-status.json  node I's BGP peer table, written by its calico-node
//!                   (CALICO_BGP_STATUS_FILE; `--encap none`)
//!   logs/           calico-node-<i>.log, etcd.log, cni.log, serve-<ns>-<pod>.log
//! ```
//!
//! Every namespace and process is recorded *before* it is made, so `down` also cleans a lab
//! whose `up` failed half way; `down` removes exactly what the file lists.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// Default root of the state directories.
pub const DEFAULT_STATE_ROOT: &str = "/run/calico-lab";
/// Environment variable overriding [`DEFAULT_STATE_ROOT`].
pub const STATE_ROOT_ENV: &str = "CALICO_LAB_STATE";

/// The state directory of lab `name`.
pub fn state_dir(name: &str) -> PathBuf {
    let root = std::env::var_os(STATE_ROOT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_ROOT));
    root.join(name)
}

/// Which datastore a lab runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DatastoreState {
    /// The embedded store: one file.
    Embedded { path: PathBuf },
    /// Debian's etcd inside the underlay namespace.
    Etcd { endpoints: String },
}

/// A process the lab started (daemonized).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub pid: i32,
    /// Start time in clock ticks since boot (`/proc/PID/stat` field 22), so a reused pid is
    /// never mistaken for ours.
    pub start_time: u64,
    pub log: PathBuf,
}

/// A node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// 1-based.
    pub index: usize,
    pub name: String,
    pub netns: String,
    pub ip: String,
    pub calico_node: Option<ProcessRecord>,
}

/// A pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodState {
    pub namespace: String,
    pub name: String,
    /// 1-based node index.
    pub node: usize,
    pub netns: String,
    pub container_id: String,
    /// The pod's address (empty until the CNI ADD succeeded).
    pub ip: String,
    /// Served ports, `tcp/80`-style.
    pub serve: Vec<String>,
    pub server: Option<ProcessRecord>,
    /// Whether the CNI ADD was attempted (DEL is then due before removing the namespace).
    pub cni_added: bool,
}

impl PodState {
    /// `NS/NAME`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabState {
    pub name: String,
    /// `vxlan`, or `none` (routes between the nodes by BGP).
    pub encap: String,
    /// Route reflector nodes (1-based) in BGP mode; empty: full mesh.
    #[serde(default)]
    pub route_reflectors: Vec<usize>,
    pub pool: String,
    pub datastore: DatastoreState,
    pub underlay_netns: String,
    /// Every network namespace the lab made, in creation order.
    pub netns: Vec<String>,
    pub etcd: Option<ProcessRecord>,
    pub nodes: Vec<NodeState>,
    pub pods: Vec<PodState>,
    /// Whether `up` finished.
    pub ready: bool,
}

impl LabState {
    /// Whether the nodes route pod traffic by BGP (`--encap none`).
    pub fn bgp(&self) -> bool {
        self.encap == "none"
    }

    pub fn node(&self, index: usize) -> Result<&NodeState> {
        self.nodes.iter().find(|n| n.index == index).ok_or_else(|| {
            LabError::Invalid(format!(
                "--node {index}: lab {:?} has nodes 1 to {}",
                self.name,
                self.nodes.len()
            ))
        })
    }

    pub fn pod(&self, ns: &str, name: &str) -> Option<&PodState> {
        self.pods
            .iter()
            .find(|p| p.namespace == ns && p.name == name)
    }

    pub fn pod_mut(&mut self, ns: &str, name: &str) -> Option<&mut PodState> {
        self.pods
            .iter_mut()
            .find(|p| p.namespace == ns && p.name == name)
    }
}

/// An open lab directory, locked for the lifetime of the value when `lock` was asked.
pub struct LabDir {
    pub name: String,
    pub dir: PathBuf,
    _lock: Option<Flock<File>>,
}

impl std::fmt::Debug for LabDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LabDir({})", self.dir.display())
    }
}

fn take_lock(dir: &Path) -> Result<Flock<File>> {
    let path = dir.join("lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LabError::io("cannot open lock file", &path, e))?;
    Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| LabError::Sys {
        what: format!("cannot lock {}", path.display()),
        source: e,
    })
}

impl LabDir {
    /// Create the directory of a new lab (an existing one is an error).
    pub fn create(name: &str) -> Result<LabDir> {
        let dir = state_dir(name);
        if dir.exists() {
            return Err(LabError::State(format!(
                "lab {name:?} already exists ({}): `calico-lab down --name {name}` first",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir.join("logs"))
            .map_err(|e| LabError::io("cannot create state directory", &dir, e))?;
        let lock = take_lock(&dir)?;
        Ok(LabDir {
            name: name.into(),
            dir,
            _lock: Some(lock),
        })
    }

    /// Open an existing lab; `lock` serialises commands that change it.
    pub fn open(name: &str, lock: bool) -> Result<LabDir> {
        let dir = state_dir(name);
        if !dir.join("state.json").exists() {
            return Err(LabError::State(format!(
                "no lab {name:?} ({} has no state.json): `calico-lab up --name {name}` first",
                dir.display()
            )));
        }
        let lock = if lock { Some(take_lock(&dir)?) } else { None };
        Ok(LabDir {
            name: name.into(),
            dir,
            _lock: lock,
        })
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn log(&self, file: &str) -> PathBuf {
        self.dir.join("logs").join(file)
    }

    pub fn load(&self) -> Result<LabState> {
        let p = self.path("state.json");
        let text = std::fs::read_to_string(&p).map_err(|e| LabError::io("cannot read", &p, e))?;
        serde_json::from_str(&text).map_err(|e| {
            LabError::State(format!("{}: not a calico-lab state file: {e}", p.display()))
        })
    }

    /// Write the state atomically (temporary file + rename).
    pub fn save(&self, state: &LabState) -> Result<()> {
        let p = self.path("state.json");
        let tmp = self.path("state.json.tmp");
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| LabError::State(format!("cannot encode the state: {e}")))?;
        let mut f = File::create(&tmp).map_err(|e| LabError::io("cannot write", &tmp, e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(|e| LabError::io("cannot write", &tmp, e))?;
        std::fs::rename(&tmp, &p).map_err(|e| LabError::io("cannot replace", &p, e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trip() {
        let s = LabState {
            name: "t".into(),
            encap: "vxlan".into(),
            route_reflectors: vec![2],
            pool: "10.244.0.0/16".into(),
            datastore: DatastoreState::Etcd {
                endpoints: "http://172.18.0.1:2379".into(),
            },
            underlay_netns: "cl-t-ul".into(),
            netns: vec!["cl-t-ul".into()],
            etcd: Some(ProcessRecord {
                pid: 5,
                start_time: 7,
                log: "/x".into(),
            }),
            nodes: vec![],
            pods: vec![],
            ready: false,
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(
            text.contains(r#""datastore":{"type":"etcd","endpoints""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<LabState>(&text).unwrap(), s);
        // A state file written before route reflectors existed still loads.
        let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
        old.as_object_mut().unwrap().remove("route_reflectors");
        let back: LabState = serde_json::from_value(old).unwrap();
        assert!(back.route_reflectors.is_empty());
    }
}
