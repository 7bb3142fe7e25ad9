//! The relay: publishes committed rows through the transport, in order per ordering key, and
//! marks them published once the broker has stored them.
//!
//! It never skips a row: it keeps no cursor. Each pass reads the rows not yet published, oldest
//! first, so a transaction that committed late (its `seq` below rows already published) is simply
//! in the next pass. Within a pass the rows of one key go one at a time, each after the broker
//! acknowledged the one before; keys go side by side. A row published and not yet marked (the
//! relay died in between) is published again under the same `Nats-Msg-Id`, and the broker's
//! duplicate window recognises it: the relay refuses to start with a window too short for that.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use events_nats::{Broker, PublishErrorKind, Publisher};
use futures_util::{FutureExt, Stream, StreamExt};
use tokio::sync::watch;

use crate::backend::{Backend, Pending};
use crate::error::{database, Error, ErrorKind};
use crate::lease::Lease;
use crate::outbox::Outbox;
use crate::now_ms;

/// Commit notifications (PostgreSQL's LISTEN): each item is one wake-up, or an error the poll
/// covers.
#[doc(hidden)]
pub struct Wakeups(Pin<Box<dyn Stream<Item = Result<(), String>> + Send>>);

impl Wakeups {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn new(stream: impl Stream<Item = Result<(), String>> + Send + 'static) -> Self {
        Wakeups(Box::pin(stream))
    }
}

/// Settings of a relay; [`Outbox::relay`] starts one, [`RelayBuilder::start`] runs it.
///
/// ```no_run
/// # async fn run(pool: sqlx::SqlitePool, broker: events_nats::Broker) -> Result<(), events_outbox::Error> {
/// use std::time::Duration;
/// let outbox = events_outbox::Outbox::<sqlx::Sqlite>::default();
/// let relay = outbox
///     .relay(pool, broker)
///     .instance("order-service-1")
///     .retention(Duration::from_secs(3600)) // keep published rows an hour
///     .start()?;
/// // … until the service stops:
/// relay.shutdown().await; // releases the lease: a standby takes over at once
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RelayBuilder<DB: Backend> {
    outbox: Outbox<DB>,
    pool: sqlx::Pool<DB>,
    broker: Broker,
    instance: String,
    batch: usize,
    in_flight: usize,
    lease_ttl: Duration,
    poll: Duration,
    listen: bool,
    retention: Duration,
}

impl<DB: Backend> Outbox<DB> {
    /// A relay of this outbox, reading `pool` and publishing through `broker` (set up with the
    /// publishing service's [`BrokerConfig::service`](events_nats::BrokerConfig::service), so that a
    /// refused publish is recognised and parked).
    pub fn relay(&self, pool: sqlx::Pool<DB>, broker: Broker) -> RelayBuilder<DB> {
        RelayBuilder {
            outbox: self.clone(),
            pool,
            broker,
            instance: default_instance(),
            batch: 500,
            in_flight: 256,
            lease_ttl: Duration::from_secs(5),
            poll: DB::POLL,
            listen: true,
            retention: Duration::ZERO,
        }
    }
}

fn default_instance() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "relay".into());
    format!("{host}:{}", std::process::id())
}

