//! The Linux dataplane of a workload, as Calico's `dataplane_linux.go` builds it: a veth pair
//! (host end `cali…` with MAC `ee:ee:ee:ee:ee:ee`, no address, proxy ARP; container end
//! renamed to `CNI_IFNAME` with the pod's /32 and /128), a link-scope route to 169.254.1.1
//! and default routes via it in the pod, a /32 (/128) route to the pod on the host, and the
//! sysctls Calico sets. Everything goes through [`NetOps`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use calico_linux::{LinuxError, MacAddr, NetOps, Route, RouteScope, VethSpec};
use ipnet::IpNet;

use crate::error::{CODE_INVALID_ENV, CniError};

/// The gateway every pod's IPv4 default route points at; the host end answers ARP for it.
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);

/// The host end's IPv6 link-local address: EUI-64 of `ee:ee:ee:ee:ee:ee`.
pub const HOST_LINK_LOCAL_V6: Ipv6Addr =
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0xecee, 0xeeff, 0xfeee, 0xeeee);

/// What to build.
#[derive(Clone, Debug)]
pub struct NetworkingSpec {
    pub host_ns: PathBuf,
    pub container_ns: PathBuf,
    pub container_if: String,
    pub host_if: String,
    pub mtu: Option<u32>,
    /// The pod's addresses, already narrowed to /32 and /128.
    pub ips: Vec<IpNet>,
    /// Destinations routed via the gateway inside the pod (default: 0.0.0.0/0, ::/0).
    pub routes: Vec<IpNet>,
    pub allow_ip_forwarding: bool,
}

/// What was built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Networked {
    pub host_if: String,
    pub container_mac: MacAddr,
}

/// A kernel failure during ADD: an internal error naming the step.
pub fn kernel_error(step: &str, e: LinuxError) -> CniError {
    CniError::internal(format!("{step}: {e}"))
}

/// `ip` narrowed to a host prefix (/32 or /128), as Calico does with IPAM results.
pub fn host_prefix(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

fn sysctl(ops: &dyn NetOps, ns: &Path, key: String, value: &str) -> Result<(), CniError> {
    ops.set_sysctl(ns, &key, value).map_err(|e| {
        kernel_error(
            &format!("failed to set {}={value}", key.replace('/', ".")),
            e,
        )
    })
}

/// Several sysctls of one namespace in one go; an error names the one that failed.
fn sysctls(ops: &dyn NetOps, ns: &Path, entries: &[(String, &str)]) -> Result<(), CniError> {
    ops.set_sysctls(ns, entries).map_err(|e| {
        let failed = match &e {
            LinuxError::Sysctl { key, .. } => entries.iter().find(|(k, _)| k == key),
            _ => None,
        };
        match failed {
            Some((key, value)) => kernel_error(
                &format!("failed to set {}={value}", key.replace('/', ".")),
                e,
            ),
            None => kernel_error("failed to set sysctls", e),
        }
    })
}

/// Build the workload's networking. On error the caller deletes the veth (see
/// [`remove_veth`]); nothing else needs undoing, because routes, addresses and per-interface
/// sysctls go with the links.
///
/// `on_created` is called right after the veth pair exists, so the caller can record the undo.
pub fn do_networking(
    ops: &dyn NetOps,
    spec: &NetworkingSpec,
    on_created: &mut dyn FnMut(),
) -> Result<Networked, CniError> {
    let has_v6 = spec.ips.iter().any(|i| i.addr().is_ipv6());
    let pair = create_pair(ops, spec, !has_v6)?;
    on_created();
    configure_pair(ops, spec, &pair)
}

/// A veth pair made by [`create_pair`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub container_mac: MacAddr,
    /// Whether both ends were created up.
    pub up: bool,
    /// The ends' interface indexes, so routes and addresses need no lookup by name (as
    /// Calico keeps the link it looked up once).
    pub container_index: u32,
    pub host_index: u32,
}

