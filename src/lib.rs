//! Typed event contracts, generated at build time from the JSON Schemas in `schemas/`.
//!
//! Each schema file `schemas/<schemaId>/<MAJOR.MINOR>.json` becomes a module
//! `events::<schema_id>::v<MAJOR>_<MINOR>` holding the payload type, named `<Name>Payload`, and
//! an alias `<Name>` for its envelope ([`Envelope`] for events, [`Command`] for commands). The
//! newest version's types are also re-exported at `events::<schema_id>::`. A definition of a
//! shared file (`schemas/_shared/commerce.json#/$defs/OrderItem`) is generated once, in
//! `events::shared::<file>` (`events::shared::commerce::OrderItem`), and re-exported by every
//! version that refers to it. [`Contracts`] is the registry as transports see it ([`Registry`]).
//!
//! # From `cargo new` to a published event
//!
//! 1. `cargo new billing` and add `events = { path = "…" }` (this workspace) to its dependencies.
//! 2. Describe the new event in the registry, `schemas/paymentReceivedSchema/1.0.json`:
//!    ```json
//!    {
//!      "x-event": { "name": "PaymentReceivedEvent", "type": "integration", "source": "BillingService" },
//!      "type": "object",
//!      "additionalProperties": false,
//!      "required": ["orderId", "amount"],
//!      "properties": { "orderId": { "type": "string" }, "amount": { "type": "number", "exclusiveMinimum": 0 } }
//!    }
//!    ```
//! 3. `cargo build`: `events::payment_received_schema::{PaymentReceivedEvent, PaymentReceivedEventPayload}`
//!    now exist, and `AnyEvent::PaymentReceivedEventV1_0` decodes it.
//! 4. Build messages: the caller gives the payload and the context, the schema fills in the rest.
//!    With the contracts this registry ships:
//!
//! ```
//! use events::create_order_schema::{CreateOrderCommand, CreateOrderCommandPayload};
//! use events::order_created_schema::{OrderCreatedEvent, OrderCreatedEventPayload};
//! use events::send_order_confirmation_schema::{SendOrderConfirmationCommand, SendOrderConfirmationCommandPayload};
//! use events::shared::commerce::OrderItem;
//! use events::{AnyEvent, Metadata};
//!
//! // Payload types are plain structs of plain fields (`String`, `u64`, `f64`, `Vec`, `Option`).
//! let order = CreateOrderCommandPayload {
//!     customer_id: "CUST67890".into(),
//!     items: vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
//! };
//!
//! // A user asks for an order: a new business process, with a fresh correlation id.
//! // Constructors check the payload against the whole schema (lengths, patterns, bounds such as
//! // `quantity ≥ 1`), and decoding validates everything, so no envelope holds an invalid payload.
//! let create = CreateOrderCommand::new(order, Metadata::new("user123", "OrderManagementSystem")).unwrap();
//!
//! // The order service handles it: the event's causationId is the command's id.
//! let created = OrderCreatedEvent::caused_by(&create, OrderCreatedEventPayload {
//!     order_id: "ORD12345".into(),
//!     customer_id: "CUST67890".into(),
//!     items: create.payload().items.clone(), // the same shared type
//!     total_amount: 200.0,
//!     currency: Some("EUR".into()),
//! }).unwrap();
//! assert_eq!(created.causation_id(), Some(create.command_id().into()));
//! assert_eq!(created.correlation_id(), create.correlation_id());
//! assert_eq!(created.schema_ref().uri, "https://schema-registry.example.com/schemas/orderCreatedSchema/1.1");
//!
//! // ... which causes a confirmation: its causationId is the event's id.
//! let confirm = SendOrderConfirmationCommand::caused_by(&created, SendOrderConfirmationCommandPayload {
//!     order_id: "ORD12345".into(),
//!     customer_id: "CUST67890".into(),
//! }).unwrap();
//! assert_eq!(confirm.causation_id(), Some(created.event_id().into()));
//!
//! // A consumer decodes whatever arrives, validated against the schema, and upcasts older
//! // versions so that it handles the newest one only.
//! let wire = created.to_json();
//! match AnyEvent::from_json(wire.as_bytes()).unwrap().into_latest() {
//!     AnyEvent::OrderCreatedEventV1_1(e) => assert_eq!(e.payload().items.len(), 1),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

#![warn(missing_docs)]

/// The runtime alone, without the generated contracts: what a crate with a registry of its own
/// re-exports at its root (`pub use events::runtime::*;`), so that its generated code finds the
/// runtime where it looks (`crate::Envelope`, …). See the README's "Splitting a registry".
pub mod runtime;

#[doc(hidden)]
pub use runtime::{
    decode_typed, deserialize_present, leading_identity, redacted_payload, serialize_integral, upcast_payload,
    IntegralNumbers, MaskedValues, WireEvent,
};
pub use runtime::{
    parse_json, AccessPolicy, AccessRule, BadVersion, BoxError, Causation, CausationId, Cause, CloudCarriage, Command,
    CommandContract, CommandDeadLetter, CommandId, CommandSet, Contract, ContractIdentity, ConversionError,
    CorrelationId, DeadLetter, DecodeError, Delivery, Disposition, Envelope, Error, ErrorInfo, EventContract, EventId,
    EventSet, EventStatus, EventType, Failure, IllegalTransition, InvalidPayload, Jitter, Member, Message, MessageKind,
    Metadata, Origin, PayloadSchema, RandomSource, RawCommand, RawEvent, Registry, RetryPolicy, SchemaIdEntry,
    SchemaRef, SchemaVersion, Sensitive, SplitMix64, StaticSchemaRef, TypedCheck, Violation, COMMAND_MEMBERS,
    EVENT_MEMBERS,
};
#[cfg(feature = "cloudevents")]
pub use runtime::{CloudEvent, ExtensionValue};

// The generated contracts: one module per schema id, `AnyEvent` and `AnyCommand`. typify documents
// types but not every field, hence the allowance.
// Deprecated contracts warn their producers, not the crate that decodes and upcasts them.
#[cfg(feature = "registry")]
#[allow(missing_docs, deprecated)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/events.rs"));
}
#[cfg(feature = "registry")]
pub use generated::*;

#[cfg(feature = "confluent")]
pub use runtime::confluent;

/// The README's code samples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
