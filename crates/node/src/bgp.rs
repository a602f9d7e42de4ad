//! The BGP speaker inside calico-node (Calico runs BIRD and confd for this).
//!
//! [`BgpFollower`] sees every datastore change the agent loop sees, keeps the resources BGP
//! depends on in a `calico_bgp_topology::topology::State`, and after each batch (once the
//! first snapshot is complete) turns the node's [`Plan`] into the running speaker's state by
//! difference:
//! - the speaker is (re)started when its AS, router ID, cluster ID or port changes (kernel
//!   routes stay; peers with graceful restart keep forwarding meanwhile);
//! - peers are added, reconfigured and removed one by one;
//! - prefixes (affine blocks, borrowed /32s, service CIDRs) are originated and withdrawn,
//!   and each affine block gets a blackhole route (BIRD's static `blackhole` routes);
//! - the pools (how learned routes are installed) and the route policy (BGPFilters and
//!   Calico's export rules) are replaced when they change.
//!
//! Environment (Calico's, plus calico-rs' own where Calico has none):
//!
//! | variable | meaning (default) |
//! |---|---|
//! | `CALICO_NETWORKING_BACKEND` | `bird` runs the speaker; `vxlan` or `none` do not (`bird`) |
//! | `CALICO_ROUTER_ID` | router ID: an IPv4 address, or `hash` (from the node name) (the node's IPv4 address) |
//! | `CALICO_BGP_STATUS_FILE` | the peer table `calicoctl node status` reads (`/var/run/calico/bgp-status.json`) |
//! | `CALICO_BGP_SECRETS_DIR` | where `secretKeyRef` passwords are read: `<dir>/<secret>/<key>` (`/etc/calico/bgp-secrets`) |

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

use calico_bgp::speaker::{PeerConfig, SpeakerConfig};
use calico_bgp_io::routes::{EncapMode, PoolRouting};
use calico_bgp_io::runtime::{RuntimeConfig, SpeakerHandle};
use calico_bgp_topology::policy::{CalicoPolicy, PolicyInputs};
use calico_bgp_topology::topology::{Encap, NoPlan, Plan, Secrets, SpeakerSettings, State};
use calico_calc::Update;
use ipnet::IpNet;

use crate::decode;
use crate::health::Health;
use crate::syncer::KeyUpdate;
use crate::{info, warn};

/// Health reporter name of the BGP speaker.
pub const BGP: &str = "bgp";
/// Default location of Secrets' keys.
pub const DEFAULT_SECRETS_DIR: &str = "/etc/calico/bgp-secrets";

/// BGP settings from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpEnv {
    /// `CALICO_NETWORKING_BACKEND` is `bird`.
    pub enabled: bool,
    pub router_id: Option<Ipv4Addr>,
    pub status_file: PathBuf,
    pub secrets_dir: PathBuf,
}

impl BgpEnv {
    /// Read the variables through `get` (the environment in production).
    pub fn from(get: &dyn Fn(&str) -> Option<String>, nodename: &str) -> Result<BgpEnv, String> {
        let backend = get("CALICO_NETWORKING_BACKEND").unwrap_or_else(|| "bird".into());
        let enabled = match backend.to_ascii_lowercase().as_str() {
            "bird" => true,
            "vxlan" | "none" => false,
            _ => {
                return Err(format!(
                    "CALICO_NETWORKING_BACKEND={backend:?} is not valid: expected bird, vxlan or none"
                ));
            }
        };
        let router_id = match get("CALICO_ROUTER_ID").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s == "hash" => Some(hash_router_id(nodename)),
            Some(s) => Some(s.parse().map_err(|_| {
                format!("CALICO_ROUTER_ID={s:?} is not valid: expected an IPv4 address or \"hash\"")
            })?),
        };
        Ok(BgpEnv {
            enabled,
            router_id,
            status_file: calico_bgp_io::status::path_from(
                get(calico_bgp_io::status::STATUS_FILE_ENV).map(Into::into),
            ),
            secrets_dir: get("CALICO_BGP_SECRETS_DIR")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SECRETS_DIR)),
        })
    }
}

