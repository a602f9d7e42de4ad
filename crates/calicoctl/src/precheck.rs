//! All-or-nothing input checking, calico-rs' improvement over Calico: before a multi-document
//! `create`/`apply`/`replace` writes anything, every document is decoded, defaulted and
//! validated, and every policy's tier is resolved (in the datastore, among the tiers Calico
//! creates itself, or created earlier in the same input). Any problem stops the command with
//! every error listed by document, kind, name and field path; nothing is written.
//!
//! Failures that only the datastore can decide at write time (a duplicate on `create`, a stale
//! resourceVersion on `replace`) are reported afterwards, Calico-style, by the commands.

use std::collections::HashSet;

use calico_api::Resource;
use calico_client::{Client, ClientError, DEFAULT_TIERS};

use crate::input::{Doc, DocError};
use crate::session::handle_resource_namespace;

/// Which command the documents are for (the checks differ slightly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Apply,
    Replace,
    Delete,
    Get,
    Validate,
}

impl Action {
    fn writes(self) -> bool {
        matches!(self, Self::Create | Self::Apply | Self::Replace)
    }

    /// The operation name in Calico's "operation X is not supported" errors.
    fn operation(self) -> &'static str {
        match self {
            Self::Create => "create or apply",
            Self::Apply => "apply",
            Self::Replace => "apply or replace",
            Self::Delete => "delete",
            Self::Get | Self::Validate => "get",
        }
    }
}

/// A document that passed the checks.
#[derive(Debug)]
pub struct Checked {
    /// `document N` or `FILE document N`, for messages.
    pub label: String,
    pub resource: Resource,
}

/// The error lines of rejected input, and how many documents were looked at.
#[derive(Debug)]
pub struct Rejected {
    pub lines: Vec<String>,
    pub invalid_docs: usize,
    pub total_docs: usize,
}

impl Rejected {
    /// The lines, then a summary naming the command, e.g. `Failed to create any resources: 1
    /// of 3 documents is invalid; nothing was written`.
    pub fn message(&self, summary_prefix: &str, consequence: &str) -> String {
        let verb = if self.invalid_docs == 1 { "is" } else { "are" };
        let mut out = self.lines.join("\n");
        out.push_str(&format!(
            "\n{summary_prefix}: {} of {} documents {verb} invalid{consequence}",
            self.invalid_docs, self.total_docs
        ));
        out
    }
}

fn label(doc: &Doc, several_sources: bool) -> String {
    if several_sources {
        format!("{} document {}", doc.source, doc.index)
    } else {
        format!("document {}", doc.index)
    }
}

fn who(r: &Resource) -> String {
    let name = r.display_name();
    if name.is_empty() {
        format!("{} (no name)", r.kind())
    } else {
        format!("{} {name}", r.kind())
    }
}

/// Decode, namespace, default and validate every document without touching a datastore.
pub fn prepare_all(
    docs: Vec<Doc>,
    cli_ns: Option<&str>,
    all_namespaces: bool,
    action: Action,
) -> Result<Vec<Checked>, Rejected> {
    let several_sources = docs
        .iter()
        .map(|d| d.source.as_str())
        .collect::<HashSet<_>>()
        .len()
        > 1;
    let total_docs = docs.len();
    let mut ok = Vec::with_capacity(docs.len());
    let mut lines = Vec::new();
    let mut invalid_docs = 0;
    for doc in docs {
        let label = label(&doc, several_sources);
        let before = lines.len();
        match doc.resource {
            Err(DocError::Field {
                kind,
                name,
                path,
                message,
            }) => lines.push(format!(
                "error in {label} ({kind} {name}): {path}: {message}"
            )),
            Err(DocError::Syntax(m) | DocError::Other(m)) => {
                lines.push(format!("error in {label}: {m}"));
            }
            Ok(mut r) => {
                if let Err(m) = handle_resource_namespace(&mut r, cli_ns, all_namespaces) {
                    lines.push(format!("error in {label} ({}): {m}", who(&r)));
                } else if let Some(m) = unsupported(&r, action) {
                    lines.push(format!("error in {label} ({}): {m}", who(&r)));
                } else if (action.writes() || action == Action::Validate)
                    && let Err(e) = calico_client::prepare(&mut r)
                {
                    let w = who(&r);
                    lines.extend(
                        e.errors
                            .iter()
                            .map(|fe| format!("error in {label} ({w}): {fe}")),
                    );
                }
                if lines.len() == before {
                    ok.push(Checked { label, resource: r });
                }
            }
        }
        if lines.len() > before {
            invalid_docs += 1;
        }
    }
    if lines.is_empty() {
        Ok(ok)
    } else {
        Err(Rejected {
            lines,
            invalid_docs,
            total_docs,
        })
    }
}

/// Operations Calico refuses for some resources whatever their content.
pub fn unsupported(r: &Resource, action: Action) -> Option<String> {
    if matches!(action, Action::Get | Action::Validate) {
        return None;
    }
    if matches!(r, Resource::ClusterInformation(_)) {
        let reason = if action == Action::Apply {
            ": resource is readonly"
        } else {
            ""
        };
        return Some(format!(
            "operation {} is not supported on ClusterInformation{reason}",
            action.operation()
        ));
    }
    if matches!(r, Resource::NetworkPolicy(_)) && r.name().starts_with("knp.default.") {
        return Some(format!(
            "operation {} is not supported on NetworkPolicy({}): kubernetes network policies \
             must be managed through the kubernetes API",
            action.operation(),
            r.display_name()
        ));
    }
    None
}

