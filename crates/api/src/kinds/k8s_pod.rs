//! The parts of a Kubernetes Pod: spec, containers, ports and status.
//!
//! Calico reads a pod's labels, namespace, service account, node, host networking, container
//! ports and IPs; those are typed. The other fields a `kubectl get pod -o yaml` manifest
//! carries are listed by name and kept verbatim as JSON values; anything else is rejected like
//! every unknown field.

use std::collections::HashSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::k8s::K8sProtocol;
use super::numorstring::iana_port_name_problem;
use crate::validate::Validator;

/// Declares a struct with typed fields plus named pass-through fields (`Option<Value>`).
macro_rules! with_passthrough {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($typed:tt)*
        }
        passthrough { $($field:ident => $json:literal),* $(,)? }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($typed)*
            $(
                #[doc = concat!("`", $json, "`, kept verbatim.")]
                #[serde(default, rename = $json, skip_serializing_if = "Option::is_none")]
                pub $field: Option<serde_json::Value>,
            )*
        }
    };
}

with_passthrough! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct PodSpec {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub containers: Vec<Container>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub init_containers: Vec<Container>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub service_account_name: String,
        /// Deprecated alias of `serviceAccountName`.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub service_account: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub node_name: String,
        /// Host-networked pods share the host's addresses and get no workload endpoint.
        #[serde(default, skip_serializing_if = "crate::serde_util::is_false")]
        pub host_network: bool,
    }
    passthrough {
        active_deadline_seconds => "activeDeadlineSeconds",
        affinity => "affinity",
        automount_service_account_token => "automountServiceAccountToken",
        dns_config => "dnsConfig",
        dns_policy => "dnsPolicy",
        enable_service_links => "enableServiceLinks",
        ephemeral_containers => "ephemeralContainers",
        host_aliases => "hostAliases",
        host_ipc => "hostIPC",
        host_pid => "hostPID",
        host_users => "hostUsers",
        hostname => "hostname",
        image_pull_secrets => "imagePullSecrets",
        node_selector => "nodeSelector",
        os => "os",
        overhead => "overhead",
        preemption_policy => "preemptionPolicy",
        priority => "priority",
        priority_class_name => "priorityClassName",
        readiness_gates => "readinessGates",
        resource_claims => "resourceClaims",
        resources => "resources",
        restart_policy => "restartPolicy",
        runtime_class_name => "runtimeClassName",
        scheduler_name => "schedulerName",
        scheduling_gates => "schedulingGates",
        security_context => "securityContext",
        set_hostname_as_fqdn => "setHostnameAsFQDN",
        share_process_namespace => "shareProcessNamespace",
        subdomain => "subdomain",
        termination_grace_period_seconds => "terminationGracePeriodSeconds",
        tolerations => "tolerations",
        topology_spread_constraints => "topologySpreadConstraints",
        volumes => "volumes",
    }
}

with_passthrough! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Container {
        #[serde(default)]
        pub name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub image: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub ports: Vec<ContainerPort>,
    }
    passthrough {
        args => "args",
        command => "command",
        env => "env",
        env_from => "envFrom",
        image_pull_policy => "imagePullPolicy",
        lifecycle => "lifecycle",
        liveness_probe => "livenessProbe",
        readiness_probe => "readinessProbe",
        resize_policy => "resizePolicy",
        resources => "resources",
        restart_policy => "restartPolicy",
        security_context => "securityContext",
        startup_probe => "startupProbe",
        stdin => "stdin",
        stdin_once => "stdinOnce",
        termination_message_path => "terminationMessagePath",
        termination_message_policy => "terminationMessagePolicy",
        tty => "tty",
        volume_devices => "volumeDevices",
        volume_mounts => "volumeMounts",
        working_dir => "workingDir",
    }
}

/// A port a container listens on (Calico turns named ones into the endpoint's named ports).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub container_port: i32,
    /// Defaults to TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<K8sProtocol>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub host_port: i32,
    #[serde(default, rename = "hostIP", skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

