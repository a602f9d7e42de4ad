//! Datastore configuration, as calicoctl and the other binaries read it: a `CalicoAPIConfig`
//! file (`-c`, default `/etc/calico/calicoctl.cfg`) or, when there is no file, the environment
//! variables Calico uses (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`, `ETCD_CA_CERT_FILE`,
//! `ETCD_CERT_FILE`, `ETCD_KEY_FILE`, `ETCD_USERNAME`, `ETCD_PASSWORD`), plus
//! `CALICO_DATASTORE_PATH` for the embedded store.
//!
//! calico-rs' default datastore type is `embedded` (Calico's is `kubernetes`): one file, no
//! server.

use std::path::{Path, PathBuf};

use calico_datastore::etcd::EtcdConfig;
use serde::Deserialize;

use crate::ClientError;

/// The default config file path.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/calico/calicoctl.cfg";
/// The default embedded store file.
pub const DEFAULT_EMBEDDED_PATH: &str = "/var/lib/calico/calico.db";

/// Which backend to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatastoreType {
    Embedded,
    EtcdV3,
}

impl DatastoreType {
    fn parse(s: &str) -> Result<Self, ClientError> {
        match s {
            "" | "embedded" => Ok(Self::Embedded),
            "etcdv3" => Ok(Self::EtcdV3),
            "kubernetes" => Err(ClientError::Config(
                "datastoreType \"kubernetes\" is not supported by calico-rs yet: use \"embedded\" \
                 (the default) or \"etcdv3\""
                    .into(),
            )),
            other => Err(ClientError::Config(format!(
                "datastoreType {other:?} is not valid: expected \"embedded\" or \"etcdv3\""
            ))),
        }
    }
}

/// A complete datastore configuration.
#[derive(Clone, Debug)]
pub struct DatastoreConfig {
    pub datastore_type: DatastoreType,
    /// The embedded store file.
    pub embedded_path: PathBuf,
    pub etcd: EtcdConfig,
}

/// `kind: CalicoAPIConfig` as Calico writes it (unknown fields rejected).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ApiConfigFile {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: serde_json::Value,
    #[serde(default)]
    spec: ApiConfigSpec,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ApiConfigSpec {
    datastore_type: Option<String>,
    embedded_path: Option<String>,
    etcd_endpoints: Option<String>,
    etcd_discovery_srv: Option<String>,
    etcd_username: Option<String>,
    etcd_password: Option<String>,
    etcd_key_file: Option<String>,
    etcd_cert_file: Option<String>,
    #[serde(rename = "etcdCACertFile")]
    etcd_ca_cert_file: Option<String>,
    kubeconfig: Option<String>,
    #[serde(rename = "k8sAPIEndpoint")]
    k8s_api_endpoint: Option<String>,
}