impl<DB: Backend> RelayBuilder<DB> {
    /// This instance's name in the lease table and the logs (by default `$HOSTNAME:<pid>`).
    pub fn instance(mut self, name: impl Into<String>) -> Self {
        self.instance = name.into();
        self
    }
    /// How many rows one pass reads (500).
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch = rows.max(1);
        self
    }
    /// How many ordering keys publish at once (256); a key's rows always go one after another.
    pub fn max_in_flight(mut self, keys: usize) -> Self {
        self.in_flight = keys.max(1);
        self
    }
    /// How long the active instance's lease lasts unrenewed (5 s): a standby takes over this long
    /// after the active one died, at most a third more. A clean [`Relay::shutdown`] hands over at once.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }
    /// How long the relay waits between looks at the table when nothing woke it: 100 ms on SQLite,
    /// 1 s on PostgreSQL, where a commit's notification wakes it first.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll = every;
        self
    }
    /// Whether to wait for commit notifications (PostgreSQL's LISTEN/NOTIFY; on by default).
    /// Off, the relay polls.
    pub fn listen(mut self, on: bool) -> Self {
        self.listen = on;
        self
    }
    /// How long published rows are kept (none: deleted once published). Kept rows are deleted by
    /// the relay once they are older.
    pub fn retention(mut self, keep: Duration) -> Self {
        self.retention = keep;
        self
    }

    /// Refuses a duplicate window too short to cover a relay that dies between a publish and its
    /// mark: the standby publishes the row again up to the lease's lifetime later, and that
    /// publish retries for up to the publish deadline.
    pub fn check(&self) -> Result<(), Error> {
        let config = self.broker.config();
        let window = config.duplicate_window_length();
        let needed = self.lease_ttl + self.lease_ttl / 3 + config.publish_deadline_length();
        if window <= needed {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "the broker's duplicate window ({window:?}) must exceed the relay's lease ({:?}, renewed every third) plus \
                     the publish deadline ({:?}): a row published by a relay that died before marking it is published again \
                     up to then, and the broker must still recognise it",
                    self.lease_ttl,
                    config.publish_deadline_length()
                ),
            ));
        }
        if self.lease_ttl < Duration::from_millis(300) {
            return Err(Error::new(ErrorKind::Config, format!("a lease of {:?} is too short to renew", self.lease_ttl)));
        }
        Ok(())
    }

    /// Checks the settings and starts the relay on the current tokio runtime. It runs until
    /// [`Relay::shutdown`] (or until the handle is dropped).
    pub fn start(self) -> Result<Relay, Error> {
        self.check()?;
        let holder = format!("{}:{}", self.instance, &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (stop_tx, stop) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let lease = Lease::<DB>::new(self.outbox.clone(), self.pool.clone(), holder.clone(), self.lease_ttl);
        let publisher = self.broker.publisher();
        let worker = Worker { b: self, lease, publisher, counters: counters.clone() };
        let task = tokio::spawn(worker.run(stop));
        Ok(Relay { task: Some(task), stop: stop_tx, counters, holder })
    }
}

/// A running relay. Dropping it stops it at once, as a crash would (the lease is left to expire);
/// [`Relay::shutdown`] stops it cleanly.
#[derive(Debug)]
pub struct Relay {
    task: Option<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    counters: Arc<Counters>,
    holder: String,
}

/// What a relay did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Whether this instance holds the lease: the active relay of its outbox.
    pub active: bool,
    /// Rows the broker stored.
    pub published: u64,
    /// Of those, rows the broker had stored already (published before a crash, not marked).
    pub duplicates: u64,
    /// Rows parked.
    pub parked: u64,
    /// Publish attempts that failed and will be retried (broker unavailable, no stream).
    pub failed: u64,
    /// Times the database did not answer.
    pub database_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    active: AtomicBool,
    published: AtomicU64,
    duplicates: AtomicU64,
    parked: AtomicU64,
    failed: AtomicU64,
    database_errors: AtomicU64,
}

