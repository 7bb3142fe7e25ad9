//! What a registry crate's generated code implements once for the whole registry, so that a
//! transport, the CloudEvents mapping and the Confluent framing work with any registry crate: the
//! shipped one (`events::Contracts`) or one a team generates from its own `schemas/`.

use std::fmt::Debug;

use serde::Serialize;

use crate::{
    AccessPolicy, CausationId, Command, CommandContract, CommandId, CorrelationId, DecodeError, Envelope,
    EventContract, EventId, RawCommand, RawEvent, SchemaIdEntry, SchemaRef, SchemaVersion,
};

/// A registry: its decoders, its access rules and its schema ids. Each registry crate generates
/// one unit type implementing it, named `Contracts` (`events::Contracts` here).
///
/// ```
/// use events::{Contracts, Registry};
///
/// assert!(Contracts::ACCESS.knows("OrderService"));
/// assert_eq!(Contracts::schema_id("OrderCreatedEvent", events::SchemaVersion::new(1, 1)), Some(6));
/// ```
pub trait Registry: Copy + Default + Send + Sync + 'static {
    /// Every event of the registry, decoded: the generated `AnyEvent`.
    type Event: EventSet<Registry = Self>;
    /// Every command of the registry, decoded: the generated `AnyCommand`.
    type Command: CommandSet<Registry = Self>;
    /// Who may publish and read each contract.
    const ACCESS: &'static AccessPolicy;
    /// Each contract version's recorded schema id (`schema-ids.lock`), for the Confluent framing.
    const SCHEMA_IDS: &'static [SchemaIdEntry];

    /// The id the registry records for a contract version.
    fn schema_id(name: &str, version: SchemaVersion) -> Option<u32> {
        Self::SCHEMA_IDS.iter().find(|s| s.name == name && s.version == version).map(|s| s.id)
    }
}

/// Whether a message is an event or a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `eventName`, an [`Envelope`].
    Event,
    /// `commandName`, a [`Command`].
    Command,
}

/// A decoded message of a registry: one contract's [`Envelope`] or [`Command`], or the
/// registry-wide `AnyEvent` and `AnyCommand`. What a transport needs to decode, route and log it.
pub trait Message: Serialize + Clone + Debug + Send + Sync + Sized + 'static {
    /// The registry the message belongs to.
    type Registry: Registry;
    /// Event or command.
    const KIND: MessageKind;
    /// The contract version this type stands for, when it stands for one: `(name, version)`.
    /// `None` for `AnyEvent` and `AnyCommand`.
    const CONTRACT: Option<(&'static str, SchemaVersion)>;
    /// Decodes and validates one message.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
    /// Decodes and validates a message already parsed (a transport that parsed it to route it
    /// reads it once).
    fn decode_value(value: serde_json::Value) -> Result<Self, DecodeError>;
    /// `eventName` or `commandName`.
    fn name(&self) -> &'static str;
    /// `eventId` or `commandId`, as text.
    fn message_id(&self) -> String;
    /// `correlationId`.
    fn correlation_id(&self) -> CorrelationId;
    /// `causationId`.
    fn causation_id(&self) -> Option<CausationId>;
    /// The schema the message follows.
    fn schema_ref(&self) -> SchemaRef;
    /// The message as JSON for logs, sensitive payload values masked.
    fn redacted(&self) -> serde_json::Value;
    /// The message as its `attempt`-th delivery shows it (an event's `retryCount` is
    /// `attempt - 1`); a command has no such field and is returned as it is.
    fn at_attempt(self, attempt: u32) -> Self {
        let _ = attempt;
        self
    }
}

/// The registry-wide event decoder (`AnyEvent`), implemented by the generated code.
pub trait EventSet: Message {
    /// Decodes an already parsed envelope.
    fn from_raw(raw: RawEvent) -> Result<Self, DecodeError>;
    /// The event's id.
    fn event_id(&self) -> EventId;

