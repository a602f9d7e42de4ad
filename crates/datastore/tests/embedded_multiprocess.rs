//! The embedded store shared by separate OS processes: CAS increments and creates racing from
//! four processes, a watcher in a fifth process that must see every change in order, and writers
//! killed with SIGKILL mid-write.
//!
//! This is a `harness = false` test: the same binary is the parent (which runs the tests below)
//! and, when started with `CALICO_DS_TEST_ROLE` set, a child process playing that role against
//! the store named by `CALICO_DATASTORE_PATH`. Children report on stdout, one line per fact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use calico_datastore::{Backend, DatastoreError, EmbeddedBackend, WatchEvent, WatchFrom};

const ROLE_ENV: &str = "CALICO_DS_TEST_ROLE";
const PROCESSES: usize = 4;
const EACH: usize = 500;

type Test = fn();
const TESTS: &[(&str, Test)] = &[
    (
        "four_processes_race_and_a_fifth_watches",
        four_processes_race_and_a_fifth_watches,
    ),
    (
        "many_processes_create_the_store_at_once",
        many_processes_create_the_store_at_once,
    ),
    (
        "a_stopped_watcher_learns_its_history_was_compacted",
        a_stopped_watcher_learns_its_history_was_compacted,
    ),
    (
        "sigkill_mid_write_leaves_the_store_consistent",
        sigkill_mid_write_leaves_the_store_consistent,
    ),
];

fn main() -> ExitCode {
    if let Ok(role) = std::env::var(ROLE_ENV) {
        return child(&role);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            for (name, _) in TESTS {
                println!("{name}: test");
            }
        }
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--ignored") {
        return ExitCode::SUCCESS; // Nothing here is ignored.
    }
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let selected: Vec<_> = TESTS
        .iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters
                    .iter()
                    .any(|f| if exact { name == f } else { name.contains(f) })
        })
        .collect();
    println!("\nrunning {} tests", selected.len());
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in &selected {
        let start = Instant::now();
        let ok = std::panic::catch_unwind(test).is_ok();
        println!(
            "test {name} ... {} ({:.1?})",
            if ok { "ok" } else { "FAILED" },
            start.elapsed()
        );
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; {} filtered out\n",
        if failed == 0 { "ok" } else { "FAILED" },
        TESTS.len() - selected.len()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// ---------------------------------------------------------------------------------------------
// Children

fn child(role: &str) -> ExitCode {
    let store = match EmbeddedBackend::open(EmbeddedBackend::default_path()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("child {role}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let id: usize = std::env::var("CALICO_DS_TEST_ID")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    match role {
        "racer" => racer(&store, id),
        "watcher" => watcher(&store),
        "churn" => churn(&store, id),
        "opener" => {
            store.create(&format!("/openers/{id}"), b"here").unwrap();
            println!("CREATED {id}");
        }
        other => panic!("unknown role {other}"),
    }
    ExitCode::SUCCESS
}

/// `EACH` CAS increments of `/counter`, interleaved with `EACH` creates of its own keys.
fn racer(store: &EmbeddedBackend, id: usize) {
    let mut retries = 0u64;
    for i in 0..EACH {
        loop {
            let cur = store.get("/counter").unwrap().unwrap();
            let n: u64 = std::str::from_utf8(&cur.value).unwrap().parse().unwrap();
            match store.update(
                "/counter",
                (n + 1).to_string().as_bytes(),
                Some(cur.mod_revision),
            ) {
                Ok(_) => break,
                Err(DatastoreError::Conflict { .. }) => retries += 1,
                Err(e) => panic!("racer {id}: {e}"),
            }
        }
        store
            .create(
                &format!("/procs/{id}/{i:04}"),
                format!("{id}:{i}").as_bytes(),
            )
            .unwrap();
    }
    println!("DONE {id} retries={retries}");
}

/// Watch everything after `CALICO_DS_TEST_FROM`, printing each event, until
/// `CALICO_DS_TEST_EXPECT` events arrived.
fn watcher(store: &EmbeddedBackend) {
    let from: i64 = std::env::var("CALICO_DS_TEST_FROM")
        .unwrap()
        .parse()
        .unwrap();
    let expect: usize = std::env::var("CALICO_DS_TEST_EXPECT")
        .unwrap()
        .parse()
        .unwrap();
    let w = store.watch("/", WatchFrom::After(from)).unwrap();
    let mut out = std::io::stdout().lock();
    let mut seen = 0;
    while seen < expect {
        let ev = match w.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(Ok(ev))) => ev,
            Ok(Some(Err(DatastoreError::Compacted { requested, oldest }))) => {
                writeln!(out, "COMPACTED {requested} {oldest}").unwrap();
                assert_eq!(
                    w.recv_timeout(Duration::from_secs(5)),
                    Err(()),
                    "the watch ends"
                );
                return;
            }
            other => panic!("watcher: {other:?} after {seen} events"),
        };
        match ev {
            WatchEvent::InSync { revision } => writeln!(out, "READY {revision}").unwrap(),
            WatchEvent::Put(kv) => {
                seen += 1;
                let value = String::from_utf8_lossy(&kv.value);
                writeln!(out, "EV {} {} {value}", kv.mod_revision, kv.key).unwrap();
            }
            WatchEvent::Delete { key, revision, .. } => {
                seen += 1;
                writeln!(out, "EV {revision} {key} <deleted>").unwrap();
            }
        }
        out.flush().unwrap();
    }
}

