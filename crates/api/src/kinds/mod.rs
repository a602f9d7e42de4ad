//! One module per resource family. Each type implements [`crate::Kind`].

mod bgp;
mod clusterinfo;
mod duration;
mod felixconfig;
mod hostendpoint;
mod infra_common;
mod ipamconfig;
mod ippool;
mod ipreservation;
mod k8s;
mod kubecontrollers;
mod networkset;
mod node;
mod policy;
mod profile;
mod tier;
mod workloadendpoint;

pub use bgp::*;
pub use clusterinfo::*;
pub use duration::*;
pub use felixconfig::*;
pub use hostendpoint::*;
pub use infra_common::*;
pub use ipamconfig::*;
pub use ippool::*;
pub use ipreservation::*;
pub use k8s::*;
pub use kubecontrollers::*;
pub use networkset::*;
pub use node::*;
pub use policy::*;
pub use profile::*;
pub use tier::*;
pub use workloadendpoint::*;