/// First half of [`do_networking`]: create the pair (up, unless IPv6 needs DAD switched off
/// first), replacing a stale host link of the same name. Needs no address, so it can run
/// while IPAM works.
pub fn create_pair(ops: &dyn NetOps, spec: &NetworkingSpec, up: bool) -> Result<Pair, CniError> {
    let (host, cont) = (spec.host_ns.as_path(), spec.container_ns.as_path());
    let (hif, cif) = (spec.host_if.as_str(), spec.container_if.as_str());
    let veth = VethSpec {
        container_ns: cont.into(),
        container_if: cif.into(),
        host_ns: host.into(),
        host_if: hif.into(),
        mtu: spec.mtu,
        host_mac: Some(MacAddr::CALICO_HOST),
        container_mac: None,
        up,
    };
    // A host link left over with this name (e.g. an earlier sandbox of the same pod) goes,
    // as in Calico. It is looked for only when the name is taken: the usual ADD makes one
    // request to the kernel here, not three (each link change waits for the kernel's
    // global RTNL lock).
    let made = match ops.create_veth(&veth) {
        Err(e) if e.is_exists() => {
            let stale = ops
                .link(host, hif)
                .map_err(|e| kernel_error(&format!("failed to look up host veth {hif}"), e))?;
            if stale.is_some() {
                ops.delete_link(host, hif).map_err(|e| {
                    kernel_error(&format!("failed to delete old host veth {hif}"), e)
                })?;
                ops.create_veth(&veth)
            } else {
                Err(e)
            }
        }
        other => other,
    };
    let pair = made.map_err(|e| match e.errno() {
        Some(n) if n == nix_eexist() => CniError::new(
            CODE_INVALID_ENV,
            format!("interface {cif:?} already exists in {}", cont.display()),
        ),
        _ => kernel_error(&format!("failed to create veth {cif} / {hif}"), e),
    })?;
    Ok(Pair {
        container_mac: pair.container_mac,
        up,
        container_index: pair.container_index,
        host_index: pair.host_index,
    })
}

/// Second half of [`do_networking`]: addresses, routes and sysctls on a pair from
/// [`create_pair`]: the container end's, then the host end's.
pub fn configure_pair(
    ops: &dyn NetOps,
    spec: &NetworkingSpec,
    pair: &Pair,
) -> Result<Networked, CniError> {
    let go = AtomicBool::new(false);
    container_side(ops, spec, pair, &go).map_err(stopped_is_internal)?;
    host_side(ops, spec, pair, &go).map_err(stopped_is_internal)?;
    Ok(Networked {
        host_if: spec.host_if.clone(),
        container_mac: pair.container_mac,
    })
}

/// [`configure_pair`] with the container end's and the host end's steps run at the same
/// time, on two threads (they touch different namespaces and links). When one side fails
/// the other stops at its next step; the first real failure is returned.
pub fn configure_pair_parallel(
    ops: &dyn NetOps,
    spec: &NetworkingSpec,
    pair: &Pair,
) -> Result<Networked, CniError> {
    let stop = AtomicBool::new(false);
    let (cont, host) = std::thread::scope(|sc| {
        let host = sc.spawn(|| {
            let r = host_side(ops, spec, pair, &stop);
            if r.is_err() {
                stop.store(true, Ordering::SeqCst);
            }
            r
        });
        let cont = container_side(ops, spec, pair, &stop);
        if cont.is_err() {
            stop.store(true, Ordering::SeqCst);
        }
        let host = host.join().unwrap_or_else(|_| {
            Err(Some(CniError::internal(
                "the host-side networking thread panicked",
            )))
        });
        (cont, host)
    });
    match (cont, host) {
        (Ok(()), Ok(())) => Ok(Networked {
            host_if: spec.host_if.clone(),
            container_mac: pair.container_mac,
        }),
        (Err(Some(e)), _) | (_, Err(Some(e))) => Err(e),
        (Err(None), _) | (_, Err(None)) => Err(stopped_is_internal(None)),
    }
}

/// A side's failure: `None` when it stopped because the other side failed.
type SideResult = Result<(), Option<CniError>>;

fn stopped_is_internal(e: Option<CniError>) -> CniError {
    e.unwrap_or_else(|| CniError::internal("networking stopped"))
}

fn go_on(stop: &AtomicBool) -> SideResult {
    if stop.load(Ordering::SeqCst) {
        Err(None)
    } else {
        Ok(())
    }
}

