//! `calico-lab down`, `status`, `env` and `exec`.

use std::process::Command;
use std::time::Duration;

use crate::bins;
use crate::datastore::datastore_env;
use crate::error::{LabError, Result};
use crate::names;
use crate::pod::remove_pod;
use crate::state::{DatastoreState, LabDir, LabState, state_dir};
use crate::sys;

/// How long a process gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Remove everything the state file lists, and the state directory. Idempotent: a lab that
/// does not exist is fine. On a problem the state directory is kept (listing what is left)
/// and the problems are returned together.
pub fn down(name: &str, progress: &mut dyn FnMut(&str)) -> Result<()> {
    names::validate_lab_name(name)?;
    let dir_path = state_dir(name);
    if !dir_path.exists() {
        progress(&format!("lab {name:?} does not exist: nothing to do"));
        return Ok(());
    }
    if !dir_path.join("state.json").exists() {
        std::fs::remove_dir_all(&dir_path)
            .map_err(|e| LabError::io("cannot remove", &dir_path, e))?;
        progress(&format!("removed {} (no state file)", dir_path.display()));
        return Ok(());
    }
    sys::require_root("down")?;
    let dir = LabDir::open(name, true)?;
    let mut st = dir.load()?;
    let mut errors = Vec::new();

    // Pods first, while their nodes and the datastore still run (CNI DEL).
    for pod in st.pods.clone() {
        errors.extend(remove_pod(&dir, &st, &pod, true));
        progress(&format!("pod {} removed", pod.key()));
        st.pods.retain(|p| p.key() != pod.key());
        dir.save(&st)?;
    }
    for node in st.nodes.iter_mut() {
        if let Some(p) = &node.calico_node {
            if sys::stop(p, STOP_GRACE) {
                progress(&format!("node {}: calico-node stopped", node.index));
                node.calico_node = None;
            } else {
                errors.push(format!(
                    "calico-node of node {} (pid {}) did not stop",
                    node.index, p.pid
                ));
            }
        }
    }
    dir.save(&st)?;
    if let Some(p) = &st.etcd {
        if sys::stop(p, STOP_GRACE) {
            progress("etcd stopped");
            st.etcd = None;
        } else {
            errors.push(format!("etcd (pid {}) did not stop", p.pid));
        }
    }
    dir.save(&st)?;
    // Namespaces in reverse order of creation: nodes, then the underlay; anything still
    // running inside them first.
    for ns in st.netns.clone().iter().rev() {
        let left = sys::stop_all_in(ns, STOP_GRACE);
        if !left.is_empty() {
            errors.push(format!("processes {left:?} in {ns} did not stop"));
            continue;
        }
        match sys::delete_netns(ns) {
            Ok(()) => {
                progress(&format!("network namespace {ns} removed"));
                st.netns.retain(|n| n != ns);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    dir.save(&st)?;
    if !errors.is_empty() {
        return Err(LabError::State(format!(
            "lab {name:?} is not fully removed ({} keeps what is left):\n{}",
            dir.dir.display(),
            errors.join("\n")
        )));
    }
    let path = dir.dir.clone();
    drop(dir);
    std::fs::remove_dir_all(&path).map_err(|e| LabError::io("cannot remove", &path, e))?;
    progress(&format!(
        "lab {name:?} is down ({} removed)",
        path.display()
    ));
    Ok(())
}

/// The `status` report.
pub fn status(name: &str) -> Result<String> {
    let dir = LabDir::open(name, false)?;
    let st = dir.load()?;
    let mut out = format!(
        "lab {:?}: {}, pool {}, encapsulation {}, datastore {}\nstate: {}\n\nNODE  NAME      NAMESPACE         ADDRESS        CALICO-NODE\n",
        st.name,
        if st.ready {
            "up"
        } else {
            "NOT READY (up did not finish)"
        },
        st.pool,
        match crate::up::routing_summary(&st).as_str() {
            "VXLAN" => "vxlan".to_string(),
            other => format!("none ({other})"),
        },
        match &st.datastore {
            DatastoreState::Embedded { path } => format!("embedded {}", path.display()),
            DatastoreState::Etcd { endpoints } => format!(
                "etcd {endpoints} ({})",
                match &st.etcd {
                    Some(p) if sys::alive(p) => format!("pid {} running", p.pid),
                    Some(p) => format!("pid {} GONE", p.pid),
                    None => "not started".into(),
                }
            ),
        },
        dir.dir.display()
    );
    for n in &st.nodes {
        let proc = match &n.calico_node {
            Some(p) if sys::alive(p) => {
                let ready = crate::up::node_ready(&n.netns);
                format!(
                    "pid {} running, {}",
                    p.pid,
                    if ready { "ready" } else { "NOT READY" }
                )
            }
            Some(p) => format!("pid {} GONE", p.pid),
            None => "not started".into(),
        };
        out.push_str(&format!(
            "{:<5} {:<9} {:<17} {:<14} {proc}\n",
            n.index, n.name, n.netns, n.ip
        ));
    }
    if st.bgp() {
        out.push_str(&bgp_peers_table(&dir.dir, &st));
    }
    out.push_str("\nPOD        NODE  ADDRESS        SERVES                  SERVERS\n");
    let mut pods = st.pods.clone();
    pods.sort_by_key(|a| a.key());
    for p in &pods {
        let servers = match &p.server {
            Some(s) if sys::alive(s) => format!("pid {} running", s.pid),
            Some(s) => format!("pid {} GONE", s.pid),
            None => "-".into(),
        };
        out.push_str(&format!(
            "{:<10} {:<5} {:<14} {:<23} {servers}\n",
            p.key(),
            p.node,
            if p.ip.is_empty() { "-" } else { &p.ip },
            if p.serve.is_empty() {
                "-".to_string()
            } else {
                p.serve.join(",")
            },
        ));
    }
    Ok(out)
}

/// Each node's BGP peers as its speaker reports them (its status file).
fn bgp_peers_table(dir: &std::path::Path, st: &LabState) -> String {
    let mut out =
        String::from("\nBGP   PEER           TYPE                STATE  SINCE     INFO\n");
    for n in &st.nodes {
        let path = crate::bgp::status_file(dir, n.index);
        match crate::bgp::read_peers(&path) {
            Ok(Some(peers)) if peers.is_empty() => {
                out.push_str(&format!("{:<5} (no peers)\n", n.index));
            }
            Ok(Some(peers)) => {
                for p in peers {
                    out.push_str(&format!(
                        "{:<5} {:<14} {:<19} {:<6} {:<9} {}\n",
                        n.index, p.address, p.peer_type, p.state, p.since, p.info
                    ));
                }
            }
            Ok(None) => out.push_str(&format!(
                "{:<5} (no status file {}: calico-node not running)\n",
                n.index,
                path.display()
            )),
            Err(e) => out.push_str(&format!("{:<5} ({e})\n", n.index)),
        }
    }
    out
}

/// The environment of `exec` and `env`: the datastore variables.
pub fn lab_env(st: &LabState) -> Vec<(String, String)> {
    datastore_env(&st.datastore)
}

/// The `env` output: `export` lines (and, for etcd, how to reach it).
pub fn env(name: &str) -> Result<String> {
    let dir = LabDir::open(name, false)?;
    let st = dir.load()?;
    let mut out = String::new();
    if let DatastoreState::Etcd { endpoints } = &st.datastore {
        out.push_str(&format!(
            "# etcd ({endpoints}) listens on the lab's underlay, reachable only from inside the \
             lab's namespaces:\n# run calicoctl there, e.g. `calico-lab exec --name {name} --node 1 -- calicoctl get nodes`\n"
        ));
    }
    for (k, v) in lab_env(&st) {
        out.push_str(&format!("export {k}={}\n", shell_quote(&v)));
    }
    Ok(out)
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Where `exec` runs.
#[derive(Clone, Debug)]
pub enum ExecTarget {
    Node(usize),
    Pod(String),
}

/// Run `argv` inside a node's (or pod's) namespace with the lab's datastore environment and
/// the lab's binaries first on `PATH` (and, on a node, `CALICO_BGP_STATUS_FILE` naming that
/// node's BGP status file); returns its exit code.
pub fn exec(name: &str, target: &ExecTarget, argv: &[String]) -> Result<i32> {
    let dir = LabDir::open(name, false)?;
    let st = dir.load()?;
    let Some((prog, args)) = argv.split_first() else {
        return Err(LabError::Invalid(
            "exec: give a command after `--`, e.g. `calico-lab exec --node 1 -- calicoctl get nodes`"
                .into(),
        ));
    };
    // A node's command also sees that node's BGP status file (`calicoctl node status`).
    let mut extra = Vec::new();
    let netns = match target {
        ExecTarget::Node(i) => {
            extra.push((
                crate::bgp::STATUS_FILE_ENV.to_string(),
                crate::bgp::status_file(&dir.dir, *i).display().to_string(),
            ));
            st.node(*i)?.netns.clone()
        }
        ExecTarget::Pod(p) => {
            let (ns, pod) = names::parse_pod_ref(p)?;
            st.pod(&ns, &pod)
                .ok_or_else(|| LabError::State(format!("pod {p} is not in lab {name:?}")))?
                .netns
                .clone()
        }
    };
    let mut path: Vec<std::path::PathBuf> = bins::search_dirs();
    if let Some(p) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&p));
    }
    let path = std::env::join_paths(path)
        .map_err(|e| LabError::State(format!("cannot build PATH: {e}")))?;
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &netns])
        .arg(prog)
        .args(args)
        .env("PATH", path);
    for (k, v) in lab_env(&st).into_iter().chain(extra) {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .map_err(|e| LabError::Missing(format!("cannot run ip netns exec: {e}")))?;
    Ok(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("/run/calico-lab/x/calico.db"),
            "/run/calico-lab/x/calico.db"
        );
        assert_eq!(shell_quote("a b'c"), "'a b'\\''c'");
    }
}
