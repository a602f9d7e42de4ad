//! CNI spec versions: which ones the plugins speak, and the VERSION reply.

use crate::error::{CODE_INCOMPATIBLE_VERSION, CniError};

/// Every spec version the plugins accept, oldest first. Results are printed in the layout of
/// the version the configuration declares.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

/// The newest version; used for replies when the request names none we know.
pub const LATEST: &str = "1.1.0";

/// A spec version's result layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layout {
    /// 0.1.0, 0.2.0: `ip4`/`ip6` objects.
    V02,
    /// 0.3.x and 0.4.0: `interfaces`, `ips` with `version`.
    V04,
    /// 1.0.0: `ips` without `version`.
    V10,
    /// 1.1.0: as 1.0.0, plus interface `mtu`.
    V11,
}

/// The layout of a supported version, or error code 1.
pub fn layout(version: &str) -> Result<Layout, CniError> {
    match version {
        "0.1.0" | "0.2.0" => Ok(Layout::V02),
        "0.3.0" | "0.3.1" | "0.4.0" => Ok(Layout::V04),
        "1.0.0" => Ok(Layout::V10),
        "1.1.0" => Ok(Layout::V11),
        other => Err(CniError::new(
            CODE_INCOMPATIBLE_VERSION,
            format!(
                "incompatible CNI versions: config is {other:?}, plugin supports {SUPPORTED_VERSIONS:?}"
            ),
        )),
    }
}

/// Whether `version` supports CHECK (0.4.0 and later).
pub fn supports_check(version: &str) -> bool {
    matches!(version, "0.4.0" | "1.0.0" | "1.1.0")
}

/// Whether `version` supports STATUS and GC (1.1.0).
pub fn supports_gc(version: &str) -> bool {
    version == "1.1.0"
}

/// The VERSION reply.
pub fn version_reply(requested: Option<&str>) -> serde_json::Value {
    let v = requested
        .filter(|r| SUPPORTED_VERSIONS.contains(r))
        .unwrap_or(LATEST);
    serde_json::json!({"cniVersion": v, "supportedVersions": SUPPORTED_VERSIONS})
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(layout("0.3.1").unwrap(), Layout::V04);
        assert_eq!(layout("1.1.0").unwrap(), Layout::V11);
        assert_eq!(layout("2.0.0").unwrap_err().code, 1);
        assert_eq!(layout("").unwrap_err().code, 1);
        assert!(supports_check("0.4.0") && !supports_check("0.3.1"));
        assert_eq!(version_reply(Some("0.4.0"))["cniVersion"], "0.4.0");
        assert_eq!(version_reply(Some("9"))["cniVersion"], "1.1.0");
    }
}
