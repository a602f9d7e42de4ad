//! Names of the nftables objects (Felix's names from `felix/rules/rule_defs.go` where they
//! exist) and the rule comments that carry rule IDs.
//!
//! nftables identifiers are `[A-Za-z_.][A-Za-z0-9_./-]*`; names, rule IDs or interface names
//! with any other character, or longer than [`MAX_NAME`], are replaced by `<prefix>_<hash>`
//! where `<hash>` is the first 20 characters of the URL-safe base64 SHA-256 of the full
//! name (Felix's `GetLengthLimitedID` idea). Comments longer than 128 bytes (nft's limit) are
//! `id:<hash>` and the renderer keeps the map back to the rule ID.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Longest name used verbatim.
pub const MAX_NAME: usize = 200;
/// nft's limit for a rule comment.
pub const MAX_COMMENT: usize = 128;

/// First 20 characters of the URL-safe base64 SHA-256 of `s`.
pub fn hash(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    let mut h = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d);
    h.truncate(20);
    h
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// `prefix + body` if `body` is a safe identifier tail, else `prefix + "_" + hash(body)`.
pub fn limited(prefix: &str, body: &str) -> String {
    if !body.is_empty()
        && !body.starts_with('_')
        && body.chars().all(ident_char)
        && prefix.len() + body.len() <= MAX_NAME
    {
        format!("{prefix}{body}")
    } else {
        format!("{prefix}_{}", hash(body))
    }
}

/// The nft set holding IP set `id`'s members of IP version `v` (4 or 6): Felix's
/// `cali40<id>` / `cali60<id>` with the `:` of `s:...`/`n:...` IDs written as `-`.
pub fn ip_set(v: u8, id: &str) -> String {
    let prefix = format!("cali{v}0");
    match id.split_once(':') {
        Some((kind, rest))
            if !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_lowercase())
                && !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && kind.len() + rest.len() + 7 <= MAX_NAME =>
        {
            format!("{prefix}{kind}-{rest}")
        }
        _ => format!("{prefix}_{}", hash(id)),
    }
}

/// Felix's fixed sets.
pub fn masq_pools(v: u8) -> String {
    format!("cali{v}0masq-ipam-pools")
}
pub fn all_pools(v: u8) -> String {
    format!("cali{v}0network-ip-pools")
}
pub fn all_vxlan_net(v: u8) -> String {
    format!("cali{v}0all-vxlan-net")
}

/// Per-endpoint chains: to workload (ingress) and from workload (egress).
pub fn to_wl(iface: &str) -> String {
    limited("cali-tw-", iface)
}
pub fn from_wl(iface: &str) -> String {
    limited("cali-fw-", iface)
}
/// Policy chains: `cali-pi-<id>` (ingress rules), `cali-po-<id>` (egress rules).
pub fn policy_in(id: &str) -> String {
    limited("cali-pi-", id)
}
pub fn policy_out(id: &str) -> String {
    limited("cali-po-", id)
}
/// Profile chains: `cali-pri-<name>`, `cali-pro-<name>`.
pub fn profile_in(name: &str) -> String {
    limited("cali-pri-", name)
}
pub fn profile_out(name: &str) -> String {
    limited("cali-pro-", name)
}

pub const TO_WL_DISPATCH: &str = "cali-to-wl-dispatch";
pub const FROM_WL_DISPATCH: &str = "cali-from-wl-dispatch";
pub const TO_WL_MAP: &str = "cali-to-wl-dispatch-map";
pub const FROM_WL_MAP: &str = "cali-from-wl-dispatch-map";

/// The comment carrying a rule ID, if the ID can be written as is.
pub fn comment(rule_id: &str) -> String {
    if rule_id.len() <= MAX_COMMENT
        && rule_id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
    {
        rule_id.to_string()
    } else {
        format!("id:{}", hash(rule_id))
    }
}

/// An interface name or log prefix as an nft quoted string (no quotes or backslashes).
pub fn quoted(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    format!("\"{clean}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_verbatim_or_hashed() {
        assert_eq!(policy_in("np/ns/a.b-c"), "cali-pi-np/ns/a.b-c");
        assert_eq!(profile_out("kns.default"), "cali-pro-kns.default");
        assert_eq!(to_wl("cali12345678901"), "cali-tw-cali12345678901");
        let odd = policy_in("np/ns/with space");
        assert!(odd.starts_with("cali-pi-_") && odd.len() == 9 + 20, "{odd}");
        assert_eq!(ip_set(4, "s:abc_D-9"), "cali40s-abc_D-9");
        assert_eq!(ip_set(6, "n:xyz"), "cali60n-xyz");
        assert!(ip_set(4, "weird id").starts_with("cali40_"));
        assert!(ip_set(4, "s-abc").starts_with("cali40_"));
        let long = "x".repeat(300);
        assert!(policy_in(&long).len() < 40);
    }

    #[test]
    fn comments_fit_nft() {
        assert_eq!(
            comment("tier/default/end-of-tier-deny"),
            "tier/default/end-of-tier-deny"
        );
        let long = format!("tier/t/policy/np/{}/x/ingress/0", "n".repeat(200));
        let c = comment(&long);
        assert!(c.starts_with("id:") && c.len() <= MAX_COMMENT);
        assert_eq!(quoted("a\"b\\c d"), "\"abc d\"");
    }
}