/// The tier a policy belongs to (`default` when unset), or `None` for other kinds.
pub fn policy_tier(r: &Resource) -> Option<String> {
    let is_policy = matches!(
        r,
        Resource::NetworkPolicy(_)
            | Resource::GlobalNetworkPolicy(_)
            | Resource::StagedNetworkPolicy(_)
            | Resource::StagedGlobalNetworkPolicy(_)
    );
    if !is_policy {
        return None;
    }
    let tier = r
        .to_value()
        .pointer("/spec/tier")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    Some(tier)
}

/// Every policy's tier must exist in the datastore, be one Calico creates itself, or be
/// created by an earlier document of the same input. `Err` when the datastore cannot be asked.
pub fn check_tiers(client: &Client, checked: &[Checked]) -> anyhow::Result<Option<Rejected>> {
    let tier_kind = calico_api::find_kind("Tier", None)
        .ok_or_else(|| anyhow::anyhow!("internal error: Tier is not a registered kind"))?;
    let mut declared: HashSet<String> = DEFAULT_TIERS
        .iter()
        .map(|(n, _, _)| n.to_string())
        .collect();
    let mut known_present: HashSet<String> = HashSet::new();
    let mut lines = Vec::new();
    let mut invalid_docs = 0;
    for c in checked {
        if let Resource::Tier(_) = c.resource {
            declared.insert(c.resource.name().to_string());
            continue;
        }
        let Some(tier) = policy_tier(&c.resource) else {
            continue;
        };
        if declared.contains(&tier) || known_present.contains(&tier) {
            continue;
        }
        match client.get(tier_kind, "", &tier) {
            Ok(_) => {
                known_present.insert(tier);
            }
            Err(ClientError::NotFound { .. }) => {
                invalid_docs += 1;
                lines.push(format!(
                    "error in {} ({}): spec.tier: tier {tier:?} does not exist: create the \
                     Tier first (earlier in the same input or beforehand)",
                    c.label,
                    who(&c.resource)
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((!lines.is_empty()).then_some(Rejected {
        lines,
        invalid_docs,
        total_docs: checked.len(),
    }))
}

/// A client over an empty in-memory store, for tests of the checks.
#[cfg(test)]
pub fn offline_client() -> Client {
    Client::new(std::sync::Arc::new(calico_datastore::MemoryBackend::new()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::input::decode_text;

    const TIER: &str =
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: t1\nspec:\n  order: 10\n";
    const POLICY: &str = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: t1.p\nspec:\n  tier: t1\n  selector: all()\n";

    fn check(text: &str, action: Action) -> Result<Vec<Checked>, Rejected> {
        prepare_all(decode_text("in", text), None, false, action)
    }

    #[test]
    fn every_bad_document_is_listed() {
        let text = format!(
            "{TIER}---\napiVersion: projectcalico.org/v3\nkind: Nope\n---\n{}---\nmetadata: {{}}\n",
            TIER.replace("t1", "T1")
        );
        let r = check(&text, Action::Create).unwrap_err();
        assert_eq!((r.invalid_docs, r.total_docs), (3, 4));
        assert!(
            r.lines[0].starts_with("error in document 2: unknown kind \"Nope\""),
            "{:?}",
            r.lines
        );
        assert!(
            r.lines[1].starts_with("error in document 3 (Tier T1): metadata.name:"),
            "{:?}",
            r.lines
        );
        assert!(
            r.lines[2].starts_with("error in document 4: the document has no `kind`"),
            "{:?}",
            r.lines
        );
        let msg = r.message("Failed to create any resources", "; nothing was written");
        assert!(msg.ends_with(
            "Failed to create any resources: 3 of 4 documents are invalid; nothing was written"
        ));
    }

    #[test]
    fn defaults_and_namespace_are_filled_in() {
        let ns = "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: s\n";
        let ok = check(ns, Action::Apply).unwrap();
        assert_eq!(ok[0].resource.namespace(), "default");
        assert_eq!(ok[0].label, "document 1");
    }

    #[test]
    fn tiers_resolve_from_input_store_or_defaults() {
        let client = offline_client();
        // Declared earlier in the same input.
        let ok = check(&format!("{TIER}---\n{POLICY}"), Action::Create).unwrap();
        assert!(check_tiers(&client, &ok).unwrap().is_none());
        // Declared later: rejected.
        let late = check(&format!("{POLICY}---\n{TIER}"), Action::Create).unwrap();
        let r = check_tiers(&client, &late).unwrap().unwrap();
        assert!(
            r.lines[0].contains("spec.tier: tier \"t1\" does not exist"),
            "{:?}",
            r.lines
        );
        // In the store.
        let tier = check(TIER, Action::Create).unwrap().pop().unwrap().resource;
        client.create(tier).unwrap();
        let alone = check(POLICY, Action::Create).unwrap();
        assert!(check_tiers(&client, &alone).unwrap().is_none());
        // A tier Calico creates itself.
        let kube = check(&POLICY.replace("t1", "kube-admin"), Action::Create).unwrap();
        assert!(check_tiers(&offline_client(), &kube).unwrap().is_none());
    }

    #[test]
    fn cluster_information_is_read_only_for_writes() {
        let ci = "apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\n";
        let r = check(ci, Action::Apply).unwrap_err();
        assert!(r.lines[0].contains(
            "operation apply is not supported on ClusterInformation: resource is readonly"
        ));
        assert!(check(ci, Action::Validate).is_ok());
        assert!(check(ci, Action::Get).is_ok());
    }
}
