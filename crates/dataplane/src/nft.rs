//! The `nft` executor: one `nft -f -` process per transaction (atomic: a failed script
//! changes nothing), and the counters read back from `nft -j -t list table`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use calico_policy::RuleId;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::nsthread::NsThread;

/// Packets and bytes counted by the rules of one rule ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub packets: u64,
    pub bytes: u64,
}

/// What the dataplane needs from nftables; [`NftCli`] is the real one.
pub trait NftBackend: Send {
    /// Run one script as one transaction. The script is handed over (it can be megabytes
    /// on a full replace; the real backend moves it to the namespace thread without a copy).
    fn run(&mut self, script: String) -> Result<()>;
    /// `nft -j -t list table inet TABLE` (set elements left out).
    fn list_json(&self, table: &str) -> Result<String>;
}

/// Runs the `nft` binary on the namespace thread.
pub struct NftCli {
    pub(crate) nft: PathBuf,
    pub(crate) table: String,
    pub(crate) thread: Arc<NsThread>,
}

impl std::fmt::Debug for NftCli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NftCli({})", self.nft.display())
    }
}

fn run_nft(
    nft: PathBuf,
    args: Vec<String>,
    stdin: Option<String>,
) -> Result<(bool, String, String)> {
    let mut child = Command::new(&nft)
        .args(&args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::NftSpawn {
            nft: nft.clone(),
            source,
        })?;
    if let (Some(s), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A write error shows up as nft's own failure below.
        let _ = pipe.write_all(s.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|source| Error::NftSpawn { nft, source })?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

impl NftBackend for NftCli {
    fn run(&mut self, script: String) -> Result<()> {
        let nft = self.nft.clone();
        let (ok, _, stderr) = self
            .thread
            .run(move || run_nft(nft, vec!["-f".into(), "-".into()], Some(script)))??;
        if ok {
            Ok(())
        } else {
            Err(Error::NftTransaction {
                table: self.table.clone(),
                stderr: stderr.trim().chars().take(4000).collect(),
            })
        }
    }

    fn list_json(&self, table: &str) -> Result<String> {
        let nft = self.nft.clone();
        let args = vec![
            "-j".into(),
            "-t".into(),
            "list".into(),
            "table".into(),
            "inet".into(),
            table.into(),
        ];
        let (ok, stdout, stderr) = self.thread.run(move || run_nft(nft, args, None))??;
        if ok {
            Ok(stdout)
        } else {
            Err(Error::NftList {
                table: table.into(),
                detail: stderr.trim().into(),
            })
        }
    }
}

/// Sum the counters of every rule whose comment maps to a rule ID (several nft rules may
/// carry one ID: one per IP family and port alternative).
pub fn parse_counters(
    json: &str,
    comments: &BTreeMap<String, RuleId>,
    table: &str,
) -> Result<BTreeMap<RuleId, Counter>> {
    let v: Value = serde_json::from_str(json).map_err(|e| Error::NftList {
        table: table.into(),
        detail: format!("nft -j output is not JSON: {e}"),
    })?;
    let mut out = BTreeMap::new();
    let items = v
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::NftList {
            table: table.into(),
            detail: "no \"nftables\" array in nft -j output".into(),
        })?;
    for item in items {
        let Some(rule) = item.get("rule") else {
            continue;
        };
        let Some(id) = rule
            .get("comment")
            .and_then(Value::as_str)
            .and_then(|c| comments.get(c))
        else {
            continue;
        };
        let mut c = Counter::default();
        for e in rule
            .get("expr")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(ctr) = e.get("counter") {
                c.packets += ctr.get("packets").and_then(Value::as_u64).unwrap_or(0);
                c.bytes += ctr.get("bytes").and_then(Value::as_u64).unwrap_or(0);
            }
        }
        let e: &mut Counter = out.entry(id.clone()).or_default();
        e.packets += c.packets;
        e.bytes += c.bytes;
    }
    Ok(out)
}
