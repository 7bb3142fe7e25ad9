//! What is kept of an event given up on: the event itself, untouched, and the story of its failures.
//!
//! The fields follow what brokers already record. Spring Kafka's dead-letter topics carry the
//! original topic, partition, offset and timestamp and the exception's class, message and stack
//! trace in headers; NServiceBus's error queue carries `FailedQ`, `ProcessingEndpoint`,
//! `ProcessingMachine`, `TimeOfFailure` and `ExceptionInfo.*`. Here they travel in one JSON
//! document beside the event rather than in transport headers, so that any broker can carry them.

use std::error::Error;
use std::fmt::Display;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Command, CommandContract, Envelope, EventContract};

/// An event that used up its attempts, with why and where it failed.
///
/// ```
/// use events::order_created_schema::v1_0::OrderCreatedEvent;
/// use events::{DeadLetter, ErrorInfo, Failure, Origin};
///
/// let wire = std::fs::read("tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
/// let event = OrderCreatedEvent::from_json(&wire).unwrap();
/// let failure = Failure::new(1, chrono::Utc::now(), ErrorInfo::new(&"payment service unreachable"));
/// let record = DeadLetter::new(event.clone(), Origin::new("orders", "billing"), vec![], failure);
/// assert_eq!(record.event, event);
/// assert_eq!(record.reason.message, "payment service unreachable");
///
/// // It is JSON, and reads back to the same record.
/// let json = serde_json::to_string(&record).unwrap();
/// assert_eq!(serde_json::from_str::<DeadLetter<_>>(&json).unwrap(), record);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// The envelope's own impls need nothing of P beyond EventContract.
#[serde(rename_all = "camelCase", deny_unknown_fields, bound = "")]
pub struct DeadLetter<P: EventContract> {
    /// The event exactly as it was last delivered: replaying it publishes the same event.
    pub event: Envelope<P>,
    /// The failure that made it a dead letter: the last one.
    pub reason: ErrorInfo,
    /// How many times it was delivered: `retryCount` + 1.
    pub attempts: u32,
    /// Every failure known, oldest first, each with its time (the last one is `reason`). Fewer than
    /// `attempts` when earlier deliveries did not pass theirs on.
    pub failures: Vec<Failure>,
    /// Where it was consumed from, and by whom.
    pub origin: Origin,
    /// When it was given up on.
    pub dead_lettered_at: DateTime<Utc>,
}

impl<P: EventContract> DeadLetter<P> {
    /// The record of `event` given up on now: `earlier` failures (oldest first), then `last`, the
    /// one that ended it. `attempts` comes from the event's `retryCount`.
    pub fn new(event: Envelope<P>, origin: Origin, mut earlier: Vec<Failure>, last: Failure) -> Self {
        let reason = last.error.clone();
        earlier.push(last);
        DeadLetter {
            attempts: event.retry_count().saturating_add(1),
            event,
            reason,
            failures: earlier,
            origin,
            dead_lettered_at: crate::runtime::envelope::now(),
        }
    }
}

/// A command that used up its attempts: the command record of the dead-letter queue, the same
/// story as [`DeadLetter`] for an event. Commands carry no `retryCount`, so `attempts` is the
/// transport's delivery count.
///
/// ```
/// use events::create_order_schema::{latest::OrderItem, CreateOrderCommand, CreateOrderCommandPayload};
/// use events::{CommandDeadLetter, ErrorInfo, Failure, Origin};
///
/// let payload = CreateOrderCommandPayload {
///     customer_id: "CUST67890".into(),
///     items: vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
/// };
/// let command = CreateOrderCommand::new(payload, events::Metadata::new("user123", "Web")).unwrap();
/// let last = Failure::new(3, chrono::Utc::now(), ErrorInfo::new(&"stock service unreachable"));
/// let record = CommandDeadLetter::new(command, 3, Origin::new("commands.CreateOrderCommand", "orders"), vec![], last);
/// assert_eq!((record.attempts, record.failures.len()), (3, 1));
/// let json = serde_json::to_string(&record).unwrap();
/// assert_eq!(serde_json::from_str::<CommandDeadLetter<_>>(&json).unwrap(), record);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, bound = "")]
pub struct CommandDeadLetter<P: CommandContract> {
    /// The command exactly as it was delivered.
    pub command: Command<P>,
    /// The failure that made it a dead letter: the last one.
    pub reason: ErrorInfo,
    /// How many times it was delivered.
    pub attempts: u32,
    /// Every failure known, oldest first (the last one is `reason`).
    pub failures: Vec<Failure>,
    /// Where it was consumed from, and by whom.
    pub origin: Origin,
    /// When it was given up on.
    pub dead_lettered_at: DateTime<Utc>,
}

impl<P: CommandContract> CommandDeadLetter<P> {
    /// The record of `command` given up on now, after `attempts` deliveries: `earlier` failures
    /// (oldest first), then `last`.
    pub fn new(command: Command<P>, attempts: u32, origin: Origin, mut earlier: Vec<Failure>, last: Failure) -> Self {
        let reason = last.error.clone();
        earlier.push(last);
        CommandDeadLetter {
            command,
            reason,
            attempts,
            failures: earlier,
            origin,
            dead_lettered_at: crate::runtime::envelope::now(),
        }
    }
}

