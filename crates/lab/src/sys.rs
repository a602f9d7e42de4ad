//! The lab's contact with the system: `ip` commands aimed at the lab's own namespaces, named
//! namespaces (`ip netns add/del`), threads that enter a namespace, daemon processes and
//! bounded waits.
//!
//! Nothing here changes the root network namespace: every `ip` command names a namespace with
//! `-n`, and every process that touches the network is started inside a lab namespace.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{LabError, Result};
use crate::state::ProcessRecord;

/// `/run/netns/NAME`.
pub fn netns_path(name: &str) -> PathBuf {
    Path::new("/run/netns").join(name)
}

/// Whether the named namespace exists.
pub fn netns_exists(name: &str) -> bool {
    netns_path(name).exists()
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Run a command to completion; non-zero exit is an error carrying its output.
pub fn run(cmd: &mut Command) -> Result<String> {
    let text = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Missing(format!("cannot run `{text}`: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: text,
            status: out.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .trim()
            .to_string(),
        })
    }
}

/// `ip -n NETNS ARGS...`.
pub fn ip(netns: &str, args: &[&str]) -> Result<String> {
    run(Command::new("ip").arg("-n").arg(netns).args(args))
}

/// Fail unless running as root (namespaces, veths and daemons need it).
pub fn require_root(what: &str) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(LabError::State(format!(
            "calico-lab {what} needs root: it creates network namespaces and starts daemons in them"
        )))
    }
}

/// Fail when a namespace the lab is about to make already exists: it was not made by this lab
/// (or by a lab whose state is gone), and the lab never adopts what it did not make.
pub fn require_absent(name: &str) -> Result<()> {
    if netns_exists(name) {
        Err(LabError::State(format!(
            "network namespace {name} already exists and was not made by this lab; if it is a \
             leftover, remove it with `ip netns del {name}`"
        )))
    } else {
        Ok(())
    }
}

/// `ip netns add NAME` with `lo` up.
pub fn create_netns(name: &str) -> Result<()> {
    run(Command::new("ip").args(["netns", "add", name]))?;
    ip(name, &["link", "set", "lo", "up"])?;
    Ok(())
}

/// `ip netns del NAME`; a namespace that does not exist is fine.
pub fn delete_netns(name: &str) -> Result<()> {
    if !netns_exists(name) {
        return Ok(());
    }
    run(Command::new("ip").args(["netns", "del", name]))?;
    Ok(())
}

/// Set a sysctl inside a lab namespace (`ip netns exec NS sysctl -qw KEY=VALUE`).
pub fn sysctl(netns: &str, key: &str, value: &str) -> Result<()> {
    run(Command::new("ip").args([
        "netns",
        "exec",
        netns,
        "sysctl",
        "-qw",
        &format!("{key}={value}"),
    ]))?;
    Ok(())
}

/// Run `f` on a fresh thread that has entered network namespace `netns` (a path such as
/// `/run/netns/NAME`). Sockets it opens, threads and processes it starts, live there.
pub fn in_netns<T, F>(netns: &Path, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let file =
        File::open(netns).map_err(|e| LabError::io("cannot open network namespace", netns, e))?;
    let path = netns.to_path_buf();
    std::thread::spawn(move || {
        enter(&file, &path)?;
        f()
    })
    .join()
    .map_err(|_| LabError::State(format!("a thread in {} panicked", netns.display())))?
}

/// Move the calling thread into the namespace `file` refers to.
pub fn enter(file: &File, path: &Path) -> Result<()> {
    setns(file, CloneFlags::CLONE_NEWNET).map_err(|e| LabError::Sys {
        what: format!("cannot enter network namespace {}", path.display()),
        source: e,
    })
}

/// Start time (clock ticks since boot) and whether the process is a zombie, from
/// `/proc/PID/stat`.
fn proc_stat(pid: i32) -> Option<(u64, bool)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': field 3 (state) is index 0, field 22 (starttime) is index 19.
    let zombie = matches!(fields.first(), Some(&"Z") | Some(&"X"));
    let start = fields.get(19)?.parse().ok()?;
    Some((start, zombie))
}

/// Whether the recorded process is still the one we started, and running.
pub fn alive(p: &ProcessRecord) -> bool {
    matches!(proc_stat(p.pid), Some((start, false)) if start == p.start_time)
}

