//! `-l/--log-level`: Calico's levels (panic, fatal, error, warn, info, debug; default panic,
//! i.e. silent). Diagnostics go to stderr, never into command output.

use std::fmt::Arguments;
use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

const NAMES: [&str; 6] = ["panic", "fatal", "error", "warn", "info", "debug"];

/// Set the level from its name; `Err` carries Calico's message for an unknown one.
pub fn set_level(name: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    let Some(pos) = NAMES
        .iter()
        .position(|n| *n == lower || (lower == "warning" && *n == "warn"))
    else {
        return Err(format!(
            "Unknown log level: {name}, expected one of: \npanic, fatal, error, warn, info, debug."
        ));
    };
    LEVEL.store(u8::try_from(pos).unwrap_or(0), Ordering::Relaxed);
    Ok(())
}

fn emit(level: usize, args: Arguments<'_>) {
    if usize::from(LEVEL.load(Ordering::Relaxed)) >= level {
        crate::stdout::error_line(&format!("{}: {args}", NAMES[level].to_ascii_uppercase()));
    }
}

/// Log at `info`.
pub fn info(args: Arguments<'_>) {
    emit(4, args);
}

/// Log at `debug`.
pub fn debug(args: Arguments<'_>) {
    emit(5, args);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_level_message() {
        let e = set_level("loud").unwrap_err();
        assert!(
            e.starts_with("Unknown log level: loud, expected one of:"),
            "{e}"
        );
        assert!(set_level("DEBUG").is_ok());
        assert!(set_level("panic").is_ok());
    }
}
