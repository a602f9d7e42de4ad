//! Shared helpers for the validation-table tests: decode a document, validate it, and check a
//! table of expected errors (`None` = valid, `Some((path, fragment))` = an error at `path` whose
//! message contains `fragment`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use calico_api::Resource;
use serde_json::Value;

/// Every validation error of `doc` as `path: message`; panics if `doc` does not decode.
pub fn errors(doc: Value) -> Vec<String> {
    let r = Resource::from_value(doc.clone()).unwrap_or_else(|e| panic!("{doc}: {e}"));
    match r.validate() {
        Ok(()) => vec![],
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

pub type Expect = Option<(&'static str, &'static str)>;

/// Validate every document of the table; report all mismatches together.
pub fn check_table(table: Vec<(&str, Value, Expect)>) {
    let mut failures = Vec::new();
    for (what, d, expect) in table {
        let errs = errors(d);
        let ok = match expect {
            None => errs.is_empty(),
            Some((path, fragment)) => errs
                .iter()
                .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(fragment)),
        };
        if !ok {
            failures.push(format!("{what}: expected {expect:?}, got {errs:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
