//! Consuming: a durable pull consumer per service, deliveries decoded and validated through the
//! registry, handler results turned into ack, nak with the retry policy's delay, or dead letter.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use events::{RetryPolicy, SplitMix64};
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::dead_letter::FailureLog;
use crate::delivery::{handle, Counters, Shared, Stats};
use crate::idempotency::ProcessedIds;
use crate::message::Kind;
use crate::router::Router;
use crate::subject::{self, COMMANDS_STREAM, EVENTS_STREAM};
use crate::Broker;

/// Settings of one service's consumer; [`Broker::consumer`] starts one, [`ConsumerBuilder::build`]
/// creates (or updates) it on the broker.
///
/// ```
/// # fn build(broker: &events_nats::Broker) {
/// use std::time::Duration;
/// let builder = broker
///     .consumer("PaymentService")
///     .events("events.integration.>")
///     .retry_policy(events::RetryPolicy::new(5, Duration::from_millis(500), Duration::from_secs(30)))
///     .ack_wait(Duration::from_secs(30))
///     .concurrency(8);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ConsumerBuilder {
    broker: Broker,
    name: String,
    kind: Kind,
    filter: String,
    policy: RetryPolicy,
    ack_wait: Duration,
    handler_timeout: Option<Duration>,
    concurrency: usize,
    max_ack_pending: Option<i64>,
    fetch_wait: Duration,
    deliver_new: bool,
    idempotent: Option<Duration>,
}

impl Broker {
    /// The consumer of service `name` (the durable consumer's name: letters, digits, `-`, `_`),
    /// by default over every event (`events.>`), with the default [`RetryPolicy`].
    pub fn consumer(&self, name: impl Into<String>) -> ConsumerBuilder {
        ConsumerBuilder {
            broker: self.clone(),
            name: name.into(),
            kind: Kind::Event,
            filter: crate::subject::EVENTS_SUBJECTS.to_string(),
            policy: RetryPolicy::default(),
            ack_wait: Duration::from_secs(30),
            handler_timeout: None,
            concurrency: 16,
            max_ack_pending: None,
            fetch_wait: Duration::from_millis(500),
            deliver_new: false,
            idempotent: None,
        }
    }
}

impl ConsumerBuilder {
    /// Events whose subject matches `filter` (`events.>`, `events.integration.>`,
    /// `events.domain.OrderCreatedEvent`).
    pub fn events(mut self, filter: impl Into<String>) -> Self {
        self.kind = Kind::Event;
        self.filter = filter.into();
        self
    }
    /// Commands whose subject matches `filter` (`commands.>`, `commands.CreateOrderCommand`).
    pub fn commands(mut self, filter: impl Into<String>) -> Self {
        self.kind = Kind::Command;
        self.filter = filter.into();
        self
    }
    /// How many deliveries, and how long between them. The broker's `max_deliver` is one more
    /// than its attempts, so that a last attempt that hung is still seen and dead-lettered.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// How long the broker waits for an answer before it delivers a message again (30 s). A
    /// delivery that was never answered (the service crashed or hung) counts as an attempt.
    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }
    /// How long a handler may run before its attempt counts as failed; below the ack wait (by
    /// default nine tenths of it), so that the broker never redelivers a message still in hand.
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = Some(timeout);
        self
    }
    /// How many deliveries are handled at once (16). Retries reorder messages: a message waiting
    /// for its retry does not hold back the ones behind it.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// How many messages may be delivered and not yet answered, those waiting for a retry
    /// included (by default 1,000, and at least the concurrency).
    pub fn max_ack_pending(mut self, n: i64) -> Self {
        self.max_ack_pending = Some(n);
        self
    }
    /// A new consumer starts with messages published from now on, rather than with everything the
    /// stream still holds.
    pub fn deliver_new(mut self) -> Self {
        self.deliver_new = true;
        self
    }

    /// Handles each eventId (commandId) at most once per `horizon`, across this service's
    /// instances and restarts: the ids are kept in the broker, in the bucket
    /// `PROCESSED_<consumer>` whose max age is the horizon (make it at least the streams'
    /// `max_age`, so that every redelivery and replay of a retained message is recognised). A
    /// delivery of an id already processed is acknowledged without calling the handler.
    ///
    /// Before the handler runs, the id is claimed (only one instance can hold it); `Ok` marks it
    /// processed, `Err` releases it for the retry. A claim expires after the ack wait: its holder
    /// crashed or hung, and the broker has delivered the message again.
    pub fn idempotent(mut self, horizon: Duration) -> Self {
        self.idempotent = Some(horizon);
        self
    }

    /// Checks the settings, then creates the durable consumer or brings an existing one to them.
    pub async fn build(self) -> Result<Consumer, ConsumerError> {
        let (stream_name, prefix) = match self.kind {
            Kind::Event => (EVENTS_STREAM, "events."),
            Kind::Command => (COMMANDS_STREAM, "commands."),
        };
        if !subject::is_consumer_name(&self.name) {
            return Err(ConsumerError::config(format!(
                "consumer name {:?}: use letters, digits, `-` and `_` only (it is part of subjects and keys)",
                self.name
            )));
        }
        if !self.filter.starts_with(prefix) || !subject::is_filter(&self.filter) {
            return Err(ConsumerError::config(format!(
                "consumer {}: filter {:?} is outside the {stream_name} stream's subjects `{prefix}>`",
                self.name, self.filter
            )));
        }
        let handler_timeout = self.handler_timeout.unwrap_or(self.ack_wait.mul_f64(0.9));
        if handler_timeout.is_zero() || handler_timeout >= self.ack_wait {
            return Err(ConsumerError::config(format!(
                "consumer {}: handler_timeout ({handler_timeout:?}) must be above zero and below ack_wait ({:?}), or \
                 the broker delivers the message again while its handler still runs",
                self.name, self.ack_wait
            )));
        }
        let max_ack_pending = self.max_ack_pending.unwrap_or(1000).max(self.concurrency as i64);
        let config = pull::Config {
            durable_name: Some(self.name.clone()),
            description: Some(format!("{} ({})", self.name, self.filter)),
            filter_subject: self.filter.clone(),
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.ack_wait,
            max_deliver: i64::from(self.policy.max_attempts()) + 1,
            max_ack_pending,
            deliver_policy: if self.deliver_new { DeliverPolicy::New } else { DeliverPolicy::All },
            ..Default::default()
        };
        if self.idempotent.is_some_and(|h| h < self.ack_wait) {
            return Err(ConsumerError::config(format!(
                "consumer {}: the idempotency horizon must be at least the ack wait ({:?})",
                self.name, self.ack_wait
            )));
        }
        let broker_err = |what: &str, e: &dyn std::fmt::Display| ConsumerError {
            kind: ConsumerErrorKind::Broker,
            message: format!("consumer {} on {stream_name}: {what}: {e}", self.name),
        };
        let stream = self.broker.jetstream.get_stream(stream_name).await.map_err(|e| broker_err("the stream", &e))?;
        // On a 2.9 server, creating an existing durable consumer updates its editable settings.
        let consumer = stream.create_consumer(config).await.map_err(|e| broker_err("creating the consumer", &e))?;
        let processed = match self.idempotent {
            Some(horizon) => Some(
                ProcessedIds::open(&self.broker.jetstream, &self.name, horizon, self.broker.config.replicas, self.ack_wait)
                    .await
                    .map_err(|e| broker_err("the processed-id bucket", &e))?,
            ),
            None => None,
        };
        Ok(Consumer {
            inner: consumer,
            shared: Arc::new(Shared {
                name: self.name,
                kind: self.kind,
                policy: self.policy,
                handler_timeout,
                publisher: self.broker.publisher(),
                failures: FailureLog::new(self.broker.failures.clone()),
                processed,
                rng: Mutex::new(SplitMix64::from_entropy()),
                counters: Counters::default(),
            }),
            concurrency: self.concurrency,
            fetch_wait: self.fetch_wait,
            client: self.broker.client.clone(),
        })
    }
}