impl DatastoreConfig {
    /// calicoctl's rule: the file at `path` (or the default file) when it exists, else the
    /// environment. An explicitly named file that does not exist is an error.
    pub fn load(path: Option<&Path>) -> Result<Self, ClientError> {
        match path {
            Some(p) if p != Path::new(DEFAULT_CONFIG_FILE) => Self::from_file(p),
            _ if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Self::from_file(Path::new(DEFAULT_CONFIG_FILE))
            }
            _ => Self::from_env(),
        }
    }

    /// From the process environment.
    pub fn from_env() -> Result<Self, ClientError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any variable lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ClientError> {
        let datastore_type = DatastoreType::parse(&lookup("DATASTORE_TYPE").unwrap_or_default())?;
        let embedded_path = lookup("CALICO_DATASTORE_PATH")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_EMBEDDED_PATH));
        let etcd = if datastore_type == DatastoreType::EtcdV3 {
            EtcdConfig::from_lookup(&lookup).map_err(ClientError::Datastore)?
        } else {
            EtcdConfig::default()
        };
        Ok(Self {
            datastore_type,
            embedded_path,
            etcd,
        })
    }

    /// From a `CalicoAPIConfig` YAML/JSON file.
    pub fn from_file(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ClientError::Config(format!("cannot read config file {}: {e}", path.display()))
        })?;
        Self::from_file_text(&text)
            .map_err(|e| ClientError::Config(format!("config file {}: {e}", path.display())))
    }

    fn from_file_text(text: &str) -> Result<Self, String> {
        let file: ApiConfigFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        if let Some(kind) = &file.kind
            && kind != "CalicoAPIConfig"
        {
            return Err(format!(
                "kind {kind:?} is not valid: expected CalicoAPIConfig"
            ));
        }
        if let Some(api) = &file.api_version
            && api != "projectcalico.org/v3"
        {
            return Err(format!(
                "apiVersion {api:?} is not valid: expected projectcalico.org/v3"
            ));
        }
        let s = file.spec;
        if s.kubeconfig.is_some() || s.k8s_api_endpoint.is_some() {
            return Err(
                "spec.kubeconfig / spec.k8sAPIEndpoint: the kubernetes datastore is \
                        not supported by calico-rs yet"
                    .into(),
            );
        }
        if s.etcd_discovery_srv.is_some() {
            return Err("spec.etcdDiscoverySrv is not supported: list spec.etcdEndpoints".into());
        }
        let lookup = |k: &str| -> Option<String> {
            match k {
                "DATASTORE_TYPE" => s.datastore_type.clone(),
                "CALICO_DATASTORE_PATH" => s.embedded_path.clone(),
                "ETCD_ENDPOINTS" => s.etcd_endpoints.clone(),
                "ETCD_USERNAME" => s.etcd_username.clone(),
                "ETCD_PASSWORD" => s.etcd_password.clone(),
                "ETCD_KEY_FILE" => s.etcd_key_file.clone(),
                "ETCD_CERT_FILE" => s.etcd_cert_file.clone(),
                "ETCD_CA_CERT_FILE" => s.etcd_ca_cert_file.clone(),
                _ => None,
            }
        };
        Self::from_lookup(lookup).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn env_defaults_to_embedded() {
        let c = DatastoreConfig::from_lookup(|_| None).unwrap();
        assert_eq!(c.datastore_type, DatastoreType::Embedded);
        assert_eq!(c.embedded_path, PathBuf::from(DEFAULT_EMBEDDED_PATH));
        let c = DatastoreConfig::from_lookup(|k| {
            (k == "CALICO_DATASTORE_PATH").then(|| "/tmp/x.db".to_string())
        })
        .unwrap();
        assert_eq!(c.embedded_path, PathBuf::from("/tmp/x.db"));
    }

    #[test]
    fn env_etcd() {
        let c = DatastoreConfig::from_lookup(|k| match k {
            "DATASTORE_TYPE" => Some("etcdv3".into()),
            "ETCD_ENDPOINTS" => Some("http://127.0.0.1:2379".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.datastore_type, DatastoreType::EtcdV3);
        assert_eq!(c.etcd.endpoints, vec!["http://127.0.0.1:2379".to_string()]);
    }

    #[test]
    fn bad_type_is_named() {
        let e = DatastoreConfig::from_lookup(|k| (k == "DATASTORE_TYPE").then(|| "mongo".into()))
            .unwrap_err();
        assert!(e.to_string().contains("\"mongo\""), "{e}");
    }

    #[test]
    fn file_form() {
        let c = DatastoreConfig::from_file_text(
            "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata:\nspec:\n  \
             datastoreType: etcdv3\n  etcdEndpoints: http://127.0.0.1:2379\n",
        )
        .unwrap();
        assert_eq!(c.datastore_type, DatastoreType::EtcdV3);
        let e = DatastoreConfig::from_file_text("kind: CalicoAPIConfig\nspec:\n  bogus: 1\n")
            .unwrap_err();
        assert!(e.contains("bogus"), "{e}");
    }
}
