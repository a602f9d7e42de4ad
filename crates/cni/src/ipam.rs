//! IPAM behind [`Ipam`]: calico-ipam runs in process ([`crate::calico_ipam`]); any other
//! IPAM type (Debian's `host-local`, ...) is a delegated plugin executed from `CNI_PATH`
//! ([`ExecIpam`]), as libcni's `ipam.ExecAdd`/`ExecDel` do.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};

use crate::env::CniEnv;
use crate::error::{CODE_INVALID_CONFIG, CniError};
use crate::result::CniResult;

/// One IPAM request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IpamRequest {
    /// `<network name>.<container ID>`.
    pub handle: String,
    pub node: String,
    /// Pod namespace and name, when the workload is a Kubernetes pod.
    pub pod: Option<(String, String)>,
    pub want_v4: bool,
    pub want_v6: bool,
    /// Pools (names or CIDRs) to allocate from; empty = every usable pool.
    pub v4_pools: Vec<String>,
    pub v6_pools: Vec<String>,
    /// Exact addresses to assign (the `IP` CNI arg or the `ipAddrs` annotation).
    pub requested: Vec<IpAddr>,
    /// For delegation: the network configuration and the environment of this invocation.
    pub raw_conf: serde_json::Value,
    pub env: CniEnv,
}

/// An IPAM implementation.
pub trait Ipam: Send + Sync {
    /// Assign addresses; the result's `ips` carry the pool block's prefix length.
    fn add(&self, req: &IpamRequest) -> Result<CniResult, CniError>;
    /// Release everything held by the request's handle. Releasing nothing is success.
    fn del(&self, req: &IpamRequest) -> Result<(), CniError>;
    /// Check that the handle still holds its addresses (CHECK).
    fn check(&self, req: &IpamRequest) -> Result<(), CniError> {
        let _ = req;
        Ok(())
    }
}

/// A delegated IPAM plugin, found in `CNI_PATH`.
#[derive(Clone, Debug)]
pub struct ExecIpam {
    pub plugin: String,
}

impl ExecIpam {
    fn find(&self, cni_path: &str) -> Result<PathBuf, CniError> {
        if self.plugin.contains('/') || self.plugin.is_empty() {
            return Err(CniError::new(
                CODE_INVALID_CONFIG,
                format!("ipam.type {:?} is not a plugin name", self.plugin),
            ));
        }
        cni_path
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(&self.plugin))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                CniError::invalid_config(format!(
                    "failed to find plugin {:?} in path [{}]",
                    self.plugin, cni_path
                ))
            })
    }

    fn exec(
        &self,
        command: &str,
        req: &IpamRequest,
    ) -> Result<Option<serde_json::Value>, CniError> {
        let bin = self.find(&req.env.path)?;
        let mut vars = BTreeMap::new();
        vars.insert("CNI_COMMAND", command.to_string());
        vars.insert("CNI_CONTAINERID", req.env.container_id.clone());
        vars.insert("CNI_NETNS", req.env.netns.clone());
        vars.insert("CNI_IFNAME", req.env.ifname.clone());
        vars.insert("CNI_ARGS", req.env.args.clone());
        vars.insert("CNI_PATH", req.env.path.clone());
        let mut child = Proc::new(&bin)
            .envs(vars)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                CniError::internal(format!("cannot run IPAM plugin {}: {e}", bin.display()))
            })?;
        let conf = req.raw_conf.to_string();
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(conf.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| CniError::internal(format!("IPAM plugin {}: {e}", bin.display())))?;
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
        if !out.status.success() {
            // A CNI error object is passed on as it is.
            if let Some(v) = &parsed
                && let Some(code) = v.get("code").and_then(serde_json::Value::as_u64)
            {
                let msg = v
                    .get("msg")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default();
                let details = v
                    .get("details")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default();
                return Err(
                    CniError::new(u32::try_from(code).unwrap_or(999), msg).with_details(details)
                );
            }
            return Err(CniError::internal(format!(
                "IPAM plugin {} {command} failed: {}",
                self.plugin,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(parsed)
    }
}

impl ExecIpam {
    /// GC through the delegated plugin (CNI 1.1.0).
    pub fn gc(&self, req: &IpamRequest) -> Result<(), CniError> {
        self.exec("GC", req).map(|_| ())
    }
}

impl Ipam for ExecIpam {
    fn add(&self, req: &IpamRequest) -> Result<CniResult, CniError> {
        let v = self.exec("ADD", req)?.ok_or_else(|| {
            CniError::internal(format!("IPAM plugin {} printed no result", self.plugin))
        })?;
        CniResult::from_json(&v)
    }

    fn del(&self, req: &IpamRequest) -> Result<(), CniError> {
        self.exec("DEL", req).map(|_| ())
    }

    fn check(&self, req: &IpamRequest) -> Result<(), CniError> {
        self.exec("CHECK", req).map(|_| ())
    }
}
