//! What a handler is given: a decoded, validated message of a registry and its delivery.

use std::ops::Deref;

use chrono::{DateTime, Utc};
use events::{Message, Origin};

/// Whether a message is an event or a command.
pub use events::MessageKind as Kind;

/// The identifying fields of a message, as logs carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// `eventName` or `commandName`.
    pub name: &'static str,
    /// `eventId` or `commandId`.
    pub id: String,
    /// `correlationId`.
    pub correlation_id: String,
    /// `causationId`, or empty.
    pub causation_id: String,
}

impl Ids {
    /// What logs say about `message`: name, id, correlation and causation ids. Never its payload.
    pub fn of<M: Message>(message: &M) -> Ids {
        Ids {
            name: message.name(),
            id: message.message_id(),
            correlation_id: message.correlation_id().to_string(),
            causation_id: message.causation_id().map(|c| c.to_string()).unwrap_or_default(),
        }
    }
}

/// A message as one delivery hands it to a handler: the decoded message (dereferences to it) and
/// which attempt this is. For an event, `retry_count()` already reads `attempt - 1`: the broker's
/// delivery count, not the stored body's.
#[derive(Debug, Clone)]
pub struct Delivered<M> {
    message: M,
    attempt: u32,
    max_attempts: u32,
    origin: Origin,
    published: DateTime<Utc>,
}

impl<M> Delivered<M> {
    pub(crate) fn new(message: M, attempt: u32, max_attempts: u32, origin: Origin, published: DateTime<Utc>) -> Self {
        Delivered { message, attempt, max_attempts, origin, published }
    }
    /// The message.
    pub fn message(&self) -> &M {
        &self.message
    }
    /// The message, taken out.
    pub fn into_message(self) -> M {
        self.message
    }
    /// Which delivery this is: 1 for the first.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// Whether a failure now sends the message to the dead letters rather than to a retry.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
    /// Stream, subject, sequence and consumer.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
    /// When the broker stored the message.
    pub fn published(&self) -> DateTime<Utc> {
        self.published
    }
}

impl<M> Deref for Delivered<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.message
    }
}
