//! Prometheus metrics with Felix's names, rendered in the text exposition format.
//!
//! A small hand-rolled registry (no global state): gauges, counters (optionally with one
//! label) and summaries (quantiles 0.5/0.9/0.99 over the last 1000 observations, plus `_sum`
//! and `_count`, as Felix's summaries). Process metrics (`process_resident_memory_bytes`,
//! `process_cpu_seconds_total`, `process_open_fds`) are read from `/proc/self` at scrape time.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;

/// The metric families, in output order: (name, type, help).
pub const FAMILIES: &[(&str, &str, &str)] = &[
    (
        "felix_active_local_endpoints",
        "gauge",
        "Number of active endpoints on this host.",
    ),
    (
        "felix_active_local_policies",
        "gauge",
        "Number of active policies on this host.",
    ),
    (
        "felix_active_local_selectors",
        "gauge",
        "Number of active selectors on this host.",
    ),
    (
        "felix_calc_graph_output_events",
        "counter",
        "Number of events emitted by the calculation graph.",
    ),
    (
        "felix_calc_graph_update_time_seconds",
        "summary",
        "Seconds to update calculation graph for each datastore OnUpdate call.",
    ),
    (
        "felix_calc_graph_updates_processed",
        "counter",
        "Number of datastore updates processed by the calculation graph.",
    ),
    (
        "felix_cluster_num_host_endpoints",
        "gauge",
        "Total number of host endpoints cluster-wide.",
    ),
    (
        "felix_cluster_num_hosts",
        "gauge",
        "Total number of Calico hosts in the cluster.",
    ),
    (
        "felix_cluster_num_policies",
        "gauge",
        "Total number of policies in the cluster.",
    ),
    (
        "felix_cluster_num_profiles",
        "gauge",
        "Total number of profiles in the cluster.",
    ),
    (
        "felix_cluster_num_tiers",
        "gauge",
        "Total number of Calico tiers in the cluster.",
    ),
    (
        "felix_cluster_num_workload_endpoints",
        "gauge",
        "Total number of workload endpoints cluster-wide.",
    ),
    (
        "felix_int_dataplane_apply_time_seconds",
        "summary",
        "Time in seconds that it took to apply a dataplane update.",
    ),
    (
        "felix_int_dataplane_failures",
        "counter",
        "Number of times dataplane updates failed and will be retried.",
    ),
    (
        "felix_int_dataplane_messages",
        "counter",
        "Number dataplane messages by type.",
    ),
    (
        "felix_int_dataplane_msg_batch_size",
        "summary",
        "Number of messages processed in each batch. Higher values indicate we're doing more batching to try to keep up.",
    ),
    (
        "felix_ipsets_calico",
        "gauge",
        "Number of active Calico IP sets.",
    ),
    (
        "felix_ipsets_total",
        "gauge",
        "Total number of active IP sets.",
    ),
    ("felix_resync_state", "gauge", "Current datastore state."),
    (
        "felix_resyncs_started",
        "counter",
        "Number of times Felix has started resyncing with the datastore.",
    ),
    (
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
    ),
    (
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
    ),
    (
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
    ),
];

const WINDOW: usize = 1000;

