//! Selector benchmarks: evaluation, parsing, and label-index updates at 10,000 endpoints and
//! 1,000 selectors, each index figure printed next to the naive scan it replaces.
//!
//! `cargo bench -p calico-selector -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use calico_selector::{LabelIndex, Selector};
use criterion::Criterion;

const ENDPOINTS: usize = 10_000;
const SELECTORS: usize = 1_000;

fn map(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Ten labels, shaped like a Kubernetes pod's as Calico sees them.
fn endpoint_labels(i: usize) -> BTreeMap<String, String> {
    let mut labels = map(&[
        ("projectcalico.org/namespace", format!("ns{}", i % 100)),
        ("projectcalico.org/orchestrator", "k8s".into()),
        ("projectcalico.org/serviceaccount", format!("sa{}", i % 20)),
        ("app", format!("app{}", i % 500)),
        ("tier", ["frontend", "backend", "db", "cache"][i % 4].into()),
        ("env", ["prod", "staging", "dev"][i % 3].into()),
        ("version", format!("v{}", i % 5)),
        ("pod-template-hash", format!("h{i:08x}")),
        ("region", ["us-east", "eu-west"][i % 2].into()),
    ]);
    if i.is_multiple_of(2) {
        labels.insert("team".into(), format!("team{}", i % 30));
    }
    labels
}

/// A policy mix: mostly namespaced equality selectors, some sets, some negations, a few that
/// no index can narrow.
fn selector_text(j: usize) -> String {
    let ns = j % 100;
    match j % 10 {
        0..=3 => format!(
            "projectcalico.org/namespace == 'ns{ns}' && app == 'app{}'",
            j % 500
        ),
        4 => {
            let apps: Vec<String> = (0..5)
                .map(|k| format!("'app{}'", (j + k * 7) % 500))
                .collect();
            format!("app in {{{}}}", apps.join(", "))
        }
        5 => format!("has(team) && team == 'team{}' && tier != 'db'", j % 30),
        6 => format!("projectcalico.org/namespace == 'ns{ns}'"),
        7 => format!("projectcalico.org/namespace == 'ns{ns}' && env in {{'prod', 'staging'}}"),
        8 if j % 50 == 8 => format!("app starts with 'app{}'", j % 40),
        8 => format!(
            "projectcalico.org/serviceaccount == 'sa{}' && projectcalico.org/namespace == 'ns{ns}'",
            j % 20
        ),
        _ if j % 100 == 99 => "tier != 'db'".to_owned(),
        _ => format!("!has(team) && projectcalico.org/namespace == 'ns{ns}'"),
    }
}

fn build_index() -> (LabelIndex<usize, usize>, Vec<Selector>) {
    let mut idx = LabelIndex::new();
    let sels: Vec<Selector> = (0..SELECTORS)
        .map(|j| Selector::parse(&selector_text(j)).unwrap())
        .collect();
    for (j, s) in sels.iter().enumerate() {
        idx.update_selector(j, s.clone());
    }
    for i in 0..ENDPOINTS {
        idx.update_item(i, endpoint_labels(i), Vec::new());
    }
    (idx, sels)
}

const MATCH_CASES: &[(&str, &str)] = &[
    ("eq", "app == 'web'"),
    (
        "in10",
        "app in {'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'web'}",
    ),
    ("and3_has", "has(team) && env == 'prod' && tier != 'db'"),
    (
        "or4",
        "app == 'x' || tier == 'y' || has(missing) || env == 'prod'",
    ),
    (
        "contains_starts",
        "app contains 'eb' && version starts with 'v1'",
    ),
];

fn bench_match(c: &mut Criterion) {
    let labels = map(&[
        ("app", "web".into()),
        ("tier", "frontend".into()),
        ("env", "prod".into()),
        ("team", "payments".into()),
        ("version", "v1.2.3".into()),
        ("region", "eu-west".into()),
        ("projectcalico.org/namespace", "shop".into()),
        ("projectcalico.org/orchestrator", "k8s".into()),
        ("projectcalico.org/serviceaccount", "default".into()),
        ("pod-template-hash", "7d9f8c6b5".into()),
    ]);
    let mut group = c.benchmark_group("match");
    for (name, text) in MATCH_CASES {
        let sel = Selector::parse(text).unwrap();
        assert!(sel.matches(&labels), "{text} should match the bench labels");
        group.bench_function(*name, |b| {
            b.iter(|| black_box(&sel).matches(black_box(&labels)))
        });
    }
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let realistic = "projectcalico.org/orchestrator == 'k8s' && app in {'web', 'api', 'worker'} \
                     && !has(canary) && (tier == 'frontend' || tier starts with 'edge')";
    for (name, text) in [
        ("eq", MATCH_CASES[0].1),
        ("and3_has", MATCH_CASES[2].1),
        ("realistic", realistic),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| Selector::parse(black_box(text)).unwrap())
        });
    }
    let sel = Selector::parse(realistic).unwrap();
    group.bench_function("canonical+uid_realistic", |b| {
        b.iter(|| black_box(&sel).unique_id())
    });
    group.finish();
}

