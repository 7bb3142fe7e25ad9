//! The event envelope: every field of the event specification around a typed payload.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::runtime::contract::check_payload;
use crate::runtime::decode::{self, RawEvent};
use crate::{
    Causation, CausationId, Cause, CommandId, CorrelationId, DecodeError, EventContract, EventId, EventStatus,
    EventType, IllegalTransition, InvalidPayload, Metadata, SchemaRef, SchemaVersion,
};

/// An event: payload `P` and every field of the specification.
///
/// What the schema knows (`eventName`, `version`, `schemaRef`, `eventType`, `eventVersion`) comes
/// from `P` and cannot be set wrong; decoding checks that a message agrees with it.
///
/// ```
/// use events::inventory_updated_domain_schema::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
/// use events::{EventStatus, EventType, Metadata};
///
/// let payload = InventoryUpdatedEventPayload { item_id: "ITEM001".into(), new_quantity: 90 };
/// let event = InventoryUpdatedEvent::new(payload, Metadata::new("batchProcessor", "InventoryManagementSystem")).unwrap();
/// assert_eq!(event.event_type(), EventType::Domain);
/// assert_eq!(event.event_status(), EventStatus::Created);
/// assert_eq!(event.schema_ref().id, "inventoryUpdatedDomainSchema");
///
/// // What goes on the wire decodes to the same event.
/// assert_eq!(InventoryUpdatedEvent::from_json(event.to_json().as_bytes()).unwrap(), event);
/// ```
#[derive(Clone, PartialEq)]
pub struct Envelope<P: EventContract> {
    event_id: EventId,
    correlation_id: CorrelationId,
    command_id: Option<CommandId>,
    causation_id: Option<CausationId>,
    timestamp: DateTime<Utc>,
    event_source: String,
    event_status: EventStatus,
    tags: Vec<String>,
    retry_count: u32,
    payload: P,
    metadata: Metadata,
}

pub(crate) fn now() -> DateTime<Utc> {
    // Microseconds survive every common broker and database; nanoseconds often do not.
    Utc::now().trunc_subsecs(6)
}

pub(crate) fn default_tags(tags: &[&str]) -> Vec<String> {
    tags.iter().map(|t| t.to_string()).collect()
}

impl<P: EventContract> Envelope<P> {
    fn build(
        payload: P,
        correlation_id: CorrelationId,
        command_id: Option<CommandId>,
        causation_id: Option<CausationId>,
        metadata: Metadata,
    ) -> Self {
        Envelope {
            event_id: EventId::new(),
            correlation_id,
            command_id,
            causation_id,
            timestamp: now(),
            event_source: P::EVENT_SOURCE.to_string(),
            event_status: EventStatus::Created,
            tags: default_tags(P::TAGS),
            retry_count: 0,
            payload,
            metadata,
        }
    }

    /// An event that starts a business process of its own: fresh event and correlation ids, no
    /// cause. Everything the schema knows is filled in; the payload is checked against it.
    pub fn new(payload: P, metadata: Metadata) -> Result<Self, InvalidPayload> {
        check_payload(&payload)?;
        Ok(Self::build(payload, CorrelationId::new(), None, None, metadata))
    }

    /// An event caused by a command or another event: `causationId` is the cause's id, the
    /// correlation id, the related command id and the metadata are inherited. The payload is
    /// checked against its schema.
    pub fn caused_by(cause: &impl Cause, payload: P) -> Result<Self, InvalidPayload> {
        check_payload(&payload)?;
        let Causation { causation_id, correlation_id, command_id, metadata } = cause.causation();
        Ok(Self::build(payload, correlation_id, command_id, Some(causation_id), metadata))
    }

    /// Replaces the metadata (for instance the `sourceSystem` of this service).
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// Adds a tag to those the schema gives.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Replaces `eventSource` (the schema's source by default).
    pub fn with_event_source(mut self, source: impl Into<String>) -> Self {
        self.event_source = source.into();
        self
    }

