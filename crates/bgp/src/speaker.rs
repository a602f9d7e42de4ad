//! The sans-IO speaker: many peers, one Loc-RIB.
//!
//! The I/O layer owns sockets and a clock and drives a [`Speaker`] with method calls; every
//! call takes `now` (a [`Duration`] since an origin the caller picks) and queues [`Output`]s,
//! taken with [`Speaker::poll_output`]. Connections are named by [`ConnId`]s the speaker hands
//! out: [`Output::Connect`] asks for an outbound connection under a new id;
//! [`Speaker::accepted`] registers an inbound one. Call [`Speaker::tick`] when
//! [`Speaker::next_deadline`] passes.
//!
//! ```text
//!  I/O layer                         Speaker
//!  ─────────                         ───────
//!  add_peer / originate / withdraw ─▶ sessions (fsm) ─▶ Output::Connect / Send / Close
//!  connected / accepted / received ─▶ Rib (decision) ─▶ Output::Route (kernel) ,
//!  closed / connect_failed / tick  ─▶ Adj-RIB-Out      SessionUp / SessionDown
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use crate::export::{AcceptAll, LocalView, NextHopMode, PeerView, RoutePolicy, export_attrs};
use crate::fsm::{
    Action, DEFAULT_CONNECT_RETRY, DEFAULT_HOLD_TIME, Event, GrConfig, Negotiated, Session,
    SessionConfig, State,
};
use crate::rib::{AdjCache, Entry, Hasher, Path, Rib, Source};
use crate::wire::{
    AfiSafi, AsPath, Decoded, Family, Framer, HEADER_LEN, MAX_MESSAGE_LEN, Message, MpUnreach,
    Origin, PathAttributes, RouteRefresh, Update, WireOptions, decode_message,
};
use crate::wire::{encode_attributes, encode_prefix};

/// Loc-RIB changes handled in one go while an UPDATE is imported.
const CHANGE_RUN: usize = 256;

/// A connection, named by the speaker.
pub type ConnId = u64;

/// Speaker-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerConfig {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// Route-reflector cluster ID (Calico `routeReflectorClusterID`); `Some` makes this
    /// speaker a route reflector for peers with [`PeerConfig::rr_client`].
    pub cluster_id: Option<Ipv4Addr>,
    /// Graceful restart (capability, helper mode, restarting speaker); `None` disables it.
    pub graceful_restart: Option<GrConfig>,
    /// After a restarted peer is back, how long its stale routes wait for End-of-RIB.
    pub stale_routes_time: Duration,
}

impl SpeakerConfig {
    pub fn new(local_as: u32, router_id: Ipv4Addr) -> SpeakerConfig {
        SpeakerConfig {
            local_as,
            router_id,
            cluster_id: None,
            graceful_restart: Some(GrConfig::default()),
            stale_routes_time: Duration::from_secs(360),
        }
    }
}

/// One configured peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    pub address: IpAddr,
    pub port: u16,
    pub remote_as: u32,
    /// Override of the speaker's AS for this session (Calico `localASNumber`).
    pub local_as: Option<u32>,
    /// "Peer type" column of `calicoctl node status` (`node-to-node mesh`, `global`,
    /// `node specific`).
    pub description: String,
    pub passive: bool,
    pub hold_time: u16,
    pub keepalive_time: Option<u16>,
    pub connect_retry: Duration,
    pub families: Vec<Family>,
    /// This peer is our route-reflector client.
    pub rr_client: bool,
    pub next_hop_mode: NextHopMode,
    /// Next-hop-self addresses; default: the connection's local address of that family.
    pub next_hop_v4: Option<Ipv4Addr>,
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Restart time advertised to this peer (Calico `maxRestartTime`).
    pub max_restart_time: Option<u16>,
    /// Occurrences of our AS tolerated in received AS_PATHs (`numAllowedLocalASNumbers`).
    pub allow_local_as: usize,
    /// TCP MD5 password, for the I/O layer (the core does not use it).
    pub password: Option<String>,
}

impl PeerConfig {
    pub fn new(address: IpAddr, remote_as: u32) -> PeerConfig {
        PeerConfig {
            address,
            port: 179,
            remote_as,
            local_as: None,
            description: "global".into(),
            passive: false,
            hold_time: DEFAULT_HOLD_TIME,
            keepalive_time: None,
            connect_retry: DEFAULT_CONNECT_RETRY,
            families: vec![Family::Ipv4, Family::Ipv6],
            rr_client: false,
            next_hop_mode: NextHopMode::Auto,
            next_hop_v4: None,
            next_hop_v6: None,
            max_restart_time: None,
            allow_local_as: 0,
            password: None,
        }
    }
}

/// A route this speaker originates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRoute {
    pub origin: Origin,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub communities: Vec<u32>,
}

impl Default for LocalRoute {
    fn default() -> Self {
        LocalRoute {
            origin: Origin::Igp,
            med: None,
            local_pref: None,
            communities: Vec::new(),
        }
    }
}

/// The best route to install in the kernel for a prefix learned from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRoute {
    pub next_hop: IpAddr,
    pub peer: IpAddr,
    pub attrs: Arc<PathAttributes>,
}

/// What the I/O layer must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a TCP connection to `peer:port`, then call [`Speaker::connected`] or
    /// [`Speaker::connect_failed`] with `conn`.
    Connect {
        conn: ConnId,
        peer: IpAddr,
        port: u16,
    },
    Send {
        conn: ConnId,
        bytes: Vec<u8>,
    },
    /// Close after writing what was sent.
    Close {
        conn: ConnId,
    },
    /// The kernel route for `prefix`: `Some` to install or replace, `None` to remove (no
    /// learned route, or a local one wins).
    Route {
        prefix: IpNet,
        route: Option<KernelRoute>,
    },
    SessionUp {
        peer: IpAddr,
    },
    SessionDown {
        peer: IpAddr,
        reason: String,
    },
}

/// One row of `calicoctl node status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    pub address: IpAddr,
    pub description: String,
    pub state: State,
    /// Time of the last state change.
    pub since: Duration,
    /// "Established", or the state and the last error.
    pub info: String,
}