with_passthrough! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct PodStatus {
        /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub phase: String,
        #[serde(default, rename = "podIP", skip_serializing_if = "String::is_empty")]
        pub pod_ip: String,
        #[serde(default, rename = "podIPs", skip_serializing_if = "Vec::is_empty")]
        pub pod_ips: Vec<PodIp>,
        #[serde(default, rename = "hostIP", skip_serializing_if = "String::is_empty")]
        pub host_ip: String,
        #[serde(default, rename = "hostIPs", skip_serializing_if = "Vec::is_empty")]
        pub host_ips: Vec<PodIp>,
    }
    passthrough {
        conditions => "conditions",
        container_statuses => "containerStatuses",
        ephemeral_container_statuses => "ephemeralContainerStatuses",
        init_container_statuses => "initContainerStatuses",
        message => "message",
        nominated_node_name => "nominatedNodeName",
        observed_generation => "observedGeneration",
        qos_class => "qosClass",
        reason => "reason",
        resize => "resize",
        resource_claim_statuses => "resourceClaimStatuses",
        start_time => "startTime",
    }
}

/// One of a pod's (or its host's) addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodIp {
    #[serde(default)]
    pub ip: String,
}

impl PodStatus {
    /// The pod's addresses: `podIPs`, else `podIP` (unparsable entries skipped).
    pub fn ips(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = self
            .pod_ips
            .iter()
            .filter_map(|p| p.ip.parse().ok())
            .collect();
        if ips.is_empty()
            && let Ok(ip) = self.pod_ip.parse()
        {
            ips.push(ip);
        }
        ips
    }

    /// Whether the pod has finished (`Succeeded` or `Failed`) and so holds no endpoint.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }
}

pub(crate) fn check_pod_spec(v: &mut Validator, s: &PodSpec) {
    if s.containers.is_empty() {
        v.error_at("containers", "a pod needs at least one container");
    }
    let mut names = HashSet::new();
    for (field, list) in [
        ("containers", &s.containers),
        ("initContainers", &s.init_containers),
    ] {
        if list.is_empty() {
            continue;
        }
        v.field(field, |v| {
            for (i, c) in list.iter().enumerate() {
                v.index(i, |v| {
                    if c.name.is_empty() {
                        v.error_at("name", "a container needs a name");
                    } else {
                        v.field("name", |v| {
                            v.check_dns_label(&c.name);
                        });
                        if !names.insert(c.name.as_str()) {
                            v.error_at("name", format!("duplicate container name {:?}", c.name));
                        }
                    }
                    if !c.ports.is_empty() {
                        v.field("ports", |v| check_container_ports(v, &c.ports));
                    }
                });
            }
        });
    }
    for (field, value) in [
        ("serviceAccountName", &s.service_account_name),
        ("nodeName", &s.node_name),
    ] {
        if !value.is_empty() {
            v.field(field, |v| {
                v.check_dns_subdomain(value);
            });
        }
    }
}

fn check_container_ports(v: &mut Validator, ports: &[ContainerPort]) {
    let mut names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        v.index(i, |v| {
            if !(1..=65535).contains(&p.container_port) {
                v.error_at(
                    "containerPort",
                    format!(
                        "{} is not a valid port number: expected 1-65535",
                        p.container_port
                    ),
                );
            }
            if !(0..=65535).contains(&p.host_port) {
                v.error_at(
                    "hostPort",
                    format!(
                        "{} is not a valid port number: expected 1-65535",
                        p.host_port
                    ),
                );
            }
            if !p.name.is_empty() {
                if let Some(msg) = iana_port_name_problem(&p.name) {
                    v.error_at("name", msg);
                } else if !names.insert(p.name.as_str()) {
                    v.error_at("name", format!("duplicate port name {:?}", p.name));
                }
            }
            if !p.host_ip.is_empty() {
                v.field("hostIP", |v| {
                    v.check_ip(&p.host_ip);
                });
            }
        });
    }
}

pub(crate) fn check_pod_status(v: &mut Validator, s: &PodStatus) {
    for (field, value) in [("podIP", &s.pod_ip), ("hostIP", &s.host_ip)] {
        if !value.is_empty() {
            v.field(field, |v| {
                v.check_ip(value);
            });
        }
    }
    for (field, list) in [("podIPs", &s.pod_ips), ("hostIPs", &s.host_ips)] {
        if list.is_empty() {
            continue;
        }
        v.field(field, |v| {
            for (i, p) in list.iter().enumerate() {
                v.index(i, |v| {
                    v.field("ip", |v| {
                        v.check_ip(&p.ip);
                    });
                });
            }
        });
    }
}
