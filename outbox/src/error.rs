//! The crate's one error shape: `events::Error` with the kinds below.

/// An outbox, relay or inbox error: match on [`Error::kind`](events::Error::kind); the database's
/// own error is kept as the source.
pub type Error = events::Error<ErrorKind>;

/// The kinds of [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A setting is refused before the database or the broker is asked anything: a table name
    /// that is not a plain identifier, a duplicate window too short for the relay.
    Config,
    /// The database refused or did not answer.
    Database,
    /// The tables are not what this crate's migrations made: a migration applied with other text,
    /// or one newer than this crate knows.
    Migration,
    /// The message's id is in the outbox already: it is stored once.
    Duplicate,
    /// An inbox handler enqueued while holding its transaction's guard.
    TransactionHeld,
}

pub(crate) fn database(what: impl Into<String>, source: sqlx::Error) -> Error {
    // A unique violation on the message id is the caller's to know about, not a database failure.
    let duplicate = matches!(&source, sqlx::Error::Database(d) if d.is_unique_violation());
    let kind = if duplicate { ErrorKind::Duplicate } else { ErrorKind::Database };
    Error::with_source(kind, what, source)
}
