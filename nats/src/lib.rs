//! A registry's events and commands between services, over NATS JetStream.
//!
//! Written against [`events::Registry`]: any registry crate (the shipped `events`, or one a team
//! generates from its own `schemas/`) gets the whole transport. A [`Router`] and the [`Consumer`]
//! that runs it are of one registry, named by its handlers' message types; a service of two
//! registry crates runs a consumer of each on one broker.
//!
//! A publisher stores each message on the broker before it returns; each service reads through
//! a durable consumer of its own, with typed handlers; a failed delivery is redelivered by the
//! broker after the [`events::RetryPolicy`]'s delay, with `retryCount` the broker's delivery
//! count; past the last attempt the message is recorded in the dead-letter stream as an
//! [`events::DeadLetter`] and terminated. Delivery is at least once: a handler can see a message
//! again (a crash before its acknowledgement, a publish repeated outside the duplicate window);
//! an idempotent consumer ([`ConsumerBuilder::idempotent`]) keeps the ids it processed in the broker
//! and skips them, so that handling is effectively once. Dead letters go back, for the consumer
//! that failed them only, with [`Broker::replay`].
//!
//! # Subjects, streams and headers
//!
//! | what | subject | stream |
//! |---|---|---|
//! | an event | `events.<eventType>.<eventName>` | `EVENTS` |
//! | a command | `commands.<commandName>` | `COMMANDS` |
//! | a dead letter | `deadletters.<consumer>.<original subject>` | `DEAD_LETTERS` |
//!
//! The body is exactly what `to_json` writes. Headers carry what tools route on without parsing:
//! `Nats-Msg-Id` (the eventId or commandId: JetStream stores a message once per duplicate window),
//! `Content-Type`, `Events-Kind`, `Events-Name`, `Events-Event-Type`, `Events-Schema-Id`,
//! `Events-Schema-Version`, `Events-Correlation-Id`, `Events-Causation-Id` and one `Events-Tag`
//! per tag. See [`subject`] for every name.
//!
//! # From a connection to a handled event
//!
//! ```no_run
//! use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
//! use events::Metadata;
//! use events_nats::{Broker, BrokerConfig, Delivered, Router};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // TLS, credentials and reconnects are the service's own choice: any connected client will do.
//! let client = events_nats::connect(&std::env::var("NATS_URL")?).await?;
//! let broker = Broker::setup(client, BrokerConfig::default()).await?; // creates or checks the streams
//!
//! // InventoryService publishes; `publish` returns once the broker has stored the event.
//! let payload = InventoryUpdatedIntegrationEventPayload {
//!     item_id: "ITEM001".into(),
//!     new_quantity: 90,
//!     warehouse_id: "WH-1".into(),
//! };
//! let event = InventoryUpdatedIntegrationEvent::new(payload, Metadata::new("stock-job", "InventoryService"))?;
//! broker.publisher().publish(&event).await?;
//!
//! // OrderService reacts, with a durable consumer of its own.
//! let router = Router::new().on(|e: Delivered<InventoryUpdatedIntegrationEvent>| async move {
//!     println!("{} is at {} (retryCount {})", e.payload().item_id, e.payload().new_quantity, e.retry_count());
//!     Ok::<_, String>(())
//! });
//! let consumer = broker.consumer("OrderService").events("events.integration.>").build().await?;
//! consumer.run(router, async { tokio::signal::ctrl_c().await.ok(); }).await;
//! # Ok(()) }
//! ```
//!
//! # Access rules
//!
//! The registry says who publishes and who reads each contract ([`events::Registry::ACCESS`]);
//! [`authorization::Policy::render`] turns that into the `nats-server` authorization, one user per
//! service, and the broker enforces it ([`authorization::Policy::merge`] joins two registries'
//! rules for one broker). A service connects as itself with [`connect_as`] and runs
//! under [`BrokerConfig::service`]: a consumer the registry does not allow is refused before the
//! broker is asked, and a publish the broker refuses fails at once as [`PublishErrorKind::Forbidden`].
//!
//! The example `scenario` (`cargo run -p events-outbox --example scenario`) runs the whole of the
//! specification's scenario against a server of its own. It runs with the registry's access rules enforced.

#![warn(missing_docs)]

mod consumer;
mod credentials;
mod dead_letter;
mod delivery;
mod idempotency;
mod message;
mod publish;
mod pull;
mod replay;
mod router;
mod server;
mod setup;
mod violations;

pub use consumer::{Consumer, ConsumerBuilder, ConsumerError, ConsumerErrorKind, StatsHandle};
pub use credentials::connect_as;
pub use dead_letter::{DecodeFailure, PoisonMessage};
pub use delivery::Stats;
pub use events_broker::{authorization, subject, Credentials, CredentialsError, Secrets};
pub use events_broker::{command_subject, dead_letter_subject, event_subject};
pub use idempotency::{Processing, ProcessingRecord};
pub use message::{Delivered, Ids, Kind};
pub use publish::{Outgoing, PublishError, PublishErrorKind, Published, Publisher};
pub use replay::{Replay, ReplayError, ReplayReport, Replayed};
pub use router::{Handler, HandlerFuture, Router};
pub use server::{LocalServer, ServerError, INSTALL_HINT};
pub use setup::{Broker, BrokerConfig, SetupError, SetupErrorKind};

/// Registry `R`'s access rules as the broker enforces them (`R::ACCESS`).
///
/// ```
/// let policy = events_nats::access_policy::<events::Contracts>();
/// let stock = policy.rules.iter().find(|r| r.name == "InventoryUpdatedIntegrationEvent").unwrap();
/// assert_eq!(stock.subject(), "events.integration.InventoryUpdatedIntegrationEvent");
/// assert_eq!(stock.consumers, ["OrderService", "PaymentService"]);
/// ```
pub fn access_policy<R: events::Registry>() -> authorization::Policy {
    authorization::Policy::from(R::ACCESS)
}

pub use async_nats;

/// Connects to `url` with the client's defaults (reconnecting for ever once connected, no
/// credentials): enough for a first try and for tests. Production services build their own
/// [`async_nats::Client`] (TLS, credentials, reconnect policy) with [`async_nats::ConnectOptions`]
/// and hand it to [`Broker::setup`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let err = events_nats::connect("nats://127.0.0.1:1").await.unwrap_err();
/// assert!(err.to_string().starts_with("cannot connect to nats://127.0.0.1:1: "));
/// # }
/// ```
pub async fn connect(url: &str) -> Result<async_nats::Client, ConnectError> {
    async_nats::connect(url).await.map_err(|source| ConnectError { url: url.to_string(), source })
}

/// [`connect`] failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {url}: {source}")]
pub struct ConnectError {
    /// The server asked for.
    pub url: String,
    /// The client's reason.
    #[source]
    pub source: async_nats::ConnectError,
}
