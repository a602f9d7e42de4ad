//! [`EtcdConfig`]: where the etcd cluster is and how to authenticate, read from the same
//! environment variables Calico uses (`ETCD_ENDPOINTS`, `ETCD_CA_CERT_FILE`, `ETCD_CERT_FILE`,
//! `ETCD_KEY_FILE`, `ETCD_USERNAME`, `ETCD_PASSWORD`), and its translation into etcd-client
//! connect options.

use std::path::PathBuf;
use std::time::Duration;

use etcd_client::{Certificate, ConnectOptions, Identity, TlsOptions};

use crate::backend::DatastoreError;

/// Calico's default when `ETCD_ENDPOINTS` is not set.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:2379";
/// How long to wait for a connection to an endpoint.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the answer to one request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The value of `DATASTORE_TYPE` that selects this backend.
pub const DATASTORE_TYPE: &str = "etcdv3";

/// Connection settings for [`super::EtcdBackend::connect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdConfig {
    /// `http://host:port` or `https://host:port` URLs, all with the same scheme.
    pub endpoints: Vec<String>,
    /// PEM file with the CA that signed the etcd server certificates (required for `https`).
    pub ca_cert_file: Option<PathBuf>,
    /// PEM client certificate, for etcd's `--client-cert-auth`; needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// etcd user (etcd's auth); needs `password`.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Give up connecting to an endpoint after this long.
    pub dial_timeout: Duration,
    /// Give up waiting for the answer to one request after this long.
    pub request_timeout: Duration,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        Self {
            endpoints: vec![DEFAULT_ENDPOINT.to_owned()],
            ca_cert_file: None,
            cert_file: None,
            key_file: None,
            username: None,
            password: None,
            dial_timeout: DEFAULT_DIAL_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl EtcdConfig {
    /// Settings for the given endpoints, everything else default.
    pub fn new<S: Into<String>>(endpoints: impl IntoIterator<Item = S>) -> Self {
        Self {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Read the `ETCD_*` variables of this process (see [`EtcdConfig::from_lookup`]).
    pub fn from_env() -> Result<Self, DatastoreError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read the settings through `lookup(NAME)`, which returns a variable's value if set.
    ///
    /// `ETCD_ENDPOINTS` is a comma-separated list (default [`DEFAULT_ENDPOINT`]); empty values
    /// count as unset. `DATASTORE_TYPE`, when set, must be `etcdv3`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, DatastoreError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(kind) = get("DATASTORE_TYPE")
            && kind != DATASTORE_TYPE
        {
            return Err(DatastoreError::Config(format!(
                "DATASTORE_TYPE is {kind:?}, but the etcd backend needs {DATASTORE_TYPE:?}"
            )));
        }
        let endpoints = match get("ETCD_ENDPOINTS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect(),
            None => vec![DEFAULT_ENDPOINT.to_owned()],
        };
        let cfg = Self {
            endpoints,
            ca_cert_file: get("ETCD_CA_CERT_FILE").map(PathBuf::from),
            cert_file: get("ETCD_CERT_FILE").map(PathBuf::from),
            key_file: get("ETCD_KEY_FILE").map(PathBuf::from),
            username: get("ETCD_USERNAME"),
            password: get("ETCD_PASSWORD"),
            ..Self::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The endpoints as one string for messages.
    pub fn endpoint_list(&self) -> String {
        self.endpoints.join(",")
    }

    /// Check the settings for contradictions, naming the variable at fault.
    pub fn validate(&self) -> Result<(), DatastoreError> {
        let bad = |msg: String| Err(DatastoreError::Config(msg));
        if self.endpoints.is_empty() {
            return bad("ETCD_ENDPOINTS lists no endpoint".to_owned());
        }
        let mut https = 0;
        for e in &self.endpoints {
            if e.starts_with("https://") {
                https += 1;
            } else if !e.starts_with("http://") {
                return bad(format!(
                    "ETCD_ENDPOINTS: {e:?} is not an http:// or https:// URL"
                ));
            }
        }
        if https != 0 && https != self.endpoints.len() {
            return bad(format!(
                "ETCD_ENDPOINTS mixes http:// and https:// URLs: {}",
                self.endpoint_list()
            ));
        }
        let tls_files = self.ca_cert_file.is_some() || self.cert_file.is_some();
        if https == 0 && (tls_files || self.key_file.is_some()) {
            return bad(format!(
                "ETCD_CA_CERT_FILE/ETCD_CERT_FILE/ETCD_KEY_FILE are set but ETCD_ENDPOINTS uses \
                 http:// ({}); use https:// URLs",
                self.endpoint_list()
            ));
        }
        if https > 0 && self.ca_cert_file.is_none() {
            return bad("ETCD_ENDPOINTS uses https:// but ETCD_CA_CERT_FILE is not set".to_owned());
        }
        if self.cert_file.is_some() != self.key_file.is_some() {
            return bad("ETCD_CERT_FILE and ETCD_KEY_FILE must be set together".to_owned());
        }
        if self.username.is_some() != self.password.is_some() {
            return bad("ETCD_USERNAME and ETCD_PASSWORD must be set together".to_owned());
        }
        if self.dial_timeout.is_zero() || self.request_timeout.is_zero() {
            return bad("the etcd dial and request timeouts must be positive".to_owned());
        }
        Ok(())
    }

    /// The etcd-client options: timeouts, keep-alive, credentials and TLS (reads the PEM files).
    pub(crate) fn connect_options(&self) -> Result<ConnectOptions, DatastoreError> {
        // HTTP/2 pings only while a stream (a watch) is open: etcd's default enforcement policy
        // rejects idle pings, and the interval stays above its 5 s minimum.
        let mut opts = ConnectOptions::new()
            .with_connect_timeout(self.dial_timeout)
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(10))
            .with_keep_alive_while_idle(false)
            .with_tcp_keepalive(Duration::from_secs(30));
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            opts = opts
                .with_user(user.clone(), password.clone())
                .with_auto_token_refresh(true);
        }
        if let Some(ca) = &self.ca_cert_file {
            let mut tls = TlsOptions::new()
                .ca_certificate(Certificate::from_pem(read_pem("ETCD_CA_CERT_FILE", ca)?));
            if let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) {
                tls = tls.identity(Identity::from_pem(
                    read_pem("ETCD_CERT_FILE", cert)?,
                    read_pem("ETCD_KEY_FILE", key)?,
                ));
            }
            opts = opts.with_tls(tls);
        }
        Ok(opts)
    }
}

fn read_pem(var: &str, path: &PathBuf) -> Result<Vec<u8>, DatastoreError> {
    std::fs::read(path)
        .map_err(|e| DatastoreError::Config(format!("{var}: cannot read {}: {e}", path.display())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<EtcdConfig, DatastoreError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        EtcdConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_local_etcd() {
        let cfg = parse(&[]).unwrap();
        assert_eq!(cfg.endpoints, vec![DEFAULT_ENDPOINT.to_owned()]);
        assert_eq!(cfg.dial_timeout, DEFAULT_DIAL_TIMEOUT);
    }

    #[test]
    fn reads_calico_variables() {
        let cfg = parse(&[
            ("DATASTORE_TYPE", "etcdv3"),
            (
                "ETCD_ENDPOINTS",
                "https://10.0.0.1:2379, https://10.0.0.2:2379,",
            ),
            ("ETCD_CA_CERT_FILE", "/etc/calico/ca.pem"),
            ("ETCD_CERT_FILE", "/etc/calico/cert.pem"),
            ("ETCD_KEY_FILE", "/etc/calico/key.pem"),
            ("ETCD_USERNAME", "calico"),
            ("ETCD_PASSWORD", "s3cret"),
        ])
        .unwrap();
        assert_eq!(
            cfg.endpoints,
            vec!["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
        );
        assert_eq!(cfg.ca_cert_file, Some(PathBuf::from("/etc/calico/ca.pem")));
        assert_eq!(cfg.username.as_deref(), Some("calico"));
    }

    #[test]
    fn rejects_contradictions_with_the_variable_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("DATASTORE_TYPE", "kubernetes")], "DATASTORE_TYPE"),
            (&[("ETCD_ENDPOINTS", "10.0.0.1:2379")], "not an http"),
            (
                &[("ETCD_ENDPOINTS", "http://a:1,https://b:2")],
                "mixes http",
            ),
            (
                &[("ETCD_ENDPOINTS", "https://a:1")],
                "ETCD_CA_CERT_FILE is not set",
            ),
            (
                &[
                    ("ETCD_ENDPOINTS", "http://a:1"),
                    ("ETCD_CA_CERT_FILE", "/x"),
                ],
                "use https://",
            ),
            (
                &[
                    ("ETCD_ENDPOINTS", "https://a:1"),
                    ("ETCD_CA_CERT_FILE", "/x"),
                    ("ETCD_CERT_FILE", "/y"),
                ],
                "ETCD_KEY_FILE",
            ),
            (&[("ETCD_USERNAME", "u")], "ETCD_PASSWORD"),
        ];
        for (vars, needle) in cases {
            let err = parse(vars).unwrap_err().to_string();
            assert!(err.contains(needle), "{vars:?}: {err}");
        }
    }

    #[test]
    fn missing_certificate_file_is_a_config_error() {
        let cfg = EtcdConfig {
            endpoints: vec!["https://127.0.0.1:1".to_owned()],
            ca_cert_file: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..EtcdConfig::default()
        };
        let err = cfg.connect_options().unwrap_err();
        assert!(
            matches!(&err, DatastoreError::Config(m) if m.contains("/nonexistent/ca.pem")),
            "{err}"
        );
    }
}