/// Write forever (large values, creates and deletes) until killed.
fn churn(store: &EmbeddedBackend, id: usize) {
    let big = vec![b'z'; 256 * 1024];
    let mut out = std::io::stdout();
    for i in 0u64.. {
        let key = format!("/churn/{id}/{}", i % 8);
        match store.get(&key).unwrap() {
            Some(kv) if i % 3 == 0 => {
                store.delete(&key, Some(kv.mod_revision)).unwrap();
            }
            Some(kv) => {
                store.update(&key, &big, Some(kv.mod_revision)).unwrap();
            }
            None => {
                store.create(&key, &big).unwrap();
            }
        }
        if i == 20 {
            writeln!(out, "PROGRESS").unwrap();
            out.flush().unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parent side

fn spawn(role: &str, path: &Path, env: &[(&str, String)]) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.env(ROLE_ENV, role)
        .env("CALICO_DATASTORE_PATH", path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn read_line(lines: &mut std::io::Lines<BufReader<ChildStdout>>, what: &str) -> String {
    match lines.next() {
        Some(Ok(line)) => line,
        other => panic!("expected {what} from the child, got {other:?}"),
    }
}

fn four_processes_race_and_a_fifth_watches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    let store = EmbeddedBackend::open(&path).unwrap();
    let rev0 = store.create("/counter", b"0").unwrap().mod_revision;
    let expected_events = PROCESSES * EACH * 2;

    let mut watcher = spawn(
        "watcher",
        &path,
        &[
            ("CALICO_DS_TEST_FROM", rev0.to_string()),
            ("CALICO_DS_TEST_EXPECT", expected_events.to_string()),
        ],
    );
    let mut watch_lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert!(read_line(&mut watch_lines, "READY").starts_with("READY "));

    let start = Instant::now();
    let racers: Vec<Child> = (0..PROCESSES)
        .map(|id| spawn("racer", &path, &[("CALICO_DS_TEST_ID", id.to_string())]))
        .collect();
    let mut total_retries = 0u64;
    for mut racer in racers {
        let mut lines = BufReader::new(racer.stdout.take().unwrap()).lines();
        let done = read_line(&mut lines, "DONE");
        assert!(racer.wait().unwrap().success(), "a racer failed: {done}");
        let retries = done
            .rsplit("retries=")
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        total_retries += retries;
    }
    let elapsed = start.elapsed();

    // Final state is exact.
    let counter = store.get("/counter").unwrap().unwrap();
    assert_eq!(counter.value, (PROCESSES * EACH).to_string().as_bytes());
    let listed = store.list("/procs/").unwrap();
    assert_eq!(listed.kvs.len(), PROCESSES * EACH);
    for kv in &listed.kvs {
        let mut parts = kv.key.trim_start_matches("/procs/").split('/');
        let (id, i) = (parts.next().unwrap(), parts.next().unwrap());
        assert_eq!(
            kv.value,
            format!("{id}:{}", i.parse::<usize>().unwrap()).as_bytes()
        );
    }
    assert_eq!(store.revision().unwrap(), rev0 + expected_events as i64);
    store.check_integrity().unwrap();

    // The watcher in its own process saw every change, in order, once.
    let mut last = rev0;
    let mut counter_values = Vec::new();
    let mut created = BTreeSet::new();
    for _ in 0..expected_events {
        let line = read_line(&mut watch_lines, "an event");
        let mut f = line.splitn(4, ' ');
        assert_eq!(f.next(), Some("EV"), "{line}");
        let rev: i64 = f.next().unwrap().parse().unwrap();
        assert_eq!(
            rev,
            last + 1,
            "revisions arrive in order with no gap: {line}"
        );
        last = rev;
        let (key, value) = (f.next().unwrap(), f.next().unwrap());
        if key == "/counter" {
            counter_values.push(value.parse::<usize>().unwrap());
        } else {
            assert!(created.insert(key.to_owned()), "{key} delivered twice");
        }
    }
    assert_eq!(counter_values, (1..=PROCESSES * EACH).collect::<Vec<_>>());
    assert_eq!(created.len(), PROCESSES * EACH);
    assert!(watcher.wait().unwrap().success());
    println!(
        "  {} writes from {PROCESSES} processes in {elapsed:.2?} ({total_retries} CAS retries)",
        expected_events
    );
}

fn many_processes_create_the_store_at_once() {
    const OPENERS: usize = 8;
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calico.db");
        if round == 1 {
            std::fs::write(&path, b"").unwrap(); // A pre-created empty file works too.
        }
        let children: Vec<Child> = (0..OPENERS)
            .map(|id| spawn("opener", &path, &[("CALICO_DS_TEST_ID", id.to_string())]))
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "an opener failed: {out:?}");
        }
        let store = EmbeddedBackend::open(&path).unwrap();
        assert_eq!(store.list("/openers/").unwrap().kvs.len(), OPENERS);
        assert_eq!(store.revision().unwrap(), OPENERS as i64);
        store.check_integrity().unwrap();
    }
}

fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(") ").next()?.chars().next()
}

fn a_stopped_watcher_learns_its_history_was_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    let store = EmbeddedBackend::open(&path).unwrap();
    let rev0 = store.create("/k", b"0").unwrap().mod_revision;
    let mut watcher = spawn(
        "watcher",
        &path,
        &[
            ("CALICO_DS_TEST_FROM", rev0.to_string()),
            ("CALICO_DS_TEST_EXPECT", "1000".into()),
        ],
    );
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert!(read_line(&mut lines, "READY").starts_with("READY "));

    // Freeze the watching process, move history on and compact it away, then let it run.
    let pid = Pid::from_raw(i32::try_from(watcher.id()).unwrap());
    signal::kill(pid, Signal::SIGSTOP).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_state(watcher.id()) != Some('T') {
        assert!(Instant::now() < deadline, "the watcher did not stop");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut rev = rev0;
    for i in 0..10 {
        rev = store
            .update("/k", format!("{i}").as_bytes(), None)
            .unwrap()
            .mod_revision;
    }
    store.compact(rev).unwrap();
    signal::kill(pid, Signal::SIGCONT).unwrap();

    assert_eq!(
        read_line(&mut lines, "COMPACTED"),
        format!("COMPACTED {rev0} {rev}")
    );
    assert!(watcher.wait().unwrap().success());
}

fn sigkill_mid_write_leaves_the_store_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    drop(EmbeddedBackend::open(&path).unwrap());
    let mut last_rev = 0;
    for round in 0..6u64 {
        // Two writers at once, so one is often waiting for the lock the other holds.
        let mut children: Vec<Child> = (0..2)
            .map(|id| spawn("churn", &path, &[("CALICO_DS_TEST_ID", id.to_string())]))
            .collect();
        for c in &mut children {
            let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
            assert_eq!(read_line(&mut lines, "PROGRESS"), "PROGRESS");
        }
        std::thread::sleep(Duration::from_millis(3 + round * 7));
        for c in &mut children {
            c.kill().unwrap(); // SIGKILL
            let status = c.wait().unwrap();
            assert!(!status.success(), "the writer was killed, not finished");
        }

        let store = EmbeddedBackend::open(&path).unwrap();
        store.check_integrity().unwrap();
        let rev = store.revision().unwrap();
        assert!(rev > last_rev, "round {round}: the writers made progress");
        last_rev = rev;
        let listed = store.list("/churn/").unwrap();
        assert!(listed.kvs.iter().all(|kv| kv.value.len() == 256 * 1024));
        // The lock a killed writer held is free again.
        let kv = store.create(&format!("/after/{round}"), b"ok").unwrap();
        assert_eq!(kv.mod_revision, rev + 1);
    }
}
