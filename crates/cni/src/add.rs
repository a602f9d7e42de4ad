//! ADD: IPAM, then the dataplane, then the WorkloadEndpoint; any failure undoes, newest
//! first, what this invocation made, and returns the error.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use calico_api::{Namespace, Pod, WorkloadEndpoint};
use ipnet::IpNet;

use crate::context::{Deps, Invocation};
use crate::dataplane::{
    GATEWAY_V4, Networked, NetworkingSpec, Pair, configure_pair, configure_pair_parallel,
    do_networking, host_prefix, remove_veth,
};
use crate::error::{CODE_INVALID_ENV, CniError};
use crate::ipam::IpamRequest;
use crate::result::{CniResult, Interface, IpConfig, RouteEntry};
use crate::wep::{WepInput, build_wep, pod_profiles};

/// Annotation: exact addresses for calico-ipam to assign (JSON list).
pub const ANN_IP_ADDRS: &str = "cni.projectcalico.org/ipAddrs";
/// Annotation: addresses to use without IPAM (needs `feature_control.ip_addrs_no_ipam`).
pub const ANN_IP_ADDRS_NO_IPAM: &str = "cni.projectcalico.org/ipAddrsNoIpam";
/// Annotation: IPv4 pools (names or CIDRs) to allocate from (JSON list).
pub const ANN_IPV4_POOLS: &str = "cni.projectcalico.org/ipv4pools";
/// Annotation: IPv6 pools.
pub const ANN_IPV6_POOLS: &str = "cni.projectcalico.org/ipv6pools";

/// One thing to undo if a later step fails.
#[derive(Debug)]
enum Undo {
    ReleaseIpam(Box<IpamRequest>),
    RemoveVeth(Box<NetworkingSpec>),
    DeleteWep { namespace: String, name: String },
    RestoreWep(Box<WorkloadEndpoint>),
}

fn rollback(deps: &Deps<'_>, undo: Vec<Undo>) {
    for u in undo.into_iter().rev() {
        let res = match &u {
            Undo::ReleaseIpam(req) => deps.ipam.del(req),
            Undo::RemoveVeth(spec) => remove_veth(deps.ops, spec),
            Undo::DeleteWep { namespace, name } => deps
                .store
                .delete_workload_endpoint(namespace, name)
                .map(|_| ()),
            Undo::RestoreWep(w) => deps.store.put_workload_endpoint(w),
        };
        match res {
            Ok(()) => deps.log.info(&format!("rolled back: {u:?}")),
            Err(e) => deps.log.warn(&format!("rollback step {u:?} failed: {e}")),
        }
    }
}

fn json_list(ann: &str, value: &str) -> Result<Vec<String>, CniError> {
    serde_json::from_str::<Vec<String>>(value).map_err(|e| {
        CniError::internal(format!(
            "annotation {ann}: {value:?} is not a JSON list of strings like [\"10.0.0.1\"]"
        ))
        .with_details(e.to_string())
    })
}

/// At most one address per family, as Calico requires.
fn parse_ip_list(ann: &str, value: &str) -> Result<Vec<IpAddr>, CniError> {
    let mut out: Vec<IpAddr> = Vec::new();
    for s in json_list(ann, value)? {
        let ip: IpAddr = s.parse().map_err(|_| {
            CniError::internal(format!("annotation {ann}: {s:?} is not an IP address"))
        })?;
        if out.iter().any(|o| o.is_ipv4() == ip.is_ipv4()) {
            return Err(CniError::internal(format!(
                "annotation {ann}: cannot have more than one IPv{} address",
                if ip.is_ipv4() { 4 } else { 6 }
            )));
        }
        out.push(ip);
    }
    if out.is_empty() {
        return Err(CniError::internal(format!(
            "annotation {ann}: no IP address given"
        )));
    }
    Ok(out)
}

/// The pod and its namespace, when the workload is a Kubernetes pod.
fn k8s_objects(
    deps: &Deps<'_>,
    inv: &Invocation,
) -> Result<(Option<Pod>, Option<Namespace>), CniError> {
    if !inv.ids.is_k8s() {
        return Ok((None, None));
    }
    let pod = deps.store.pod(&inv.ids.namespace, &inv.ids.workload)?;
    if pod.is_none() && inv.conf.policy.policy_type == "k8s" {
        return Err(CniError::internal(format!(
            "pods \"{}\" not found in namespace {}",
            inv.ids.workload, inv.ids.namespace
        )));
    }
    let ns = deps.store.namespace(&inv.ids.namespace)?;
    Ok((pod, ns))
}

