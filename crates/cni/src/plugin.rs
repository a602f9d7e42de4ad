//! The two plugins' entry points: read the command, environment and stdin, wire the
//! datastore and IPAM the configuration names, run the command and produce what the binary
//! prints and its exit status. Binaries only call [`run`].

use std::collections::BTreeSet;
use std::path::PathBuf;

use calico_client::{Client, DatastoreConfig};
use calico_linux::NetOps;
use serde_json::Value;

use crate::add::{Configurer, EarlyPair, PairOutcome};
use crate::calico_ipam::{CalicoIpam, connect_error};
use crate::context::{Deps, Invocation};
use crate::dataplane::{NetworkingSpec, configure_pair, create_pair, remove_veth};
use crate::env::{CniEnv, Command};
use crate::error::{CODE_PLUGIN_NOT_AVAILABLE, CniError};
use crate::ipam::{ExecIpam, Ipam};
use crate::log::Logger;
use crate::netconf::{NetConf, Parsed, parse_netconf};
use crate::store::ClientStore;
use crate::version::{LATEST, SUPPORTED_VERSIONS, supports_check, supports_gc, version_reply};
use crate::{add, check, del};

/// Which plugin binary is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plugin {
    /// `calico`: the network plugin.
    Calico,
    /// `calico-ipam`: the IPAM plugin.
    CalicoIpam,
}

/// What the binary prints on stdout, and its exit status.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub stdout: String,
    pub exit_code: i32,
}

impl Output {
    fn ok(v: Option<Value>) -> Self {
        Output {
            stdout: v.map(|v| v.to_string()).unwrap_or_default(),
            exit_code: 0,
        }
    }

    fn err(e: &CniError, version: &str) -> Self {
        Output {
            stdout: e.to_json(version).to_string(),
            exit_code: 1,
        }
    }
}

/// Where the plugin runs: the kernel adapter, the host namespace and Felix's MTU file.
pub struct Host<'a> {
    pub ops: &'a dyn NetOps,
    pub host_ns: PathBuf,
    pub mtu_file: PathBuf,
}

