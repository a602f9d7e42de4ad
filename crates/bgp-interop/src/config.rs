//! One description of a BGP speaker ([`PeerConfig`]) rendered into each daemon's own config
//! language. Pure: the renderings are unit-tested as text.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;

/// A neighbour of the configured speaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub addr: Ipv4Addr,
    pub asn: u32,
    /// This neighbour is a route-reflector client of the speaker.
    pub rr_client: bool,
    /// TCP MD5 password.
    pub password: Option<String>,
    /// Negotiate graceful restart (RFC 4724) with this neighbour.
    pub graceful_restart: bool,
    /// Do not initiate the TCP connection (wait for the neighbour).
    pub passive: bool,
}

impl Neighbor {
    /// A plain neighbour: no RR client, no password, no graceful restart, active.
    pub fn new(addr: Ipv4Addr, asn: u32) -> Self {
        Self {
            addr,
            asn,
            rr_client: false,
            password: None,
            graceful_restart: false,
            passive: false,
        }
    }
    pub fn rr_client(mut self) -> Self {
        self.rr_client = true;
        self
    }
    pub fn password(mut self, p: &str) -> Self {
        self.password = Some(p.to_owned());
        self
    }
    pub fn graceful_restart(mut self) -> Self {
        self.graceful_restart = true;
        self
    }
    pub fn passive(mut self) -> Self {
        self.passive = true;
        self
    }
}

/// A speaker: its AS, identity, neighbours, the prefixes it originates and its timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    pub asn: u32,
    pub router_id: Ipv4Addr,
    /// Address the speaker listens on and connects from.
    pub local_addr: Ipv4Addr,
    pub neighbors: Vec<Neighbor>,
    /// Prefixes originated at start (more with [`crate::Daemon::inject`]).
    pub originate: Vec<Ipv4Net>,
    /// Hold time in seconds (keepalive = hold / 3).
    pub hold_time: u16,
    /// Connect-retry time in seconds.
    pub connect_retry: u16,
    /// Route-reflector cluster ID (when it has RR clients).
    pub cluster_id: Option<Ipv4Addr>,
    /// Install BGP routes into the namespace's kernel table (BIRD only; FRR runs without
    /// zebra and GoBGP has no FIB code).
    pub kernel: bool,
    /// Graceful-restart restart time advertised, in seconds.
    pub restart_time: u16,
}

impl PeerConfig {
    /// A speaker at `local_addr` with router ID = address, hold 9 s, connect retry 1 s,
    /// kernel installation on.
    pub fn new(asn: u32, local_addr: Ipv4Addr) -> Self {
        Self {
            asn,
            router_id: local_addr,
            local_addr,
            neighbors: Vec::new(),
            originate: Vec::new(),
            hold_time: 9,
            connect_retry: 1,
            cluster_id: None,
            kernel: true,
            restart_time: 30,
        }
    }
    pub fn neighbor(mut self, n: Neighbor) -> Self {
        self.neighbors.push(n);
        self
    }
    pub fn originate(mut self, p: Ipv4Net) -> Self {
        self.originate.push(p);
        self
    }
    fn keepalive(&self) -> u16 {
        (self.hold_time / 3).max(1)
    }
}

/// BIRD's protocol name for a neighbour.
pub fn bird_proto_name(addr: Ipv4Addr) -> String {
    let o = addr.octets();
    format!("peer_{}_{}_{}_{}", o[0], o[1], o[2], o[3])
}

