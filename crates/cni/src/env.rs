//! The CNI environment (`CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME`,
//! `CNI_ARGS`, `CNI_PATH`), checked as libcni's skel checks it: every problem is code 4.

use std::collections::BTreeMap;

use crate::error::CniError;

/// A CNI command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Add,
    Del,
    Check,
    Version,
    Status,
    Gc,
}

impl Command {
    fn parse(s: &str) -> Result<Self, CniError> {
        Ok(match s {
            "ADD" => Command::Add,
            "DEL" => Command::Del,
            "CHECK" => Command::Check,
            "VERSION" => Command::Version,
            "STATUS" => Command::Status,
            "GC" => Command::Gc,
            "" => {
                return Err(CniError::invalid_env(
                    "required env variables [CNI_COMMAND] missing",
                ));
            }
            other => {
                return Err(CniError::invalid_env(format!(
                    "unknown CNI_COMMAND: {other:?}: expected ADD, DEL, CHECK, VERSION, STATUS or GC"
                )));
            }
        })
    }
}

/// The checked environment of one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CniEnv {
    pub container_id: String,
    pub netns: String,
    pub ifname: String,
    pub args: String,
    pub path: String,
}

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
pub const MAX_IFNAME_LEN: usize = 15;

impl CniEnv {
    /// Read the command and the variables it requires through `lookup` (the process
    /// environment in the binaries, a map in tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(Command, CniEnv), CniError> {
        let get = |k: &str| lookup(k).unwrap_or_default();
        let cmd = Command::parse(&get("CNI_COMMAND"))?;
        let env = CniEnv {
            container_id: get("CNI_CONTAINERID"),
            netns: get("CNI_NETNS"),
            ifname: get("CNI_IFNAME"),
            args: get("CNI_ARGS"),
            path: get("CNI_PATH"),
        };
        let required: &[(&str, &str)] = match cmd {
            Command::Add | Command::Check => &[
                ("CNI_CONTAINERID", &env.container_id),
                ("CNI_NETNS", &env.netns),
                ("CNI_IFNAME", &env.ifname),
            ],
            Command::Del => &[
                ("CNI_CONTAINERID", &env.container_id),
                ("CNI_IFNAME", &env.ifname),
            ],
            Command::Version | Command::Status | Command::Gc => &[],
        };
        let missing: Vec<&str> = required
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| *k)
            .collect();
        if !missing.is_empty() {
            return Err(CniError::invalid_env(format!(
                "required env variables [{}] missing",
                missing.join(",")
            )));
        }
        if matches!(cmd, Command::Add | Command::Check | Command::Del) {
            check_container_id(&env.container_id)?;
            check_ifname(&env.ifname)?;
        }
        Ok((cmd, env))
    }
}

/// A container ID as the spec allows: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn check_container_id(id: &str) -> Result<(), CniError> {
    let mut chars = id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CniError::invalid_env(format!(
            "invalid characters in CNI_CONTAINERID {id:?}: expected [a-zA-Z0-9][a-zA-Z0-9_.-]*"
        )))
    }
}

/// An interface name the kernel accepts.
pub fn check_ifname(name: &str) -> Result<(), CniError> {
    let problem = if name.len() > MAX_IFNAME_LEN {
        Some(format!("is longer than {MAX_IFNAME_LEN} characters"))
    } else if name == "." || name == ".." {
        Some("is a relative path".to_string())
    } else if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        Some("contains '/', ':' or whitespace".to_string())
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(CniError::invalid_env(format!(
            "invalid CNI_IFNAME {name:?}: {p}"
        ))),
    }
}

/// `CNI_ARGS` as Calico reads it (`types.K8sArgs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CniArgs {
    pub k8s_pod_name: String,
    pub k8s_pod_namespace: String,
    pub k8s_pod_infra_container_id: String,
    /// `IP`: the address calico-ipam must assign.
    pub ip: Option<std::net::IpAddr>,
    pub other: BTreeMap<String, String>,
}

