//! [`Dataplane`]: folds the calc graph's messages into desired state and programs the
//! kernel: one nftables transaction per flush, then routes/VXLAN through netlink.

use std::collections::BTreeMap;
use std::sync::Arc;

use calico_calc::messages::DataplaneMessage;
use calico_policy::RuleId;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::net::kernel::NetlinkBackend;
use crate::net::{NetBackend, NetState, desired_net, plan};
use crate::nft::{Counter, NftBackend, NftCli, parse_counters};
use crate::nsthread::NsThread;
use crate::render::{Dirty, Renderer, Ruleset, render};
use crate::state::{DesiredState, Touched};

/// What one [`Dataplane::apply`] (or flush/resync) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// The kernel was programmed (false until the calc graph has sent `InSync`).
    pub programmed: bool,
    /// The table was replaced as a whole and the netlink objects were read back and
    /// reconciled (first programming, a new `InSync`, after a failure, or forced).
    pub full_resync: bool,
    /// nft transactions run (0 or 1).
    pub nft_transactions: usize,
    /// Size of the nft script.
    pub nft_script_bytes: usize,
    /// Netlink operations and sysctl writes attempted.
    pub net_ops: usize,
    /// Netlink operations that failed; they are retried at the next apply.
    pub warnings: Vec<String>,
}

/// The Felix dataplane of one node.
pub struct Dataplane {
    cfg: Config,
    state: DesiredState,
    nft: Box<dyn NftBackend>,
    net: Box<dyn NetBackend>,
    /// What the table holds, as far as we know; `None`: replace it at the next flush.
    rules: Option<Renderer>,
    /// Rendered items touched since the last flush.
    dirty: Dirty,
    /// The netlink objects we believe are there; `None`: read them back at the next flush.
    net_state: Option<NetState>,
    pending: Touched,
}

impl std::fmt::Debug for Dataplane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataplane")
            .field("table", &self.cfg.table)
            .field("in_sync", &self.state.in_sync)
            .finish()
    }
}