/// BIRD 2 configuration.
pub fn render_bird(c: &PeerConfig, originate: &[Ipv4Net], log: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "router id {};", c.router_id);
    let _ = writeln!(s, "log \"{}\" all;", log.display());
    s.push_str("protocol device { scan time 10; }\n");
    if c.kernel {
        s.push_str(
            "protocol kernel {\n  ipv4 { import none; export where source = RTS_BGP; };\n  graceful restart on;\n}\n",
        );
    }
    s.push_str("protocol static originated {\n  ipv4;\n");
    for p in originate {
        let _ = writeln!(s, "  route {p} blackhole;");
    }
    s.push_str("}\n");
    for n in &c.neighbors {
        let _ = writeln!(s, "protocol bgp {} {{", bird_proto_name(n.addr));
        let _ = writeln!(s, "  local {} as {};", c.local_addr, c.asn);
        let _ = writeln!(s, "  neighbor {} as {};", n.addr, n.asn);
        let _ = writeln!(
            s,
            "  hold time {}; keepalive time {}; connect retry time {};",
            c.hold_time,
            c.keepalive(),
            c.connect_retry
        );
        s.push_str("  connect delay time 1; error wait time 1, 4;\n");
        if n.asn == c.asn {
            // iBGP is multihop by default in BIRD; the neighbours share the underlay subnet.
            s.push_str("  direct;\n");
        }
        if n.passive {
            s.push_str("  passive on;\n");
        }
        if n.rr_client {
            s.push_str("  rr client;\n");
            if let Some(id) = c.cluster_id {
                let _ = writeln!(s, "  rr cluster id {id};");
            }
        }
        if let Some(p) = &n.password {
            let _ = writeln!(s, "  password \"{p}\";");
        }
        if n.graceful_restart {
            let _ = writeln!(
                s,
                "  graceful restart on; graceful restart time {};",
                c.restart_time
            );
        }
        // iBGP neighbours share the underlay subnet: resolve next hops directly (the default,
        // recursive, would need an IGP route to the next hop in BIRD's table).
        let nh = match (n.asn == c.asn, n.rr_client) {
            (true, false) => " gateway direct; next hop self;",
            (true, true) => " gateway direct;",
            _ => "",
        };
        let _ = writeln!(
            s,
            "  ipv4 {{ import all; export where source ~ [RTS_STATIC, RTS_BGP];{nh} }};"
        );
        s.push_str("}\n");
    }
    s
}

/// GoBGP (TOML) configuration. Originated prefixes are added through the CLI after start.
pub fn render_gobgp(c: &PeerConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "[global.config]\n  as = {}\n  router-id = \"{}\"\n  port = 179\n  local-address-list = [\"{}\"]\n",
        c.asn, c.router_id, c.local_addr
    );
    for n in &c.neighbors {
        s.push_str("[[neighbors]]\n  [neighbors.config]\n");
        let _ = writeln!(
            s,
            "    neighbor-address = \"{}\"\n    peer-as = {}",
            n.addr, n.asn
        );
        if let Some(p) = &n.password {
            let _ = writeln!(s, "    auth-password = \"{p}\"");
        }
        let _ = writeln!(
            s,
            "  [neighbors.timers.config]\n    connect-retry = {}\n    hold-time = {}\n    keepalive-interval = {}\n    idle-hold-time-after-reset = 1",
            c.connect_retry,
            c.hold_time,
            c.keepalive()
        );
        let _ = writeln!(
            s,
            "  [neighbors.transport.config]\n    local-address = \"{}\"\n    passive-mode = {}",
            c.local_addr, n.passive
        );
        if n.rr_client {
            let id = c.cluster_id.unwrap_or(c.router_id);
            let _ = writeln!(
                s,
                "  [neighbors.route-reflector.config]\n    route-reflector-client = true\n    route-reflector-cluster-id = \"{id}\""
            );
        }
        if n.graceful_restart {
            let _ = writeln!(
                s,
                "  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = {}",
                c.restart_time
            );
        }
        s.push_str(
            "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n",
        );
        if n.graceful_restart {
            s.push_str(
                "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n",
            );
        }
        s.push('\n');
    }
    s
}

