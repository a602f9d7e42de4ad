//! `calico-node`: node startup then the agent (Felix's job) in one process.
//!
//! ```text
//! calico-node                 startup (Node, pool, tunnel address), then run the agent
//! calico-node -startup        startup only, then exit (also --startup-only)
//! calico-node -felix          the agent only (no startup)
//! calico-node -felix-live     probe /liveness on the health port: exit 0 when live
//! calico-node -felix-ready    probe /readiness: exit 0 when ready
//! calico-node -v | --version  print the version
//! ```
//! Configuration is the environment (see `calico_node::settings` and `calico_node::felix`)
//! plus the datastore configuration (`calicoctl.cfg` or `DATASTORE_TYPE`, `ETCD_ENDPOINTS`,
//! `CALICO_DATASTORE_PATH`, ...). Run it inside the node's network namespace.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use calico_api::{FelixConfiguration, Resource};
use calico_client::{CALICO_RS_VERSION, Client, ClientError, DatastoreConfig};
use calico_node::autodetect::{route_source, system_interfaces};
use calico_node::daemon::{self, KeyHook, Shared};
use calico_node::felix::{FelixEnv, FelixSettings, effective_spec};
use calico_node::settings::NodeSettings;
use calico_node::{dataplane, error, http, info, log, mtu, startup, tunnel, warn};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    All,
    StartupOnly,
    FelixOnly,
    ProbeLive,
    ProbeReady,
}

const USAGE: &str = "usage: calico-node [-startup|--startup-only] [-felix] [-felix-live] \
                     [-felix-ready] [-v|--version]";

fn parse_args() -> Result<Option<Mode>> {
    let mut mode = Mode::All;
    for a in std::env::args().skip(1) {
        mode = match a.trim_start_matches('-') {
            "startup" | "startup-only" => Mode::StartupOnly,
            "felix" => Mode::FelixOnly,
            "felix-live" => Mode::ProbeLive,
            "felix-ready" => Mode::ProbeReady,
            "v" | "version" => {
                println!("{CALICO_RS_VERSION}");
                return Ok(None);
            }
            "h" | "help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            _ => bail!("unknown argument {a:?}\n{USAGE}"),
        };
    }
    Ok(Some(mode))
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            error!("{e:#}");
            ExitCode::from(1)
        }
    }
}

