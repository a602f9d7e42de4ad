//! Node name and MTU, determined as Calico determines them.

use std::path::Path;

use crate::error::CniError;
use crate::netconf::NetConf;

/// Calico's default node name file, written by calico/node.
pub const DEFAULT_NODENAME_FILE: &str = "/var/lib/calico/nodename";
/// Felix's MTU file, read when `mtu` is unset.
pub const MTU_FILE: &str = "/var/lib/calico/mtu";

/// `nodename` > the node name file > `hostname` (deprecated) > the OS host name. When no name
/// is configured, the file must exist unless `nodename_file_optional` is set.
pub fn determine_nodename(conf: &NetConf) -> Result<String, CniError> {
    if !conf.nodename.is_empty() {
        return Ok(conf.nodename.clone());
    }
    let file = if conf.nodename_file.is_empty() {
        DEFAULT_NODENAME_FILE
    } else {
        &conf.nodename_file
    };
    match std::fs::read_to_string(file) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string()),
        Ok(_) => {}
        Err(e) if !conf.nodename_file_optional => {
            return Err(CniError::internal(format!(
                "stat {file}: {e}: check that the calico/node container is running and has mounted /var/lib/calico/"
            )));
        }
        Err(_) => {}
    }
    if !conf.hostname.is_empty() {
        return Ok(conf.hostname.clone());
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    if host.is_empty() {
        return Err(CniError::internal(
            "cannot determine the node name: set nodename in the network configuration",
        ));
    }
    Ok(host)
}

/// `mtu` when set, else Felix's MTU file, else the kernel default (`None`).
pub fn determine_mtu(conf: &NetConf, mtu_file: &Path) -> Option<u32> {
    if conf.mtu > 0 {
        return Some(conf.mtu);
    }
    std::fs::read_to_string(mtu_file)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|m| *m > 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nodename");
        let mut c = NetConf {
            nodename_file: f.display().to_string(),
            ..NetConf::default()
        };
        assert!(
            determine_nodename(&c)
                .unwrap_err()
                .msg
                .contains("calico/node")
        );
        c.nodename_file_optional = true;
        c.hostname = "h1".into();
        assert_eq!(determine_nodename(&c).unwrap(), "h1");
        std::fs::write(&f, "node-a\n").unwrap();
        assert_eq!(determine_nodename(&c).unwrap(), "node-a");
        c.nodename = "explicit".into();
        assert_eq!(determine_nodename(&c).unwrap(), "explicit");

        let m = dir.path().join("mtu");
        assert_eq!(determine_mtu(&c, &m), None);
        std::fs::write(&m, "1440").unwrap();
        assert_eq!(determine_mtu(&c, &m), Some(1440));
        c.mtu = 9000;
        assert_eq!(determine_mtu(&c, &m), Some(9000));
    }
}
