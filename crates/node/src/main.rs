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
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use calico_client::{CALICO_RS_VERSION, DatastoreConfig};
use calico_node::agent::{self, Follow};
use calico_node::autodetect::{route_source, system_interfaces};
use calico_node::bgp::{self, BgpEnv, BgpFollower};
use calico_node::daemon::{self, Shared};
use calico_node::felix::{FelixEnv, FelixSettings, effective_spec};
use calico_node::settings::NodeSettings;
use calico_node::{dataplane, error, http, info, log, mtu, startup};

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

    let felix = agent::load_felix(&client, &settings.nodename, &felix_env)
        .context("reading FelixConfiguration")?;
    log::set_level(felix.log_level);
    agent::serve_http(&shared, &felix).map_err(anyhow::Error::msg)?;

    let mtu_file = mtu::mtu_file(&|k| std::env::var(k).ok());
    agent::update_mtu_file(&client, &felix, &mtu_file);
    agent::wait_for_datastore_ready(&client, &shared);
    let mut cfg = dataplane::config_for(&felix);
    cfg.vxlan.parent_device = dataplane::parent_device(&client, &settings.nodename);
    let (tx, dp_thread) = daemon::spawn_dataplane(&shared, felix.watchdog_timeout, move || {
        dataplane::NftDataplane::new(cfg)
    })
    .map_err(anyhow::Error::msg)?;
    let bgp_env =
        BgpEnv::from(&|k| std::env::var(k).ok(), &settings.nodename).map_err(anyhow::Error::msg)?;
    let bgp = if bgp_env.enabled {
        shared.health.register(bgp::BGP, None, true);
        Some(BgpFollower::new(&settings.nodename, bgp_env))
    } else {
        info!("CALICO_NETWORKING_BACKEND is not bird: no BGP speaker");
        None
    };
    let mut follow = Follow {
        client: client.clone(),
        node: settings.nodename.clone(),
        env: felix_env,
        current: felix,
        mtu_file,
        bgp,
        health: shared.health.clone(),
        ipip_error: None,
        ipip_logged: false,
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
