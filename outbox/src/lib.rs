//! A transactional outbox and inbox for a registry's events and commands, on the service's own
//! database: SQLite (feature `sqlite`, the default, embedded) or PostgreSQL (feature `postgres`).
//!
//! - [`Outbox::enqueue`] stores a message in the caller's own `sqlx` transaction: it is published
//!   if and only if that transaction commits.
//! - A [`Relay`] publishes the committed rows through `events-nats`, in order per ordering key
//!   (the correlationId unless the caller names one: transactions that follow each other on a key
//!   go out in their commit order), and marks them published once the broker stored them. One instance per outbox is active (a lease); standbys take over when it dies.
//! - An [`Inbox`] runs a handler inside a transaction that also records the message as processed,
//!   so that its effects and the mark commit together; what it enqueues goes out through the outbox.
//!
//! The tables come from the migrations the crate ships ([`Outbox::migrate`]); `docs/outbox.md` in
//! the repository describes them, the relay's guarantees and how to operate it.

#![warn(missing_docs)]

mod backend;
mod error;
mod inbox;
mod lease;
mod message;
mod migrate;
mod outbox;
mod relay;
mod tables;

pub use backend::Backend;
pub use error::{Error, ErrorKind};
pub use inbox::{Inbox, InboxStats, Inboxed};
pub use message::Outboxed;
pub use migrate::Migration;
pub use outbox::{Backlog, Outbox, Parked};
pub use relay::{Relay, RelayBuilder, RelayStats};
pub use tables::Tables;

pub use sqlx;

/// Milliseconds since the epoch: how the tables keep time.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The reference (docs/outbox.md), whose examples run as doctests.
#[doc = include_str!("../../docs/outbox.md")]
#[cfg(doctest)]
pub struct ReferenceDoctests;
