//! `get [<KIND> [<NAME>...]] | -f FILE` with `-o ps|wide|yaml|json|custom-columns=...`.
//!
//! As in Calico: a KIND without names lists (one `<Kind>List` object), each NAME is fetched on
//! its own (one object each); failures are reported after whatever was found is printed.

use anyhow::{Result, anyhow, bail};
use calico_api::{Resource, find_kind};
use calico_client::{Client, ClientError};

use super::{Target, targets_from_args};
use crate::cli::GetArgs;
use crate::input;
use crate::log;
use crate::output::columns::Ctx;
use crate::output::{self, Format, Printable};
use crate::precheck::{self, Action};
use crate::session::Globals;
use crate::stdout;

pub fn run(g: &Globals, args: GetArgs) -> Result<()> {
    let format = Format::parse(&args.output)?;
    let ns = args.namespace.as_deref().filter(|s| !s.is_empty());
    let print_namespace = args.all_namespaces || ns.is_some();
    let (targets, names_given) = match (args.file.file_args(), &args.kind) {
        (Some(file), _) => {
            let docs =
                input::load(&file).map_err(|e| anyhow!("Failed to execute command: {e:#}"))?;
            let checked = precheck::prepare_all(docs, ns, args.all_namespaces, Action::Get)
                .map_err(|r| anyhow!(r.message("Failed to get resources", "")))?;
            let targets = checked
                .into_iter()
                .map(|c| Target {
                    info: c.resource.info(),
                    namespace: c.resource.namespace().to_string(),
                    name: c.resource.name().to_string(),
                    resource_version: None,
                    problem: None,
                })
                .collect::<Vec<_>>();
            (targets, false)
        }
        (None, Some(kind)) => (
            targets_from_args(kind, &args.names, ns, args.all_namespaces, true)
                .map_err(|e| anyhow!("Failed to get resources: {e}"))?,
            !args.names.is_empty(),
        ),
        (None, None) => bail!("Failed to get resources: No resources specified"),
    };

    let client = g.connect_checked()?;
    if targets
        .iter()
        .any(|t| t.info.kind == "ClusterInformation" && t.info.is_calico())
        && let Err(e) = client.ensure_cluster_information()
    {
        log::info(format_args!("cannot create ClusterInformation: {e}"));
    }

    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for t in &targets {
        match fetch(&client, t) {
            Ok(Printable::One(mut r)) if args.export && names_given => {
                r.metadata_mut().export();
                objects.push(Printable::One(r));
            }
            Ok(p) => objects.push(p),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let ctx = Ctx::new(|| default_as_number(&client));
    let text = output::render(&format, &objects, print_namespace, &ctx)?;
    stdout::print(&text)?;
    if !errors.is_empty() {
        bail!(errors.join("\n"));
    }
    Ok(())
}

fn fetch(client: &Client, t: &Target) -> Result<Printable> {
    if let Some(p) = &t.problem {
        bail!("{p}");
    }
    if t.name.is_empty() {
        let ns = (!t.namespace.is_empty()).then_some(t.namespace.as_str());
        let (mut items, revision) = client.list(t.info, ns)?;
        if t.info.kind == "Tier" {
            sort_tiers(&mut items);
        }
        return Ok(Printable::List {
            info: t.info,
            items,
            revision,
        });
    }
    if t.info.namespaced && t.namespace.is_empty() {
        bail!("cannot use --all-namespace flag for getting a single resource");
    }
    Ok(Printable::One(Box::new(client.get(
        t.info,
        &t.namespace,
        &t.name,
    )?)))
}

/// Tiers list in order of precedence (lowest order first, unset last), as Calico lists them.
fn sort_tiers(items: &mut [Resource]) {
    let order = |r: &Resource| r.to_value().pointer("/spec/order").and_then(|v| v.as_f64());
    items.sort_by(|a, b| match (order(a), order(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// The cluster's default AS number as calicoctl's `config "asnumber"` template function
/// finds it: BGPConfiguration `default`, else 64512; `unknown` if it cannot be read.
fn default_as_number(client: &Client) -> String {
    let Some(info) = find_kind("BGPConfiguration", None) else {
        return "unknown".into();
    };
    match client.get(info, "", "default") {
        Ok(cfg) => cfg
            .to_value()
            .pointer("/spec/asNumber")
            .map_or_else(|| "64512".into(), output::gofmt::value),
        Err(ClientError::NotFound { .. }) => "64512".into(),
        Err(_) => "unknown".into(),
    }
}
