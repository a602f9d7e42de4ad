//! `-f/--filename`: a file, a directory of `.yaml`/`.yml`/`.json` files (`-R` to descend), or
//! `-` for stdin; each split into documents and decoded, keeping every document's error so all
//! of them can be reported together.
//!
//! YAML is split at `---` lines before parsing, so a syntax error in one document does not
//! hide the others. A top-level YAML or JSON sequence (what `get -o yaml` prints for several
//! resources) and `List` kinds are expanded into their items.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use calico_api::codec::parse_documents;
use calico_api::{DecodeError, Resource};
use serde_json::Value;

/// Where `-f` points, and how to walk it.
#[derive(Clone, Debug)]
pub struct FileArgs {
    pub filename: String,
    pub recursive: bool,
    pub skip_empty: bool,
}

/// One document of the input.
#[derive(Debug)]
pub struct Doc {
    /// The file it came from (`stdin` for `-`).
    pub source: String,
    /// 1-based position in its file, after `List` expansion.
    pub index: usize,
    pub resource: Result<Resource, DocError>,
}

/// Why a document could not be decoded.
#[derive(Debug, Clone)]
pub enum DocError {
    /// Not valid YAML/JSON.
    Syntax(String),
    /// Decoded far enough to know what it is (kind and name) but a field is wrong.
    Field {
        kind: String,
        name: String,
        path: String,
        message: String,
    },
    /// Anything else (no kind, unknown kind, not a mapping...).
    Other(String),
}

impl From<DecodeError> for DocError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Syntax(s) => Self::Syntax(s),
            DecodeError::Field {
                kind,
                name,
                path,
                message,
            } => Self::Field {
                kind,
                name,
                path,
                message,
            },
            other => Self::Other(other.to_string()),
        }
    }
}

/// Read and decode everything `-f` names. Errors here are about the files themselves
/// (missing, unreadable, empty); per-document problems are in each [`Doc`].
pub fn load(args: &FileArgs) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    if args.filename == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read stdin")?;
        docs.extend(decode_text("stdin", &text));
        if docs.is_empty() && !args.skip_empty {
            bail!("No resources specified in file -");
        }
        return Ok(docs);
    }
    let path = Path::new(&args.filename);
    let meta = std::fs::metadata(path).with_context(|| format!("open {}", path.display()))?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, args.recursive, &mut files)?;
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let before = docs.len();
        docs.extend(decode_text(&file.display().to_string(), &text));
        if docs.len() == before && !args.skip_empty {
            bail!("No resources specified in file {}", file.display());
        }
    }
    if docs.is_empty() && meta.is_dir() && !args.skip_empty {
        bail!("No resources specified in directory {}", args.filename);
    }
    Ok(docs)
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read directory {}", dir.display()))?
            .path();
        if path.is_dir() {
            if recursive {
                walk(&path, recursive, out)?;
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Split and decode one file's text.
pub fn decode_text(source: &str, text: &str) -> Vec<Doc> {
    let mut values: Vec<Result<Value, DocError>> = Vec::new();
    let trimmed = text.trim_start();
    let chunks: Vec<String> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        vec![text.to_string()]
    } else {
        split_yaml(text)
    };
    for chunk in chunks {
        match parse_documents(&chunk) {
            Ok(parsed) => {
                for d in parsed {
                    flatten(d.value, &mut values);
                }
            }
            Err(e) => values.push(Err(DocError::from(e))),
        }
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| Doc {
            source: source.to_string(),
            index: i + 1,
            resource: v.and_then(|v| Resource::from_value(v).map_err(DocError::from)),
        })
        .collect()
}

/// Split YAML text at document separators (`---` at the start of a line, alone or followed by
/// whitespace and content that belongs to the next document).
fn split_yaml(text: &str) -> Vec<String> {
    let mut chunks = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let is_separator = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']));
        if is_separator {
            let rest = &line[3..];
            chunks.push(String::new());
            if !rest.trim().is_empty()
                && let Some(last) = chunks.last_mut()
            {
                last.push_str(rest);
            }
        } else if let Some(last) = chunks.last_mut() {
            last.push_str(line);
        }
    }
    chunks
}

/// Expand sequences and `List` kinds (items inherit the list's apiVersion when they have none).
fn flatten(v: Value, out: &mut Vec<Result<Value, DocError>>) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.into_iter().for_each(|i| flatten(i, out)),
        Value::Object(ref m)
            if m.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && m.get("items").is_some_and(Value::is_array) =>
        {
            let api = m.get("apiVersion").cloned();
            if let Some(Value::Array(items)) = m.get("items") {
                for item in items {
                    let mut item = item.clone();
                    if let (Some(api), Value::Object(im)) = (&api, &mut item)
                        && !im.contains_key("apiVersion")
                    {
                        im.insert("apiVersion".into(), api.clone());
                    }
                    flatten(item, out);
                }
            }
        }
        other => out.push(Ok(other)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const POOL: &str = "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p1\n";

    #[test]
    fn splits_documents_and_keeps_going_after_bad_yaml() {
        let text = format!("{POOL}---\nkind: [unclosed\n---\n{POOL}");
        let docs = decode_text("f.yaml", &text);
        assert_eq!(docs.len(), 3);
        assert!(docs[0].resource.is_ok());
        assert!(matches!(docs[1].resource, Err(DocError::Syntax(_))));
        assert_eq!(docs[2].index, 3);
        assert!(docs[2].resource.is_ok());
    }

    #[test]
    fn sequences_and_lists_expand() {
        let seq = "- apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: a\n\
                   - apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata:\n    name: b\n";
        assert_eq!(decode_text("s", seq).len(), 2);
        let list = "apiVersion: projectcalico.org/v3\nkind: TierList\nitems:\n\
                    - kind: Tier\n  metadata:\n    name: a\n";
        let docs = decode_text("l", list);
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].resource.as_ref().unwrap().name(), "a");
    }

    #[test]
    fn separators_with_content_and_comments() {
        let text = format!("# leading comment\n--- \n{POOL}--- # trailing\n{POOL}");
        let docs = decode_text("c", &text);
        assert_eq!(docs.len(), 2);
        // "----" is not a separator.
        assert_eq!(split_yaml("a: 1\n----\n").len(), 1);
    }

    #[test]
    fn json_is_not_split() {
        let text =
            r#"[{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"a"}}]"#;
        assert_eq!(decode_text("j", text).len(), 1);
    }

    #[test]
    fn missing_kind_is_per_document() {
        let docs = decode_text("k", "metadata:\n  name: x\n");
        assert!(matches!(&docs[0].resource, Err(DocError::Other(m)) if m.contains("kind")));
    }
}
