//! What every datastore command shares: the global flags, connecting (config file or
//! environment), Calico's client/cluster version-mismatch check, and the namespace rules.

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use calico_api::{KindInfo, Resource, find_kind};
use calico_client::{CALICO_RS_VERSION, Client, ClientError, DatastoreConfig};

use crate::log;

/// The flags every command accepts.
#[derive(Clone, Debug)]
pub struct Globals {
    pub config: PathBuf,
    pub allow_version_mismatch: bool,
}

/// The version this binary reports (and compares against `ClusterInformation.calicoVersion`).
pub const CLIENT_VERSION: &str = CALICO_RS_VERSION;

impl Globals {
    /// Load the configuration and open the datastore, with Calico's message on failure.
    pub fn connect(&self) -> Result<Client> {
        let cfg = DatastoreConfig::load(Some(&self.config))
            .map_err(|e| anyhow!("Failed to create Calico API client: {e}"))?;
        log::info(format_args!(
            "datastore: {:?} (embedded path {}, etcd endpoints {})",
            cfg.datastore_type,
            cfg.embedded_path.display(),
            cfg.etcd.endpoint_list()
        ));
        Client::connect(&cfg).map_err(|e| anyhow!("Failed to create Calico API client: {e}"))
    }

    /// Connect, then refuse to work against a cluster of another version unless
    /// `--allow-version-mismatch` (Calico's `CheckVersionMismatch`).
    pub fn connect_checked(&self) -> Result<Client> {
        let client = self.connect()?;
        if !self.allow_version_mismatch {
            check_version_mismatch(&client)?;
        }
        Ok(client)
    }
}

fn cluster_information() -> Result<&'static KindInfo> {
    find_kind("ClusterInformation", None)
        .ok_or_else(|| anyhow!("internal error: ClusterInformation is not a registered kind"))
}

fn check_version_mismatch(client: &Client) -> Result<()> {
    let ci = match client.get(cluster_information()?, "", "default") {
        Ok(ci) => ci,
        Err(ClientError::NotFound { .. }) => return Ok(()),
        Err(e) => bail!(
            "Unable to get Cluster Information to verify version mismatch: {e}\nUse \
             --allow-version-mismatch to override."
        ),
    };
    let cluster = ci
        .to_value()
        .pointer("/spec/calicoVersion")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if cluster.is_empty() {
        return Ok(());
    }
    let short = |v: &str| {
        let v = v.strip_prefix('v').unwrap_or(v);
        v.split('-').next().unwrap_or(v).to_string()
    };
    let (clusterv, clientv) = (short(&cluster), short(CLIENT_VERSION));
    if clusterv != clientv {
        bail!(
            "Version mismatch.\nClient Version:   {CLIENT_VERSION}\nCluster Version:  \
             {clusterv}\nUse --allow-version-mismatch to override."
        );
    }
    Ok(())
}

/// Calico's `handleNamespace`: fill in or check the namespace of a resource named on the
/// command line or in a file, against `-n` and `-A`.
pub fn handle_namespace(
    info: &KindInfo,
    resource_ns: &mut String,
    cli_ns: Option<&str>,
    all_namespaces: bool,
) -> Result<(), String> {
    let cli_ns = cli_ns.filter(|s| !s.is_empty());
    if info.namespaced {
        match (resource_ns.is_empty(), cli_ns) {
            (_, Some(_)) if all_namespaces => {
                return Err(
                    "cannot use both --namespace and --all-namespaces flags at the same time"
                        .into(),
                );
            }
            (true, Some(ns)) => *resource_ns = ns.to_string(),
            (false, None) if all_namespaces => resource_ns.clear(),
            (true, None) if all_namespaces => {}
            (true, None) => *resource_ns = "default".into(),
            (false, None) => {}
            (false, Some(ns)) if ns != resource_ns => {
                return Err(format!(
                    "resource namespace does not match client namespace. {resource_ns} != {ns}"
                ));
            }
            (false, Some(_)) => {}
        }
    } else if !resource_ns.is_empty() {
        return Err(format!(
            "namespace should not be specified for a non-namespaced resource. {} is not a \
             namespaced resource",
            info.kind
        ));
    } else if all_namespaces || cli_ns.is_some() {
        return Err(format!("{} is not namespaced", info.kind));
    }
    Ok(())
}

/// [`handle_namespace`] applied to a decoded resource.
pub fn handle_resource_namespace(
    r: &mut Resource,
    cli_ns: Option<&str>,
    all_namespaces: bool,
) -> Result<(), String> {
    let info = r.info();
    let mut ns = r.namespace().to_string();
    handle_namespace(info, &mut ns, cli_ns, all_namespaces)?;
    r.metadata_mut().namespace = ns;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ns(kind: &str, res: &str, cli: Option<&str>, all: bool) -> Result<String, String> {
        let info = find_kind(kind, None).unwrap();
        let mut r = res.to_string();
        handle_namespace(info, &mut r, cli, all).map(|()| r)
    }

    #[test]
    fn namespace_rules() {
        assert_eq!(ns("NetworkPolicy", "", None, false).unwrap(), "default");
        assert_eq!(ns("NetworkPolicy", "", Some("a"), false).unwrap(), "a");
        assert_eq!(ns("NetworkPolicy", "b", None, true).unwrap(), "");
        assert!(
            ns("NetworkPolicy", "b", Some("a"), false)
                .unwrap_err()
                .contains("b != a")
        );
        assert!(
            ns("NetworkPolicy", "", Some("a"), true)
                .unwrap_err()
                .contains("both")
        );
        assert_eq!(
            ns("IPPool", "", Some("a"), false).unwrap_err(),
            "IPPool is not namespaced"
        );
        assert!(
            ns("IPPool", "x", None, false)
                .unwrap_err()
                .contains("non-namespaced")
        );
    }
}
