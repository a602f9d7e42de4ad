//! `calico-lab pod add|label|del`: the Namespace and Pod in the datastore, the pod's network
//! namespace wired by the real `calico` CNI plugin (run inside the node's namespace, as a
//! runtime on that node would), and servers inside the pod.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use calico_api::{LABEL_K8S_NAMESPACE_NAME, Resource, find_kind};
use calico_client::{Client, ClientError};
use serde_json::json;

use crate::bins;
use crate::datastore::{netconf_fields, with_client};
use crate::error::{LabError, Result};
use crate::names;
use crate::state::{LabDir, LabState, PodState};
use crate::sys;

/// How long one CNI plugin run may take.
const CNI_TIMEOUT: Duration = Duration::from_secs(30);
/// How long servers may take to bind their ports.
const SERVE_READY: Duration = Duration::from_secs(10);

/// A served port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServePort {
    pub tcp: bool,
    pub port: u16,
}

impl ServePort {
    pub fn proto(&self) -> &'static str {
        if self.tcp { "tcp" } else { "udp" }
    }
}

impl std::fmt::Display for ServePort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.proto(), self.port)
    }
}

/// Parse `tcp/80,tcp/81,udp/80` (empty: none).
pub fn parse_serve(s: &str) -> Result<Vec<ServePort>> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bad = || {
            LabError::Invalid(format!(
                "--serve {item:?}: expected PROTOCOL/PORT with protocol tcp or udp and port \
                 1-65535, for example tcp/80"
            ))
        };
        let (proto, port) = item.split_once('/').ok_or_else(bad)?;
        let tcp = match proto.to_ascii_lowercase().as_str() {
            "tcp" => true,
            "udp" => false,
            _ => return Err(bad()),
        };
        let port: u16 = port.parse().ok().filter(|p| *p != 0).ok_or_else(bad)?;
        let sp = ServePort { tcp, port };
        if !out.contains(&sp) {
            out.push(sp);
        }
    }
    out.sort_by_key(|p| (!p.tcp, p.port));
    Ok(out)
}

/// Parse `k=v,k2=v2` (empty: no labels).
pub fn parse_labels(s: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((k, v)) = item.split_once('=') else {
            return Err(LabError::Invalid(format!(
                "--labels {item:?}: expected KEY=VALUE"
            )));
        };
        let (k, v) = (k.trim(), v.trim());
        let key_ok = !k.is_empty()
            && k.len() <= 253
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        let val_ok = v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !key_ok || !val_ok {
            return Err(LabError::Invalid(format!(
                "--labels {item:?}: not a valid Kubernetes label (key of letters, digits, \
                 '-', '_', '.', '/'; value of at most 63 letters, digits, '-', '_', '.')"
            )));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Options of `pod add`.
#[derive(Clone, Debug, Default)]
pub struct PodAddOptions {
    /// `NS/NAME`.
    pub pod: String,
    /// 1-based node; `None`: the nodes in turn.
    pub node: Option<usize>,
    pub labels: BTreeMap<String, String>,
    pub serve: Vec<ServePort>,
    pub ip: Option<Ipv4Addr>,
    pub service_account: Option<String>,
}

/// The CNI network configuration of a lab.
pub fn netconf(dir: &LabDir, st: &LabState, node_name: &str) -> serde_json::Value {
    let mut c = json!({
        "cniVersion": "1.0.0",
        "name": "k8s-pod-network",
        "type": "calico",
        "nodename": node_name,
        // VXLAN takes 50 bytes of the underlay's 1500.
        "mtu": if st.bgp() { 1500 } else { 1450 },
        "log_level": "info",
        "log_file_path": dir.log("cni.log").display().to_string(),
        "ipam": {"type": "calico-ipam"},
        "policy": {"type": "k8s"},
    });
    if let (Some(obj), Some(ds)) = (c.as_object_mut(), netconf_fields(&st.datastore).as_object()) {
        for (k, v) in ds {
            obj.insert(k.clone(), v.clone());
        }
    }
    c
}

fn pod_resource(ns: &str, name: &str, node: &str, o: &PodAddOptions) -> Result<Resource> {
    let ports: Vec<serde_json::Value> = o
        .serve
        .iter()
        .map(|p| {
            json!({"name": format!("serve-{}-{}", p.port, p.proto()), "containerPort": p.port,
                   "protocol": p.proto().to_ascii_uppercase()})
        })
        .collect();
    let mut container = json!({"name": "serve", "image": "calico-lab"});
    if !ports.is_empty() {
        container["ports"] = json!(ports);
    }
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": o.labels},
        "spec": {"nodeName": node, "containers": [container]},
    });
    if let Some(ip) = o.ip {
        pod["metadata"]["annotations"] =
            json!({"cni.projectcalico.org/ipAddrs": format!("[\"{ip}\"]")});
    }
    if let Some(sa) = &o.service_account {
        pod["spec"]["serviceAccountName"] = json!(sa);
    }
    Resource::from_value(pod).map_err(|e| LabError::Invalid(format!("pod {ns}/{name}: {e}")))
}

