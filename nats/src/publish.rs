//! Publishing: the subject and headers from the registry, the body exactly as `to_json` writes it,
//! the broker's acknowledgement awaited, retries under one `Nats-Msg-Id` up to a deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishErrorKind as NatsKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::HeaderMap;
use bytes::Bytes;
use events::{Command, CommandContract, Envelope, EventContract, Message, Registry};

use crate::subject::{self, header};

/// Header names built at compile time: inserting one neither validates nor allocates it.
mod names {
    use async_nats::header::HeaderName;

    use crate::subject::header;

    pub const MSG_ID: HeaderName = HeaderName::from_static(header::MSG_ID);
    pub const CONTENT_TYPE: HeaderName = HeaderName::from_static(header::CONTENT_TYPE);
    pub const KIND: HeaderName = HeaderName::from_static(header::KIND);
    pub const NAME: HeaderName = HeaderName::from_static(header::NAME);
    pub const EVENT_TYPE: HeaderName = HeaderName::from_static(header::EVENT_TYPE);
    pub const SCHEMA_ID: HeaderName = HeaderName::from_static(header::SCHEMA_ID);
    pub const SCHEMA_VERSION: HeaderName = HeaderName::from_static(header::SCHEMA_VERSION);
    pub const CORRELATION_ID: HeaderName = HeaderName::from_static(header::CORRELATION_ID);
    pub const CAUSATION_ID: HeaderName = HeaderName::from_static(header::CAUSATION_ID);
    pub const TAG: HeaderName = HeaderName::from_static(header::TAG);
}
use crate::Broker;

/// A message ready for the broker: what a publish sends, and what a failed one hands back.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The subject it goes to.
    pub subject: String,
    /// Its headers, `Nats-Msg-Id` among them.
    pub headers: HeaderMap,
    /// The body: the message's JSON, byte for byte.
    pub body: Bytes,
    /// Its `Nats-Msg-Id`.
    pub msg_id: String,
    /// `eventName` or `commandName`, for logs.
    pub name: String,
}

impl Outgoing {
    /// An event: subject `events.<eventType>.<eventName>`, `Nats-Msg-Id` the eventId.
    ///
    /// ```
    /// use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
    /// let payload = InventoryUpdatedIntegrationEventPayload {
    ///     item_id: "ITEM001".into(),
    ///     new_quantity: 90,
    ///     warehouse_id: "WH1".into(),
    /// };
    /// let event = InventoryUpdatedIntegrationEvent::new(payload, events::Metadata::new("stock", "InventoryService")).unwrap();
    /// let out = events_nats::Outgoing::event(&event);
    /// assert_eq!(out.subject, "events.integration.InventoryUpdatedIntegrationEvent");
    /// assert_eq!(out.msg_id, event.event_id().to_string());
    /// assert_eq!(out.body, event.to_json().into_bytes());
    /// assert_eq!(out.headers.get("Events-Schema-Version").unwrap().as_str(), "1.0");
    /// ```
    pub fn event<P: EventContract>(event: &Envelope<P>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(names::KIND, "event");
        headers.insert(names::EVENT_TYPE, subject::type_token(event.event_type()));
        Self::typed::<P>(
            subject::event_subject(event.event_type(), event.event_name()),
            headers,
            (event.event_id().to_string(), event.correlation_id(), event.causation_id()),
            event.tags(),
            event.to_json(),
        )
    }

    /// A command: subject `commands.<commandName>`, `Nats-Msg-Id` the commandId.
    pub fn command<P: CommandContract>(command: &Command<P>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(names::KIND, "command");
        Self::typed::<P>(
            subject::command_subject(command.command_name()),
            headers,
            (command.command_id().to_string(), command.correlation_id(), command.causation_id()),
            command.tags(),
            command.to_json(),
        )
    }

    /// What events and commands share: the contract's headers, the ids, the tags, the body.
    fn typed<P: events::Contract>(
        subject: String,
        mut headers: HeaderMap,
        (msg_id, correlation, causation): (String, events::CorrelationId, Option<events::CausationId>),
        tags: &[String],
        body: String,
    ) -> Self {
        let version = P::SCHEMA_REF.version;
        common_headers(&mut headers, &msg_id, P::NAME, P::SCHEMA_REF.id, version, &correlation.to_string());
        if let Some(c) = causation {
            headers.insert(names::CAUSATION_ID, c.to_string().as_str());
        }
        for tag in tags {
            headers.append(names::TAG, tag.as_str());
        }
        Outgoing { subject, headers, body: Bytes::from(body), msg_id, name: P::NAME.to_string() }
    }