/// How the addresses are obtained.
enum Addressing {
    Ipam(Box<IpamRequest>),
    NoIpam(Vec<IpAddr>),
}

fn addressing(
    inv: &Invocation,
    pod: Option<&Pod>,
    ns: Option<&Namespace>,
) -> Result<Addressing, CniError> {
    let mut req = inv.ipam_request();
    let calico_ipam = inv.conf.ipam.ipam_type == "calico-ipam";
    let empty = Default::default();
    let pod_ann = pod.map(|p| &p.metadata.annotations).unwrap_or(&empty);
    let ns_ann = ns.map(|n| &n.metadata.annotations).unwrap_or(&empty);
    if calico_ipam {
        for (key, pools) in [
            (ANN_IPV4_POOLS, &mut req.v4_pools),
            (ANN_IPV6_POOLS, &mut req.v6_pools),
        ] {
            if let Some(v) = pod_ann
                .get(key)
                .or_else(|| ns_ann.get(key))
                .filter(|v| !v.is_empty())
            {
                *pools = json_list(key, v)?;
            }
        }
    }
    let ip_addrs = pod_ann.get(ANN_IP_ADDRS).filter(|v| !v.is_empty());
    let no_ipam = pod_ann.get(ANN_IP_ADDRS_NO_IPAM).filter(|v| !v.is_empty());
    match (ip_addrs, no_ipam) {
        (Some(_), Some(_)) => Err(CniError::internal(
            "can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time",
        )),
        (None, Some(v)) => {
            if !calico_ipam {
                return Err(CniError::internal(format!(
                    "ipAddrsNoIpam is not compatible with configured IPAM: {}",
                    inv.conf.ipam.ipam_type
                )));
            }
            if !inv.conf.feature_control.ip_addrs_no_ipam {
                return Err(CniError::internal(
                    "requested feature is not enabled: ip_addrs_no_ipam",
                ));
            }
            Ok(Addressing::NoIpam(parse_ip_list(ANN_IP_ADDRS_NO_IPAM, v)?))
        }
        (Some(v), None) => {
            if !calico_ipam {
                return Err(CniError::internal(format!(
                    "ipAddrs is not compatible with configured IPAM: {}",
                    inv.conf.ipam.ipam_type
                )));
            }
            req.requested = parse_ip_list(ANN_IP_ADDRS, v)?;
            Ok(Addressing::Ipam(Box::new(req)))
        }
        (None, None) => Ok(Addressing::Ipam(Box::new(req))),
    }
}

/// Routes the pod gets via the gateway: host-local's `ipam.routes` when given (plus the
/// defaults with `include_default_routes`), else 0.0.0.0/0 and ::/0.
fn pod_routes(inv: &Invocation, ips: &[IpNet]) -> Result<Vec<IpNet>, CniError> {
    let defaults: Vec<IpNet> = [("0.0.0.0/0", true), ("::/0", false)]
        .iter()
        .filter(|(_, v4)| ips.iter().any(|i| i.addr().is_ipv4() == *v4))
        .filter_map(|(d, _)| d.parse().ok())
        .collect();
    let mut custom = Vec::new();
    if inv.conf.ipam.ipam_type == "host-local"
        && let Some(routes) = inv.raw.get("ipam").and_then(|i| i.get("routes"))
    {
        let list = routes.as_array().ok_or_else(|| {
            CniError::invalid_config(
                "failed to parse host-local IPAM routes section; expecting list",
            )
        })?;
        for r in list {
            let Some(dst) = r.get("dst") else { continue };
            let dst = dst
                .as_str()
                .and_then(|s| s.parse::<IpNet>().ok())
                .ok_or_else(|| {
                    CniError::invalid_config(format!(
                        "invalid IPAM routes section: dst {dst} is not a CIDR"
                    ))
                })?;
            custom.push(dst.trunc());
        }
    }
    if custom.is_empty() {
        return Ok(defaults);
    }
    if inv.conf.include_default_routes {
        let mut all = defaults;
        all.extend(custom);
        return Ok(all);
    }
    Ok(custom)
}

/// What the workload's networking looks like (without addresses for an early pair).
pub fn networking_spec(
    deps: &Deps<'_>,
    inv: &Invocation,
    netns: &Path,
    ips: Vec<IpNet>,
    routes: Vec<IpNet>,
) -> NetworkingSpec {
    NetworkingSpec {
        host_ns: deps.host_ns.clone(),
        container_ns: netns.into(),
        container_if: inv.env.ifname.clone(),
        host_if: inv.ids.host_veth(),
        mtu: crate::node::determine_mtu(&inv.conf, &deps.mtu_file),
        ips,
        routes,
        allow_ip_forwarding: inv.conf.container_settings.allow_ip_forwarding,
    }
}

