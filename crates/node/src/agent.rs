//! The running agent's own follow-ups around the loop in [`crate::daemon`]: reading the
//! effective Felix settings, the health and metrics HTTP endpoints, waiting for
//! `datastoreReady`, and [`Follow`], the hook that tracks FelixConfiguration, pool and Node
//! changes (log level, VXLAN tunnel address, MTU file).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use calico_api::{FelixConfiguration, Resource};
use calico_client::{Client, ClientError};

use crate::daemon::{self, KeyHook, Shared};
use crate::felix::{FelixEnv, FelixSettings, effective_spec};
use crate::{http, info, log, mtu, tunnel, warn};

/// The FelixConfigurations `default` and `node.<node>`, when they exist.
pub fn felix_configs(
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

/// The Felix settings in effect for `node`.
pub fn load_felix(
    client: &Client,
    node: &str,
    env: &FelixEnv,
) -> Result<FelixSettings, ClientError> {
    let (g, n) = felix_configs(client, node)?;
    Ok(FelixSettings::from_spec(effective_spec(
        g.as_ref().map(|f| &f.spec),
        n.as_ref().map(|f| &f.spec),
        env,
    )))
}

/// Re-reads what calico-node itself follows while running: the FelixConfiguration (log level
/// applies at once; other changes need a restart, as Felix restarts itself) and the VXLAN
/// tunnel address (pools or this Node changed).
pub struct Follow {
    pub client: Client,
    pub node: String,
    pub env: FelixEnv,
    pub current: FelixSettings,
    pub mtu_file: std::path::PathBuf,
    /// The BGP speaker, when `CALICO_NETWORKING_BACKEND` is `bird`.
    pub bgp: Option<crate::bgp::BgpFollower>,
    pub health: Arc<crate::health::Health>,
    /// The last IP-in-IP device error (logged once).
    pub ipip_error: Option<String>,
    pub ipip_logged: bool,
}

/// Whether VXLAN is in use: `vxlanEnabled`, or else any enabled IPv4 pool with VXLAN.
pub fn vxlan_in_use(client: &Client, felix: &FelixSettings) -> bool {
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
pub fn update_mtu_file(client: &Client, felix: &FelixSettings, path: &std::path::Path) {
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

impl Follow {
    /// The IP-in-IP tunnel address and `tunl0` (Felix's `ipipEnabled` follows the pools).
    fn follow_ipip(&mut self) {
        let addr = match tunnel::reconcile_ipip_tunnel(&self.client, &self.node) {
            Ok(a) => a,
            Err(e) => {
                warn!("IP-in-IP tunnel address: {e}");
                return;
            }
        };
        let Some(addr) = addr else {
            self.ipip_error = None;
            return;
        };
        let kernel = calico_linux::Kernel::new();
        let ns = std::path::Path::new("/proc/self/ns/net");
        match crate::ipip::configure_tunl0(&kernel, ns, addr) {
            Ok(()) => {
                if self.ipip_error.take().is_some() || !self.ipip_logged {
                    info!("IP-in-IP: tunl0 up with {addr}/32");
                    self.ipip_logged = true;
                }
            }
            Err(e) => {
                if self.ipip_error.as_ref() != Some(&e) {
                    warn!("{e}");
                    self.ipip_error = Some(e);
                }
            }
        }
    }
}

impl KeyHook for Follow {
    fn updates(&mut self, keys: &[crate::syncer::KeyUpdate]) {
        if let Some(b) = self.bgp.as_mut() {
            b.feed(keys);
            b.report(&self.health);
        }
    }

    fn tick(&mut self) {
        if let Some(b) = self.bgp.as_ref() {
            b.report(&self.health);
        }
    }

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
                Err(e) => warn!("cannot re-read FelixConfiguration: {e}"),
            }
        }
        if tunnel_changed && let Err(e) = tunnel::reconcile_vxlan_tunnel(&self.client, &self.node) {
            warn!("VXLAN tunnel address: {e}");
        }
        if tunnel_changed {
            self.follow_ipip();
        }
        if felix_changed || keys.iter().any(|k| k.contains("/ippools/")) {
            update_mtu_file(&self.client, &self.current, &self.mtu_file);
        }
    }
}

/// Felix does not start while ClusterInformation says `datastoreReady: false` (the lock
/// `calicoctl datastore migrate` takes); wait, staying live but not ready.
pub fn wait_for_datastore_ready(client: &Client, shared: &Shared) {
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

/// Serve `/liveness`, `/readiness` and `/metrics` as the settings ask (one listener when
/// the ports are equal).
pub fn serve_http(shared: &Shared, felix: &FelixSettings) -> Result<(), String> {
    let health = shared.health.clone();
    let metrics = shared.metrics.clone();
    let both =
        felix.health_enabled && felix.metrics_enabled && felix.health_port == felix.metrics_port;
    if felix.health_enabled {
        let addr = http::resolve(&felix.health_host, felix.health_port)?;
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
        let bound = http::serve(addr, h)?;
        info!("health endpoints on http://{bound}/liveness and /readiness");
    }
    if felix.metrics_enabled && !both {
        let addr = http::resolve(&felix.metrics_host, felix.metrics_port)?;
        let h: http::Handler = Arc::new(move |path| match path {
            "/metrics" | "/" => (200, "text/plain; version=0.0.4", metrics.render()),
            _ => (404, "text/plain", "not found\n".into()),
        });
        let bound = http::serve(addr, h)?;
        info!("Prometheus metrics on http://{bound}/metrics");
    }
    Ok(())
}
