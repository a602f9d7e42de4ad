//! The workload MTU Felix works out and writes to its MTU file (`MTUFilePath`, default
//! `/var/lib/calico/mtu`, set with `FELIX_MTUFILEPATH`) for the CNI plugin: the smallest MTU
//! of the host interfaces matching `mtuIfacePattern`, minus the overhead of the encapsulation
//! in use (VXLAN: 50), or `vxlanMTU` when set.

use std::path::{Path, PathBuf};

use regex::Regex;

/// Felix's default MTU file.
pub const DEFAULT_MTU_FILE: &str = "/var/lib/calico/mtu";
/// The MTU assumed when no host interface matches the pattern.
pub const DEFAULT_HOST_MTU: u32 = 1500;
/// VXLAN's IPv4 overhead.
pub const VXLAN_OVERHEAD: u32 = 50;

/// The MTU file path from `FELIX_MTUFILEPATH`.
pub fn mtu_file(lookup: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    lookup("FELIX_MTUFILEPATH")
        .filter(|s| !s.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MTU_FILE))
}

/// The workload MTU from the host interfaces' (name, MTU).
pub fn workload_mtu(host: &[(String, u32)], pattern: &Regex, vxlan: bool, vxlan_mtu: u32) -> u32 {
    let host_mtu = host
        .iter()
        .filter(|(n, _)| pattern.is_match(n))
        .map(|(_, m)| *m)
        .min()
        .unwrap_or(DEFAULT_HOST_MTU);
    if !vxlan {
        return host_mtu;
    }
    if vxlan_mtu > 0 {
        vxlan_mtu
    } else {
        host_mtu.saturating_sub(VXLAN_OVERHEAD)
    }
}

/// The interfaces of this namespace and their MTUs (`/sys/class/net`).
pub fn host_mtus() -> Vec<(String, u32)> {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let mtu = std::fs::read_to_string(e.path().join("mtu"))
                .ok()?
                .trim()
                .parse()
                .ok()?;
            Some((name, mtu))
        })
        .collect()
}

/// Write `mtu` to `path` when it differs from what is there.
pub fn write_mtu_file(path: &Path, mtu: u32) -> Result<bool, String> {
    let text = mtu.to_string();
    if std::fs::read_to_string(path).is_ok_and(|t| t.trim() == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, &text)
        .map_err(|e| format!("cannot write the MTU file {}: {e}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mtu_rules() {
        let pat = Regex::new("^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)").unwrap();
        let host = vec![
            ("lo".to_string(), 65536),
            ("eth0".to_string(), 9000),
            ("eth1".to_string(), 1500),
            ("cali123".to_string(), 1400),
        ];
        assert_eq!(workload_mtu(&host, &pat, false, 0), 1500);
        assert_eq!(workload_mtu(&host, &pat, true, 0), 1450);
        assert_eq!(workload_mtu(&host, &pat, true, 1400), 1400);
        assert_eq!(workload_mtu(&[], &pat, true, 0), 1450);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/mtu");
        assert!(write_mtu_file(&f, 1450).unwrap());
        assert!(!write_mtu_file(&f, 1450).unwrap());
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "1450");
        assert_eq!(mtu_file(&|_| None), PathBuf::from("/var/lib/calico/mtu"));
    }
}
