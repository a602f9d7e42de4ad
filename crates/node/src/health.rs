//! The health aggregator behind `/liveness` and `/readiness` (Felix's `health.HealthAggregator`):
//! components register with a liveness timeout and whether they take part in readiness, then
//! report. The node is live when every component reported live within its timeout, and ready
//! when every readiness component last reported ready. Time is passed in.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
struct Reporter {
    live_timeout: Option<Duration>,
    reports_ready: bool,
    last_live: Option<Instant>,
    ready: bool,
    detail: String,
}

/// The aggregated state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub live: bool,
    pub ready: bool,
    /// One line per component: `name live=.. ready=.. detail`.
    pub text: String,
}

/// Shared by every component; cheap to call from any thread.
#[derive(Debug, Default)]
pub struct Health {
    reporters: Mutex<BTreeMap<String, Reporter>>,
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a component. `live_timeout`: it is not live unless it reported within this
    /// long (`None`: liveness not checked). `reports_ready`: readiness depends on it.
    pub fn register(&self, name: &str, live_timeout: Option<Duration>, reports_ready: bool) {
        if let Ok(mut m) = self.reporters.lock() {
            m.insert(
                name.to_string(),
                Reporter {
                    live_timeout,
                    reports_ready,
                    last_live: None,
                    ready: false,
                    detail: String::new(),
                },
            );
        }
    }

    /// A component reports: alive now, and (for readiness components) whether it is ready.
    pub fn report(&self, name: &str, now: Instant, ready: bool, detail: &str) {
        if let Ok(mut m) = self.reporters.lock()
            && let Some(r) = m.get_mut(name)
        {
            r.last_live = Some(now);
            r.ready = ready;
            if r.detail != detail {
                r.detail = detail.to_string();
            }
        }
    }

    /// The aggregate at `now`.
    pub fn summary(&self, now: Instant) -> Summary {
        let Ok(m) = self.reporters.lock() else {
            return Summary {
                live: false,
                ready: false,
                text: "health state poisoned\n".into(),
            };
        };
        let (mut live, mut ready) = (true, true);
        let mut text = String::new();
        for (name, r) in m.iter() {
            let is_live = match r.live_timeout {
                None => true,
                Some(t) => r
                    .last_live
                    .is_some_and(|at| now.saturating_duration_since(at) <= t),
            };
            let is_ready = !r.reports_ready || r.ready;
            live &= is_live;
            ready &= is_ready;
            let _ = writeln!(
                text,
                "{name}: live={is_live} ready={is_ready}{}{}",
                if r.detail.is_empty() { "" } else { " " },
                r.detail
            );
        }
        Summary { live, ready, text }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn live_and_ready_aggregate() {
        let h = Health::new();
        let t0 = Instant::now();
        h.register("calc", Some(Duration::from_secs(30)), true);
        h.register("dataplane", Some(Duration::from_secs(90)), true);
        let s = h.summary(t0);
        assert!(!s.live && !s.ready, "nothing reported yet: {s:?}");
        h.report("calc", t0, true, "in sync");
        h.report("dataplane", t0, false, "");
        let s = h.summary(t0);
        assert!(s.live && !s.ready);
        h.report("dataplane", t0, true, "applied");
        assert!(h.summary(t0 + Duration::from_secs(10)).ready);
        // The calc loop stops reporting: not live after its timeout, the dataplane still is.
        let later = t0 + Duration::from_secs(31);
        h.report("dataplane", later, true, "");
        let s = h.summary(later);
        assert!(!s.live, "{s:?}");
        assert!(s.text.contains("calc: live=false"), "{}", s.text);
    }
}
