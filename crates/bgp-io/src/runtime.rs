//! The speaker runtime: one dedicated thread (in the node's network namespace when given)
//! owning a current-thread tokio runtime, the TCP listener, the connections, the kernel route
//! table and the sans-IO [`Speaker`].
//!
//! ```text
//!  SpeakerHandle ──Command──▶ ┌──────────── speaker thread (setns NS) ─────────────┐
//!  (any thread)               │ main loop: select { command, accept, io event, timer }│
//!                             │   └─▶ Speaker::{add_peer, accepted, received, tick…}  │
//!                             │   ◀── Output::{Connect, Send, Close, Route, Session*} │
//!                             │ per connection: reader task ──IoEvent──▶ main loop   │
//!                             │                 writer task ◀──bytes/close── main     │
//!                             │ Route → routes::plan_route → kernel::Netlink (186)    │
//!                             └────────── status snapshot (Arc<Mutex>) + JSON file ──┘
//! ```
//! Stopping the runtime closes the connections without withdrawing anything and leaves the
//! kernel routes in place (BIRD's `persist`): peers with graceful restart keep forwarding to
//! this node while it restarts; a restarted runtime sweeps routes it did not re-learn after
//! `stale_sweep`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use calico_bgp::export::RoutePolicy;
use calico_bgp::fsm::State;
use calico_bgp::speaker::{
    ConnId, LocalRoute, Output, PeerConfig, PeerStatus, Speaker, SpeakerConfig,
};
use ipnet::IpNet;
use nix::sched::{CloneFlags, setns};
use std::os::fd::{AsFd, OwnedFd};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;

use crate::kernel::{BGP_ROUTE_PROTOCOL, Netlink, RouteTable};
use crate::routes::{LocalSubnet, PoolRouting, RoutePlan, plan_route};
use crate::status::{self, PeerRow, StatusFile};

/// The longest a peer-table change other than a session going up or down waits before the
/// status snapshot and file show it.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// The longest a session going up or down waits before the peer table shows it.
pub const PUBLISH_SESSIONS_EVERY: Duration = Duration::from_millis(100);

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub speaker: SpeakerConfig,
    pub peers: Vec<PeerConfig>,
    /// Prefixes to originate from the start.
    pub originate: Vec<IpNet>,
    /// Listening address (Calico: port 179, or `listenPort`).
    pub listen: SocketAddr,
    /// Source address of outgoing connections (Calico: `source address <node IP>`).
    pub source: Option<IpAddr>,
    /// Run in this network namespace (`/run/netns/NAME`); `None`: the caller's.
    pub netns: Option<PathBuf>,
    /// Install best routes in the kernel.
    pub install_routes: bool,
    pub route_protocol: u8,
    pub pools: Vec<PoolRouting>,
    /// This node's subnets; `None`: the kernel's addresses at start.
    pub local_subnets: Option<Vec<LocalSubnet>>,
    /// Where to write the peer table (`calicoctl node status`).
    pub status_file: Option<PathBuf>,
    /// After a start, our kernel routes not re-learned within this time are removed.
    pub stale_sweep: Duration,
}

impl RuntimeConfig {
    pub fn new(speaker: SpeakerConfig) -> Self {
        Self {
            speaker,
            peers: Vec::new(),
            originate: Vec::new(),
            listen: SocketAddr::from(([0, 0, 0, 0], 179)),
            source: None,
            netns: None,
            install_routes: true,
            route_protocol: BGP_ROUTE_PROTOCOL,
            pools: Vec::new(),
            local_subnets: None,
            status_file: None,
            stale_sweep: Duration::from_secs(120),
        }
    }
}

/// A runtime failure at start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("entering network namespace {path}: {detail}")]
    Netns { path: String, detail: String },
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the speaker thread: {0}")]
    Thread(String),
    #[error(transparent)]
    Kernel(#[from] crate::kernel::KernelError),
    /// The peer's `password` cannot be used as a TCP MD5 key (too long, or the kernel
    /// refused it).
    #[error("peer {peer}: password (TCP MD5 key): {source}")]
    Md5 {
        peer: IpAddr,
        #[source]
        source: calico_linux::LinuxError,
    },
}

