//! The agent loop: datastore → calculation graph → dataplane.
//!
//! ```text
//!  main thread ("calc")                                     "dataplane" thread
//!  ┌───────────────────────────────────────────┐   batches  ┌──────────────────────────────┐
//!  │ Syncer::poll (watch /calico/, ≤1 s wait)  │ ─────────▶ │ recv, coalesce what is queued│
//!  │   → decode → CalcGraph::apply             │  (mpsc)    │ → DataplaneDriver::apply     │
//!  │   → counts, Felix config, tunnel address  │            │ (one transaction per batch)  │
//!  └───────────────────────────────────────────┘            └──────────────────────────────┘
//!          │ reports                                                  │ reports
//!          ▼                                                          ▼
//!       Health ◀──── /liveness /readiness (http thread) ────▶ Metrics (/metrics)
//! ```
//!
//! Everything that arrived together is one calc batch and, on the dataplane side, whatever
//! batches queued up while an apply ran are merged into the next apply. The datastore going
//! away leaves the dataplane as it is; the syncer reconnects with backoff and resyncs by
//! difference. Readiness: the calc side is in sync with the datastore and the dataplane has
//! applied everything up to and including the in-sync batch without error. Liveness: both
//! loops reported within their timeouts (calc 30 s; dataplane `dataplaneWatchdogTimeout`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use calico_calc::CalcGraph;
use calico_calc::messages::DataplaneMessage;
use calico_datastore::Backend;

use crate::decode;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::syncer::{KeyUpdate, Poll, Syncer, WATCH_PREFIX};
use crate::{debug, error, info, warn};

/// Health reporter names.
pub const CALC: &str = "calc-graph";
pub const DATAPLANE: &str = "dataplane";
/// The calc loop's liveness timeout.
pub const CALC_LIVENESS: Duration = Duration::from_secs(30);

/// What the dataplane thread drives. The real one is `calico-dataplane`; tests use fakes.
pub trait DataplaneDriver: Send + 'static {
    /// Apply a batch of messages, in order. An error means the batch is not (fully) programmed;
    /// the driver is called again with the next batch (possibly empty) after a pause, and
    /// must then retry whatever it still owes. The batch is handed over, so the driver can
    /// move payloads (rules, endpoints, set members) into its state instead of copying them.
    fn apply(&mut self, msgs: Vec<DataplaneMessage>) -> Result<(), String>;
}

/// The message's type name, for `felix_int_dataplane_messages{type=...}`.
pub fn message_type(m: &DataplaneMessage) -> &'static str {
    match m {
        DataplaneMessage::IpSetUpdate { .. } => "IPSetUpdate",
        DataplaneMessage::IpSetDeltaUpdate { .. } => "IPSetDeltaUpdate",
        DataplaneMessage::IpSetRemove { .. } => "IPSetRemove",
        DataplaneMessage::ActivePolicyUpdate { .. } => "ActivePolicyUpdate",
        DataplaneMessage::ActivePolicyRemove { .. } => "ActivePolicyRemove",
        DataplaneMessage::ActiveProfileUpdate { .. } => "ActiveProfileUpdate",
        DataplaneMessage::ActiveProfileRemove { .. } => "ActiveProfileRemove",
        DataplaneMessage::WorkloadEndpointUpdate { .. } => "WorkloadEndpointUpdate",
        DataplaneMessage::WorkloadEndpointRemove { .. } => "WorkloadEndpointRemove",
        DataplaneMessage::RouteUpdate { .. } => "RouteUpdate",
        DataplaneMessage::RouteRemove { .. } => "RouteRemove",
        DataplaneMessage::VtepUpdate { .. } => "VXLANTunnelEndpointUpdate",
        DataplaneMessage::VtepRemove { .. } => "VXLANTunnelEndpointRemove",
        DataplaneMessage::PoolUpdate { .. } => "IPAMPoolUpdate",
        DataplaneMessage::PoolRemove { .. } => "IPAMPoolRemove",
        DataplaneMessage::HostMetadataUpdate { .. } => "HostMetadataUpdate",
        DataplaneMessage::InSync => "InSync",
    }
}

/// Counts of what is active on this node (`felix_active_local_*`, `felix_ipsets_*`).
#[derive(Debug, Default)]
pub struct ActiveCounts {
    endpoints: BTreeSet<String>,
    policies: BTreeSet<String>,
    sets: BTreeSet<String>,
}