/// A veth pair created ahead of IPAM (see [`add_with_early_pair`]).
#[derive(Debug)]
pub struct EarlyPair {
    /// The pair's spec; `ips` and `routes` are filled in later.
    pub spec: NetworkingSpec,
    pub result: PairOutcome,
    /// The thread that created the pair, waiting to configure it; `None`: a new thread
    /// configures it.
    pub configurer: Option<Configurer>,
}

/// How the creation of an early pair went, or where that will be told.
#[derive(Debug)]
pub enum PairOutcome {
    Done(Result<Pair, CniError>),
    /// Still being created on another thread. ADD waits for it only when it needs the pair
    /// (after IPAM), so the datastore work does not wait for the kernel; a creation that has
    /// failed by the time ADD starts stops it before IPAM.
    Pending(std::sync::mpsc::Receiver<Result<Pair, CniError>>),
}

impl From<Result<Pair, CniError>> for PairOutcome {
    fn from(r: Result<Pair, CniError>) -> Self {
        PairOutcome::Done(r)
    }
}

fn stopped() -> CniError {
    CniError::internal("the veth creation thread stopped")
}

impl PairOutcome {
    /// The outcome, waiting for it if need be.
    pub fn wait(&mut self) -> Result<Pair, CniError> {
        let r = match std::mem::replace(self, PairOutcome::Done(Err(stopped()))) {
            PairOutcome::Done(r) => r,
            PairOutcome::Pending(rx) => rx.recv().unwrap_or_else(|_| Err(stopped())),
        };
        *self = PairOutcome::Done(r.clone());
        r
    }

    /// The outcome if it is known already.
    pub fn peek(&mut self) -> Option<Result<Pair, CniError>> {
        let r = match std::mem::replace(self, PairOutcome::Done(Err(stopped()))) {
            PairOutcome::Done(r) => r,
            PairOutcome::Pending(rx) => match rx.try_recv() {
                Ok(r) => r,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    *self = PairOutcome::Pending(rx);
                    return None;
                }
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(stopped()),
            },
        };
        *self = PairOutcome::Done(r.clone());
        Some(r)
    }
}

/// A hand-off of an early pair's configuration to the thread that created the pair: ADD
/// offers the complete spec (with addresses and routes) and writes the endpoint meanwhile;
/// if that thread has not picked the job up by then (a busy machine did not schedule it),
/// ADD takes it back and configures the pair itself rather than wait. Dropping the
/// configurer tells the thread there is nothing to configure.
#[derive(Debug)]
pub struct Configurer {
    shared: std::sync::Arc<Handoff>,
}

#[derive(Debug, Default)]
struct Handoff {
    state: std::sync::Mutex<JobState>,
    cv: std::sync::Condvar,
}

#[derive(Debug, Default)]
enum JobState {
    #[default]
    Idle,
    Offered(Box<NetworkingSpec>),
    Running,
    Finished(Result<Networked, CniError>),
    Closed,
}

impl Handoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, JobState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Configurer {
    /// A configurer and the thread side of it.
    pub fn channel() -> (Self, ConfigurerThread) {
        let shared = std::sync::Arc::new(Handoff::default());
        (
            Configurer {
                shared: shared.clone(),
            },
            ConfigurerThread { shared },
        )
    }

    fn offer(&self, spec: &NetworkingSpec) {
        *self.shared.lock() = JobState::Offered(Box::new(spec.clone()));
        self.shared.cv.notify_all();
    }

    /// The offered spec back, if the thread has not started on it.
    fn take_back(&self) -> Option<NetworkingSpec> {
        let mut st = self.shared.lock();
        match std::mem::take(&mut *st) {
            JobState::Offered(spec) => {
                *st = JobState::Closed;
                drop(st);
                self.shared.cv.notify_all();
                Some(*spec)
            }
            other => {
                *st = other;
                None
            }
        }
    }

