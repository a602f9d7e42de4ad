//! The RFC 4271 §8 session state machine for one peer, sans-IO.
//!
//! [`Session::handle`] takes an [`Event`] and the current time and returns [`Action`]s. Time
//! is a [`Duration`] since an origin the caller chooses; timers are deadlines kept in the
//! session ([`Session::next_deadline`]) and announced with [`Action::SetTimer`]. Call
//! [`Session::handle`] with [`Event::Timer`]s from [`Session::expired`] when they pass.
//!
//! A session that goes down without being stopped returns to Idle and restarts itself after
//! the connect-retry time (BIRD's "error wait time").

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::wire::{
    AfiSafi, Capability, DecodeError, Decoded, Family, GracefulRestart, Message, Notification,
    Open, WireOptions, codes,
};

/// BIRD's defaults, which Calico keeps: hold 240 s, keepalive hold/3, `connect retry time 5`.
pub const DEFAULT_HOLD_TIME: u16 = 240;
pub const DEFAULT_CONNECT_RETRY: Duration = Duration::from_secs(5);
/// Hold time while waiting for the peer's OPEN (RFC 4271 suggests 4 minutes).
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);
/// BIRD's default graceful restart time.
pub const DEFAULT_RESTART_TIME: u16 = 120;

/// Graceful restart settings (RFC 4724).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrConfig {
    /// Seconds the peer should keep our routes after we go away (`maxRestartTime`).
    pub restart_time: u16,
    /// We restarted and our forwarding state survived: set the R bit and the F bits.
    pub restarting: bool,
    /// Forwarding state preserved across our restart (kernel routes kept).
    pub forwarding_preserved: bool,
}

impl Default for GrConfig {
    fn default() -> Self {
        GrConfig {
            restart_time: DEFAULT_RESTART_TIME,
            restarting: false,
            forwarding_preserved: true,
        }
    }
}

/// What a session needs to know about both ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub local_as: u32,
    pub remote_as: u32,
    pub router_id: Ipv4Addr,
    /// Proposed hold time in seconds (0 disables keepalives).
    pub hold_time: u16,
    /// Keepalive interval in seconds; `None` = a third of the negotiated hold time.
    pub keepalive_time: Option<u16>,
    pub connect_retry: Duration,
    /// Never connect; wait for the peer (Calico: the side with the lower IP).
    pub passive: bool,
    pub families: Vec<Family>,
    /// `None` disables graceful restart (no capability sent, no helper mode).
    pub graceful_restart: Option<GrConfig>,
}

impl SessionConfig {
    pub fn new(local_as: u32, remote_as: u32, router_id: Ipv4Addr) -> SessionConfig {
        SessionConfig {
            local_as,
            remote_as,
            router_id,
            hold_time: DEFAULT_HOLD_TIME,
            keepalive_time: None,
            connect_retry: DEFAULT_CONNECT_RETRY,
            passive: false,
            families: vec![Family::Ipv4, Family::Ipv6],
            graceful_restart: Some(GrConfig::default()),
        }
    }

    pub fn is_ebgp(&self) -> bool {
        self.local_as != self.remote_as
    }

