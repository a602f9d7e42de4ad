//! A lab for plugin tests: a node namespace (with an address on `lo` and a default route, so
//! proxy ARP answers), pod namespaces, an embedded datastore in a temporary directory with a
//! pool and the Node, and a way to run the plugin binaries inside the node. Everything is
//! removed on drop, also when a test panics.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use calico_api::Resource;
use calico_client::Client;
use calico_linux::{Kernel, NamedNetns, NetOps, Route, remove_stale_netns};

pub const PREFIX: &str = "cnipt-";

pub fn unique(kind: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{PREFIX}{}-{kind}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn netns(kind: &str) -> NamedNetns {
    remove_stale_netns(PREFIX);
    let name = unique(kind);
    NamedNetns::create(&name).unwrap_or_else(|e| {
        panic!("cannot create network namespace {name} (plugin tests run as root): {e}")
    })
}

pub struct Lab {
    pub node: NamedNetns,
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub client: Client,
    pub kernel: Arc<Kernel>,
}

pub fn doc(v: serde_json::Value) -> Resource {
    Resource::from_value(v).unwrap()
}

impl Lab {
    /// A node called `node1` with a pool `pool_cidr` (block size at least /26, or the pool's
    /// own prefix when smaller).
    pub fn new(pool_cidr: &str) -> Lab {
        let node = netns("node");
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calico.db");
        let client = Client::connect(&calico_client::DatastoreConfig {
            datastore_type: calico_client::DatastoreType::Embedded,
            embedded_path: db.clone(),
            etcd: Default::default(),
        })
        .unwrap();
        let prefix: u8 = pool_cidr
            .split('/')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(16);
        client
            .create(doc(
                serde_json::json!({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
                "metadata":{"name":"pool1"},"spec":{"cidr":pool_cidr,"blockSize":prefix.max(26)}}),
            ))
            .unwrap();
        client
            .create(doc(
                serde_json::json!({"apiVersion":"projectcalico.org/v3","kind":"Node",
                "metadata":{"name":"node1"},"spec":{}}),
            ))
            .unwrap();
        let kernel = Arc::new(Kernel::new());
        let n = node.path();
        kernel.set_link_up(n, "lo").unwrap();
        kernel
            .add_address(n, "lo", "10.99.0.1/32".parse().unwrap())
            .unwrap();
        kernel
            .add_route(n, &Route::link("0.0.0.0/0".parse().unwrap(), "lo"))
            .unwrap();
        Lab {
            node,
            dir,
            db,
            client,
            kernel,
        }
    }

    pub fn conf(&self, version: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut c = serde_json::json!({
            "cniVersion": version, "name": "k8s-pod-network", "type": "calico",
            "nodename": "node1", "datastore_type": "embedded",
            "datastore_path": self.db.display().to_string(),
            "log_level": "debug", "log_file_path": self.dir.path().join("cni.log").display().to_string(),
            "mtu": 1410, "ipam": {"type": "calico-ipam"}
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            c[k] = v;
        }
        c
    }

    /// Run a plugin binary inside the node namespace with `env` (CNI_PATH added).
    pub fn run(
        &self,
        bin: &str,
        env: &[(&str, String)],
        stdin: &[u8],
    ) -> (serde_json::Value, bool) {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", self.node.path().display()))
            .arg(bin)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("CNI_PATH", cni_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cannot run nsenter (util-linux)");
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        let v = if out.stdout.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "plugin printed non-JSON {:?}: {e}",
                    String::from_utf8_lossy(&out.stdout)
                )
            })
        };
        (v, out.status.success())
    }

    /// The node's links other than `lo`.
    pub fn node_links(&self) -> Vec<String> {
        self.kernel
            .links(self.node.path())
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .filter(|n| n != "lo")
            .collect()
    }

    /// The node's routes other than the lab's own.
    pub fn node_routes(&self) -> Vec<Route> {
        self.kernel
            .routes(self.node.path())
            .unwrap()
            .into_iter()
            .filter(|r| r.dev != "lo")
            .collect()
    }

    pub fn weps(&self) -> Vec<Resource> {
        let info = calico_api::find_kind("WorkloadEndpoint", None).unwrap();
        self.client.list(info, None).unwrap().0
    }

    /// Every address IPAM holds, with its handle.
    pub fn allocations(&self) -> Vec<(String, std::net::IpAddr)> {
        let ipam = calico_client::ipam_store::ClientIpam::new(self.client.clone());
        let snap = ipam.engine().snapshot().unwrap();
        snap.allocations()
            .into_iter()
            .map(|a| (a.handle_id.clone().unwrap_or_default(), a.address))
            .collect()
    }

    pub fn assert_clean(&self) {
        assert_eq!(
            self.node_links(),
            Vec::<String>::new(),
            "links left in the node"
        );
        assert_eq!(self.node_routes(), vec![], "routes left in the node");
        assert_eq!(self.weps().len(), 0, "WorkloadEndpoints left");
        assert_eq!(self.allocations(), vec![], "allocations left");
    }
}

/// Where the plugins are found: our binaries, then Debian's reference plugins.
pub fn cni_path() -> String {
    let ours = Path::new(env!("CARGO_BIN_EXE_calico"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    format!("{ours}:/usr/lib/cni")
}

pub fn calico_bin() -> &'static str {
    env!("CARGO_BIN_EXE_calico")
}

pub fn ipam_bin() -> &'static str {
    env!("CARGO_BIN_EXE_calico-ipam")
}

pub fn cni_env(cmd: &str, cid: &str, netns: &Path, args: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CNI_COMMAND", cmd.to_string()),
        ("CNI_CONTAINERID", cid.to_string()),
        ("CNI_NETNS", netns.display().to_string()),
        ("CNI_IFNAME", "eth0".to_string()),
        ("CNI_ARGS", args.to_string()),
    ]
}

/// Up to three single pings (bounded: at most ~6 s), so a loaded machine does not fail a test.
pub fn ping(from: &NamedNetns, to: &str) -> bool {
    (0..3).any(|_| ping_once(from, to))
}

fn ping_once(from: &NamedNetns, to: &str) -> bool {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            from.name(),
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            to,
        ])
        .output()
        .map(|o| o.status.success())
        .expect("cannot run ping (install iputils-ping)")
}