/// `CALICO_ROUTER_ID=hash`: the first four bytes of the node name's SHA-256, moved out of the
/// multicast and reserved ranges (first octet above 223 less 32), as Calico derives it.
pub fn hash_router_id(nodename: &str) -> Ipv4Addr {
    use sha2::Digest;
    let h = sha2::Sha256::digest(nodename.as_bytes());
    let first = if h[0] > 223 { h[0] - 32 } else { h[0] };
    Ipv4Addr::new(first, h[1], h[2], h[3])
}

/// Secrets as files: `<dir>/<secret>/<key>` (a Kubernetes Secret volume's layout).
#[derive(Debug, Clone)]
pub struct FileSecrets(pub PathBuf);

impl Secrets for FileSecrets {
    fn get(&self, secret: &str, key: &str) -> Result<String, String> {
        let ok = |s: &str| !s.is_empty() && !s.contains('/') && s != "." && s != "..";
        if !ok(secret) || !ok(key) {
            return Err(format!(
                "secret {secret:?} key {key:?}: expected plain names without '/'"
            ));
        }
        let p = self.0.join(secret).join(key);
        std::fs::read_to_string(&p).map_err(|e| format!("reading {}: {e}", p.display()))
    }
}

fn encap(e: Encap) -> EncapMode {
    match e {
        Encap::Never => EncapMode::Never,
        Encap::Always => EncapMode::Always,
        Encap::CrossSubnet => EncapMode::CrossSubnet,
    }
}

/// The pools as the route installer needs them.
pub fn pool_routing(plan: &Plan) -> Vec<PoolRouting> {
    plan.pools
        .iter()
        .map(|p| PoolRouting {
            cidr: p.cidr,
            ipip: encap(p.ipip),
            vxlan: encap(p.vxlan),
        })
        .collect()
}

/// The route policy of a plan, and the problems found building it.
pub fn policy_for(plan: &Plan) -> (CalicoPolicy, Vec<String>) {
    let (inputs, mut problems) = PolicyInputs::from_plan(plan);
    let (policy, more) = CalicoPolicy::new(inputs);
    problems.extend(more);
    (policy, problems)
}

/// What has been handed to the running speaker.
struct Running {
    handle: SpeakerHandle,
    settings: SpeakerSettings,
    peers: BTreeMap<IpAddr, PeerConfig>,
    advertise: BTreeSet<IpNet>,
    pools: Vec<PoolRouting>,
    policy: CalicoPolicy,
    blackholes: BTreeSet<IpNet>,
}

/// Follows the datastore and drives the speaker.
pub struct BgpFollower {
    node: String,
    env: BgpEnv,
    state: State,
    in_sync: bool,
    dirty: bool,
    running: Option<Running>,
    last_problems: Vec<String>,
    last_no_plan: Option<NoPlan>,
    /// Where the speaker runs (`None`: this process's namespace).
    pub netns: Option<PathBuf>,
}

/// Whether a datastore key can matter to BGP (cheap test before decoding).
fn relevant(key: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "/calico/resources/v3/projectcalico.org/bgpconfigurations/",
        "/calico/resources/v3/projectcalico.org/bgppeers/",
        "/calico/resources/v3/projectcalico.org/bgpfilters/",
        "/calico/resources/v3/projectcalico.org/nodes/",
        "/calico/resources/v3/projectcalico.org/ippools/",
        "/calico/resources/v3/projectcalico.org/workloadendpoints/",
        "/calico/ipam/v2/assignment/",
    ];
    PREFIXES.iter().any(|p| key.starts_with(p))
}

impl BgpFollower {
    pub fn new(node: &str, env: BgpEnv) -> BgpFollower {
        BgpFollower {
            node: node.into(),
            env,
            state: State::new(),
            in_sync: false,
            dirty: false,
            running: None,
            last_problems: Vec::new(),
            last_no_plan: None,
            netns: None,
        }
    }

    /// Take one batch of datastore changes and bring the speaker up to date.
    pub fn feed(&mut self, keys: &[KeyUpdate]) {
        for k in keys {
            let key = match k {
                KeyUpdate::InSync => {
                    self.in_sync = true;
                    self.dirty = true;
                    continue;
                }
                KeyUpdate::Put { key, .. } | KeyUpdate::Delete { key } => key,
            };
            if !relevant(key) {
                continue;
            }
            let update = match decode::to_update(k) {
                Ok(u) => u,
                Err(_) => decode::delete_for(key), // logged by the calc loop
            };
            self.dirty |= match update {
                Some(Update::Upsert(r)) => self.state.upsert(r),
                Some(Update::Delete(rk)) => self.state.delete(&rk.kind, &rk.namespace, &rk.name),
                Some(Update::Block(b)) => self.state.block(b.cidr, b.affinity),
                Some(Update::BlockDelete(c)) => self.state.block_delete(c),
                Some(Update::InSync) | None => false,
            };
        }
        if self.in_sync && self.dirty {
            self.dirty = false;
            self.reconcile();
        }
    }

