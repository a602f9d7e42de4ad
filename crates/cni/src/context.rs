//! What every plugin command shares: the injected dependencies ([`Deps`]) and the facts
//! derived from the configuration and environment ([`Invocation`]).

use std::net::IpAddr;
use std::path::PathBuf;

use crate::env::{CniArgs, CniEnv};
use crate::error::CniError;
use crate::ipam::{Ipam, IpamRequest};
use crate::log::Logger;
use crate::names::{WorkloadIds, handle_id};
use crate::netconf::{NetConf, Parsed};
use crate::node::determine_nodename;
use crate::store::Store;
use calico_linux::NetOps;

/// The side-effecting parts, injected so tests can swap in fakes.
pub struct Deps<'a> {
    pub ops: &'a dyn NetOps,
    pub store: &'a dyn Store,
    pub ipam: &'a dyn Ipam,
    /// The host's (node's) network namespace: `/proc/self/ns/net` in the binaries.
    pub host_ns: PathBuf,
    /// Felix's MTU file (`/var/lib/calico/mtu`).
    pub mtu_file: PathBuf,
    pub log: &'a Logger,
}

/// One invocation's configuration, environment and derived identities.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub conf: NetConf,
    pub raw: serde_json::Value,
    pub env: CniEnv,
    pub args: CniArgs,
    pub ids: WorkloadIds,
}

impl Invocation {
    /// Validate the configuration and work out who the workload is.
    pub fn new(parsed: &Parsed, env: &CniEnv) -> Result<Self, CniError> {
        parsed.conf.validate()?;
        let args = CniArgs::parse(&env.args)?;
        let node = determine_nodename(&parsed.conf)?;
        let ids = if args.is_k8s() {
            WorkloadIds {
                node,
                orchestrator: "k8s".into(),
                namespace: args.k8s_pod_namespace.clone(),
                workload: args.k8s_pod_name.clone(),
                container_id: env.container_id.clone(),
                endpoint: env.ifname.clone(),
            }
        } else {
            WorkloadIds {
                node,
                orchestrator: "cni".into(),
                namespace: "default".into(),
                workload: env.container_id.clone(),
                container_id: env.container_id.clone(),
                endpoint: env.ifname.clone(),
            }
        };
        Ok(Invocation {
            conf: parsed.conf.clone(),
            raw: parsed.raw.clone(),
            env: env.clone(),
            args,
            ids,
        })
    }

    pub fn handle(&self) -> String {
        handle_id(&self.conf.name, &self.env.container_id)
    }

    /// The IPAM request for this workload (no pools or addresses requested yet).
    pub fn ipam_request(&self) -> IpamRequest {
        IpamRequest {
            handle: self.handle(),
            node: self.ids.node.clone(),
            pod: self
                .ids
                .is_k8s()
                .then(|| (self.ids.namespace.clone(), self.ids.workload.clone())),
            want_v4: self.conf.ipam.want_v4(),
            want_v6: self.conf.ipam.want_v6(),
            v4_pools: self.conf.ipam.ipv4_pools.clone(),
            v6_pools: self.conf.ipam.ipv6_pools.clone(),
            requested: self.args.ip.into_iter().collect::<Vec<IpAddr>>(),
            raw_conf: self.raw.clone(),
            env: self.env.clone(),
        }
    }
}
