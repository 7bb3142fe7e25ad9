//! Consuming: a durable pull consumer per service, deliveries decoded and validated through the
//! registry, handler results turned into ack, nak with the retry policy's delay, or dead letter.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use events::{BoxError, Registry, RetryPolicy, SplitMix64};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;

use crate::dead_letter::FailureLog;
use crate::delivery::{handle, Counters, Shared, Stats};
use crate::idempotency::ProcessedIds;
use crate::message::Kind;
use crate::pull::Puller;
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
    drain_timeout: Duration,
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
            concurrency: 64,
            max_ack_pending: None,
            fetch_wait: Duration::from_millis(500),
            deliver_new: false,
            idempotent: None,
            drain_timeout: Duration::from_secs(10),
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
    /// How long a handler may run before its attempt counts as failed; below the ack wait, so that
    /// the broker never redelivers a message still in hand. By default just under half of it,
    /// which lets the consumer ask for the next deliveries ahead of time (a message waiting for
    /// its turn waits at most one handler's time); above half, it asks only for what it runs.
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = Some(timeout);
        self
    }
    /// How many deliveries are handled at once (64). They run concurrently on the consumer's task,
    /// so a handler waiting on I/O holds no thread; set it to what the handler's own resources
    /// (a connection pool, say) allow. Retries reorder messages: a message waiting
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
    /// How long a shutdown waits, at most, for the handlers in flight and the messages asked for,
    /// and for the broker to take the last answers (10 s). Past it the run returns whatever the
    /// broker's state: a message left unanswered is delivered again after the ack wait (counted
    /// in [`Stats::unanswered`](crate::Stats)).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
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
    /// `R` is the registry whose messages it reads, usually inferred from the [`Router`] given to
    /// [`Consumer::run`]; under [`BrokerConfig::service`](crate::BrokerConfig::service) the
    /// service must be one of that registry's and may only read what its access rules allow.
    pub async fn build<R: Registry>(self) -> Result<Consumer<R>, ConsumerError> {
        let (stream_name, prefix) = match self.kind {
            Kind::Event => (EVENTS_STREAM, "events."),
            Kind::Command => (COMMANDS_STREAM, "commands."),
        };
        if !subject::is_consumer_name(&self.name) {
            return Err(ConsumerError::new(
                ConsumerErrorKind::Config,
                format!(
                    "consumer name {:?}: use letters, digits, `-` and `_` only (it is part of subjects and keys)",
                    self.name
                ),
            ));
        }
        if !self.filter.starts_with(prefix) || !subject::is_filter(&self.filter) {
            return Err(ConsumerError::new(
                ConsumerErrorKind::Config,
                format!(
                    "consumer {}: filter {:?} is outside the {stream_name} stream's subjects `{prefix}>`",
                    self.name, self.filter
                ),
            ));
        }
        if let Some(service) = self.broker.0.config.service.as_deref() {
            if !R::ACCESS.knows(service) {
                return Err(ConsumerError::new(
                    ConsumerErrorKind::Config,
                    format!(
                    "service {service:?} is not a service of the registry ({}); see [package.metadata.events.access]",
                    R::ACCESS.services.join(", ")
                ),
                ));
            }
            crate::access_policy::<R>().may_consume(service, &self.name, &self.filter).map_err(|e| {
                ConsumerError::with_source(ConsumerErrorKind::Forbidden, format!("consumer {}", self.name), e)
            })?;
        }
        let handler_timeout = self.handler_timeout.unwrap_or(self.ack_wait.mul_f64(0.45));
        if handler_timeout.is_zero() || handler_timeout >= self.ack_wait {
            return Err(ConsumerError::new(
                ConsumerErrorKind::Config,
                format!(
                "consumer {}: handler_timeout ({handler_timeout:?}) must be above zero and below ack_wait ({:?}), or \
                 the broker delivers the message again while its handler still runs",
                self.name, self.ack_wait
            ),
            ));
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
            return Err(ConsumerError::new(
                ConsumerErrorKind::Config,
                format!(
                    "consumer {}: the idempotency horizon must be at least the ack wait ({:?})",
                    self.name, self.ack_wait
                ),
            ));
        }
        let name = self.name.clone();
        let broker_err = |what: &str, e: BoxError| {
            ConsumerError::with_source(
                ConsumerErrorKind::Broker,
                format!("consumer {name} on {stream_name}: {what}"),
                e,
            )
        };
        let stream =
            self.broker.0.jetstream.get_stream(stream_name).await.map_err(|e| broker_err("the stream", e.into()))?;
        // On a 2.9 server, creating an existing durable consumer updates its editable settings.
        let consumer =
            stream.create_consumer(config).await.map_err(|e| broker_err("creating the consumer", e.into()))?;
        let processed = match self.idempotent {
            Some(horizon) => Some(
                ProcessedIds::open(
                    &self.broker.0.jetstream,
                    &self.name,
                    horizon,
                    self.broker.0.config.replicas,
                    self.ack_wait,
                )
                .await
                .map_err(|e| broker_err("the processed-id bucket", e.into()))?,
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
                ack_wait: self.ack_wait,
                publisher: self.broker.publisher(),
                failures: FailureLog::new(self.broker.0.failures.clone()),
                processed,
                rng: Mutex::new(SplitMix64::from_entropy()),
                counters: Counters::default(),
            }),
            concurrency: self.concurrency,
            fetch_wait: self.fetch_wait,
            ack_wait: self.ack_wait,
            client: self.broker.0.client.clone(),
            jetstream: self.broker.0.jetstream.clone(),
            drain_timeout: self.drain_timeout,
            _registry: std::marker::PhantomData,
        })
    }
}

