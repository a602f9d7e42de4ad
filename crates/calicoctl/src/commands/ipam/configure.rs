//! `ipam configure [--strictaffinity=true|false] [--max-blocks-per-host=N]`, with Calico's
//! messages and rules (strict affinity and automatic block allocation cannot both be off; a
//! block limit requires strict affinity).

use anyhow::{Result, anyhow, bail};
use calico_client::ipam_store::ClientIpam;

use super::args::ConfigureArgs;
use crate::session::Globals;
use crate::stdout;

/// The largest block limit the API accepts.
pub const MAX_BLOCKS_PER_HOST_LIMIT: i64 = 1_000_000;

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The block limit, as Calico parses it (a 32-bit integer), within the API's range.
pub fn parse_max_blocks(s: &str) -> Result<u32> {
    let n: i32 = s
        .parse()
        .map_err(|_| anyhow!("invalid value for maxblockhost. Use a valid number"))?;
    let n = i64::from(n);
    if !(0..=MAX_BLOCKS_PER_HOST_LIMIT).contains(&n) {
        bail!(
            "invalid value for max-blocks-per-host: {n} is not between 0 and \
             {MAX_BLOCKS_PER_HOST_LIMIT}"
        );
    }
    u32::try_from(n).map_err(|_| anyhow!("invalid value for maxblockhost. Use a valid number"))
}

pub fn run(g: &Globals, args: ConfigureArgs) -> Result<()> {
    let strict = args
        .strictaffinity
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            parse_bool(s)
                .ok_or_else(|| anyhow!("invalid value. Use true or false to set strictaffinity"))
        })
        .transpose()?;
    let max_blocks = args
        .max_blocks_per_host
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_max_blocks)
        .transpose()?;
    if strict.is_none() && max_blocks.is_none() {
        bail!("at least one configuration option must be specified");
    }
    let ipam = ClientIpam::new(g.connect_checked()?);
    let current = ipam.config().map_err(|e| anyhow!("error: {e}"))?;
    let mut cfg = current;
    if let Some(s) = strict {
        cfg.strict_affinity = s;
    }
    if let Some(m) = max_blocks {
        cfg.max_blocks_per_host = m;
    }
    if cfg != current {
        if !cfg.strict_affinity && !cfg.auto_allocate_blocks {
            bail!(
                "error: Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time"
            );
        }
        if cfg.max_blocks_per_host > 0 && !cfg.strict_affinity {
            bail!("error: MaxBlocksPerHost requires StrictAffinity to be enabled");
        }
        ipam.set_config(cfg).map_err(|e| anyhow!("error: {e}"))?;
    }
    if let Some(s) = strict {
        stdout::line(&format!("Successfully set StrictAffinity to: {s}"))?;
    }
    if let Some(m) = max_blocks {
        stdout::line(&format!("Successfully set MaxBlocksPerHost to: {m}"))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_calico_parses_them() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_max_blocks("+7").unwrap(), 7);
        assert_eq!(parse_max_blocks("0").unwrap(), 0);
        assert!(
            parse_max_blocks("x")
                .unwrap_err()
                .to_string()
                .contains("maxblockhost")
        );
        assert!(parse_max_blocks("99999999999").is_err());
        assert!(
            parse_max_blocks("-1")
                .unwrap_err()
                .to_string()
                .contains("between 0")
        );
        assert!(parse_max_blocks("1000001").is_err());
    }
}