impl Dataplane {
    /// A dataplane for the namespace named by `cfg.netns` (default: the calling thread's).
    /// Nothing is changed until the first flush after `InSync`.
    pub fn new(cfg: Config) -> Result<Self> {
        if cfg.table.is_empty()
            || !cfg
                .table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::Config {
                field: "table",
                detail: format!("{:?} is not a plain nftables table name", cfg.table),
            });
        }
        if cfg.interface_prefixes.is_empty()
            || cfg.interface_prefixes.iter().any(|p| {
                p.is_empty()
                    || p.len() > 14
                    || !p
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            })
        {
            return Err(Error::Config {
                field: "interface_prefixes",
                detail: format!(
                    "{:?}: expected one or more interface name prefixes such as \"cali\"",
                    cfg.interface_prefixes
                ),
            });
        }
        if cfg.vxlan.vni == 0 || cfg.vxlan.vni > 0x00ff_ffff || cfg.vxlan.port == 0 {
            return Err(Error::Config {
                field: "vxlan",
                detail: format!(
                    "VNI {} / port {}: expected a VNI in 1..16777215 and a non-zero port",
                    cfg.vxlan.vni, cfg.vxlan.port
                ),
            });
        }
        let thread = Arc::new(NsThread::spawn(cfg.netns.as_deref())?);
        let nft = NftCli {
            nft: cfg.nft.clone(),
            table: cfg.table.clone(),
            thread: thread.clone(),
        };
        let net = NetlinkBackend { thread };
        Ok(Self::with_backends(cfg, Box::new(nft), Box::new(net)))
    }

    /// A dataplane over the given backends (tests use recording fakes).
    pub fn with_backends(cfg: Config, nft: Box<dyn NftBackend>, net: Box<dyn NetBackend>) -> Self {
        Dataplane {
            cfg,
            state: DesiredState::default(),
            nft,
            net,
            rules: None,
            dirty: Dirty::default(),
            net_state: None,
            pending: Touched::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The desired state folded so far.
    pub fn state(&self) -> &DesiredState {
        &self.state
    }

    /// The table as the desired state renders it now.
    pub fn rendered(&self) -> Ruleset {
        render(&self.cfg, &self.state)
    }

    /// Fold messages in without touching the kernel.
    pub fn fold(&mut self, msgs: &[DataplaneMessage]) {
        for m in msgs {
            self.dirty.note(m);
            let t = self.state.fold(m);
            if t.in_sync {
                // A (new) snapshot is complete: reconcile everything against the kernel.
                self.rules = None;
                self.net_state = None;
            }
            self.pending |= t;
        }
    }

    /// Like [`Dataplane::fold`], taking the messages (their payloads move into the desired
    /// state instead of being copied: the agent's way, so a batch is never held twice).
    pub fn fold_owned(&mut self, msgs: Vec<DataplaneMessage>) {
        for m in msgs {
            self.dirty.note(&m);
            let t = self.state.fold_owned(m);
            if t.in_sync {
                self.rules = None;
                self.net_state = None;
            }
            self.pending |= t;
        }
    }

    /// [`Dataplane::apply`] taking the messages (see [`Dataplane::fold_owned`]).
    pub fn apply_owned(&mut self, msgs: Vec<DataplaneMessage>) -> Result<ApplyStats> {
        self.fold_owned(msgs);
        self.flush()
    }

    /// Fold `msgs` in and, once in sync, program the changes: one nft transaction, then
    /// netlink. On an nft failure the previous ruleset stays (nft is atomic) and the next
    /// flush replaces the whole table.
    pub fn apply(&mut self, msgs: &[DataplaneMessage]) -> Result<ApplyStats> {
        self.fold(msgs);
        self.flush()
    }

    /// Replace the table and reconcile routes, VXLAN, neighbours and FDB with the kernel now.
    pub fn resync(&mut self) -> Result<ApplyStats> {
        self.rules = None;
        self.net_state = None;
        self.flush()
    }

    /// Program whatever changed since the last flush.
    pub fn flush(&mut self) -> Result<ApplyStats> {
        let mut stats = ApplyStats::default();
        if !self.state.in_sync {
            return Ok(stats);
        }
        stats.programmed = true;
        if self.pending.rules || self.rules.is_none() {
            let dirty = std::mem::take(&mut self.dirty);
            let delta = match self.rules.as_mut() {
                Some(r) => r.update(&self.state, &dirty).ok(),
                None => None,
            };
            let script = match delta {
                Some(s) => s,
                None => {
                    let r = Renderer::new(&self.cfg, &self.state);
                    let s = r.ruleset().full_script();
                    self.rules = Some(r);
                    stats.full_resync = true;
                    Some(s)
                }
            };
            if let Some(s) = script {
                stats.nft_transactions = 1;
                stats.nft_script_bytes = s.len();
                if let Err(e) = self.nft.run(s) {
                    self.rules = None;
                    return Err(e);
                }
            }
            self.pending.rules = false;
        }
        if self.pending.net || self.net_state.is_none() {
            let want = desired_net(&self.cfg, &self.state);
            let (mut have, full) = match self.net_state.take() {
                Some(h) => (h, false),
                None => {
                    stats.full_resync = true;
                    (
                        self.net
                            .observe(self.cfg.route_protocol, &self.cfg.vxlan.device)?,
                        true,
                    )
                }
            };
            if let (Some(h), Some(w)) = (&mut have.vxlan, &want.vxlan)
                && w.mtu.is_none()
            {
                h.mtu = None;
            }
            let ops = plan(&have, &want, full);
            stats.net_ops = ops.len();
            let failed = self.net.execute(self.cfg.route_protocol, &ops)?;
            for op in &ops {
                if !failed.iter().any(|(f, _)| f == op) {
                    have.record(op);
                }
            }
            stats.warnings = failed
                .into_iter()
                .map(|(op, e)| format!("{op:?}: {e}"))
                .collect();
            self.net_state = Some(have);
            // Failed operations (a workload interface that is not there yet, ...) are
            // retried at the next flush.
            self.pending.net = !stats.warnings.is_empty();
        }
        Ok(stats)
    }

    /// Packets and bytes per rule ID, read from the kernel's counters (summed over the nft
    /// rules of each ID). Only IDs of the currently programmed rules appear.
    pub fn counters(&self) -> Result<BTreeMap<RuleId, Counter>> {
        let Some(r) = &self.rules else {
            return Ok(BTreeMap::new());
        };
        let json = self.nft.list_json(&self.cfg.table)?;
        parse_counters(&json, &r.ruleset().comments, &self.cfg.table)
    }
}