    /// The OPEN this configuration sends.
    pub fn open(&self) -> Open {
        let mut caps: Vec<Capability> = self
            .families
            .iter()
            .map(|f| Capability::Multiprotocol(f.afi_safi()))
            .collect();
        caps.push(Capability::RouteRefresh);
        caps.push(Capability::EnhancedRouteRefresh);
        if let Some(gr) = &self.graceful_restart {
            caps.push(Capability::GracefulRestart(GracefulRestart {
                restarting: gr.restarting,
                notification: false,
                restart_time: gr.restart_time.min(0x0fff),
                families: self
                    .families
                    .iter()
                    .map(|f| (f.afi_safi(), gr.forwarding_preserved))
                    .collect(),
            }));
        }
        caps.push(Capability::FourOctetAs(self.local_as));
        Open::new(self.local_as, self.hold_time, self.router_id, caps)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl State {
    /// BIRD's spelling, used by `calicoctl node status`.
    pub fn name(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    ConnectRetry,
    Hold,
    Keepalive,
}

/// Inputs to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    ManualStart,
    /// Stop with a Cease (administrative shutdown); no automatic restart.
    ManualStop,
    /// Our outbound connection is up.
    TcpConnectionConfirmed,
    /// The peer's inbound connection was accepted for this session.
    TcpConnectionAccepted,
    /// The connection failed or closed.
    TcpConnectionFails,
    Message(Decoded),
    /// The bytes from the peer were unusable; the NOTIFICATION in it is sent.
    DecodeError(DecodeError),
    Timer(TimerKind),
}

/// What the session negotiated with the peer's OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub peer_open: Open,
    pub peer_as: u32,
    pub peer_id: Ipv4Addr,
    pub wire: WireOptions,
    pub hold_time: u16,
    pub keepalive_time: u16,
    /// Families both sides advertised.
    pub families: Vec<Family>,
    pub route_refresh: bool,
    pub enhanced_route_refresh: bool,
    /// The peer's GR capability, when both sides do graceful restart.
    pub peer_graceful_restart: Option<GracefulRestart>,
}

impl Negotiated {
    /// Whether the peer keeps forwarding for `family` across its restart (F bit).
    pub fn peer_forwarding_preserved(&self, family: Family) -> bool {
        self.peer_graceful_restart.as_ref().is_some_and(|g| {
            g.families
                .iter()
                .any(|(f, fwd)| *f == family.afi_safi() && *fwd)
        })
    }
}

/// Why a session went down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownReason {
    pub text: String,
    /// The NOTIFICATION sent or received, if any.
    pub notification: Option<Notification>,
    /// Closed without a NOTIFICATION: a GR helper keeps the peer's routes (RFC 4724 §4.2).
    pub graceful: bool,
}

/// Outputs of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open an outbound TCP connection to the peer.
    Connect,
    Send(Message),
    /// Close the current connection (after sending what was queued).
    CloseConnection,
    /// A timer's new deadline (`None`: stopped).
    SetTimer(TimerKind, Option<Duration>),
    SessionUp(Box<Negotiated>),
    SessionDown(DownReason),
    /// An UPDATE in Established, with any RFC 7606 issues.
    Update(Decoded),
    /// The peer asked for our routes again (RFC 2918).
    RouteRefresh(AfiSafi),
    /// The peer's Beginning (`end: false`) or End (`end: true`) of Route Refresh marker
    /// (RFC 7313 enhanced route refresh).
    RefreshMarker {
        afi_safi: AfiSafi,
        end: bool,
    },
}

/// One BGP session.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    stopped: bool,
    negotiated: Option<Negotiated>,
    timers: [Option<Duration>; 3],
    /// Last state change, for `calicoctl node status` "since".
    since: Duration,
    /// Last error text (BIRD's "info" column).
    last_error: Option<String>,
}

impl Session {
    pub fn new(config: SessionConfig, now: Duration) -> Session {
        Session {
            config,
            state: State::Idle,
            stopped: true,
            negotiated: None,
            timers: [None; 3],
            since: now,
            last_error: None,
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }
    pub fn state(&self) -> State {
        self.state
    }
    pub fn since(&self) -> Duration {
        self.since
    }
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }
    /// The negotiated parameters while in Established.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }
    pub fn wire_options(&self) -> WireOptions {
        self.negotiated.as_ref().map(|n| n.wire).unwrap_or_default()
    }

