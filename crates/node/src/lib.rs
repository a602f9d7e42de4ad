//! calico-node: the per-node agent (layer 3; the logic lives in these modules so it can be
//! tested without the binary).
//!
//! - [`settings`], [`autodetect`], [`startup`], [`tunnel`]: calico/node's startup (Node
//!   resource, IPv4 autodetection, default pool, VXLAN tunnel address);
//! - [`felix`]: FelixConfiguration `default` + `node.<name>` + `FELIX_*` variables;
//! - [`health`], [`metrics`], [`http`]: `/liveness`, `/readiness` (9099) and `/metrics` (9091);
//! - [`daemon`], [`agent`]: the calc → dataplane loop and what runs around it;
//! - [`bgp`]: the BGP speaker (Calico's BIRD + confd), driven from the same datastore stream;
//! - [`syncer`]: the datastore watch (snapshot → in-sync → changes, re-listing after
//!   compaction or a lost watch) as a sans-IO resync state machine plus its thread.
//!
//! Configuration (environment; the datastore itself is configured as for calicoctl:
//! `calicoctl.cfg`, or `DATASTORE_TYPE`, `ETCD_ENDPOINTS`, `CALICO_DATASTORE_PATH`, ...):
//!
//! | variable | meaning (default) |
//! |---|---|
//! | `NODENAME` | node name (`CALICO_NODENAME_FILE` contents, else `HOSTNAME`, else the host name) |
//! | `CALICO_NODENAME_FILE` | node name file, read and written (`/var/lib/calico/nodename`) |
//! | `IP` | `autodetect`, `none`, an address or CIDR (unset: keep the stored one, else autodetect) |
//! | `IP_AUTODETECTION_METHOD` | `first-found`, `interface=RE,...`, `skip-interface=RE,...`, `can-reach=DEST`, `cidr=CIDR,...` |
//! | `DISABLE_NODE_IP_CHECK` | skip the duplicate-address check against other Nodes (false) |
//! | `CALICO_IPV4POOL_CIDR` | default pool CIDR (`192.168.0.0/16`; `none`: no pool) |
//! | `CALICO_IPV4POOL_BLOCK_SIZE` | (26) |
//! | `CALICO_IPV4POOL_VXLAN` / `CALICO_IPV4POOL_IPIP` | `Always`, `CrossSubnet`, `Never` (Never) |
//! | `CALICO_IPV4POOL_NAT_OUTGOING` | (true) |
//! | `CALICO_IPV4POOL_NODE_SELECTOR` | (all nodes) |
//! | `NO_DEFAULT_POOLS` | `true`: create no pool |
//! | `CLUSTER_TYPE` | entries added to ClusterInformation `clusterType` |
//! | `FELIX_<FIELD>` | any FelixConfiguration field, case-insensitive; wins over `node.<name>` and `default` |
//! | `FELIX_MTUFILEPATH` | where the workload MTU is written for the CNI plugin (`/var/lib/calico/mtu`) |

pub mod agent;
pub mod autodetect;
pub mod bgp;
pub mod daemon;
pub mod dataplane;
pub mod decode;
pub mod felix;
pub mod health;
pub mod http;
pub mod ipip;
pub mod log;
pub mod metrics;
pub mod mtu;
pub mod settings;
pub mod startup;
pub mod syncer;
pub mod tunnel;