/// FRR bgpd configuration (bgpd runs without zebra, so nothing reaches its kernel).
pub fn render_frr(c: &PeerConfig, originate: &[Ipv4Net], log: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "hostname bgpi\nlog file {} informational\n!",
        log.display()
    );
    let _ = writeln!(s, "router bgp {}", c.asn);
    let _ = writeln!(s, " bgp router-id {}", c.router_id);
    s.push_str(" no bgp ebgp-requires-policy\n no bgp network import-check\n");
    if let Some(id) = c.cluster_id {
        let _ = writeln!(s, " bgp cluster-id {id}");
    }
    if c.neighbors.iter().any(|n| n.graceful_restart) {
        s.push_str(" bgp graceful-restart\n");
        let _ = writeln!(s, " bgp graceful-restart restart-time {}", c.restart_time);
    }
    let _ = writeln!(s, " timers bgp {} {}", c.keepalive(), c.hold_time);
    for n in &c.neighbors {
        let _ = writeln!(s, " neighbor {} remote-as {}", n.addr, n.asn);
        let _ = writeln!(s, " neighbor {} timers connect {}", n.addr, c.connect_retry);
        if let Some(p) = &n.password {
            let _ = writeln!(s, " neighbor {} password {p}", n.addr);
        }
        if n.passive {
            let _ = writeln!(s, " neighbor {} passive", n.addr);
        }
    }
    s.push_str(" address-family ipv4 unicast\n");
    for p in originate {
        let _ = writeln!(s, "  network {p}");
    }
    for n in &c.neighbors {
        let _ = writeln!(s, "  neighbor {} activate", n.addr);
        if n.rr_client {
            let _ = writeln!(s, "  neighbor {} route-reflector-client", n.addr);
        }
        if n.asn == c.asn && !n.rr_client {
            let _ = writeln!(s, "  neighbor {} next-hop-self", n.addr);
        }
    }
    s.push_str(" exit-address-family\n!\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> PeerConfig {
        PeerConfig::new(65001, Ipv4Addr::new(10, 77, 0, 1))
            .neighbor(
                Neighbor::new(Ipv4Addr::new(10, 77, 0, 2), 65001)
                    .rr_client()
                    .password("s3cret")
                    .graceful_restart(),
            )
            .originate("10.9.0.0/24".parse().expect("net"))
    }

    #[test]
    fn bird_config_has_neighbor_rr_md5_gr_and_statics() {
        let c = cfg();
        let t = render_bird(&c, &c.originate, Path::new("/tmp/x/bird.log"));
        assert!(t.contains("protocol bgp peer_10_77_0_2 {"), "{t}");
        assert!(t.contains("local 10.77.0.1 as 65001;"), "{t}");
        assert!(t.contains("neighbor 10.77.0.2 as 65001;"), "{t}");
        assert!(t.contains("rr client;"), "{t}");
        assert!(t.contains("password \"s3cret\";"), "{t}");
        assert!(
            t.contains("graceful restart on; graceful restart time 30;"),
            "{t}"
        );
        assert!(t.contains("route 10.9.0.0/24 blackhole;"), "{t}");
        assert!(
            t.contains("hold time 9; keepalive time 3; connect retry time 1;"),
            "{t}"
        );
        assert!(t.contains("export where source = RTS_BGP"), "{t}");
    }

    #[test]
    fn gobgp_config_has_neighbor_rr_md5_gr() {
        let t = render_gobgp(&cfg());
        assert!(t.contains("as = 65001"), "{t}");
        assert!(t.contains("neighbor-address = \"10.77.0.2\""), "{t}");
        assert!(t.contains("auth-password = \"s3cret\""), "{t}");
        assert!(t.contains("route-reflector-client = true"), "{t}");
        assert!(t.contains("connect-retry = 1"), "{t}");
        assert!(
            t.contains("[neighbors.afi-safis.mp-graceful-restart.config]"),
            "{t}"
        );
    }

    #[test]
    fn frr_config_has_neighbor_rr_md5_gr_and_networks() {
        let c = cfg();
        let t = render_frr(&c, &c.originate, Path::new("/tmp/x/bgpd.log"));
        assert!(t.contains("router bgp 65001"), "{t}");
        assert!(t.contains(" neighbor 10.77.0.2 remote-as 65001"), "{t}");
        assert!(t.contains(" neighbor 10.77.0.2 password s3cret"), "{t}");
        assert!(
            t.contains("  neighbor 10.77.0.2 route-reflector-client"),
            "{t}"
        );
        assert!(t.contains("  network 10.9.0.0/24"), "{t}");
        assert!(t.contains(" bgp graceful-restart\n"), "{t}");
        assert!(t.contains(" no bgp ebgp-requires-policy"), "{t}");
    }
}
