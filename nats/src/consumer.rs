//! Consuming: a durable pull consumer per service, deliveries decoded and validated through the
//! registry, handler results turned into ack, nak with the retry policy's delay, or dead letter.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{AckKind, Message};
use futures_util::{FutureExt, StreamExt};
use events::{ErrorInfo, Failure, Origin, RetryPolicy, SplitMix64};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::dead_letter::{self, FailureLog, PoisonMessage};
use crate::message::Kind;
use crate::publish::Publisher;
use crate::router::{Context, Dispatch, Route, Router};
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
        let broker_err = |what: &str, e: &dyn std::fmt::Display| ConsumerError {
            kind: ConsumerErrorKind::Broker,
            message: format!("consumer {} on {stream_name}: {what}: {e}", self.name),
        };
        let stream = self.broker.jetstream.get_stream(stream_name).await.map_err(|e| broker_err("the stream", &e))?;
        // On a 2.9 server, creating an existing durable consumer updates its editable settings.
        let consumer = stream.create_consumer(config).await.map_err(|e| broker_err("creating the consumer", &e))?;
        Ok(Consumer {
            inner: consumer,
            shared: Arc::new(Shared {
                name: self.name,
                kind: self.kind,
                policy: self.policy,
                handler_timeout,
                publisher: self.broker.publisher(),
                failures: FailureLog::new(self.broker.failures.clone()),
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

/// What a consumer did, counted as it runs.
#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    processed: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    poison: AtomicU64,
    unrouted: AtomicU64,
}

/// A snapshot of what a consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Deliveries received, redeliveries included.
    pub delivered: u64,
    /// Handled and acknowledged.
    pub processed: u64,
    /// Failed and sent back for a retry.
    pub retried: u64,
    /// Given up on after the last attempt, and recorded in the dead-letter stream.
    pub dead_lettered: u64,
    /// Refused by decoding or validation, and recorded in the dead-letter stream at once.
    pub poison: u64,
    /// Valid, but no handler takes them: acknowledged unhandled.
    pub unrouted: u64,
}

struct Shared {
    name: String,
    kind: Kind,
    policy: RetryPolicy,
    handler_timeout: Duration,
    publisher: Publisher,
    failures: FailureLog,
    rng: Mutex<SplitMix64>,
    counters: Counters,
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

impl Shared {
    fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            delivered: get(&c.delivered),
            processed: get(&c.processed),
            retried: get(&c.retried),
            dead_lettered: get(&c.dead_lettered),
            poison: get(&c.poison),
            unrouted: get(&c.unrouted),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One delivery, from the broker's message to its answer.
async fn handle(shared: &Shared, router: &Router, message: Message) {
    bump(&shared.counters.delivered);
    let Ok(info) = message.info() else {
        tracing::error!(consumer = %shared.name, subject = %message.subject, "not a JetStream delivery; left unanswered");
        return;
    };
    let attempt = u32::try_from(info.delivered.max(1)).unwrap_or(u32::MAX);
    let sequence = info.stream_sequence;
    let origin = Origin::new(message.subject.as_str(), shared.name.as_str()).in_stream(info.stream, sequence);
    let published = chrono::DateTime::from_timestamp_nanos(
        i64::try_from(info.published.unix_timestamp_nanos()).unwrap_or(i64::MAX),
    );
    let key = subject::failures_key(&shared.name, info.stream, sequence);
    let bytes = message.payload.clone();
    let route = router.route(&bytes, shared.kind);
    let max = shared.policy.max_attempts();

    if attempt > max {
        // The last allowed attempt never answered (a crash or a hang), or its dead-letter record
        // could not be written: the handler is not called again.
        let mut failures = shared.failures.load(&key).await;
        if failures.last().map(|f| f.attempt) != Some(max) {
            let hung = ErrorInfo {
                error_type: "events_nats::NoAnswer".to_string(),
                message: format!("attempt {max} was not answered within the ack wait"),
                causes: vec![],
            };
            failures.push(Failure::new(max, chrono::Utc::now(), hung));
        }
        dead_letter(shared, &message, route.as_ref(), &bytes, max, failures, &origin, &key).await;
        return;
    }

    let cx = Context { attempt, max_attempts: max, origin: origin.clone(), published };
    let Dispatch { ids, run } = match route.dispatch(&bytes, cx) {
        Ok(dispatch) => dispatch,
        Err(error) => {
            let record = PoisonMessage::new(&bytes, message.headers.as_ref(), &error, origin);
            let out = dead_letter::poison_record(&record, &shared.name);
            match shared.publisher.publish_outgoing(out).await {
                Ok(_) => {
                    answer(&message, AckKind::Term, &shared.name).await;
                    bump(&shared.counters.poison);
                    tracing::error!(consumer = %shared.name, subject = %message.subject, sequence,
                        error = %error, "poison message dead-lettered");
                }
                Err(e) => {
                    tracing::error!(consumer = %shared.name, sequence, error = %e, "could not dead-letter a poison message; retrying later");
                    answer(&message, AckKind::Nak(Some(Duration::from_secs(1))), &shared.name).await;
                }
            }
            return;
        }
    };
    let Some(run) = run else {
        answer(&message, AckKind::Ack, &shared.name).await;
        bump(&shared.counters.unrouted);
        tracing::debug!(consumer = %shared.name, name = ids.name, id = %ids.id, "no handler; acknowledged");
        return;
    };
    tracing::info!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
        causation_id = %ids.causation_id, attempt, retry_count = attempt - 1, "delivered");

    let result = match tokio::time::timeout(shared.handler_timeout, AssertUnwindSafe(run).catch_unwind()).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => {
            let text = panic.downcast_ref::<&str>().map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            Err(ErrorInfo { error_type: "events_nats::HandlerPanicked".into(), message: text, causes: vec![] })
        }
        Err(_) => Err(ErrorInfo {
            error_type: "events_nats::HandlerTimedOut".into(),
            message: format!("no answer within the handler timeout of {:?}", shared.handler_timeout),
            causes: vec![],
        }),
    };
    match result {
        Ok(()) => {
            answer(&message, AckKind::Ack, &shared.name).await;
            if attempt > 1 {
                shared.failures.clear(&key).await;
            }
            bump(&shared.counters.processed);
            tracing::info!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
                attempt, "processed");
        }
        Err(error) => {
            let failure = Failure::new(attempt, chrono::Utc::now(), error.clone());
            let failures = shared.failures.push(&key, failure).await;
            if shared.policy.allows_retry(attempt - 1) {
                let delay = shared.policy.delay(attempt, &mut *shared.rng.lock().unwrap_or_else(|p| p.into_inner()));
                answer(&message, AckKind::Nak(Some(delay)), &shared.name).await;
                bump(&shared.counters.retried);
                tracing::warn!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
                    attempt, retry_in = ?delay, error = %error.message, "handler failed; retrying");
            } else {
                dead_letter(shared, &message, route.as_ref(), &bytes, attempt, failures, &origin, &key).await;
            }
        }
    }
}