#[derive(Debug)]
struct Peer {
    cfg: PeerConfig,
    session: Session,
    conn: Option<ConnId>,
    local_addr: Option<IpAddr>,
    negotiated: Option<Negotiated>,
    /// This session's key in the Loc-RIB's Adj-RIB-Out state (0: not Established).
    slot: u32,
    /// Graceful-restart helper: deadline and families whose routes are stale.
    stale: Option<(Duration, Vec<Family>)>,
    /// Enhanced route refresh (RFC 7313) under way from the peer: families between its
    /// BoRR and EoRR, with the deadline after which the stale routes go anyway.
    refreshing: Vec<(Family, Duration)>,
}

#[derive(Debug)]
struct Conn {
    peer: IpAddr,
    framer: Framer,
}

/// The speaker.
pub struct Speaker {
    cfg: SpeakerConfig,
    peers: BTreeMap<IpAddr, Peer>,
    conns: HashMap<ConnId, Conn>,
    next_conn: ConnId,
    rib: Rib,
    out: VecDeque<Output>,
    policy: Box<dyn RoutePolicy>,
    /// The policy is still [`AcceptAll`]: export and import skip the per-route call.
    accept_all: bool,
    next_slot: u32,
    /// UPDATE content waiting to be sent, per peer.
    batches: Vec<(IpAddr, Batch)>,
    /// Export and Adj-RIB-Out caches of the pass under way (one read, until propagate).
    pass: Option<(Exporter, AdjCache)>,
    /// The path of the last route originated (shared by the next ones alike).
    local_path: Option<(LocalRoute, Arc<Path>)>,
    /// Kernel route changes, turned into [`Output::Route`]s after the other outputs.
    kernel: KernelQueue,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("cfg", &self.cfg)
            .field("peers", &self.peers.len())
            .finish()
    }
}

impl Speaker {
    pub fn new(cfg: SpeakerConfig) -> Speaker {
        Speaker {
            cfg,
            peers: BTreeMap::new(),
            conns: HashMap::new(),
            next_conn: 1,
            rib: Rib::new(),
            out: VecDeque::new(),
            policy: Box::new(AcceptAll),
            accept_all: true,
            next_slot: 1,
            batches: Vec::new(),
            kernel: KernelQueue::default(),
            pass: None,
            local_path: None,
        }
    }

    pub fn config(&self) -> &SpeakerConfig {
        &self.cfg
    }

    /// Import/export filters for every peer.
    pub fn set_policy(&mut self, policy: Box<dyn RoutePolicy>) {
        self.policy = policy;
        self.accept_all = false;
        self.pass = None;
    }

    /// Clear the Restart State bit for sessions opened from now on (call once the initial
    /// routes after our restart are back in place).
    pub fn finish_restart(&mut self) {
        if let Some(g) = &mut self.cfg.graceful_restart {
            g.restarting = false;
        }
        for p in self.peers.values_mut() {
            let c = session_config(&self.cfg, &p.cfg);
            p.session.set_config(c);
        }
    }

    /// The Loc-RIB.
    pub fn rib(&self) -> &Rib {
        &self.rib
    }

    /// What was last advertised to a peer (a copy, gathered from the Loc-RIB).
    pub fn adj_rib_out(&self, peer: IpAddr) -> Option<HashMap<IpNet, Arc<PathAttributes>>> {
        let slot = self.peers.get(&peer)?.slot;
        Some(
            self.rib
                .adj_out_of(slot)
                .map(|(p, a)| (p, a.clone()))
                .collect(),
        )
    }

    /// What a peer's session negotiated (while Established).
    pub fn negotiated(&self, peer: IpAddr) -> Option<&Negotiated> {
        self.peers.get(&peer).and_then(|p| p.negotiated.as_ref())
    }

    pub fn peer_state(&self, peer: IpAddr) -> Option<State> {
        self.peers.get(&peer).map(|p| p.session.state())
    }

    /// `calicoctl node status` rows, by peer address.
    pub fn peer_status(&self) -> Vec<PeerStatus> {
        self.peers
            .values()
            .map(|p| {
                let s = p.session.state();
                let info = match (s, p.session.last_error()) {
                    (State::Established, _) | (_, None) => s.name().to_string(),
                    (_, Some(e)) => format!("{} {e}", s.name()),
                };
                PeerStatus {
                    address: p.cfg.address,
                    description: p.cfg.description.clone(),
                    state: s,
                    since: p.session.since(),
                    info,
                }
            })
            .collect()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        if let Some(prefix) = self.kernel.pop() {
            return Some(self.kernel_output(prefix));
        }
        // A burst should not keep its queues.
        if self.out.capacity() > 256 {
            self.out = VecDeque::new();
        }
        self.kernel.shrink();
        None
    }

    pub fn drain_outputs(&mut self) -> Vec<Output> {
        let mut v: Vec<Output> = self.out.drain(..).collect();
        let kernel: Vec<(IpNet, bool)> = std::iter::from_fn(|| self.kernel.pop()).collect();
        v.extend(kernel.into_iter().map(|k| self.kernel_output(k)));
        v
    }

    /// The kernel route of a queued prefix: none, or as the Loc-RIB has it now.
    fn kernel_output(&self, (prefix, gone): (IpNet, bool)) -> Output {
        let route = if gone {
            None
        } else {
            kernel_route(self.rib.best(&prefix))
        };
        Output::Route { prefix, route }
    }

    /// Add (or reconfigure) a peer and start its session.
    pub fn add_peer(&mut self, cfg: PeerConfig, now: Duration) {
        if let Some(p) = self.peers.get(&cfg.address) {
            if p.cfg == cfg {
                return;
            }
            self.remove_peer(cfg.address, now);
        }
        let addr = cfg.address;
        let session = Session::new(session_config(&self.cfg, &cfg), now);
        self.peers.insert(
            addr,
            Peer {
                cfg,
                session,
                conn: None,
                local_addr: None,
                negotiated: None,
                slot: 0,
                stale: None,
                refreshing: Vec::new(),
            },
        );
        self.run(addr, Event::ManualStart, now);
        self.propagate();
    }

    /// Stop a peer (Cease) and forget it and its routes.
    pub fn remove_peer(&mut self, addr: IpAddr, now: Duration) {
        if !self.peers.contains_key(&addr) {
            return;
        }
        self.run(addr, Event::ManualStop, now);
        if let Some(p) = self.peers.remove(&addr) {
            self.rib.forget_slot(p.slot);
            if let Some(c) = p.conn {
                self.conns.remove(&c);
                self.out.push_back(Output::Close { conn: c });
            }
        }
        self.rib.remove_source(Source::Peer(addr));
        self.propagate();
    }

