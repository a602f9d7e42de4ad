//! Running commands, in namespaces this program made (or the lab it brought up).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Run `argv`; its stdout, or an error with its output.
pub fn run(argv: &[&str]) -> Result<String> {
    let (prog, args) = argv.split_first().context("empty command")?;
    let o = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {prog}"))?;
    if !o.status.success() {
        bail!(
            "{} failed ({}): {}{}",
            argv.join(" "),
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Run `argv` inside network namespace `ns` (`ip netns exec`).
pub fn in_ns(ns: &str, argv: &[&str]) -> Result<String> {
    let mut all = vec!["ip", "netns", "exec", ns];
    all.extend_from_slice(argv);
    run(&all)
}

/// Run `argv` inside `ns` with `input` on stdin; how long it took.
pub fn in_ns_stdin(ns: &str, argv: &[&str], input: &str) -> Result<Duration> {
    use std::io::Write;
    let t = Instant::now();
    let mut c = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run ip netns exec")?;
    c.stdin
        .take()
        .context("no stdin")?
        .write_all(input.as_bytes())?;
    let o = c.wait_with_output()?;
    let took = t.elapsed();
    if !o.status.success() {
        bail!(
            "{} in {ns} failed: {}",
            argv.join(" "),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Ok(took)
}

/// Start `argv` inside `ns` (`ip netns exec` execs it, so the child's pid is the program's).
pub fn spawn_in_ns(ns: &str, argv: &[&str]) -> Result<Child> {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {} in {ns}", argv.join(" ")))
}

/// Processes this program started; killed (and reaped) on drop.
#[derive(Default)]
pub struct Children(pub Vec<Child>);

impl Children {
    pub fn push(&mut self, c: Child) {
        self.0.push(c);
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Whether a process with this pid exists.
pub fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Network namespaces whose name starts with `prefix`.
pub fn netns_with_prefix(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Kill what runs inside `ns` (leftovers of a crashed run of ours), then delete it.
pub fn delete_netns(ns: &str) {
    if let Ok(o) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).status();
}

/// Poll `f` until it is true or `max` passes; whether it became true.
pub fn wait_until(max: Duration, step: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > max {
            return false;
        }
        std::thread::sleep(step);
    }
}
