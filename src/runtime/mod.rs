//! The hand-written runtime that the generated contracts plug into. Kept in one module so that the
//! generated modules (named after schema ids) can never collide with it.

mod access;
mod causation;
#[cfg(feature = "cloudevents")]
pub(crate) mod cloudevents;
mod command;
#[cfg(feature = "confluent")]
pub mod confluent;
pub(crate) mod contract;
pub(crate) mod decode;
pub(crate) mod envelope;
mod error;
pub(crate) mod fast;
mod fields;
mod identity;
mod ids;
mod lifecycle;
mod members;
mod pointer;
mod present;
pub(crate) mod redact;
mod registry;
mod strict;
mod support;
mod upcast;

pub use access::{AccessPolicy, AccessRule, SchemaIdEntry};
pub use causation::{Causation, Cause};
#[cfg(feature = "cloudevents")]
pub use cloudevents::{CloudEvent, ExtensionValue};
pub use command::Command;
pub use contract::{CommandContract, Contract, EventContract, InvalidPayload, PayloadSchema, TypedCheck};
pub use decode::{parse_json, DecodeError, RawCommand, RawEvent, Violation};
pub use envelope::Envelope;
pub use error::{BoxError, Error};
#[doc(hidden)]
pub use fast::{decode_typed, leading_identity, WireEvent};
pub use fields::{BadVersion, EventStatus, EventType, Metadata, SchemaRef, SchemaVersion, StaticSchemaRef};
pub use identity::ContractIdentity;
pub use ids::{CausationId, CommandId, CorrelationId, EventId};
pub use lifecycle::{
    CommandDeadLetter, DeadLetter, Delivery, Disposition, ErrorInfo, Failure, IllegalTransition, Jitter, Origin,
    RandomSource, RetryPolicy, SplitMix64,
};
pub use members::{CloudCarriage, Member, COMMAND_MEMBERS, EVENT_MEMBERS};
#[doc(hidden)]
pub use present::deserialize_present;
#[doc(hidden)]
pub use redact::{redacted_payload, MaskedValues};
pub use registry::{CommandSet, EventSet, Message, MessageKind, Registry};
#[doc(hidden)]
pub use support::{serialize_integral, IntegralNumbers};
pub use support::{ConversionError, Sensitive};
#[doc(hidden)]
pub use upcast::upcast_payload;
