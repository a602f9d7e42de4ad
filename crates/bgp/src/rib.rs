//! Loc-RIB and the RFC 4271 §9.1 decision process, with each prefix's Adj-RIB-Out state.
//!
//! One hash table holds every prefix. Its value is small (two pointers): the best path, and
//! what was advertised for the prefix to each peer (its Adj-RIB-Out state). Paths are reference
//! counted and shared: all prefixes of one UPDATE point at the same [`Path`] (same source,
//! attributes and next hop), and all prefixes advertised alike share one such state. Paths
//! that lost the decision live in a side table that is empty unless several peers send the
//! same prefix. The Adj-RIB-In of a source is a filter over the table (walked on session
//! events, not per route). Installing n routes is O(n) hash work.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::wire::{Family, Origin, PathAttributes};

/// The hasher of the speaker's tables (prefixes come from peers: seeded per process).
pub(crate) type Hasher = foldhash::fast::RandomState;
pub(crate) type Map<K, V> = HashMap<K, V, Hasher>;

pub(crate) fn map<K, V>() -> Map<K, V> {
    HashMap::with_hasher(Hasher::default())
}

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
    /// Kept by graceful restart or an enhanced route refresh, waiting for a refresh
    /// (RFC 4724, RFC 7313).
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
    /// The same route (source, next hop, attributes), stale or not.
    pub(crate) fn same(&self, o: &Path) -> bool {
        self.source == o.source
            && self.next_hop == o.next_hop
            && (Arc::ptr_eq(&self.attrs, &o.attrs) || self.attrs == o.attrs)
    }
}

impl AsRef<Path> for Path {
    fn as_ref(&self) -> &Path {
        self
    }
}

fn same_arc(a: &Option<Arc<Path>>, b: &Option<Arc<Path>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a.same(b),
        (None, None) => true,
        _ => false,
    }
}

/// The RFC 4271 §9.1.2 decision: index of the best path, by elimination.
///
/// Order: local origination, highest LOCAL_PREF (100 when absent), shortest AS_PATH, lowest
/// ORIGIN, lowest MED among paths from the same neighbour AS (absent = 0), eBGP over iBGP,
/// (IGP cost: all equal), lowest router ID (ORIGINATOR_ID when present, RFC 4456), shortest
/// CLUSTER_LIST, lowest peer address.
pub fn best_path(paths: &[Path]) -> Option<usize> {
    best_of(paths)
}

fn best_of<P: AsRef<Path>>(paths: &[P]) -> Option<usize> {
    if paths.len() <= 1 {
        return if paths.is_empty() { None } else { Some(0) };
    }
    let at = |i: usize| paths[i].as_ref();
    let mut c: Vec<usize> = (0..paths.len()).collect();
    let keep_min = |c: &mut Vec<usize>, key: &dyn Fn(&Path) -> u64| {
        if let Some(m) = c.iter().map(|i| key(at(*i))).min() {
            c.retain(|i| key(at(*i)) == m);
        }
    };
    keep_min(&mut c, &|p| u64::from(p.source != Source::Local));
    keep_min(&mut c, &|p| u64::from(u32::MAX - p.local_pref()));
    keep_min(&mut c, &|p| p.as_path_len() as u64);
    keep_min(&mut c, &|p| p.origin() as u64);
    if c.len() > 1 {
        // MED: only between paths from the same neighbouring AS.
        let mut drop = Vec::new();
        for &i in &c {
            for &j in &c {
                let (a, b) = (at(i), at(j));
                if a.neighbour_as() == b.neighbour_as()
                    && a.attrs.med.unwrap_or(0) > b.attrs.med.unwrap_or(0)
                {
                    drop.push(i);
                }
            }
        }
        c.retain(|i| !drop.contains(i));
    }
    keep_min(&mut c, &|p| u64::from(!p.ebgp));
    keep_min(&mut c, &|p| u64::from(u32::from(p.router_id())));
    keep_min(&mut c, &|p| p.attrs.cluster_list.len() as u64);
    if c.len() > 1 {
        // Lowest peer address (local first): compare directly, addresses do not fit a u64.
        if let Some(m) = c.iter().map(|i| at(*i).peer_addr()).min() {
            c.retain(|i| at(*i).peer_addr() == m);
        }
    }
    c.first().copied()
}