    /// Replaces the timestamp (now, by default).
    pub fn with_timestamp(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Moves `eventStatus` to `to`, if its lifecycle allows it ([`EventStatus::successors`]); a
    /// retry, `failed` → `created`, also adds one to `retryCount` (which stops at `u32::MAX`).
    /// Nothing else changes: the ids, the timestamp and the payload stay those first published.
    ///
    /// ```
    /// use events::inventory_updated_domain_schema::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
    /// use events::{EventStatus, Metadata};
    ///
    /// let payload = InventoryUpdatedEventPayload { item_id: "ITEM001".into(), new_quantity: 90 };
    /// let mut event = InventoryUpdatedEvent::new(payload, Metadata::new("batchProcessor", "Inventory")).unwrap();
    /// let before = event.clone();
    /// event.transition(EventStatus::Failed).unwrap();
    /// event.transition(EventStatus::Created).unwrap(); // a retry
    /// assert_eq!((event.event_status(), event.retry_count()), (EventStatus::Created, 1));
    /// assert_eq!(event.event_id(), before.event_id());
    ///
    /// // Refused, and the event is left as it was.
    /// assert!(event.transition(EventStatus::DeadLettered).is_err());
    /// assert_eq!(event.event_status(), EventStatus::Created);
    /// ```
    pub fn transition(&mut self, to: EventStatus) -> Result<(), IllegalTransition> {
        self.event_status = self.event_status.transition(to)?;
        // `created` is reached again only from `failed`: that is the retry.
        if to == EventStatus::Created {
            self.retry_count = self.retry_count.saturating_add(1);
        }
        Ok(())
    }

    /// The event as its `attempt`-th delivery shows it to a handler: `retryCount` is the number of
    /// earlier deliveries (`attempt - 1`; the first delivery is attempt 1) and `eventStatus` is
    /// `created`, the one status a handler is given. A transport that counts deliveries itself (a
    /// broker redelivering the stored message, whose body still says `retryCount` 0) builds its
    /// view with this; nothing else changes.
    ///
    /// ```
    /// use events::order_created_schema::v1_0::OrderCreatedEvent;
    /// use events::EventStatus;
    ///
    /// let wire = std::fs::read("tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
    /// let stored = OrderCreatedEvent::from_json(&wire).unwrap();
    /// let third = stored.clone().at_attempt(3);
    /// assert_eq!((third.retry_count(), third.event_status()), (2, EventStatus::Created));
    /// assert_eq!((third.event_id(), third.payload()), (stored.event_id(), stored.payload()));
    /// assert_eq!(stored.at_attempt(0).retry_count(), 0); // attempt 0 reads as the first
    /// ```
    pub fn at_attempt(mut self, attempt: u32) -> Self {
        self.retry_count = attempt.saturating_sub(1);
        self.event_status = EventStatus::Created;
        self
    }

    /// Decodes and validates one event of this type.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        if let Some(event) = crate::runtime::fast::decode_typed(bytes) {
            return Ok(event);
        }
        Self::from_raw(RawEvent::parse(bytes)?)
    }

    /// Types a parsed envelope: checks it against the registry, validates the payload, and fills
    /// the fields earlier forms of the spec leave out (`causationId` from `commandId`).
    pub fn from_raw(raw: RawEvent) -> Result<Self, DecodeError> {
        raw.check_against(&crate::ContractIdentity {
            event_type: Some(P::EVENT_TYPE),
            event_version: Some(P::EVENT_VERSION),
            ..crate::ContractIdentity::of::<P>()
        })?;
        let RawEvent { common, event } = raw;
        let payload = decode::payload::<P>(common.payload)?;
        Ok(Envelope {
            event_id: event.event_id,
            correlation_id: common.correlation_id,
            command_id: event.command_id,
            causation_id: common.causation_id.or(event.command_id.map(CausationId::from)),
            timestamp: common.timestamp,
            event_source: event.event_source.unwrap_or_else(|| P::EVENT_SOURCE.to_string()),
            event_status: event.event_status.unwrap_or_default(),
            tags: common.tags.unwrap_or_else(|| default_tags(P::TAGS)),
            retry_count: event.retry_count.unwrap_or(0),
            payload,
            metadata: common.metadata,
        })
    }

    /// The envelope the fast path read (see `runtime::fast`), its payload typed and checked.
    pub(crate) fn from_wire(
        wire: &mut crate::runtime::fast::WireEvent<'_>,
        timestamp: DateTime<Utc>,
        payload: P,
    ) -> Self {
        Envelope {
            event_id: wire.event_id,
            correlation_id: wire.correlation_id,
            command_id: wire.command_id,
            causation_id: wire.causation_id.or(wire.command_id.map(CausationId::from)),
            timestamp,
            event_source: std::mem::take(&mut wire.event_source),
            event_status: wire.event_status,
            tags: std::mem::take(&mut wire.tags),
            retry_count: wire.retry_count,
            payload,
            // Moved out, not cloned: an empty `Metadata` allocates nothing.
            metadata: std::mem::replace(&mut wire.metadata, Metadata::new(String::new(), String::new())),
        }
    }

    /// The JSON of the full form, every field present.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes")
    }

    /// The full form as JSON for logs: every payload value the schema marks `"x-sensitive": true`
    /// reads `"<redacted>"`, inside arrays and nested objects too. The wire form is [`Self::to_json`].
    ///
    /// ```
    /// use events::customer_registered_schema::{latest::Address, CustomerRegisteredEvent, CustomerRegisteredEventPayload};
    ///
    /// let payload = CustomerRegisteredEventPayload {
    ///     customer_id: "CUST1".into(),
    ///     email: "ada@example.com".into(),
    ///     phone: None,
    ///     addresses: vec![Address { label: "home".into(), street: "1 Analytical Way".into(), city: "London".into() }],
    ///     payment_cards: None,
    /// };
    /// let event = CustomerRegisteredEvent::new(payload, events::Metadata::new("signup", "Web")).unwrap();
    /// let view = event.redacted();
    /// assert_eq!(view["payload"]["email"], "<redacted>");
    /// assert_eq!(view["payload"]["addresses"][0]["street"], "<redacted>");
    /// assert_eq!(view["payload"]["addresses"][0]["city"], "London");
    /// assert!(event.to_json().contains("ada@example.com")); // the wire is unchanged
    /// ```
    pub fn redacted(&self) -> serde_json::Value {
        // Through the wire text: `to_value` would instantiate each payload's serde code for
        // `serde_json::Value`'s serializer as well, for a logging aid.
        let mut value: serde_json::Value = serde_json::from_str(&self.to_json()).expect("the wire form parses");
        crate::runtime::redact::redact(&mut value["payload"], P::payload_schema().schema());
        value
    }

    /// `eventName`.
    pub fn event_name(&self) -> &'static str {
        P::NAME
    }
    /// `eventId`.
    pub fn event_id(&self) -> EventId {
        self.event_id
    }
    /// `correlationId`.
    pub fn correlation_id(&self) -> CorrelationId {
        self.correlation_id
    }
    /// `commandId`: the command this event relates to, if any.
    pub fn command_id(&self) -> Option<CommandId> {
        self.command_id
    }
    /// `causationId`: the command or event that directly caused this one, if any.
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
    /// `eventType`.
    pub fn event_type(&self) -> EventType {
        P::EVENT_TYPE
    }
    /// `eventSource`.
    pub fn event_source(&self) -> &str {
        &self.event_source
    }
    /// `eventVersion`.
    pub fn event_version(&self) -> &'static str {
        P::EVENT_VERSION
    }
    /// `eventStatus`.
    pub fn event_status(&self) -> EventStatus {
        self.event_status
    }
    /// `tags`.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// `retryCount`.
    pub fn retry_count(&self) -> u32 {
        self.retry_count
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

    /// The same event, its payload read as a newer version of the schema. Every envelope field
    /// stays; `schemaRef`, `version` and `eventVersion` become the newer version's.
    ///
    /// The `From` impl exists only where the build proved that the newer schema reads everything
    /// the older one allows and that every default it fills in meets its schema, so the upcast
    /// payload needs no second validation.
    pub fn upcast<Q: EventContract + From<P>>(self) -> Envelope<Q> {
        Envelope {
            event_id: self.event_id,
            correlation_id: self.correlation_id,
            command_id: self.command_id,
            causation_id: self.causation_id,
            timestamp: self.timestamp,
            event_source: self.event_source,
            event_status: self.event_status,
            tags: self.tags,
            retry_count: self.retry_count,
            payload: Q::from(self.payload),
            metadata: self.metadata,
        }
    }
}