    /// Our outbound connection `conn` is up; `local` is its local address.
    pub fn connected(&mut self, conn: ConnId, local: IpAddr, now: Duration) {
        let Some(addr) = self.conns.get(&conn).map(|c| c.peer) else {
            self.out.push_back(Output::Close { conn });
            return;
        };
        let Some(p) = self.peers.get_mut(&addr).filter(|p| p.conn == Some(conn)) else {
            self.conns.remove(&conn);
            self.out.push_back(Output::Close { conn });
            return;
        };
        p.local_addr = Some(local);
        self.run(addr, Event::TcpConnectionConfirmed, now);
        self.propagate();
    }

    /// Our outbound connection attempt failed.
    pub fn connect_failed(&mut self, conn: ConnId, now: Duration) {
        self.closed(conn, now);
    }

    /// An inbound connection from `peer` arrived on local address `local`. Returns its id,
    /// or `None` when it must be closed (unknown peer, stopped, or it lost a collision).
    pub fn accepted(&mut self, peer: IpAddr, local: IpAddr, now: Duration) -> Option<ConnId> {
        let p = self.peers.get_mut(&peer)?;
        match p.session.state() {
            State::Established => return None,
            State::OpenSent | State::OpenConfirm => {
                // RFC 4271 §6.8: the connection opened by the higher BGP identifier wins. In
                // OpenSent the peer's identifier is not known yet: its IPv4 address stands in
                // (Calico's router ID is the node address).
                let remote_id = match (&p.negotiated, p.session.negotiated(), peer) {
                    (_, Some(n), _) => n.peer_id,
                    (_, None, IpAddr::V4(v4)) => v4,
                    _ => return None,
                };
                if self.cfg.router_id >= remote_id {
                    return None;
                }
                let acts = p.session.drop_for_collision(now);
                self.apply(peer, acts, now);
            }
            State::Idle if p.session.next_deadline().is_none() => return None, // stopped
            // Our own attempt is under way: keep it if it would win the collision anyway,
            // so both ends pick the same connection.
            State::Connect
                if p.conn.is_some()
                    && matches!(peer, IpAddr::V4(v4) if self.cfg.router_id > v4) =>
            {
                return None;
            }
            _ => {
                if let Some(c) = p.conn.take() {
                    self.conns.remove(&c);
                    self.out.push_back(Output::Close { conn: c });
                }
            }
        }
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            Conn {
                peer,
                framer: Framer::default(),
            },
        );
        let p = self.peers.get_mut(&peer)?;
        p.conn = Some(id);
        p.local_addr = Some(local);
        self.run(peer, Event::TcpConnectionAccepted, now);
        self.propagate();
        Some(id)
    }

    /// Bytes arrived on `conn` (any split: partial messages are kept).
    pub fn received(&mut self, conn: ConnId, bytes: &[u8], now: Duration) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let addr = c.peer;
        c.framer.push(bytes);
        loop {
            if self.peers.get(&addr).and_then(|p| p.conn) != Some(conn) {
                break;
            }
            let Some(c) = self.conns.get_mut(&conn) else {
                break;
            };
            let ev = match c.framer.next_frame() {
                Ok(None) => break,
                Ok(Some(frame)) => {
                    let opts = self
                        .peers
                        .get(&addr)
                        .map(|p| p.session.wire_options())
                        .unwrap_or_default();
                    match decode_message(&frame, opts) {
                        Ok(d) => Event::Message(d),
                        Err(e) => Event::DecodeError(e),
                    }
                }
                Err(e) => Event::DecodeError(e),
            };
            self.run(addr, ev, now);
        }
        self.propagate();
    }

    /// `conn` was closed by the peer or failed.
    pub fn closed(&mut self, conn: ConnId, now: Duration) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(p) = self.peers.get_mut(&c.peer).filter(|p| p.conn == Some(conn)) {
            p.conn = None;
            self.run(c.peer, Event::TcpConnectionFails, now);
            self.propagate();
        }
    }

    /// Originate (or update) a local route.
    pub fn originate(&mut self, prefix: IpNet, route: LocalRoute, now: Duration) {
        self.originate_all([(prefix, route)], now);
    }

    /// Originate many routes at once (packed into as few UPDATEs as possible).
    pub fn originate_all(
        &mut self,
        routes: impl IntoIterator<Item = (IpNet, LocalRoute)>,
        _now: Duration,
    ) {
        // Routes originated alike share one path, also across calls.
        let mut last = self.local_path.take();
        for (prefix, route) in routes {
            let path = match &last {
                Some((r, p)) if *r == route => p.clone(),
                _ => {
                    let p = Arc::new(self.local_path(route.clone()));
                    last = Some((route, p.clone()));
                    p
                }
            };
            self.rib.insert_shared(prefix.trunc(), path);
        }
        self.local_path = last;
        self.propagate();
    }

    /// Stop originating many routes at once.
    pub fn withdraw_all(&mut self, prefixes: impl IntoIterator<Item = IpNet>, _now: Duration) {
        for prefix in prefixes {
            self.rib.remove(&prefix.trunc(), Source::Local);
        }
        self.propagate();
    }

    fn local_path(&self, route: LocalRoute) -> Path {
        let attrs = PathAttributes {
            origin: Some(route.origin),
            as_path: Some(AsPath::default()),
            med: route.med,
            local_pref: route.local_pref,
            communities: route.communities,
            ..Default::default()
        };
        Path {
            source: Source::Local,
            attrs: Arc::new(attrs),
            next_hop: None,
            ebgp: false,
            peer_id: self.cfg.router_id,
            from_rr_client: false,
            stale: false,
        }
    }

    /// Stop originating a local route.
    pub fn withdraw(&mut self, prefix: IpNet, _now: Duration) {
        self.rib.remove(&prefix.trunc(), Source::Local);
        self.propagate();
    }

    /// Earliest time [`Speaker::tick`] has work.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.peers
            .values()
            .flat_map(|p| {
                p.session
                    .next_deadline()
                    .into_iter()
                    .chain(p.stale.as_ref().map(|s| s.0))
                    .chain(p.refreshing.iter().map(|r| r.1))
            })
            .min()
    }

    /// Run expired timers.
    pub fn tick(&mut self, now: Duration) {
        let addrs: Vec<IpAddr> = self.peers.keys().copied().collect();
        for addr in addrs {
            let Some(p) = self.peers.get(&addr) else {
                continue;
            };
            for k in p.session.expired(now) {
                self.run(addr, Event::Timer(k), now);
            }
            let Some(p) = self.peers.get_mut(&addr) else {
                continue;
            };
            if let Some((deadline, fams)) = p.stale.clone()
                && deadline <= now
            {
                p.stale = None;
                for f in fams {
                    self.rib.sweep_stale(Source::Peer(addr), f);
                }
            }
            if let Some(p) = self.peers.get_mut(&addr) {
                let (done, left): (Vec<_>, Vec<_>) =
                    p.refreshing.drain(..).partition(|(_, d)| *d <= now);
                p.refreshing = left;
                for (f, _) in done {
                    self.rib.sweep_stale(Source::Peer(addr), f);
                }
            }
        }
        self.propagate();
    }

    fn run(&mut self, addr: IpAddr, ev: Event, now: Duration) {
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        let acts = p.session.handle(ev, now);
        self.apply(addr, acts, now);
    }

    fn send(&mut self, addr: IpAddr, m: &Message) {
        self.flush_pending(addr);
        let Some(p) = self.peers.get(&addr) else {
            return;
        };
        let Some(conn) = p.conn else { return };
        if let Ok(bytes) = m.encode(p.session.wire_options()) {
            self.out.push_back(Output::Send { conn, bytes });
        }
    }

    fn apply(&mut self, addr: IpAddr, acts: Vec<Action>, now: Duration) {
        for a in acts {
            match a {
                Action::Connect => {
                    let id = self.next_conn;
                    self.next_conn += 1;
                    self.conns.insert(
                        id,
                        Conn {
                            peer: addr,
                            framer: Framer::default(),
                        },
                    );
                    let Some(p) = self.peers.get_mut(&addr) else {
                        continue;
                    };
                    p.conn = Some(id);
                    self.out.push_back(Output::Connect {
                        conn: id,
                        peer: addr,
                        port: p.cfg.port,
                    });
                }
                Action::Send(m) => self.send(addr, &m),
                Action::CloseConnection => {
                    if let Some(c) = self.peers.get_mut(&addr).and_then(|p| p.conn.take()) {
                        self.conns.remove(&c);
                        self.out.push_back(Output::Close { conn: c });
                    }
                }
                Action::SetTimer(..) => {}
                Action::SessionUp(n) => self.session_up(addr, *n, now),
                Action::SessionDown(r) => {
                    self.session_down(addr, r.graceful, now);
                    self.out.push_back(Output::SessionDown {
                        peer: addr,
                        reason: r.text,
                    });
                }
                Action::Update(d) => {
                    // Changes are turned into UPDATEs per UPDATE received (sent together
                    // at the end of the read): the change list stays short.
                    self.import(addr, d);
                    self.process_changes();
                }
                Action::RouteRefresh(f) => {
                    let Some(p) = self.peers.get_mut(&addr) else {
                        continue;
                    };
                    let Some(fam) = f.family() else { continue };
                    let Some(n) = &p.negotiated else { continue };
                    if !n.families.contains(&fam) {
                        continue;
                    }
                    let enhanced = n.enhanced_route_refresh;
                    let mut batch = Batch::new(p.session.wire_options());
                    for (prefix, a) in self.rib.adj_out_of(p.slot) {
                        if Family::of(&prefix) == fam {
                            batch.announce(a, prefix);
                        }
                    }
                    // RFC 7313 §4: the re-advertisement goes between BoRR and EoRR.
                    if enhanced {
                        self.send(addr, &refresh_marker(fam, 1));
                    }
                    self.send_batch(addr, batch);
                    if enhanced {
                        self.send(addr, &refresh_marker(fam, 2));
                    }
                }
                Action::RefreshMarker { afi_safi, end } => {
                    let Some(fam) = afi_safi.family() else {
                        continue;
                    };
                    self.refresh_marker(addr, fam, end, now);
                }
            }
        }
    }

    /// RFC 7313 §4 (receiving side): a BoRR marks the peer's routes of the family stale, its
    /// EoRR removes those not re-advertised in between (also done at the deadline, when
    /// the EoRR never comes).
    fn refresh_marker(&mut self, addr: IpAddr, fam: Family, end: bool, now: Duration) {
        let stale_time = self.cfg.stale_routes_time;
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        let src = Source::Peer(addr);
        let was = p.refreshing.iter().position(|(f, _)| *f == fam);
        if end {
            if let Some(i) = was {
                p.refreshing.swap_remove(i);
                self.rib.sweep_stale(src, fam);
            }
        } else {
            match was {
                Some(i) => p.refreshing[i].1 = now + stale_time,
                None => p.refreshing.push((fam, now + stale_time)),
            }
            self.rib.mark_stale(src, fam);
        }
    }

    /// Re-apply the policy (after [`Speaker::set_policy`]) to routes already exchanged.
    ///
    /// Export: for every Established peer the Loc-RIB is exported again and compared with
    /// what was advertised; new or changed routes are sent, routes no longer exported are
    /// withdrawn.
    ///
    /// Import: every Established peer that negotiated route refresh is sent a ROUTE-REFRESH
    /// (RFC 2918) per negotiated family; what it re-sends goes through the new import
    /// policy, so a route now rejected is removed and one now accepted is added. When the
    /// peer also does enhanced route refresh (RFC 7313) its BoRR/EoRR markers bound the
    /// re-advertisement and any of its routes not re-sent in between are removed. Peers
    /// without route refresh keep the routes imported under the old policy until their
    /// session restarts.
    pub fn policy_changed(&mut self, _now: Duration) {
        let established: Vec<IpAddr> = self
            .peers
            .values()
            .filter(|p| p.negotiated.is_some() && p.session.state() == State::Established)
            .map(|p| p.cfg.address)
            .collect();
        for addr in established {
            self.sync_peer(addr);
            let Some(n) = self.peers.get(&addr).and_then(|p| p.negotiated.as_ref()) else {
                continue;
            };
            if n.route_refresh {
                for f in n.families.clone() {
                    self.send(addr, &refresh_marker(f, 0));
                }
            }
        }
        self.propagate();
    }

    /// Bring what a peer was sent in line with the Loc-RIB and the export policy: send new
    /// and changed routes, withdraw the ones no longer exported.
    fn sync_peer(&mut self, addr: IpAddr) {
        let Some(p) = self.peers.get(&addr) else {
            return;
        };
        let Some(n) = &p.negotiated else { return };
        let (slot, families) = (p.slot, n.families.clone());
        let view = self.peer_view(p);
        let mut exp = Exporter::new(self.local_view(), self.accept_all);
        let mut adj = AdjCache::default();
        let mut batch = Batch::new(p.session.wire_options());
        let policy = &*self.policy;
        for (prefix, e) in self.rib.entries_mut() {
            if !families.contains(&Family::of(&prefix)) {
                continue;
            }
            let new = e
                .best
                .as_ref()
                .and_then(|b| exp.export(policy, &view, slot, &prefix, b));
            step(e, prefix, slot, new, &mut batch, &mut adj);
        }
        self.rib.forget_empty();
        self.send_batch(addr, batch);
    }

    fn peer_view(&self, p: &Peer) -> PeerView {
        let local_as = p.cfg.local_as.unwrap_or(self.cfg.local_as);
        PeerView {
            address: p.cfg.address,
            remote_as: p.cfg.remote_as,
            local_as,
            ebgp: local_as != p.cfg.remote_as,
            rr_client: p.cfg.rr_client,
            next_hop_mode: p.cfg.next_hop_mode,
            self_v4: p.cfg.next_hop_v4.or(match p.local_addr {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            }),
            self_v6: p.cfg.next_hop_v6.or(match p.local_addr {
                Some(IpAddr::V6(a)) => Some(a),
                _ => None,
            }),
        }
    }

    fn local_view(&self) -> LocalView {
        LocalView {
            router_id: self.cfg.router_id,
            cluster_id: self.cfg.cluster_id,
        }
    }

    fn session_up(&mut self, addr: IpAddr, n: Negotiated, now: Duration) {
        let stale_time = self.cfg.stale_routes_time;
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        // Helper: families the peer did not keep forwarding for lose their stale routes now.
        if let Some((_, fams)) = p.stale.take() {
            let (keep, drop): (Vec<Family>, Vec<Family>) = fams
                .into_iter()
                .partition(|f| n.peer_forwarding_preserved(*f));
            for f in drop {
                self.rib.sweep_stale(Source::Peer(addr), f);
            }
            if !keep.is_empty()
                && let Some(p) = self.peers.get_mut(&addr)
            {
                p.stale = Some((now + stale_time, keep));
            }
        }
        let families = n.families.clone();
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        p.negotiated = Some(n);
        let old_slot = std::mem::replace(&mut p.slot, self.next_slot);
        self.next_slot += 1;
        p.refreshing.clear();
        self.rib.forget_slot(old_slot);
        self.out.push_back(Output::SessionUp { peer: addr });
        // Initial advertisement, then End-of-RIB per family (RFC 4724 §2).
        self.sync_peer(addr);
        for f in families {
            self.send(addr, &Message::Update(Update::end_of_rib(f.afi_safi())));
        }
    }

    fn session_down(&mut self, addr: IpAddr, graceful: bool, now: Duration) {
        let Some(p) = self.peers.get_mut(&addr) else {
            return;
        };
        let n = p.negotiated.take();
        let slot = std::mem::take(&mut p.slot);
        p.refreshing.clear();
        self.rib.forget_slot(slot);
        let src = Source::Peer(addr);
        let gr = n.as_ref().and_then(|n| n.peer_graceful_restart.clone());
        match gr {
            Some(g) if graceful && g.restart_time > 0 => {
                let fams: Vec<Family> = g.families.iter().filter_map(|(f, _)| f.family()).collect();
                for f in [Family::Ipv4, Family::Ipv6] {
                    if fams.contains(&f) {
                        self.rib.mark_stale(src, f);
                    } else {
                        self.rib.sweep_stale(src, f);
                        let prefixes: Vec<IpNet> = self
                            .rib
                            .adj_in(src)
                            .filter(|p| Family::of(p) == f)
                            .collect();
                        for pfx in prefixes {
                            self.rib.remove(&pfx, src);
                        }
                    }
                }
                let deadline = now + Duration::from_secs(u64::from(g.restart_time));
                if let Some(p) = self.peers.get_mut(&addr) {
                    p.stale = Some((deadline, fams));
                }
            }
            _ => {
                p.stale = None;
                self.rib.remove_source(src);
            }
        }
    }

    /// Process an UPDATE from an Established peer (RFC 7606 treat-as-withdraw, loop checks,
    /// import policy).
    fn import(&mut self, addr: IpAddr, d: Decoded) {
        let taw = d.treat_as_withdraw();
        let Message::Update(u) = d.message else {
            return;
        };
        let Some(p) = self.peers.get(&addr) else {
            return;
        };
        let src = Source::Peer(addr);
        if let Some(f) = u.is_end_of_rib() {
            let fam = f.family();
            if let Some(p) = self.peers.get_mut(&addr)
                && let (Some((_, fams)), Some(fam)) = (&mut p.stale, fam)
            {
                fams.retain(|x| *x != fam);
                if fams.is_empty() {
                    p.stale = None;
                }
                self.rib.sweep_stale(src, fam);
            }
            return;
        }
        let view = self.peer_view(p);
        let families = p
            .negotiated
            .as_ref()
            .map(|n| n.families.clone())
            .unwrap_or_default();
        let peer_id = p
            .negotiated
            .as_ref()
            .map_or(Ipv4Addr::UNSPECIFIED, |n| n.peer_id);
        let allow = p.cfg.allow_local_as;
        for w in u.withdrawn_all() {
            self.rib.remove(w, src);
            self.process_changes_every(CHANGE_RUN);
        }
        let mut attrs = u.attrs.clone();
        attrs.next_hop = None;
        attrs.mp_reach = None;
        attrs.mp_unreach = None;
        if view.ebgp {
            // RFC 7606 §7.5, RFC 4456: attribute discard for these from eBGP.
            attrs.local_pref = None;
            attrs.originator_id = None;
            attrs.cluster_list.clear();
        }
        let path_ok = !taw
            && (!view.ebgp
                || attrs.as_path.as_ref().and_then(|p| p.first_as()) == Some(view.remote_as))
            && attrs
                .as_path
                .as_ref()
                .is_none_or(|p| p.contains(view.local_as) <= allow)
            && attrs.originator_id != Some(self.cfg.router_id)
            && self
                .cfg
                .cluster_id
                .is_none_or(|c| !attrs.cluster_list.contains(&c));
        let attrs = Arc::new(attrs);
        let v4_nh = u.attrs.next_hop.map(IpAddr::V4);
        let mp_nh = u
            .attrs
            .mp_reach
            .as_ref()
            .and_then(|m| m.next_hop.first().copied());
        let announced = u.nlri.iter().map(|p| (p, v4_nh)).chain(
            u.attrs
                .mp_reach
                .iter()
                .flat_map(|m| m.nlri.iter().map(move |p| (p, mp_nh))),
        );
        // One shared path per next hop (all prefixes of the UPDATE alike).
        let mut shared: Vec<(IpAddr, Arc<Path>)> = Vec::new();
        for (prefix, nh) in announced {
            if !families.contains(&Family::of(prefix)) {
                continue;
            }
            let Some(nh) = nh.filter(|_| path_ok) else {
                self.rib.remove(prefix, src);
                continue;
            };
            let base = match shared.iter().find(|(h, _)| *h == nh) {
                Some((_, p)) => p.clone(),
                None => {
                    let p = Arc::new(Path {
                        source: src,
                        attrs: attrs.clone(),
                        next_hop: Some(nh),
                        ebgp: view.ebgp,
                        peer_id,
                        from_rr_client: view.rr_client,
                        stale: false,
                    });
                    shared.push((nh, p.clone()));
                    p
                }
            };
            let path = if self.accept_all {
                Some(base)
            } else {
                let mut a = (*attrs).clone();
                if !self.policy.import(&view, prefix, &mut a) {
                    None
                } else if a == *attrs {
                    Some(base)
                } else {
                    let mut p = (*base).clone();
                    p.attrs = Arc::new(a);
                    Some(Arc::new(p))
                }
            };
            match path {
                Some(path) => self.rib.insert_shared(*prefix, path),
                None => {
                    self.rib.remove(prefix, src);
                }
            }
            self.process_changes_every(CHANGE_RUN);
        }
    }

    /// Turn Loc-RIB changes into kernel outputs and UPDATEs to the Established peers.
    fn propagate(&mut self) {
        self.process_changes();
        self.pass = None;
        self.rib.compact();
        for (addr, batch) in std::mem::take(&mut self.batches) {
            self.write_batch(addr, batch);
        }
    }

    /// Turn Loc-RIB changes into kernel outputs and into the peers' pending batches (sent
    /// by [`Speaker::propagate`], or before anything else is sent to that peer).
    ///
    /// Every change is looked at in order against the prefix's state now, so a prefix
    /// changed twice is advertised as it ends up (the second look finds nothing to do).
    fn process_changes(&mut self) {
        if !self.rib.has_changes() {
            return;
        }
        let changes = self.rib.take_raw_changes();
        let mut sessions: Vec<(usize, u32, PeerView, Vec<Family>)> = Vec::new();
        for p in self.peers.values() {
            let Some(n) = p.negotiated.as_ref() else {
                continue;
            };
            let addr = p.cfg.address;
            let at = match self.batches.iter().position(|(a, _)| *a == addr) {
                Some(i) => i,
                None => {
                    self.batches
                        .push((addr, Batch::new(p.session.wire_options())));
                    self.batches.len() - 1
                }
            };
            sessions.push((at, p.slot, self.peer_view(p), n.families.clone()));
        }
        // Kept over the whole read: all its prefixes share attribute sets and AdjOut states.
        let (mut exp, mut adj) = self.pass.take().unwrap_or_else(|| {
            (
                Exporter::new(self.local_view(), self.accept_all),
                AdjCache::default(),
            )
        });
        let policy = &*self.policy;
        for (prefix, old, _) in &changes {
            let prefix = *prefix;
            let (kernel, batches) = (&mut self.kernel, &mut self.batches);
            let found = self.rib.update_entry(&prefix, |e| {
                if !same_kernel(old.as_deref(), e.best.as_deref()) {
                    kernel.push(prefix, e.best.as_ref());
                }
                let fam = Family::of(&prefix);
                for (at, slot, view, fams) in &sessions {
                    if !fams.contains(&fam) {
                        continue;
                    }
                    let new = e
                        .best
                        .as_ref()
                        .and_then(|b| exp.export(policy, view, *slot, &prefix, b));
                    step(e, prefix, *slot, new, &mut batches[*at].1, &mut adj);
                }
            });
            // Gone, and never advertised: only the kernel may have it.
            if found.is_none() && kernel_route(old.as_deref()).is_some() {
                self.kernel.push(prefix, None);
            }
        }
        self.rib.recycle_changes(changes);
        self.pass = Some((exp, adj));
    }

    /// [`Speaker::process_changes`] once `n` changes are waiting (keeps the list short).
    fn process_changes_every(&mut self, n: usize) {
        if self.rib.change_count() >= n {
            self.process_changes();
        }
    }

    /// Send the batch pending for a peer, if any.
    fn flush_pending(&mut self, addr: IpAddr) {
        if let Some(i) = self.batches.iter().position(|(a, _)| *a == addr) {
            let (_, b) = self.batches.swap_remove(i);
            self.write_batch(addr, b);
        }
    }

    /// Send a batch, after the one pending for the peer.
    fn send_batch(&mut self, addr: IpAddr, batch: Batch) {
        self.flush_pending(addr);
        self.write_batch(addr, batch);
    }

    /// Encode a peer's batch into UPDATEs (one per attribute set and 4096 bytes), sent as
    /// one write.
    fn write_batch(&mut self, addr: IpAddr, batch: Batch) {
        if batch.is_empty() {
            return;
        }
        let Some(p) = self.peers.get(&addr) else {
            return;
        };
        let Some(conn) = p.conn else { return };
        let bytes = batch.encode();
        if !bytes.is_empty() {
            self.out.push_back(Output::Send { conn, bytes });
        }
    }
}