/// Start a daemon: `cmd` with stdin from /dev/null, stdout and stderr appended to `log`, in
/// its own process group (so a terminal's Ctrl-C does not reach it). Not waited for.
pub fn spawn_daemon(cmd: &mut Command, log: &Path) -> Result<ProcessRecord> {
    let text = describe(cmd);
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| LabError::io("cannot open log", log, e))?;
    let err = out
        .try_clone()
        .map_err(|e| LabError::io("cannot open log", log, e))?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::Missing(format!("cannot start `{text}`: {e}")))?;
    let pid = i32::try_from(child.id())
        .map_err(|_| LabError::State(format!("`{text}`: pid out of range")))?;
    // Dropping a Child neither waits for nor kills it.
    drop(child);
    let start_time = proc_stat(pid).map(|(s, _)| s).ok_or_else(|| {
        LabError::State(format!("`{text}` exited at once; see {}", log.display()))
    })?;
    Ok(ProcessRecord {
        pid,
        start_time,
        log: log.to_path_buf(),
    })
}

/// Stop every process still inside lab namespace `name` (`ip netns pids`): ones whose record
/// was lost (an interrupted command) or that a user started with `exec`. The namespace is
/// the lab's own, so they go with it. Returns the pids that would not stop.
pub fn stop_all_in(name: &str, grace: Duration) -> Vec<i32> {
    if !netns_exists(name) {
        return Vec::new();
    }
    let Ok(out) = run(Command::new("ip").args(["netns", "pids", name])) else {
        return Vec::new();
    };
    let me = std::process::id();
    out.split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
        .filter(|p| u32::try_from(*p).ok() != Some(me))
        .filter_map(|pid| {
            let (start_time, _) = proc_stat(pid)?;
            let rec = ProcessRecord {
                pid,
                start_time,
                log: PathBuf::new(),
            };
            (!stop(&rec, grace)).then_some(pid)
        })
        .collect()
}

/// Stop a recorded process: SIGTERM, up to `grace` for it to end, then SIGKILL and up to 2 s.
/// A process that is gone (or whose pid now belongs to another process) is left alone.
pub fn stop(p: &ProcessRecord, grace: Duration) -> bool {
    if !alive(p) {
        return true;
    }
    let pid = Pid::from_raw(p.pid);
    let _ = kill(pid, Signal::SIGTERM);
    if wait_until(grace, Duration::from_millis(20), || !alive(p)) {
        return true;
    }
    if alive(p) {
        let _ = kill(pid, Signal::SIGKILL);
    }
    wait_until(Duration::from_secs(2), Duration::from_millis(20), || {
        !alive(p)
    })
}

/// Poll `ok` every `every` until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, every: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if ok() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Run `cmd` with `stdin` written to it, killing it after `limit`. Returns (success, stdout,
/// stderr).
pub fn run_input(
    cmd: &mut Command,
    stdin: &[u8],
    limit: Duration,
) -> Result<(bool, String, String)> {
    let text = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Missing(format!("cannot run `{text}`: {e}")))?;
    if let Some(mut i) = child.stdin.take() {
        // A plugin that exits without reading its input closes the pipe: not our error.
        let _ = i.write_all(stdin);
    }
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LabError::Timeout(format!(
                    "`{text}` did not finish within {} s",
                    limit.as_secs()
                )));
            }
        }
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    Ok((status.success(), out, err))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_fake_record_is_not() {
        let me = i32::try_from(std::process::id()).unwrap();
        let (start, zombie) = proc_stat(me).unwrap();
        assert!(!zombie);
        let rec = ProcessRecord {
            pid: me,
            start_time: start,
            log: PathBuf::new(),
        };
        assert!(alive(&rec));
        let reused = ProcessRecord {
            start_time: start + 1,
            ..rec
        };
        assert!(!alive(&reused), "a pid with another start time is not ours");
    }

    #[test]
    fn run_input_times_out() {
        let e = run_input(
            Command::new("sleep").arg("5"),
            b"",
            Duration::from_millis(100),
        )
        .unwrap_err();
        assert!(e.to_string().contains("did not finish"), "{e}");
        let (ok, out, _) =
            run_input(&mut Command::new("cat"), b"hi", Duration::from_secs(5)).unwrap();
        assert!(ok);
        assert_eq!(out, "hi");
    }
}