    /// The earliest running timer's deadline.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.timers.iter().flatten().min().copied()
    }

    /// Timers whose deadline is at or before `now`.
    pub fn expired(&self, now: Duration) -> Vec<TimerKind> {
        [
            TimerKind::ConnectRetry,
            TimerKind::Hold,
            TimerKind::Keepalive,
        ]
        .into_iter()
        .filter(|k| self.timers[*k as usize].is_some_and(|d| d <= now))
        .collect()
    }

    fn set_timer(&mut self, k: TimerKind, d: Option<Duration>, out: &mut Vec<Action>) {
        self.timers[k as usize] = d;
        out.push(Action::SetTimer(k, d));
    }

    fn goto(&mut self, s: State, now: Duration) {
        if s != self.state {
            self.state = s;
            self.since = now;
        }
    }

    fn hold_duration(&self) -> Option<Duration> {
        match &self.negotiated {
            Some(n) if n.hold_time > 0 => Some(Duration::from_secs(u64::from(n.hold_time))),
            Some(_) => None,
            None => Some(OPEN_HOLD_TIME),
        }
    }

    fn keepalive_duration(&self) -> Option<Duration> {
        match &self.negotiated {
            Some(n) if n.keepalive_time > 0 => {
                Some(Duration::from_secs(u64::from(n.keepalive_time)))
            }
            _ => None,
        }
    }

    fn start(&mut self, now: Duration, out: &mut Vec<Action>) {
        self.negotiated = None;
        let retry = Some(now + self.config.connect_retry);
        if self.config.passive {
            self.goto(State::Active, now);
            self.set_timer(TimerKind::ConnectRetry, None, out);
        } else {
            self.goto(State::Connect, now);
            out.push(Action::Connect);
            self.set_timer(TimerKind::ConnectRetry, retry, out);
        }
    }

    /// Leave the session: stop timers, close, report, and (unless stopped) restart later.
    fn down(&mut self, now: Duration, reason: DownReason, out: &mut Vec<Action>) {
        let was_up = self.state == State::Established;
        self.last_error = Some(reason.text.clone());
        out.push(Action::CloseConnection);
        self.set_timer(TimerKind::Hold, None, out);
        self.set_timer(TimerKind::Keepalive, None, out);
        self.negotiated = None;
        self.goto(State::Idle, now);
        if !self.stopped {
            let retry = Some(now + self.config.connect_retry);
            self.set_timer(TimerKind::ConnectRetry, retry, out);
        } else {
            self.set_timer(TimerKind::ConnectRetry, None, out);
        }
        if was_up {
            out.push(Action::SessionDown(reason));
        }
    }

    fn notify_and_down(
        &mut self,
        now: Duration,
        n: Notification,
        text: String,
        out: &mut Vec<Action>,
    ) {
        out.push(Action::Send(Message::Notification(n.clone())));
        self.down(
            now,
            DownReason {
                text,
                notification: Some(n),
                graceful: false,
            },
            out,
        );
    }

    fn send_open(&mut self, now: Duration, out: &mut Vec<Action>) {
        out.push(Action::Send(Message::Open(self.config.open())));
        self.set_timer(TimerKind::ConnectRetry, None, out);
        self.set_timer(TimerKind::Hold, Some(now + OPEN_HOLD_TIME), out);
        self.goto(State::OpenSent, now);
    }

    /// Check the peer's OPEN and negotiate (RFC 4271 §6.2, RFC 5492).
    fn negotiate(&self, o: &Open) -> Result<Negotiated, (Notification, String)> {
        let c = &self.config;
        let peer_as = o.asn();
        if peer_as != c.remote_as {
            return Err((
                Notification::new(
                    codes::OPEN,
                    codes::OPEN_BAD_PEER_AS,
                    o.my_as.to_be_bytes().to_vec(),
                ),
                format!("BGP OPEN: peer AS {peer_as}, expected {}", c.remote_as),
            ));
        }
        if !c.is_ebgp() && o.bgp_id == c.router_id {
            return Err((
                Notification::new(
                    codes::OPEN,
                    codes::OPEN_BAD_BGP_ID,
                    o.bgp_id.octets().to_vec(),
                ),
                format!("BGP OPEN: iBGP peer uses our own router ID {}", o.bgp_id),
            ));
        }
        let hold_time = c.hold_time.min(o.hold_time);
        let keepalive_time = match c.keepalive_time {
            Some(k) if hold_time > 0 => k.min(hold_time / 3).max(1),
            _ => hold_time / 3,
        };
        let theirs = o.families();
        let families: Vec<Family> = c
            .families
            .iter()
            .copied()
            .filter(|f| theirs.contains(&f.afi_safi()))
            .collect();
        if families.is_empty() {
            let mut data = Vec::new();
            for f in &c.families {
                let a = f.afi_safi();
                data.extend_from_slice(&[1, 4]);
                data.extend_from_slice(&a.afi.to_be_bytes());
                data.extend_from_slice(&[0, a.safi]);
            }
            return Err((
                Notification::new(codes::OPEN, codes::OPEN_UNSUPPORTED_CAPABILITY, data),
                "BGP OPEN: no address family in common with the peer".to_string(),
            ));
        }
        let four = o.has(|c| matches!(c, Capability::FourOctetAs(_)));
        Ok(Negotiated {
            peer_open: o.clone(),
            peer_as,
            peer_id: o.bgp_id,
            wire: WireOptions {
                four_octet_as: four,
            },
            hold_time,
            keepalive_time,
            families,
            route_refresh: o.has(|c| *c == Capability::RouteRefresh),
            enhanced_route_refresh: o.has(|c| *c == Capability::EnhancedRouteRefresh),
            peer_graceful_restart: c
                .graceful_restart
                .as_ref()
                .and(o.graceful_restart().cloned()),
        })
    }

    /// Connection collision (RFC 4271 §6.8) lost by the current connection: send a Cease
    /// (connection collision resolution), close it and wait in Idle for the other connection
    /// ([`Event::TcpConnectionAccepted`]) without reporting a session loss.
    pub fn drop_for_collision(&mut self, now: Duration) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == State::Established {
            return out;
        }
        let n = Notification::cease(codes::CEASE_COLLISION);
        out.push(Action::Send(Message::Notification(n)));
        out.push(Action::CloseConnection);
        self.set_timer(TimerKind::Hold, None, &mut out);
        self.set_timer(TimerKind::Keepalive, None, &mut out);
        self.set_timer(
            TimerKind::ConnectRetry,
            Some(now + self.config.connect_retry),
            &mut out,
        );
        self.negotiated = None;
        self.goto(State::Idle, now);
        out
    }

    /// Replace the configuration (takes effect at the next OPEN).
    pub fn set_config(&mut self, config: SessionConfig) {
        self.config = config;
    }

    /// Feed one event.
    pub fn handle(&mut self, ev: Event, now: Duration) -> Vec<Action> {
        let mut out = Vec::new();
        use State::*;
        match (self.state, ev) {
            (Idle, Event::ManualStart) => {
                self.stopped = false;
                self.start(now, &mut out);
            }
            (_, Event::ManualStart) => self.stopped = false,
            (Idle, Event::ManualStop) => {
                self.stopped = true;
                self.set_timer(TimerKind::ConnectRetry, None, &mut out);
            }
            (Connect | Active, Event::ManualStop) => {
                self.stopped = true;
                self.down(now, reason("stopped"), &mut out);
            }
            (_, Event::ManualStop) => {
                self.stopped = true;
                let n = Notification::cease(codes::CEASE_ADMIN_SHUTDOWN);
                self.notify_and_down(now, n, "administrative shutdown".into(), &mut out);
            }
            (Idle, Event::Timer(TimerKind::ConnectRetry)) => self.start(now, &mut out),
            (Idle, Event::TcpConnectionAccepted) if !self.stopped => self.send_open(now, &mut out),
            (Idle, _) => {}
            (Connect | Active, Event::TcpConnectionConfirmed | Event::TcpConnectionAccepted) => {
                self.send_open(now, &mut out)
            }
            (Connect, Event::Timer(TimerKind::ConnectRetry)) => {
                out.push(Action::CloseConnection);
                out.push(Action::Connect);
                self.set_timer(
                    TimerKind::ConnectRetry,
                    Some(now + self.config.connect_retry),
                    &mut out,
                );
            }
            (Connect, Event::TcpConnectionFails) => {
                self.last_error = Some("connection failed".into());
                self.goto(Active, now);
                self.set_timer(
                    TimerKind::ConnectRetry,
                    Some(now + self.config.connect_retry),
                    &mut out,
                );
            }
            (Active, Event::Timer(TimerKind::ConnectRetry)) => self.start(now, &mut out),
            (Active, Event::TcpConnectionFails) => {}
            (_, Event::DecodeError(e)) => {
                self.notify_and_down(now, e.notification.clone(), e.reason, &mut out)
            }
            (_, Event::TcpConnectionFails) => self.down(
                now,
                DownReason {
                    text: "connection closed".into(),
                    notification: None,
                    graceful: true,
                },
                &mut out,
            ),
            (_, Event::Timer(TimerKind::Hold)) => {
                let n = Notification::new(codes::HOLD_TIMER_EXPIRED, 0, Vec::new());
                self.notify_and_down(now, n, "hold timer expired".into(), &mut out);
            }
            (OpenConfirm | Established, Event::Timer(TimerKind::Keepalive)) => {
                out.push(Action::Send(Message::Keepalive));
                let k = self.keepalive_duration().map(|d| now + d);
                self.set_timer(TimerKind::Keepalive, k, &mut out);
            }
            (_, Event::Timer(_)) => {}
            (_, Event::Message(d)) if matches!(d.message, Message::Notification(_)) => {
                let Message::Notification(n) = d.message else {
                    return out;
                };
                let text = format!("received: {n}");
                self.down(
                    now,
                    DownReason {
                        text,
                        notification: Some(n),
                        graceful: false,
                    },
                    &mut out,
                );
            }
            (
                OpenSent,
                Event::Message(Decoded {
                    message: Message::Open(o),
                    ..
                }),
            ) => match self.negotiate(&o) {
                Err((n, text)) => self.notify_and_down(now, n, text, &mut out),
                Ok(neg) => {
                    self.negotiated = Some(neg);
                    out.push(Action::Send(Message::Keepalive));
                    let k = self.keepalive_duration().map(|d| now + d);
                    self.set_timer(TimerKind::Keepalive, k, &mut out);
                    let h = self.hold_duration().map(|d| now + d);
                    self.set_timer(TimerKind::Hold, h, &mut out);
                    self.goto(OpenConfirm, now);
                }
            },
            (
                OpenConfirm,
                Event::Message(Decoded {
                    message: Message::Keepalive,
                    ..
                }),
            ) => {
                let h = self.hold_duration().map(|d| now + d);
                self.set_timer(TimerKind::Hold, h, &mut out);
                self.goto(Established, now);
                self.last_error = None;
                if let Some(n) = &self.negotiated {
                    out.push(Action::SessionUp(Box::new(n.clone())));
                }
            }
            (Established, Event::Message(d)) => {
                let h = self.hold_duration().map(|d| now + d);
                self.set_timer(TimerKind::Hold, h, &mut out);
                match d.message {
                    Message::Keepalive => {}
                    Message::Update(_) => out.push(Action::Update(d)),
                    Message::RouteRefresh(r) => match r.subtype {
                        0 => out.push(Action::RouteRefresh(r.afi_safi)),
                        1 | 2 => out.push(Action::RefreshMarker {
                            afi_safi: r.afi_safi,
                            end: r.subtype == 2,
                        }),
                        // RFC 7313 §5: reserved subtypes are ignored.
                        _ => {}
                    },
                    _ => {
                        let n = Notification::new(codes::FSM, 0, Vec::new());
                        self.notify_and_down(
                            now,
                            n,
                            "unexpected OPEN in Established".into(),
                            &mut out,
                        );
                    }
                }
            }
            (s, Event::Message(d)) => {
                let n = Notification::new(codes::FSM, fsm_subcode(s), Vec::new());
                let text = format!(
                    "unexpected message type {} in {}",
                    d.message.type_code(),
                    s.name()
                );
                self.notify_and_down(now, n, text, &mut out);
            }
            (_, Event::TcpConnectionConfirmed | Event::TcpConnectionAccepted) => {}
        }
        out
    }
}

fn reason(text: &str) -> DownReason {
    DownReason {
        text: text.into(),
        notification: None,
        graceful: false,
    }
}

/// RFC 6608 FSM error subcodes.
fn fsm_subcode(s: State) -> u8 {
    match s {
        State::OpenSent => 1,
        State::OpenConfirm => 2,
        State::Established => 3,
        _ => 0,
    }
}