/// Kernel route changes, 8 bytes per IPv4 prefix: the prefix, and a flag for "no kernel
/// route" (removals need no Loc-RIB lookup when the output is made; after a mass
/// withdrawal such lookups of absent prefixes are the slow kind).
#[derive(Debug, Default)]
struct KernelQueue {
    v4: VecDeque<u64>,
    v6: VecDeque<(ipnet::Ipv6Net, bool)>,
}

/// Bit 63 of a packed IPv4 prefix (which uses bits 0..40): the route is gone.
const GONE: u64 = 1 << 63;

impl KernelQueue {
    fn push(&mut self, p: IpNet, best: Option<&Arc<Path>>) {
        let gone = learned(best.map(|b| &**b)).is_none();
        match p {
            IpNet::V4(n) => self
                .v4
                .push_back(crate::rib::k4(&n) | if gone { GONE } else { 0 }),
            IpNet::V6(n) => self.v6.push_back((n, gone)),
        }
    }
    /// The next prefix, and whether its kernel route is gone.
    fn pop(&mut self) -> Option<(IpNet, bool)> {
        self.v4
            .pop_front()
            .map(|k| (crate::rib::un4(k & !GONE), k & GONE != 0))
            .or_else(|| self.v6.pop_front().map(|(n, g)| (IpNet::V6(n), g)))
    }
    /// After a burst: give the memory back.
    fn shrink(&mut self) {
        if self.v4.capacity() > 1024 {
            self.v4 = VecDeque::new();
        }
        if self.v6.capacity() > 1024 {
            self.v6 = VecDeque::new();
        }
    }
}