impl ActiveCounts {
    pub fn fold(&mut self, m: &DataplaneMessage) {
        match m {
            DataplaneMessage::WorkloadEndpointUpdate { id, .. } => {
                self.endpoints.insert(format!("{id:?}"));
            }
            DataplaneMessage::WorkloadEndpointRemove { id } => {
                self.endpoints.remove(&format!("{id:?}"));
            }
            DataplaneMessage::ActivePolicyUpdate { id, .. } => {
                self.policies.insert(format!("{id:?}"));
            }
            DataplaneMessage::ActivePolicyRemove { id } => {
                self.policies.remove(&format!("{id:?}"));
            }
            DataplaneMessage::IpSetUpdate { id, .. } => {
                self.sets.insert(id.clone());
            }
            DataplaneMessage::IpSetRemove { id } => {
                self.sets.remove(id);
            }
            _ => {}
        }
    }

    pub fn publish(&self, m: &Metrics) {
        m.set("felix_active_local_endpoints", self.endpoints.len() as f64);
        m.set("felix_active_local_policies", self.policies.len() as f64);
        let selectors = self.sets.iter().filter(|s| s.starts_with("s:")).count();
        m.set("felix_active_local_selectors", selectors as f64);
        m.set("felix_ipsets_calico", self.sets.len() as f64);
        m.set("felix_ipsets_total", self.sets.len() as f64);
    }
}

/// The cluster-wide counts from the keys the syncer knows.
fn publish_cluster_counts(sy: &Syncer, m: &Metrics) {
    let count = |plural: &str| {
        sy.state()
            .count_prefix(&format!("/calico/resources/v3/projectcalico.org/{plural}/"))
            as f64
    };
    m.set("felix_cluster_num_hosts", count("nodes"));
    m.set(
        "felix_cluster_num_workload_endpoints",
        count("workloadendpoints"),
    );
    m.set("felix_cluster_num_host_endpoints", count("hostendpoints"));
    m.set(
        "felix_cluster_num_policies",
        count("networkpolicies")
            + count("globalnetworkpolicies")
            + sy.state()
                .count_prefix("/calico/resources/v3/k8s/networkpolicies/") as f64,
    );
    m.set("felix_cluster_num_profiles", count("profiles"));
    m.set("felix_cluster_num_tiers", count("tiers"));
}

/// Hooks the loop calls for keys that matter to calico-node itself.
pub trait KeyHook {
    /// Called after each calc batch with the keys that changed.
    fn changed(&mut self, keys: &[&str]);
    /// Called after each calc batch with the updates themselves (values included).
    fn updates(&mut self, _keys: &[KeyUpdate]) {}
    /// Called on every turn of the loop (at least once a second).
    fn tick(&mut self) {}
}

impl KeyHook for () {
    fn changed(&mut self, _keys: &[&str]) {}
}

/// The running agent's shared parts.
#[derive(Clone)]
pub struct Shared {
    pub health: Arc<Health>,
    pub metrics: Arc<Metrics>,
    pub stop: Arc<AtomicBool>,
}