    /// Report readiness: ready when the speaker runs (or BGP is not run on this node) and
    /// every peer is Established, as Calico's `calico-node -bird-ready` does.
    pub fn report(&self, health: &Health) {
        let now = Instant::now();
        if !self.in_sync {
            health.report(BGP, now, false, "waiting for the datastore snapshot");
            return;
        }
        let Some(r) = &self.running else {
            health.report(BGP, now, true, "BGP not running on this node");
            return;
        };
        if !r.handle.is_running() {
            health.report(BGP, now, false, "the BGP speaker has stopped");
            return;
        }
        let rows = r.handle.status();
        let down: Vec<String> = rows
            .iter()
            .filter(|row| row.state != "up")
            .map(|row| format!("{} {}", row.address, row.info))
            .collect();
        if rows.len() < r.peers.len() {
            health.report(BGP, now, false, "BGP peers starting");
        } else if down.is_empty() {
            health.report(BGP, now, true, "all BGP peers established");
        } else {
            health.report(
                BGP,
                now,
                false,
                &format!("BGP not established with {}", down.join(", ")),
            );
        }
    }

    fn reconcile(&mut self) {
        let secrets = FileSecrets(self.env.secrets_dir.clone());
        let plan = match self.state.plan(&self.node, self.env.router_id, &secrets) {
            Ok(p) => p,
            Err(e) => {
                if self.last_no_plan.as_ref() != Some(&e) {
                    info!("BGP: {e}");
                    self.last_no_plan = Some(e);
                }
                if let Some(r) = self.running.take() {
                    info!("BGP: stopping the speaker");
                    r.handle.stop();
                }
                return;
            }
        };
        self.last_no_plan = None;
        let (policy, mut problems) = policy_for(&plan);
        problems.extend(plan.problems.iter().cloned());
        if problems != self.last_problems {
            for p in &problems {
                warn!("BGP: {p}");
            }
            self.last_problems = problems;
        }
        let pools = pool_routing(&plan);
        let restart = self
            .running
            .as_ref()
            .is_none_or(|r| r.settings != plan.speaker || !r.handle.is_running());
        if restart {
            if let Some(r) = self.running.take() {
                info!("BGP: speaker settings changed, restarting the speaker");
                r.handle.stop();
            }
            match self.start(&plan, pools.clone(), policy.clone()) {
                Ok(handle) => {
                    self.running = Some(Running {
                        handle,
                        settings: plan.speaker.clone(),
                        peers: BTreeMap::new(),
                        advertise: BTreeSet::new(),
                        pools: pools.clone(),
                        policy: policy.clone(),
                        blackholes: BTreeSet::new(),
                    });
                }
                Err(e) => {
                    warn!("BGP: cannot start the speaker: {e}");
                    return;
                }
            }
        }
        let Some(r) = self.running.as_mut() else {
            return;
        };
        if !restart {
            if r.pools != pools {
                r.handle.set_pools(pools.clone());
                r.pools = pools;
            }
            if r.policy != policy {
                r.handle.set_policy(Box::new(policy.clone()));
                r.policy = policy;
            }
        }
        for addr in r.peers.keys() {
            if !plan.peers.contains_key(addr) {
                info!("BGP: removing peer {addr}");
                r.handle.remove_peer(*addr);
            }
        }
        for (addr, cfg) in &plan.peers {
            if r.peers.get(addr) != Some(cfg) {
                info!(
                    "BGP: peer {addr} AS {} ({}{})",
                    cfg.remote_as,
                    cfg.description,
                    if cfg.passive { ", passive" } else { "" }
                );
                r.handle.add_peer(cfg.clone());
            }
        }
        r.peers = plan.peers.clone();
        for p in r.advertise.difference(&plan.advertise) {
            r.handle.withdraw(*p);
        }
        for p in plan.advertise.difference(&r.advertise) {
            r.handle.originate(*p);
        }
        r.advertise = plan.advertise.clone();
        if r.blackholes != plan.local_blocks {
            r.handle.set_blackholes(plan.local_blocks.clone());
            r.blackholes = plan.local_blocks.clone();
        }
    }

