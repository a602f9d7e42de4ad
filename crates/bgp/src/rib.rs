//! Adj-RIB-In, Loc-RIB and the RFC 4271 §9.1 decision process.
//!
//! Paths are stored once, in the Loc-RIB entry of their prefix, tagged with their
//! [`Source`]; a per-source prefix index makes the Adj-RIB-In of each peer (what it sent,
//! after import policy) cheap to walk, mark stale or flush. Every operation is O(1) hash
//! work plus O(k) for the k paths of one prefix, so installing n routes is O(n).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::IpNet;

use crate::wire::{Family, Origin, PathAttributes};

/// Where a path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Originated by this speaker.
    Local,
    /// Learned from the peer with this address.
    Peer(IpAddr),
}

/// One path to a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub source: Source,
    /// Attributes without NEXT_HOP / MP_REACH / MP_UNREACH (shared by the prefixes of one
    /// UPDATE).
    pub attrs: Arc<PathAttributes>,
    /// The next hop; `None` for local paths ("self").
    pub next_hop: Option<IpAddr>,
    /// Learned over eBGP.
    pub ebgp: bool,
    /// The peer's BGP identifier (or ours for local paths).
    pub peer_id: Ipv4Addr,
    /// The peer is a route-reflector client of ours.
    pub from_rr_client: bool,
    /// Kept by graceful restart, waiting for a refresh (RFC 4724).
    pub stale: bool,
}

impl Path {
    fn local_pref(&self) -> u32 {
        self.attrs.local_pref.unwrap_or(100)
    }
    fn as_path_len(&self) -> usize {
        self.attrs.as_path.as_ref().map_or(0, |p| p.len())
    }
    fn origin(&self) -> Origin {
        self.attrs.origin.unwrap_or(Origin::Incomplete)
    }
    fn neighbour_as(&self) -> Option<u32> {
        self.attrs.as_path.as_ref().and_then(|p| p.first_as())
    }
    fn router_id(&self) -> Ipv4Addr {
        self.attrs.originator_id.unwrap_or(self.peer_id)
    }
    fn peer_addr(&self) -> Option<IpAddr> {
        match self.source {
            Source::Local => None,
            Source::Peer(a) => Some(a),
        }
    }
    fn same(&self, o: &Path) -> bool {
        self.source == o.source
            && self.next_hop == o.next_hop
            && (Arc::ptr_eq(&self.attrs, &o.attrs) || self.attrs == o.attrs)
    }
}

/// The RFC 4271 §9.1.2 decision: index of the best path, by elimination.
///
/// Order: local origination, highest LOCAL_PREF (100 when absent), shortest AS_PATH, lowest
/// ORIGIN, lowest MED among paths from the same neighbour AS (absent = 0), eBGP over iBGP,
/// (IGP cost: all equal), lowest router ID (ORIGINATOR_ID when present, RFC 4456), shortest
/// CLUSTER_LIST, lowest peer address.
pub fn best_path(paths: &[Path]) -> Option<usize> {
    if paths.len() <= 1 {
        return if paths.is_empty() { None } else { Some(0) };
    }
    let mut c: Vec<usize> = (0..paths.len()).collect();
    fn keep_min<K: Ord>(c: &mut Vec<usize>, paths: &[Path], key: impl Fn(&Path) -> K) {
        if let Some(m) = c.iter().map(|i| key(&paths[*i])).min() {
            c.retain(|i| key(&paths[*i]) == m);
        }
    }
    keep_min(&mut c, paths, |p| p.source != Source::Local);
    keep_min(&mut c, paths, |p| std::cmp::Reverse(p.local_pref()));
    keep_min(&mut c, paths, Path::as_path_len);
    keep_min(&mut c, paths, Path::origin);
    if c.len() > 1 {
        // MED: only between paths from the same neighbouring AS.
        let mut drop = HashSet::new();
        for &i in &c {
            for &j in &c {
                let (a, b) = (&paths[i], &paths[j]);
                if a.neighbour_as() == b.neighbour_as()
                    && a.attrs.med.unwrap_or(0) > b.attrs.med.unwrap_or(0)
                {
                    drop.insert(i);
                }
            }
        }
        c.retain(|i| !drop.contains(i));
    }
    keep_min(&mut c, paths, |p| !p.ebgp);
    keep_min(&mut c, paths, Path::router_id);
    keep_min(&mut c, paths, |p| p.attrs.cluster_list.len());
    keep_min(&mut c, paths, Path::peer_addr);
    c.first().copied()
}

#[derive(Debug, Default)]
struct Entry {
    paths: Vec<Path>,
    best: Option<usize>,
}

