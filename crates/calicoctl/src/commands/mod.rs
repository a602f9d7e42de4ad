//! One module per verb. Each takes the parsed flags, does its work through
//! [`calico_client::Client`], prints its result to stdout and returns its failure (printed to
//! stderr by `main`).

pub mod crud;
pub mod delete;
pub mod explain;
pub mod get;
pub mod ipam;
pub mod label;
pub mod node;
pub mod patch;
pub mod validate;
pub mod version;

use anyhow::{Result, anyhow};
use calico_api::KindInfo;

use crate::kinds;
use crate::session::handle_namespace;

/// A resource named on the command line (or by a document of `-f` input).
#[derive(Debug, Clone)]
pub struct Target {
    pub info: &'static KindInfo,
    pub namespace: String,
    /// Empty for "every resource of the kind".
    pub name: String,
    /// The resourceVersion given in a document, if any.
    pub resource_version: Option<String>,
    /// Why the target cannot be acted on (a namespace rule it breaks); Calico reports this
    /// per resource, after acting on the others.
    pub problem: Option<String>,
}

impl Target {
    /// The target, or its problem as an error.
    pub fn usable(self) -> Result<Self> {
        match self.problem {
            Some(p) => Err(anyhow!(p)),
            None => Ok(self),
        }
    }
}

/// `<KIND> [<NAME>...]` with `-n`/`-A`: one target per name (one name-less target when there
/// are none and `list_without_names` is set). An unknown kind is an error; a namespace rule a
/// target breaks is recorded in [`Target::problem`].
pub fn targets_from_args(
    kind: &str,
    names: &[String],
    namespace: Option<&str>,
    all_namespaces: bool,
    list_without_names: bool,
) -> Result<Vec<Target>> {
    let info = kinds::resolve(kind)?;
    let mut names: Vec<String> = names.to_vec();
    if names.is_empty() && list_without_names {
        names.push(String::new());
    }
    if names.iter().any(|n| n.is_empty()) && !list_without_names {
        return Err(anyhow!("resource name may not be empty"));
    }
    names
        .into_iter()
        .map(|name| {
            let mut ns = String::new();
            let problem = handle_namespace(info, &mut ns, namespace, all_namespaces).err();
            Ok(Target {
                info,
                namespace: ns,
                name,
                resource_version: None,
                problem,
            })
        })
        .collect()
}
