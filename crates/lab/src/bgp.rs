//! BGP between the nodes (`up --encap none`): each node's calico-node runs calico-rs' BGP
//! speaker (`CALICO_NETWORKING_BACKEND=bird`), which learns the other nodes' blocks and routes
//! them over the underlay without encapsulation.
//!
//! The topology comes from the datastore, as in Calico:
//!
//! - full mesh (default): no BGPConfiguration is written (`nodeToNodeMeshEnabled` defaults
//!   to true, AS 64512); every node peers with every other node.
//! - route reflectors (`--route-reflector 1,2`), as Calico's documentation sets them up:
//!   BGPConfiguration `default` with `nodeToNodeMeshEnabled: false`; each reflector's Node gets
//!   `spec.bgp.routeReflectorClusterID` [`RR_CLUSTER_ID`] and the label `route-reflector=true`
//!   (read-modify-write after that node's calico-node created its Node); and the BGPPeer
//!   [`RR_PEER_NAME`] (`nodeSelector: all()`, `peerSelector: route-reflector == 'true'`).
//!   A reflector peers with every other node, a client only with the reflectors.
//!
//! Each node's speaker writes its peer table to its own status file
//! ([`status_file`], given to calico-node and to `exec --node I` as `CALICO_BGP_STATUS_FILE`),
//! which `calicoctl node status` and the lab's `status` read.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calico_api::{Resource, find_kind};
use calico_client::{Client, ClientError};
use serde_json::json;

use crate::datastore::with_client;
use crate::error::{LabError, Result};
use crate::names;
use crate::state::LabState;

/// The environment variable naming the speaker's status file, and its rows (one
/// definition of the format, in calico-bgp-io).
pub use calico_bgp_io::status::{PeerRow, STATUS_FILE_ENV};
/// The cluster ID given to route reflectors.
pub const RR_CLUSTER_ID: &str = "244.0.0.1";
/// The label that marks a route reflector.
pub const RR_LABEL: (&str, &str) = ("route-reflector", "true");
/// The BGPPeer that makes every node peer with the reflectors.
pub const RR_PEER_NAME: &str = "peer-with-route-reflectors";

/// Node `index`'s BGP status file inside the lab directory `dir`.
pub fn status_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("n{index}")).join("bgp-status.json")
}

/// Read a status file; `None` when it does not exist (no speaker running).
pub fn read_peers(path: &Path) -> Result<Option<Vec<PeerRow>>> {
    match calico_bgp_io::status::read(path) {
        Ok(f) => Ok(Some(f.peers)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(LabError::State(format!("not a BGP status file: {e}"))),
    }
}

/// Remove a status file (calico-node is not running: `calicoctl node status` then says so);
/// a missing one is fine.
pub fn remove_status_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LabError::io("cannot remove", path, e)),
    }
}

/// The nodes (1-based indexes) node `index` has BGP sessions with: every other node in a
/// full mesh (`reflectors` empty); with reflectors, a reflector peers with every other node
/// and a client with the reflectors only.
pub fn expected_peers(nodes: usize, reflectors: &[usize], index: usize) -> Vec<usize> {
    (1..=nodes)
        .filter(|&j| j != index)
        .filter(|j| reflectors.is_empty() || reflectors.contains(&index) || reflectors.contains(j))
        .collect()
}

/// Check `--route-reflector` indexes against `nodes`: 1-based, known, each once.
pub fn check_reflectors(nodes: usize, reflectors: &[usize]) -> Result<()> {
    for (k, &i) in reflectors.iter().enumerate() {
        if i == 0 || i > nodes {
            return Err(LabError::Invalid(format!(
                "--route-reflector {i}: nodes are numbered 1 to {nodes} (as in --node)"
            )));
        }
        if reflectors[..k].contains(&i) {
            return Err(LabError::Invalid(format!(
                "--route-reflector {i}: given twice"
            )));
        }
    }
    Ok(())
}

fn kind(k: &str) -> Result<&'static calico_api::KindInfo> {
    find_kind(k, None).ok_or_else(|| LabError::State(format!("kind {k} unknown to calico-api")))
}

