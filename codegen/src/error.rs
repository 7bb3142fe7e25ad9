//! Diagnostics: every problem names the file, and the line and JSON pointer where they apply.

use std::fmt;

/// One problem found in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, relative to the folder that holds the registry (for instance `schemas/a/1.0.json`).
    pub file: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// JSON pointer of the offending value inside the file, when there is one.
    pub pointer: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl Diagnostic {
    /// A problem with a whole file.
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), position: None, pointer: None, message: message.into() }
    }

    /// A problem at a JSON pointer; the line is looked up in `source` when it is given.
    pub fn at(
        file: impl Into<String>,
        source: Option<&str>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let pointer = pointer.into();
        let position = source.and_then(|s| crate::locate::position_of(s, &pointer));
        Diagnostic { file: file.into(), position, pointer: Some(pointer), message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": ")?;
        if let Some(pointer) = &self.pointer {
            let shown = if pointer.is_empty() { "(document root)" } else { pointer.as_str() };
            write!(f, "at {shown}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// The registry could not be turned into code. Holds every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    /// An error of these problems.
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        debug_assert!(!diagnostics.is_empty());
        Error { diagnostics }
    }

    /// Every problem, in file order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::new(vec![d])
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(f, "event registry: {n} problem{}", if n == 1 { "" } else { "s" })?;
        for d in &self.diagnostics {
            writeln!(f, "  error: {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Collects diagnostics across a pass so that one build reports every problem.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<Diagnostic>);

impl Problems {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn into_result<T>(mut self, value: T) -> Result<T, Error> {
        // File order, whichever pass found the problem; stable, so passes keep their order within a file.
        self.0.sort_by(|a, b| a.file.cmp(&b.file));
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Error::new(self.0))
        }
    }
}