/// The kernel route for a best path (learned paths only).
fn kernel_route(p: Option<&Path>) -> Option<KernelRoute> {
    let b = p?;
    match (b.source, b.next_hop) {
        (Source::Peer(peer), Some(next_hop)) => Some(KernelRoute {
            next_hop,
            peer,
            attrs: b.attrs.clone(),
        }),
        _ => None,
    }
}

fn learned(p: Option<&Path>) -> Option<&Path> {
    p.filter(|p| matches!(p.source, Source::Peer(_)) && p.next_hop.is_some())
}

fn same_kernel(a: Option<&Path>, b: Option<&Path>) -> bool {
    match (learned(a), learned(b)) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.source == b.source
                && a.next_hop == b.next_hop
                && (Arc::ptr_eq(&a.attrs, &b.attrs) || a.attrs == b.attrs)
        }
        _ => false,
    }
}

/// Move one prefix's advertisement to one peer from what it was to `new`, recording the
/// UPDATE content in `batch`.
fn step(
    e: &mut Entry,
    prefix: IpNet,
    slot: u32,
    new: Option<Arc<PathAttributes>>,
    batch: &mut Batch,
    adj: &mut AdjCache,
) {
    let cur = e.adj_for(slot);
    if let Some(c) = cur
        && !batch.index.is_empty()
        && batch.index.contains_key(&(Arc::as_ptr(c) as usize))
    {
        // The prefix may already be in this batch with `c`: what comes next must be sent
        // after it.
        batch.seal();
    }
    match (new, cur) {
        (Some(n), Some(c)) if Arc::ptr_eq(&n, c) || *n == **c => {}
        (None, None) => {}
        (Some(n), _) => {
            batch.announce(&n, prefix);
            e.adj = adj.set(&e.adj, slot, Some(&n));
        }
        (None, Some(_)) => {
            batch.withdraw(prefix);
            e.adj = adj.set(&e.adj, slot, None);
        }
    }
}

