//! CHECK: the workload's interface, addresses and routes are all there (and its addresses
//! still allocated); otherwise an error listing everything missing.

use std::path::PathBuf;

use ipnet::IpNet;

use crate::context::{Deps, Invocation};
use crate::dataplane::{NetworkingSpec, check_networking, host_prefix};
use crate::error::{CODE_INVALID_ENV, CniError};
use crate::result::CniResult;

pub fn check(deps: &Deps<'_>, inv: &Invocation) -> Result<(), CniError> {
    if !deps.ops.netns_exists(&PathBuf::from(&inv.env.netns)) {
        return Err(CniError::new(
            CODE_INVALID_ENV,
            format!(
                "CNI_NETNS {}: network namespace does not exist",
                inv.env.netns
            ),
        ));
    }
    deps.store.ready()?;
    let name = inv.ids.wep_name()?;
    let wep = deps.store.workload_endpoint(&inv.ids.namespace, &name)?;
    // The addresses: from prevResult when the runtime passes it, else from the endpoint.
    let mut ips: Vec<IpNet> = Vec::new();
    if let Some(prev) = &inv.conf.prev_result {
        ips = CniResult::from_json(prev)?
            .ips
            .iter()
            .map(|i| host_prefix(i.address.addr()))
            .collect();
    }
    let mut missing = Vec::new();
    match &wep {
        Some(w) => {
            if ips.is_empty() {
                ips = w
                    .spec
                    .ip_networks
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .collect();
            }
            if w.spec.container_id != inv.env.container_id {
                missing.push(format!(
                    "WorkloadEndpoint {name} belongs to container {:?}",
                    w.spec.container_id
                ));
            }
        }
        None => missing.push(format!("WorkloadEndpoint {}/{name}", inv.ids.namespace)),
    }
    let routes = ["0.0.0.0/0", "::/0"]
        .iter()
        .filter_map(|d| d.parse::<IpNet>().ok())
        .filter(|d| ips.iter().any(|i| i.addr().is_ipv4() == d.addr().is_ipv4()))
        .collect();
    let spec = NetworkingSpec {
        host_ns: deps.host_ns.clone(),
        container_ns: PathBuf::from(&inv.env.netns),
        container_if: inv.env.ifname.clone(),
        host_if: wep
            .as_ref()
            .map(|w| w.spec.interface_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| inv.ids.host_veth()),
        mtu: None,
        ips,
        routes,
        allow_ip_forwarding: false,
    };
    missing.extend(check_networking(deps.ops, &spec));
    if let Err(e) = deps.ipam.check(&inv.ipam_request()) {
        missing.push(format!("IPAM: {e}"));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CniError::internal(format!(
            "CHECK failed: missing {}",
            missing.join("; ")
        )))
    }
}
