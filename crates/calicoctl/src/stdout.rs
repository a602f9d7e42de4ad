//! Writing command output without ever panicking: a closed pipe (`calicoctl get ... | head`)
//! simply ends the output.

use std::io::{ErrorKind, Write};

/// Write `text` to stdout.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Write one line to stdout.
pub fn line(text: &str) -> anyhow::Result<()> {
    print(&format!("{text}\n"))
}

/// Write one line to stderr, ignoring failures (there is nowhere left to report them).
pub fn error_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
