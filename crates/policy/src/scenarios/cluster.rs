//! An in-memory cluster that scenario steps are applied to, as `calicoctl apply` / `delete`
//! and `calico-lab pod label` would change a real one, and the matrices the reference
//! evaluator computes on it.

use std::collections::BTreeMap;

use calico_api::{Protocol, Resource, codec};

use super::{
    NAMESPACES, PODS, PodInfo, Probe, ProbeProtocol, Step, labels_map, namespace_labels,
    namespaces_yaml, object_ref_yaml, pod_yaml,
};
use crate::{Model, Packet, evaluate};

/// `(apiVersion, kind, namespace, name)`.
type Key = (String, String, String, String);

fn key_of(r: &Resource) -> Key {
    let info = r.info();
    (
        info.api_version.to_string(),
        info.kind.to_string(),
        r.namespace().to_string(),
        r.name().to_string(),
    )
}

/// The simulated cluster: the stored objects (namespaces included) and each pod's labels.
#[derive(Clone, Debug)]
pub struct Cluster {
    objects: BTreeMap<Key, Resource>,
    pod_labels: BTreeMap<String, BTreeMap<String, String>>,
}

/// How to return a cluster to its base state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Teardown {
    /// Manifests naming the objects the steps created, for `calicoctl delete -f -`.
    pub delete_yaml: String,
    /// The base Namespace manifests of namespaces whose labels changed, for `calicoctl apply`.
    pub apply_yaml: String,
    /// Pods whose labels changed: `x/a` and the base labels to put back.
    pub relabel: Vec<(String, Vec<(String, String)>)>,
}

fn decode(text: &str) -> Result<Vec<Resource>, String> {
    let docs = codec::decode_all(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (index, r) in docs {
        let mut r = r.map_err(|e| format!("document {index}: {e}"))?;
        r.apply_defaults();
        r.validate().map_err(|e| format!("document {index}: {e}"))?;
        out.push(r);
    }
    Ok(out)
}

impl Cluster {
    /// The base cluster: namespaces with their labels, pods with theirs.
    pub fn new() -> Cluster {
        let mut objects = BTreeMap::new();
        // The base namespaces are valid by construction; a failure would show in every test.
        for r in decode(&namespaces_yaml()).unwrap_or_default() {
            objects.insert(key_of(&r), r);
        }
        let pod_labels = PODS.iter().map(|p| (p.id(), p.label_map())).collect();
        Cluster {
            objects,
            pod_labels,
        }
    }

    /// Applies one step: deletions, then the manifests, then the pod labels.
    ///
    /// # Errors
    /// A manifest that does not decode or validate, a deletion of something absent, or an
    /// unknown pod.
    pub fn apply_step(&mut self, step: &Step) -> Result<(), String> {
        for d in step.delete {
            let key = (
                d.api_version.to_string(),
                d.kind.to_string(),
                d.namespace.to_string(),
                d.name.to_string(),
            );
            if self.objects.remove(&key).is_none() {
                return Err(format!(
                    "step {:?}: delete {} {}/{}: no such object",
                    step.description, d.kind, d.namespace, d.name
                ));
            }
        }
        for r in decode(step.apply).map_err(|e| format!("step {:?}: {e}", step.description))? {
            self.objects.insert(key_of(&r), r);
        }
        for rl in step.relabel {
            let labels = self.pod_labels.get_mut(rl.pod).ok_or_else(|| {
                format!("step {:?}: relabel: no pod {}", step.description, rl.pod)
            })?;
            *labels = labels_map(rl.labels);
        }
        Ok(())
    }

    /// Every object and pod as resources.
    pub fn resources(&self) -> Result<Vec<Resource>, String> {
        let mut out: Vec<Resource> = self.objects.values().cloned().collect();
        let pods: String = PODS
            .iter()
            .map(|p| pod_yaml(p, self.labels_of(p)))
            .collect();
        out.extend(decode(&pods)?);
        Ok(out)
    }

    fn labels_of(&self, p: &PodInfo) -> &BTreeMap<String, String> {
        self.pod_labels.get(&p.id()).unwrap_or(&EMPTY)
    }

    /// The evaluator's model of the cluster.
    ///
    /// # Errors
    /// A selector or CIDR the model rejects.
    pub fn model(&self) -> Result<Model, String> {
        Model::from_resources(&self.resources()?).map_err(|e| e.to_string())
    }

    /// What undoes every change: delete the objects that are not base namespaces, re-apply
    /// the base namespaces whose labels changed, put back pod labels that changed.
    pub fn teardown(&self) -> Teardown {
        let base = Cluster::new();
        let mut t = Teardown::default();
        for (key, r) in &self.objects {
            let (api, kind, ns, name) = key;
            match base.objects.get(key) {
                None => t
                    .delete_yaml
                    .push_str(&object_ref_yaml(api, kind, ns, name)),
                Some(b) if b != r => {
                    let labels: String = namespace_labels(name)
                        .iter()
                        .map(|(k, v)| format!("    {k}: \"{v}\"\n"))
                        .collect();
                    t.apply_yaml.push_str(&format!(
                        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"{name}\"\n  labels:\n{labels}---\n"
                    ));
                }
                Some(_) => {}
            }
        }
        for p in &PODS {
            if *self.labels_of(p) != p.label_map() {
                t.relabel.push((
                    p.id(),
                    p.labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ));
            }
        }
        // Base namespaces that a step deleted come back too.
        for ns in NAMESPACES {
            let key = (
                "v1".to_string(),
                "Namespace".to_string(),
                String::new(),
                ns.to_string(),
            );
            if !self.objects.contains_key(&key) {
                let labels: String = namespace_labels(ns)
                    .iter()
                    .map(|(k, v)| format!("    {k}: \"{v}\"\n"))
                    .collect();
                t.apply_yaml.push_str(&format!(
                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"{ns}\"\n  labels:\n{labels}---\n"
                ));
            }
        }
        t
    }
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster::new()
    }
}

static EMPTY: BTreeMap<String, String> = BTreeMap::new();

/// The packet a probe sends from `from` to `to`.
pub fn probe_packet(probe: &Probe, from: &PodInfo, to: &PodInfo) -> Packet {
    let (src, dst) = (from.ip_addr(), to.ip_addr());
    match probe.protocol {
        ProbeProtocol::Icmp => Packet::ping(src, dst),
        ProbeProtocol::Tcp => Packet::ports(src, dst, Protocol::Tcp, probe.port),
        ProbeProtocol::Udp => Packet::ports(src, dst, Protocol::Udp, probe.port),
    }
}

/// The matrix the reference evaluator computes for `probe` on `model` (rows clients, columns
/// servers, [`PODS`] order).
pub fn evaluate_matrix(model: &Model, probe: &Probe) -> Vec<Vec<bool>> {
    PODS.iter()
        .map(|from| {
            PODS.iter()
                .map(|to| evaluate(model, &probe_packet(probe, from, to)).allowed)
                .collect()
        })
        .collect()
}
