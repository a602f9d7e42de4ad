//! Golden test: every line of `tests/golden/selectors.txt` is parsed and printed as
//! `input -> canonical | unique id` or `input -> error: message`, and the result compared with
//! `tests/golden/selectors.golden`. Run with `UPDATE_GOLDENS=1` to rewrite the golden file.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::PathBuf;

use calico_selector::Selector;

/// Decodes the input file's escapes: `\n`, `\t`, `\r`, `\s` (space), `\\`, `\e` (nothing).
fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('s') => out.push(' '),
            Some('\\') => out.push('\\'),
            Some('e') => {}
            other => panic!("bad escape \\{other:?} in {line:?}"),
        }
    }
    out
}

/// Keeps each golden entry on one line: control characters inside string literals are shown
/// escaped (the unique ID is still computed from the real canonical form).
fn escape_controls(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn render(input: &str) -> String {
    let mut out = String::new();
    for line in input.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let selector = unescape(line);
        match Selector::parse(&selector) {
            Ok(sel) => {
                let canonical = escape_controls(&sel.to_string());
                writeln!(out, "{selector:?} -> {canonical} | {}", sel.unique_id())
            }
            Err(e) => writeln!(out, "{selector:?} -> error: {e}"),
        }
        .unwrap();
    }
    out
}

#[test]
fn selectors_golden() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let input = std::fs::read_to_string(dir.join("selectors.txt")).unwrap();
    let got = render(&input);
    let golden_path = dir.join("selectors.golden");
    if std::env::var_os("UPDATE_GOLDENS").is_some_and(|v| v == "1") {
        std::fs::write(&golden_path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDENS=1)", golden_path.display()));
    if got != want {
        let diff: Vec<String> = got
            .lines()
            .zip(want.lines())
            .filter(|(g, w)| g != w)
            .take(10)
            .map(|(g, w)| format!("- {w}\n+ {g}"))
            .collect();
        panic!(
            "selectors.golden is out of date ({} vs {} lines); first differences:\n{}\n\
             rerun with UPDATE_GOLDENS=1 and review the diff",
            got.lines().count(),
            want.lines().count(),
            diff.join("\n")
        );
    }
}
