#![allow(dead_code)]
pub mod fixtures;
pub mod lab;

use std::path::PathBuf;

/// Compare `actual` with `tests/golden/<name>`; `UPDATE_GOLDENS=1` rewrites the file.
pub fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDENS").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDENS=1)", path.display()));
    if want != actual {
        panic!(
            "{} differs from the rendered output (UPDATE_GOLDENS=1 to accept):\n--- actual ---\n{actual}",
            path.display()
        );
    }
}
