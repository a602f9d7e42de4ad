//! Finding the programs a lab runs: `calico-node`, `calico` (the CNI plugin), `calico-ipam`,
//! `calicoctl`, `calico-lab` itself, `etcd`.
//!
//! Order: `$CALICO_LAB_BIN_DIR`, the directory of the running executable (`target/debug`
//! or `target/release` next to `calico-lab`; for a test binary in `target/debug/deps`, its
//! parent too), then `PATH`.

use std::path::{Path, PathBuf};

use crate::error::{LabError, Result};

/// Environment variable naming a directory searched first.
pub const BIN_DIR_ENV: &str = "CALICO_LAB_BIN_DIR";

/// Directories searched before `PATH`.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os(BIN_DIR_ENV).filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        dirs.push(dir.to_path_buf());
        if dir.file_name().is_some_and(|n| n == "deps")
            && let Some(up) = dir.parent()
        {
            dirs.push(up.to_path_buf());
        }
    }
    dirs
}

fn is_exe(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Where `name` is, or a message saying how to get it.
pub fn find(name: &str) -> Result<PathBuf> {
    let mut tried = Vec::new();
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in search_dirs().into_iter().chain(path_dirs) {
        let c = d.join(name);
        if is_exe(&c) {
            return Ok(c);
        }
        tried.push(d.display().to_string());
    }
    let hint = match name {
        "calico-node" => "build it: cargo build -p calico-node",
        "calico" | "calico-ipam" => "build it: cargo build -p calico-cni-plugin",
        "calicoctl" => "build it: cargo build -p calicoctl",
        "etcd" => "install Debian's etcd-server (apt-get install etcd-server)",
        _ => "install it",
    };
    Err(LabError::Missing(format!(
        "cannot find `{name}` (looked in {}): {hint}",
        tried.join(", ")
    )))
}

/// The directory holding the CNI plugin (the `CNI_PATH` given to it).
pub fn cni_dir() -> Result<PathBuf> {
    let calico = find("calico")?;
    Ok(calico
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".")))
}

/// The running `calico-lab` (used to start its hidden `serve` command); inside a test binary,
/// the `calico-lab` next to it.
pub fn self_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| LabError::Missing(format!("cannot find the running executable: {e}")))?;
    if exe.file_name().is_some_and(|n| n == "calico-lab") {
        return Ok(exe);
    }
    find("calico-lab")
}