    /// The thread's result, waiting for it.
    fn result(&self) -> Result<Networked, CniError> {
        let mut st = self.shared.lock();
        loop {
            match std::mem::take(&mut *st) {
                JobState::Finished(r) => {
                    *st = JobState::Closed;
                    return r;
                }
                JobState::Closed => {
                    return Err(CniError::internal("the networking thread stopped"));
                }
                other => *st = other,
            }
            st = self.shared.cv.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Configurer {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        if matches!(*st, JobState::Idle | JobState::Offered(_)) {
            *st = JobState::Closed;
        }
        drop(st);
        self.shared.cv.notify_all();
    }
}

/// The thread side of a [`Configurer`].
#[derive(Debug)]
pub struct ConfigurerThread {
    shared: std::sync::Arc<Handoff>,
}

impl ConfigurerThread {
    /// The spec to configure, or `None` when there is nothing to do (the ADD ended, or
    /// configured the pair itself).
    pub fn wait(&self) -> Option<NetworkingSpec> {
        let mut st = self.shared.lock();
        loop {
            match std::mem::take(&mut *st) {
                JobState::Offered(spec) => {
                    *st = JobState::Running;
                    return Some(*spec);
                }
                JobState::Closed => {
                    *st = JobState::Closed;
                    return None;
                }
                other => *st = other,
            }
            st = self.shared.cv.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub fn reply(&self, res: Result<Networked, CniError>) {
        let mut st = self.shared.lock();
        if matches!(*st, JobState::Running) {
            *st = JobState::Finished(res);
        }
        drop(st);
        self.shared.cv.notify_all();
    }
}

/// ADD for one invocation.
pub fn add(deps: &Deps<'_>, inv: &Invocation) -> Result<CniResult, CniError> {
    add_with_early_pair(deps, inv, None)
}

/// ADD, with the veth pair possibly created already (by [`create_pair`] on another thread
/// while the datastore opened): the pair is then configured rather than created, and undone
/// like everything else if a later step fails.
pub fn add_with_early_pair(
    deps: &Deps<'_>,
    inv: &Invocation,
    early: Option<EarlyPair>,
) -> Result<CniResult, CniError> {
    let mut undo = Vec::new();
    let mut early = early;
    let out = add_all(deps, inv, early.as_mut(), &mut undo);
    if let Err(e) = &out {
        // Only a pair this invocation made is undone (a failed creation may have hit an
        // interface that belongs to someone else); one still being made is waited for.
        if let Some(early) = &mut early
            && !undo.iter().any(|u| matches!(u, Undo::RemoveVeth(_)))
            && early.result.wait().is_ok()
        {
            undo.insert(0, Undo::RemoveVeth(Box::new(early.spec.clone())));
        }
        deps.log
            .warn(&format!("ADD failed, undoing {} step(s): {e}", undo.len()));
        rollback(deps, undo);
    }
    out
}

fn add_all(
    deps: &Deps<'_>,
    inv: &Invocation,
    mut early: Option<&mut EarlyPair>,
    undo: &mut Vec<Undo>,
) -> Result<CniResult, CniError> {
    let netns = PathBuf::from(&inv.env.netns);
    if !deps.ops.netns_exists(&netns) {
        return Err(CniError::new(
            CODE_INVALID_ENV,
            format!(
                "CNI_NETNS {}: network namespace does not exist",
                inv.env.netns
            ),
        ));
    }
    if let Some(e) = early.as_deref_mut()
        && let Some(Err(err)) = e.result.peek()
    {
        return Err(err);
    }
    deps.store.ready()?;
    deps.log.debug("datastore ready");
    let (pod, ns) = k8s_objects(deps, inv)?;
    let wep_name = inv.ids.wep_name()?;
    let existing = deps
        .store
        .workload_endpoint(&inv.ids.namespace, &wep_name)?;
    let addressing = addressing(inv, pod.as_ref(), ns.as_ref())?;
    deps.log.debug("read pod, namespace and endpoint");
    add_steps(
        deps,
        inv,
        &netns,
        &wep_name,
        pod.as_ref(),
        existing,
        addressing,
        early,
        undo,
    )
}

#[allow(clippy::too_many_arguments)]
fn add_steps(
    deps: &Deps<'_>,
    inv: &Invocation,
    netns: &Path,
    wep_name: &str,
    pod: Option<&Pod>,
    existing: Option<WorkloadEndpoint>,
    addressing: Addressing,
    early: Option<&mut EarlyPair>,
    undo: &mut Vec<Undo>,
) -> Result<CniResult, CniError> {
    let ipam_result = match addressing {
        Addressing::Ipam(req) => {
            let res = deps.ipam.add(&req);
            // Release by handle even when ADD itself failed half-way.
            undo.push(Undo::ReleaseIpam(req));
            res?
        }
        Addressing::NoIpam(ips) => CniResult {
            ips: ips
                .into_iter()
                .map(|ip| IpConfig {
                    address: host_prefix(ip),
                    gateway: None,
                    interface: None,
                })
                .collect(),
            ..CniResult::default()
        },
    };
    deps.log
        .debug(&format!("IPAM assigned {:?}", ipam_result.ips));
    if ipam_result.ips.is_empty() {
        return Err(CniError::internal(
            "IPAM plugin returned no IP addresses in result",
        ));
    }
    let ips: Vec<IpNet> = ipam_result
        .ips
        .iter()
        .map(|i| host_prefix(i.address.addr()))
        .collect();
    let routes = pod_routes(inv, &ips)?;
    let profiles = if inv.ids.is_k8s() && (pod.is_some() || inv.conf.policy.policy_type == "k8s") {
        pod_profiles(&inv.ids.namespace, pod)
    } else {
        vec![inv.conf.name.clone()]
    };
    let wep_undo = match existing {
        Some(old) => Undo::RestoreWep(Box::new(old)),
        None => Undo::DeleteWep {
            namespace: inv.ids.namespace.clone(),
            name: wep_name.into(),
        },
    };
    let wep_for = |host_if: &str, mac: String| {
        build_wep(&WepInput {
            ids: &inv.ids,
            name: wep_name.into(),
            pod,
            profiles: profiles.clone(),
            ips: &ips,
            host_if,
            mac,
        })
    };
    let (spec, net, wep) = match early {
        Some(early) => {
            let pair = early.result.wait()?;
            // Undone last, as if it had been made first (it was, on another thread).
            undo.insert(0, Undo::RemoveVeth(Box::new(early.spec.clone())));
            deps.log.debug("veth pair ready");
            let spec = NetworkingSpec {
                ips: ips.clone(),
                routes,
                ..early.spec.clone()
            };
            let configurer = early.configurer.take();
            // The pair (and so the MAC) exists already: configure it while the endpoint is
            // written.
            let wep = wep_for(&spec.host_if, pair.container_mac.to_string());
            let (net, put) = match configurer {
                Some(c) => {
                    c.offer(&spec);
                    let put = deps.store.put_workload_endpoint(&wep);
                    deps.log.debug("WorkloadEndpoint written");
                    let net = match c.take_back() {
                        Some(spec) => {
                            let net = configure_pair(deps.ops, &spec, &pair);
                            deps.log.debug("veth pair configured (here)");
                            net
                        }
                        None => c.result(),
                    };
                    (net, put)
                }
                None => std::thread::scope(|sc| {
                    let h = sc.spawn(|| {
                        let net = configure_pair_parallel(deps.ops, &spec, &pair);
                        deps.log.debug("veth pair configured");
                        net
                    });
                    let put = deps.store.put_workload_endpoint(&wep);
                    deps.log.debug("WorkloadEndpoint written");
                    let net = h
                        .join()
                        .unwrap_or_else(|_| Err(CniError::internal("networking thread panicked")));
                    (net, put)
                }),
            };
            undo.push(wep_undo);
            let net = net?;
            put?;
            (spec, net, wep)
        }
        None => {
            let spec = networking_spec(deps, inv, netns, ips.clone(), routes);
            let mut created = false;
            let net = do_networking(deps.ops, &spec, &mut || created = true);
            if created {
                undo.push(Undo::RemoveVeth(Box::new(spec.clone())));
            }
            let net = net?;
            deps.log
                .debug(&format!("networking done on {}", net.host_if));
            let wep = wep_for(&net.host_if, net.container_mac.to_string());
            let res = deps.store.put_workload_endpoint(&wep);
            undo.push(wep_undo);
            res?;
            (spec, net, wep)
        }
    };
    deps.log.info(&format!(
        "wrote WorkloadEndpoint {}/{wep_name} with {:?} on {}",
        inv.ids.namespace, wep.spec.ip_networks, net.host_if
    ));

    let mut routes: Vec<RouteEntry> = Vec::new();
    for r in &spec.routes {
        routes.push(RouteEntry {
            dst: *r,
            gw: r.addr().is_ipv4().then_some(IpAddr::V4(GATEWAY_V4)),
        });
    }
    Ok(CniResult {
        interfaces: vec![
            Interface {
                name: net.host_if.clone(),
                ..Interface::default()
            },
            Interface {
                name: inv.env.ifname.clone(),
                mac: Some(net.container_mac.to_string()),
                mtu: spec.mtu,
                sandbox: Some(inv.env.netns.clone()),
            },
        ],
        ips: ips
            .iter()
            .map(|ip| IpConfig {
                address: *ip,
                gateway: None,
                interface: Some(1),
            })
            .collect(),
        routes,
        dns: inv
            .conf
            .other
            .get("dns")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
    })
}
