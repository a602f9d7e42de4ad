//! calico-ipam in process: [`Ipam`] over `calico-client`'s [`ClientIpam`] (the same engine
//! and records the `calico-ipam` binary and `calicoctl ipam` use). Auto-assignment by handle
//! `<network>.<containerID>` with attributes node/pod/namespace/timestamp, exact addresses
//! for `IP` / `ipAddrs`, pools for `ipv4_pools` / `ipv4pools`, release by handle, and GC of
//! handles whose attachment the runtime no longer has.

use std::collections::{BTreeMap, BTreeSet};

use calico_client::ClientError;
use calico_client::ipam_store::{ClientIpam, IpamClientError};
use calico_datastore::DatastoreError;
use calico_ipam::{AssignIpArgs, AutoAssignArgs, IntendedUse, IpamError, StoreError, attrs};

use crate::error::{CODE_IPAM_EXHAUSTED, CODE_TRY_AGAIN_LATER, CniError};
use crate::ipam::{Ipam, IpamRequest};
use crate::result::{CniResult, IpConfig};
use crate::store::client_error;

/// calico-ipam over a datastore.
#[derive(Debug)]
pub struct CalicoIpam {
    ipam: ClientIpam,
}

/// Map an IPAM failure to a CNI error: exhaustion is code 100, an unreachable datastore 11.
pub fn ipam_error(context: &str, e: IpamClientError) -> CniError {
    match e {
        IpamClientError::Client(c) => client_error(context, c),
        IpamClientError::Ipam(IpamError::Exhausted(x)) => {
            CniError::new(CODE_IPAM_EXHAUSTED, format!("{context}: {x}"))
        }
        IpamClientError::Ipam(IpamError::Store(StoreError::Backend(m)))
            if m.starts_with(&DatastoreError::Unavailable(String::new()).to_string()) =>
        {
            CniError::new(
                CODE_TRY_AGAIN_LATER,
                format!("{context}: the datastore is unreachable"),
            )
            .with_details(m)
        }
        other => CniError::internal(format!("{context}: {other}")),
    }
}

fn timestamp() -> String {
    calico_client::now_rfc3339()
}

impl CalicoIpam {
    pub fn new(client: calico_client::Client) -> Self {
        CalicoIpam {
            ipam: ClientIpam::new(client),
        }
    }

    fn attrs(req: &IpamRequest) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        a.insert(attrs::NODE.to_string(), req.node.clone());
        if let Some((ns, pod)) = &req.pod {
            a.insert(attrs::NAMESPACE.to_string(), ns.clone());
            a.insert(attrs::POD.to_string(), pod.clone());
        }
        a.insert(attrs::TIMESTAMP.to_string(), timestamp());
        a
    }

    /// Release the handles `<network>.<containerID>` whose container ID is not in `valid`.
    /// Returns the handles released.
    pub fn gc(&self, network: &str, valid: &BTreeSet<String>) -> Result<Vec<String>, CniError> {
        let prefix = format!("{network}.");
        let snap = self
            .ipam
            .engine()
            .snapshot()
            .map_err(|e| ipam_error("GC: list IPAM handles", e.into()))?;
        let mut released = Vec::new();
        for h in snap.handles {
            let id = &h.value.handle_id;
            let Some(cid) = id.strip_prefix(&prefix) else {
                continue;
            };
            if valid.contains(cid) {
                continue;
            }
            self.ipam
                .release_by_handle(id)
                .map_err(|e| ipam_error(&format!("GC: release handle {id}"), e))?;
            released.push(id.clone());
        }
        Ok(released)
    }

    /// STATUS: the datastore answers and there is at least one pool.
    pub fn status(&self) -> Result<(), CniError> {
        let pools = self
            .ipam
            .pools()
            .map_err(|e| ipam_error("STATUS: list IP pools", e))?;
        if pools.pools.is_empty() {
            return Err(CniError::new(
                crate::error::CODE_PLUGIN_NOT_AVAILABLE,
                "no IP pools are configured",
            ));
        }
        Ok(())
    }
}

impl Ipam for CalicoIpam {
    fn add(&self, req: &IpamRequest) -> Result<CniResult, CniError> {
        let mut out = CniResult::default();
        if !req.requested.is_empty() {
            for ip in &req.requested {
                let a = self
                    .ipam
                    .assign_ip(&AssignIpArgs {
                        address: *ip,
                        handle_id: req.handle.clone(),
                        attrs: Self::attrs(req),
                        hostname: req.node.clone(),
                        intended_use: Some(IntendedUse::Workload),
                    })
                    .map_err(|e| {
                        ipam_error(&format!("failed to assign requested address {ip}"), e)
                    });
                match a {
                    Ok(a) => out.ips.push(IpConfig {
                        address: a.cidr(),
                        gateway: None,
                        interface: None,
                    }),
                    Err(e) => {
                        // Dual stack: what was assigned for the other family goes back.
                        let _ = self.ipam.release_by_handle(&req.handle);
                        return Err(e);
                    }
                }
            }
            return Ok(out);
        }
        let mut args = AutoAssignArgs::new(req.handle.clone(), req.node.clone());
        args.num4 = usize::from(req.want_v4);
        args.num6 = usize::from(req.want_v6);
        args.attrs = Self::attrs(req);
        args.ipv4_pools = req.v4_pools.clone();
        args.ipv6_pools = req.v6_pools.clone();
        let got = self.ipam.auto_assign(args).map_err(|e| match e {
            IpamClientError::NodeNotFound { .. } => {
                CniError::internal(format!("failed to request IPs: {e}"))
            }
            other => ipam_error("failed to request IPs", other),
        });
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                let _ = self.ipam.release_by_handle(&req.handle);
                return Err(e);
            }
        };
        for a in got.ipv4.iter().chain(got.ipv6.iter()) {
            out.ips.push(IpConfig {
                address: a.cidr(),
                gateway: None,
                interface: None,
            });
        }
        Ok(out)
    }

    fn del(&self, req: &IpamRequest) -> Result<(), CniError> {
        self.ipam.release_by_handle(&req.handle).map_err(|e| {
            ipam_error(
                &format!("failed to release addresses of handle {}", req.handle),
                e,
            )
        })?;
        // Calico also releases by the legacy workload ID `<namespace>.<pod>`.
        if let Some((ns, pod)) = &req.pod {
            let legacy = format!("{ns}.{pod}");
            let _ = self.ipam.release_by_handle(&legacy);
        }
        Ok(())
    }

    fn check(&self, req: &IpamRequest) -> Result<(), CniError> {
        let ips = self
            .ipam
            .engine()
            .ips_by_handle(&req.handle)
            .map_err(|e| ipam_error("CHECK: list the handle's addresses", e.into()))?;
        if ips.is_empty() {
            return Err(CniError::internal(format!(
                "handle {} holds no address",
                req.handle
            )));
        }
        Ok(())
    }
}

/// `ClientError` conversions used by callers that build a [`CalicoIpam`].
pub fn connect_error(e: ClientError) -> CniError {
    client_error("connect to the datastore", e)
}
