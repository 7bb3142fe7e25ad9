//! What a handler is given: a decoded, validated message of the registry and its delivery.

use std::ops::Deref;

use chrono::{DateTime, Utc};
use events::{
    AnyCommand, AnyEvent, Command, CommandContract, DecodeError, Envelope, EventContract, Origin, SchemaVersion,
};
use serde::Serialize;

/// Whether a message is an event or a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `eventName`, an [`Envelope`].
    Event,
    /// `commandName`, a [`Command`].
    Command,
}

/// A message type a consumer can decode: a contract's [`Envelope`] or [`Command`], or the
/// registry-wide [`AnyEvent`] and [`AnyCommand`]. Implemented here for those four; not meant to be
/// implemented elsewhere.
pub trait Incoming: Serialize + Send + Sized + 'static {
    /// Event or command.
    const KIND: Kind;
    /// Decodes and validates `bytes`, seen at delivery `attempt` (1 for the first).
    fn decode(bytes: &[u8], attempt: u32) -> Result<Self, DecodeError>;
    /// The contract this type stands for, when it stands for one: `(name, version)`.
    fn contract() -> Option<(&'static str, SchemaVersion)>;
    /// What logs say about the message: name, id, correlation and causation ids. Never its payload.
    fn ids(&self) -> Ids;
}

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

fn ids(name: &'static str, id: impl ToString, correlation: impl ToString, causation: Option<impl ToString>) -> Ids {
    Ids {
        name,
        id: id.to_string(),
        correlation_id: correlation.to_string(),
        causation_id: causation.map(|c| c.to_string()).unwrap_or_default(),
    }
}

impl<P: EventContract> Incoming for Envelope<P> {
    const KIND: Kind = Kind::Event;
    fn decode(bytes: &[u8], attempt: u32) -> Result<Self, DecodeError> {
        Envelope::from_json(bytes).map(|e| e.at_attempt(attempt))
    }
    fn contract() -> Option<(&'static str, SchemaVersion)> {
        Some((P::NAME, P::SCHEMA_REF.version))
    }
    fn ids(&self) -> Ids {
        ids(self.event_name(), self.event_id(), self.correlation_id(), self.causation_id())
    }
}

impl<P: CommandContract> Incoming for Command<P> {
    const KIND: Kind = Kind::Command;
    fn decode(bytes: &[u8], _attempt: u32) -> Result<Self, DecodeError> {
        Command::from_json(bytes)
    }
    fn contract() -> Option<(&'static str, SchemaVersion)> {
        Some((P::NAME, P::SCHEMA_REF.version))
    }
    fn ids(&self) -> Ids {
        ids(self.command_name(), self.command_id(), self.correlation_id(), self.causation_id())
    }
}

impl Incoming for AnyEvent {
    const KIND: Kind = Kind::Event;
    fn decode(bytes: &[u8], attempt: u32) -> Result<Self, DecodeError> {
        AnyEvent::from_json(bytes).map(|e| e.at_attempt(attempt))
    }
    fn contract() -> Option<(&'static str, SchemaVersion)> {
        None
    }
    fn ids(&self) -> Ids {
        ids(self.event_name(), self.event_id(), self.correlation_id(), self.causation_id())
    }
}

impl Incoming for AnyCommand {
    const KIND: Kind = Kind::Command;
    fn decode(bytes: &[u8], _attempt: u32) -> Result<Self, DecodeError> {
        AnyCommand::from_json(bytes)
    }
    fn contract() -> Option<(&'static str, SchemaVersion)> {
        None
    }
    fn ids(&self) -> Ids {
        ids(self.command_name(), self.command_id(), self.correlation_id(), self.causation_id())
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