fn bench_index(c: &mut Criterion) {
    let (mut idx, sels) = build_index();
    let mut group = c.benchmark_group("index_10k_endpoints_1k_selectors");

    let new_labels = endpoint_labels(123_457);
    group.bench_function("add+remove_endpoint", |b| {
        b.iter(|| {
            black_box(idx.update_item(ENDPOINTS, new_labels.clone(), Vec::new()));
            black_box(idx.remove_item(&ENDPOINTS));
        });
    });

    let (a, b_labels) = (endpoint_labels(42), endpoint_labels(43));
    let mut flip = false;
    group.bench_function("change_endpoint_labels", |b| {
        b.iter(|| {
            flip = !flip;
            let labels = if flip { b_labels.clone() } else { a.clone() };
            black_box(idx.update_item(42, labels, Vec::new()))
        });
    });

    let policy =
        Selector::parse("projectcalico.org/namespace == 'ns7' && app == 'app207'").unwrap();
    group.bench_function("add+remove_selector", |b| {
        b.iter(|| {
            black_box(idx.update_selector(SELECTORS, policy.clone()));
            black_box(idx.remove_selector(&SELECTORS));
        });
    });

    // The naive baselines for the same questions.
    let probe = endpoint_labels(43);
    group.bench_function("naive_selectors_matching_endpoint", |b| {
        b.iter(|| sels.iter().filter(|s| s.matches(black_box(&probe))).count());
    });
    let all_labels: Vec<_> = (0..ENDPOINTS).map(endpoint_labels).collect();
    group.bench_function("naive_endpoints_matching_selector", |b| {
        b.iter(|| {
            all_labels
                .iter()
                .filter(|l| black_box(&policy).matches(*l))
                .count()
        });
    });
    group.finish();
}

/// Average time of `f` over enough runs to fill about `budget`.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget || n < 10 {
        f();
        n += 1;
    }
    start.elapsed() / n
}

/// Index versus naive scan, measured back to back in this run, printed as ratios.
fn ratios() {
    let (mut idx, sels) = build_index();
    let budget = Duration::from_millis(1500);
    let (a, b) = (endpoint_labels(42), endpoint_labels(43));
    let mut flip = false;
    let index_change = time_per_call(budget, || {
        flip = !flip;
        let labels = if flip { b.clone() } else { a.clone() };
        black_box(idx.update_item(42, labels, Vec::new()));
    });
    let naive_change = time_per_call(budget, || {
        flip = !flip;
        let labels = if flip { &b } else { &a };
        black_box(sels.iter().filter(|s| s.matches(labels)).count());
    });
    let policy =
        Selector::parse("projectcalico.org/namespace == 'ns7' && app == 'app207'").unwrap();
    let index_sel = time_per_call(budget, || {
        black_box(idx.update_selector(SELECTORS, policy.clone()));
        black_box(idx.remove_selector(&SELECTORS));
    });
    let all_labels: Vec<_> = (0..ENDPOINTS).map(endpoint_labels).collect();
    let naive_sel = time_per_call(budget, || {
        black_box(all_labels.iter().filter(|l| policy.matches(*l)).count());
    });
    println!();
    println!("ratio (same run, {ENDPOINTS} endpoints, {SELECTORS} selectors):");
    println!(
        "  endpoint label change: index {index_change:?} vs naive scan of all selectors \
         {naive_change:?} -> {:.1}x faster",
        naive_change.as_secs_f64() / index_change.as_secs_f64()
    );
    println!(
        "  add+remove selector:   index {index_sel:?} vs naive scan of all endpoints \
         {naive_sel:?} -> {:.1}x faster",
        naive_sel.as_secs_f64() / index_sel.as_secs_f64()
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_match(&mut c);
    bench_parse(&mut c);
    bench_index(&mut c);
    c.final_summary();
    ratios();
}
