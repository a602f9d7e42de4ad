//! The kernel adapter of calico-rs (layer 2): network namespaces, veth pairs, links,
//! addresses, routes, neighbours and sysctls.
//!
//! Everything the CNI plugin (and later the agent) does to the kernel goes through the narrow
//! [`NetOps`] trait. [`Kernel`] implements it with rtnetlink; [`FakeNet`] implements it in
//! memory, records every call and can be told to fail at a chosen call, so rollback logic is
//! tested without root.
//!
//! A netlink socket belongs to the network namespace of the thread that creates it, for its
//! whole life, so [`Kernel`] keeps one blocking rtnetlink socket per namespace it touches and
//! uses it from the calling thread. The socket of the caller's own namespace is opened right
//! there; for another namespace a worker thread `setns(2)`s into it, opens the socket and
//! hands it back, and stays to write that namespace's sysctls (`/proc/sys/net/...` shows the
//! namespace of the thread that opens the file). No other thread ever changes namespace.
//!
//! [`NamedNetns`] creates a namespace bound at `/run/netns/NAME` (as `ip netns add` does) and
//! removes it on drop: tests and tools use it for nodes and pods.
//!
//! This crate never decides *what* to configure; that is `calico-cni`'s job.

mod error;
mod fake;
mod kernel;
mod mac;
mod md5;
mod netns;
mod nl;
mod ops;
mod worker;

pub use error::{LinuxError, Result};
pub use fake::{Call, FakeNet};
pub use kernel::Kernel;
pub use mac::MacAddr;
pub use md5::{TCP_MD5SIG_MAXKEYLEN, set_tcp_md5sig};
pub use netns::{NETNS_RUN_DIR, NamedNetns, netns_exists, remove_stale_netns};
pub use ops::{Link, Neighbour, NetOps, Route, RouteScope, VethPair, VethSpec, sysctl_path};