/// What was advertised for one prefix: the attributes sent to each peer, by the peer's
/// session slot. Shared by every prefix advertised alike.
pub(crate) type AdjOut = [(u32, Arc<PathAttributes>)];

#[derive(Debug, Default)]
pub(crate) struct Entry {
    /// The best path (`None` only while a withdrawal waits to be sent to peers).
    pub(crate) best: Option<Arc<Path>>,
    pub(crate) adj: Option<Arc<AdjOut>>,
}

impl Entry {
    pub(crate) fn adj_for(&self, slot: u32) -> Option<&Arc<PathAttributes>> {
        self.adj
            .as_deref()
            .and_then(|v| v.iter().find(|(s, _)| *s == slot).map(|(_, a)| a))
    }
}

/// The prefix table: IPv4 prefixes packed in a `u64` key (address, length), IPv6 ones
/// apart; together they are the Loc-RIB.
#[derive(Debug)]
struct Table {
    v4: Map<u64, Entry>,
    v6: Map<Ipv6Net, Entry>,
}

pub(crate) fn k4(n: &Ipv4Net) -> u64 {
    (u64::from(u32::from(n.addr())) << 8) | u64::from(n.prefix_len())
}

pub(crate) fn un4(k: u64) -> IpNet {
    let addr = Ipv4Addr::from((k >> 8) as u32);
    // The length came from a valid prefix.
    IpNet::V4(Ipv4Net::new(addr, (k & 0xff) as u8).unwrap_or_default())
}

impl Table {
    fn get(&self, p: &IpNet) -> Option<&Entry> {
        match p {
            IpNet::V4(n) => self.v4.get(&k4(n)),
            IpNet::V6(n) => self.v6.get(n),
        }
    }
    fn get_mut(&mut self, p: &IpNet) -> Option<&mut Entry> {
        match p {
            IpNet::V4(n) => self.v4.get_mut(&k4(n)),
            IpNet::V6(n) => self.v6.get_mut(n),
        }
    }
    fn entry(&mut self, p: &IpNet) -> &mut Entry {
        match p {
            IpNet::V4(n) => self.v4.entry(k4(n)).or_default(),
            IpNet::V6(n) => self.v6.entry(*n).or_default(),
        }
    }
    /// Run `f` on the entry of `p` (one lookup), dropping the entry if it ends up empty.
    fn update<R>(&mut self, p: &IpNet, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        use std::collections::hash_map::Entry as E;
        fn on<K, R>(o: E<'_, K, Entry>, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
            let E::Occupied(mut o) = o else {
                return None;
            };
            let r = f(o.get_mut());
            if o.get().best.is_none() && o.get().adj.is_none() {
                o.remove();
            }
            Some(r)
        }
        match p {
            IpNet::V4(n) => on(self.v4.entry(k4(n)), f),
            IpNet::V6(n) => on(self.v6.entry(*n), f),
        }
    }
    fn remove(&mut self, p: &IpNet) {
        match p {
            IpNet::V4(n) => self.v4.remove(&k4(n)),
            IpNet::V6(n) => self.v6.remove(n),
        };
    }
    fn iter(&self) -> impl Iterator<Item = (IpNet, &Entry)> {
        self.v4
            .iter()
            .map(|(k, e)| (un4(*k), e))
            .chain(self.v6.iter().map(|(k, e)| (IpNet::V6(*k), e)))
    }
    fn iter_mut(&mut self) -> impl Iterator<Item = (IpNet, &mut Entry)> {
        self.v4
            .iter_mut()
            .map(|(k, e)| (un4(*k), e))
            .chain(self.v6.iter_mut().map(|(k, e)| (IpNet::V6(*k), e)))
    }
    /// Give memory back once the table is mostly empty (also clears hashbrown's
    /// tombstones, which slow down lookups after a mass withdrawal).
    fn compact(&mut self) {
        fn shrink<K: std::hash::Hash + Eq, V>(m: &mut Map<K, V>) {
            if m.capacity() > 1024 && m.len() * 4 < m.capacity() {
                m.shrink_to(m.len() * 2);
            }
        }
        shrink(&mut self.v4);
        shrink(&mut self.v6);
    }
    fn retain(&mut self, mut f: impl FnMut(&Entry) -> bool) {
        self.v4.retain(|_, e| f(e));
        self.v6.retain(|_, e| f(e));
    }
}

