//! The command envelope: the request side of the causation chain.

use std::fmt;

use chrono::DateTime;
use chrono::Utc;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::runtime::contract::check_payload;
use crate::runtime::decode::{self, RawCommand};
use crate::runtime::envelope::default_tags;
use crate::{
    Causation, CausationId, Cause, CommandContract, CommandId, CorrelationId, DecodeError, InvalidPayload, Metadata,
    SchemaRef, SchemaVersion,
};

/// A command: payload `P` with its id, correlation and cause.
///
/// ```
/// use events::send_order_confirmation_schema::{SendOrderConfirmationCommand, SendOrderConfirmationCommandPayload};
/// use events::{CorrelationId, Metadata};
///
/// // Joining a business process started elsewhere.
/// let process = CorrelationId::new();
/// let payload = SendOrderConfirmationCommandPayload {
///     order_id: "ORD12345".into(),
///     customer_id: "CUST67890".into(),
/// };
/// let command = SendOrderConfirmationCommand::within(process, payload, Metadata::new("admin", "Backoffice")).unwrap();
/// assert_eq!(command.correlation_id(), process);
/// assert_eq!(command.causation_id(), None);
/// assert!(command.to_json().starts_with(r#"{"commandName":"SendOrderConfirmationCommand""#));
/// ```
#[derive(Clone, PartialEq)]
pub struct Command<P: CommandContract> {
    command_id: CommandId,
    correlation_id: CorrelationId,
    causation_id: Option<CausationId>,
    timestamp: DateTime<Utc>,
    tags: Vec<String>,
    payload: P,
    metadata: Metadata,
}

impl<P: CommandContract> Command<P> {
    fn build(payload: P, correlation_id: CorrelationId, causation_id: Option<CausationId>, metadata: Metadata) -> Self {
        Command {
            command_id: CommandId::new(),
            correlation_id,
            causation_id,
            timestamp: crate::runtime::envelope::now(),
            tags: default_tags(P::TAGS),
            payload,
            metadata,
        }
    }

    /// A command that starts a business process: fresh command and correlation ids. The payload
    /// is checked against its schema.
    pub fn new(payload: P, metadata: Metadata) -> Result<Self, InvalidPayload> {
        check_payload(&payload)?;
        Ok(Self::build(payload, CorrelationId::new(), None, metadata))
    }

    /// A command that joins an existing business process, caused by nothing in this system.
    pub fn within(correlation_id: CorrelationId, payload: P, metadata: Metadata) -> Result<Self, InvalidPayload> {
        check_payload(&payload)?;
        Ok(Self::build(payload, correlation_id, None, metadata))
    }

    /// A command caused by an event (or another command): `causationId` is the cause's id;
    /// correlation id and metadata are inherited.
    pub fn caused_by(cause: &impl Cause, payload: P) -> Result<Self, InvalidPayload> {
        check_payload(&payload)?;
        let Causation { causation_id, correlation_id, metadata, .. } = cause.causation();
        Ok(Self::build(payload, correlation_id, Some(causation_id), metadata))
    }

    /// Replaces the metadata.
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// Replaces the timestamp (now, by default).
    pub fn with_timestamp(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Decodes and validates one command of this type.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_raw(RawCommand::parse(bytes)?)
    }

    /// Types a parsed command envelope; see [`crate::Envelope::from_raw`].
    pub fn from_raw(raw: RawCommand) -> Result<Self, DecodeError> {
        raw.check_against(&crate::ContractIdentity::of::<P>())?;
        let RawCommand { common, command_id } = raw;
        let payload = decode::payload::<P>(common.payload)?;
        Ok(Command {
            command_id,
            correlation_id: common.correlation_id,
            causation_id: common.causation_id,
            timestamp: common.timestamp,
            tags: common.tags.unwrap_or_else(|| default_tags(P::TAGS)),
            payload,
            metadata: common.metadata,
        })
    }

    /// The JSON of the full form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a command always serializes")
    }

    /// The full form as JSON for logs, `x-sensitive` payload values masked; see
    /// [`Envelope::redacted`](crate::Envelope::redacted).
    pub fn redacted(&self) -> serde_json::Value {
        // Through the wire text: `to_value` would instantiate each payload's serde code for
        // `serde_json::Value`'s serializer as well, for a logging aid.
        let mut value: serde_json::Value = serde_json::from_str(&self.to_json()).expect("the wire form parses");
        crate::runtime::redact::redact(&mut value["payload"], P::payload_schema().schema());
        value
    }

    /// `commandName`.
    pub fn command_name(&self) -> &'static str {
        P::NAME
    }
    /// `commandId`.
    pub fn command_id(&self) -> CommandId {
        self.command_id
    }
    /// `correlationId`.
    pub fn correlation_id(&self) -> CorrelationId {
        self.correlation_id
    }
    /// `causationId`, when something in the system caused this command.
    pub fn causation_id(&self) -> Option<CausationId> {
        self.causation_id
    }
    /// `timestamp`, UTC.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }
    /// `version`: the schema version.
    pub fn version(&self) -> SchemaVersion {
        P::SCHEMA_REF.version
    }
    /// `schemaRef`.
    pub fn schema_ref(&self) -> SchemaRef {
        P::SCHEMA_REF.to_schema_ref()
    }
    /// `tags`.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// `payload`.
    pub fn payload(&self) -> &P {
        &self.payload
    }
    /// `payload`, taken out.
    pub fn into_payload(self) -> P {
        self.payload
    }
    /// `metadata`.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The same command, its payload read as a newer version of the schema; see
    /// [`Envelope::upcast`](crate::Envelope::upcast).
    pub fn upcast<Q: CommandContract + From<P>>(self) -> Command<Q> {
        Command {
            command_id: self.command_id,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            timestamp: self.timestamp,
            tags: self.tags,
            payload: Q::from(self.payload),
            metadata: self.metadata,
        }
    }
}

impl<P: CommandContract> Cause for Command<P> {
    fn causation(&self) -> Causation {
        Causation {
            causation_id: self.command_id.into(),
            correlation_id: self.correlation_id,
            command_id: Some(self.command_id),
            metadata: self.metadata.clone(),
        }
    }
}

impl<P: CommandContract> Serialize for Command<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Command", 10)?;
        s.serialize_field("commandName", P::NAME)?;
        s.serialize_field("commandId", &self.command_id)?;
        s.serialize_field("correlationId", &self.correlation_id)?;
        if let Some(id) = &self.causation_id {
            s.serialize_field("causationId", id)?;
        }
        s.serialize_field("timestamp", &self.timestamp)?;
        s.serialize_field("version", &P::SCHEMA_REF.version)?;
        s.serialize_field("schemaRef", &self.schema_ref())?;
        s.serialize_field("tags", &self.tags)?;
        s.serialize_field("payload", &self.payload)?;
        s.serialize_field("metadata", &self.metadata)?;
        s.end()
    }
}

/// Deserializing validates exactly as [`Command::from_json`] does.
impl<'de, P: CommandContract> Deserialize<'de> for Command<P> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        decode::deserialize_via(deserializer, RawCommand::from_value, Self::from_raw)
    }
}

impl<P: CommandContract> fmt::Debug for Command<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(P::NAME)
            .field("command_id", &self.command_id)
            .field("correlation_id", &self.correlation_id)
            .field("causation_id", &self.causation_id)
            .field("timestamp", &self.timestamp)
            .field("schema_ref", &P::SCHEMA_REF)
            .field("tags", &self.tags)
            .field("payload", &self.payload)
            .field("metadata", &self.metadata)
            .finish()
    }
}