/// A path (kept alive: its address is the cache key) and its export towards one peer.
type Exported = (Arc<Path>, Option<Arc<PathAttributes>>);
/// (path address, peer slot, IPv6).
type ExportKey = (usize, u32, bool);

/// Export with memory: the attributes a path gets towards one peer are computed once per
/// pass and shared by every prefix of the path (the policy still sees each prefix).
struct Exporter {
    local: LocalView,
    accept_all: bool,
    cache: HashMap<ExportKey, Exported, Hasher>,
    /// The last lookup (its path is kept alive by `cache`).
    last: Option<(ExportKey, Option<Arc<PathAttributes>>)>,
    /// Attribute sets the policy produced, shared by value.
    made: std::collections::HashSet<Arc<PathAttributes>, Hasher>,
}

impl Exporter {
    fn new(local: LocalView, accept_all: bool) -> Exporter {
        Exporter {
            local,
            accept_all,
            cache: HashMap::with_hasher(Hasher::default()),
            last: None,
            made: std::collections::HashSet::with_hasher(Hasher::default()),
        }
    }

    fn export(
        &mut self,
        policy: &dyn RoutePolicy,
        view: &PeerView,
        slot: u32,
        prefix: &IpNet,
        best: &Arc<Path>,
    ) -> Option<Arc<PathAttributes>> {
        let key = (
            Arc::as_ptr(best) as usize,
            slot,
            matches!(prefix, IpNet::V6(_)),
        );
        let base = match &self.last {
            Some((k, a)) if *k == key => a.clone(),
            _ => {
                let local = &self.local;
                let a = self
                    .cache
                    .entry(key)
                    .or_insert_with(|| {
                        let a = export_attrs(local, view, prefix, best).map(Arc::new);
                        (best.clone(), a)
                    })
                    .1
                    .clone();
                self.last = Some((key, a.clone()));
                a
            }
        }?;
        if self.accept_all {
            return Some(base);
        }
        let learned_from = match best.source {
            Source::Local => None,
            Source::Peer(a) => Some(a),
        };
        let mut a = (*base).clone();
        if !policy.export(view, prefix, &mut a, learned_from) {
            return None;
        }
        if a == *base {
            return Some(base);
        }
        if let Some(m) = self.made.get(&a) {
            return Some(m.clone());
        }
        let a = Arc::new(a);
        self.made.insert(a.clone());
        Some(a)
    }
}

