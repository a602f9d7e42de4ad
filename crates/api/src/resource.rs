//! The [`Kind`] trait every resource type implements, the [`Resource`] enum over all of them and
//! the table of kinds ([`KINDS`]) that the codec, the datastore client and calicoctl look up.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, ValidationError};
use crate::kinds::*;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

pub const CALICO_API_VERSION: &str = "projectcalico.org/v3";
pub const K8S_NETWORKING_API_VERSION: &str = "networking.k8s.io/v1";
pub const K8S_CORE_API_VERSION: &str = "v1";

/// How `metadata.name` is validated for a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// DNS-1123 subdomain, at most 253 characters (the default).
    Subdomain,
    /// DNS-1123 label, at most 63 characters, no dots (tiers, namespaces).
    Label,
    /// `label`, `label.label`, or `knp.default.<subdomain>` / `ossg.default.<subdomain>`.
    NetworkPolicy,
    /// `label` or `label.label`.
    GlobalNetworkPolicy,
}

/// Static facts about a resource type.
pub trait Kind: Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq {
    const KIND: &'static str;
    const API_VERSION: &'static str;
    /// Lower-case plural, used in datastore keys and as a calicoctl alias.
    const PLURAL: &'static str;
    const NAMESPACED: bool;
    const NAME_RULE: NameRule = NameRule::Subdomain;

    fn metadata(&self) -> &ObjectMeta;
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
    /// Fill in defaults the way Calico's API server does on create/update.
    fn apply_defaults(&mut self) {}
    /// Validate everything but `metadata.name`/`namespace`/labels (checked generically).
    fn validate_fields(&self, _v: &mut Validator) {}
}

/// Implements the boilerplate of [`Kind`] for a struct with a `metadata` field; the struct must
/// have inherent `fn defaults(&mut self)` and `fn check(&self, v: &mut Validator)`.
#[macro_export]
macro_rules! impl_kind {
    ($ty:ty, kind: $kind:expr, api_version: $api:expr, plural: $plural:expr,
     namespaced: $ns:expr $(, name_rule: $rule:expr)? $(,)?) => {
        impl $crate::resource::Kind for $ty {
            const KIND: &'static str = $kind;
            const API_VERSION: &'static str = $api;
            const PLURAL: &'static str = $plural;
            const NAMESPACED: bool = $ns;
            $(const NAME_RULE: $crate::resource::NameRule = $rule;)?
            fn metadata(&self) -> &$crate::meta::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut $crate::meta::ObjectMeta {
                &mut self.metadata
            }
            fn apply_defaults(&mut self) {
                self.defaults()
            }
            fn validate_fields(&self, v: &mut $crate::validate::Validator) {
                self.check(v)
            }
        }
    };
}

/// Facts about one kind, usable without a value of it.
#[derive(Debug)]
pub struct KindInfo {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    decode: fn(serde_json::Value) -> Result<Resource, DecodeError>,
}

impl KindInfo {
    /// Decode the body of a document (without `apiVersion`/`kind`) into this kind.
    pub fn decode(&self, body: serde_json::Value) -> Result<Resource, DecodeError> {
        (self.decode)(body)
    }

    /// True for the `projectcalico.org/v3` kinds.
    pub fn is_calico(&self) -> bool {
        self.api_version == CALICO_API_VERSION
    }
}

