//! The plugins' log: `log_file_path` (appended, one line per event) at `log_level`; warnings
//! and errors also go to stderr, which runtimes collect. Logging never fails an invocation.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Mutex;

/// Severity, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    /// Calico's names (`debug`, `info`, `warning`, `error`, ...); default `info`.
    pub fn parse(s: &str) -> Level {
        match s.to_ascii_lowercase().as_str() {
            "debug" | "trace" => Level::Debug,
            "warn" | "warning" => Level::Warn,
            "error" | "fatal" | "panic" => Level::Error,
            _ => Level::Info,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// A small line logger.
#[derive(Debug)]
pub struct Logger {
    level: Level,
    file: Option<Mutex<std::fs::File>>,
    context: String,
    stderr: bool,
}

impl Logger {
    /// No output at all (tests).
    pub fn discard() -> Self {
        Logger {
            level: Level::Error,
            file: None,
            context: String::new(),
            stderr: false,
        }
    }

    /// Log to `path` (created with its directory) at `level`; `context` prefixes each line
    /// (e.g. the container ID).
    pub fn new(level: &str, path: &str, context: String) -> Self {
        let file = if path.is_empty() {
            None
        } else {
            if let Some(dir) = std::path::Path::new(path).parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
                .map(Mutex::new)
        };
        Logger {
            level: Level::parse(level),
            file,
            context,
            stderr: true,
        }
    }

    pub fn log(&self, level: Level, msg: &str) {
        if level > self.level && level > Level::Warn {
            return;
        }
        let ts = humantime_now();
        let line = format!(
            "{ts} [{}][{}] {} {msg}\n",
            level.name(),
            std::process::id(),
            self.context
        );
        if level <= self.level
            && let Some(f) = &self.file
            && let Ok(mut f) = f.lock()
        {
            let _ = f.write_all(line.as_bytes());
        }
        if level <= Level::Warn && self.stderr && self.file.is_none() {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }

    pub fn info(&self, msg: &str) {
        self.log(Level::Info, msg)
    }

    pub fn warn(&self, msg: &str) {
        self.log(Level::Warn, msg)
    }

    pub fn debug(&self, msg: &str) {
        self.log(Level::Debug, msg)
    }
}

fn humantime_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}
