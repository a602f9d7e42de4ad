//! CNI errors: the spec's well-known codes and the JSON object a plugin prints on failure.

use serde::Serialize;

/// Incompatible CNI version.
pub const CODE_INCOMPATIBLE_VERSION: u32 = 1;
/// Unsupported field in the network configuration.
pub const CODE_UNSUPPORTED_FIELD: u32 = 2;
/// Container unknown or does not exist.
pub const CODE_UNKNOWN_CONTAINER: u32 = 3;
/// Invalid necessary environment variables (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, ...).
pub const CODE_INVALID_ENV: u32 = 4;
/// I/O failure (e.g. cannot read stdin).
pub const CODE_IO_FAILURE: u32 = 5;
/// Failed to decode content (empty stdin, not JSON).
pub const CODE_DECODE: u32 = 6;
/// Invalid network config.
pub const CODE_INVALID_CONFIG: u32 = 7;
/// Try again later: a transient condition, e.g. the datastore cannot be reached.
pub const CODE_TRY_AGAIN_LATER: u32 = 11;
/// STATUS: the plugin is not available (cannot serve ADD).
pub const CODE_PLUGIN_NOT_AVAILABLE: u32 = 50;
/// calico-rs specific: IPAM has no free address in the pools it may use.
pub const CODE_IPAM_EXHAUSTED: u32 = 100;
/// Any other failure; the code Go plugins built on libcni's skel report for plain errors.
pub const CODE_INTERNAL: u32 = 999;

/// A CNI error: printed as `{"cniVersion", "code", "msg", "details"}` on stdout.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{msg}{}", if details.is_empty() { String::new() } else { format!(": {details}") })]
pub struct CniError {
    pub code: u32,
    pub msg: String,
    pub details: String,
}

impl CniError {
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        CniError {
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        Self::new(CODE_INTERNAL, msg)
    }

    pub fn invalid_config(msg: impl Into<String>) -> Self {
        Self::new(CODE_INVALID_CONFIG, msg)
    }

    pub fn invalid_env(msg: impl Into<String>) -> Self {
        Self::new(CODE_INVALID_ENV, msg)
    }

    /// The JSON error object for `cni_version` (the config's version, or the newest one).
    pub fn to_json(&self, cni_version: &str) -> serde_json::Value {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(rename = "cniVersion")]
            cni_version: &'a str,
            code: u32,
            msg: &'a str,
            #[serde(skip_serializing_if = "str::is_empty")]
            details: &'a str,
        }
        serde_json::to_value(Out {
            cni_version,
            code: self.code,
            msg: &self.msg,
            details: &self.details,
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let e = CniError::new(7, "bad").with_details("ipam.type: missing");
        assert_eq!(
            e.to_json("1.0.0").to_string(),
            r#"{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"ipam.type: missing"}"#
        );
        assert_eq!(
            CniError::new(4, "x").to_json("0.3.1").to_string(),
            r#"{"cniVersion":"0.3.1","code":4,"msg":"x"}"#
        );
        assert_eq!(e.to_string(), "bad: ipam.type: missing");
    }
}
