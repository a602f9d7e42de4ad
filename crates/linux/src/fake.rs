//! [`FakeNet`]: an in-memory [`NetOps`] that models namespaces, links, addresses, routes,
//! neighbours and sysctls, records every call, and fails on demand.
//!
//! Rollback tests run an operation once to count its mutating calls, then run it again
//! failing the 1st, 2nd, ... mutating call ([`FakeNet::fail_mutation`]) and compare
//! [`FakeNet::state`] with the state before.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ipnet::IpNet;

use crate::{
    Link, LinuxError, MacAddr, Neighbour, NetOps, Result, Route, VethPair, VethSpec, sysctl_path,
};

/// One recorded call: the operation, the namespace and a short description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub op: &'static str,
    pub ns: PathBuf,
    pub detail: String,
    /// Whether the call changes state (and so counts for [`FakeNet::fail_mutation`]).
    pub mutating: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeLink {
    pub index: u32,
    pub mac: MacAddr,
    pub mtu: u32,
    pub up: bool,
    pub kind: Option<String>,
    /// For a veth end: the other end's namespace and name.
    pub peer: Option<(PathBuf, String)>,
    pub addresses: Vec<IpNet>,
}

/// Everything the fake kernel holds; compare two of these to check for leftovers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FakeState {
    pub namespaces: BTreeSet<PathBuf>,
    pub links: BTreeMap<(PathBuf, String), FakeLink>,
    pub routes: Vec<(PathBuf, Route)>,
    pub neighbours: Vec<(PathBuf, Neighbour)>,
    pub sysctls: BTreeMap<(PathBuf, String), String>,
}

#[derive(Default)]
struct Inner {
    state: FakeState,
    calls: Vec<Call>,
    mutations: usize,
    fail_mutation: Option<usize>,
    fail_op: Option<&'static str>,
    next_index: u32,
}

/// The fake kernel.
#[derive(Default)]
pub struct FakeNet {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for FakeNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeNet")
    }
}

impl FakeNet {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Make a namespace exist, with `lo`.
    pub fn add_netns(&self, ns: impl AsRef<Path>) {
        let ns = ns.as_ref().to_path_buf();
        let mut i = self.lock();
        i.next_index += 1;
        let index = i.next_index;
        i.state.namespaces.insert(ns.clone());
        i.state.links.insert(
            (ns, "lo".into()),
            FakeLink {
                index,
                mac: MacAddr::default(),
                mtu: 65536,
                up: true,
                kind: None,
                peer: None,
                addresses: vec![],
            },
        );
    }

    /// Remove a namespace and everything in it (veth peers elsewhere die too).
    pub fn remove_netns(&self, ns: impl AsRef<Path>) {
        let ns = ns.as_ref();
        let mut i = self.lock();
        let names: Vec<String> = i
            .state
            .links
            .keys()
            .filter(|(n, _)| n == ns)
            .map(|(_, l)| l.clone())
            .collect();
        for name in names {
            remove_link(&mut i.state, ns, &name);
        }
        i.state.namespaces.remove(ns);
        i.state.sysctls.retain(|(n, _), _| n != ns);
    }

    /// Fail the `n`-th (1-based) mutating call from now on, once.
    pub fn fail_mutation(&self, n: usize) {
        let mut i = self.lock();
        i.mutations = 0;
        i.fail_mutation = Some(n);
    }

    /// Fail every call of operation `op` (e.g. `"add_route"`).
    pub fn fail_op(&self, op: &'static str) {
        self.lock().fail_op = Some(op);
    }