    fn start(
        &self,
        plan: &Plan,
        pools: Vec<PoolRouting>,
        policy: CalicoPolicy,
    ) -> Result<SpeakerHandle, String> {
        let s = &plan.speaker;
        let mut speaker = SpeakerConfig::new(s.local_as, s.router_id);
        speaker.cluster_id = s.cluster_id;
        let mut cfg = RuntimeConfig::new(speaker);
        cfg.listen = match plan.config.bind_mode.as_deref() {
            Some("NodeIP") => SocketAddr::new(
                s.ipv4
                    .map(IpAddr::V4)
                    .or(s.ipv6.map(IpAddr::V6))
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                s.listen_port,
            ),
            _ => SocketAddr::new(
                if s.ipv4.is_none() && s.ipv6.is_some() {
                    IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
                } else {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                },
                s.listen_port,
            ),
        };
        cfg.source = s.ipv4.map(IpAddr::V4);
        cfg.netns = self.netns.clone();
        cfg.pools = pools;
        cfg.status_file = Some(self.env.status_file.clone());
        info!(
            "BGP: starting the speaker: AS {} router ID {}{} on port {}",
            s.local_as,
            s.router_id,
            s.cluster_id
                .map(|c| format!(" route reflector (cluster {c})"))
                .unwrap_or_default(),
            s.listen_port
        );
        let h = SpeakerHandle::spawn(cfg).map_err(|e| e.to_string())?;
        // Policy before any peer or route, so nothing is sent under the accept-all default.
        h.set_policy(Box::new(policy));
        Ok(h)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn env_parsing() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let e = BgpEnv::from(&env(&[]), "n1").unwrap();
        assert!(e.enabled);
        assert_eq!(e.router_id, None);
        assert_eq!(
            e.status_file,
            PathBuf::from("/var/run/calico/bgp-status.json")
        );
        let e = BgpEnv::from(
            &env(&[
                ("CALICO_NETWORKING_BACKEND", "vxlan"),
                ("CALICO_ROUTER_ID", "10.1.2.3"),
                ("CALICO_BGP_STATUS_FILE", "/tmp/x.json"),
            ]),
            "n1",
        )
        .unwrap();
        assert!(!e.enabled);
        assert_eq!(e.router_id, Some(Ipv4Addr::new(10, 1, 2, 3)));
        assert_eq!(e.status_file, PathBuf::from("/tmp/x.json"));
        let err = BgpEnv::from(&env(&[("CALICO_NETWORKING_BACKEND", "gobgp")]), "n1").unwrap_err();
        assert!(
            err.starts_with("CALICO_NETWORKING_BACKEND=\"gobgp\" is not valid"),
            "{err}"
        );
        let err = BgpEnv::from(&env(&[("CALICO_ROUTER_ID", "1.2.3")]), "n1").unwrap_err();
        assert!(
            err.contains("expected an IPv4 address or \"hash\""),
            "{err}"
        );
    }

    #[test]
    fn hashed_router_id_is_stable_and_unicast() {
        let a = hash_router_id("node-a");
        assert_eq!(a, hash_router_id("node-a"));
        assert_ne!(a, hash_router_id("node-b"));
        for i in 0..200 {
            assert!(hash_router_id(&format!("n{i}")).octets()[0] <= 223);
        }
        // SHA-256("node-a") starts 0x.. : the derivation is the digest's first four bytes.
        use sha2::Digest;
        let d = sha2::Sha256::digest(b"node-a");
        let first = if d[0] > 223 { d[0] - 32 } else { d[0] };
        assert_eq!(a.octets(), [first, d[1], d[2], d[3]]);
    }

    #[test]
    fn file_secrets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bgp")).unwrap();
        std::fs::write(dir.path().join("bgp/pw"), "s3cret").unwrap();
        let s = FileSecrets(dir.path().into());
        assert_eq!(s.get("bgp", "pw").unwrap(), "s3cret");
        assert!(s.get("bgp", "other").unwrap_err().contains("reading"));
        assert!(s.get("../etc", "pw").unwrap_err().contains("without '/'"));
    }
}