/// The container end: IPv6 sysctls (before the link comes up), up, routes via the gateway,
/// addresses, forwarding.
fn container_side(
    ops: &dyn NetOps,
    spec: &NetworkingSpec,
    pair: &Pair,
    stop: &AtomicBool,
) -> SideResult {
    let has_v4 = spec.ips.iter().any(|i| i.addr().is_ipv4());
    let has_v6 = spec.ips.iter().any(|i| i.addr().is_ipv6());
    let cont = spec.container_ns.as_path();
    let cif = spec.container_if.as_str();
    if has_v6 {
        // DAD delays the address by up to a second on a point-to-point link that cannot
        // have a duplicate (set before the links come up, as Calico does).
        sysctl(ops, cont, format!("net/ipv6/conf/{cif}/accept_dad"), "0")?;
        for c in ["all", "default", "lo"] {
            go_on(stop)?;
            sysctl(ops, cont, format!("net/ipv6/conf/{c}/disable_ipv6"), "0")?;
        }
    }
    if !pair.up {
        go_on(stop)?;
        ops.set_link_up(cont, cif)
            .map_err(|e| kernel_error(&format!("failed to set {cif} up"), e))?;
    }
    if has_v4 {
        go_on(stop)?;
        let gw = IpNet::from(IpAddr::V4(GATEWAY_V4));
        ops.add_route_at(cont, &Route::link(gw, cif), pair.container_index)
            .map_err(|e| kernel_error("failed to add route inside the container", e))?;
        for r in spec.routes.iter().filter(|r| r.addr().is_ipv4()) {
            go_on(stop)?;
            let route = Route::via(*r, IpAddr::V4(GATEWAY_V4), cif);
            ops.add_route_at(cont, &route, pair.container_index)
                .map_err(|e| {
                    kernel_error(
                        &format!("failed to add IPv4 route for {r} via {GATEWAY_V4}"),
                        e,
                    )
                })?;
        }
    }
    if has_v6 {
        for r in spec.routes.iter().filter(|r| r.addr().is_ipv6()) {
            go_on(stop)?;
            let route = Route {
                dst: *r,
                gateway: Some(IpAddr::V6(HOST_LINK_LOCAL_V6)),
                dev: cif.into(),
                scope: RouteScope::Universe,
            };
            ops.add_route_at(cont, &route, pair.container_index)
                .map_err(|e| {
                    kernel_error(
                        &format!("failed to add IPv6 route for {r} via {HOST_LINK_LOCAL_V6}"),
                        e,
                    )
                })?;
        }
    }
    for ip in &spec.ips {
        go_on(stop)?;
        ops.add_address_at(cont, cif, pair.container_index, *ip)
            .map_err(|e| kernel_error(&format!("failed to add IP addr {ip} to {cif}"), e))?;
    }
    let fwd = if spec.allow_ip_forwarding { "1" } else { "0" };
    if has_v4 {
        go_on(stop)?;
        sysctl(ops, cont, "net/ipv4/ip_forward".into(), fwd)?;
    }
    if has_v6 {
        go_on(stop)?;
        sysctl(ops, cont, "net/ipv6/conf/all/forwarding".into(), fwd)?;
    }
    Ok(())
}

/// The host end: IPv6 sysctls (before the link comes up), up, proxy ARP / NDP and
/// forwarding sysctls, the route to each pod address.
fn host_side(
    ops: &dyn NetOps,
    spec: &NetworkingSpec,
    pair: &Pair,
    stop: &AtomicBool,
) -> SideResult {
    let has_v4 = spec.ips.iter().any(|i| i.addr().is_ipv4());
    let has_v6 = spec.ips.iter().any(|i| i.addr().is_ipv6());
    let host = spec.host_ns.as_path();
    let hif = spec.host_if.as_str();
    if has_v6 {
        sysctl(ops, host, format!("net/ipv6/conf/{hif}/accept_dad"), "0")?;
        go_on(stop)?;
        sysctl(ops, host, format!("net/ipv6/conf/{hif}/disable_ipv6"), "0")?;
    }
    if !pair.up {
        go_on(stop)?;
        ops.set_link_up(host, hif)
            .map_err(|e| kernel_error(&format!("failed to set {hif} up"), e))?;
    }
    let mut host_sysctls = Vec::new();
    if has_v4 {
        host_sysctls.extend([
            (format!("net/ipv4/conf/{hif}/route_localnet"), "1"),
            (format!("net/ipv4/neigh/{hif}/proxy_delay"), "0"),
            (format!("net/ipv4/conf/{hif}/proxy_arp"), "1"),
            (format!("net/ipv4/conf/{hif}/forwarding"), "1"),
        ]);
    }
    if has_v6 {
        host_sysctls.extend([
            (format!("net/ipv6/conf/{hif}/proxy_ndp"), "1"),
            (format!("net/ipv6/conf/{hif}/forwarding"), "1"),
        ]);
    }
    go_on(stop)?;
    sysctls(ops, host, &host_sysctls)?;
    // Calico only warns when this one fails (IPv6 may be off on the host).
    let _ = ops.set_sysctl(host, &format!("net/ipv6/conf/{hif}/accept_ra"), "0");

    for ip in &spec.ips {
        go_on(stop)?;
        setup_host_route(ops, host, hif, pair.host_index, *ip)?;
    }
    Ok(())
}