    /// Stop injecting failures.
    pub fn clear_failures(&self) {
        let mut i = self.lock();
        i.fail_mutation = None;
        i.fail_op = None;
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The number of mutating calls so far.
    pub fn mutation_count(&self) -> usize {
        self.lock().calls.iter().filter(|c| c.mutating).count()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// A copy of the whole state.
    pub fn state(&self) -> FakeState {
        self.lock().state.clone()
    }

    /// Set a sysctl's current value without recording a call.
    pub fn preset_sysctl(&self, ns: impl AsRef<Path>, key: &str, value: &str) {
        self.lock()
            .state
            .sysctls
            .insert((ns.as_ref().into(), key.into()), value.into());
    }

    fn record(
        &self,
        op: &'static str,
        ns: &Path,
        detail: String,
        mutating: bool,
    ) -> Result<std::sync::MutexGuard<'_, Inner>> {
        let mut i = self.lock();
        i.calls.push(Call {
            op,
            ns: ns.into(),
            detail: detail.clone(),
            mutating,
        });
        if i.fail_op == Some(op) {
            return Err(LinuxError::Injected(format!("{op} {detail}")));
        }
        if mutating {
            i.mutations += 1;
            if i.fail_mutation == Some(i.mutations) {
                i.fail_mutation = None;
                return Err(LinuxError::Injected(format!("{op} {detail}")));
            }
        }
        if !i.state.namespaces.contains(ns) {
            return Err(LinuxError::NetnsNotFound { path: ns.into() });
        }
        Ok(i)
    }
}

fn remove_link(st: &mut FakeState, ns: &Path, name: &str) -> bool {
    let Some(l) = st.links.remove(&(ns.to_path_buf(), name.to_string())) else {
        return false;
    };
    let drop_refs = |st: &mut FakeState, ns: &Path, name: &str| {
        st.routes.retain(|(n, r)| !(n == ns && r.dev == name));
        st.neighbours.retain(|(n, nb)| !(n == ns && nb.dev == name));
        st.sysctls
            .retain(|(n, k), _| !(n == ns && k.split('/').any(|seg| seg == name)));
    };
    drop_refs(st, ns, name);
    if let Some((pns, pname)) = l.peer {
        st.links.remove(&(pns.clone(), pname.clone()));
        drop_refs(st, &pns, &pname);
    }
    true
}

fn not_found(ns: &Path, name: &str) -> LinuxError {
    LinuxError::LinkNotFound {
        ns: ns.into(),
        name: name.into(),
    }
}

fn exists_err(what: String) -> LinuxError {
    LinuxError::Netlink {
        op: what,
        errno: Some(nix::errno::Errno::EEXIST as i32),
        message: "File exists".into(),
    }
}

fn to_link(name: &str, l: &FakeLink) -> Link {
    Link {
        name: name.into(),
        index: l.index,
        mac: Some(l.mac),
        mtu: Some(l.mtu),
        up: l.up,
        kind: l.kind.clone(),
    }
}

impl NetOps for FakeNet {
    fn netns_exists(&self, ns: &Path) -> bool {
        self.lock().state.namespaces.contains(ns)
    }

    fn create_veth(&self, s: &VethSpec) -> Result<VethPair> {
        let detail = format!(
            "{} <-> {} in {}",
            s.container_if,
            s.host_if,
            s.host_ns.display()
        );
        let mut i = self.record("create_veth", &s.container_ns, detail.clone(), true)?;
        if !i.state.namespaces.contains(&s.host_ns) {
            return Err(LinuxError::NetnsNotFound {
                path: s.host_ns.clone(),
            });
        }
        if s.container_if.len() > 15 || s.host_if.len() > 15 {
            return Err(LinuxError::Netlink {
                op: format!("create veth {detail}"),
                errno: Some(nix::errno::Errno::EINVAL as i32),
                message: "Invalid argument".into(),
            });
        }
        let ckey = (s.container_ns.clone(), s.container_if.clone());
        let hkey = (s.host_ns.clone(), s.host_if.clone());
        if i.state.links.contains_key(&ckey) || i.state.links.contains_key(&hkey) {
            return Err(exists_err(format!("create veth {detail}")));
        }
        i.next_index += 2;
        let (ci, hi) = (i.next_index - 1, i.next_index);
        let cmac =
            s.container_mac
                .unwrap_or(MacAddr([0x0a, 0x58, 0, 0, (ci >> 8) as u8, ci as u8]));
        let mtu = s.mtu.unwrap_or(1500);
        i.state.links.insert(
            ckey,
            FakeLink {
                index: ci,
                mac: cmac,
                mtu,
                up: s.up,
                kind: Some("veth".into()),
                peer: Some(hkey.clone()),
                addresses: vec![],
            },
        );
        i.state.links.insert(
            hkey,
            FakeLink {
                index: hi,
                mac: s
                    .host_mac
                    .unwrap_or(MacAddr([0x0a, 0x59, 0, 0, (hi >> 8) as u8, hi as u8])),
                mtu,
                up: s.up,
                kind: Some("veth".into()),
                peer: Some((s.container_ns.clone(), s.container_if.clone())),
                addresses: vec![],
            },
        );
        Ok(VethPair {
            container_index: ci,
            container_mac: cmac,
            host_index: hi,
        })
    }

