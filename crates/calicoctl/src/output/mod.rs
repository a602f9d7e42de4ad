//! `get` output: `ps`/`wide`/`custom-columns` tables and YAML/JSON documents, laid out as
//! Calico's calicoctl prints them.
//!
//! Like Calico, the printers take a sequence of printable objects: a whole listing is one
//! object (`<Kind>List`), each resource fetched by name is another. Tables print one table per
//! object, each followed by a blank line; YAML and JSON print the object itself when there is
//! exactly one, else a sequence of them.

pub mod columns;
pub mod gofmt;
pub mod table;

use anyhow::{Result, bail};
use calico_api::codec;
use calico_api::{KindInfo, Resource};
use calico_datastore::Revision;
use serde_json::{Value, json};

use self::columns::{Ctx, table_for};
use self::table::TabWriter;

/// An output format (`-o`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Ps,
    Wide,
    Yaml,
    Json,
    CustomColumns(Vec<String>),
}

impl Format {
    /// Parse `-o`, with Calico's messages.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "ps" => Self::Ps,
            "wide" => Self::Wide,
            "yaml" | "yml" => Self::Yaml,
            "json" => Self::Json,
            _ => {
                let (key, value) = s.split_once('=').unwrap_or((s, ""));
                match key {
                    "custom-columns" if value.is_empty() => {
                        bail!("need to specify at least one column")
                    }
                    "custom-columns" => {
                        Self::CustomColumns(value.split(',').map(str::to_string).collect())
                    }
                    "go-template" | "go-template-file" => bail!(
                        "output format '{key}' is not supported by calico-rs: use yaml, json, \
                         ps, wide or custom-columns=..."
                    ),
                    _ => bail!("unrecognized output format '{s}'"),
                }
            }
        })
    }
}

/// One object to print.
#[derive(Debug)]
pub enum Printable {
    One(Box<Resource>),
    List {
        info: &'static KindInfo,
        items: Vec<Resource>,
        revision: Revision,
    },
}

impl Printable {
    fn info(&self) -> &'static KindInfo {
        match self {
            Self::One(r) => r.info(),
            Self::List { info, .. } => info,
        }
    }

    fn items(&self) -> Vec<&Resource> {
        match self {
            Self::One(r) => vec![r],
            Self::List { items, .. } => items.iter().collect(),
        }
    }

    /// The object as a document (`<Kind>List` for listings).
    pub fn to_value(&self) -> Value {
        match self {
            Self::One(r) => r.to_value(),
            Self::List {
                info,
                items,
                revision,
            } => json!({
                "apiVersion": info.api_version,
                "kind": format!("{}List", info.kind),
                "metadata": {"resourceVersion": revision.to_string()},
                "items": items.iter().map(Resource::to_value).collect::<Vec<_>>(),
            }),
        }
    }
}

/// Render `objects` in `format`. `print_namespace` adds the NAMESPACE column to tables of
/// namespaced kinds (`-n` or `-A` given).
pub fn render(
    format: &Format,
    objects: &[Printable],
    print_namespace: bool,
    ctx: &Ctx<'_>,
) -> Result<String> {
    match format {
        Format::Ps | Format::Wide | Format::CustomColumns(_) => {
            let mut out = String::new();
            for obj in objects {
                out.push_str(&render_table(format, obj, print_namespace, ctx)?);
                out.push('\n');
            }
            Ok(out)
        }
        Format::Yaml => Ok(codec::to_yaml(&document(objects))?),
        Format::Json => Ok(format!("{}\n", codec::to_json(&document(objects))?)),
    }
}

fn document(objects: &[Printable]) -> Value {
    match objects {
        [one] => one.to_value(),
        many => Value::Array(many.iter().map(Printable::to_value).collect()),
    }
}

fn render_table(
    format: &Format,
    obj: &Printable,
    print_namespace: bool,
    ctx: &Ctx<'_>,
) -> Result<String> {
    let table = table_for(obj.info());
    let mut headings: Vec<&str> = match format {
        Format::Wide => table.wide.to_vec(),
        Format::CustomColumns(cols) => cols.iter().map(String::as_str).collect(),
        _ => table.ps.to_vec(),
    };
    let custom = matches!(format, Format::CustomColumns(_));
    if print_namespace && !custom && table.has_namespace() {
        headings.insert(0, "NAMESPACE");
    }
    let mut columns = Vec::with_capacity(headings.len());
    for h in &headings {
        match table.column(h) {
            Some(c) => columns.push(c),
            None => bail!(
                "Unknown heading {h}, valid values are: {}",
                table.headings_list()
            ),
        }
    }
    let mut text = String::new();
    for h in &headings {
        text.push_str(h);
        text.push('\t');
    }
    text.push('\n');
    for r in obj.items() {
        let v = r.to_value();
        for c in &columns {
            text.push_str(&c.render(&v, ctx));
            text.push('\t');
        }
        text.push('\n');
    }
    Ok(TabWriter::default().align(&text))
}