/// A prefix handed out by value where a reference used to be (`*prefix` gives the
/// [`IpNet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix(pub IpNet);

impl std::ops::Deref for Prefix {
    type Target = IpNet;
    fn deref(&self) -> &IpNet {
        &self.0
    }
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

/// A change as recorded: the prefix and its best path before and after.
pub(crate) type RawChange = (IpNet, Option<Arc<Path>>, Option<Arc<Path>>);

/// Loc-RIB plus each prefix's Adj-RIB-Out state.
#[derive(Debug)]
pub struct Rib {
    entries: Table,
    /// Paths other than the best, for prefixes with several.
    others: Map<IpNet, Vec<Arc<Path>>>,
    /// Prefixes with a best path.
    routes: usize,
    changes: Vec<RawChange>,
}

impl Default for Rib {
    fn default() -> Self {
        Rib {
            entries: Table {
                v4: map(),
                v6: map(),
            },
            others: map(),
            routes: 0,
            changes: Vec::new(),
        }
    }
}

impl Rib {
    pub fn new() -> Rib {
        Rib::default()
    }

    /// Number of prefixes with at least one path.
    pub fn len(&self) -> usize {
        self.routes
    }
    pub fn is_empty(&self) -> bool {
        self.routes == 0
    }

    /// The best path for a prefix.
    pub fn best(&self, prefix: &IpNet) -> Option<&Path> {
        self.entries.get(prefix)?.best.as_deref()
    }

    /// All paths for a prefix (the best first).
    pub fn paths(&self, prefix: &IpNet) -> Vec<Path> {
        self.best(prefix)
            .into_iter()
            .chain(self.others.get(prefix).into_iter().flatten().map(|p| &**p))
            .cloned()
            .collect()
    }

    /// Every prefix with its best path.
    pub fn iter_best(&self) -> impl Iterator<Item = (Prefix, &Path)> {
        self.entries
            .iter()
            .filter_map(|(p, e)| e.best.as_deref().map(|b| (Prefix(p), b)))
    }

    /// Prefixes a source currently contributes (its Adj-RIB-In after import policy). Walks
    /// the table.
    pub fn adj_in(&self, source: Source) -> impl Iterator<Item = IpNet> {
        self.entries
            .iter()
            .filter(move |(p, e)| {
                e.best.as_ref().is_some_and(|b| b.source == source)
                    || self
                        .others
                        .get(p)
                        .is_some_and(|o| o.iter().any(|x| x.source == source))
            })
            .map(|(p, _)| p)
    }

    /// Best-path changes since the last call (`best` is the path after that change).
    pub fn take_changes(&mut self) -> Vec<BestChange> {
        self.take_raw_changes()
            .into_iter()
            .map(|(prefix, old, best)| BestChange {
                prefix,
                old: old.map(|p| (*p).clone()),
                best: best.map(|p| (*p).clone()),
            })
            .collect()
    }

    pub(crate) fn take_raw_changes(&mut self) -> Vec<RawChange> {
        std::mem::take(&mut self.changes)
    }

    /// Hand a drained change list back, to reuse its allocation.
    pub(crate) fn recycle_changes(&mut self, mut v: Vec<RawChange>) {
        v.clear();
        if self.changes.is_empty() && v.capacity() <= 4096 {
            self.changes = v;
        }
    }

    pub(crate) fn change_count(&self) -> usize {
        self.changes.len()
    }

    pub(crate) fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = (IpNet, &mut Entry)> {
        self.entries.iter_mut()
    }

    /// What was advertised to the session with this slot.
    pub(crate) fn adj_out_of(
        &self,
        slot: u32,
    ) -> impl Iterator<Item = (IpNet, &Arc<PathAttributes>)> {
        self.entries
            .iter()
            .filter(move |_| slot != 0)
            .filter_map(move |(p, e)| e.adj_for(slot).map(|a| (p, a)))
    }