    fn link(&self, ns: &Path, name: &str) -> Result<Option<Link>> {
        let i = self.record("link", ns, name.into(), false)?;
        Ok(i.state
            .links
            .get(&(ns.to_path_buf(), name.to_string()))
            .map(|l| to_link(name, l)))
    }

    fn links(&self, ns: &Path) -> Result<Vec<Link>> {
        let i = self.record("links", ns, String::new(), false)?;
        Ok(i.state
            .links
            .iter()
            .filter(|((n, _), _)| n == ns)
            .map(|((_, name), l)| to_link(name, l))
            .collect())
    }

    fn set_link_up(&self, ns: &Path, name: &str) -> Result<()> {
        let mut i = self.record("set_link_up", ns, name.into(), true)?;
        let l = i
            .state
            .links
            .get_mut(&(ns.to_path_buf(), name.to_string()))
            .ok_or_else(|| not_found(ns, name))?;
        l.up = true;
        Ok(())
    }

    fn delete_link(&self, ns: &Path, name: &str) -> Result<bool> {
        let mut i = self.record("delete_link", ns, name.into(), true)?;
        Ok(remove_link(&mut i.state, ns, name))
    }

    fn add_address(&self, ns: &Path, link: &str, addr: IpNet) -> Result<()> {
        let mut i = self.record("add_address", ns, format!("{addr} dev {link}"), true)?;
        let l = i
            .state
            .links
            .get_mut(&(ns.to_path_buf(), link.to_string()))
            .ok_or_else(|| not_found(ns, link))?;
        if l.addresses.contains(&addr) {
            return Err(exists_err(format!("add address {addr} to {link}")));
        }
        l.addresses.push(addr);
        Ok(())
    }

    fn addresses(&self, ns: &Path, link: &str) -> Result<Vec<IpNet>> {
        let i = self.record("addresses", ns, link.into(), false)?;
        i.state
            .links
            .get(&(ns.to_path_buf(), link.to_string()))
            .map(|l| l.addresses.clone())
            .ok_or_else(|| not_found(ns, link))
    }

    fn add_route(&self, ns: &Path, route: &Route) -> Result<()> {
        let mut i = self.record("add_route", ns, route.to_string(), true)?;
        if !i
            .state
            .links
            .contains_key(&(ns.to_path_buf(), route.dev.clone()))
        {
            return Err(not_found(ns, &route.dev));
        }
        if i.state
            .routes
            .iter()
            .any(|(n, r)| n == ns && r.dst == route.dst)
        {
            return Err(exists_err(format!("add route {route}")));
        }
        i.state.routes.push((ns.into(), route.clone()));
        Ok(())
    }

    fn delete_route(&self, ns: &Path, route: &Route) -> Result<bool> {
        let mut i = self.record("delete_route", ns, route.to_string(), true)?;
        let before = i.state.routes.len();
        i.state.routes.retain(|(n, r)| !(n == ns && r == route));
        Ok(i.state.routes.len() != before)
    }

    fn routes(&self, ns: &Path) -> Result<Vec<Route>> {
        let i = self.record("routes", ns, String::new(), false)?;
        Ok(i.state
            .routes
            .iter()
            .filter(|(n, _)| n == ns)
            .map(|(_, r)| r.clone())
            .collect())
    }

    fn add_neighbour(&self, ns: &Path, n: &Neighbour) -> Result<()> {
        let mut i = self.record("add_neighbour", ns, format!("{} dev {}", n.ip, n.dev), true)?;
        if !i
            .state
            .links
            .contains_key(&(ns.to_path_buf(), n.dev.clone()))
        {
            return Err(not_found(ns, &n.dev));
        }
        i.state
            .neighbours
            .retain(|(x, old)| !(x == ns && old.ip == n.ip && old.dev == n.dev));
        i.state.neighbours.push((ns.into(), n.clone()));
        Ok(())
    }