fn decode_typed<K: Kind>(body: serde_json::Value) -> Result<K, DecodeError> {
    let name = body
        .get("metadata")
        .and_then(|m| {
            let name = m.get("name")?.as_str()?;
            Some(match m.get("namespace").and_then(|n| n.as_str()) {
                Some(ns) if K::NAMESPACED && !ns.is_empty() => format!("{ns}/{name}"),
                _ => name.to_string(),
            })
        })
        .unwrap_or_default();
    serde_path_to_error::deserialize::<_, K>(body).map_err(|e| {
        let path = e.path().to_string();
        DecodeError::Field {
            kind: K::KIND.to_string(),
            name: if name.is_empty() {
                "(no name)".into()
            } else {
                name
            },
            path: if path == "." {
                "(document)".into()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}

fn check_meta<K: Kind>(r: &K, v: &mut Validator) {
    let meta = r.metadata();
    v.field("metadata", |v| {
        v.field("name", |v| {
            if meta.name.is_empty() {
                v.error("a name is required");
            } else {
                check_name(K::NAME_RULE, &meta.name, v);
            }
        });
        v.field("namespace", |v| {
            if K::NAMESPACED {
                if !meta.namespace.is_empty() {
                    v.check_dns_label(&meta.namespace);
                }
            } else if !meta.namespace.is_empty() {
                v.error(format!(
                    "{} is not namespaced: remove the namespace {:?}",
                    K::KIND,
                    meta.namespace
                ));
            }
        });
        v.field("labels", |v| v.check_labels(&meta.labels));
        v.field("annotations", |v| {
            let mut total = 0usize;
            for (k, val) in &meta.annotations {
                total += k.len() + val.len();
                if let Err(msg) = crate::validate::label_key_problem(k) {
                    v.key(k, |v| v.error(msg.replace("label key", "annotation key")));
                }
            }
            if total > MAX_ANNOTATIONS_BYTES {
                v.error(format!(
                    "annotations total {total} bytes: expected at most {MAX_ANNOTATIONS_BYTES} \
                     (256 KiB)"
                ));
            }
        });
    });
}

/// The largest total size of `metadata.annotations` (keys plus values), as in Kubernetes.
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// A DNS label's characters without its 63-character limit (policy name parts).
fn is_label_chars(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !part.starts_with('-')
        && !part.ends_with('-')
}

fn check_name(rule: NameRule, name: &str, v: &mut Validator) {
    use crate::validate::{is_dns_label, is_dns_subdomain};
    let ok = match rule {
        NameRule::Subdomain => is_dns_subdomain(name),
        NameRule::Label => is_dns_label(name),
        NameRule::GlobalNetworkPolicy => {
            let parts: Vec<&str> = name.split('.').collect();
            name.len() <= 253 && parts.len() <= 2 && parts.iter().all(|p| is_label_chars(p))
        }
        NameRule::NetworkPolicy => {
            let parts: Vec<&str> = name.split('.').collect();
            name.len() <= 253
                && ((parts.len() <= 2 && parts.iter().all(|p| is_label_chars(p)))
                    || ["knp.default.", "ossg.default."]
                        .iter()
                        .any(|p| name.strip_prefix(p).is_some_and(is_dns_subdomain)))
        }
    };
    if !ok {
        let expected = match rule {
            NameRule::Subdomain => {
                "lower-case alphanumerics, '-' and '.', starting and ending with an \
                 alphanumeric, at most 253 characters"
            }
            NameRule::Label => {
                "lower-case alphanumerics and '-', starting and ending with an alphanumeric, \
                 at most 63 characters"
            }
            NameRule::GlobalNetworkPolicy | NameRule::NetworkPolicy => {
                "lower-case alphanumerics and '-' (starting and ending with an alphanumeric), \
                 optionally prefixed by a tier name and '.', at most 253 characters"
            }
        };
        v.error(format!("{name:?} is not a valid name: expected {expected}"));
    }
}

macro_rules! resources {
    ($($variant:ident),* $(,)?) => {
        /// Any resource calico-rs knows.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Resource {
            $($variant($variant),)*
        }

        /// Every kind, in the order calicoctl lists them.
        pub static KINDS: &[KindInfo] = &[
            $(KindInfo {
                kind: <$variant as Kind>::KIND,
                api_version: <$variant as Kind>::API_VERSION,
                plural: <$variant as Kind>::PLURAL,
                namespaced: <$variant as Kind>::NAMESPACED,
                decode: |body| decode_typed::<$variant>(body).map(Resource::$variant),
            },)*
        ];

        impl Resource {
            /// The static facts about this resource's kind.
            pub fn info(&self) -> &'static KindInfo {
                let idx = match self {
                    $(Resource::$variant(_) => KindIndex::$variant as usize,)*
                };
                &KINDS[idx]
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Resource::$variant(r) => r.metadata(),)*
                }
            }

            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Resource::$variant(r) => r.metadata_mut(),)*
                }
            }

            /// Fill in Calico's defaults.
            pub fn apply_defaults(&mut self) {
                match self {
                    $(Resource::$variant(r) => r.apply_defaults(),)*
                }
            }

            /// Check every field; all problems are reported together.
            pub fn validate(&self) -> Result<(), ValidationError> {
                let mut v = Validator::new();
                match self {
                    $(Resource::$variant(r) => {
                        check_meta(r, &mut v);
                        r.validate_fields(&mut v);
                    })*
                }
                if v.has_errors() {
                    Err(ValidationError {
                        kind: self.kind().to_string(),
                        name: self.display_name(),
                        errors: v.into_errors(),
                    })
                } else {
                    Ok(())
                }
            }

            /// The body without `apiVersion`/`kind` (metadata, spec, ...), as JSON.
            fn body_value(&self) -> serde_json::Result<serde_json::Value> {
                match self {
                    $(Resource::$variant(r) => serde_json::to_value(r),)*
                }
            }
        }

        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum KindIndex {
            $($variant,)*
        }
    };
}