pub(crate) fn type_name(t: EventType) -> &'static str {
    match t {
        EventType::Domain => "domain",
        EventType::Integration => "integration",
        EventType::Notification => "notification",
    }
}

impl<P: EventContract> Cause for Envelope<P> {
    fn causation(&self) -> Causation {
        Causation {
            causation_id: self.event_id.into(),
            correlation_id: self.correlation_id,
            command_id: self.command_id,
            metadata: self.metadata.clone(),
        }
    }
}

impl<P: EventContract> Serialize for Envelope<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Envelope", 16)?;
        s.serialize_field("eventName", P::NAME)?;
        s.serialize_field("eventId", &self.event_id)?;
        s.serialize_field("correlationId", &self.correlation_id)?;
        if let Some(id) = &self.command_id {
            s.serialize_field("commandId", id)?;
        }
        if let Some(id) = &self.causation_id {
            s.serialize_field("causationId", id)?;
        }
        s.serialize_field("timestamp", &self.timestamp)?;
        s.serialize_field("version", &P::SCHEMA_REF.version)?;
        s.serialize_field("schemaRef", &self.schema_ref())?;
        s.serialize_field("eventType", &P::EVENT_TYPE)?;
        s.serialize_field("eventSource", &self.event_source)?;
        s.serialize_field("eventVersion", P::EVENT_VERSION)?;
        s.serialize_field("eventStatus", &self.event_status)?;
        s.serialize_field("tags", &self.tags)?;
        s.serialize_field("retryCount", &self.retry_count)?;
        s.serialize_field("payload", &self.payload)?;
        s.serialize_field("metadata", &self.metadata)?;
        s.end()
    }
}

/// Deserializing validates exactly as [`Envelope::from_json`] does.
impl<'de, P: EventContract> Deserialize<'de> for Envelope<P> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        decode::deserialize_via(deserializer, RawEvent::from_value, Self::from_raw)
    }
}

impl<P: EventContract> fmt::Debug for Envelope<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(P::NAME)
            .field("event_id", &self.event_id)
            .field("correlation_id", &self.correlation_id)
            .field("command_id", &self.command_id)
            .field("causation_id", &self.causation_id)
            .field("timestamp", &self.timestamp)
            .field("schema_ref", &P::SCHEMA_REF)
            .field("event_type", &P::EVENT_TYPE)
            .field("event_source", &self.event_source)
            .field("event_version", &P::EVENT_VERSION)
            .field("event_status", &self.event_status)
            .field("tags", &self.tags)
            .field("retry_count", &self.retry_count)
            .field("payload", &self.payload)
            .field("metadata", &self.metadata)
            .finish()
    }
}