/// The datastore configuration: the network configuration's fields (`datastore_type`,
/// `etcd_endpoints`, `etcd_*_file`, and calico-rs' `datastore_path`), falling back to the
/// environment (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`, `CALICO_DATASTORE_PATH`, ...).
pub fn datastore_config(
    conf: &NetConf,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DatastoreConfig, CniError> {
    let pick = |v: &str, k: &str| {
        if v.is_empty() {
            env(k)
        } else {
            Some(v.to_string())
        }
    };
    let lookup = |k: &str| -> Option<String> {
        match k {
            "DATASTORE_TYPE" => pick(&conf.datastore_type, k),
            "ETCD_ENDPOINTS" => pick(&conf.etcd_endpoints, k),
            "ETCD_KEY_FILE" => pick(&conf.etcd_key_file, k),
            "ETCD_CERT_FILE" => pick(&conf.etcd_cert_file, k),
            "ETCD_CA_CERT_FILE" => pick(&conf.etcd_ca_cert_file, k),
            "CALICO_DATASTORE_PATH" => pick(&conf.datastore_path, k),
            other => env(other),
        }
    };
    DatastoreConfig::from_lookup(lookup).map_err(connect_error)
}

/// The valid attachments a GC request lists (`cni.dev/valid-attachments`): container IDs.
fn valid_attachments(conf: &NetConf) -> BTreeSet<String> {
    conf.other
        .get("cni.dev/valid-attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            a.get("containerID")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// Run one invocation. `env` is the process environment (a map in tests).
pub fn run(
    plugin: Plugin,
    env: &dyn Fn(&str) -> Option<String>,
    stdin: &[u8],
    host: &Host<'_>,
) -> Output {
    let (cmd, cenv) = match CniEnv::from_lookup(env) {
        Ok(x) => x,
        Err(e) => {
            let v = serde_json::from_slice::<Value>(stdin)
                .ok()
                .and_then(|v| {
                    v.get("cniVersion")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .filter(|v| SUPPORTED_VERSIONS.contains(&v.as_str()))
                .unwrap_or_else(|| LATEST.to_string());
            return Output::err(&e, &v);
        }
    };
    if plugin == Plugin::Calico
        && matches!(cmd, Command::Add | Command::Check)
        && !cenv.netns.is_empty()
    {
        // Get ready for the pod's namespace (a thread enters it and opens a netlink socket)
        // while the configuration is read and the datastore opens.
        let netns = std::path::Path::new(&cenv.netns);
        if host.ops.netns_exists(netns) {
            host.ops.prepare(&[netns]);
        }
    }
    if cmd == Command::Version {
        let requested = serde_json::from_slice::<Value>(stdin).ok().and_then(|v| {
            v.get("cniVersion")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        return Output::ok(Some(version_reply(requested.as_deref())));
    }
    let parsed = match parse_netconf(stdin) {
        Ok(p) => p,
        Err(e) => return Output::err(&e, LATEST),
    };
    let version = parsed.conf.cni_version.clone();
    let log = Logger::new(
        &parsed.conf.log_level,
        &parsed.conf.log_file_path,
        cenv.container_id.clone(),
    );
    log.debug(&format!("{cmd:?} {cenv:?}"));
    let res = run_parsed(plugin, cmd, &cenv, &parsed, env, host, &log);
    log.debug("datastore closed");
    match res {
        Ok(v) => Output::ok(v),
        Err(e) => {
            log.warn(&format!("{cmd:?} failed: {e}"));
            Output::err(&e, &version)
        }
    }
}

fn run_parsed(
    plugin: Plugin,
    cmd: Command,
    cenv: &CniEnv,
    parsed: &Parsed,
    env: &dyn Fn(&str) -> Option<String>,
    host: &Host<'_>,
    log: &Logger,
) -> Result<Option<Value>, CniError> {
    let conf = &parsed.conf;
    conf.validate()?;
    if cmd == Command::Check && !supports_check(&conf.cni_version) {
        return Err(CniError::new(
            crate::error::CODE_INCOMPATIBLE_VERSION,
            format!(
                "config version {} does not allow CHECK (0.4.0 or later)",
                conf.cni_version
            ),
        ));
    }
    if matches!(cmd, Command::Status | Command::Gc) && !supports_gc(&conf.cni_version) {
        return Err(CniError::new(
            crate::error::CODE_INCOMPATIBLE_VERSION,
            format!(
                "config version {} does not allow {cmd:?} (1.1.0 or later)",
                conf.cni_version
            ),
        ));
    }
    let connect = || -> Result<Client, CniError> {
        Client::connect(&datastore_config(conf, env)?).map_err(connect_error)
    };
    match plugin {
        Plugin::Calico => {
            let netns = std::path::Path::new(&cenv.netns);
            let netns_ok = !cenv.netns.is_empty() && host.ops.netns_exists(netns);
            // ADD with calico-ipam: the veth pair needs no address, so it is created while
            // the datastore opens and IPAM assigns; it is undone like any other step.
            let early_spec =
                (cmd == Command::Add && netns_ok && conf.ipam.ipam_type == "calico-ipam")
                    .then(|| Invocation::new(parsed, cenv).ok())
                    .flatten()
                    .map(|inv| NetworkingSpec {
                        host_ns: host.host_ns.clone(),
                        container_ns: netns.into(),
                        container_if: cenv.ifname.clone(),
                        host_if: inv.ids.host_veth(),
                        mtu: crate::node::determine_mtu(conf, &host.mtu_file),
                        ips: Vec::new(),
                        routes: Vec::new(),
                        allow_ip_forwarding: conf.container_settings.allow_ip_forwarding,
                    });
            // The thread that creates the pair stays to configure it once the addresses are
            // known (see `add::Configurer`), so the whole ADD needs one extra thread.
            match &early_spec {
                Some(spec) => std::thread::scope(|sc| {
                    let up = !conf.ipam.want_v6();
                    let (configurer, thread) = Configurer::channel();
                    let (pair_tx, pair_rx) = std::sync::mpsc::channel();
                    let worker = sc.spawn(move || {
                        let pair = create_pair(host.ops, spec, up);
                        log.debug("veth pair created");
                        let made = pair.as_ref().ok().copied();
                        let _ = pair_tx.send(pair);
                        let Some(pair) = made else { return };
                        if let Some(full) = thread.wait() {
                            let net = configure_pair(host.ops, &full, &pair);
                            log.debug("veth pair configured");
                            thread.reply(net);
                        }
                    });
                    let client = connect();
                    log.debug("datastore opened");
                    let early = EarlyPair {
                        spec: spec.clone(),
                        result: PairOutcome::Pending(pair_rx),
                        configurer: Some(configurer),
                    };
                    let out =
                        calico_after_connect(cmd, cenv, parsed, host, log, client, Some(early));
                    // A panic there surfaced as "stopped" through the channels.
                    let _ = worker.join();
                    out
                }),
                None => calico_after_connect(cmd, cenv, parsed, host, log, connect(), None),
            }
        }
        Plugin::CalicoIpam => crate::ipam_plugin::run(cmd, cenv, parsed, connect, log),
    }
}

/// The `calico` plugin once the datastore is open (and the early pair, if any, made).
fn calico_after_connect(
    cmd: Command,
    cenv: &CniEnv,
    parsed: &Parsed,
    host: &Host<'_>,
    log: &Logger,
    client: Result<Client, CniError>,
    early: Option<EarlyPair>,
) -> Result<Option<Value>, CniError> {
    let conf = &parsed.conf;
    let client = match client {
        Ok(c) => c,
        Err(e) if cmd == Command::Status => {
            return Err(CniError::new(CODE_PLUGIN_NOT_AVAILABLE, e.msg).with_details(e.details));
        }
        Err(e) => {
            if let Some(mut early) = early
                && early.result.wait().is_ok()
            {
                let _ = remove_veth(host.ops, &early.spec);
            }
            return Err(e);
        }
    };
    log.debug("datastore connected");
    let store = ClientStore::new(client.clone());
    let calico_ipam;
    let exec_ipam;
    let ipam: &dyn Ipam = if conf.ipam.ipam_type == "calico-ipam" {
        calico_ipam = CalicoIpam::new(client);
        &calico_ipam
    } else if conf.ipam.ipam_type.is_empty() {
        return Err(CniError::invalid_config(
            "invalid network configuration: ipam.type: missing",
        ));
    } else {
        exec_ipam = ExecIpam {
            plugin: conf.ipam.ipam_type.clone(),
        };
        &exec_ipam
    };
    let deps = Deps {
        ops: host.ops,
        store: &store,
        ipam,
        host_ns: host.host_ns.clone(),
        mtu_file: host.mtu_file.clone(),
        log,
    };
    match cmd {
        Command::Status => {
            deps.store
                .ready()
                .map_err(|e| CniError::new(CODE_PLUGIN_NOT_AVAILABLE, e.msg))?;
            if conf.ipam.ipam_type == "calico-ipam" {
                CalicoIpam::new(store.client().clone()).status()?;
            }
            Ok(None)
        }
        Command::Gc => {
            if conf.ipam.ipam_type == "calico-ipam" {
                let released = CalicoIpam::new(store.client().clone())
                    .gc(&conf.name, &valid_attachments(conf))?;
                log.info(&format!("GC released {released:?}"));
            } else {
                let req = crate::ipam::IpamRequest {
                    raw_conf: parsed.raw.clone(),
                    env: cenv.clone(),
                    ..Default::default()
                };
                ExecIpam {
                    plugin: conf.ipam.ipam_type.clone(),
                }
                .gc(&req)?;
            }
            Ok(None)
        }
        _ => {
            let inv = Invocation::new(parsed, cenv)?;
            match cmd {
                Command::Add => {
                    let r = add::add_with_early_pair(&deps, &inv, early)?;
                    Ok(Some(r.to_json(&conf.cni_version)?))
                }
                Command::Del => del::del(&deps, &inv).map(|_| None),
                Command::Check => check::check(&deps, &inv).map(|_| None),
                _ => Ok(None),
            }
        }
    }
}