fn felix_configs(
    client: &Client,
    node: &str,
) -> Result<(Option<FelixConfiguration>, Option<FelixConfiguration>), ClientError> {
    let info = calico_api::find_kind("FelixConfiguration", None)
        .ok_or_else(|| ClientError::Config("internal: no FelixConfiguration kind".into()))?;
    let get = |name: &str| match client.get(info, "", name) {
        Ok(Resource::FelixConfiguration(f)) => Ok(Some(f)),
        Ok(_) | Err(ClientError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    };
    Ok((
        get("default")?,
        get(&FelixConfiguration::node_config_name(node))?,
    ))
}

fn load_felix(client: &Client, node: &str, env: &FelixEnv) -> Result<FelixSettings> {
    let (g, n) = felix_configs(client, node).context("reading FelixConfiguration")?;
    Ok(FelixSettings::from_spec(effective_spec(
        g.as_ref().map(|f| &f.spec),
        n.as_ref().map(|f| &f.spec),
        env,
    )))
}

fn probe(path: &str) -> Result<ExitCode> {
    let env = FelixEnv::from_env()?;
    let s = FelixSettings::from_spec(effective_spec(None, None, &env));
    let addr = http::resolve(&s.health_host, s.health_port).map_err(anyhow::Error::msg)?;
    let (status, body) = http::get(addr, path).map_err(anyhow::Error::msg)?;
    print!("{body}");
    Ok(if status == 200 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Re-reads what calico-node itself follows while running: the FelixConfiguration (log level
/// applies at once; other changes need a restart, as Felix restarts itself) and the VXLAN
/// tunnel address (pools or this Node changed).
struct Follow {
    client: Client,
    node: String,
    env: FelixEnv,
    current: FelixSettings,
    mtu_file: std::path::PathBuf,
}

/// Whether VXLAN is in use: `vxlanEnabled`, or else any enabled IPv4 pool with VXLAN.
fn vxlan_in_use(client: &Client, felix: &FelixSettings) -> bool {
    if let Some(v) = felix.vxlan_enabled {
        return v;
    }
    let Some(kind) = calico_api::find_kind("IPPool", None) else {
        return false;
    };
    client.list(kind, None).is_ok_and(|(pools, _)| {
        pools.iter().any(|p| match p {
            Resource::IPPool(p) => {
                p.spec.is_ipv4() == Some(true)
                    && !p.spec.disabled
                    && p.spec
                        .vxlan()
                        .is_some_and(calico_api::EncapMode::is_enabled)
            }
            _ => false,
        })
    })
}

/// Felix's MTU file for the CNI plugin.
fn update_mtu_file(client: &Client, felix: &FelixSettings, path: &std::path::Path) {
    let pattern = regex::Regex::new(felix.spec.effective_mtu_iface_pattern())
        .or_else(|_| regex::Regex::new("^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)"));
    let Ok(pattern) = pattern else {
        return;
    };
    let value = mtu::workload_mtu(
        &mtu::host_mtus(),
        &pattern,
        vxlan_in_use(client, felix),
        felix.vxlan_mtu,
    );
    match mtu::write_mtu_file(path, value) {
        Ok(true) => info!("workload MTU {value} written to {}", path.display()),
        Ok(false) => {}
        Err(e) => warn!("{e}"),
    }
}

impl KeyHook for Follow {
    fn changed(&mut self, keys: &[&str]) {
        let felix_changed = keys.iter().any(|k| k.contains("/felixconfigurations/"));
        let node_key = format!("/calico/resources/v3/projectcalico.org/nodes/{}", self.node);
        let tunnel_changed = keys
            .iter()
            .any(|k| k.contains("/ippools/") || **k == node_key);
        if felix_changed {
            match load_felix(&self.client, &self.node, &self.env) {
                Ok(s) => {
                    if s.log_level != self.current.log_level {
                        log::set_level(s.log_level);
                        info!("log level now {:?}", s.log_level);
                    }
                    let mut a = s.clone();
                    let mut b = self.current.clone();
                    a.log_level = log::Level::Info;
                    b.log_level = log::Level::Info;
                    a.spec.log_severity_screen.clear();
                    b.spec.log_severity_screen.clear();
                    if a != b {
                        warn!(
                            "FelixConfiguration changed: restart calico-node to apply the new settings"
                        );
                    }
                    self.current = s;
                }
                Err(e) => warn!("cannot re-read FelixConfiguration: {e:#}"),
            }
        }
        if tunnel_changed && let Err(e) = tunnel::reconcile_vxlan_tunnel(&self.client, &self.node) {
            warn!("VXLAN tunnel address: {e}");
        }
        if felix_changed || keys.iter().any(|k| k.contains("/ippools/")) {
            update_mtu_file(&self.client, &self.current, &self.mtu_file);
        }
    }
}

fn run() -> Result<ExitCode> {
    let Some(mode) = parse_args()? else {
        return Ok(ExitCode::SUCCESS);
    };
    match mode {
        Mode::ProbeLive => return probe("/liveness"),
        Mode::ProbeReady => return probe("/readiness"),
        _ => {}
    }
    let shared = Shared::new();
    stop_on_signals(&shared)?;
    let felix_env = FelixEnv::from_env()?;
    // The environment's log level applies from the start.
    let early = FelixSettings::from_spec(effective_spec(None, None, &felix_env));
    log::set_level(early.log_level);
    for v in &felix_env.ignored {
        calico_node::debug!(
            "ignoring {v}: not a FelixConfiguration field (environment-only or unknown)"
        );
    }
    let settings = NodeSettings::from_env()?;
    let ds = DatastoreConfig::load(None)?;
    info!(
        "calico-node {CALICO_RS_VERSION} starting for node {}",
        settings.nodename
    );
    let client = startup::connect_with_retry(&ds, None)?;

    if mode != Mode::FelixOnly {
        let ifaces = system_interfaces().map_err(anyhow::Error::msg)?;
        let out = startup::run(&client, &settings, &ifaces, route_source)?;
        info!(
            "startup complete: Node {} IPv4 {} VXLAN tunnel {}",
            settings.nodename,
            out.ipv4
                .map(|n| n.to_string())
                .unwrap_or_else(|| "none".into()),
            out.vxlan_tunnel_addr
                .map(|n| n.to_string())
                .unwrap_or_else(|| "none".into())
        );
        if mode == Mode::StartupOnly {
            return Ok(ExitCode::SUCCESS);
        }
    }

    let felix = load_felix(&client, &settings.nodename, &felix_env)?;
    log::set_level(felix.log_level);
    serve_http(&shared, &felix)?;

    let mtu_file = mtu::mtu_file(&|k| std::env::var(k).ok());
    update_mtu_file(&client, &felix, &mtu_file);
    wait_for_datastore_ready(&client, &shared);
    let cfg = dataplane::config_for(&felix);
    let (tx, dp_thread) = daemon::spawn_dataplane(&shared, felix.watchdog_timeout, move || {
        dataplane::NftDataplane::new(cfg)
    })
    .map_err(anyhow::Error::msg)?;
    let mut follow = Follow {
        client: client.clone(),
        node: settings.nodename.clone(),
        env: felix_env,
        current: felix,
        mtu_file,
    };
    let res = daemon::calc_loop(
        client.backend().clone(),
        &settings.nodename,
        &shared,
        &tx,
        &mut follow,
    );
    drop(tx);
    shared.stop.store(true, Ordering::Relaxed);
    let _ = dp_thread.join();
    res.map_err(anyhow::Error::msg)?;
    info!("calico-node stopped; the dataplane is left as programmed");
    Ok(ExitCode::SUCCESS)
}

/// Felix does not start while ClusterInformation says `datastoreReady: false` (the lock
/// `calicoctl datastore migrate` takes); wait, staying live but not ready.
fn wait_for_datastore_ready(client: &Client, shared: &Shared) {
    let Some(info) = calico_api::find_kind("ClusterInformation", None) else {
        return;
    };
    let mut logged = false;
    while !shared.stop.load(Ordering::Relaxed) {
        match client.get(info, "", "default") {
            Ok(Resource::ClusterInformation(ci)) if ci.spec.datastore_ready == Some(false) => {
                if !logged {
                    warn!("waiting: ClusterInformation default has datastoreReady: false");
                    logged = true;
                }
            }
            _ => return,
        }
        shared.health.report(
            daemon::CALC,
            std::time::Instant::now(),
            false,
            "datastore not ready (ClusterInformation datastoreReady: false)",
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

fn serve_http(shared: &Shared, felix: &FelixSettings) -> Result<()> {
    let health = shared.health.clone();
    let metrics = shared.metrics.clone();
    let both =
        felix.health_enabled && felix.metrics_enabled && felix.health_port == felix.metrics_port;
    if felix.health_enabled {
        let addr =
            http::resolve(&felix.health_host, felix.health_port).map_err(anyhow::Error::msg)?;
        let m = metrics.clone();
        let h: http::Handler = Arc::new(move |path| {
            let s = health.summary(std::time::Instant::now());
            match path {
                "/liveness" => (if s.live { 200 } else { 503 }, "text/plain", s.text),
                "/readiness" => (if s.ready { 200 } else { 503 }, "text/plain", s.text),
                "/metrics" if both => (200, "text/plain; version=0.0.4", m.render()),
                _ => (404, "text/plain", "not found\n".into()),
            }
        });
        let bound = http::serve(addr, h).map_err(anyhow::Error::msg)?;
        info!("health endpoints on http://{bound}/liveness and /readiness");
    }
    if felix.metrics_enabled && !both {
        let addr =
            http::resolve(&felix.metrics_host, felix.metrics_port).map_err(anyhow::Error::msg)?;
        let h: http::Handler = Arc::new(move |path| match path {
            "/metrics" | "/" => (200, "text/plain; version=0.0.4", metrics.render()),
            _ => (404, "text/plain", "not found\n".into()),
        });
        let bound = http::serve(addr, h).map_err(anyhow::Error::msg)?;
        info!("Prometheus metrics on http://{bound}/metrics");
    }
    Ok(())
}

/// SIGTERM and SIGINT stop the agent (the dataplane stays programmed, as Felix leaves it).
fn stop_on_signals(shared: &Shared) -> Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    // Blocked here, before any other thread starts, so every thread inherits the mask and only
    // the waiter below receives them.
    set.thread_block().context("blocking signals")?;
    let stop = shared.stop.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Ok(sig) = set.wait() {
                info!("received {sig:?}, stopping");
            }
            stop.store(true, Ordering::Relaxed);
            // The agent loop notices within a second; startup steps (waiting for an
            // unreachable datastore, say) do not look at the flag, so do not wait for ever.
            std::thread::sleep(std::time::Duration::from_secs(3));
            info!("exiting");
            std::process::exit(0);
        })
        .context("starting the signal thread")?;
    Ok(())
}
