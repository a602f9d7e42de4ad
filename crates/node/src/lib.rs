//! calico-node: the per-node agent (layer 3; the logic lives in these modules so it can be
//! tested without the binary).
//!
//! - [`settings`], [`autodetect`], [`startup`], [`tunnel`]: calico/node's startup (Node
//!   resource, IPv4 autodetection, default pool, VXLAN tunnel address);
//! - [`felix`]: FelixConfiguration `default` + `node.<name>` + `FELIX_*` variables;
//! - [`health`], [`metrics`], [`http`]: `/liveness`, `/readiness` (9099) and `/metrics` (9091);
//! - [`syncer`]: the datastore watch (snapshot → in-sync → changes, re-listing after
//!   compaction or a lost watch) as a sans-IO resync state machine plus its thread.

pub mod autodetect;
pub mod daemon;
pub mod dataplane;
pub mod decode;
pub mod felix;
pub mod health;
pub mod http;
pub mod log;
pub mod metrics;
pub mod mtu;
pub mod settings;
pub mod startup;
pub mod syncer;
pub mod tunnel;
