//! WorkloadEndpoint names, as Calico builds and parses them (`libcalico-go/lib/names`).
//!
//! A name joins its identifiers with `-`, each identifier having its own dashes doubled:
//! - `k8s`: `<node>-k8s-<pod>-<endpoint>`
//! - `cni`: `<node>-cni-<containerID>-<endpoint>`
//! - `libnetwork`: `<node>-libnetwork-libnetwork-<endpoint>`
//! - other orchestrators: `<node>-<orchestrator>-<workload>-<endpoint>`
//!
//! So node `node-1`, pod `web-0`, endpoint `eth0` is `node--1-k8s-web--0-eth0`.

/// Problems building or parsing a WorkloadEndpoint name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{field} must be set to build the WorkloadEndpoint name")]
    Missing { field: &'static str },
    #[error("{field} {value:?} must not begin with '-'")]
    LeadingDash { field: &'static str, value: String },
    #[error("{field} {value:?} must not end with '-'")]
    TrailingDash { field: &'static str, value: String },
    #[error("cannot parse an empty WorkloadEndpoint name")]
    Empty,
    #[error("{name:?} has too many '-'-separated parts for a WorkloadEndpoint name")]
    TooManyParts { name: String },
}

/// The identifiers a WorkloadEndpoint name is made of. Which of `pod`, `container_id` and
/// `workload` is used depends on the orchestrator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadEndpointIdentifiers {
    pub node: String,
    pub orchestrator: String,
    pub endpoint: String,
    pub workload: String,
    pub pod: String,
    pub container_id: String,
}

struct Segment<'a> {
    value: &'a str,
    field: &'static str,
}

impl WorkloadEndpointIdentifiers {
    /// Identifiers of a Kubernetes pod's endpoint.
    pub fn k8s(node: &str, pod: &str, endpoint: &str) -> Self {
        WorkloadEndpointIdentifiers {
            node: node.into(),
            orchestrator: "k8s".into(),
            pod: pod.into(),
            endpoint: endpoint.into(),
            ..Self::default()
        }
    }

    fn segments(&self) -> Result<[Segment<'_>; 4], NameError> {
        if self.node.is_empty() {
            return Err(NameError::Missing { field: "node" });
        }
        let node = Segment {
            value: &self.node,
            field: "node",
        };
        let orch = Segment {
            value: &self.orchestrator,
            field: "orchestrator",
        };
        let third = match self.orchestrator.as_str() {
            "k8s" => Segment {
                value: &self.pod,
                field: "pod",
            },
            "cni" => Segment {
                value: &self.container_id,
                field: "containerID",
            },
            "libnetwork" => Segment {
                value: &self.orchestrator,
                field: "orchestrator",
            },
            _ => Segment {
                value: &self.workload,
                field: "workload",
            },
        };
        let endpoint = Segment {
            value: &self.endpoint,
            field: "endpoint",
        };
        Ok([node, orch, third, endpoint])
    }

    /// The full name; every identifier the orchestrator needs must be set.
    pub fn name(&self) -> Result<String, NameError> {
        let mut parts = Vec::with_capacity(4);
        for s in self.segments()? {
            if s.value.is_empty() {
                return Err(NameError::Missing { field: s.field });
            }
            parts.push(escape_dashes(s.value, s.field)?);
        }
        Ok(parts.join("-"))
    }

    /// The name prefix up to the first unset identifier, ending in `-` (the whole name when
    /// all are set). For prefix listing; check results with [`Self::name_matches`].
    pub fn name_prefix(&self) -> Result<String, NameError> {
        let mut parts = Vec::with_capacity(4);
        for s in self.segments()? {
            if s.value.is_empty() {
                return Ok(format!("{}-", parts.join("-")));
            }
            parts.push(escape_dashes(s.value, s.field)?);
        }
        Ok(parts.join("-"))
    }

    /// Whether `name` is a WorkloadEndpoint name matching every identifier that is set.
    pub fn name_matches(&self, name: &str) -> Result<bool, NameError> {
        let segments = self.segments()?;
        let Some(parts) = split_name(name, segments.len()) else {
            return Ok(false);
        };
        Ok(segments
            .iter()
            .zip(&parts)
            .all(|(s, p)| s.value.is_empty() || s.value == p))
    }
}

/// Double every dash of one identifier; it may not begin or end with a dash.
pub fn escape_dashes(value: &str, field: &'static str) -> Result<String, NameError> {
    if value.starts_with('-') {
        return Err(NameError::LeadingDash {
            field,
            value: value.into(),
        });
    }
    if value.ends_with('-') {
        return Err(NameError::TrailingDash {
            field,
            value: value.into(),
        });
    }
    Ok(value.replace('-', "--"))
}

/// Split a name at its single dashes and undo the escaping of doubled ones. The first
/// character is never a separator.
fn extract_parts(name: &str) -> Vec<String> {
    let bytes = name.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'-' {
            if bytes.get(i + 1) == Some(&b'-') {
                i += 2;
                continue;
            }
            parts.push(name[start..i].replace("--", "-"));
            start = i + 1;
        }
        i += 1;
    }
    parts.push(name.get(start..).unwrap_or_default().replace("--", "-"));
    parts
}

/// The `count` unescaped identifiers of `name`, or `None` if it has a different number.
pub fn split_name(name: &str, count: usize) -> Option<Vec<String>> {
    if name.len() < (2 * count).saturating_sub(1) {
        return None;
    }
    let parts = extract_parts(name);
    (parts.len() == count).then_some(parts)
}

/// Parse a WorkloadEndpoint name into its identifiers (as many as it has).
pub fn parse_workload_endpoint_name(name: &str) -> Result<WorkloadEndpointIdentifiers, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let parts = extract_parts(name);
    let mut ids = WorkloadEndpointIdentifiers {
        node: parts.first().cloned().unwrap_or_default(),
        ..WorkloadEndpointIdentifiers::default()
    };
    let Some(orch) = parts.get(1) else {
        return Ok(ids);
    };
    ids.orchestrator = orch.clone();
    let rest = parts.get(2..).unwrap_or_default();
    if rest.len() > 2 {
        return Err(NameError::TooManyParts { name: name.into() });
    }
    if let Some(third) = rest.first() {
        match orch.as_str() {
            "k8s" => ids.pod = third.clone(),
            "cni" => ids.container_id = third.clone(),
            "libnetwork" => {}
            _ => ids.workload = third.clone(),
        }
    }
    if let Some(endpoint) = rest.get(1) {
        ids.endpoint = endpoint.clone();
    }
    Ok(ids)
}
