//! natOutgoing on the kernel: an "external" host (its own namespace, 203.0.113.1/24, routed
//! by the lab's underlay namespace) runs a TCP server that tells each client the source
//! address it saw. A pod of the default pool (natOutgoing: true) on each node reaches it, and
//! the server sees that node's underlay address; with natOutgoing turned off the pod's own
//! address leaves the node unchanged and the connection no longer comes back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calico_lab::state::LabState;
use calico_lab::sys;
use common::{BIN, Lab};

const EXTERNAL: &str = "203.0.113.1";
const EXTERNAL_GW: &str = "203.0.113.254";

/// The external host: a namespace behind the lab's underlay and its server; removed on drop.
struct External {
    ns: String,
    server: Option<Child>,
    dir: std::path::PathBuf,
}

impl External {
    fn new(lab: &Lab) -> External {
        let ns = format!("cl-{}-ext", lab.name);
        let ul = calico_lab::names::underlay_netns(&lab.name);
        let dir = lab.state_dir();
        let mut ext = External {
            ns: ns.clone(),
            server: None,
            dir,
        };
        sys::create_netns(&ns).unwrap();
        sys::ip(
            &ul,
            &[
                "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ],
        )
        .unwrap();
        sys::ip(
            &ul,
            &["addr", "add", &format!("{EXTERNAL_GW}/24"), "dev", "ext0"],
        )
        .unwrap();
        sys::ip(&ul, &["link", "set", "ext0", "up"]).unwrap();
        // The underlay routes between the nodes' subnet and the external one (inside the
        // lab's own namespace; the root namespace is never touched).
        sys::sysctl(&ul, "net.ipv4.ip_forward", "1").unwrap();
        sys::ip(
            &ns,
            &["addr", "add", &format!("{EXTERNAL}/24"), "dev", "eth0"],
        )
        .unwrap();
        sys::ip(&ns, &["link", "set", "eth0", "up"]).unwrap();
        sys::ip(&ns, &["route", "add", "default", "via", EXTERNAL_GW]).unwrap();
        let ready = ext.dir.join("external.ready");
        let child = Command::new("ip")
            .args([
                "netns", "exec", &ns, BIN, "serve", "--id", "external", "--tcp", "80",
            ])
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        ext.server = Some(child);
        assert!(
            sys::wait_until(Duration::from_secs(10), Duration::from_millis(20), || ready
                .exists()),
            "the external server did not start"
        );
        ext
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = sys::delete_netns(&self.ns);
    }
}

/// What the external server says to `pod`: `Ok(source address it saw)` or the error.
fn source_seen(st: &LabState, pod: (&str, &str)) -> Result<String, String> {
    let p = st.pod(pod.0, pod.1).unwrap();
    let addr: SocketAddr = format!("{EXTERNAL}:80").parse().unwrap();
    let line =
        calico_lab::probe::tcp_exchange(&sys::netns_path(&p.netns), addr, Duration::from_secs(1))
            .map_err(|e| e.to_string())?;
    line.rsplit(' ')
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("unexpected answer {line:?}"))
}

/// Ask until `ok` holds (bounded); the last answer.
fn until(
    st: &LabState,
    pod: (&str, &str),
    ok: impl Fn(&Result<String, String>) -> bool,
) -> Result<String, String> {
    let start = Instant::now();
    loop {
        let r = source_seen(st, pod);
        if ok(&r) || start.elapsed() > Duration::from_secs(10) {
            return r;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn nat_outgoing_pod_reaches_external_host_as_its_node() {
    let lab = Lab::up("nat", &["--nodes", "2"]);
    lab.ok(&["pod", "add", "x/a", "--node", "1"]);
    lab.ok(&["pod", "add", "x/b", "--node", "2"]);
    let pools = lab.calicoctl_ok(&["get", "ippools", "-o", "yaml"], "");
    assert!(
        pools.contains("natOutgoing: true"),
        "calico-node's default pool is natOutgoing:\n{pools}"
    );
    let pool_name = pools
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let _ext = External::new(&lab);
    let st: LabState =
        serde_json::from_str(&std::fs::read_to_string(lab.state_dir().join("state.json")).unwrap())
            .unwrap();

    for (pod, node_ip) in [(("x", "a"), "172.18.0.11"), (("x", "b"), "172.18.0.12")] {
        let seen = until(&st, pod, |r| r.as_deref() == Ok(node_ip));
        assert_eq!(
            seen.as_deref(),
            Ok(node_ip),
            "{}/{} reaches {EXTERNAL} from its node's address",
            pod.0,
            pod.1
        );
    }

    // Without natOutgoing the pod's own address leaves the node; the external host has no
    // route back to the pool, so the connection fails (or shows the pod's address).
    lab.calicoctl_ok(
        &[
            "patch",
            "ippool",
            &pool_name,
            "-p",
            r#"{"spec":{"natOutgoing":false}}"#,
        ],
        "",
    );
    let pod_ip = st.pod("x", "a").unwrap().ip.clone();
    let seen = until(&st, ("x", "a"), |r| r.as_deref() != Ok("172.18.0.11"));
    assert!(
        seen.is_err() || seen.as_deref() == Ok(pod_ip.as_str()),
        "with natOutgoing off the external host must not see the node: {seen:?}"
    );
    lab.calicoctl_ok(
        &[
            "patch",
            "ippool",
            &pool_name,
            "-p",
            r#"{"spec":{"natOutgoing":true}}"#,
        ],
        "",
    );
    let seen = until(&st, ("x", "a"), |r| r.as_deref() == Ok("172.18.0.11"));
    assert_eq!(seen.as_deref(), Ok("172.18.0.11"), "natOutgoing back on");
}
