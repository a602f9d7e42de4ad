//! Calico's result messages for commands that act on a batch of resources
//! (`Successfully created 2 'IPPool' resource(s)`, `Partial success: ...`, `Hit error: [...]`,
//! `Failed to ...`), worded and punctuated as Calico's calicoctl prints them, so scripts that
//! match on them keep working. Success lines go to stdout; the returned error goes to stderr.

use anyhow::{Result, anyhow};

/// The verbs, with Calico's spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Create,
    Apply,
    Replace,
    Delete,
}

impl Verb {
    fn base(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Apply => "apply",
            Self::Replace => "replace",
            Self::Delete => "delete",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Self::Create => "created",
            Self::Apply => "applied",
            Self::Replace => "replaced",
            Self::Delete => "deleted",
        }
    }

    fn hit_error(self) -> &'static str {
        match self {
            Self::Apply => "Hit error(s)",
            _ => "Hit error",
        }
    }
}

/// What happened to a batch.
#[derive(Debug)]
pub struct Outcome {
    pub verb: Verb,
    /// Resources in the batch.
    pub total: usize,
    /// Resources handled successfully (skipped ones included with --skip-exists /
    /// --skip-not-exists).
    pub handled: usize,
    /// One message per failed resource.
    pub errors: Vec<String>,
    /// The kind when every resource is of one kind.
    pub single_kind: Option<String>,
}

/// Go's `%v` of a `[]error`.
fn go_errors(errors: &[String]) -> String {
    format!("[{}]", errors.join(" "))
}

impl Outcome {
    /// Print the success lines and return the failure, as Calico does for this verb.
    pub fn finish(self, out: &mut impl std::io::Write) -> Result<()> {
        match self.verb {
            Verb::Delete => self.finish_delete(out),
            Verb::Replace => self.finish_replace(out),
            Verb::Create | Verb::Apply => self.finish_collecting(out),
        }
    }

    fn kind_quoted(&self) -> Option<String> {
        self.single_kind.as_ref().map(|k| format!("'{k}'"))
    }

    fn success(&self, out: &mut impl std::io::Write) -> Result<()> {
        let past = self.verb.past();
        match self.kind_quoted() {
            Some(k) => writeln!(out, "Successfully {past} {} {k} resource(s)", self.handled)?,
            None => writeln!(out, "Successfully {past} {} resource(s)", self.handled)?,
        }
        Ok(())
    }

    fn partial(&self, out: &mut impl std::io::Write) -> Result<()> {
        let past = self.verb.past();
        match self.kind_quoted() {
            Some(k) => writeln!(
                out,
                "Partial success: {past} the first {} out of {} {k} resources:",
                self.handled, self.total
            )?,
            None => writeln!(
                out,
                "Partial success: {past} the first {} out of {} resources:",
                self.handled, self.total
            )?,
        }
        Ok(())
    }

    fn nothing_handled(&self, detail: &str) -> anyhow::Error {
        let base = self.verb.base();
        let msg = match self.kind_quoted() {
            Some(k) if self.total == 1 => format!("Failed to {base} {k} resource: {detail}"),
            Some(k) => format!("Failed to {base} any {k} resources: {detail}"),
            None if self.total == 1 => format!("Failed to {base} resource: {detail}"),
            None => format!("Failed to {base} any resources: {detail}"),
        };
        anyhow!(msg)
    }

    /// create/apply: every resource is tried; errors are collected.
    fn finish_collecting(self, out: &mut impl std::io::Write) -> Result<()> {
        if self.total == 0 {
            writeln!(out, "No resources specified")?;
            return Ok(());
        }
        if self.handled == 0 {
            return Err(self.nothing_handled(&go_errors(&self.errors)));
        }
        if self.errors.is_empty() {
            return self.success(out);
        }
        // Calico's condition, kept as is.
        if self.handled > self.errors.len() {
            self.partial(out)?;
        }
        Err(anyhow!(
            "{}: {}",
            self.verb.hit_error(),
            go_errors(&self.errors)
        ))
    }

    /// replace: stops at the first error.
    fn finish_replace(self, out: &mut impl std::io::Write) -> Result<()> {
        if self.total == 0 {
            writeln!(out, "No resources specified")?;
            return Ok(());
        }
        let first = self.errors.first().cloned();
        match first {
            None => self.success(out),
            Some(e) if self.handled == 0 => Err(self.nothing_handled(&e)),
            Some(e) => {
                self.partial(out)?;
                Err(anyhow!("{}: {e}", self.verb.hit_error()))
            }
        }
    }

    /// delete: successes are reported, then each failure on its own line.
    fn finish_delete(self, out: &mut impl std::io::Write) -> Result<()> {
        if self.total == 0 {
            writeln!(out, "No resources specified")?;
            return Ok(());
        }
        if self.handled > 0 {
            self.success(out)?;
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = self
            .errors
            .iter()
            .map(|e| match self.kind_quoted() {
                Some(k) => format!("Failed to delete {k} resource: {e}"),
                None => format!("Failed to delete resource: {e}"),
            })
            .collect();
        Err(anyhow!(lines.join("\n")))
    }
}

/// The kind shared by every resource, if there is one.
pub fn single_kind<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut it = kinds.into_iter();
    let first = it.next()?;
    it.all(|k| k == first).then(|| first.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(verb: Verb, total: usize, handled: usize, errors: &[&str]) -> (String, String) {
        let outcome = Outcome {
            verb,
            total,
            handled,
            errors: errors.iter().map(|s| s.to_string()).collect(),
            single_kind: Some("IPPool".into()),
        };
        let mut out = Vec::new();
        let err = outcome
            .finish(&mut out)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        (String::from_utf8(out).unwrap(), err)
    }

    #[test]
    fn create_messages() {
        assert_eq!(
            run(Verb::Create, 2, 2, &[]).0,
            "Successfully created 2 'IPPool' resource(s)\n"
        );
        let (out, err) = run(Verb::Create, 1, 0, &["resource already exists: IPPool(p)"]);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "Failed to create 'IPPool' resource: [resource already exists: IPPool(p)]"
        );
        let (out, err) = run(Verb::Create, 3, 2, &["x"]);
        assert_eq!(
            out,
            "Partial success: created the first 2 out of 3 'IPPool' resources:\n"
        );
        assert_eq!(err, "Hit error: [x]");
    }

    #[test]
    fn apply_replace_delete_messages() {
        assert_eq!(run(Verb::Apply, 3, 2, &["x"]).1, "Hit error(s): [x]");
        assert_eq!(
            run(Verb::Replace, 1, 0, &["update conflict"]).1,
            "Failed to replace 'IPPool' resource: update conflict"
        );
        let (out, err) = run(Verb::Delete, 2, 1, &["resource does not exist: IPPool(b)"]);
        assert_eq!(out, "Successfully deleted 1 'IPPool' resource(s)\n");
        assert_eq!(
            err,
            "Failed to delete 'IPPool' resource: resource does not exist: IPPool(b)"
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(single_kind(["A", "A"]).as_deref(), Some("A"));
        assert_eq!(single_kind(["A", "B"]), None);
        assert_eq!(single_kind([]), None);
    }
}