/// A consumer setup that failed; match on its [`kind`](events::Error::kind), the broker's or the
/// access rules' own error is its source.
pub type ConsumerError = events::Error<ConsumerErrorKind>;

/// The kinds of [`ConsumerError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsumerErrorKind {
    /// Settings refused before the broker is asked.
    Config,
    /// The broker refused or did not answer.
    Broker,
    /// The registry's access rules do not let this service read what the consumer asks for
    /// (checked before the broker, which would refuse it too).
    Forbidden,
}

/// A service's consumer on the broker, of registry `R`; [`Consumer::run`] handles its deliveries.
pub struct Consumer<R: Registry> {
    inner: async_nats::jetstream::consumer::Consumer<pull::Config>,
    shared: Arc<Shared>,
    concurrency: usize,
    fetch_wait: Duration,
    ack_wait: Duration,
    client: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    drain_timeout: Duration,
    _registry: std::marker::PhantomData<fn() -> R>,
}

impl<R: Registry> std::fmt::Debug for Consumer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").field("name", &self.shared.name).field("concurrency", &self.concurrency).finish()
    }
}

impl<R: Registry> Consumer<R> {
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
    /// Broker outages are waited out (the client reconnects); they never end the run. The shutdown
    /// itself is bounded by the [drain timeout](ConsumerBuilder::drain_timeout), whatever the
    /// broker's state.
    pub async fn run(self, router: Router<R>, shutdown: impl Future<Output = ()>) -> Stats {
        // Deliveries run concurrently on this task, not as tasks of their own: no spawn and no
        // cross-thread wake-up per message. A handler with heavy CPU work should move it to
        // `tokio::task::spawn_blocking`.
        let shared = &*self.shared;
        let router = &router;
        let concurrency = self.concurrency;
        // Asks ahead for as many again as run at once, when a message waiting for its turn
        // (at most one handler's time) cannot outlive the ack wait.
        let capacity = if shared.handler_timeout * 2 < self.ack_wait { 2 * concurrency } else { concurrency };
        let threshold = (capacity / 2).max(1);
        let mut in_flight = FuturesUnordered::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut stopping = false;
        let mut tick = tokio::time::interval(self.fetch_wait);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut outage = Duration::from_millis(50);
        let mut puller = loop {
            match Puller::new(self.inner.clone(), &self.client, self.jetstream.clone(), self.fetch_wait).await {
                Ok(puller) => break puller,
                Err(e) => {
                    tracing::warn!(consumer = %shared.name, error = %e, retry_in = ?outage, "subscribing failed");
                    tokio::select! {
                        _ = &mut shutdown => return shared.stats(),
                        _ = tokio::time::sleep(outage) => {}
                    }
                    outage = (outage * 2).min(Duration::from_secs(2));
                }
            }
        };
        let mut retry_request_at = tokio::time::Instant::now();
        // Set when the shutdown begins: the drain ends by then.
        let mut drain_until: Option<tokio::time::Instant> = None;
        loop {
            let owed = puller.owed();
            let room = capacity.saturating_sub(in_flight.len() + owed);
            if !stopping && room >= threshold && tokio::time::Instant::now() >= retry_request_at {
                match puller.request(room).await {
                    Ok(()) => outage = Duration::from_millis(50),
                    Err(e) => {
                        tracing::warn!(consumer = %shared.name, error = %e, retry_in = ?outage, "pull request failed");
                        retry_request_at = tokio::time::Instant::now() + outage;
                        outage = (outage * 2).min(Duration::from_secs(2));
                    }
                }
                continue;
            }
            if stopping && in_flight.is_empty() && owed == 0 {
                break;
            }
            let drain_deadline = drain_until.unwrap_or_else(tokio::time::Instant::now);
            if drain_until.is_some_and(|t| tokio::time::Instant::now() >= t) {
                let left = in_flight.len();
                shared.counters.unanswered.fetch_add(left as u64, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(consumer = %shared.name, handlers_in_flight = left, owed,
                    drain_timeout = ?self.drain_timeout, "the drain timed out; the broker delivers what was left again");
                break;
            }
            tokio::select! {
                biased;
                Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
                // Everything asked for is handled, shutdown or not: a message left unanswered
                // would wait out the ack wait before anyone saw it again.
                message = puller.next(), if owed > 0 && in_flight.len() < concurrency => match message {
                    Some(message) => in_flight.push(handle(shared, router, message)),
                    None => {
                        tracing::error!(consumer = %shared.name, "the subscription ended");
                        stopping = true;
                    }
                },
                _ = &mut shutdown, if !stopping => {
                    stopping = true;
                    drain_until = Some(tokio::time::Instant::now() + self.drain_timeout);
                }
                _ = tokio::time::sleep_until(drain_deadline), if drain_until.is_some() => {}
                // Re-reads what is owed (requests expire) and retries a failed request.
                _ = tick.tick() => {}
            }
        }
        // A client cut off from its broker would wait for the reconnect: bounded too.
        let flush_until =
            drain_until.map_or(self.drain_timeout, |t| t.saturating_duration_since(tokio::time::Instant::now()));
        match tokio::time::timeout(flush_until, self.client.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(consumer = %shared.name, error = %e, "flushing the last acknowledgements failed")
            }
            Err(_) => {
                tracing::warn!(consumer = %shared.name, "the broker did not take the last acknowledgements in time")
            }
        }
        tracing::info!(consumer = %shared.name, "stopped");
        shared.stats()
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
