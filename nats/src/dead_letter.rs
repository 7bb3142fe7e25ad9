//! Dead letters on the broker: the records written to the dead-letter stream, and the failures of
//! earlier deliveries kept in a key-value bucket until the record is written.

use std::collections::BTreeMap;

use async_nats::jetstream::kv;
use async_nats::HeaderMap;
use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use events::{DecodeError, ErrorInfo, Failure, Origin};
use serde::{Deserialize, Serialize};

use crate::message::{Ids, Kind};
use crate::publish::Outgoing;
use crate::subject::{self, header};

/// A message that could not be decoded or failed validation, as the dead-letter stream keeps it:
/// retrying cannot help, so it is dead-lettered at its first delivery, byte for byte.
///
/// ```
/// let record: events_nats::PoisonMessage = serde_json::from_value(serde_json::json!({
///     "body": "{\"eventName\": 42}",
///     "headers": { "Nats-Msg-Id": ["abc"] },
///     "error": { "message": "/eventName: expected a string", "pointer": "/eventName" },
///     "origin": { "queue": "events.domain.OrderCreatedEvent", "stream": "EVENTS", "offset": 7, "endpoint": "billing" },
///     "deadLetteredAt": "2025-02-25T19:05:00Z"
/// })).unwrap();
/// assert_eq!(record.body_bytes().unwrap(), br#"{"eventName": 42}"#);
/// assert_eq!(record.error.pointer.as_deref(), Some("/eventName"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoisonMessage {
    /// The body as received, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body as received, base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// Its headers, every value of each.
    pub headers: BTreeMap<String, Vec<String>>,
    /// Why it was refused.
    pub error: DecodeFailure,
    /// Where it was read from, and by whom.
    pub origin: Origin,
    /// When it was given up on.
    pub dead_lettered_at: DateTime<Utc>,
}

/// The decode error of a poison message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeFailure {
    /// The error's message, with its JSON pointer.
    pub message: String,
    /// The JSON pointer of the offending value, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl PoisonMessage {
    /// The body exactly as received.
    pub fn body_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => Ok(text.as_bytes().to_vec()),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD.decode(b64),
            (None, None) => Ok(Vec::new()),
        }
    }

    pub(crate) fn new(body: &[u8], headers: Option<&HeaderMap>, error: &DecodeError, origin: Origin) -> Self {
        let (text, b64) = match std::str::from_utf8(body) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (None, Some(base64::engine::general_purpose::STANDARD.encode(body))),
        };
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, values) in headers.into_iter().flat_map(|h| h.iter()) {
            map.entry(name.to_string()).or_default().extend(values.iter().map(|v| v.as_str().to_string()));
        }
        PoisonMessage {
            body: text,
            body_base64: b64,
            headers: map,
            error: DecodeFailure { message: error.to_string(), pointer: error.pointer().map(str::to_string) },
            origin,
            dead_lettered_at: Utc::now(),
        }
    }
}

/// The dead-letter message of a poison message.
pub(crate) fn poison_record(record: &PoisonMessage, consumer: &str) -> Outgoing {
    let body = serde_json::to_vec(record).expect("a poison record always serializes");
    let headers = record_headers("poison", &record.origin, consumer);
    outgoing(&record.origin, consumer, headers, body, "poison message".to_string())
}

