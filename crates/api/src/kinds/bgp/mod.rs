//! The BGP kinds: [`BGPConfiguration`] (cluster-wide and per-node BGP settings), [`BGPPeer`]
//! (explicit peerings) and [`BGPFilter`] (import/export route filters), plus the value types
//! they share.

mod config;
mod filter;
mod peer;

pub use config::*;
pub use filter::*;
pub use peer::*;

use serde::{Deserialize, Serialize};

use super::infra_common::SecretKeySelector;

/// A BGP password, taken from a Secret in calico-node's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPPassword {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<SecretKeySelector>,
}

/// Parse a BGP community value: `aa:nn` (two 16-bit numbers) or `aa:nn:mm` (three 32-bit
/// numbers). Returns the parts, or a description of what is wrong.
pub fn parse_community(value: &str) -> Result<Vec<u32>, String> {
    let parts: Vec<&str> = value.split(':').collect();
    let all_digits = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !all_digits || !(parts.len() == 2 || parts.len() == 3) {
        return Err(format!(
            "invalid community value {value:?}: expected aa:nn (standard) or aa:nn:mm (large)"
        ));
    }
    let large = parts.len() == 3;
    parts
        .iter()
        .map(|p| {
            let n: u64 = p.parse().unwrap_or(u64::MAX);
            let max = if large {
                u64::from(u32::MAX)
            } else {
                u64::from(u16::MAX)
            };
            if n > max {
                Err(format!(
                    "invalid community value {value:?}: each part of a {} community must be a \
                     {}-bit number (0-{max})",
                    if large { "large" } else { "standard" },
                    if large { 32 } else { 16 }
                ))
            } else {
                u32::try_from(n).map_err(|_| format!("invalid community value {value:?}"))
            }
        })
        .collect()
}