    fn neighbours(&self, ns: &Path, link: &str) -> Result<Vec<Neighbour>> {
        let i = self.record("neighbours", ns, link.into(), false)?;
        Ok(i.state
            .neighbours
            .iter()
            .filter(|(n, nb)| n == ns && nb.dev == link)
            .map(|(_, nb)| nb.clone())
            .collect())
    }

    fn set_sysctl(&self, ns: &Path, key: &str, value: &str) -> Result<()> {
        sysctl_path(key)?;
        let mut i = self.record("set_sysctl", ns, format!("{key}={value}"), true)?;
        // Per-interface keys need the interface to exist, as in /proc/sys.
        let segs: Vec<&str> = key.split('/').collect();
        if let [_, _, "conf" | "neigh", ifname, _] = segs.as_slice()
            && !matches!(*ifname, "all" | "default")
            && !i
                .state
                .links
                .contains_key(&(ns.to_path_buf(), ifname.to_string()))
        {
            return Err(LinuxError::Sysctl {
                key: key.into(),
                source: std::io::Error::from_raw_os_error(nix::errno::Errno::ENOENT as i32),
            });
        }
        i.state
            .sysctls
            .insert((ns.into(), key.into()), value.into());
        Ok(())
    }

    fn sysctl(&self, ns: &Path, key: &str) -> Result<String> {
        let i = self.record("sysctl", ns, key.into(), false)?;
        Ok(i.state
            .sysctls
            .get(&(ns.to_path_buf(), key.to_string()))
            .cloned()
            .unwrap_or_else(|| "0".into()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec() -> VethSpec {
        VethSpec {
            container_ns: "/pod".into(),
            container_if: "eth0".into(),
            host_ns: "/host".into(),
            host_if: "cali1".into(),
            mtu: Some(1400),
            host_mac: Some(MacAddr::CALICO_HOST),
            container_mac: None,
            up: true,
        }
    }

    #[test]
    fn deleting_one_end_removes_the_pair_and_what_hangs_on_it() {
        let f = FakeNet::new();
        f.add_netns("/host");
        f.add_netns("/pod");
        let before = f.state();
        f.create_veth(&spec()).unwrap();
        let host = Path::new("/host");
        f.add_route(host, &Route::link("10.0.0.1/32".parse().unwrap(), "cali1"))
            .unwrap();
        f.set_sysctl(host, "net/ipv4/conf/cali1/proxy_arp", "1")
            .unwrap();
        f.add_address(Path::new("/pod"), "eth0", "10.0.0.1/32".parse().unwrap())
            .unwrap();
        assert!(f.create_veth(&spec()).unwrap_err().is_exists());
        assert!(f.delete_link(Path::new("/pod"), "eth0").unwrap());
        assert_eq!(f.state(), before);
        assert!(!f.delete_link(Path::new("/pod"), "eth0").unwrap());
    }

    #[test]
    fn injected_failures_and_missing_objects() {
        let f = FakeNet::new();
        f.add_netns("/host");
        f.add_netns("/pod");
        f.fail_mutation(2);
        f.create_veth(&spec()).unwrap();
        let e = f
            .set_sysctl(Path::new("/host"), "net/ipv4/conf/cali1/forwarding", "1")
            .unwrap_err();
        assert!(matches!(e, LinuxError::Injected(_)));
        f.set_sysctl(Path::new("/host"), "net/ipv4/conf/cali1/forwarding", "1")
            .unwrap();
        assert!(
            f.set_sysctl(Path::new("/host"), "net/ipv4/conf/nope/forwarding", "1")
                .is_err()
        );
        assert!(matches!(
            f.link(Path::new("/gone"), "x").unwrap_err(),
            LinuxError::NetnsNotFound { .. }
        ));
        f.fail_op("add_route");
        assert!(
            f.add_route(
                Path::new("/host"),
                &Route::link("10.0.0.2/32".parse().unwrap(), "cali1")
            )
            .is_err()
        );
        f.clear_failures();
        f.remove_netns("/pod");
        assert!(
            f.link(Path::new("/host"), "cali1").unwrap().is_none(),
            "the peer dies with the namespace"
        );
        assert_eq!(
            f.calls().iter().filter(|c| c.mutating).count(),
            f.mutation_count()
        );
    }
}