/// A consumer setup or run that failed; match on [`ConsumerError::kind`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConsumerError {
    kind: ConsumerErrorKind,
    message: String,
}

/// The kinds of [`ConsumerError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsumerErrorKind {
    /// Settings refused before the broker is asked.
    Config,
    /// The broker refused or did not answer.
    Broker,
}

impl ConsumerError {
    /// What kind of error.
    pub fn kind(&self) -> ConsumerErrorKind {
        self.kind
    }
    fn config(message: String) -> Self {
        ConsumerError { kind: ConsumerErrorKind::Config, message }
    }
}

/// A service's consumer on the broker; [`Consumer::run`] handles its deliveries.
pub struct Consumer {
    inner: async_nats::jetstream::consumer::Consumer<pull::Config>,
    shared: Arc<Shared>,
    concurrency: usize,
    fetch_wait: Duration,
    client: async_nats::Client,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").field("name", &self.shared.name).field("concurrency", &self.concurrency).finish()
    }
}

impl Consumer {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// What it has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// A handle that reads the counters while [`run`](Self::run) has the consumer.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(self.shared.clone())
    }

    /// Handles deliveries with `router` until `shutdown` completes, then stops fetching, lets the
    /// handlers in flight finish, answers their messages, flushes, and returns what it did.
    /// Broker outages are waited out (the client reconnects); they never end the run.
    pub async fn run(self, router: Router, shutdown: impl Future<Output = ()>) -> Stats {
        let router = Arc::new(router);
        let semaphore = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut outage = Duration::from_millis(50);
        loop {
            let permit = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                permit = semaphore.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let free = 1 + semaphore.available_permits();
            let batch = self.inner.batch().max_messages(free).expires(self.fetch_wait).messages().await;
            let mut batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(consumer = %self.shared.name, error = %e, retry_in = ?outage, "fetch failed");
                    drop(permit);
                    tokio::select! { _ = &mut shutdown => break, _ = tokio::time::sleep(outage) => {} }
                    outage = (outage * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            // Every message of a batch is handled, shutdown or not: one left unanswered would
            // wait out the ack wait before anyone saw it again.
            let mut permit = Some(permit);
            while let Some(message) = batch.next().await {
                match message {
                    Ok(message) => {
                        outage = Duration::from_millis(50);
                        let permit = match permit.take() {
                            Some(p) => p,
                            None => semaphore.clone().acquire_owned().await.expect("the semaphore is never closed"),
                        };
                        let (shared, router) = (self.shared.clone(), router.clone());
                        tasks.spawn(async move {
                            handle(&shared, &router, message).await;
                            drop(permit);
                        });
                    }
                    Err(e) => {
                        tracing::debug!(consumer = %self.shared.name, error = %e, "batch ended");
                        break;
                    }
                }
            }
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        if let Err(e) = self.client.flush().await {
            tracing::warn!(consumer = %self.shared.name, error = %e, "flushing the last acknowledgements failed");
        }
        tracing::info!(consumer = %self.shared.name, "stopped");
        self.shared.stats()
    }
}

/// Reads a running consumer's counters.
#[derive(Clone)]
pub struct StatsHandle(Arc<Shared>);

impl StatsHandle {
    /// What the consumer has done so far.
    pub fn get(&self) -> Stats {
        self.0.stats()
    }
}

impl std::fmt::Debug for StatsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

