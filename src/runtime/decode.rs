//! Decoding incoming JSON: envelope fields one by one (so errors carry a JSON pointer), then the
//! payload against its schema, then into the typed payload.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{
    CausationId, CommandId, Contract, CorrelationId, EventId, EventStatus, EventType, Metadata, SchemaRef,
    SchemaVersion,
};

/// Why a message was refused. Every variant that concerns a value names its JSON pointer.
///
/// ```
/// let bytes = br#"{"eventName": "OrderCreatedEvent", "eventId": "not-a-uuid"}"#;
/// let err = events::AnyEvent::from_json(bytes).unwrap_err();
/// assert_eq!(err.pointer(), Some("/eventId"));
/// assert!(matches!(err, events::DecodeError::Invalid { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A required envelope field is absent.
    #[error("{pointer}: required field is missing")]
    Missing {
        /// Where the field should be.
        pointer: String,
    },
    /// An envelope field has the wrong shape.
    #[error("{pointer}: {message}")]
    Invalid {
        /// The field.
        pointer: String,
        /// What is wrong with it.
        message: String,
    },
    /// The envelope has a member the specification does not define; refused rather than dropped.
    #[error("{pointer}: unknown envelope field")]
    UnknownField {
        /// The member.
        pointer: String,
    },
    /// No contract of the registry has this name (and version).
    #[error("{pointer}: unknown contract `{name}`{}", version.map(|v| format!(" version {v}")).unwrap_or_default())]
    UnknownContract {
        /// `/eventName` or `/commandName`.
        pointer: String,
        /// `eventName` or `commandName`.
        name: String,
        /// The schema version asked for, if any.
        version: Option<SchemaVersion>,
    },
    /// A field disagrees with what the registry says about this contract.
    #[error("{pointer}: expected {expected}, found {found}")]
    Mismatch {
        /// The field.
        pointer: String,
        /// The registry's value.
        expected: String,
        /// The message's value.
        found: String,
    },
    /// The payload violates its schema.
    #[error("the payload violates its schema: {}", violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
    Payload {
        /// Every violation found.
        violations: Vec<Violation>,
    },
}

impl DecodeError {
    /// The JSON pointer of the (first) offending value, when there is one.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            DecodeError::Missing { pointer }
            | DecodeError::Invalid { pointer, .. }
            | DecodeError::UnknownField { pointer }
            | DecodeError::Mismatch { pointer, .. }
            | DecodeError::UnknownContract { pointer, .. } => Some(pointer),
            DecodeError::Payload { violations } => violations.first().map(|v| v.pointer.as_str()),
            DecodeError::Syntax { .. } => None,
        }
    }
}

/// One way in which a payload breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message} ({keyword})")]
pub struct Violation {
    /// Pointer into the message, starting with `/payload`.
    pub pointer: String,
    /// The schema keyword that failed (`minimum`, `required`, …).
    pub keyword: String,
    /// What is wrong.
    pub message: String,
}

