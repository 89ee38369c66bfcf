//! [`Failure`]: how a command says it failed. Commands return it to `main` instead of printing
//! as they go; `main` prints it once, on stderr, and exits 1. One place decides how an error
//! looks: the findings that explain it, then `error: ...`, then `help: ...` when there is a way
//! out (the same `help:` line the manifest findings and the Graph errors end with).

use std::fmt;
use std::io::Write;

/// What a command returns: the exit code of a command that ran (0, or 2 for "changes
/// present"), or why it failed.
pub(crate) type Outcome = Result<i32, Failure>;

/// Why a command failed: findings printed as they are (complete lines such as
/// `file:line:col: error: ...`), then the summary as `error: ...`. A quiet failure has nothing
/// more to say (the verdict was the command's output, as `validate` prints "invalid: ...").
#[derive(Debug, Default)]
pub(crate) struct Failure {
    details: Vec<String>,
    summary: Option<String>,
    help: Option<String>,
}

impl Failure {
    /// One error, printed as `error: {message}`.
    pub(crate) fn new(message: impl fmt::Display) -> Failure {
        Failure {
            details: Vec::new(),
            summary: Some(message.to_string()),
            help: None,
        }
    }

    /// The way out, printed as `help: {help}` after the summary.
    pub(crate) fn with_help(mut self, help: impl fmt::Display) -> Failure {
        self.help = Some(help.to_string());
        self
    }

    /// Findings (each a complete line, printed as it is), then `error: {summary}`.
    pub(crate) fn with_details(details: Vec<String>, summary: impl fmt::Display) -> Failure {
        Failure {
            details,
            summary: Some(summary.to_string()),
            help: None,
        }
    }

    /// Exit 1 with nothing more to print: the command's output already said why.
    pub(crate) fn quiet() -> Failure {
        Failure::default()
    }

    /// Both failures, this one first (a command that failed and then could not clean up).
    pub(crate) fn and(mut self, then: Failure) -> Failure {
        self.details
            .extend(self.summary.take().map(|s| format!("error: {s}")));
        self.details
            .extend(self.help.take().map(|h| format!("help: {h}")));
        self.details.extend(then.details);
        self.summary = then.summary;
        self.help = then.help;
        self
    }

    /// Writes the failure as `main` prints it.
    pub(crate) fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for line in &self.details {
            writeln!(out, "{line}")?;
        }
        if let Some(summary) = &self.summary {
            writeln!(out, "error: {summary}")?;
        }
        if let Some(help) = &self.help {
            writeln!(out, "help: {help}")?;
        }
        Ok(())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        Failure::new(format!("{error:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(f: &Failure) -> String {
        let mut out = Vec::new();
        f.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn findings_come_before_the_summary_and_quiet_prints_nothing() {
        let f = Failure::with_details(vec!["a.yaml:1:2: error: bad".into()], "invalid");
        assert_eq!(printed(&f), "a.yaml:1:2: error: bad\nerror: invalid\n");
        assert_eq!(printed(&Failure::quiet()), "");
        let both = Failure::new("first")
            .with_help("way out")
            .and(Failure::new("second").with_help("other way"));
        assert_eq!(
            printed(&both),
            "error: first\nhelp: way out\nerror: second\nhelp: other way\n"
        );
    }
}