    /// A message of registry `R` given as JSON (a dead-letter record's, say): decoded and
    /// validated first, then given the headers `event`/`command` would give it, for `subject`.
    pub fn from_json<R: Registry>(message: &serde_json::Value, subject: &str) -> Result<Self, events::DecodeError> {
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let mut headers = HeaderMap::new();
        let (name, msg_id, body, schema) = if message.get("commandName").is_some() {
            let command = R::Command::decode_value(message.clone())?;
            headers.insert(names::KIND, "command");
            let body = serde_json::to_string(&command).expect("a command always serializes");
            (command.name(), command.message_id(), body, command.schema_ref())
        } else {
            let event = R::Event::decode_value(message.clone())?;
            headers.insert(names::KIND, "event");
            if let Some(t) = text(&message["eventType"]) {
                headers.insert(names::EVENT_TYPE, t.as_str());
            }
            let body = serde_json::to_string(&event).expect("an event always serializes");
            (event.name(), event.message_id(), body, event.schema_ref())
        };
        let correlation = text(&message["correlationId"]).unwrap_or_default();
        common_headers(&mut headers, &msg_id, name, &schema.id, schema.version, &correlation);
        if let Some(c) = text(&message["causationId"]) {
            headers.insert(names::CAUSATION_ID, c.as_str());
        }
        for tag in message["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str()) {
            headers.append(names::TAG, tag);
        }
        Ok(Outgoing { subject: subject.to_string(), headers, body: Bytes::from(body), msg_id, name: name.to_string() })
    }
}

fn common_headers(
    h: &mut HeaderMap,
    msg_id: &str,
    name: &str,
    schema_id: &str,
    version: events::SchemaVersion,
    correlation: &str,
) {
    h.insert(names::MSG_ID, msg_id);
    h.insert(names::CONTENT_TYPE, "application/json");
    h.insert(names::NAME, name);
    h.insert(names::SCHEMA_ID, schema_id);
    h.insert(names::SCHEMA_VERSION, version.to_string());
    h.insert(names::CORRELATION_ID, correlation);
}

/// What the broker said when it stored a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The stream that holds it.
    pub stream: String,
    /// Its sequence number there (the first copy's, for a duplicate).
    pub sequence: u64,
    /// The same `Nats-Msg-Id` was already stored within the duplicate window: stored once, and
    /// this publish changed nothing. Not an error.
    pub duplicate: bool,
    /// How many attempts it took.
    pub attempts: u32,
}

/// A publish that did not end in a stored message. The message is handed back in
/// [`PublishError::message`], so that nothing is lost silently: keep it and publish it again
/// with [`Publisher::publish_outgoing`].
#[derive(Debug, thiserror::Error)]
#[error("{subject}: {name} {msg_id} not published after {attempts} attempt(s) in {elapsed:?}: {reason}",
    subject = message.subject, name = message.name, msg_id = message.msg_id)]
pub struct PublishError {
    kind: PublishErrorKind,
    /// The message, as it would have been sent.
    pub message: Box<Outgoing>,
    /// Attempts made.
    pub attempts: u32,
    /// Time spent.
    pub elapsed: Duration,
    reason: String,
}

/// The kinds of [`PublishError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishErrorKind {
    /// The broker did not acknowledge the message before the deadline (down, unreachable, slow).
    Unavailable,
    /// No stream takes the subject: the streams were not set up, or were deleted.
    NoStream,
    /// The broker refused the message for good (too large, for instance); retrying cannot help.
    Rejected,
    /// The broker refused the subject: this service may not publish it (the registry's
    /// `publishers`, enforced by the broker's permissions).
    Forbidden,
}

impl PublishError {
    /// What kind of failure.
    pub fn kind(&self) -> PublishErrorKind {
        self.kind
    }
    /// The message handed back.
    pub fn into_message(self) -> Outgoing {
        *self.message
    }
}

/// Publishes events and commands of the registry. Cheap to clone.
///
/// ```no_run
/// # async fn run(broker: events_nats::Broker, event: events::order_created_schema::OrderCreatedEvent) -> Result<(), events_nats::PublishError> {
/// let publisher = broker.publisher();
/// let published = publisher.publish(&event).await?; // returns once the broker has stored it
/// assert!(!published.duplicate);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Publisher {
    broker: Broker,
    retried: Arc<AtomicU64>,
}

impl Broker {
    /// A publisher over this broker.
    pub fn publisher(&self) -> Publisher {
        Publisher { broker: self.clone(), retried: Arc::new(AtomicU64::new(0)) }
    }
}

impl Publisher {
    /// Publishes an event and waits until the broker has stored it.
    pub async fn publish<P: EventContract>(&self, event: &Envelope<P>) -> Result<Published, PublishError> {
        // Built again for a retry rather than copied for every attempt: the same bytes either way.
        self.publish_with(|| Outgoing::event(event)).await
    }

    /// Publishes a command and waits until the broker has stored it.
    pub async fn publish_command<P: CommandContract>(&self, command: &Command<P>) -> Result<Published, PublishError> {
        self.publish_with(|| Outgoing::command(command)).await
    }