/// A message's bytes as JSON; bytes that are not JSON are [`DecodeError::Syntax`], with the line
/// and column. What every decoder reads first, and what a transport parses a message with to route
/// it before decoding it from that parse ([`crate::Message::decode_value`]).
///
/// ```
/// let err = events::parse_json(b"{ nope").unwrap_err();
/// assert!(matches!(err, events::DecodeError::Syntax { line: 1, .. }), "{err}");
/// ```
pub fn parse_json(bytes: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(bytes).map_err(|e| DecodeError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// The members of an envelope object, taken out one at a time.
pub(crate) struct Fields(Map<String, Value>);

impl Fields {
    pub fn new(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Object(map) => Ok(Fields(map)),
            other => Err(DecodeError::Invalid {
                pointer: String::new(),
                message: format!("expected an object, found {}", kind(&other)),
            }),
        }
    }

    pub fn optional<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, DecodeError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|e| DecodeError::Invalid { pointer: format!("/{key}"), message: e.to_string() }),
        }
    }

    pub fn required<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, DecodeError> {
        self.optional(key)?.ok_or_else(|| DecodeError::Missing { pointer: format!("/{key}") })
    }

    /// An RFC 3339 timestamp in UTC (`Z` or a zero offset): another offset would not survive
    /// re-encoding unchanged, so it is refused rather than silently converted.
    pub fn timestamp(&mut self, key: &str) -> Result<DateTime<Utc>, DecodeError> {
        let text: String = self.required(key)?;
        crate::runtime::fast::parse_utc(&text)
            .map_err(|message| DecodeError::Invalid { pointer: format!("/{key}"), message })
    }

    pub fn payload(&mut self) -> Result<Value, DecodeError> {
        self.0.remove("payload").ok_or_else(|| DecodeError::Missing { pointer: "/payload".into() })
    }

    /// Whatever is left, for a format that keeps members it does not know (CloudEvents extensions).
    #[cfg(feature = "cloudevents")]
    pub fn into_rest(self) -> Map<String, Value> {
        self.0
    }

    /// Refuses whatever is left: an unknown member would otherwise be lost on re-encoding.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.0.keys().next() {
            Some(key) => {
                Err(DecodeError::UnknownField { pointer: format!("/{}", key.replace('~', "~0").replace('/', "~1")) })
            }
            None => Ok(()),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What events and commands both carry, read the same way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Common {
    pub name: String,
    pub correlation_id: CorrelationId,
    pub causation_id: Option<CausationId>,
    pub timestamp: DateTime<Utc>,
    pub version: Option<SchemaVersion>,
    pub schema_ref: Option<SchemaRef>,
    pub tags: Option<Vec<String>>,
    pub payload: Value,
    pub metadata: Metadata,
}

impl Common {
    /// Reads an envelope: its name, then the fields of its kind (`own`), then the shared ones;
    /// whatever is left is refused.
    fn read<S>(
        value: Value,
        name_key: &str,
        own: impl FnOnce(&mut Fields) -> Result<S, DecodeError>,
    ) -> Result<(Common, S), DecodeError> {
        let mut f = Fields::new(value)?;
        let name = f.required(name_key)?;
        let own = own(&mut f)?;
        let common = Common {
            name,
            correlation_id: f.required("correlationId")?,
            causation_id: f.optional("causationId")?,
            timestamp: f.timestamp("timestamp")?,
            version: f.optional("version")?,
            schema_ref: f.optional("schemaRef")?,
            tags: f.optional("tags")?,
            payload: f.payload()?,
            metadata: f.required("metadata")?,
        };
        f.finish()?;
        Ok((common, own))
    }

    /// The schema version the message claims: `schemaRef.version`, else `version`.
    fn schema_version(&self) -> Option<SchemaVersion> {
        self.schema_ref.as_ref().map(|r| r.version).or(self.version)
    }

    fn version_pointer(&self) -> &'static str {
        if self.schema_ref.is_some() {
            "/schemaRef/version"
        } else {
            "/version"
        }
    }
}

/// An event envelope parsed and shape-checked, its payload not yet validated. Fields the spec's
/// earlier forms leave out are `None` here and filled from the registry when typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    pub(crate) common: Common,
    pub(crate) event: EventFields,
}

/// The fields only events carry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventFields {
    pub event_id: EventId,
    pub command_id: Option<CommandId>,
    pub event_type: Option<EventType>,
    pub event_source: Option<String>,
    pub event_version: Option<String>,
    pub event_status: Option<EventStatus>,
    pub retry_count: Option<u32>,
}

