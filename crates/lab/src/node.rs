//! `calico-lab node stop|start`: stop a node's calico-node (SIGTERM, or SIGKILL with `--kill`,
//! as a crash would) and start it again with the same settings, waiting until it is ready.
//! Its dataplane stays as it was while it is stopped; on start it must resync. With
//! `--encap none` a stopped node's BGP status file is removed (`calicoctl node status` on it
//! says Calico is not running), and `start` also waits until every running node's BGP
//! sessions are established again.

use std::time::Duration;

use crate::bins;
use crate::error::{LabError, Result};
use crate::state::LabDir;
use crate::sys;
use crate::up::{start_calico_node, wait_ready};

/// Stop node `index`'s calico-node; `kill` sends SIGKILL at once.
pub fn stop(name: &str, index: usize, kill: bool) -> Result<String> {
    let dir = LabDir::open(name, true)?;
    let mut st = dir.load()?;
    let node = st.node(index)?.clone();
    let Some(p) = node.calico_node.clone() else {
        return Ok(format!("node {index}: calico-node is not running"));
    };
    let stopped = if kill {
        if sys::alive(&p) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        sys::wait_until(Duration::from_secs(5), Duration::from_millis(10), || {
            !sys::alive(&p)
        })
    } else {
        sys::stop(&p, Duration::from_secs(5))
    };
    if !stopped {
        return Err(LabError::State(format!(
            "node {index}: calico-node (pid {}) did not stop",
            p.pid
        )));
    }
    if let Some(n) = st.nodes.iter_mut().find(|x| x.index == index) {
        n.calico_node = None;
    }
    dir.save(&st)?;
    crate::bgp::remove_status_file(&crate::bgp::status_file(&dir.dir, index))?;
    Ok(format!(
        "node {index}: calico-node (pid {}) {}",
        p.pid,
        if kill { "killed" } else { "stopped" }
    ))
}

/// Start node `index`'s calico-node (when it is not running) and wait until it is ready.
pub fn start(
    name: &str,
    index: usize,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let dir = LabDir::open(name, true)?;
    let mut st = dir.load()?;
    let node = st.node(index)?.clone();
    if let Some(p) = &node.calico_node
        && sys::alive(p)
    {
        return Err(LabError::State(format!(
            "node {index}: calico-node is already running (pid {})",
            p.pid
        )));
    }
    let bin = bins::find("calico-node")?;
    let rec = start_calico_node(&dir, &st, &node, &bin)?;
    progress(&format!(
        "node {index}: calico-node started (pid {})",
        rec.pid
    ));
    if let Some(n) = st.nodes.iter_mut().find(|x| x.index == index) {
        n.calico_node = Some(rec);
    }
    dir.save(&st)?;
    let mut one = st.clone();
    one.nodes.retain(|n| n.index == index);
    wait_ready(&one, timeout, progress)?;
    if st.bgp() {
        crate::bgp::wait_established(&st, &dir.dir, timeout, false, progress)?;
    }
    Ok(())
}