    /// How many publish attempts this publisher (and its clones) retried so far: a health signal
    /// of the broker as this service sees it.
    pub fn retried_attempts(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Publishes a prepared message (one handed back by a [`PublishError`], say). Retries, with
    /// backoff and the same `Nats-Msg-Id`, until the broker acknowledges it or the configured
    /// deadline passes; the deadline is shorter than the duplicate window, so a retry of a
    /// message the broker did store is recognised as a duplicate, never stored twice.
    pub async fn publish_outgoing(&self, message: Outgoing) -> Result<Published, PublishError> {
        self.publish_with(|| message.clone()).await
    }

    async fn publish_with(&self, make: impl Fn() -> Outgoing) -> Result<Published, PublishError> {
        let config = &self.broker.0.config;
        let started = Instant::now();
        let mut backoff = Duration::from_millis(20);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let message = make();
            // What the logs say, kept before the message is handed to the client.
            let logged = tracing::enabled!(tracing::Level::INFO).then(|| Logged::of(&message));
            let remaining = config.publish_deadline.saturating_sub(started.elapsed());
            let (kind, reason) = match self.attempt(message, remaining.min(config.publish_attempt_timeout)).await {
                Ok(ack) => {
                    let published =
                        Published { stream: ack.stream, sequence: ack.sequence, duplicate: ack.duplicate, attempts };
                    if let Some(l) = logged {
                        tracing::info!(
                            subject = %l.subject, name = %l.name, msg_id = %l.msg_id, correlation_id = %l.correlation_id,
                            causation_id = %l.causation_id, stream = %published.stream, sequence = published.sequence,
                            duplicate = published.duplicate, attempts, "published"
                        );
                    }
                    return Ok(published);
                }
                Err((kind, reason)) => (kind, reason),
            };
            let message = make();
            let elapsed = started.elapsed();
            let give_up = matches!(kind, PublishErrorKind::Rejected | PublishErrorKind::Forbidden)
                || elapsed + backoff >= config.publish_deadline;
            if give_up {
                tracing::error!(subject = %message.subject, name = %message.name, msg_id = %message.msg_id,
                    attempts, reason = %reason, "publish failed; the message is handed back to the caller");
                return Err(PublishError { kind, message: Box::new(message), attempts, elapsed, reason });
            }
            tracing::warn!(subject = %message.subject, name = %message.name, msg_id = %message.msg_id,
                attempts, reason = %reason, retry_in = ?backoff, "publish not acknowledged; retrying");
            self.retried.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }

    /// One attempt. Handing the message to the client is bounded by `limit`; the wait for the
    /// acknowledgement by the context's timeout (the attempt timeout), so that a pending publish
    /// holds one timer, not two.
    async fn attempt(
        &self,
        message: Outgoing,
        limit: Duration,
    ) -> Result<async_nats::jetstream::publish::PublishAck, (PublishErrorKind, String)> {
        // `Nats-Msg-Id` is among the headers already.
        let publish = PublishMessage::build().payload(message.body).headers(message.headers);
        let classify = |kind: NatsKind, text: String| match kind {
            NatsKind::MaxPayloadExceeded | NatsKind::WrongLastMessageId | NatsKind::WrongLastSequence => {
                (PublishErrorKind::Rejected, text)
            }
            NatsKind::StreamNotFound => (PublishErrorKind::NoStream, text),
            _ => (PublishErrorKind::Unavailable, text),
        };
        let since = crate::violations::mark();
        let subject = message.subject.clone();
        let service = self.broker.0.config.service.as_deref();
        let send = self.broker.0.jetstream.send_publish(message.subject, publish);
        let attempt = async {
            let ack = tokio::time::timeout(limit, send)
                .await
                .map_err(|_| {
                    (PublishErrorKind::Unavailable, "the client did not take the message in time".to_string())
                })?
                .map_err(|e| classify(e.kind(), e.to_string()))?;
            ack.await.map_err(|e| classify(e.kind(), e.to_string()))
        };
        // A refused subject is never acknowledged: the broker's violation notice ends the wait.
        tokio::select! {
            result = attempt => result,
            () = crate::violations::refused(service, &subject, since) => Err((
                PublishErrorKind::Forbidden,
                format!(
                    "the broker refused publishing to {subject}: {} may not publish it (permissions violation)",
                    service.unwrap_or("this connection's user")
                ),
            )),
        }
    }
}

/// The fields a publish log line carries.
struct Logged {
    subject: String,
    name: String,
    msg_id: String,
    correlation_id: String,
    causation_id: String,
}

impl Logged {
    fn of(m: &Outgoing) -> Self {
        Logged {
            subject: m.subject.clone(),
            name: m.name.clone(),
            msg_id: m.msg_id.clone(),
            correlation_id: header_str(&m.headers, header::CORRELATION_ID).to_string(),
            causation_id: header_str(&m.headers, header::CAUSATION_ID).to_string(),
        }
    }
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.as_str()).unwrap_or("")
}