    /// Forget what was advertised to a session (it ended).
    pub(crate) fn forget_slot(&mut self, slot: u32) {
        if slot == 0 {
            return;
        }
        let mut adj = AdjCache::default();
        for (_, e) in self.entries.iter_mut() {
            if e.adj_for(slot).is_some() {
                e.adj = adj.set(&e.adj, slot, None);
            }
        }
        self.forget_empty();
    }

    /// Run `f` on a prefix's entry (`None`: there is none); an entry left with neither a
    /// best path nor advertisements is dropped.
    pub(crate) fn update_entry<R>(
        &mut self,
        prefix: &IpNet,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        self.entries.update(prefix, f)
    }

    /// Shrink the table when it is mostly empty.
    pub(crate) fn compact(&mut self) {
        self.entries.compact();
    }

    pub(crate) fn forget_empty(&mut self) {
        self.entries.retain(|e| e.best.is_some() || e.adj.is_some());
    }

    fn changed(&mut self, prefix: IpNet, old: Option<Arc<Path>>, new: Option<Arc<Path>>) {
        if !same_arc(&old, &new) {
            self.changes.push((prefix, old, new));
        }
    }

    /// Add or replace the path from `path.source`.
    pub fn insert(&mut self, prefix: IpNet, path: Path) {
        self.insert_shared(prefix, Arc::new(path));
    }

    /// [`Rib::insert`] for a path shared with other prefixes.
    pub fn insert_shared(&mut self, prefix: IpNet, path: Arc<Path>) {
        let e = self.entries.entry(&prefix);
        let has_others = !self.others.is_empty() && self.others.contains_key(&prefix);
        match &e.best {
            None => {
                self.routes += 1;
                e.best = Some(path.clone());
                self.changed(prefix, None, Some(path));
            }
            Some(b) if !has_others && b.source == path.source => {
                let old = e.best.replace(path.clone());
                self.changed(prefix, old, Some(path));
            }
            Some(_) => {
                let old = e.best.take();
                let mut all: Vec<Arc<Path>> = old.iter().cloned().collect();
                all.extend(self.others.remove(&prefix).unwrap_or_default());
                match all.iter_mut().find(|p| p.source == path.source) {
                    Some(p) => *p = path,
                    None => all.push(path),
                }
                self.reselect(prefix, old, all);
            }
        }
    }

    /// Pick the best of `all` for `prefix` (whose best was `old`), keep the rest aside.
    fn reselect(&mut self, prefix: IpNet, old: Option<Arc<Path>>, mut all: Vec<Arc<Path>>) {
        let new = best_of(&all).map(|i| all.swap_remove(i));
        if !all.is_empty() {
            self.others.insert(prefix, all);
        }
        match (&old, &new) {
            (Some(_), None) => self.routes -= 1,
            (None, Some(_)) => self.routes += 1,
            _ => {}
        }
        if let Some(e) = self.entries.get_mut(&prefix) {
            e.best = new.clone();
            if e.best.is_none() && e.adj.is_none() {
                self.entries.remove(&prefix);
            }
        }
        self.changed(prefix, old, new);
    }

    /// Remove the path from `source`; true if there was one.
    pub fn remove(&mut self, prefix: &IpNet, source: Source) -> bool {
        let has_others = !self.others.is_empty() && self.others.contains_key(prefix);
        if !has_others {
            let old = self.entries.update(prefix, |e| {
                if e.best.as_ref().is_some_and(|b| b.source == source) {
                    e.best.take()
                } else {
                    None
                }
            });
            let Some(Some(old)) = old else {
                return false;
            };
            self.routes -= 1;
            self.changed(*prefix, Some(old), None);
            return true;
        }
        let Some(e) = self.entries.get_mut(prefix) else {
            return false;
        };
        let in_best = e.best.as_ref().is_some_and(|b| b.source == source);
        if !in_best {
            let Some(o) = self.others.get_mut(prefix) else {
                return false;
            };
            let before = o.len();
            o.retain(|x| x.source != source);
            let found = o.len() != before;
            if o.is_empty() {
                self.others.remove(prefix);
            }
            return found;
        }
        let old = e.best.take();
        let all = self.others.remove(prefix).unwrap_or_default();
        self.reselect(*prefix, old, all);
        true
    }

