//! What Calico's client does beyond plain storage: the objects created on first use
//! (ClusterInformation with a cluster GUID, the well-known tiers), reference checks (a policy's
//! tier must exist), immutable fields and delete guards.

use calico_api::{KindInfo, Resource, find_kind};
use serde_json::{Value, json};

use crate::{Client, ClientError, Result, key_for};

/// The version calico-rs reports as `calicoVersion`.
pub const CALICO_RS_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"), "-calico-rs");

/// The tiers Calico creates at start-up: name, order, defaultAction.
pub const DEFAULT_TIERS: [(&str, f64, &str); 3] = [
    ("kube-admin", 1_000.0, "Pass"),
    ("default", 1_000_000.0, "Deny"),
    ("kube-baseline", 10_000_000.0, "Pass"),
];

fn kind(name: &str) -> Result<&'static KindInfo> {
    find_kind(name, None)
        .ok_or_else(|| ClientError::Config(format!("internal: kind {name} is not registered")))
}

fn invalid(r: &Resource, errors: Vec<calico_api::FieldError>) -> ClientError {
    ClientError::Invalid(calico_api::ValidationError {
        kind: r.kind().into(),
        name: r.display_name(),
        errors,
    })
}

fn decode_builtin(v: Value) -> Result<Resource> {
    Resource::from_value(v).map_err(|e| ClientError::Config(format!("internal: {e}")))
}

/// The spec field `field` of a resource, as JSON.
fn spec_field(r: &Resource, field: &str) -> Option<Value> {
    r.to_value().get("spec")?.get(field).cloned()
}

impl Client {
    /// Create ClusterInformation `default` (with a fresh cluster GUID) and the well-known tiers
    /// when they are missing. Safe to call from many processes at once.
    pub fn ensure_initialized(&self) -> Result<Resource> {
        for (name, order, action) in DEFAULT_TIERS {
            let tier = decode_builtin(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "Tier",
                "metadata": {"name": name},
                "spec": {"order": order, "defaultAction": action},
            }))?;
            self.create_if_missing(tier)?;
        }
        self.ensure_cluster_information()
    }

    /// ClusterInformation `default`, created on first use.
    pub fn ensure_cluster_information(&self) -> Result<Resource> {
        let info = kind("ClusterInformation")?;
        match self.get(info, "", "default") {
            Ok(r) => return Ok(r),
            Err(ClientError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let guid: String = rand::random::<[u8; 16]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let ci = decode_builtin(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "ClusterInformation",
            "metadata": {"name": "default"},
            "spec": {
                "clusterGUID": guid,
                "clusterType": "calico-rs",
                "calicoVersion": CALICO_RS_VERSION,
                "datastoreReady": true,
            },
        }))?;
        self.create_if_missing(ci)?;
        self.get(info, "", "default")
    }

    fn create_if_missing(&self, r: Resource) -> Result<()> {
        match self.create(r) {
            Ok(_) | Err(ClientError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// References that must resolve before a write: a policy's tier must exist.
    pub(crate) fn check_references(&self, r: &Resource) -> Result<()> {
        let is_policy = matches!(
            r,
            Resource::NetworkPolicy(_)
                | Resource::GlobalNetworkPolicy(_)
                | Resource::StagedNetworkPolicy(_)
                | Resource::StagedGlobalNetworkPolicy(_)
        );
        if !is_policy {
            return Ok(());
        }
        let tier = spec_field(r, "tier")
            .and_then(|v| v.as_str().map(str::to_string))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        let tier_kind = kind("Tier")?;
        if self
            .backend()
            .get(&key_for(tier_kind, "", &tier))?
            .is_some()
        {
            return Ok(());
        }
        if DEFAULT_TIERS.iter().any(|(n, _, _)| *n == tier) {
            // The well-known tiers are created on demand, as calico-node would have.
            self.ensure_initialized()?;
            return Ok(());
        }
        Err(ClientError::Precondition {
            kind: r.kind().into(),
            name: r.display_name(),
            message: format!("spec.tier: tier {tier:?} does not exist: create the Tier first"),
        })
    }

    /// Fields that cannot change once created (an IPPool's cidr and blockSize).
    pub(crate) fn check_immutable(&self, stored: &Resource, new: &Resource) -> Result<()> {
        if let (Resource::IPPool(old), Resource::IPPool(now)) = (stored, new) {
            let errors = calico_api::check_ippool_update(old, now);
            if !errors.is_empty() {
                return Err(invalid(new, errors));
            }
        }
        Ok(())
    }

    /// An IPPool's CIDR must not overlap another pool's (Calico rejects overlapping pools).
    pub(crate) fn check_overlap(&self, r: &Resource) -> Result<()> {
        let Resource::IPPool(pool) = r else {
            return Ok(());
        };
        let (existing, _) = self.list(kind("IPPool")?, None)?;
        let pools: Vec<calico_api::IPPool> = existing
            .into_iter()
            .filter_map(|p| match p {
                Resource::IPPool(p) => Some(p),
                _ => None,
            })
            .collect();
        let errors = calico_api::check_ippool_overlap(pool, &pools);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(r, errors))
        }
    }

    /// Deletes Calico refuses: the `default` tier, and tiers that still hold policies.
    pub(crate) fn check_delete(&self, info: &KindInfo, _namespace: &str, name: &str) -> Result<()> {
        if info.kind != "Tier" || !info.is_calico() {
            return Ok(());
        }
        let refuse = |message: String| ClientError::Precondition {
            kind: "Tier".into(),
            name: name.into(),
            message,
        };
        if name == "default" {
            return Err(refuse("the default tier cannot be deleted".into()));
        }
        let mut holders = 0usize;
        for k in [
            "NetworkPolicy",
            "GlobalNetworkPolicy",
            "StagedNetworkPolicy",
            "StagedGlobalNetworkPolicy",
        ] {
            let (items, _) = self.list(kind(k)?, None)?;
            holders += items
                .iter()
                .filter(|p| {
                    spec_field(p, "tier").and_then(|v| v.as_str().map(str::to_string))
                        == Some(name.to_string())
                })
                .count();
        }
        if holders > 0 {
            return Err(refuse(format!(
                "the tier still contains {holders} policies: delete them first"
            )));
        }
        Ok(())
    }
}
