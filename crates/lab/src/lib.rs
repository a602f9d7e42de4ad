//! calico-lab: a multi-node Calico cluster built from network namespaces on one machine.
//!
//! ```text
//! root namespace (never changed)
//!   cl-<lab>-ul     underlay: bridge br0 172.18.0.1/24, etcd (--datastore etcd)
//!     ├─ veth n1 ── cl-<lab>-n1   node1: eth0 172.18.0.11/24, calico-node (VXLAN, nftables)
//!     │                ├─ cali… ── cl-<lab>-p-x-a   pod x/a: eth0, `calico-lab serve`
//!     │                └─ …
//!     └─ veth n2 ── cl-<lab>-n2   node2: eth0 172.18.0.12/24, calico-node
//! ```
//!
//! The lab runs the real programs: `calico-node` in each node namespace, the `calico` CNI
//! plugin (run inside the node namespace as a runtime on that node would) for each pod, and
//! `calicoctl` through `exec`. What it made is recorded in a state directory
//! ([`state`]) before it is made, so `down` removes exactly that.
//!
//! ```text
//! calico-lab up --nodes 2                       # --datastore etcd, --pool CIDR
//! calico-lab up --encap none --nodes 3 --route-reflector 1   # BGP instead of VXLAN
//! calico-lab pod add x/a --node 1 --labels pod=a --serve tcp/80,udp/80
//! calico-lab pod add x/b --node 2 --labels pod=b --serve tcp/80,udp/80 --ip 10.244.201.10
//! calico-lab probe                              # TCP/80 truth table; --protocol udp|icmp, --output json
//! calico-lab exec --node 1 -- calicoctl apply -f policy.yaml
//! calico-lab pod label x/b --labels pod=b,role=db
//! calico-lab node stop --node 2 --kill; calico-lab node start --node 2
//! calico-lab exec --node 2 -- calicoctl node status   # node 2's BGP peers (--encap none)
//! calico-lab status; eval "$(calico-lab env)"; calico-lab down
//! ```
//!
//! With `--encap none` the nodes run calico-node's BGP speaker and route each other's pod
//! blocks over the underlay without encapsulation ([`bgp`]): a full mesh, or route reflectors
//! with `--route-reflector`.
//!
//! Modules: [`names`] (pure naming and addressing), [`state`] (state file, lock), [`sys`]
//! (`ip` commands in lab namespaces, threads in a namespace, daemons), [`datastore`], [`up`](mod@up), [`bgp`] (topology, status files),
//! [`pod`], [`node`] (stop/start calico-node), [`probe`](mod@probe) (reachability matrices), [`serve`] (the pods' servers), [`ops`] (down,
//! status, env, exec).

pub mod bgp;
pub mod bins;
pub mod datastore;
pub mod error;
pub mod names;
pub mod node;
pub mod ops;
pub mod pod;
pub mod probe;
pub mod serve;
pub mod state;
pub mod sys;
pub mod up;

pub use error::{LabError, Result};
pub use ops::{ExecTarget, down, env, exec, status};
pub use pod::{PodAddOptions, ServePort, parse_labels, parse_serve};
pub use probe::{Matrix, ProbeOptions, Protocol, Target, probe, probe_lab};
pub use up::{DatastoreKind, Encap, UpOptions, up};
