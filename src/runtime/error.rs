//! One error shape for the crates built on the runtime (the transport, the broker's rules, the
//! tools): a kind to match on, what failed in words, and the underlying error kept as the source.

use std::fmt;

/// The underlying error of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of kind `K`: match on [`Error::kind`]; [`std::error::Error::source`] is the cause.
/// It displays as its message, followed by the source's when there is one.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// enum Kind { Io }
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
/// let err = events::Error::with_source(Kind::Io, "reading schemas/a.json", io);
/// assert_eq!(err.kind(), Kind::Io);
/// assert_eq!(err.to_string(), "reading schemas/a.json: no such file");
/// assert_eq!(std::error::Error::source(&err).unwrap().to_string(), "no such file");
/// ```
pub struct Error<K> {
    kind: K,
    message: String,
    source: Option<BoxError>,
}

impl<K> Error<K> {
    /// An error with no underlying cause.
    pub fn new(kind: K, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), source: None }
    }

    /// An error caused by `source`: `message` says what was being done.
    pub fn with_source(kind: K, message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error { kind, message: message.into(), source: Some(source.into()) }
    }

    /// What kind of error.
    pub fn kind(&self) -> K
    where
        K: Copy,
    {
        self.kind
    }

    /// What failed, without the source's words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<K> fmt::Display for Error<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl<K: fmt::Debug> fmt::Debug for Error<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl<K: fmt::Debug> std::error::Error for Error<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}