/// Writes the record, then terminates the message; the failures stay in the log until both are
/// done, so a crash in between leaves a later delivery everything it needs.
#[allow(clippy::too_many_arguments)]
async fn dead_letter(
    shared: &Shared,
    message: &Message,
    route: &dyn Route,
    bytes: &[u8],
    attempts: u32,
    failures: Vec<Failure>,
    origin: &Origin,
    key: &str,
) {
    let out = match route.record(bytes, attempts) {
        Ok((ids, value)) => dead_letter::message_record(shared.kind, value, &ids, attempts, failures, origin, &shared.name),
        Err(error) => {
            let record = PoisonMessage::new(bytes, message.headers.as_ref(), &error, origin.clone());
            dead_letter::poison_record(&record, &shared.name)
        }
    };
    let name = out.name.clone();
    match shared.publisher.publish_outgoing(out).await {
        Ok(_) => {
            answer(message, AckKind::Term, &shared.name).await;
            shared.failures.clear(key).await;
            bump(&shared.counters.dead_lettered);
            tracing::error!(consumer = %shared.name, name = %name, subject = %origin.queue, sequence = origin.offset,
                attempts, "dead-lettered");
        }
        Err(e) => {
            tracing::error!(consumer = %shared.name, error = %e, "could not write the dead-letter record; the message stays");
            answer(message, AckKind::Nak(Some(Duration::from_secs(1))), &shared.name).await;
        }
    }
}

async fn answer(message: &Message, kind: AckKind, consumer: &str) {
    if let Err(e) = message.ack_with(kind).await {
        tracing::warn!(consumer, subject = %message.subject, error = %e, "could not answer the broker; it will deliver again");
    }
}