resources!(
    IPPool,
    IPReservation,
    IPAMConfiguration,
    NetworkPolicy,
    GlobalNetworkPolicy,
    StagedNetworkPolicy,
    StagedGlobalNetworkPolicy,
    Tier,
    NetworkSet,
    GlobalNetworkSet,
    HostEndpoint,
    WorkloadEndpoint,
    Profile,
    BGPConfiguration,
    BGPPeer,
    BGPFilter,
    FelixConfiguration,
    Node,
    ClusterInformation,
    KubeControllersConfiguration,
    KubernetesNetworkPolicy,
    Namespace,
    Pod,
);

impl Resource {
    pub fn kind(&self) -> &'static str {
        self.info().kind
    }

    pub fn name(&self) -> &str {
        &self.metadata().name
    }

    pub fn namespace(&self) -> &str {
        &self.metadata().namespace
    }

    /// `name`, or `namespace/name` for namespaced kinds.
    pub fn display_name(&self) -> String {
        let m = self.metadata();
        if self.info().namespaced && !m.namespace.is_empty() {
            format!("{}/{}", m.namespace, m.name)
        } else {
            m.name.clone()
        }
    }

    /// The full document as JSON: `apiVersion`, `kind`, then the body in field order.
    pub fn to_value(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("apiVersion".into(), self.info().api_version.into());
        out.insert("kind".into(), self.kind().into());
        // Serializing our own types to JSON cannot fail (no non-string map keys, no
        // non-finite floats reach here: validation rejects them).
        if let Ok(serde_json::Value::Object(body)) = self.body_value() {
            out.extend(body);
        }
        serde_json::Value::Object(out)
    }

    /// Decode one document (a JSON value with `apiVersion` and `kind`).
    pub fn from_value(value: serde_json::Value) -> Result<Resource, DecodeError> {
        let serde_json::Value::Object(mut map) = value else {
            return Err(DecodeError::NotAMapping);
        };
        let kind = match map.remove("kind") {
            Some(serde_json::Value::String(k)) if !k.is_empty() => k,
            _ => return Err(DecodeError::MissingKind),
        };
        let api_version = match map.remove("apiVersion") {
            Some(serde_json::Value::String(a)) if !a.is_empty() => a,
            _ => {
                let expected = find_kind(&kind, None)
                    .map(|k| k.api_version)
                    .unwrap_or(CALICO_API_VERSION);
                return Err(DecodeError::MissingApiVersion {
                    expected: expected.into(),
                });
            }
        };
        let info =
            find_kind(&kind, Some(&api_version)).ok_or_else(|| match find_kind(&kind, None) {
                Some(other) => DecodeError::WrongApiVersion {
                    kind: kind.clone(),
                    found: api_version.clone(),
                    expected: other.api_version.into(),
                },
                None => DecodeError::UnknownKind {
                    kind: kind.clone(),
                    known: known_kinds(),
                },
            })?;
        info.decode(serde_json::Value::Object(map))
    }
}

/// Find a kind by its `kind` name and, when given, its `apiVersion`. Without an apiVersion the
/// Calico kind wins (`NetworkPolicy` is Calico's; the Kubernetes one needs its apiVersion).
pub fn find_kind(kind: &str, api_version: Option<&str>) -> Option<&'static KindInfo> {
    match api_version {
        Some(api) => KINDS
            .iter()
            .find(|k| k.kind == kind && k.api_version == api),
        None => KINDS
            .iter()
            .find(|k| k.kind == kind && k.is_calico())
            .or_else(|| KINDS.iter().find(|k| k.kind == kind)),
    }
}

fn known_kinds() -> String {
    KINDS.iter().map(|k| k.kind).collect::<Vec<_>>().join(", ")
}
