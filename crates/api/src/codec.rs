//! Reading and writing documents: YAML (multi-document) or JSON (one value, an array, or a
//! stream of values), with `List` kinds expanded; YAML output in the form `calicoctl` prints
//! (keys sorted, YAML-1.1-ambiguous strings such as `"no"` and `"0777"` quoted).

use serde_json::Value;

use crate::error::DecodeError;
use crate::resource::Resource;

/// One document of an input, located by its index (0-based, after `List` expansion).
#[derive(Debug)]
pub struct Document {
    pub index: usize,
    pub value: Value,
}

/// Split `text` into documents. YAML is used unless the text starts with `{` or `[`.
/// A syntax error fails the whole input (nothing can be trusted after it).
pub fn parse_documents(text: &str) -> Result<Vec<Document>, DecodeError> {
    let trimmed = text.trim_start();
    let raw: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let mut out = Vec::new();
        for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            let v = v.map_err(|e| DecodeError::Syntax(format!("invalid JSON: {e}")))?;
            match v {
                Value::Array(items) => out.extend(items),
                other => out.push(other),
            }
        }
        out
    } else {
        serde_saphyr::from_multiple::<Value>(text)
            .map_err(|e| DecodeError::Syntax(format!("invalid YAML: {e}")))?
    };
    let mut docs = Vec::new();
    for v in raw {
        if v.is_null() {
            continue;
        }
        expand_list(v, &mut docs);
    }
    Ok(docs
        .into_iter()
        .enumerate()
        .map(|(index, value)| Document { index, value })
        .collect())
}

/// `kind: List` / `kind: <Kind>List` with `items` becomes its items (each inheriting the list's
/// apiVersion when it has none).
fn expand_list(v: Value, out: &mut Vec<Value>) {
    let is_list = v
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && v.get("items").is_some_and(Value::is_array);
    if !is_list {
        out.push(v);
        return;
    }
    let api = v.get("apiVersion").cloned();
    if let Some(Value::Array(items)) = v.get("items") {
        for item in items {
            let mut item = item.clone();
            if let (Some(api), Value::Object(m)) = (&api, &mut item)
                && !m.contains_key("apiVersion")
            {
                m.insert("apiVersion".into(), api.clone());
            }
            expand_list(item, out);
        }
    }
}

/// One decoded document: its index in the input and the resource or why it could not be decoded.
pub type Decoded = (usize, Result<Resource, DecodeError>);

/// Decode every document of `text`; per-document errors are kept with their index so a caller
/// can report all of them.
pub fn decode_all(text: &str) -> Result<Vec<Decoded>, DecodeError> {
    Ok(parse_documents(text)?
        .into_iter()
        .map(|d| (d.index, Resource::from_value(d.value)))
        .collect())
}

/// Sort object keys recursively (Go's YAML output, via JSON maps, is key-sorted).
pub fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                if let Some(x) = m.get(k) {
                    out.insert(k.clone(), sort_keys(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Errors while writing output.
#[derive(Debug, thiserror::Error)]
#[error("cannot render output: {0}")]
pub struct EncodeError(String);

/// YAML as calicoctl prints it: keys sorted, strings quoted where YAML 1.1 would misread them.
pub fn to_yaml(v: &Value) -> Result<String, EncodeError> {
    serde_saphyr::to_string(&sort_keys(v)).map_err(|e| EncodeError(e.to_string()))
}

/// Several documents separated by `---`.
pub fn to_yaml_multi(values: &[Value]) -> Result<String, EncodeError> {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(v)?);
    }
    Ok(out)
}

/// Indented JSON (field order kept: `apiVersion`, `kind`, `metadata`, `spec`).
pub fn to_json(v: &Value) -> Result<String, EncodeError> {
    serde_json::to_string_pretty(v).map_err(|e| EncodeError(e.to_string()))
}
