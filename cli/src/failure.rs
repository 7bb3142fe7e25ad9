//! How a command ends: an [`Outcome`] when it ran to the end (its output says what it found), or a
//! [`Failure`] when it stopped, which `main` prints once as `error: …` and turns into the exit
//! status of its [`FailureKind`].

use std::fmt;

/// Exit status of a usage error (unknown flag, missing file), as clap's own.
pub const USAGE: u8 = 2;
/// Exit status when the tool found problems: invalid messages, a bad registry, a break.
pub const FINDINGS: u8 = 1;

/// A command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// Nothing wrong: status 0.
    Clean,
    /// The output lists problems (invalid messages, breaks, contracts without an example): status 1.
    Findings,
}

impl Outcome {
    /// `Findings` when there are any.
    pub fn found(any: bool) -> Self {
        if any {
            Outcome::Findings
        } else {
            Outcome::Clean
        }
    }

    pub fn status(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => FINDINGS,
        }
    }
}

/// What stopped a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The command was asked for something that is not there or not well formed: a file, folder,
    /// contract, version, revision, address or secrets folder.
    Usage,
    /// The registry, or the manifest that describes it, does not load or fails its checks.
    Registry,
    /// No valid example of a contract can be made.
    NoExample,
    /// A file, standard output, credentials or the server's runtime could not be written or started.
    Io,
}

impl FailureKind {
    /// The exit status it ends the program with.
    pub fn status(self) -> u8 {
        match self {
            FailureKind::Usage => USAGE,
            FailureKind::Registry | FailureKind::NoExample | FailureKind::Io => FINDINGS,
        }
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A command's failure: its kind, what could not be done, and the error that caused it.
#[derive(Debug, thiserror::Error)]
#[error("{}", Shown(message, source))]
pub struct Failure {
    kind: FailureKind,
    message: String,
    #[source]
    source: Option<Source>,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure { kind, message: message.into(), source: None }
    }

    /// What could not be done (`cannot write out.rs`), because of `source`.
    pub fn caused(kind: FailureKind, message: impl Into<String>, source: impl Into<Source>) -> Self {
        Failure { kind, message: message.into(), source: Some(source.into()) }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(FailureKind::Usage, message)
    }

    /// The registry's problems, which say everything themselves.
    pub fn registry(error: events_codegen::Error) -> Self {
        Failure::caused(FailureKind::Registry, "", error)
    }

    pub fn kind(&self) -> FailureKind {
        self.kind
    }
}

impl From<events_codegen::Error> for Failure {
    fn from(error: events_codegen::Error) -> Self {
        Failure::registry(error)
    }
}

/// `message: source`; a source of several lines (the registry's list of problems) starts on a
/// line of its own.
struct Shown<'a>(&'a String, &'a Option<Source>);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Shown(message, source) = self;
        let Some(source) = source else { return f.write_str(message) };
        let source = source.to_string();
        let source = source.trim_end();
        match (message.is_empty(), source.contains('\n')) {
            (true, _) => f.write_str(source),
            (false, false) => write!(f, "{message}: {source}"),
            (false, true) => write!(f, "{message}:\n{source}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn the_message_names_its_cause_which_stays_its_source() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let failure = Failure::caused(FailureKind::Io, "cannot write out.rs", io);
        assert_eq!(failure.to_string(), "cannot write out.rs: No such file or directory");
        assert_eq!(failure.source().map(|s| s.to_string()).as_deref(), Some("No such file or directory"));
        assert_eq!(failure.kind(), FailureKind::Io);
    }

    #[test]
    fn a_usage_error_exits_2_and_the_others_1() {
        assert_eq!(Failure::usage("no such folder").kind().status(), 2);
        for kind in [FailureKind::Registry, FailureKind::NoExample, FailureKind::Io] {
            assert_eq!(kind.status(), 1, "{kind:?}");
        }
    }

    #[test]
    fn the_registry_problems_are_shown_as_they_are() {
        let error = events_codegen::Error::new(vec![events_codegen::Diagnostic::file("schemas/a/1.0.json", "broken")]);
        let failure = Failure::from(error.clone());
        assert_eq!(failure.to_string(), error.to_string().trim_end());
        let at = Failure::caused(FailureKind::Usage, "the registry at v1 does not load", error);
        assert!(at.to_string().starts_with("the registry at v1 does not load:\nevent registry: 1 problem\n"), "{at}");
    }
}
