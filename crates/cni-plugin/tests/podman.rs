//! A real container runtime: Debian's podman (CNI backend) inside a node namespace, with a
//! conflist using `calico` + `calico-ipam`, runs two busybox containers. Their addresses come
//! from the pool, each pings the other, their WorkloadEndpoints exist; removing them removes
//! the links, routes, endpoints and allocations.
//!
//! Needs `podman`, `runc` and `busybox-static` (scripts/deps.sh installs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::json;

/// Podman with its own configuration, storage and network directory; removes its containers,
/// images and storage on drop.
struct Podman {
    dir: tempfile::TempDir,
    node: PathBuf,
}

impl Podman {
    fn new(node: &Path, plugin_dirs: &[String]) -> Podman {
        for tool in ["podman", "runc", "busybox"] {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output();
            assert!(
                found.map(|o| o.status.success()).unwrap_or(false),
                "{tool} is not installed: apt-get install podman runc busybox-static (scripts/deps.sh)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("net")).unwrap();
        let dirs: Vec<String> = plugin_dirs.iter().map(|p| format!("{p:?}")).collect();
        std::fs::write(
            d.join("containers.conf"),
            format!(
                "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [{}]\nnetwork_config_dir = {:?}\n\
                 [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n",
                dirs.join(", "),
                d.join("net").display().to_string()
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\nrunroot = {:?}\ngraphroot = {:?}\n",
                d.join("runroot").display().to_string(),
                d.join("root").display().to_string()
            ),
        )
        .unwrap();
        Podman {
            dir,
            node: node.into(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Output {
        let d = self.dir.path();
        Command::new("nsenter")
            .arg(format!("--net={}", self.node.display()))
            .arg("podman")
            .arg("--network-config-dir")
            .arg(d.join("net"))
            .args(args)
            .env("CONTAINERS_CONF", d.join("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", d.join("storage.conf"))
            .output()
            .expect("cannot run podman")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.cmd(args);
        assert!(
            o.status.success(),
            "podman {args:?} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    /// A busybox root filesystem imported as `localhost/bb:1`.
    fn import_busybox(&self) {
        let root = self.dir.path().join("bbroot");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
        for a in ["sh", "ip", "ping", "sleep", "cat"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
        let tar = self.dir.path().join("bb.tar");
        let st = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        self.ok(&["import", "-q", &tar.display().to_string(), "localhost/bb:1"]);
    }

    fn write_network(&self, name: &str, conflist: &serde_json::Value) {
        std::fs::write(
            self.dir.path().join("net").join(format!("{name}.conflist")),
            conflist.to_string(),
        )
        .unwrap();
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd(&["rm", "-af", "-t", "0"]);
        let _ = self.cmd(&["rmi", "-af"]);
    }
}

#[test]
fn podman_runs_two_pods_on_calico() {
    let lab = Lab::new("10.246.0.0/16");
    let ours = Path::new(calico_bin())
        .parent()
        .unwrap()
        .display()
        .to_string();
    let pm = Podman::new(lab.node.path(), &[ours, "/usr/lib/cni".into()]);
    let net = unique("net");
    let mut plugin = lab.conf("0.4.0", json!({}));
    plugin.as_object_mut().unwrap().remove("cniVersion");
    plugin.as_object_mut().unwrap().remove("name");
    pm.write_network(
        &net,
        &json!({"cniVersion": "0.4.0", "name": net, "plugins": [plugin]}),
    );
    pm.import_busybox();

    let names = [unique("c"), unique("c")];
    let mut ips = Vec::new();
    let mut ids = Vec::new();
    for n in &names {
        let id = pm.ok(&[
            "run",
            "-d",
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "--name",
            n,
            "--network",
            &net,
            "localhost/bb:1",
            "sleep",
            "300",
        ]);
        let ip = pm.ok(&[
            "inspect",
            n,
            "--format",
            &format!("{{{{(index .NetworkSettings.Networks {net:?}).IPAddress}}}}"),
        ]);
        assert!(
            ip.starts_with("10.246."),
            "{n} got {ip:?}, not an address of the pool"
        );
        let inside = pm.ok(&["exec", n, "ip", "-4", "addr", "show", "eth0"]);
        assert!(inside.contains(&format!("{ip}/32")), "{inside}");
        let routes = pm.ok(&["exec", n, "ip", "route"]);
        assert!(
            routes.contains("default via 169.254.1.1 dev eth0"),
            "{routes}"
        );
        ips.push(ip);
        ids.push(id);
    }
    assert_ne!(ips[0], ips[1]);
    pm.ok(&["exec", &names[0], "ping", "-c", "1", "-W", "3", &ips[1]]);
    pm.ok(&["exec", &names[1], "ping", "-c", "1", "-W", "3", &ips[0]]);

    let weps = lab.weps();
    assert_eq!(weps.len(), 2);
    for (id, ip) in ids.iter().zip(&ips) {
        let w = weps
            .iter()
            .find_map(|r| match r {
                calico_api::Resource::WorkloadEndpoint(w) if &w.spec.container_id == id => {
                    Some(w.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no WorkloadEndpoint for container {id}: {weps:?}"));
        assert_eq!(w.spec.ip_networks, vec![format!("{ip}/32")]);
        assert_eq!(w.spec.interface_name, format!("cali{}", &id[..11]));
        assert!(lab.node_links().contains(&w.spec.interface_name));
    }
    let held: Vec<String> = lab.allocations().into_iter().map(|(h, _)| h).collect();
    assert_eq!(held.len(), 2);
    assert!(
        held.iter().all(|h| h.starts_with(&format!("{net}."))),
        "{held:?}"
    );

    pm.ok(&["rm", "-f", "-t", "0", &names[0], &names[1]]);
    lab.assert_clean();
}