fn kind(k: &str) -> Result<&'static calico_api::KindInfo> {
    find_kind(k, None).ok_or_else(|| LabError::State(format!("kind {k} unknown to calico-api")))
}

/// Create the Namespace (labelled as Kubernetes does) when it does not exist.
fn ensure_namespace(c: &Client, ns: &str) -> Result<()> {
    match c.get(kind("Namespace")?, "", ns) {
        Ok(_) => Ok(()),
        Err(ClientError::NotFound { .. }) => {
            let r = Resource::from_value(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {LABEL_K8S_NAMESPACE_NAME: ns}},
            }))
            .map_err(|e| LabError::Invalid(format!("namespace {ns}: {e}")))?;
            match c.create(r) {
                Ok(_) | Err(ClientError::AlreadyExists { .. }) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Run the CNI plugin inside the node's namespace; the plugin's stdout on success.
fn cni(command: &str, st: &LabState, dir: &LabDir, pod: &PodState) -> Result<String> {
    let node = st.node(pod.node)?;
    let plugin = bins::find("calico")?;
    let conf = netconf(dir, st, &node.name);
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--net={}", sys::netns_path(&node.netns).display()))
        .arg(&plugin)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", &pod.container_id)
        .env("CNI_NETNS", sys::netns_path(&pod.netns))
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", bins::cni_dir()?)
        .env(
            "CNI_ARGS",
            format!(
                "IgnoreUnknown=1;K8S_POD_NAMESPACE={};K8S_POD_NAME={};K8S_POD_INFRA_CONTAINER_ID={}",
                pod.namespace, pod.name, pod.container_id
            ),
        );
    let (ok, out, err) = sys::run_input(&mut cmd, conf.to_string().as_bytes(), CNI_TIMEOUT)?;
    if ok {
        Ok(out)
    } else {
        Err(LabError::Command {
            command: format!("CNI_COMMAND={command} calico (pod {})", pod.key()),
            status: "failed".into(),
            output: format!("{}{}", out.trim(), err.trim()),
        })
    }
}

/// The first IPv4 address of a CNI result.
fn result_ip(out: &str) -> Result<String> {
    let v: serde_json::Value = serde_json::from_str(out).map_err(|e| {
        LabError::State(format!(
            "the CNI plugin printed a result that is not JSON ({e}): {out}"
        ))
    })?;
    let ips = v["ips"].as_array().cloned().unwrap_or_default();
    ips.iter()
        .filter_map(|i| i["address"].as_str())
        .filter_map(|a| a.split('/').next())
        .find(|a| a.parse::<Ipv4Addr>().is_ok())
        .map(str::to_string)
        .ok_or_else(|| LabError::State(format!("the CNI result has no IPv4 address: {out}")))
}

/// Record the pod's address in its status, as the kubelet does.
fn set_pod_status(c: &Client, ns: &str, name: &str, ip: &str, host_ip: &str) -> Result<()> {
    let r = c.get(kind("Pod")?, ns, name)?;
    let mut v = r.to_value();
    v["status"] = json!({"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                         "hostIP": host_ip, "hostIPs": [{"ip": host_ip}]});
    let r =
        Resource::from_value(v).map_err(|e| LabError::State(format!("pod {ns}/{name}: {e}")))?;
    c.update(r)?;
    Ok(())
}

/// Add a pod; returns its record.
pub fn add(name: &str, o: &PodAddOptions) -> Result<PodState> {
    let (ns, pod_name) = names::parse_pod_ref(&o.pod)?;
    if let Some(sa) = &o.service_account {
        names::validate_k8s_name("--service-account", sa)?;
    }
    sys::require_root("pod add")?;
    let dir = LabDir::open(name, true)?;
    let mut st = dir.load()?;
    if !st.ready {
        return Err(LabError::State(format!(
            "lab {name:?} did not finish `up`: `calico-lab down --name {name}` and up again"
        )));
    }
    if st.pod(&ns, &pod_name).is_some() {
        return Err(LabError::State(format!(
            "pod {ns}/{pod_name} already exists in lab {name:?}"
        )));
    }
    let node = match o.node {
        Some(i) => st.node(i)?.index,
        None => st.pods.len() % st.nodes.len() + 1,
    };
    let node_state = st.node(node)?.clone();
    sys::require_absent(&names::pod_netns(name, &ns, &pod_name))?;
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut rec = PodState {
        namespace: ns.clone(),
        name: pod_name.clone(),
        node,
        netns: names::pod_netns(name, &ns, &pod_name),
        container_id: names::container_id(name, &ns, &pod_name, nonce),
        ip: String::new(),
        serve: o.serve.iter().map(ToString::to_string).collect(),
        server: None,
        cni_added: false,
    };

    // The datastore first: the plugin reads the Pod (labels, ports, ipAddrs annotation).
    let pod_res = pod_resource(&ns, &pod_name, &node_state.name, o)?;
    {
        let ns = ns.clone();
        with_client(&st, move |c| {
            ensure_namespace(c, &ns)?;
            c.create(pod_res)?;
            Ok(())
        })?;
    }
    st.pods.push(rec.clone());
    dir.save(&st)?;

    let res = wire(&dir, &mut st, &mut rec, &node_state.ip);
    if let Some(p) = st.pod_mut(&ns, &pod_name) {
        *p = rec.clone();
    }
    dir.save(&st)?;
    res.map_err(|e| {
        LabError::State(format!(
            "pod {ns}/{pod_name}: {e}\n(its partial state is recorded: `calico-lab pod del \
             {ns}/{pod_name} --name {name}` removes it)"
        ))
    })?;
    Ok(rec)
}

fn wire(dir: &LabDir, st: &mut LabState, rec: &mut PodState, host_ip: &str) -> Result<()> {
    sys::create_netns(&rec.netns)?;
    rec.cni_added = true;
    if let Some(p) = st.pod_mut(&rec.namespace, &rec.name) {
        *p = rec.clone();
    }
    dir.save(st)?;
    let out = cni("ADD", st, dir, rec)?;
    rec.ip = result_ip(&out)?;
    {
        let (ns, name, ip, host) = (
            rec.namespace.clone(),
            rec.name.clone(),
            rec.ip.clone(),
            host_ip.to_string(),
        );
        with_client(st, move |c| set_pod_status(c, &ns, &name, &ip, &host))?;
    }
    if !rec.serve.is_empty() {
        rec.server = Some(start_server(dir, rec)?);
    }
    Ok(())
}

fn start_server(dir: &LabDir, rec: &PodState) -> Result<crate::state::ProcessRecord> {
    let serve = parse_serve(&rec.serve.join(","))?;
    let list = |tcp: bool| {
        serve
            .iter()
            .filter(|p| p.tcp == tcp)
            .map(|p| p.port.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let ready = dir.path(&format!("serve-{}-{}.ready", rec.namespace, rec.name));
    let _ = std::fs::remove_file(&ready);
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &rec.netns])
        .arg(bins::self_exe()?)
        .arg("serve")
        .args(["--id", &rec.key()])
        .arg("--ready-file")
        .arg(&ready);
    let (tcp, udp) = (list(true), list(false));
    if !tcp.is_empty() {
        cmd.args(["--tcp", &tcp]);
    }
    if !udp.is_empty() {
        cmd.args(["--udp", &udp]);
    }
    let proc = sys::spawn_daemon(
        &mut cmd,
        &dir.log(&format!("serve-{}-{}.log", rec.namespace, rec.name)),
    )?;
    let ok = sys::wait_until(SERVE_READY, Duration::from_millis(10), || {
        ready.exists() || !sys::alive(&proc)
    });
    if !ok || !ready.exists() {
        sys::stop(&proc, Duration::from_secs(1));
        return Err(LabError::State(format!(
            "the servers of pod {} did not start; see {}",
            rec.key(),
            proc.log.display()
        )));
    }
    let _ = std::fs::remove_file(&ready);
    Ok(proc)
}

/// Labels kept on a WorkloadEndpoint when the pod's labels are replaced.
fn is_calico_label(k: &str) -> bool {
    k.starts_with("projectcalico.org/")
}

/// Replace a pod's labels: the Pod, and its WorkloadEndpoints (keeping their
/// `projectcalico.org/*` labels), as Calico's pod → endpoint conversion would show them.
pub fn label(name: &str, pod: &str, labels: BTreeMap<String, String>) -> Result<()> {
    let (ns, pod_name) = names::parse_pod_ref(pod)?;
    let dir = LabDir::open(name, false)?;
    let st = dir.load()?;
    with_client(&st, move |c| relabel(c, &ns, &pod_name, &labels))
}

fn relabel(c: &Client, ns: &str, pod: &str, labels: &BTreeMap<String, String>) -> Result<()> {
    retry_conflicts(|| {
        let mut r = c.get(kind("Pod")?, ns, pod)?;
        r.metadata_mut().labels = labels.clone();
        c.update(r)?;
        Ok(())
    })?;
    let (weps, _) = c.list(kind("WorkloadEndpoint")?, Some(ns))?;
    for w in weps {
        let Resource::WorkloadEndpoint(wep) = &w else {
            continue;
        };
        if wep.spec.pod != pod {
            continue;
        }
        let wep_name = wep.metadata.name.clone();
        retry_conflicts(|| {
            let mut r = c.get(kind("WorkloadEndpoint")?, ns, &wep_name)?;
            let m = r.metadata_mut();
            let mut next: BTreeMap<String, String> = m
                .labels
                .iter()
                .filter(|(k, _)| is_calico_label(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, v) in labels {
                if !is_calico_label(k) {
                    next.insert(k.clone(), v.clone());
                }
            }
            m.labels = next;
            c.update(r)?;
            Ok(())
        })?;
    }
    Ok(())
}

fn retry_conflicts(mut f: impl FnMut() -> Result<()>) -> Result<()> {
    let mut last = Ok(());
    for _ in 0..5 {
        last = f();
        match &last {
            Err(LabError::Datastore(m)) if m.contains("update conflict") => continue,
            _ => return last,
        }
    }
    last
}

/// Remove a pod: servers, CNI DEL, its namespace, the Pod.
pub fn del(name: &str, pod: &str) -> Result<()> {
    let (ns, pod_name) = names::parse_pod_ref(pod)?;
    let dir = LabDir::open(name, true)?;
    let mut st = dir.load()?;
    let Some(rec) = st.pod(&ns, &pod_name).cloned() else {
        return Err(LabError::State(format!(
            "pod {ns}/{pod_name} is not in lab {name:?}"
        )));
    };
    let mut errors = remove_pod(&dir, &st, &rec, true);
    let (n, p) = (ns.clone(), pod_name.clone());
    match with_client(&st, move |c| match c.delete(kind("Pod")?, &n, &p, None) {
        Ok(_) | Err(ClientError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }) {
        Ok(()) => {}
        Err(e) => errors.push(format!("deleting Pod {ns}/{pod_name}: {e}")),
    }
    st.pods
        .retain(|p| !(p.namespace == ns && p.name == pod_name));
    dir.save(&st)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(LabError::State(errors.join("\n")))
    }
}

/// Stop the pod's servers, CNI DEL when the node is alive (and `cni_del`), remove its
/// namespace. Returns the problems met (it goes on after each).
pub(crate) fn remove_pod(
    dir: &LabDir,
    st: &LabState,
    rec: &PodState,
    cni_del: bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(p) = &rec.server
        && !sys::stop(p, Duration::from_secs(2))
    {
        errors.push(format!(
            "servers of pod {} (pid {}) did not stop",
            rec.key(),
            p.pid
        ));
    }
    let node_up = st
        .node(rec.node)
        .map(|n| sys::netns_exists(&n.netns))
        .unwrap_or(false);
    if cni_del
        && rec.cni_added
        && node_up
        && let Err(e) = cni("DEL", st, dir, rec)
    {
        errors.push(e.to_string());
    }
    let left = sys::stop_all_in(&rec.netns, Duration::from_secs(2));
    if !left.is_empty() {
        errors.push(format!("processes {left:?} in {} did not stop", rec.netns));
    }
    if let Err(e) = sys::delete_netns(&rec.netns) {
        errors.push(e.to_string());
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn serve_lists() {
        let s = parse_serve("tcp/81,udp/80, tcp/80,tcp/80").unwrap();
        assert_eq!(
            s.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["tcp/80", "tcp/81", "udp/80"]
        );
        assert!(parse_serve("").unwrap().is_empty());
        for bad in ["80", "sctp/80", "tcp/0", "tcp/70000", "tcp/x"] {
            let e = parse_serve(bad).unwrap_err().to_string();
            assert!(e.contains("--serve"), "{e}");
        }
    }

    #[test]
    fn label_lists() {
        let l = parse_labels("pod=a, app=web").unwrap();
        assert_eq!(l.get("pod").map(String::as_str), Some("a"));
        assert_eq!(l.len(), 2);
        assert!(parse_labels("").unwrap().is_empty());
        for bad in ["a", "=b", "a=b c", "a=b/c"] {
            assert!(parse_labels(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pod_manifest() {
        let o = PodAddOptions {
            pod: "x/a".into(),
            labels: parse_labels("pod=a").unwrap(),
            serve: parse_serve("tcp/80,udp/81").unwrap(),
            ip: Some("10.0.1.1".parse().unwrap()),
            service_account: Some("sa1".into()),
            ..Default::default()
        };
        let v = pod_resource("x", "a", "node1", &o).unwrap().to_value();
        assert_eq!(v["spec"]["nodeName"], "node1");
        assert_eq!(v["spec"]["serviceAccountName"], "sa1");
        assert_eq!(v["metadata"]["labels"]["pod"], "a");
        assert_eq!(
            v["metadata"]["annotations"]["cni.projectcalico.org/ipAddrs"],
            "[\"10.0.1.1\"]"
        );
        let ports = &v["spec"]["containers"][0]["ports"];
        assert_eq!(ports[0]["name"], "serve-80-tcp");
        assert_eq!(ports[0]["protocol"], "TCP");
        assert_eq!(ports[1]["name"], "serve-81-udp");
        assert_eq!(ports[1]["containerPort"], 81);
    }

    #[test]
    fn cni_results() {
        let out = r#"{"cniVersion":"1.0.0","ips":[{"address":"fd00::1/128"},{"address":"10.244.1.2/32"}]}"#;
        assert_eq!(result_ip(out).unwrap(), "10.244.1.2");
        assert!(result_ip("{}").is_err());
    }
}