fn nix_eexist() -> i32 {
    17
}

/// `ip/32 dev HOSTIF scope link` on the host; an identical route (programmed by Felix) is
/// fine, one through another interface is an error.
fn setup_host_route(
    ops: &dyn NetOps,
    host: &Path,
    hif: &str,
    index: u32,
    ip: IpNet,
) -> Result<(), CniError> {
    let route = Route::link(ip, hif);
    match ops.add_route_at(host, &route, index) {
        Ok(()) => Ok(()),
        Err(e) if e.is_exists() => {
            let routes = ops
                .routes(host)
                .map_err(|e| kernel_error("error listing routes", e))?;
            if routes
                .iter()
                .any(|r| r.dst == ip && r.dev == hif && r.scope == RouteScope::Link)
            {
                return Ok(());
            }
            let other = routes
                .iter()
                .find(|r| r.dst == ip)
                .map(|r| format!("route ({r})"))
                .unwrap_or_else(|| "unknown".into());
            Err(CniError::internal(format!(
                "route ({route}) already exists for an interface other than '{hif}': {other}"
            )))
        }
        Err(e) => Err(kernel_error(&format!("failed to add route ({route})"), e)),
    }
}

/// Remove a veth pair made by [`do_networking`] (rollback): through the container end when
/// the namespace is still there, else through the host end.
pub fn remove_veth(ops: &dyn NetOps, spec: &NetworkingSpec) -> Result<(), CniError> {
    if ops.netns_exists(&spec.container_ns) {
        ops.delete_link(&spec.container_ns, &spec.container_if)
            .map_err(|e| kernel_error("failed to delete the container veth", e))?;
    }
    ops.delete_link(&spec.host_ns, &spec.host_if)
        .map_err(|e| kernel_error("failed to delete the host veth", e))?;
    Ok(())
}

/// DEL: delete `ifname` in the pod's namespace; a missing namespace or link is fine.
pub fn clean_up_namespace(ops: &dyn NetOps, netns: &str, ifname: &str) -> Result<(), CniError> {
    if netns.is_empty() || !ops.netns_exists(Path::new(netns)) {
        return Ok(());
    }
    match ops.delete_link(Path::new(netns), ifname) {
        Ok(_) => Ok(()),
        Err(LinuxError::NetnsNotFound { .. }) => Ok(()),
        Err(e) => Err(kernel_error(
            "failed to clean up workload's veth inside netns",
            e,
        )),
    }
}

/// CHECK: what is missing from a workload's networking (empty when all is there).
pub fn check_networking(ops: &dyn NetOps, spec: &NetworkingSpec) -> Vec<String> {
    let mut missing = Vec::new();
    let (host, cont) = (spec.host_ns.as_path(), spec.container_ns.as_path());
    let (hif, cif) = (spec.host_if.as_str(), spec.container_if.as_str());
    match ops.link(cont, cif) {
        Ok(Some(_)) => {
            match ops.addresses(cont, cif) {
                Ok(addrs) => {
                    for ip in &spec.ips {
                        if !addrs.contains(ip) {
                            missing.push(format!("address {ip} on {cif}"));
                        }
                    }
                }
                Err(e) => missing.push(format!("addresses of {cif}: {e}")),
            }
            let routes = ops.routes(cont).unwrap_or_default();
            if spec.ips.iter().any(|i| i.addr().is_ipv4()) {
                let gw = Route::link(IpNet::from(IpAddr::V4(GATEWAY_V4)), cif);
                if !routes.contains(&gw) {
                    missing.push(format!("route {gw} in the container"));
                }
                for r in spec.routes.iter().filter(|r| r.addr().is_ipv4()) {
                    let want = Route::via(*r, IpAddr::V4(GATEWAY_V4), cif);
                    if !routes.contains(&want) {
                        missing.push(format!("route {want} in the container"));
                    }
                }
            }
        }
        Ok(None) => missing.push(format!("interface {cif} in {}", cont.display())),
        Err(e) => missing.push(format!("interface {cif}: {e}")),
    }
    match ops.link(host, hif) {
        Ok(Some(_)) => {
            let routes = ops.routes(host).unwrap_or_default();
            for ip in &spec.ips {
                let want = Route::link(*ip, hif);
                if !routes.contains(&want) {
                    missing.push(format!("host route {want}"));
                }
            }
        }
        Ok(None) => missing.push(format!("host interface {hif}")),
        Err(e) => missing.push(format!("host interface {hif}: {e}")),
    }
    missing
}
