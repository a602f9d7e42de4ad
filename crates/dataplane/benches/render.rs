//! What one flush costs in the renderer at scale: 1,000 local endpoints, 1,000 policies
//! (each with a rule on a 10-member set) and one 10,000-member set; a full render, the full
//! script, and the delta for one set member.

#[path = "support/synthetic.rs"]
mod synthetic;

use std::collections::BTreeSet;

use calico_calc::messages::{DataplaneMessage, IpSetMember};
use calico_dataplane::Config;
use calico_dataplane::render::{Dirty, Renderer, delta_script, render};
use criterion::{Criterion, criterion_group, criterion_main};
use synthetic::{ip, state};

fn bench(c: &mut Criterion) {
    let cfg = Config::default();
    let st = state(1000, 1000, 10_000);
    c.bench_function(
        "render 1000 endpoints, 1000 policies, 10k-member set",
        |b| b.iter(|| render(&cfg, &st)),
    );
    let rs = render(&cfg, &st);
    c.bench_function("full script text", |b| b.iter(|| rs.full_script()));
    let mut st2 = st.clone();
    st2.fold(&DataplaneMessage::IpSetDeltaUpdate {
        id: "s:big".into(),
        added: [IpSetMember::Net(ip(1))].into_iter().collect(),
        removed: BTreeSet::new(),
    });
    c.bench_function("render + delta for one set member", |b| {
        b.iter(|| {
            let new = render(&cfg, &st2);
            delta_script(&rs, &new)
        })
    });
}

fn bench_incremental(c: &mut Criterion) {
    let cfg = Config::default();
    let mut st = state(1000, 1000, 10_000);
    let mut r = Renderer::new(&cfg, &st);
    let mut i = 0u32;
    c.bench_function("incremental: one member of the 10k set", |b| {
        b.iter(|| {
            i += 1;
            let m = DataplaneMessage::IpSetDeltaUpdate {
                id: "s:big".into(),
                added: [IpSetMember::Net(ip(2 * i + 1))].into_iter().collect(),
                removed: BTreeSet::new(),
            };
            let mut d = Dirty::default();
            d.note(&m);
            st.fold(&m);
            r.update(&st, &d)
        })
    });
    c.bench_function("incremental: one member of a 10-member set", |b| {
        b.iter(|| {
            i += 1;
            let m = DataplaneMessage::IpSetDeltaUpdate {
                id: "s:set7".into(),
                added: [IpSetMember::Net(ip(500_000 + i))].into_iter().collect(),
                removed: BTreeSet::new(),
            };
            let mut d = Dirty::default();
            d.note(&m);
            st.fold(&m);
            r.update(&st, &d)
        })
    });
}

criterion_group!(benches, bench, bench_incremental);
criterion_main!(benches);