impl Shared {
    pub fn new() -> Self {
        let health = Arc::new(Health::new());
        health.register(CALC, Some(CALC_LIVENESS), true);
        Self {
            health,
            metrics: Arc::new(Metrics::new()),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

/// Start the dataplane thread. `make` builds the driver on that thread (so a driver that
/// binds to the thread's network namespace gets the process's namespace).
pub fn spawn_dataplane<D: DataplaneDriver>(
    shared: &Shared,
    watchdog: Duration,
    make: impl FnOnce() -> Result<D, String> + Send + 'static,
) -> Result<(Sender<Vec<DataplaneMessage>>, std::thread::JoinHandle<()>), String> {
    shared.health.register(DATAPLANE, Some(watchdog), true);
    let (tx, rx) = channel::<Vec<DataplaneMessage>>();
    let sh = shared.clone();
    let handle = std::thread::Builder::new()
        .name("dataplane".into())
        .spawn(move || match make() {
            Ok(d) => dataplane_loop(d, rx, &sh),
            Err(e) => {
                error!("cannot start the dataplane: {e}");
                sh.health.report(DATAPLANE, Instant::now(), false, &e);
                // Never report again: liveness fails after the watchdog timeout.
            }
        })
        .map_err(|e| format!("cannot start the dataplane thread: {e}"))?;
    Ok((tx, handle))
}

fn dataplane_loop<D: DataplaneDriver>(mut d: D, rx: Receiver<Vec<DataplaneMessage>>, sh: &Shared) {
    let mut in_sync = false;
    let mut failing = false;
    let mut counts = ActiveCounts::default();
    let mut retry_pause = Duration::from_millis(100);
    sh.health
        .report(DATAPLANE, Instant::now(), false, "waiting for in-sync");
    while !sh.stop.load(Ordering::Relaxed) {
        let wait = if failing {
            retry_pause
        } else {
            Duration::from_secs(1)
        };
        let mut batch = match rx.recv_timeout(wait) {
            Ok(b) => b,
            Err(RecvTimeoutError::Timeout) if !failing => {
                let ok = in_sync && !failing;
                sh.health.report(DATAPLANE, Instant::now(), ok, "");
                continue;
            }
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        while let Ok(more) = rx.try_recv() {
            batch.extend(more);
        }
        for m in &batch {
            counts.fold(m);
            sh.metrics
                .inc("felix_int_dataplane_messages", message_type(m), 1.0);
            if matches!(m, DataplaneMessage::InSync) {
                in_sync = true;
            }
        }
        counts.publish(&sh.metrics);
        sh.metrics
            .observe("felix_int_dataplane_msg_batch_size", batch.len() as f64);
        let t0 = Instant::now();
        let batch_len = batch.len();
        match d.apply(batch) {
            Ok(()) => {
                sh.metrics.observe(
                    "felix_int_dataplane_apply_time_seconds",
                    t0.elapsed().as_secs_f64(),
                );
                if failing {
                    info!("dataplane programmed again after earlier failures");
                }
                failing = false;
                retry_pause = Duration::from_millis(100);
                debug!(
                    "dataplane applied {} messages in {:?}",
                    batch_len,
                    t0.elapsed()
                );
            }
            Err(e) => {
                sh.metrics.inc("felix_int_dataplane_failures", "", 1.0);
                error!("dataplane update failed, will retry: {e}");
                failing = true;
                retry_pause = (retry_pause * 2).min(Duration::from_secs(10));
            }
        }
        let ok = in_sync && !failing;
        sh.health.report(
            DATAPLANE,
            Instant::now(),
            ok,
            if ok {
                "applied"
            } else if failing {
                "failing"
            } else {
                "waiting for in-sync"
            },
        );
    }
}

/// Run the calc loop until `shared.stop` is set (`Ok`) or the dataplane thread has gone
/// (`Err`). `hook` sees changed keys (Felix configuration, pools) after each batch.
pub fn calc_loop(
    backend: Arc<dyn Backend>,
    nodename: &str,
    shared: &Shared,
    to_dataplane: &Sender<Vec<DataplaneMessage>>,
    hook: &mut dyn KeyHook,
) -> Result<(), String> {
    let mut graph = CalcGraph::new(nodename);
    let mut syncer = Syncer::new(backend, WATCH_PREFIX);
    let mut keys: Vec<KeyUpdate> = Vec::new();
    let mut last_resyncs = 0;
    let mut unavailable_logged = false;
    while !shared.stop.load(Ordering::Relaxed) {
        keys.clear();
        let poll = syncer.poll(Duration::from_secs(1), 10_000, &mut keys);
        let now = Instant::now();
        match &poll {
            Poll::Unavailable(e) => {
                if !unavailable_logged {
                    warn!("datastore unavailable, keeping the dataplane as it is: {e}");
                    unavailable_logged = true;
                }
            }
            Poll::Updates => {
                if unavailable_logged && !keys.is_empty() {
                    info!("datastore connection restored");
                    unavailable_logged = false;
                }
            }
        }
        if syncer.resyncs_started != last_resyncs {
            shared.metrics.inc(
                "felix_resyncs_started",
                "",
                (syncer.resyncs_started - last_resyncs) as f64,
            );
            last_resyncs = syncer.resyncs_started;
        }
        let in_sync = syncer.state().in_sync();
        shared.health.report(
            CALC,
            now,
            in_sync,
            if in_sync {
                "in sync"
            } else {
                "waiting for the datastore snapshot"
            },
        );
        shared
            .metrics
            .set("felix_resync_state", if in_sync { 3.0 } else { 2.0 });
        hook.tick();
        if keys.is_empty() {
            continue;
        }
        let t0 = Instant::now();
        // Decoded lazily as the graph consumes them: a `Resource` is large, so a vector of a
        // whole snapshot's updates would be a needless peak.
        let mut n = 0usize;
        let updates = keys.iter().filter_map(|k| {
            let u = match decode::to_update(k) {
                Ok(u) => u,
                Err(e) => {
                    warn!("ignoring an unreadable value: {e}");
                    match k {
                        KeyUpdate::Put { key, .. } => decode::delete_for(key),
                        _ => None,
                    }
                }
            };
            n += usize::from(u.is_some());
            u
        });
        let out = graph.apply(updates);
        for e in &out.errors {
            warn!("{e}");
        }
        shared
            .metrics
            .inc("felix_calc_graph_updates_processed", "", n as f64);
        shared.metrics.observe(
            "felix_calc_graph_update_time_seconds",
            t0.elapsed().as_secs_f64(),
        );
        shared.metrics.inc(
            "felix_calc_graph_output_events",
            "",
            out.messages.len() as f64,
        );
        publish_cluster_counts(&syncer, &shared.metrics);
        if !out.messages.is_empty() && to_dataplane.send(out.messages).is_err() {
            return Err("the dataplane thread has stopped".into());
        }
        let changed: Vec<&str> = keys
            .iter()
            .filter_map(|k| match k {
                KeyUpdate::Put { key, .. } | KeyUpdate::Delete { key } => Some(key.as_str()),
                KeyUpdate::InSync => None,
            })
            .collect();
        hook.changed(&changed);
        hook.updates(&keys);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use calico_datastore::MemoryBackend;

    use super::*;

    /// Records batches; fails the first `fail` applies; blocks while `hold` is set.
    #[derive(Clone, Default)]
    struct Fake {
        batches: Arc<Mutex<Vec<Vec<DataplaneMessage>>>>,
        fail: Arc<Mutex<usize>>,
        hold: Arc<AtomicBool>,
        /// Set while an apply waits on `hold`.
        held: Arc<AtomicBool>,
    }

    impl DataplaneDriver for Fake {
        fn apply(&mut self, msgs: Vec<DataplaneMessage>) -> Result<(), String> {
            while self.hold.load(Ordering::Relaxed) {
                self.held.store(true, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
            self.held.store(false, Ordering::Relaxed);
            self.batches.lock().unwrap().push(msgs);
            let mut f = self.fail.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err("injected failure".into());
            }
            Ok(())
        }
    }

    fn wait(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn put(mem: &MemoryBackend, key: &str, v: serde_json::Value) {
        mem.create(key, v.to_string().as_bytes()).unwrap();
    }

    #[test]
    fn loop_feeds_the_dataplane_and_reports_health() {
        let mem = Arc::new(MemoryBackend::new());
        put(
            &mem,
            "/calico/resources/v3/projectcalico.org/ippools/p",
            serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                "metadata": {"name": "p"}, "spec": {"cidr": "10.0.0.0/16", "natOutgoing": true}}),
        );
        let shared = Shared::new();
        let fake = Fake::default();
        *fake.fail.lock().unwrap() = 1;
        let f2 = fake.clone();
        let (tx, dp) = spawn_dataplane(&shared, Duration::from_secs(90), move || Ok(f2)).unwrap();
        let sh = shared.clone();
        let backend: Arc<dyn Backend> = mem.clone();
        let calc = std::thread::spawn(move || calc_loop(backend, "n1", &sh, &tx, &mut ()));

        // The in-sync batch fails once, is retried, and then the node is ready.
        assert!(wait(Duration::from_secs(10), || {
            shared.health.summary(Instant::now()).ready
        }));
        let batches = fake.batches.lock().unwrap().clone();
        assert!(
            batches[0]
                .iter()
                .any(|m| matches!(m, DataplaneMessage::PoolUpdate { .. }))
        );
        assert!(batches[0].contains(&DataplaneMessage::InSync));
        assert!(batches.len() >= 2, "retried after the failure: {batches:?}");
        assert_eq!(
            shared.metrics.get("felix_int_dataplane_failures", ""),
            Some(1.0)
        );
        assert_eq!(shared.metrics.get("felix_resyncs_started", ""), Some(1.0));

        // A change reaches the dataplane.
        let n = fake.batches.lock().unwrap().len();
        let kv = mem
            .get("/calico/resources/v3/projectcalico.org/ippools/p")
            .unwrap()
            .unwrap();
        mem.delete(&kv.key, Some(kv.mod_revision)).unwrap();
        assert!(wait(Duration::from_secs(10), || {
            fake.batches.lock().unwrap()[n..]
                .iter()
                .flatten()
                .any(|m| matches!(m, DataplaneMessage::PoolRemove { .. }))
        }));

        // A dataplane stuck in an apply stops reporting: not live after the watchdog timeout.
        fake.hold.store(true, Ordering::Relaxed);
        put(
            &mem,
            "/calico/resources/v3/projectcalico.org/ippools/q",
            serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
                "metadata": {"name": "q"}, "spec": {"cidr": "10.1.0.0/16"}}),
        );
        assert!(wait(Duration::from_secs(10), || fake
            .held
            .load(Ordering::Relaxed)));
        let stuck_since = Instant::now();
        // Longer than the loop's 1 s report period: a running loop would have reported again.
        std::thread::sleep(Duration::from_millis(1500));
        let s = shared
            .health
            .summary(stuck_since + Duration::from_millis(90_500));
        assert!(!s.live, "{}", s.text);
        assert!(s.text.contains("dataplane: live=false"), "{}", s.text);
        fake.hold.store(false, Ordering::Relaxed);

        shared.stop.store(true, Ordering::Relaxed);
        calc.join().unwrap().unwrap();
        dp.join().unwrap();
    }
}