/// A change of the best path of one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestChange {
    pub prefix: IpNet,
    /// The previous best path.
    pub old: Option<Path>,
    /// The new best path (`None`: unreachable).
    pub best: Option<Path>,
}

/// Loc-RIB plus the per-source Adj-RIB-In index.
#[derive(Debug, Default)]
pub struct Rib {
    entries: HashMap<IpNet, Entry>,
    by_source: HashMap<Source, HashSet<IpNet>>,
    changes: Vec<BestChange>,
}

impl Rib {
    pub fn new() -> Rib {
        Rib::default()
    }

    /// Number of prefixes with at least one path.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The best path for a prefix.
    pub fn best(&self, prefix: &IpNet) -> Option<&Path> {
        let e = self.entries.get(prefix)?;
        e.best.map(|i| &e.paths[i])
    }

    /// All paths for a prefix.
    pub fn paths(&self, prefix: &IpNet) -> &[Path] {
        self.entries.get(prefix).map_or(&[], |e| &e.paths)
    }

    /// Every prefix with its best path.
    pub fn iter_best(&self) -> impl Iterator<Item = (&IpNet, &Path)> {
        self.entries
            .iter()
            .filter_map(|(p, e)| e.best.map(|i| (p, &e.paths[i])))
    }

    /// Prefixes a source currently contributes (its Adj-RIB-In after import policy).
    pub fn adj_in(&self, source: Source) -> impl Iterator<Item = &IpNet> {
        self.by_source.get(&source).into_iter().flatten()
    }

    /// Best-path changes since the last call.
    pub fn take_changes(&mut self) -> Vec<BestChange> {
        std::mem::take(&mut self.changes)
    }

    fn reselect(&mut self, prefix: IpNet, old: Option<Path>) {
        let Some(e) = self.entries.get_mut(&prefix) else {
            if old.is_some() {
                self.changes.push(BestChange {
                    prefix,
                    old,
                    best: None,
                });
            }
            return;
        };
        e.best = best_path(&e.paths);
        let new = e.best.map(|i| &e.paths[i]);
        let changed = match (&old, new) {
            (Some(o), Some(n)) => !o.same(n),
            (None, None) => false,
            _ => true,
        };
        if changed {
            let best = new.cloned();
            self.changes.push(BestChange { prefix, old, best });
        }
        if e.paths.is_empty() {
            self.entries.remove(&prefix);
        }
    }

    /// Add or replace the path from `path.source`.
    pub fn insert(&mut self, prefix: IpNet, path: Path) {
        self.by_source
            .entry(path.source)
            .or_default()
            .insert(prefix);
        let e = self.entries.entry(prefix).or_default();
        let old = e.best.map(|i| e.paths[i].clone());
        match e.paths.iter_mut().find(|p| p.source == path.source) {
            Some(p) => *p = path,
            None => e.paths.push(path),
        }
        self.reselect(prefix, old);
    }

    /// Remove the path from `source`; true if there was one.
    pub fn remove(&mut self, prefix: &IpNet, source: Source) -> bool {
        let Some(e) = self.entries.get_mut(prefix) else {
            return false;
        };
        let Some(i) = e.paths.iter().position(|p| p.source == source) else {
            return false;
        };
        let old = e.best.map(|b| e.paths[b].clone());
        e.paths.swap_remove(i);
        if let Some(s) = self.by_source.get_mut(&source) {
            s.remove(prefix);
        }
        self.reselect(*prefix, old);
        true
    }

    /// Remove everything a source contributed.
    pub fn remove_source(&mut self, source: Source) {
        let prefixes = self.by_source.remove(&source).unwrap_or_default();
        for p in prefixes {
            self.remove(&p, source);
        }
    }

    /// Mark a source's paths of one family stale (graceful restart helper).
    pub fn mark_stale(&mut self, source: Source, family: Family) {
        for p in self.by_source.get(&source).into_iter().flatten() {
            if Family::of(p) != family {
                continue;
            }
            if let Some(e) = self.entries.get_mut(p) {
                for path in e.paths.iter_mut().filter(|x| x.source == source) {
                    path.stale = true;
                }
            }
        }
    }

    /// Remove a source's paths of one family that are still stale; returns how many.
    pub fn sweep_stale(&mut self, source: Source, family: Family) -> usize {
        let stale: Vec<IpNet> = self
            .by_source
            .get(&source)
            .into_iter()
            .flatten()
            .filter(|p| Family::of(p) == family)
            .filter(|p| {
                self.entries
                    .get(p)
                    .is_some_and(|e| e.paths.iter().any(|x| x.source == source && x.stale))
            })
            .copied()
            .collect();
        for p in &stale {
            self.remove(p, source);
        }
        stale.len()
    }
}