/// What one peer is to be sent: withdrawals, and announcements grouped by attribute set.
/// Within an open part withdrawals go first; a part is sealed (encoded) before a prefix it
/// may hold changes again, so the peer sees every prefix's changes in order. IPv4 prefixes
/// are kept in wire form (5 bytes for a /26).
struct Batch {
    opts: WireOptions,
    /// UPDATEs of sealed parts.
    done: Vec<u8>,
    part: Part,
    /// Group index by attribute-set address (the group keeps the set alive).
    index: HashMap<usize, usize, Hasher>,
    /// The last group used.
    last: Option<(usize, usize)>,
}

#[derive(Default)]
struct Part {
    /// IPv4 withdrawals, encoded.
    w4: Vec<u8>,
    w6: Vec<IpNet>,
    groups: Vec<Group>,
}

struct Group {
    attrs: Arc<PathAttributes>,
    /// IPv4 NLRI, encoded.
    v4: Vec<u8>,
    v6: Vec<IpNet>,
}

impl Batch {
    fn new(opts: WireOptions) -> Batch {
        Batch {
            opts,
            done: Vec::new(),
            part: Part::default(),
            index: HashMap::with_hasher(Hasher::default()),
            last: None,
        }
    }

    /// Encode the open part.
    fn seal(&mut self) {
        let part = std::mem::take(&mut self.part);
        self.index.clear();
        self.last = None;
        encode_part(part, self.opts, &mut self.done);
    }