impl Relay {
    /// What it did so far.
    pub fn stats(&self) -> RelayStats {
        let c = &self.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RelayStats {
            active: c.active.load(Ordering::Relaxed),
            published: n(&c.published),
            duplicates: n(&c.duplicates),
            parked: n(&c.parked),
            failed: n(&c.failed),
            database_errors: n(&c.database_errors),
        }
    }
    /// Its name in the lease table.
    pub fn holder(&self) -> &str {
        &self.holder
    }
    /// Stops after the pass in hand, and releases the lease.
    pub async fn shutdown(mut self) -> RelayStats {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.stats()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Worker<DB: Backend> {
    b: RelayBuilder<DB>,
    lease: Lease<DB>,
    publisher: Publisher,
    counters: Arc<Counters>,
}

/// A row a key's chain stopped at.
enum Outcome {
    Parked { seq: i64, reason: String },
    Failed { seq: i64, reason: String },
    /// The lease was lost: the rest is the next holder's.
    Stopped,
}

const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

impl<DB: Backend> Worker<DB> {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let outbox = self.b.outbox.inner.sql.outbox.clone();
        let mut held = self.lease.watch();
        // Aborted with this task, whichever way it ends.
        let keeper = AbortOnDrop(Some(tokio::spawn(self.lease.clone().keep(stop.clone()))));
        let mut wakeups: Option<Wakeups> = None;
        let mut backoff = BACKOFF_MIN;
        let mut purged = Instant::now();
        while !*stop.borrow() {
            let active = self.lease.valid();
            self.counters.active.store(active, Ordering::Relaxed);
            if !active {
                wakeups = None;
                tokio::select! {
                    _ = held.changed() => {}
                    _ = stop.changed() => {}
                    // Belt and braces: a renewal that came back late is seen here too.
                    _ = tokio::time::sleep(self.b.lease_ttl / 3) => {}
                }
                continue;
            }
            if self.b.listen && wakeups.is_none() {
                match DB::ops().listen(&self.b.pool, &self.b.outbox.inner.sql).await {
                    Ok(w) => wakeups = w,
                    Err(e) => tracing::warn!(%outbox, error = %e, "cannot listen for commits; polling"),
                }
            }
            let wait = match self.pass().await {
                Ok(Pass { rows, retry, more }) => {
                    tracing::trace!(%outbox, rows, "relay pass");
                    if retry {
                        let wait = backoff;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        Some(wait)
                    } else {
                        backoff = BACKOFF_MIN;
                        (!more).then_some(self.b.poll)
                    }
                }
                Err(e) => {
                    self.counters.database_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%outbox, error = %e, retry_in = ?backoff, "relay pass failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    Some(wait)
                }
            };
            if !self.b.retention.is_zero() && purged.elapsed() > Duration::from_secs(30) {
                purged = Instant::now();
                if let Err(e) = self.b.outbox.purge_published(&self.b.pool, self.b.retention).await {
                    tracing::warn!(%outbox, error = %e, "cannot delete published rows past their retention");
                }
            }
            let Some(wait) = wait else { continue };
            let woken = async {
                match wakeups.as_mut() {
                    Some(w) => w.0.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
                _ = held.changed() => {}
                w = woken => match w {
                    Some(Ok(())) => {
                        // One pass covers every commit so far: drop the other wake-ups queued.
                        while let Some(w) = wakeups.as_mut() {
                            if !matches!(w.0.next().now_or_never(), Some(Some(Ok(())))) {
                                break;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(%outbox, error = %e, "commit notifications lost; polling until they are back");
                        wakeups = None;
                    }
                    None => wakeups = None,
                },
            }
        }
        // The keeper stops at `stop`; waited for, so that no renewal of its lands after the release.
        keeper.join().await;
        self.counters.active.store(false, Ordering::Relaxed);
        self.lease.release().await;
    }

    /// The pending rows, oldest first.
    async fn select(&self) -> Result<Vec<Pending>, Error> {
        let sql = &self.b.outbox.inner.sql;
        let limit = i64::try_from(self.b.batch).unwrap_or(i64::MAX);
        DB::ops()
            .pending(&self.b.pool, sql, limit)
            .await
            .map_err(|e| database(format!("{}: reading the pending rows", sql.outbox), e))
    }

    /// Publishes what is pending, batch after batch, each read from the lowest pending row: a
    /// transaction that committed late (its rows below rows already published) is in the next
    /// batch. (Reading the next batch ahead, after the last `seq` of the one publishing, would
    /// let a later row of a key overtake such a row; ruling that out costs a read from the lowest
    /// anyway.)
    async fn pass(&self) -> Result<Pass, Error> {
        let mut total = 0;
        loop {
            let rows = self.select().await?;
            let count = rows.len();
            total += count;
            if count == 0 {
                return Ok(Pass { rows: total, retry: false, more: false });
            }
            match self.publish(rows).await? {
                Batch::Stored if count == self.b.batch => continue,
                Batch::Stored => return Ok(Pass { rows: total, retry: false, more: false }),
                Batch::Stopped { retry } => return Ok(Pass { rows: total, retry, more: false }),
            }
        }
    }

    /// Publishes one batch, its keys side by side, and marks rows published as the broker
    /// acknowledges them (in groups, while the rest publishes): a row stays unmarked for the time
    /// of one mark, not for the batch's slowest key.
    async fn publish(&self, rows: Vec<Pending>) -> Result<Batch, Error> {
        let sql = &self.b.outbox.inner.sql;
        // Rows by ordering key, each key's in `seq` order, keys in the order of their first row.
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut chains: Vec<Vec<Pending>> = Vec::new();
        for row in rows {
            let i = *keys.entry(row.ordering_key.clone()).or_insert_with(|| {
                chains.push(Vec::new());
                chains.len() - 1
            });
            chains[i].push(row);
        }
        let (stored_tx, mut stored) = tokio::sync::mpsc::unbounded_channel();
        // Set when a mark fails: what is published from then on could not be marked either.
        let marks_failing = AtomicBool::new(false);
        let failing = &marks_failing;
        let publishing = async move {
            let tx = &stored_tx;
            futures_util::stream::iter(chains)
                .map(|c| self.chain(c, tx, failing))
                .buffer_unordered(self.b.in_flight)
                .collect::<Vec<Vec<Outcome>>>()
                .await
        };
        let marking = async {
            let mut result = Ok(());
            while let Some(first) = stored.recv().await {
                let mut done = vec![first];
                while let Ok(more) = stored.try_recv() {
                    done.push(more);
                }
                if result.is_ok() {
                    result = self.mark(done).await;
                    if result.is_err() {
                        failing.store(true, Ordering::Relaxed);
                    }
                }
            }
            result
        };
        let (outcomes, marked) = tokio::join!(publishing, marking);
        marked?;
        let mut retry = false;
        let mut clean = true;
        for outcome in outcomes.into_iter().flatten() {
            clean = false;
            match outcome {
                Outcome::Parked { seq, reason } => {
                    tracing::error!(outbox = %sql.outbox, seq, reason = %reason, "row parked: the broker refused it for good");
                    DB::ops()
                        .park(&self.b.pool, sql, seq, &reason, now_ms())
                        .await
                        .map_err(|e| database(format!("{}: parking row {seq}", sql.outbox), e))?;
                    self.counters.parked.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Failed { seq, reason } => {
                    retry = true;
                    self.counters.failed.fetch_add(1, Ordering::Relaxed);
                    // Best effort: the attempt count is for operators, the row is retried anyway.
                    if let Err(e) = DB::ops().fail(&self.b.pool, sql, seq, &reason).await {
                        tracing::debug!(outbox = %sql.outbox, seq, error = %e, "cannot record a failed attempt");
                    }
                }
                Outcome::Stopped => {}
            }
        }
        Ok(if clean { Batch::Stored } else { Batch::Stopped { retry } })
    }

    /// Marks `done` (`(seq, stream sequence)`) published, or deletes them.
    async fn mark(&self, done: Vec<(i64, u64)>) -> Result<(), Error> {
        let sql = &self.b.outbox.inner.sql;
        let keep = (!self.b.retention.is_zero()).then(now_ms);
        let marked = serde_json::to_string(&done).expect("numbers always serialize");
        DB::ops()
            .mark(&self.b.pool, sql, marked, keep)
            .await
            .map(drop)
            .map_err(|e| database(format!("{}: marking published rows", sql.outbox), e))
    }

    /// The rows of one key, one after the other; it stops at the first that is not stored, so
    /// that none overtakes it. Stored rows go to `stored` as they are acknowledged; what is
    /// returned is the rest.
    async fn chain(
        &self,
        rows: Vec<Pending>,
        stored: &tokio::sync::mpsc::UnboundedSender<(i64, u64)>,
        marks_failing: &AtomicBool,
    ) -> Vec<Outcome> {
        for row in rows {
            if !self.lease.valid() || marks_failing.load(Ordering::Relaxed) {
                return vec![Outcome::Stopped];
            }
            let seq = row.seq;
            let message = match row.to_outgoing() {
                Ok(m) => m,
                Err(reason) => return vec![Outcome::Parked { seq, reason }],
            };
            match self.publisher.publish_outgoing(message).await {
                Ok(p) => {
                    self.counters.published.fetch_add(1, Ordering::Relaxed);
                    if p.duplicate {
                        self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = stored.send((seq, p.sequence));
                }
                Err(e) if matches!(e.kind(), PublishErrorKind::Forbidden | PublishErrorKind::Rejected) => {
                    return vec![Outcome::Parked { seq, reason: e.to_string() }];
                }
                Err(e) => return vec![Outcome::Failed { seq, reason: e.to_string() }],
            }
        }
        Vec::new()
    }
}

struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    async fn join(mut self) {
        if let Some(task) = self.0.take() {
            let _ = task.await;
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// How a batch ended.
enum Batch {
    /// Every row stored.
    Stored,
    /// A key stopped short (parked, failed, the lease lost); `retry`: after a backoff.
    Stopped { retry: bool },
}

struct Pass {
    rows: usize,
    /// Something failed and is retried after a backoff.
    retry: bool,
    /// More is pending: look again at once.
    more: bool,
}