/// One failed delivery.
///
/// ```
/// let f = events::Failure::new(2, "2025-02-25T20:31:00Z".parse().unwrap(), events::ErrorInfo::new(&"timeout"));
/// assert_eq!(serde_json::to_value(&f).unwrap(), serde_json::json!({
///     "attempt": 2,
///     "failedAt": "2025-02-25T20:31:00Z",
///     "error": { "type": "&str", "message": "timeout", "causes": [] }
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Failure {
    /// Which delivery failed: 1 for the first, `retryCount` + 1 in general.
    pub attempt: u32,
    /// When handling failed.
    pub failed_at: DateTime<Utc>,
    /// What went wrong.
    pub error: ErrorInfo,
}

impl Failure {
    /// Attempt `attempt` failed at `failed_at` with `error`.
    pub fn new(attempt: u32, failed_at: DateTime<Utc>, error: ErrorInfo) -> Self {
        Failure { attempt, failed_at, error }
    }
}

/// A handler's error, as text that outlives it: its type, its message and the errors beneath it.
///
/// Rust errors carry no stack trace of their own; the chain of [`Error::source`]s plays its part.
/// Anything that implements [`Display`] converts into one (`?` and `.into()` work), naming its
/// type; [`ErrorInfo::from_error`] also keeps the chain.
///
/// ```
/// use events::ErrorInfo;
///
/// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "inventory service timed out");
/// let info = ErrorInfo::from_error(&io);
/// assert_eq!(info.error_type, "std::io::error::Error");
/// assert_eq!(info.message, "inventory service timed out");
///
/// let info: ErrorInfo = String::from("out of stock").into();
/// assert_eq!((info.error_type.as_str(), info.message.as_str()), ("alloc::string::String", "out of stock"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorInfo {
    /// The error's Rust type, as [`std::any::type_name`] gives it (the exception class, elsewhere).
    #[serde(rename = "type")]
    pub error_type: String,
    /// Its message.
    pub message: String,
    /// The messages of its sources, outermost first.
    #[serde(default)]
    pub causes: Vec<String>,
}

impl ErrorInfo {
    /// The type and message of any displayable error.
    ///
    /// ```
    /// let info = events::ErrorInfo::new(&42);
    /// assert_eq!((info.error_type.as_str(), info.message.as_str()), ("i32", "42"));
    /// ```
    pub fn new<E: Display + ?Sized>(error: &E) -> Self {
        ErrorInfo { error_type: std::any::type_name::<E>().to_string(), message: error.to_string(), causes: vec![] }
    }

    /// The type, message and chain of sources of an error.
    ///
    /// ```
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("could not reserve stock")]
    /// struct Reserve(#[source] std::io::Error);
    ///
    /// let err = Reserve(std::io::Error::other("connection reset"));
    /// assert_eq!(events::ErrorInfo::from_error(&err).causes, ["connection reset"]);
    /// ```
    pub fn from_error<E: Error + ?Sized>(error: &E) -> Self {
        let mut info = ErrorInfo::new(error);
        let mut source = error.source();
        while let Some(cause) = source {
            info.causes.push(cause.to_string());
            source = cause.source();
        }
        info
    }
}

/// Converting a displayable error keeps its type and message; use [`ErrorInfo::from_error`] for its
/// sources too. (`ErrorInfo` itself is not `Display`, which is what lets this impl exist.)
impl<E: Display> From<E> for ErrorInfo {
    fn from(error: E) -> Self {
        ErrorInfo::new(&error)
    }
}

/// Where a failed event was consumed from, and by whom.
///
/// ```
/// let origin = events::Origin::new("orders", "billing").at(3, 1042).on_host("billing-7f9c");
/// assert_eq!(serde_json::to_value(&origin).unwrap(), serde_json::json!({
///     "queue": "orders", "partition": 3, "offset": 1042, "endpoint": "billing", "host": "billing-7f9c"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// The topic, queue or subject the event was read from (Spring's original topic, NServiceBus's `FailedQ`).
    pub queue: String,
    /// The stream or log that holds it, where the broker has one (a JetStream stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// Its partition, on a partitioned log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
    /// The event's position in the partition or queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The consuming service or consumer group that failed (NServiceBus's `ProcessingEndpoint`).
    pub endpoint: String,
    /// The machine it ran on (NServiceBus's `ProcessingMachine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Origin {
    /// Read from `queue` by `endpoint`.
    pub fn new(queue: impl Into<String>, endpoint: impl Into<String>) -> Self {
        Origin {
            queue: queue.into(),
            stream: None,
            partition: None,
            offset: None,
            endpoint: endpoint.into(),
            host: None,
        }
    }

    /// Held in `stream`, at position `offset` (a JetStream stream and its sequence number).
    ///
    /// ```
    /// let origin = events::Origin::new("events.domain.OrderCreatedEvent", "billing").in_stream("EVENTS", 17);
    /// assert_eq!(serde_json::to_value(&origin).unwrap(), serde_json::json!({
    ///     "queue": "events.domain.OrderCreatedEvent", "stream": "EVENTS", "offset": 17, "endpoint": "billing"
    /// }));
    /// ```
    pub fn in_stream(mut self, stream: impl Into<String>, offset: u64) -> Self {
        self.stream = Some(stream.into());
        self.offset = Some(offset);
        self
    }

    /// At `offset` of `partition`.
    pub fn at(mut self, partition: u32, offset: u64) -> Self {
        self.partition = Some(partition);
        self.offset = Some(offset);
        self
    }

    /// Run on `host`.
    pub fn on_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }
}
