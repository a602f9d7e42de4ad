//! Test harness: runs the built `calicoctl` against a private embedded store in a temporary
//! directory, and compares output with golden files.
//!
//! Isolation: every run passes `-c <tmp>/calicoctl.cfg`, a config file the harness writes that
//! names the temporary store (`spec.embeddedPath`), and also sets `CALICO_DATASTORE_PATH` to it
//! and clears `DATASTORE_TYPE`/`ETCD_*`; so no test reads /etc/calico/calicoctl.cfg or touches
//! /var/lib/calico. Tests of the environment-only mode go through [`Env::run_env_only`], which
//! refuses to run when /etc/calico/calicoctl.cfg exists (it would take precedence).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_calicoctl");

const CLEARED_VARS: &[&str] = &[
    "DATASTORE_TYPE",
    "CALICO_DATASTORE_PATH",
    "ETCD_ENDPOINTS",
    "ETCD_CA_CERT_FILE",
    "ETCD_CERT_FILE",
    "ETCD_KEY_FILE",
    "ETCD_USERNAME",
    "ETCD_PASSWORD",
];

/// A private datastore and working directory.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub cfg: PathBuf,
    pub db: PathBuf,
}

/// The result of one run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Assert success; return stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "expected success\n{self:#?}");
        &self.stdout
    }

    /// Assert failure (exit 1, something on stderr); return stderr.
    #[track_caller]
    pub fn fails(&self) -> &str {
        assert_eq!(self.code, Some(1), "expected failure\n{self:#?}");
        assert!(
            !self.stderr.trim().is_empty(),
            "no error message\n{self:#?}"
        );
        &self.stderr
    }
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("calicoctl-test-")
            .tempdir()
            .unwrap();
        let db = dir.path().join("calico.db");
        let cfg = dir.path().join("calicoctl.cfg");
        std::fs::write(
            &cfg,
            format!(
                "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {{}}\nspec:\n  \
                 datastoreType: embedded\n  embeddedPath: {}\n",
                db.display()
            ),
        )
        .unwrap();
        Self { dir, cfg, db }
    }

    /// A file in the temporary directory.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self) -> Command {
        self.command_with(&self.cfg)
    }

    fn command_with(&self, cfg: &Path) -> Command {
        let mut c = Command::new(BIN);
        for v in CLEARED_VARS {
            c.env_remove(v);
        }
        c.env("CALICO_DATASTORE_PATH", &self.db)
            .current_dir(self.dir.path())
            .arg("-c")
            .arg(cfg)
            .stdin(Stdio::null());
        c
    }

    /// `calicoctl -c <cfg> ARGS` with another config file.
    pub fn run_with_config(&self, cfg: &Path, args: &[&str]) -> Run {
        Run::from(self.command_with(cfg).args(args).output().unwrap())
    }

    /// `calicoctl -c <cfg> ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().unwrap())
    }

    /// Like [`Env::run`] with `stdin` fed to the process.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// A file with `content`, then `calicoctl ARGS -f <file>`.
    pub fn run_file(&self, args: &[&str], content: &str) -> Run {
        let f = self.write("input.yaml", content);
        let mut all: Vec<&str> = args.to_vec();
        all.push("-f");
        let f = f.to_string_lossy().into_owned();
        all.push(&f);
        self.run(&all)
    }

    /// `calicoctl ARGS` configured by `vars` only (no `-c`); `None` when
    /// /etc/calico/calicoctl.cfg exists and would take precedence.
    pub fn run_env_only(&self, args: &[&str], vars: &[(&str, &str)]) -> Option<Run> {
        if Path::new("/etc/calico/calicoctl.cfg").exists() {
            eprintln!(
                "SKIPPED: /etc/calico/calicoctl.cfg exists and would override the environment"
            );
            return None;
        }
        let mut c = Command::new(BIN);
        for v in CLEARED_VARS {
            c.env_remove(v);
        }
        c.env("CALICO_DATASTORE_PATH", &self.db)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .args(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        Some(Run::from(c.output().unwrap()))
    }

    /// Every key in the store (opened directly, not through calicoctl).
    pub fn stored_keys(&self) -> Vec<String> {
        use calico_datastore::Backend;
        if !self.db.exists() {
            return Vec::new();
        }
        let b = calico_datastore::EmbeddedBackend::open(&self.db).unwrap();
        b.list("/")
            .unwrap()
            .kvs
            .into_iter()
            .map(|kv| kv.key)
            .collect()
    }

    /// Store keys of one plural (e.g. `ippools`).
    pub fn stored(&self, plural: &str) -> Vec<String> {
        let needle = format!("/{plural}/");
        self.stored_keys()
            .into_iter()
            .filter(|k| k.contains(&needle))
            .collect()
    }
}

const MASKED_KEYS: &[&str] = &["uid", "creationTimestamp", "resourceVersion", "clusterGUID"];

/// Replace the values of server-set fields (uid, creationTimestamp, resourceVersion,
/// clusterGUID) in YAML or JSON output with `<masked>`.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&mask_line(body));
        out.push_str(nl);
    }
    out
}

fn mask_line(line: &str) -> String {
    for key in MASKED_KEYS {
        let yaml = format!("{key}: ");
        let json = format!("\"{key}\": ");
        let trimmed = line.trim_start().trim_start_matches("- ");
        if trimmed.starts_with(&yaml)
            && let Some(i) = line.find(&yaml)
        {
            return format!("{}<masked>", &line[..i + yaml.len()]);
        }
        if trimmed.starts_with(&json)
            && let Some(i) = line.find(&json)
        {
            let comma = if line.trim_end().ends_with(',') {
                ","
            } else {
                ""
            };
            return format!("{}\"<masked>\"{comma}", &line[..i + json.len()]);
        }
    }
    line.to_string()
}

/// Compare `actual` with `tests/golden/<name>`; `UPDATE_GOLDENS=1` rewrites the file.
#[track_caller]
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("UPDATE_GOLDENS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file {}: {e}\nrun with UPDATE_GOLDENS=1 to create it; actual \
             output:\n{actual}",
            path.display()
        )
    });
    assert!(
        want == actual,
        "output differs from {} (UPDATE_GOLDENS=1 to accept)\n--- want\n{want}\n--- got\n{actual}",
        path.display()
    );
}

pub const POOL1: &str = "apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool1
spec:
  cidr: 10.1.0.0/16
  ipipMode: Always
  natOutgoing: true
";

pub const POOL2: &str = "apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool2
spec:
  cidr: fd00:1::/64
  vxlanMode: CrossSubnet
  nodeSelector: zone == 'a'
";

/// Several documents joined with `---`.
pub fn docs(parts: &[&str]) -> String {
    parts.join("---\n")
}