enum Command {
    AddPeer(PeerConfig),
    RemovePeer(IpAddr),
    Originate(IpNet),
    Withdraw(IpNet),
    SetPools(Vec<PoolRouting>),
    SetPolicy(Box<dyn RoutePolicy>),
    SetBlackholes(BTreeSet<IpNet>),
    Stop,
}

enum IoEvent {
    Connected(ConnId, TcpStream),
    ConnectFailed(ConnId),
    Data(ConnId, Vec<u8>),
    Closed(ConnId),
}

enum Write {
    Bytes(Vec<u8>),
    Close,
}

/// Handle on a running speaker; dropping it stops the runtime (connections closed, kernel
/// routes kept).
#[derive(Debug)]
pub struct SpeakerHandle {
    tx: mpsc::UnboundedSender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
    status: Arc<Mutex<Vec<PeerRow>>>,
}

impl SpeakerHandle {
    /// Start the runtime; returns once it listens (or failed to).
    pub fn spawn(cfg: RuntimeConfig) -> Result<Self, RuntimeError> {
        for p in &cfg.peers {
            if let Some(pw) = &p.password
                && pw.len() > calico_linux::TCP_MD5SIG_MAXKEYLEN
            {
                return Err(RuntimeError::Md5 {
                    peer: p.address,
                    source: calico_linux::LinuxError::Invalid(format!(
                        "peer {}: password is {} bytes, expected at most {}",
                        p.address,
                        pw.len(),
                        calico_linux::TCP_MD5SIG_MAXKEYLEN
                    )),
                });
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let status = Arc::new(Mutex::new(Vec::new()));
        let st = status.clone();
        let thread = std::thread::Builder::new()
            .name("bgp-speaker".into())
            .spawn(move || {
                if let Some(p) = &cfg.netns {
                    let r = File::open(p).map_err(|e| e.to_string()).and_then(|f| {
                        setns(f, CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())
                    });
                    if let Err(detail) = r {
                        let _ = ready_tx.send(Err(RuntimeError::Netns {
                            path: p.display().to_string(),
                            detail,
                        }));
                        return;
                    }
                }
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .enable_time()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(RuntimeError::Thread(e.to_string())));
                        return;
                    }
                };
                rt.block_on(run(cfg, rx, ready_tx, st));
            })
            .map_err(|e| RuntimeError::Thread(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                tx,
                thread: Some(thread),
                status,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(RuntimeError::Thread(
                    "the speaker thread ended at start".into(),
                ))
            }
        }
    }

    pub fn add_peer(&self, p: PeerConfig) {
        let _ = self.tx.send(Command::AddPeer(p));
    }
    pub fn remove_peer(&self, addr: IpAddr) {
        let _ = self.tx.send(Command::RemovePeer(addr));
    }
    pub fn originate(&self, prefix: IpNet) {
        let _ = self.tx.send(Command::Originate(prefix));
    }
    pub fn withdraw(&self, prefix: IpNet) {
        let _ = self.tx.send(Command::Withdraw(prefix));
    }
    /// Replace the pools that decide how learned routes are installed; every installed
    /// route is planned again.
    pub fn set_pools(&self, pools: Vec<PoolRouting>) {
        let _ = self.tx.send(Command::SetPools(pools));
    }
    /// Replace the set of blackhole routes (the blocks affine to this node); only when
    /// routes are installed.
    pub fn set_blackholes(&self, blocks: BTreeSet<IpNet>) {
        let _ = self.tx.send(Command::SetBlackholes(blocks));
    }
    /// Replace the import/export policy: exports are re-evaluated at once and established
    /// peers are asked to send their routes again (route refresh) for import.
    pub fn set_policy(&self, policy: Box<dyn RoutePolicy>) {
        let _ = self.tx.send(Command::SetPolicy(policy));
    }
    /// The peer table as of the last event.
    pub fn status(&self) -> Vec<PeerRow> {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
    /// Whether the runtime thread still runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
    /// Stop and wait for the thread.
    pub fn stop(mut self) {
        self.stop_inner();
    }
    fn stop_inner(&mut self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SpeakerHandle {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

struct Loop {
    speaker: Speaker,
    start: Instant,
    io_tx: mpsc::UnboundedSender<IoEvent>,
    writers: HashMap<ConnId, mpsc::UnboundedSender<Write>>,
    readers: HashMap<ConnId, tokio::task::JoinHandle<()>>,
    table: Option<Netlink>,
    pools: Vec<PoolRouting>,
    local: Vec<LocalSubnet>,
    source: Option<IpAddr>,
    installed: HashSet<IpNet>,
    blackholes: BTreeSet<IpNet>,
    stale: HashSet<IpNet>,
    status: Arc<Mutex<Vec<PeerRow>>>,
    status_file: Option<PathBuf>,
    last_rows: Vec<PeerRow>,
    /// A session went up or down since the last publish.
    sessions_changed: bool,
    /// Something may have changed since the last publish.
    publish_pending: bool,
    last_publish: Instant,
    /// The listening socket (a duplicate descriptor), for per-peer TCP MD5 keys.
    listen_fd: OwnedFd,
    listen_v6: bool,
    /// TCP MD5 passwords of the peers that have one.
    passwords: HashMap<IpAddr, String>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A `calicoctl node status` row from the speaker's status; `now` is the speaker clock.
pub fn row(p: &PeerStatus, now: Duration, unix_now: u64) -> PeerRow {
    let ago = now.saturating_sub(p.since).as_secs();
    PeerRow {
        address: p.address.to_string(),
        peer_type: p.description.clone(),
        state: match p.state {
            State::Established => "up",
            State::Idle => "start",
            _ => "start",
        }
        .into(),
        since: status::clock(unix_now.saturating_sub(ago)),
        info: p.info.clone(),
    }
}

impl Loop {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    async fn drain(&mut self) {
        while let Some(o) = self.speaker.poll_output() {
            match o {
                Output::Connect { conn, peer, port } => {
                    let tx = self.io_tx.clone();
                    let source = self.source;
                    let password = self.passwords.get(&peer).cloned();
                    tokio::spawn(async move {
                        let r = tokio::time::timeout(
                            Duration::from_secs(5),
                            connect(SocketAddr::new(peer, port), source, password),
                        )
                        .await;
                        let _ = tx.send(match r {
                            Ok(Ok(s)) => IoEvent::Connected(conn, s),
                            _ => IoEvent::ConnectFailed(conn),
                        });
                    });
                }
                Output::Send { conn, bytes } => {
                    if let Some(w) = self.writers.get(&conn) {
                        let _ = w.send(Write::Bytes(bytes));
                    }
                }
                Output::Close { conn } => {
                    if let Some(w) = self.writers.remove(&conn) {
                        let _ = w.send(Write::Close);
                    }
                    if let Some(r) = self.readers.remove(&conn) {
                        r.abort();
                    }
                }
                Output::Route { prefix, route } => {
                    self.route(prefix, route.map(|r| r.next_hop)).await
                }
                Output::SessionUp { .. } | Output::SessionDown { .. } => {
                    self.sessions_changed = true;
                }
            }
        }
        self.publish(false);
    }

    async fn route(&mut self, prefix: IpNet, next_hop: Option<IpAddr>) {
        self.stale.remove(&prefix);
        let Some(t) = self.table.as_mut() else {
            return;
        };
        let plan = next_hop.map(|nh| plan_route(prefix, nh, &self.pools, &self.local));
        match plan {
            Some(RoutePlan::Install(spec)) => match t.replace(&spec).await {
                Ok(()) => {
                    self.installed.insert(prefix);
                }
                Err(e) => eprintln!("bgp: {e}"),
            },
            Some(RoutePlan::Unreachable { next_hop }) => {
                eprintln!("bgp: route {prefix} via {next_hop}: next hop on no local subnet");
                if self.installed.remove(&prefix) {
                    let _ = t.delete(prefix).await;
                }
            }
            Some(RoutePlan::DataplaneOwned) | None => {
                if self.installed.remove(&prefix)
                    && let Err(e) = t.delete(prefix).await
                {
                    eprintln!("bgp: {e}");
                }
            }
        }
    }

    /// How long after the last publish the next one may happen.
    fn publish_interval(&self) -> Duration {
        if self.sessions_changed {
            PUBLISH_SESSIONS_EVERY
        } else {
            PUBLISH_EVERY
        }
    }

    /// Refresh the peer table (the status snapshot and file). Rebuilding it costs O(peers), so
    /// it happens at most every [`PUBLISH_SESSIONS_EVERY`] when sessions went up or down and
    /// every [`PUBLISH_EVERY`] for other changes (Connect, Active, an error text); the main
    /// loop's publish timer catches up. Doing it on every event made the loop O(peers²) per
    /// hold time and stalled it at ~2,000 sessions; once per session going up still made
    /// bringing up 4,000 sessions take 35–40 s.
    fn publish(&mut self, force: bool) {
        if !force && self.last_publish.elapsed() < self.publish_interval() {
            self.publish_pending = true;
            return;
        }
        self.sessions_changed = false;
        self.publish_pending = false;
        self.last_publish = Instant::now();
        let now = self.now();
        let unix = unix_now();
        let rows: Vec<PeerRow> = self
            .speaker
            .peer_status()
            .iter()
            .map(|p| row(p, now, unix))
            .collect();
        // "since" moves with the wall clock only through rounding: compare without it.
        let key = |r: &[PeerRow]| -> Vec<(String, String, String)> {
            r.iter()
                .map(|x| (x.address.clone(), x.state.clone(), x.info.clone()))
                .collect()
        };
        if key(&rows) == key(&self.last_rows) {
            return;
        }
        if let Ok(mut s) = self.status.lock() {
            *s = rows.clone();
        }
        if let Some(p) = &self.status_file
            && let Err(e) = status::write(
                p,
                &StatusFile {
                    peers: rows.clone(),
                },
            )
        {
            eprintln!("bgp: {e}");
        }
        self.last_rows = rows;
    }

    fn register(&mut self, conn: ConnId, stream: TcpStream) {
        let (mut rd, mut wr) = stream.into_split();
        let (wtx, mut wrx) = mpsc::unbounded_channel::<Write>();
        tokio::spawn(async move {
            while let Some(w) = wrx.recv().await {
                match w {
                    Write::Bytes(b) => {
                        if wr.write_all(&b).await.is_err() {
                            break;
                        }
                    }
                    Write::Close => break,
                }
            }
            let _ = wr.shutdown().await;
        });
        let tx = self.io_tx.clone();
        let reader = tokio::spawn(async move {
            // Messages are at most 4 KiB (no extended messages): 16 KiB reads take several.
            let mut buf = vec![0u8; 16384];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(IoEvent::Closed(conn));
                        return;
                    }
                    Ok(n) => {
                        if tx.send(IoEvent::Data(conn, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        self.writers.insert(conn, wtx);
        self.readers.insert(conn, reader);
    }

    async fn io(&mut self, ev: IoEvent) {
        let now = self.now();
        match ev {
            IoEvent::Connected(conn, stream) => {
                let local = stream.local_addr().map(|a| a.ip());
                match local {
                    Ok(l) => {
                        self.register(conn, stream);
                        self.speaker.connected(conn, l, now);
                    }
                    Err(_) => self.speaker.connect_failed(conn, now),
                }
            }
            IoEvent::ConnectFailed(conn) => self.speaker.connect_failed(conn, now),
            IoEvent::Data(conn, bytes) => {
                if self.writers.contains_key(&conn) {
                    self.speaker.received(conn, &bytes, now);
                }
            }
            IoEvent::Closed(conn) => {
                if self.writers.remove(&conn).is_some() {
                    self.readers.remove(&conn);
                    self.speaker.closed(conn, now);
                }
            }
        }
        self.drain().await;
    }

    /// Install (or, with `None`, remove) `peer`'s TCP MD5 key on the listening socket and
    /// remember it for outgoing connections.
    fn set_password(&mut self, peer: IpAddr, password: Option<&str>) -> Result<(), RuntimeError> {
        let had = match password {
            Some(pw) => self.passwords.insert(peer, pw.to_owned()).is_some(),
            None => self.passwords.remove(&peer).is_some(),
        };
        if password.is_none() && !had {
            return Ok(());
        }
        let Some(addr) = md5_listen_addr(self.listen_v6, peer) else {
            // An IPv6 peer cannot reach an IPv4 listener; outgoing connections still sign.
            return Ok(());
        };
        let key = password.unwrap_or("").as_bytes();
        calico_linux::set_tcp_md5sig(self.listen_fd.as_fd(), addr, key)
            .map_err(|source| RuntimeError::Md5 { peer, source })
    }

    async fn accept(&mut self, stream: TcpStream, peer: SocketAddr) {
        let now = self.now();
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        if let Some(conn) = self.speaker.accepted(peer.ip(), local.ip(), now) {
            self.register(conn, stream);
        }
        self.drain().await;
    }

    async fn command(&mut self, c: Command) {
        let now = self.now();
        match c {
            Command::AddPeer(p) => {
                if let Err(e) = self.set_password(p.address, p.password.as_deref()) {
                    eprintln!("bgp: {e}");
                }
                self.speaker.add_peer(p, now)
            }
            Command::RemovePeer(a) => {
                if let Err(e) = self.set_password(a, None) {
                    eprintln!("bgp: {e}");
                }
                self.speaker.remove_peer(a, now)
            }
            Command::Originate(p) => self.speaker.originate(p, LocalRoute::default(), now),
            Command::Withdraw(p) => self.speaker.withdraw(p, now),
            Command::SetPools(pools) => {
                self.pools = pools;
                let best: Vec<(IpNet, IpAddr)> = self
                    .speaker
                    .rib()
                    .iter_best()
                    .filter_map(|(prefix, path)| Some((*prefix, path.next_hop?)))
                    .collect();
                for (prefix, nh) in best {
                    self.route(prefix, Some(nh)).await;
                }
            }
            Command::SetBlackholes(want) => self.blackholes(want).await,
            Command::SetPolicy(policy) => {
                self.speaker.set_policy(policy);
                self.speaker.policy_changed(now);
            }
            Command::Stop => {}
        }
        self.drain().await;
    }

    async fn blackholes(&mut self, want: BTreeSet<IpNet>) {
        let Some(t) = self.table.as_mut() else {
            return;
        };
        for p in self.blackholes.difference(&want) {
            // A learned route may have taken the prefix meanwhile; leave that one.
            if !self.installed.contains(p)
                && let Err(e) = t.delete(*p).await
            {
                eprintln!("bgp: {e}");
            }
        }
        for p in &want {
            self.stale.remove(p);
            self.installed.remove(p);
            if let Err(e) = t.replace_blackhole(*p).await {
                eprintln!("bgp: {e}");
            }
        }
        self.blackholes = want;
    }

    async fn sweep(&mut self) {
        let stale: Vec<IpNet> = self.stale.drain().collect();
        if let Some(t) = self.table.as_mut() {
            for p in stale {
                if let Err(e) = t.delete(p).await {
                    eprintln!("bgp: {e}");
                }
            }
        }
    }
}

/// The address to key a peer's TCP MD5 password on, on a listener of that family (an IPv4
/// peer of an IPv6 listener arrives v4-mapped); `None` for an IPv6 peer of an IPv4 listener.
fn md5_listen_addr(listen_v6: bool, peer: IpAddr) -> Option<SocketAddr> {
    match (listen_v6, peer) {
        (true, IpAddr::V4(a)) => Some(SocketAddr::new(IpAddr::V6(a.to_ipv6_mapped()), 0)),
        (false, IpAddr::V6(_)) => None,
        (_, a) => Some(SocketAddr::new(a, 0)),
    }
}

async fn connect(
    to: SocketAddr,
    source: Option<IpAddr>,
    password: Option<String>,
) -> std::io::Result<TcpStream> {
    let sock = if to.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(pw) = password {
        calico_linux::set_tcp_md5sig(sock.as_fd(), to, pw.as_bytes())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    if let Some(s) = source.filter(|s| s.is_ipv4() == to.is_ipv4()) {
        sock.bind(SocketAddr::new(s, 0))?;
    }
    let s = sock.connect(to).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

async fn run(
    cfg: RuntimeConfig,
    mut rx: mpsc::UnboundedReceiver<Command>,
    ready: std::sync::mpsc::Sender<Result<(), RuntimeError>>,
    status: Arc<Mutex<Vec<PeerRow>>>,
) {
    let listener = match bind(cfg.listen) {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut table = None;
    let mut local = cfg.local_subnets.clone().unwrap_or_default();
    let mut stale = HashSet::new();
    if cfg.install_routes || cfg.local_subnets.is_none() {
        match Netlink::open(cfg.route_protocol) {
            Ok(mut t) => {
                if cfg.local_subnets.is_none() {
                    match t.local_subnets().await {
                        Ok(l) => local = l,
                        Err(e) => {
                            let _ = ready.send(Err(e.into()));
                            return;
                        }
                    }
                }
                if cfg.install_routes {
                    if let Ok(existing) = t.destinations().await {
                        stale = existing.into_iter().collect();
                    }
                    table = Some(t);
                }
            }
            Err(e) => {
                let _ = ready.send(Err(e.into()));
                return;
            }
        }
    }
    let listen_fd = match listener.as_fd().try_clone_to_owned() {
        Ok(fd) => fd,
        Err(source) => {
            let _ = ready.send(Err(RuntimeError::Listen {
                addr: cfg.listen,
                source,
            }));
            return;
        }
    };
    let (io_tx, mut io_rx) = mpsc::unbounded_channel();
    let mut lp = Loop {
        speaker: Speaker::new(cfg.speaker.clone()),
        start: Instant::now(),
        io_tx,
        writers: HashMap::new(),
        readers: HashMap::new(),
        installed: stale.clone(),
        blackholes: BTreeSet::new(),
        table,
        pools: cfg.pools.clone(),
        local,
        source: cfg.source,
        stale,
        status,
        status_file: cfg.status_file.clone(),
        sessions_changed: true,
        publish_pending: false,
        last_publish: Instant::now(),
        last_rows: vec![PeerRow {
            address: String::new(),
            peer_type: String::new(),
            state: String::new(),
            since: String::new(),
            info: String::new(),
        }],
        listen_fd,
        listen_v6: cfg.listen.is_ipv6(),
        passwords: HashMap::new(),
    };
    for p in &cfg.peers {
        if let Err(e) = lp.set_password(p.address, p.password.as_deref()) {
            let _ = ready.send(Err(e));
            return;
        }
    }
    let _ = ready.send(Ok(()));
    let now = lp.now();
    for p in &cfg.originate {
        lp.speaker.originate(*p, LocalRoute::default(), now);
    }
    for p in cfg.peers.clone() {
        lp.speaker.add_peer(p, now);
    }
    lp.drain().await;
    let sweep_at = tokio::time::Instant::now() + cfg.stale_sweep;
    let mut swept = false;
    loop {
        let deadline = lp
            .speaker
            .next_deadline()
            .map(|d| tokio::time::Instant::from_std(lp.start + d))
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            c = rx.recv() => match c {
                None | Some(Command::Stop) => break,
                Some(c) => lp.command(c).await,
            },
            Some(ev) = io_rx.recv() => lp.io(ev).await,
            a = listener.accept() => {
                if let Ok((s, peer)) = a {
                    lp.accept(s, peer).await;
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let now = lp.now();
                lp.speaker.tick(now);
                lp.drain().await;
            }
            _ = tokio::time::sleep_until(
                tokio::time::Instant::from_std(lp.last_publish + lp.publish_interval())
            ), if lp.publish_pending => {
                lp.publish(true);
            }
            _ = tokio::time::sleep_until(sweep_at), if !swept => {
                swept = true;
                lp.sweep().await;
            }
        }
    }
    // Stop: close the connections (peers doing graceful restart keep our routes), keep the
    // kernel routes.
    for (_, w) in lp.writers.drain() {
        let _ = w.send(Write::Close);
    }
    for (_, r) in lp.readers.drain() {
        r.abort();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn bind(addr: SocketAddr) -> Result<TcpListener, RuntimeError> {
    let err = |source| RuntimeError::Listen { addr, source };
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    sock.set_reuseaddr(true).map_err(err)?;
    sock.bind(addr).map_err(err)?;
    // A full mesh or a route reflector sees hundreds of peers connect at once after a restart:
    // a short accept queue drops their handshakes into TCP's 1 s, 3 s, 7 s … retries.
    sock.listen(4096).map_err(err)
}