impl RawEvent {
    /// Parses the envelope of an event.
    ///
    /// ```
    /// let raw = events::RawEvent::parse(br#"{"eventName": "X"}"#);
    /// assert_eq!(raw.unwrap_err().pointer(), Some("/eventId"));
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_value(parse_json(bytes)?)
    }

    /// Like [`RawEvent::parse`], from a parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, DecodeError> {
        let (common, event) = Common::read(value, "eventName", |f| {
            Ok(EventFields {
                event_id: f.required("eventId")?,
                command_id: f.optional("commandId")?,
                event_type: f.optional("eventType")?,
                event_source: f.optional("eventSource")?,
                event_version: f.optional("eventVersion")?,
                event_status: f.optional("eventStatus")?,
                retry_count: f.optional("retryCount")?,
            })
        })?;
        Ok(RawEvent { common, event })
    }

    /// `eventName`.
    pub fn name(&self) -> &str {
        &self.common.name
    }

    /// The schema version the message claims: `schemaRef.version`, else `version`.
    pub fn schema_version(&self) -> Option<SchemaVersion> {
        self.common.schema_version()
    }

    /// Where that version is written: `/schemaRef/version`, else `/version`.
    pub fn version_pointer(&self) -> &'static str {
        self.common.version_pointer()
    }
}

/// A command envelope parsed and shape-checked, its payload not yet validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RawCommand {
    pub(crate) common: Common,
    pub(crate) command_id: CommandId,
}

impl RawCommand {
    /// Parses the envelope of a command.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_value(parse_json(bytes)?)
    }

    /// Like [`RawCommand::parse`], from a parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, DecodeError> {
        let (common, command_id) = Common::read(value, "commandName", |f| f.required("commandId"))?;
        Ok(RawCommand { common, command_id })
    }

    /// `commandName`.
    pub fn name(&self) -> &str {
        &self.common.name
    }

    /// The schema version the message claims: `schemaRef.version`, else `version`.
    pub fn schema_version(&self) -> Option<SchemaVersion> {
        self.common.schema_version()
    }

    /// Where that version is written: `/schemaRef/version`, else `/version`.
    pub fn version_pointer(&self) -> &'static str {
        self.common.version_pointer()
    }
}

/// Deserializes through the decoder: a typed envelope read by serde is validated like any other.
pub(crate) fn deserialize_via<'de, D, R, T>(
    deserializer: D,
    read: fn(Value) -> Result<R, DecodeError>,
    type_it: fn(R) -> Result<T, DecodeError>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let value = Value::deserialize(deserializer)?;
    read(value).and_then(type_it).map_err(serde::de::Error::custom)
}

pub(crate) fn mismatch(pointer: &str, expected: &str, found: &str) -> Result<(), DecodeError> {
    if expected == found {
        Ok(())
    } else {
        Err(DecodeError::Mismatch { pointer: pointer.into(), expected: expected.into(), found: found.into() })
    }
}

/// Validates the payload against its schema, then reads it into the typed payload.
///
/// The typed read goes through JSON text and the same strict reader as the fast path, so that
/// each payload type's serde code is instantiated for one deserializer, not one per path.
pub(crate) fn payload<P: Contract>(mut value: Value) -> Result<P, DecodeError> {
    P::payload_schema().validate(&value).map_err(|violations| DecodeError::Payload { violations })?;
    let text = serde_json::to_vec(&value).expect("a JSON value serializes");
    if let Ok(typed) = super::strict::from_slice(&text) {
        return Ok(typed);
    }
    // JSON Schema counts 2.0 as an integer; Rust's integer types do not. Retry with such numbers
    // written as integers, naming the place if the value still does not fit.
    integral_floats_as_integers(&mut value);
    let text = serde_json::to_vec(&value).expect("a JSON value serializes");
    super::strict::from_slice(&text).map_err(|e| DecodeError::Invalid {
        pointer: super::pointer::at(&text, e.column().saturating_sub(1), "/payload"),
        message: format!("valid for the schema, but out of range of its Rust type: {}", strip_position(&e)),
    })
}

/// serde_json's message without its " at line 1 column N", a place in text the caller never saw.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Rewrites, in place, every float with no fractional part that fits an integer as that integer.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                *value = Value::from(f as i64);
            } else if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
                *value = Value::from(f as u64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}