    /// Prefixes with a path from `source` of `family`, stale ones only if `stale_only`.
    fn prefixes_of(&self, source: Source, family: Option<Family>, stale_only: bool) -> Vec<IpNet> {
        let hit = |p: &Path| p.source == source && (!stale_only || p.stale);
        self.entries
            .iter()
            .filter(|(p, _)| family.is_none_or(|f| Family::of(p) == f))
            .filter(|(p, e)| {
                e.best.as_deref().is_some_and(hit)
                    || self.others.get(p).is_some_and(|o| o.iter().any(|x| hit(x)))
            })
            .map(|(p, _)| p)
            .collect()
    }

    /// Remove everything a source contributed.
    pub fn remove_source(&mut self, source: Source) {
        for p in self.prefixes_of(source, None, false) {
            self.remove(&p, source);
        }
    }

    /// Mark a source's paths of one family stale (graceful restart helper, enhanced route
    /// refresh).
    pub fn mark_stale(&mut self, source: Source, family: Family) {
        // Every path shared by many prefixes gets one stale twin.
        // (The original is kept in the map so that its address is not reused meanwhile.)
        let mut twins: Map<usize, (Arc<Path>, Arc<Path>)> = map();
        let mut twin = |p: &mut Arc<Path>| {
            if p.source != source || p.stale {
                return;
            }
            let t = twins
                .entry(Arc::as_ptr(p) as usize)
                .or_insert_with(|| {
                    let mut s = (**p).clone();
                    s.stale = true;
                    (p.clone(), Arc::new(s))
                })
                .1
                .clone();
            *p = t;
        };
        for (pfx, e) in self.entries.iter_mut() {
            if Family::of(&pfx) != family {
                continue;
            }
            if let Some(b) = &mut e.best {
                twin(b);
            }
        }
        for (pfx, o) in self.others.iter_mut() {
            if Family::of(pfx) == family {
                o.iter_mut().for_each(&mut twin);
            }
        }
    }

    /// Remove a source's paths of one family that are still stale; returns how many.
    pub fn sweep_stale(&mut self, source: Source, family: Family) -> usize {
        let stale = self.prefixes_of(source, Some(family), true);
        for p in &stale {
            self.remove(p, source);
        }
        stale.len()
    }
}

/// Interning of [`AdjOut`] transitions within one pass over many prefixes: every prefix
/// that moves from the same state by the same step gets the same shared result.
type AdjStep = (Option<Arc<AdjOut>>, Option<Arc<AdjOut>>);
/// (old state address, slot, new attributes address).
type StepKey = (usize, u32, usize);

#[derive(Default)]
pub(crate) struct AdjCache {
    steps: Map<StepKey, AdjStep>,
    /// The last step taken (consecutive prefixes mostly take the same one).
    last: Option<(StepKey, Option<Arc<AdjOut>>)>,
}

impl AdjCache {
    /// `old` with the entry of `slot` set to `new` (or removed).
    pub(crate) fn set(
        &mut self,
        old: &Option<Arc<AdjOut>>,
        slot: u32,
        new: Option<&Arc<PathAttributes>>,
    ) -> Option<Arc<AdjOut>> {
        let key = (
            old.as_ref()
                .map_or(0, |o| Arc::as_ptr(o) as *const u8 as usize),
            slot,
            new.map_or(0, |a| Arc::as_ptr(a) as usize),
        );
        if let Some((k, r)) = &self.last
            && *k == key
        {
            return r.clone();
        }
        if let Some((_, r)) = self.steps.get(&key) {
            let r = r.clone();
            self.last = Some((key, r.clone()));
            return r;
        }
        let mut v: Vec<(u32, Arc<PathAttributes>)> = old
            .as_deref()
            .map(|o| o.iter().filter(|(s, _)| *s != slot).cloned().collect())
            .unwrap_or_default();
        if let Some(a) = new {
            v.push((slot, a.clone()));
            v.sort_by_key(|(s, _)| *s);
        }
        let r: Option<Arc<AdjOut>> = (!v.is_empty()).then(|| Arc::from(v));
        // The old state is kept alive with the step so that its address is not reused.
        self.steps.insert(key, (old.clone(), r.clone()));
        self.last = Some((key, r.clone()));
        r
    }
}

impl std::fmt::Debug for AdjCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdjCache")
            .field("steps", &self.steps.len())
            .finish()
    }
}
