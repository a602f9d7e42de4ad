//! Calico's BGP topology (layer 1, pure): what confd computes from the datastore for BIRD,
//! here computed for calico-rs' own speaker.
//!
//! - [`topology`]: [`topology::Inputs`] (BGPConfiguration, Nodes, BGPPeers, IP pools, IPAM
//!   blocks, local workload addresses) → [`topology::Plan`] (local AS, router ID, cluster ID,
//!   listen port, the peers with their `calicoctl node status` types, the prefixes to
//!   advertise and the per-pool routing for learned routes).
//! - [`policy`]: BGPFilter import/export rules and Calico's default export filter (only pool
//!   routes, never from disabled or `disableBGPExport` pools, communities from
//!   `prefixAdvertisements`) as a `calico_bgp::export::RoutePolicy`.

pub mod policy;
pub mod topology;