    /// This event as a CloudEvent, as [`Envelope::to_cloud_event`] maps it.
    #[cfg(feature = "cloudevents")]
    fn to_cloud_event(&self) -> crate::CloudEvent {
        crate::runtime::cloudevents::of_message(self)
    }

    /// Any event of the registry, from a CloudEvent: dispatched on `type` (and `schemaversion`),
    /// then checked as `from_json` checks an envelope. A `type` the registry does not know is
    /// [`DecodeError::UnknownContract`] at `/type`.
    ///
    /// ```
    /// use events::{AnyEvent, DecodeError, EventSet};
    ///
    /// let wire = std::fs::read("tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
    /// let received = AnyEvent::from_json(&wire).unwrap();
    /// let cloud = events::CloudEvent::from_json(received.to_cloud_event().to_json().as_bytes()).unwrap();
    /// assert_eq!(AnyEvent::from_cloud_event(cloud.clone()).unwrap(), received);
    ///
    /// let mut unknown = cloud;
    /// unknown.event_type = "OrderPaidEvent".into();
    /// let err = AnyEvent::from_cloud_event(unknown).unwrap_err();
    /// assert!(matches!(err, DecodeError::UnknownContract { ref name, .. } if name == "OrderPaidEvent"));
    /// assert_eq!(err.pointer(), Some("/type"));
    /// ```
    #[cfg(feature = "cloudevents")]
    fn from_cloud_event(event: crate::CloudEvent) -> Result<Self, DecodeError> {
        crate::runtime::cloudevents::read_with(event, Self::from_raw)
    }

    /// Decodes an event in the Confluent wire format; the header's id chooses the contract version.
    #[cfg(feature = "confluent")]
    fn from_confluent(bytes: &[u8]) -> Result<Self, crate::confluent::ConfluentError> {
        crate::confluent::from_confluent(bytes)
    }
}

/// The registry-wide command decoder (`AnyCommand`), implemented by the generated code.
pub trait CommandSet: Message {
    /// Decodes an already parsed command.
    fn from_raw(raw: RawCommand) -> Result<Self, DecodeError>;
    /// The command's id.
    fn command_id(&self) -> CommandId;

    /// Decodes a command in the Confluent wire format; the header's id chooses the contract
    /// version.
    #[cfg(feature = "confluent")]
    fn from_confluent(bytes: &[u8]) -> Result<Self, crate::confluent::ConfluentError> {
        crate::confluent::from_confluent(bytes)
    }
}

/// `Message` for a contract's envelope type, through its inherent methods (which `self.…` finds
/// first): one body for events and commands.
macro_rules! contract_message {
    ($envelope:ident, $contract:ident, $kind:ident, $raw:ident, $id:ident, { $($extra:item)* }) => {
        impl<P: $contract> Message for $envelope<P> {
            type Registry = P::Registry;
            const KIND: MessageKind = MessageKind::$kind;
            const CONTRACT: Option<(&'static str, SchemaVersion)> = Some((P::NAME, P::SCHEMA_REF.version));
            fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
                $envelope::from_json(bytes)
            }
            fn decode_value(value: serde_json::Value) -> Result<Self, DecodeError> {
                $envelope::from_raw($raw::from_value(value)?)
            }
            fn name(&self) -> &'static str {
                P::NAME
            }
            fn message_id(&self) -> String {
                self.$id().to_string()
            }
            fn correlation_id(&self) -> CorrelationId {
                self.correlation_id()
            }
            fn causation_id(&self) -> Option<CausationId> {
                self.causation_id()
            }
            fn schema_ref(&self) -> SchemaRef {
                self.schema_ref()
            }
            fn redacted(&self) -> serde_json::Value {
                self.redacted()
            }
            $($extra)*
        }
    };
}

contract_message!(Envelope, EventContract, Event, RawEvent, event_id, {
    fn at_attempt(self, attempt: u32) -> Self {
        self.at_attempt(attempt)
    }
});
contract_message!(Command, CommandContract, Command, RawCommand, command_id, {});