#[derive(Debug, Default)]
struct Summary {
    recent: VecDeque<f64>,
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// name → label value ("" for none) → value.
    values: BTreeMap<&'static str, BTreeMap<String, f64>>,
    summaries: BTreeMap<&'static str, Summary>,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn family(name: &str) -> Option<&'static str> {
    FAMILIES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
}

/// The label each labelled family uses.
fn label_name(name: &str) -> &'static str {
    match name {
        "felix_int_dataplane_messages" => "type",
        _ => "label",
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a gauge.
    pub fn set(&self, name: &str, value: f64) {
        if let (Some(n), Ok(mut i)) = (family(name), self.inner.lock()) {
            i.values.entry(n).or_default().insert(String::new(), value);
        }
    }

    /// Add to a counter (`label`: the value of its one label, or "").
    pub fn inc(&self, name: &str, label: &str, by: f64) {
        if let (Some(n), Ok(mut i)) = (family(name), self.inner.lock()) {
            *i.values
                .entry(n)
                .or_default()
                .entry(label.to_string())
                .or_default() += by;
        }
    }

    /// Record one observation of a summary.
    pub fn observe(&self, name: &str, value: f64) {
        if let (Some(n), Ok(mut i)) = (family(name), self.inner.lock()) {
            let s = i.summaries.entry(n).or_default();
            if s.recent.len() == WINDOW {
                s.recent.pop_front();
            }
            s.recent.push_back(value);
            s.sum += value;
            s.count += 1;
        }
    }

    /// A gauge's or counter's current value (tests and the status line).
    pub fn get(&self, name: &str, label: &str) -> Option<f64> {
        let i = self.inner.lock().ok()?;
        i.values.get(name)?.get(label).copied()
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        self.refresh_process();
        let Ok(i) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        for (name, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if *kind == "summary" {
                let (q, sum, count) = match i.summaries.get(name) {
                    Some(s) => (quantiles(&s.recent), s.sum, s.count),
                    None => ([f64::NAN; 3], 0.0, 0),
                };
                for (p, v) in ["0.5", "0.9", "0.99"].iter().zip(q) {
                    let _ = writeln!(out, "{name}{{quantile=\"{p}\"}} {}", num(v));
                }
                let _ = writeln!(out, "{name}_sum {}\n{name}_count {count}", num(sum));
                continue;
            }
            match i.values.get(name) {
                None => {
                    let _ = writeln!(out, "{name} 0");
                }
                Some(m) => {
                    for (label, v) in m {
                        if label.is_empty() {
                            let _ = writeln!(out, "{name} {}", num(*v));
                        } else {
                            let _ = writeln!(
                                out,
                                "{name}{{{}=\"{}\"}} {}",
                                label_name(name),
                                label.replace('\\', "\\\\").replace('"', "\\\""),
                                num(*v)
                            );
                        }
                    }
                }
            }
        }
        out
    }

    fn refresh_process(&self) {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status")
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        {
            self.set("process_resident_memory_bytes", kb * 1024.0);
        }
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command name (which may contain spaces) start at ')'.
            let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            // utime and stime are fields 14 and 15; `rest` starts at field 3.
            let secs = (ticks(11) + ticks(12)) / 100.0;
            if let Ok(mut i) = self.inner.lock() {
                i.values
                    .entry("process_cpu_seconds_total")
                    .or_default()
                    .insert(String::new(), secs);
            }
        }
        if let Ok(d) = std::fs::read_dir("/proc/self/fd") {
            self.set("process_open_fds", d.count() as f64);
        }
    }
}

fn quantiles(v: &VecDeque<f64>) -> [f64; 3] {
    if v.is_empty() {
        return [f64::NAN; 3];
    }
    let mut s: Vec<f64> = v.iter().copied().collect();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let idx = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1;
        s[idx]
    };
    [at(0.5), at(0.9), at(0.99)]
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_felix_names() {
        let m = Metrics::new();
        m.set("felix_active_local_endpoints", 3.0);
        m.inc("felix_resyncs_started", "", 1.0);
        m.inc(
            "felix_int_dataplane_messages",
            "WorkloadEndpointUpdate",
            2.0,
        );
        for v in [0.1, 0.2, 0.3] {
            m.observe("felix_int_dataplane_apply_time_seconds", v);
        }
        m.set("no_such_metric", 1.0);
        let t = m.render();
        assert!(
            t.contains(
                "# TYPE felix_active_local_endpoints gauge\nfelix_active_local_endpoints 3\n"
            ),
            "{t}"
        );
        assert!(t.contains("felix_resyncs_started 1\n"));
        assert!(t.contains("felix_int_dataplane_messages{type=\"WorkloadEndpointUpdate\"} 2\n"));
        assert!(
            t.contains("felix_int_dataplane_apply_time_seconds{quantile=\"0.5\"} 0.2\n"),
            "{t}"
        );
        assert!(t.contains("felix_int_dataplane_apply_time_seconds_count 3\n"));
        assert!(t.contains("felix_cluster_num_hosts 0\n"));
        assert!(!t.contains("no_such_metric"));
        assert!(m.get("process_resident_memory_bytes", "").unwrap() > 0.0);
    }
}
