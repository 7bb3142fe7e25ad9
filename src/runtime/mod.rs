//! The hand-written runtime that the generated contracts plug into. Kept in one module so that the
//! generated modules (named after schema ids) can never collide with it.

mod causation;
mod command;
pub(crate) mod contract;
pub(crate) mod decode;
pub(crate) mod envelope;
mod fields;
mod ids;
mod lifecycle;

pub use causation::{Causation, Cause};
pub use command::Command;
pub use contract::{CommandContract, Contract, EventContract, InvalidPayload, PayloadSchema};
pub use decode::{DecodeError, RawCommand, RawEvent, Violation};
pub use envelope::Envelope;
pub use fields::{BadVersion, EventStatus, EventType, Metadata, SchemaRef, SchemaVersion, StaticSchemaRef};
pub use ids::{CausationId, CommandId, CorrelationId, EventId};
pub use lifecycle::{
    DeadLetter, Delivery, Disposition, ErrorInfo, Failure, IllegalTransition, Jitter, Origin, RandomSource, RetryPolicy,
    SplitMix64,
};