fn resource(v: serde_json::Value) -> Result<Resource> {
    Resource::from_value(v).map_err(|e| LabError::State(format!("cannot build a resource: {e}")))
}

/// The BGPConfiguration and BGPPeer of a route-reflector topology (before any calico-node
/// starts, so the nodes never form a mesh first).
pub fn apply_rr_topology(st: &LabState) -> Result<()> {
    with_client(st, |c| {
        c.apply(resource(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
            "metadata": {"name": "default"},
            "spec": {"nodeToNodeMeshEnabled": false, "asNumber": 64512},
        }))?)?;
        c.apply(resource(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
            "metadata": {"name": RR_PEER_NAME},
            "spec": {"nodeSelector": "all()",
                     "peerSelector": format!("{} == '{}'", RR_LABEL.0, RR_LABEL.1)},
        }))?)?;
        Ok(())
    })
}

/// Make node `index` a route reflector: wait (bounded) until its calico-node's startup wrote
/// its Node with a BGP address, then add the cluster ID and the label (read-modify-write,
/// retried on conflicts).
pub fn mark_reflector(st: &LabState, index: usize, timeout: Duration) -> Result<()> {
    let node = names::node_name(index);
    with_client(st, move |c| {
        let start = Instant::now();
        loop {
            match c.get(kind("Node")?, "", &node) {
                Ok(Resource::Node(n))
                    if n.spec
                        .bgp
                        .as_ref()
                        .is_some_and(|b| !b.ipv4_address.is_empty()) =>
                {
                    break;
                }
                Ok(_) | Err(ClientError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            if start.elapsed() > timeout {
                return Err(LabError::Timeout(format!(
                    "node {index}: calico-node did not write Node {node} with spec.bgp.ipv4Address \
                     within {} s, so it cannot be made a route reflector",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        update_node(c, &node, |n| {
            n.metadata
                .labels
                .insert(RR_LABEL.0.to_string(), RR_LABEL.1.to_string());
            n.spec
                .bgp
                .get_or_insert_with(Default::default)
                .route_reflector_cluster_id = RR_CLUSTER_ID.to_string();
        })
    })
}

fn update_node(c: &Client, node: &str, f: impl Fn(&mut calico_api::Node)) -> Result<()> {
    let mut last = None;
    for _ in 0..16 {
        let Resource::Node(mut n) = c.get(kind("Node")?, "", node)? else {
            return Err(LabError::State(format!(
                "Node {node} read back as another kind"
            )));
        };
        f(&mut n);
        match c.update(Resource::Node(n)) {
            Ok(_) => return Ok(()),
            Err(e @ ClientError::Conflict { .. }) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(LabError::Datastore(format!(
        "Node {node}: kept losing update races: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

/// What a node's peer table lacks: expected peers missing or not Established, and peers that
/// should not be there. Empty when it is as expected.
pub fn peer_problems(want: &[Ipv4Addr], got: Option<&[PeerRow]>) -> Vec<String> {
    let Some(got) = got else {
        return vec!["no status file yet".into()];
    };
    let mut out = Vec::new();
    for w in want {
        let a = w.to_string();
        match got.iter().find(|p| p.address == a) {
            Some(p) if p.established() => {}
            Some(p) => out.push(format!("{a} {} ({})", p.state, p.info)),
            None => out.push(format!("{a} missing")),
        }
    }
    for p in got {
        if !want.iter().any(|w| w.to_string() == p.address) {
            out.push(format!("{} unexpected", p.address));
        }
    }
    out
}

/// Wait (bounded) until every running node's speaker reports exactly its expected peers
/// among the running nodes, each Established. With `exact` false (a node restart, when the
/// datastore may hold peerings the lab did not make, such as an outside route reflector),
/// every peer a node lists must be Established, whichever they are.
pub fn wait_established(
    st: &LabState,
    dir: &Path,
    timeout: Duration,
    exact: bool,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let running: Vec<usize> = st
        .nodes
        .iter()
        .filter(|n| n.calico_node.is_some())
        .map(|n| n.index)
        .collect();
    let start = Instant::now();
    let mut last_note = Instant::now();
    loop {
        let mut problems = Vec::new();
        for &i in &running {
            let want: Vec<Ipv4Addr> = expected_peers(st.nodes.len(), &st.route_reflectors, i)
                .into_iter()
                .filter(|j| running.contains(j))
                .map(names::node_ip)
                .collect();
            let got = read_peers(&status_file(dir, i))?;
            let p = if exact {
                peer_problems(&want, got.as_deref())
            } else {
                match got.as_deref() {
                    None => vec!["no status file yet".into()],
                    Some(rows) => rows
                        .iter()
                        .filter(|r| !r.established())
                        .map(|r| format!("{} {} ({})", r.address, r.state, r.info))
                        .collect(),
                }
            };
            if !p.is_empty() {
                problems.push(format!("node {i}: {}", p.join(", ")));
            }
        }
        if problems.is_empty() {
            progress(&format!(
                "BGP: every session established after {:.1} s",
                start.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(LabError::Timeout(format!(
                "BGP sessions not established within {} s (status files {}):\n{}",
                timeout.as_secs(),
                dir.join("n<I>").join("bgp-status.json").display(),
                problems.join("\n")
            )));
        }
        if last_note.elapsed() > Duration::from_secs(10) {
            progress(&format!("waiting for BGP: {}", problems.join("; ")));
            last_note = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mesh_and_reflector_peers() {
        assert_eq!(expected_peers(3, &[], 1), [2, 3]);
        assert_eq!(expected_peers(3, &[], 2), [1, 3]);
        assert_eq!(expected_peers(1, &[], 1), Vec::<usize>::new());
        // Reflector 1: it peers with everyone, clients with it only.
        assert_eq!(expected_peers(3, &[1], 1), [2, 3]);
        assert_eq!(expected_peers(3, &[1], 2), [1]);
        assert_eq!(expected_peers(3, &[1], 3), [1]);
        // Two reflectors peer with each other and every client.
        assert_eq!(expected_peers(4, &[1, 2], 1), [2, 3, 4]);
        assert_eq!(expected_peers(4, &[1, 2], 4), [1, 2]);
    }

    #[test]
    fn reflector_indexes() {
        check_reflectors(3, &[1, 3]).unwrap();
        let e = check_reflectors(3, &[0]).unwrap_err().to_string();
        assert!(
            e.contains("--route-reflector 0: nodes are numbered 1 to 3"),
            "{e}"
        );
        let e = check_reflectors(3, &[4]).unwrap_err().to_string();
        assert!(e.contains("--route-reflector 4"), "{e}");
        let e = check_reflectors(3, &[2, 2]).unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
    }

    #[test]
    fn status_files() {
        let p = Path::new("/run/calico-lab/x/n2/bgp-status.json");
        assert_eq!(status_file(Path::new("/run/calico-lab/x"), 2), p);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bgp-status.json");
        std::fs::write(
            &f,
            r#"{"peers":[{"address":"172.18.0.11","peerType":"node-to-node mesh","state":"up",
                "since":"05:00:01","info":"Established"},
               {"address":"172.18.0.13","peerType":"node-to-node mesh","state":"start",
                "since":"05:00:01","info":"Active Socket: Connection refused"}]}"#,
        )
        .unwrap();
        let rows = read_peers(&f).unwrap().unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].established() && !rows[1].established());
        let want = [names::node_ip(1), names::node_ip(3)];
        assert_eq!(
            peer_problems(&want, Some(&rows)),
            ["172.18.0.13 start (Active Socket: Connection refused)"]
        );
        assert_eq!(
            peer_problems(&want[..1], Some(&rows[..1])),
            Vec::<String>::new()
        );
        assert_eq!(
            peer_problems(&[], Some(&rows[..1])),
            ["172.18.0.11 unexpected"]
        );
        assert_eq!(peer_problems(&want, None), ["no status file yet"]);
        std::fs::write(&f, "{}").unwrap();
        let e = read_peers(&f).unwrap_err().to_string();
        assert!(e.contains("not a BGP status file"), "{e}");
        assert!(e.contains("bgp-status.json"), "{e}");
        assert_eq!(read_peers(&dir.path().join("none.json")).unwrap(), None);
    }
}
