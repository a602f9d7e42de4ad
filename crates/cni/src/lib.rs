//! The logic of the `calico` and `calico-ipam` CNI plugins (layer 2).
//!
//! A drop-in for Project Calico's plugins: the same binary names, network configuration
//! fields ([`netconf`]), host interface names (`cali` + 11 hex of SHA1(`ns.pod`),
//! [`names`]), MACs, routes and sysctls ([`dataplane`]), WorkloadEndpoints ([`wep`]) and
//! IPAM handles ([`calico_ipam`]). CNI spec 1.1.0 with every command (ADD, DEL, CHECK,
//! VERSION, STATUS, GC); configurations may declare 0.1.0 to 1.1.0 and get results in that
//! version's layout ([`result`], [`version`]).
//!
//! Flow: [`plugin::run`] parses the environment ([`env`]) and stdin ([`netconf`]), connects
//! the datastore the configuration names ([`store`]), picks the IPAM ([`ipam`]: calico-ipam
//! in process, anything else, e.g. Debian's `host-local`, executed from `CNI_PATH`) and runs
//! [`add`], [`del`], [`check`] or the IPAM plugin's commands ([`ipam_plugin`]).
//!
//! ADD keeps an undo log: when a step fails after an address was assigned, a link made or an
//! endpoint written, everything is undone newest first and the CNI error is returned.
//! Kernel access goes through `calico_linux::NetOps`, the datastore through [`store::Store`]
//! and IPAM through [`ipam::Ipam`], so the rollback paths are tested with fakes.
//!
//! This crate never prints and never exits: the binaries in `calico-cni-plugin` do.

pub mod add;
pub mod calico_ipam;
pub mod check;
pub mod context;
pub mod dataplane;
pub mod del;
pub mod env;
pub mod error;
pub mod ipam;
pub mod ipam_plugin;
pub mod log;
pub mod names;
pub mod netconf;
pub mod node;
pub mod plugin;
pub mod result;
pub mod store;
pub mod version;
pub mod wep;

pub use error::CniError;
pub use netconf::parse_netconf;
pub use plugin::{Host, Output, Plugin, run};
