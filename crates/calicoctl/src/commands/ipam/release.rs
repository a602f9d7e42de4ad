//! `ipam release --ip=IP` and `ipam release --from-report=FILE...`.
//!
//! From reports, only what every given report names is released, and each item is checked
//! again first ([`calico_client::ipam_gc::release_leaked`]): an address must still be
//! allocated to the same handle with the same sequence number, and its owner still absent
//! (all or none per handle); it is released with those as preconditions. Handle records are
//! deleted or corrected only at the revision the report saw. A report from another cluster
//! (cluster GUID) is refused; one from another calicoctl version needs `--force`. What was
//! released and what was skipped, and why, is printed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use calico_client::Client;
use calico_client::ipam_gc::{
    LeakClaim, LiveOwners, correct_handle_counts, delete_leaked_handle, release_leaked,
};
use calico_client::ipam_store::ClientIpam;
use calico_ipam::ReleaseOptions;

use super::args::ReleaseArgs;
use super::report::Report;
use super::show::parse_ip;
use crate::session::{CLIENT_VERSION, Globals};
use crate::stdout;

pub fn run(g: &Globals, args: ReleaseArgs) -> Result<()> {
    if !args.from_report.is_empty() {
        let client = g.connect_checked()?;
        return from_reports(&client, &args.from_report, args.force);
    }
    let Some(ip) = args.ip.as_deref() else {
        bail!("specify --ip or --from-report");
    };
    let ip = parse_ip(ip)?;
    let ipam = ClientIpam::new(g.connect_checked()?);
    release_one(&ipam, ip)
}

fn release_one(ipam: &ClientIpam, ip: IpAddr) -> Result<()> {
    let owners = LiveOwners::load(ipam.client())?;
    for u in owners.ip_users(ip) {
        stdout::line(&format!("WARNING: {u} still uses {ip}"))?;
    }
    let out = ipam
        .release_ips(&[ReleaseOptions::address(ip)])
        .map_err(|e| anyhow!("error: {e}"))?;
    if !out.released.contains(&ip) {
        bail!("IP address {ip} is not assigned");
    }
    stdout::line(&format!("Successfully released IP address {ip}"))
}

fn read_report(path: &PathBuf) -> Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read report {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("cannot parse report {}", path.display()))
}

/// The cluster's GUID, ClusterInformation revision, and whether the datastore is locked.
fn cluster(client: &Client) -> Result<(String, String, bool)> {
    let info = calico_api::find_kind("ClusterInformation", None)
        .ok_or_else(|| anyhow!("internal error: ClusterInformation is not a registered kind"))?;
    let ci = client
        .get(info, "", "default")
        .context("cannot read ClusterInformation default")?;
    let v = ci.to_value();
    let guid = v
        .pointer("/spec/clusterGUID")
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string();
    let locked = v.pointer("/spec/datastoreReady").and_then(|x| x.as_bool()) == Some(false);
    Ok((guid, ci.metadata().resource_version.clone(), locked))
}

/// What every report names: leaked allocations, leaked handles, handle counts to correct.
#[derive(Default)]
struct Merged {
    claims: Vec<LeakClaim>,
    unreleasable: Vec<String>,
    handles: Vec<(String, i64)>,
    counts: Vec<(String, i64)>,
}

fn merge(reports: &[Report]) -> Merged {
    let mut claims: Option<BTreeSet<LeakClaim>> = None;
    let mut unreleasable = BTreeSet::new();
    let mut handles: Option<BTreeSet<(String, String)>> = None;
    let mut counts: Option<BTreeSet<(String, String)>> = None;
    for r in reports {
        let mut these = BTreeSet::new();
        for a in r.allocations.values().flatten().filter(|a| !a.in_use) {
            match (
                a.ip.parse::<IpAddr>(),
                a.sequence_number,
                a.handle.is_empty(),
            ) {
                (Ok(address), Some(seq), false) => {
                    these.insert(LeakClaim {
                        address,
                        handle: a.handle.clone(),
                        sequence_number: seq,
                    });
                }
                _ => {
                    unreleasable.insert(a.ip.clone());
                }
            }
        }
        claims = Some(match claims {
            None => these,
            Some(prev) => prev.intersection(&these).cloned().collect(),
        });
        let hs: BTreeSet<_> = r
            .leaked_handles
            .iter()
            .map(|h| (h.id.clone(), h.revision.clone()))
            .collect();
        handles = Some(match handles {
            None => hs,
            Some(prev) => prev.intersection(&hs).cloned().collect(),
        });
        let cs: BTreeSet<_> = r
            .handle_count_mismatches
            .iter()
            .filter(|m| m.recorded > m.actual)
            .map(|m| (m.handle.clone(), m.revision.clone()))
            .collect();
        counts = Some(match counts {
            None => cs,
            Some(prev) => prev.intersection(&cs).cloned().collect(),
        });
    }
    let parse = |s: Option<BTreeSet<(String, String)>>| {
        s.unwrap_or_default()
            .into_iter()
            .map(|(h, r)| (h, r.parse::<i64>().unwrap_or(-1)))
            .collect()
    };
    Merged {
        claims: claims.unwrap_or_default().into_iter().collect(),
        unreleasable: unreleasable.into_iter().collect(),
        handles: parse(handles),
        counts: parse(counts),
    }
}