impl CniArgs {
    /// Parse `K=V;K=V`. Unknown keys are an error unless `IgnoreUnknown` is true, as in libcni.
    pub fn parse(s: &str) -> Result<Self, CniError> {
        let mut out = CniArgs::default();
        let mut ignore_unknown = false;
        let mut unknown = Vec::new();
        for pair in s.split(';').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(CniError::invalid_env(format!(
                    "CNI_ARGS: invalid pair {pair:?}: expected KEY=VALUE"
                )));
            };
            match k {
                "IgnoreUnknown" => ignore_unknown = matches!(v, "1" | "true" | "True" | "TRUE"),
                "K8S_POD_NAME" => out.k8s_pod_name = v.into(),
                "K8S_POD_NAMESPACE" => out.k8s_pod_namespace = v.into(),
                "K8S_POD_INFRA_CONTAINER_ID" => out.k8s_pod_infra_container_id = v.into(),
                "IP" => {
                    out.ip = Some(v.parse().map_err(|_| {
                        CniError::invalid_env(format!("CNI_ARGS: IP {v:?} is not an IP address"))
                    })?)
                }
                _ => {
                    unknown.push(k.to_string());
                    out.other.insert(k.into(), v.into());
                }
            }
        }
        // Keys other plugins define; libcni ignores them for Calico too.
        unknown.retain(|k| !matches!(k.as_str(), "K8S_POD_UID" | "CNI_TEST_NAMESPACE"));
        if !unknown.is_empty() && !ignore_unknown {
            return Err(CniError::invalid_env(format!(
                "CNI_ARGS: unknown args {unknown:?}"
            )));
        }
        Ok(out)
    }

    /// Whether the invocation is for a Kubernetes pod.
    pub fn is_k8s(&self) -> bool {
        !self.k8s_pod_name.is_empty() && !self.k8s_pod_namespace.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<(Command, CniEnv), CniError> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CniEnv::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn required_variables() {
        assert_eq!(env(&[]).unwrap_err().code, 4);
        let e = env(&[("CNI_COMMAND", "ADD")]).unwrap_err();
        assert_eq!(e.code, 4);
        assert!(
            e.msg.contains("CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME"),
            "{e:?}"
        );
        let e = env(&[
            ("CNI_COMMAND", "ADD"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth0"),
        ])
        .unwrap_err();
        assert!(e.msg.contains("[CNI_NETNS]"), "{e:?}");
        let (cmd, _) = env(&[
            ("CNI_COMMAND", "DEL"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth0"),
        ])
        .unwrap();
        assert_eq!(cmd, Command::Del);
        assert_eq!(
            env(&[("CNI_COMMAND", "VERSION")]).unwrap().0,
            Command::Version
        );
        assert_eq!(env(&[("CNI_COMMAND", "FROB")]).unwrap_err().code, 4);
    }

    #[test]
    fn ifname_and_container_id() {
        let base = [
            ("CNI_COMMAND", "ADD"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_NETNS", "/x"),
        ];
        let mut long = base.to_vec();
        long.push(("CNI_IFNAME", "a23456789012345x"));
        let e = env(&long).unwrap_err();
        assert_eq!(e.code, 4);
        assert!(e.msg.contains("longer than 15"), "{e:?}");
        let mut ok = base.to_vec();
        ok.push(("CNI_IFNAME", "a23456789012345"));
        env(&ok).unwrap();
        for bad in [".", "a/b", "a:b", "a b"] {
            assert!(check_ifname(bad).is_err(), "{bad}");
        }
        assert!(check_container_id("-x").is_err());
        assert!(check_container_id("abc_1.2-3").is_ok());
    }

    #[test]
    fn k8s_args() {
        let a = CniArgs::parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc;FOO=bar").unwrap();
        assert!(a.is_k8s());
        assert_eq!(a.k8s_pod_name, "web-0");
        let e = CniArgs::parse("FOO=bar").unwrap_err();
        assert_eq!(e.code, 4);
        assert_eq!(
            CniArgs::parse("IP=10.0.0.9")
                .unwrap()
                .ip
                .unwrap()
                .to_string(),
            "10.0.0.9"
        );
        assert!(CniArgs::parse("IP=nope").is_err());
        assert!(CniArgs::parse("novalue").is_err());
        assert!(!CniArgs::parse("").unwrap().is_k8s());
    }
}
