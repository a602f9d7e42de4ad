//! Shared helpers for the engine tests: pool builders, a checked engine, a store wrapper that
//! interleaves the store operations of several threads on a chosen schedule, and one that
//! "crashes" (fails every operation) after a number of writes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use calico_ipam::{
    AutoAssignArgs, Ipam, IpamStore, Listing, ManualClock, MemoryStore, PoolInfo, Pools, Record,
    RecordKey, Revision, StoreError, Stored,
};

pub type Engine = Ipam<MemoryStore, ManualClock>;

pub fn pool(name: &str, cidr: &str, block_size: u8) -> PoolInfo {
    PoolInfo::with_block_size(name, cidr.parse().unwrap(), block_size).unwrap()
}

pub fn engine() -> (Engine, ManualClock) {
    let clock = ManualClock::default();
    (Ipam::new(MemoryStore::new(), clock.clone()), clock)
}

pub fn args(handle: &str, host: &str, n4: usize, n6: usize) -> AutoAssignArgs {
    let mut a = AutoAssignArgs::new(handle, host);
    a.num4 = n4;
    a.num6 = n6;
    a
}

/// Assert the stored state is consistent and exact, and return every allocated address.
pub fn assert_exact<S: IpamStore, C: calico_ipam::Clock>(
    ipam: &Ipam<S, C>,
    pools: &Pools,
) -> BTreeSet<IpAddr> {
    let r = ipam.check_consistency(Some(pools)).unwrap();
    assert!(r.is_exact(), "not exact: {r:#?}");
    let snap = ipam.snapshot().unwrap();
    let all: Vec<IpAddr> = snap.allocations().iter().map(|a| a.address).collect();
    let set: BTreeSet<IpAddr> = all.iter().copied().collect();
    assert_eq!(set.len(), all.len(), "an address is allocated twice");
    for a in snap.allocations() {
        assert!(
            pools.containing(a.address).is_some(),
            "{} is in no pool",
            a.address
        );
        assert!(a.block.contains(&a.address));
    }
    set
}

thread_local! {
    static ACTOR: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[derive(Debug)]
struct SchedState {
    turn: usize,
    active: Vec<bool>,
    schedule: Vec<u8>,
    pos: usize,
}

impl SchedState {
    fn pick(&mut self) {
        let live: Vec<usize> = (0..self.active.len()).filter(|&i| self.active[i]).collect();
        if live.is_empty() {
            self.turn = usize::MAX;
            return;
        }
        let c = if self.schedule.is_empty() {
            0
        } else {
            self.schedule[self.pos % self.schedule.len()]
        };
        self.pos += 1;
        self.turn = live[c as usize % live.len()];
    }
}

/// A store whose operations, issued from several threads, run one at a time in the order a
/// schedule picks: every possible interleaving of store operations is reachable.
#[derive(Clone)]
pub struct Stepped<S> {
    inner: S,
    sched: Arc<(Mutex<SchedState>, Condvar)>,
}

impl<S: IpamStore + Clone + 'static> Stepped<S> {
    /// Run each task on its own thread (task `i` is actor `i`), interleaving their store
    /// operations as `schedule` says.
    pub fn run<T: Send + 'static>(
        inner: S,
        schedule: Vec<u8>,
        tasks: Vec<Box<dyn FnOnce(Stepped<S>) -> T + Send>>,
    ) -> Vec<T> {
        let mut st = SchedState {
            turn: 0,
            active: vec![true; tasks.len()],
            schedule,
            pos: 0,
        };
        st.pick();
        let me = Stepped {
            inner,
            sched: Arc::new((Mutex::new(st), Condvar::new())),
        };
        let handles: Vec<_> = tasks
            .into_iter()
            .enumerate()
            .map(|(i, task)| {
                let s = me.clone();
                std::thread::spawn(move || {
                    ACTOR.with(|a| a.set(i));
                    let out =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task(s.clone())));
                    let (m, cv) = &*s.sched;
                    let mut st = m.lock().unwrap();
                    st.active[i] = false;
                    if st.turn == i || st.turn == usize::MAX {
                        st.pick();
                    }
                    cv.notify_all();
                    drop(st);
                    match out {
                        Ok(v) => v,
                        Err(p) => std::panic::resume_unwind(p),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }
}

impl<S> Stepped<S> {
    fn step<T>(&self, f: impl FnOnce() -> T) -> T {
        let me = ACTOR.with(Cell::get);
        let (m, cv) = &*self.sched;
        let mut st = m.lock().unwrap();
        while st.turn != me {
            st = cv.wait(st).unwrap();
        }
        let out = f();
        st.pick();
        cv.notify_all();
        out
    }
}

impl<S: IpamStore> IpamStore for Stepped<S> {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError> {
        self.step(|| self.inner.get(key))
    }
    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError> {
        self.step(|| self.inner.list(what))
    }
    fn create(&self, record: &Record) -> Result<Revision, StoreError> {
        self.step(|| self.inner.create(record))
    }
    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError> {
        self.step(|| self.inner.update(record, expected))
    }
    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError> {
        self.step(|| self.inner.delete(key, expected))
    }
}

/// A store that fails every operation once `writes` successful writes have been made, like a
/// process killed at that point.
#[derive(Clone)]
pub struct Crashing<S> {
    pub inner: S,
    budget: Arc<AtomicI64>,
}

impl<S> Crashing<S> {
    pub fn new(inner: S, writes: i64) -> Self {
        Self {
            inner,
            budget: Arc::new(AtomicI64::new(writes)),
        }
    }

    fn alive(&self) -> Result<(), StoreError> {
        if self.budget.load(Ordering::SeqCst) <= 0 {
            Err(StoreError::Backend("injected crash".into()))
        } else {
            Ok(())
        }
    }

    fn write<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.alive()?;
        let r = f();
        if r.is_ok() {
            self.budget.fetch_sub(1, Ordering::SeqCst);
        }
        r
    }
}

impl<S: IpamStore> IpamStore for Crashing<S> {
    fn get(&self, key: &RecordKey) -> Result<Option<Stored<Record>>, StoreError> {
        self.alive()?;
        self.inner.get(key)
    }
    fn list(&self, what: &Listing) -> Result<Vec<Stored<Record>>, StoreError> {
        self.alive()?;
        self.inner.list(what)
    }
    fn create(&self, record: &Record) -> Result<Revision, StoreError> {
        self.write(|| self.inner.create(record))
    }
    fn update(&self, record: &Record, expected: Revision) -> Result<Revision, StoreError> {
        self.write(|| self.inner.update(record, expected))
    }
    fn delete(&self, key: &RecordKey, expected: Revision) -> Result<(), StoreError> {
        self.write(|| self.inner.delete(key, expected))
    }
}

/// Addresses of an assignment result.
pub fn addrs(a: &calico_ipam::Assignments) -> Vec<IpAddr> {
    a.all().map(|x| x.address).collect()
}

/// No duplicates in a list of addresses.
pub fn assert_unique(all: &[IpAddr]) {
    let set: HashSet<_> = all.iter().collect();
    assert_eq!(set.len(), all.len(), "duplicate addresses in {all:?}");
}