fn from_reports(client: &Client, files: &[PathBuf], force: bool) -> Result<()> {
    let (guid, revision, locked) = cluster(client)?;
    let mut reports = Vec::new();
    let mut current = false;
    for f in files {
        let r = read_report(f)?;
        if r.cluster_guid != guid {
            bail!(
                "cluster does not match the provided report ({}): mismatched cluster GUID. \
                 Refusing to release",
                f.display()
            );
        }
        if r.version != CLIENT_VERSION {
            if !force {
                bail!(
                    "the provided report ({}) was produced using a different version ({}) of \
                     calicoctl. Refusing to release",
                    f.display(),
                    r.version
                );
            }
            stdout::line(
                "WARNING: Report was produced using a different version of calicoctl. Ignoring \
                 due to --force option",
            )?;
        }
        current |= r.cluster_info_revision == revision;
        reports.push(r);
    }
    if !current {
        bail!(
            "the provided reports are all stale - at least one should be up-to-date. Please \
             generate a new report and try again"
        );
    }
    let merged = merge(&reports);
    let ipam = ClientIpam::new(client.clone());
    release_addresses(&ipam, &merged)?;
    release_handles(&ipam, &merged.handles)?;
    correct_counts(&ipam, &merged.counts)?;
    if locked {
        stdout::line("You may now unlock the data store.")?;
    }
    Ok(())
}

fn release_addresses(ipam: &ClientIpam, m: &Merged) -> Result<()> {
    for ip in &m.unreleasable {
        stdout::line(&format!(
            "Skipping {ip}: the report gives no handle or sequence number for it"
        ))?;
    }
    if m.claims.is_empty() {
        return stdout::line("Report didn't contain any leaked IPs to clean up.");
    }
    stdout::line(&format!("Releasing {} old IPs...", m.claims.len()))?;
    let outcomes = release_leaked(ipam, &m.claims).map_err(|e| {
        anyhow!(
            "An error occurred while releasing some IPs: {e}.  Problems are often caused by an \
             out-of-date IPAM report.  Try regenerating the IPAM report and retry."
        )
    })?;
    let (mut released, mut gone, mut skipped) = (0, 0, 0);
    for o in &outcomes {
        let c = &o.claim;
        match &o.skipped {
            None => {
                released += 1;
                stdout::line(&format!("  Released {} (handle {})", c.address, c.handle))?;
            }
            Some(calico_client::ipam_gc::Skip::NotAllocated) => gone += 1,
            Some(why) => {
                skipped += 1;
                stdout::line(&format!(
                    "  Skipped {} (handle {}): {why}",
                    c.address, c.handle
                ))?;
            }
        }
    }
    stdout::line(&format!("Released {released} IPs successfully"))?;
    if gone != 0 {
        stdout::line(&format!(
            "{gone} addresses marked as leaked in the report had already been cleaned up."
        ))?;
    }
    if skipped != 0 {
        stdout::line(&format!(
            "Skipped {skipped} addresses that are no longer leaked or changed since the report."
        ))?;
    }
    Ok(())
}

fn release_handles(ipam: &ClientIpam, handles: &[(String, i64)]) -> Result<()> {
    if handles.is_empty() {
        return stdout::line("Report didn't contain any handles to clean up.");
    }
    stdout::line(&format!("Deleting {} handles...", handles.len()))?;
    stdout::line("Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.")?;
    let (mut ok, mut skipped, mut errors) = (0, 0, 0);
    let mut marks = String::new();
    let mut notes = BTreeMap::new();
    for (id, rev) in handles {
        match delete_leaked_handle(ipam, id, *rev) {
            Ok(None) => {
                ok += 1;
                marks.push('.');
            }
            Ok(Some(why)) => {
                skipped += 1;
                marks.push('x');
                notes.insert(id.clone(), why.to_string());
            }
            Err(e) => {
                errors += 1;
                notes.insert(id.clone(), format!("failed: {e}"));
            }
        }
    }
    stdout::line(&marks)?;
    for (id, why) in notes {
        stdout::line(&format!("  Handle {id}: {why}"))?;
    }
    stdout::line(&format!(
        "Released {ok} handles; {skipped} skipped; {errors} errors."
    ))
}

fn correct_counts(ipam: &ClientIpam, handles: &[(String, i64)]) -> Result<()> {
    if handles.is_empty() {
        return Ok(());
    }
    stdout::line(&format!(
        "Correcting the counts of {} handles...",
        handles.len()
    ))?;
    let (mut ok, mut skipped) = (0, 0);
    for (id, rev) in handles {
        match correct_handle_counts(ipam, id, *rev)? {
            None => {
                ok += 1;
                stdout::line(&format!("  Corrected handle {id}"))?;
            }
            Some(why) => {
                skipped += 1;
                stdout::line(&format!("  Skipped handle {id}: {why}"))?;
            }
        }
    }
    stdout::line(&format!("Corrected {ok} handles; {skipped} skipped."))
}
