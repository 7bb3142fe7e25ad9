//! Naming rules of the transport, in one place: subjects, stream names, header names and the keys
//! every step derives from a message. Every other module imports these; none defines its own.

use events::EventType;

/// The stream of every event: subjects `events.<eventType>.<eventName>`.
pub const EVENTS_STREAM: &str = "EVENTS";
/// The stream of every command: subjects `commands.<commandName>`.
pub const COMMANDS_STREAM: &str = "COMMANDS";
/// The stream of dead-letter records: subjects `deadletters.<consumer>.<original subject>`.
pub const DEAD_LETTERS_STREAM: &str = "DEAD_LETTERS";
/// The key-value bucket where consumers keep the failures of earlier deliveries, so that a
/// dead-letter record lists every attempt (a nak cannot carry them).
pub const FAILURES_BUCKET: &str = "EVENTS_FAILURES";

/// The prefix of each consumer's processed-id bucket: `PROCESSED_<consumer>`.
pub const PROCESSED_BUCKET_PREFIX: &str = "PROCESSED_";

/// The subjects of the events stream.
pub const EVENTS_SUBJECTS: &str = "events.>";
/// The subjects of the commands stream.
pub const COMMANDS_SUBJECTS: &str = "commands.>";
/// The subjects of the dead-letter stream.
pub const DEAD_LETTERS_SUBJECTS: &str = "deadletters.>";

/// Header names. `Nats-Msg-Id` is JetStream's de-duplication key.
pub mod header {
    /// JetStream's de-duplication id: the eventId (commandId for commands).
    pub const MSG_ID: &str = "Nats-Msg-Id";
    /// `application/json`.
    pub const CONTENT_TYPE: &str = "Content-Type";
    /// `event` or `command`.
    pub const KIND: &str = "Events-Kind";
    /// `eventName` or `commandName`.
    pub const NAME: &str = "Events-Name";
    /// `eventType` (events only).
    pub const EVENT_TYPE: &str = "Events-Event-Type";
    /// `schemaRef.id`.
    pub const SCHEMA_ID: &str = "Events-Schema-Id";
    /// `schemaRef.version`.
    pub const SCHEMA_VERSION: &str = "Events-Schema-Version";
    /// `correlationId`.
    pub const CORRELATION_ID: &str = "Events-Correlation-Id";
    /// `causationId`, when there is one.
    pub const CAUSATION_ID: &str = "Events-Causation-Id";
    /// One value per tag.
    pub const TAG: &str = "Events-Tag";
    /// On a dead-letter record: `event`, `command` or `poison`.
    pub const DEAD_LETTER: &str = "Events-Dead-Letter";
    /// On a dead-letter record: the consumer that gave up.
    pub const CONSUMER: &str = "Events-Consumer";
    /// On a dead-letter record: the stream the message was read from.
    pub const ORIGIN_STREAM: &str = "Events-Origin-Stream";
    /// On a dead-letter record: its sequence number in that stream.
    pub const ORIGIN_SEQUENCE: &str = "Events-Origin-Sequence";
    /// On a dead-letter record: the subject it was published on.
    pub const ORIGIN_SUBJECT: &str = "Events-Origin-Subject";
    /// On a replayed message: the one consumer that handles it (the one that failed it); every
    /// other consumer acknowledges it unhandled.
    pub const REPLAY_FOR: &str = "Events-Replay-For";
    /// On a replayed message: the sequence of the dead-letter record it replays.
    pub const REPLAY_OF: &str = "Events-Replay-Of";
}

/// The inbox prefix of a service's connections, `_INBOX_<service>`: replies to its requests (and
/// the messages its consumers pull) arrive under it, where no other service may subscribe.
///
/// ```
/// assert_eq!(events_broker::subject::inbox_prefix("PaymentService"), "_INBOX_PaymentService");
/// ```
pub fn inbox_prefix(service: &str) -> String {
    format!("_INBOX_{service}")
}

/// `events.<eventType>.<eventName>`: one wildcard (`events.integration.>`) subscribes to a kind.
///
/// ```
/// assert_eq!(
///     events_broker::event_subject(events::EventType::Integration, "InventoryUpdatedIntegrationEvent"),
///     "events.integration.InventoryUpdatedIntegrationEvent"
/// );
/// ```
pub fn event_subject(event_type: EventType, name: &str) -> String {
    format!("events.{}.{name}", type_token(event_type))
}

/// `commands.<commandName>`.
///
/// ```
/// assert_eq!(events_broker::command_subject("CreateOrderCommand"), "commands.CreateOrderCommand");
/// ```
pub fn command_subject(name: &str) -> String {
    format!("commands.{name}")
}

/// `deadletters.<consumer>.<original subject>`: select by consumer, then by contract.
///
/// ```
/// assert_eq!(
///     events_broker::dead_letter_subject("PaymentService", "events.integration.InventoryUpdatedIntegrationEvent"),
///     "deadletters.PaymentService.events.integration.InventoryUpdatedIntegrationEvent"
/// );
/// ```
pub fn dead_letter_subject(consumer: &str, original: &str) -> String {
    format!("deadletters.{consumer}.{original}")
}

/// The `Nats-Msg-Id` of a dead-letter record: one record per stream message and consumer, however
/// often the consumer crashes between writing it and terminating the message.
pub fn dead_letter_msg_id(stream: &str, sequence: u64, consumer: &str) -> String {
    format!("deadletter:{stream}:{sequence}:{consumer}")
}

/// The `Nats-Msg-Id` of a replayed dead letter: the original id is still inside the duplicate
/// window, so the replay needs one of its own.
pub fn replay_msg_id(id: &str, dead_letter_sequence: u64) -> String {
    format!("{id}:replay:{dead_letter_sequence}")
}

/// The key of a message's earlier failures in [`FAILURES_BUCKET`].
pub fn failures_key(consumer: &str, stream: &str, sequence: u64) -> String {
    format!("{consumer}.{stream}.{sequence}")
}

/// The subject token of an event type: `domain`, `integration`, `notification`.
pub fn type_token(event_type: EventType) -> &'static str {
    match event_type {
        EventType::Domain => "domain",
        EventType::Integration => "integration",
        EventType::Notification => "notification",
    }
}

/// Whether `token` can stand as one subject token: no `.`, `*`, `>` or whitespace, not empty.
pub fn is_token(token: &str) -> bool {
    !token.is_empty() && !token.chars().any(|c| matches!(c, '.' | '*' | '>') || c.is_whitespace() || c.is_control())
}

/// Whether `filter` is a subject filter: tokens, `*` for one token, `>` last for the rest.
pub fn is_filter(filter: &str) -> bool {
    let tokens: Vec<&str> = filter.split('.').collect();
    tokens.len() >= 2
        && tokens.iter().enumerate().all(|(i, t)| is_token(t) || *t == "*" || (*t == ">" && i == tokens.len() - 1))
}

/// Whether `name` is a valid durable consumer name: letters, digits, `-` and `_` (it is also part
/// of subjects and key-value keys).
pub fn is_consumer_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_refuse_what_subjects_treat_specially() {
        for bad in ["", "a.b", "a*", ">", "a b", "a\tb"] {
            assert!(!is_token(bad), "{bad:?}");
        }
        assert!(is_token("OrderCreatedEvent"));
        assert!(is_consumer_name("Payment-Service_2"));
        assert!(is_filter("events.>") && is_filter("events.*.OrderCreatedEvent"));
        assert!(!is_filter("events") && !is_filter("events.>.x") && !is_filter("events..x"));
        assert!(!is_consumer_name("payment.service"));
    }
}
