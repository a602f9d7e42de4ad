//! Named network namespaces (`/run/netns/NAME`, like `ip netns add`), and checks on
//! namespace paths.

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::statfs::{NSFS_MAGIC, PROC_SUPER_MAGIC, fstatfs};

use crate::{LinuxError, Result};

/// Where named namespaces are bound, as iproute2 does.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// Whether `path` is a network namespace handle (an nsfs file, or a `/proc/.../ns/net` link).
pub fn netns_exists(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    match fstatfs(&f) {
        Ok(s) => s.filesystem_type() == NSFS_MAGIC || s.filesystem_type() == PROC_SUPER_MAGIC,
        Err(_) => false,
    }
}

/// Open a namespace handle, with a clear error when it does not exist.
pub(crate) fn open_netns_file(path: &Path) -> Result<File> {
    let f = File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            LinuxError::NetnsNotFound { path: path.into() }
        } else {
            LinuxError::Netns {
                path: path.into(),
                source,
            }
        }
    })?;
    match fstatfs(&f) {
        Ok(s) if s.filesystem_type() == NSFS_MAGIC || s.filesystem_type() == PROC_SUPER_MAGIC => {
            Ok(f)
        }
        _ => Err(LinuxError::NetnsNotFound { path: path.into() }),
    }
}

/// A network namespace bound at `/run/netns/NAME`, removed when dropped (also on panic).
#[derive(Debug)]
pub struct NamedNetns {
    name: String,
    path: PathBuf,
}

impl NamedNetns {
    /// Create a fresh namespace called `name` (an existing one of that name is an error).
    pub fn create(name: &str) -> Result<Self> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(LinuxError::Invalid(format!(
                "network namespace name {name:?}: expected a plain file name"
            )));
        }
        let dir = Path::new(NETNS_RUN_DIR);
        let path = dir.join(name);
        let io = |source| LinuxError::Netns {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io)?;
        let target = path.clone();
        // unshare(2) moves only this throw-away thread into the new namespace; the bind mount
        // keeps the namespace alive after the thread ends.
        let res = std::thread::spawn(move || -> nix::Result<()> {
            unshare(CloneFlags::CLONE_NEWNET)?;
            mount(
                Some("/proc/thread-self/ns/net"),
                &target,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
        })
        .join()
        .map_err(|_| LinuxError::Worker("netns creation thread panicked".into()))?;
        if let Err(e) = res {
            let _ = std::fs::remove_file(&path);
            return Err(io(std::io::Error::from(e)));
        }
        Ok(NamedNetns {
            name: name.into(),
            path,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/run/netns/NAME`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for NamedNetns {
    fn drop(&mut self) {
        remove_netns_file(&self.path);
    }
}

fn remove_netns_file(path: &Path) {
    let _ = umount2(path, MntFlags::MNT_DETACH);
    let _ = std::fs::remove_file(path);
}

/// Remove the `/run/netns/` entries named `<prefix><pid>-...` whose process `<pid>` is gone
/// (left over by a crashed run). Namespaces of live processes are never touched. Returns the
/// names removed.
pub fn remove_stale_netns(prefix: &str) -> Vec<String> {
    let mut removed = Vec::new();
    if prefix.is_empty() {
        return removed;
    }
    let Ok(entries) = std::fs::read_dir(NETNS_RUN_DIR) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            remove_netns_file(&e.path());
            removed.push(name);
        }
    }
    removed
}