    fn announce(&mut self, a: &Arc<PathAttributes>, prefix: IpNet) {
        let key = Arc::as_ptr(a) as usize;
        let groups = &mut self.part.groups;
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let i = *self.index.entry(key).or_insert_with(|| {
                    groups.push(Group {
                        attrs: a.clone(),
                        v4: Vec::new(),
                        v6: Vec::new(),
                    });
                    groups.len() - 1
                });
                self.last = Some((key, i));
                i
            }
        };
        let g = &mut groups[i];
        match prefix {
            IpNet::V4(_) => encode_prefix(&prefix, &mut g.v4),
            IpNet::V6(_) => g.v6.push(prefix),
        }
    }

    fn withdraw(&mut self, prefix: IpNet) {
        match prefix {
            IpNet::V4(_) => encode_prefix(&prefix, &mut self.part.w4),
            IpNet::V6(_) => self.part.w6.push(prefix),
        }
    }

    fn is_empty(&self) -> bool {
        self.done.is_empty()
            && self.part.w4.is_empty()
            && self.part.w6.is_empty()
            && self.part.groups.is_empty()
    }

    /// All the UPDATEs.
    fn encode(mut self) -> Vec<u8> {
        self.seal();
        self.done
    }
}

/// Split encoded prefixes into runs of at most `budget` bytes.
fn byte_chunks(b: &[u8], budget: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        let n = 1 + usize::from(b[i]).div_ceil(8);
        if i + n - start > budget && i > start {
            out.push(&b[start..i]);
            start = i;
        }
        i += n;
    }
    if start < b.len() {
        out.push(&b[start..]);
    }
    out
}

/// Withdrawals first, then the announcements, prefixes in the order given.
fn encode_part(part: Part, opts: WireOptions, out: &mut Vec<u8>) {
    for chunk in byte_chunks(&part.w4, MAX_MESSAGE_LEN - HEADER_LEN - 4) {
        let at = begin_update(out);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(&[0, 0]);
        end_update(out, at);
    }
    for chunk in chunks(&part.w6, MAX_MESSAGE_LEN - HEADER_LEN - 4 - 7) {
        let mut u = Update::default();
        u.attrs.mp_unreach = Some(MpUnreach {
            afi_safi: AfiSafi::IPV6_UNICAST,
            withdrawn: chunk.to_vec(),
        });
        if let Ok(b) = Message::Update(u).encode(opts) {
            out.extend_from_slice(&b);
        }
    }
    for g in part.groups {
        let a = &g.attrs;
        if !g.v6.is_empty() {
            let budget = MAX_MESSAGE_LEN.saturating_sub(crate::wire::update_overhead(a, opts) + 2);
            for chunk in chunks(&g.v6, budget) {
                let mut u = Update {
                    attrs: (**a).clone(),
                    ..Default::default()
                };
                if let Some(m) = u.attrs.mp_reach.as_mut() {
                    m.nlri = chunk.to_vec();
                }
                if let Ok(b) = Message::Update(u).encode(opts) {
                    out.extend_from_slice(&b);
                }
            }
        }
        if g.v4.is_empty() {
            continue;
        }
        // IPv4: the attributes are encoded once for all the UPDATEs of the group.
        let mut ab = Vec::new();
        encode_attributes(a, opts, &mut ab);
        let budget = MAX_MESSAGE_LEN.saturating_sub(HEADER_LEN + 4 + ab.len());
        for chunk in byte_chunks(&g.v4, budget) {
            let at = begin_update(out);
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(ab.len() as u16).to_be_bytes());
            out.extend_from_slice(&ab);
            out.extend_from_slice(chunk);
            end_update(out, at);
        }
    }
}

/// Start an UPDATE in `out` (marker, length to fill, type); returns where it starts.
fn begin_update(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&[0, 0, 2]);
    at
}

fn end_update(out: &mut [u8], at: usize) {
    let len = (out.len() - at) as u16;
    out[at + 16..at + 18].copy_from_slice(&len.to_be_bytes());
}

/// A ROUTE-REFRESH for one family: subtype 0 request, 1 BoRR, 2 EoRR (RFC 7313).
fn refresh_marker(f: Family, subtype: u8) -> Message {
    Message::RouteRefresh(RouteRefresh {
        afi_safi: f.afi_safi(),
        subtype,
    })
}

/// Split prefixes into runs whose encoded size fits `budget` bytes.
fn chunks(prefixes: &[IpNet], budget: usize) -> Vec<&[IpNet]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, p) in prefixes.iter().enumerate() {
        let n = 1 + usize::from(p.prefix_len()).div_ceil(8);
        if size + n > budget && i > start {
            out.push(&prefixes[start..i]);
            start = i;
            size = 0;
        }
        size += n;
    }
    if start < prefixes.len() {
        out.push(&prefixes[start..]);
    }
    out
}

fn session_config(s: &SpeakerConfig, p: &PeerConfig) -> SessionConfig {
    let mut gr = s.graceful_restart.clone();
    if let (Some(g), Some(t)) = (gr.as_mut(), p.max_restart_time) {
        g.restart_time = t;
    }
    SessionConfig {
        local_as: p.local_as.unwrap_or(s.local_as),
        remote_as: p.remote_as,
        router_id: s.router_id,
        hold_time: p.hold_time,
        keepalive_time: p.keepalive_time,
        connect_retry: p.connect_retry,
        passive: p.passive,
        families: p.families.clone(),
        graceful_restart: gr,
    }
}