/// The dead-letter message of an event or a command given up on: the same JSON as
/// [`events::DeadLetter`] (events) or [`events::CommandDeadLetter`] (commands), so that either
/// reads it back typed.
pub(crate) fn message_record(
    kind: Kind,
    message: serde_json::Value,
    ids: &Ids,
    attempts: u32,
    failures: Vec<Failure>,
    origin: &Origin,
    consumer: &str,
) -> Outgoing {
    let reason = failures.last().map(|f| f.error.clone()).unwrap_or_else(|| ErrorInfo::new("no failure recorded"));
    let field = match kind {
        Kind::Event => "event",
        Kind::Command => "command",
    };
    let record = serde_json::json!({
        field: message,
        "reason": reason,
        "attempts": attempts,
        "failures": failures,
        "origin": origin,
        "deadLetteredAt": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    let mut headers = record_headers(field, origin, consumer);
    headers.insert(header::NAME, ids.name);
    headers.insert(header::CORRELATION_ID, ids.correlation_id.as_str());
    if !ids.causation_id.is_empty() {
        headers.insert(header::CAUSATION_ID, ids.causation_id.as_str());
    }
    let body = serde_json::to_vec(&record).expect("a dead-letter record always serializes");
    outgoing(origin, consumer, headers, body, ids.name.to_string())
}

fn outgoing(origin: &Origin, consumer: &str, headers: HeaderMap, body: Vec<u8>, name: String) -> Outgoing {
    let msg_id = subject::dead_letter_msg_id(
        origin.stream.as_deref().unwrap_or_default(),
        origin.offset.unwrap_or_default(),
        consumer,
    );
    let mut headers = headers;
    headers.insert(header::MSG_ID, msg_id.as_str());
    Outgoing {
        subject: subject::dead_letter_subject(consumer, &origin.queue),
        headers,
        body: Bytes::from(body),
        msg_id,
        name,
    }
}

fn record_headers(kind: &str, origin: &Origin, consumer: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, "application/json");
    h.insert(header::DEAD_LETTER, kind);
    h.insert(header::CONSUMER, consumer);
    h.insert(header::ORIGIN_SUBJECT, origin.queue.as_str());
    if let Some(stream) = &origin.stream {
        h.insert(header::ORIGIN_STREAM, stream.as_str());
    }
    if let Some(seq) = origin.offset {
        h.insert(header::ORIGIN_SEQUENCE, seq.to_string().as_str());
    }
    h
}

/// The failures of a message's earlier deliveries, per consumer, in the broker's key-value
/// bucket: a nak carries nothing, and another instance may take the next delivery.
#[derive(Debug, Clone)]
pub(crate) struct FailureLog {
    store: kv::Store,
}

impl FailureLog {
    pub fn new(store: kv::Store) -> Self {
        FailureLog { store }
    }

    pub async fn load(&self, key: &str) -> Vec<Failure> {
        match self.store.get(key).await {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(key, error = %e, "unreadable failure log entry; starting afresh");
                Vec::new()
            }),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(key, error = %e, "could not read the failure log; the record may list fewer failures");
                Vec::new()
            }
        }
    }

    /// Appends `failure` unless an entry for its attempt is already there; returns them all.
    pub async fn push(&self, key: &str, failure: Failure) -> Vec<Failure> {
        let mut all = self.load(key).await;
        all.retain(|f| f.attempt != failure.attempt);
        all.push(failure);
        all.sort_by_key(|f| f.attempt);
        let bytes = serde_json::to_vec(&all).expect("failures always serialize");
        if let Err(e) = self.store.put(key, bytes.into()).await {
            tracing::warn!(key, error = %e, "could not record a failure; the record may list fewer failures");
        }
        all
    }

    pub async fn clear(&self, key: &str) {
        if let Err(e) = self.store.purge(key).await {
            tracing::warn!(key, error = %e, "could not clear the failure log entry; it expires with the bucket's max age");
        }
    }
}

impl crate::Broker {
    /// A durable reader of the dead letters of consumer `consumer` (`deadletters.<consumer>.>`),
    /// named after it: the one way a service under the registry's access rules may read dead
    /// letters, its own. Reads from the first record kept; acknowledge what has been looked at.
    pub async fn dead_letter_reader(
        &self,
        consumer: &str,
    ) -> Result<async_nats::jetstream::consumer::PullConsumer, crate::ConsumerError> {
        use crate::{ConsumerError, ConsumerErrorKind};
        use async_nats::jetstream::consumer::{pull, AckPolicy};
        let fail = |what: &str, e: events::BoxError| {
            ConsumerError::with_source(ConsumerErrorKind::Broker, format!("dead-letter reader {consumer}: {what}"), e)
        };
        if !subject::is_consumer_name(consumer) {
            return Err(ConsumerError::new(
                ConsumerErrorKind::Config,
                format!("consumer name {consumer:?}: use letters, digits, `-` and `_`"),
            ));
        }
        let stream = self
            .0
            .jetstream
            .get_stream(subject::DEAD_LETTERS_STREAM)
            .await
            .map_err(|e| fail("the stream", e.into()))?;
        let config = pull::Config {
            durable_name: Some(consumer.to_string()),
            filter_subject: subject::dead_letter_subject(consumer, ">"),
            ack_policy: AckPolicy::Explicit,
            ..Default::default()
        };
        stream.create_consumer(config).await.map_err(|e| fail("creating the reader", e.into()))
    }
}
