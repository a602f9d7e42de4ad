//! The `calico-ipam` binary's commands, as Calico's `ipam_plugin.go`: ADD assigns (by
//! handle `<network>.<containerID>`, or the `IP` CNI arg) and prints the addresses with their
//! block's prefix; DEL releases by handle; CHECK checks the handle still holds addresses;
//! STATUS checks the datastore and pools; GC releases handles of vanished attachments.

use std::collections::BTreeSet;

use calico_client::Client;
use serde_json::Value;

use crate::calico_ipam::CalicoIpam;
use crate::context::Invocation;
use crate::env::{CniEnv, Command};
use crate::error::{CODE_PLUGIN_NOT_AVAILABLE, CniError};
use crate::ipam::Ipam;
use crate::log::Logger;
use crate::netconf::Parsed;

pub fn run(
    cmd: Command,
    cenv: &CniEnv,
    parsed: &Parsed,
    connect: impl FnOnce() -> Result<Client, CniError>,
    log: &Logger,
) -> Result<Option<Value>, CniError> {
    let conf = &parsed.conf;
    let client = match connect() {
        Ok(c) => c,
        Err(e) if cmd == Command::Status => {
            return Err(CniError::new(CODE_PLUGIN_NOT_AVAILABLE, e.msg).with_details(e.details));
        }
        Err(e) => return Err(e),
    };
    let ipam = CalicoIpam::new(client);
    match cmd {
        Command::Status => ipam.status().map(|_| None),
        Command::Gc => {
            let valid: BTreeSet<String> = conf
                .other
                .get("cni.dev/valid-attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    a.get("containerID")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            let released = ipam.gc(&conf.name, &valid)?;
            log.info(&format!("GC released {released:?}"));
            Ok(None)
        }
        Command::Add => {
            let inv = Invocation::new(parsed, cenv)?;
            let req = inv.ipam_request();
            let r = ipam.add(&req)?;
            log.info(&format!(
                "calico-ipam assigned {:?} to {}",
                r.ips
                    .iter()
                    .map(|i| i.address.to_string())
                    .collect::<Vec<_>>(),
                req.handle
            ));
            Ok(Some(r.to_json(&conf.cni_version)?))
        }
        Command::Del => {
            let inv = Invocation::new(parsed, cenv)?;
            ipam.del(&inv.ipam_request()).map(|_| None)
        }
        Command::Check => {
            let inv = Invocation::new(parsed, cenv)?;
            ipam.check(&inv.ipam_request()).map(|_| None)
        }
        Command::Version => Ok(None),
    }
}
