//! The lab's datastore: how every component is pointed at it (environment, CNI netconf), a
//! client for the lab itself, and Debian's etcd inside the underlay namespace.
//!
//! etcd listens only on the underlay (`172.18.0.1:2379`), so the lab's own client runs on a
//! thread that has entered the underlay namespace (the etcd backend's runtime threads are
//! created there and inherit it).

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use calico_client::{Client, DatastoreConfig};

use crate::bins;
use crate::error::{LabError, Result};
use crate::names::{ETCD_CLIENT_PORT, UNDERLAY_GATEWAY};
use crate::state::{DatastoreState, LabDir, LabState, ProcessRecord};
use crate::sys;

/// The variables that point calicoctl, calico-node and the lab's client at the datastore.
pub fn datastore_env(ds: &DatastoreState) -> Vec<(String, String)> {
    match ds {
        DatastoreState::Embedded { path } => vec![
            ("DATASTORE_TYPE".into(), "embedded".into()),
            ("CALICO_DATASTORE_PATH".into(), path.display().to_string()),
        ],
        DatastoreState::Etcd { endpoints } => vec![
            ("DATASTORE_TYPE".into(), "etcdv3".into()),
            ("ETCD_ENDPOINTS".into(), endpoints.clone()),
        ],
    }
}

/// The datastore fields of the CNI network configuration.
pub fn netconf_fields(ds: &DatastoreState) -> serde_json::Value {
    match ds {
        DatastoreState::Embedded { path } => serde_json::json!({
            "datastore_type": "embedded",
            "datastore_path": path.display().to_string(),
        }),
        DatastoreState::Etcd { endpoints } => serde_json::json!({
            "datastore_type": "etcdv3",
            "etcd_endpoints": endpoints,
        }),
    }
}

fn config(ds: &DatastoreState) -> Result<DatastoreConfig> {
    let env = datastore_env(ds);
    DatastoreConfig::from_lookup(|k| {
        env.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
    .map_err(LabError::from)
}

/// Run `f` with a client of the lab's datastore (inside the underlay for etcd).
pub fn with_client<T, F>(state: &LabState, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Client) -> Result<T> + Send + 'static,
{
    let cfg = config(&state.datastore)?;
    match &state.datastore {
        DatastoreState::Embedded { .. } => {
            let c = Client::connect(&cfg)?;
            f(&c)
        }
        DatastoreState::Etcd { .. } => {
            sys::in_netns(&sys::netns_path(&state.underlay_netns), move || {
                let c = Client::connect(&cfg)?;
                f(&c)
            })
        }
    }
}

/// etcd's endpoint URL on the underlay.
pub fn etcd_endpoint() -> String {
    format!("http://{UNDERLAY_GATEWAY}:{ETCD_CLIENT_PORT}")
}

/// Start Debian's etcd inside the underlay namespace, data in the state directory; returns
/// once it accepts connections (bounded).
pub fn start_etcd(dir: &LabDir, underlay: &str, wait: Duration) -> Result<ProcessRecord> {
    let etcd = bins::find("etcd")?;
    let data = dir.path("etcd");
    let client = etcd_endpoint();
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", underlay])
        .arg(&etcd)
        .args(["--name", "calico-lab", "--data-dir"])
        .arg(&data)
        .args(["--listen-client-urls", &client])
        .args(["--advertise-client-urls", &client])
        .args(["--listen-peer-urls", "http://127.0.0.1:2380"])
        .args(["--initial-advertise-peer-urls", "http://127.0.0.1:2380"])
        .args(["--initial-cluster", "calico-lab=http://127.0.0.1:2380"])
        .args(["--log-level", "warn"]);
    let rec = sys::spawn_daemon(&mut cmd, &dir.log("etcd.log"))?;
    let addr = SocketAddr::from((UNDERLAY_GATEWAY, ETCD_CLIENT_PORT));
    let probe_rec = rec.clone();
    let up = sys::in_netns(&sys::netns_path(underlay), move || {
        Ok(sys::wait_until(wait, Duration::from_millis(100), || {
            sys::alive(&probe_rec)
                && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        }))
    })?;
    if !up {
        return Err(LabError::Timeout(format!(
            "etcd did not accept connections on {addr} within {} s; see {}",
            wait.as_secs(),
            rec.log.display()
        )));
    }
    Ok(rec)
}

/// The embedded store file of a lab directory.
pub fn embedded_path(dir: &Path) -> std::path::PathBuf {
    dir.join("calico.db")
}
