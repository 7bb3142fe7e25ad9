//! The broker's side of the registry, for NATS JetStream, without a broker client: the naming
//! rules of the transport ([`subject`]), the `nats-server` authorization that enforces the
//! registry's access rules ([`authorization`]), and the credentials files of services
//! ([`Credentials`], [`Secrets`]).
//!
//! The transport (`events-nats`) re-exports all of it; tools that only write configuration (the
//! `events` command) depend on this crate alone, so that neither an async runtime nor the compiled
//! registry is built for them.
//!
//! ```
//! let policy = events_broker::authorization::Policy::from(&events::ACCESS);
//! let config = policy.render(|_user| "$2b$10$…".to_string());
//! assert!(config.contains("user: \"PaymentService\""));
//! ```

#![warn(missing_docs)]

pub mod authorization;
mod credentials;
pub mod subject;

pub use credentials::{Credentials, CredentialsError, Secrets};
pub use subject::{command_subject, dead_letter_subject, event_subject};
