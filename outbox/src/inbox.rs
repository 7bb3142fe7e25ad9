//! The inbox: a handler that runs inside a database transaction which also records the message as
//! processed by this consumer, so that the handler's writes and the mark commit together, or not
//! at all.

use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use events::{ErrorInfo, Message};
use events_nats::Delivered;
use tokio::sync::{Mutex, MutexGuard};

use crate::backend::Backend;
use crate::error::{database, Error, ErrorKind};
use crate::message::Outboxed;
use crate::outbox::Outbox;
use crate::now_ms;

/// The inbox of one consumer (the service's durable consumer name) on the outbox's database.
///
/// [`Inbox::handler`] wraps a handler for a [`Router`](events_nats::Router): for each delivery it
/// begins a transaction, inserts `(consumer, eventId or commandId)` under a unique key and runs
/// the handler in that transaction; `Ok` commits both, `Err` rolls both back (and the broker
/// delivers again, after the retry policy's delay). A message already recorded, by a redelivery,
/// a replay or another instance, is acknowledged without running the handler; two instances
/// handling one message at once are serialised by the unique key, and the second skips it.
///
/// ```no_run
/// # async fn run(pool: sqlx::SqlitePool, broker: events_nats::Broker) -> Result<(), Box<dyn std::error::Error>> {
/// use events::create_order_schema::CreateOrderCommand;
/// use events_nats::Router;
/// use events_outbox::{Inbox, Inboxed, Outbox};
///
/// let outbox = Outbox::<sqlx::Sqlite>::default();
/// let inbox = Inbox::new(&outbox, pool, "OrderService");
/// let router = Router::new().on(inbox.handler(|cmd: Inboxed<sqlx::Sqlite, CreateOrderCommand>| async move {
///     let mut tx = cmd.transaction().await;
///     sqlx::query("INSERT INTO orders (id, customer) VALUES ($1, $2)")
///         .bind(cmd.command_id().to_string())
///         .bind(&cmd.payload().customer_id)
///         .execute(&mut **tx)
///         .await?;
///     drop(tx);
///     // cmd.enqueue(&event).await? stores an event in the same transaction.
///     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
/// }));
/// let consumer = broker.consumer("OrderService").commands("commands.CreateOrderCommand").build().await?;
/// consumer.run(router, async { tokio::signal::ctrl_c().await.ok(); }).await;
/// # Ok(()) }
/// ```
pub struct Inbox<DB: Backend> {
    outbox: Outbox<DB>,
    pool: sqlx::Pool<DB>,
    consumer: Arc<str>,
    counters: Arc<Counters>,
}

impl<DB: Backend> Clone for Inbox<DB> {
    fn clone(&self) -> Self {
        Inbox {
            outbox: self.outbox.clone(),
            pool: self.pool.clone(),
            consumer: self.consumer.clone(),
            counters: self.counters.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    handled: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

/// What an inbox's handlers did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxStats {
    /// Deliveries whose handler succeeded and whose transaction committed.
    pub handled: u64,
    /// Deliveries of a message this consumer had processed already: not handled again.
    pub skipped: u64,
    /// Deliveries rolled back: the handler failed, or the database did.
    pub failed: u64,
}

/// A delivery handled in the inbox's transaction: the [`Delivered`] message (it dereferences to
/// it) and the transaction its writes go into.
pub struct Inboxed<DB: Backend, M> {
    delivered: Delivered<M>,
    tx: Arc<Mutex<sqlx::Transaction<'static, DB>>>,
    outbox: Outbox<DB>,
}

impl<DB: Backend, M> Inboxed<DB, M> {
    /// The transaction: run the handler's queries on `&mut **tx`. Commit and rollback are the
    /// inbox's.
    pub async fn transaction(&self) -> MutexGuard<'_, sqlx::Transaction<'static, DB>> {
        self.tx.lock().await
    }
    /// Stores `message` in the outbox, in this transaction: it goes out if and only if the
    /// handling commits. Refused ([`ErrorKind::TransactionHeld`]) while the handler holds the
    /// guard of [`transaction`](Self::transaction): waiting for it would wait for ever.
    pub async fn enqueue<O: Outboxed>(&self, message: &O) -> Result<(), Error> {
        self.outbox.enqueue(&mut *self.free()?, message).await
    }
    /// [`enqueue`](Self::enqueue) under ordering key `key`.
    pub async fn enqueue_keyed<O: Outboxed>(&self, message: &O, key: &str) -> Result<(), Error> {
        self.outbox.enqueue_keyed(&mut *self.free()?, message, key).await
    }
    fn free(&self) -> Result<MutexGuard<'_, sqlx::Transaction<'static, DB>>, Error> {
        self.tx.try_lock().map_err(|_| {
            Error::new(
                ErrorKind::TransactionHeld,
                "the handler holds its transaction's guard: drop it (end the statement that used it) before enqueue",
            )
        })
    }
    /// The delivery.
    pub fn delivered(&self) -> &Delivered<M> {
        &self.delivered
    }
}

impl<DB: Backend, M> Deref for Inboxed<DB, M> {
    type Target = Delivered<M>;
    fn deref(&self) -> &Delivered<M> {
        &self.delivered
    }
}

impl<DB: Backend> Inbox<DB> {
    /// The inbox of `consumer`, in `outbox`'s inbox table on `pool`.
    pub fn new(outbox: &Outbox<DB>, pool: sqlx::Pool<DB>, consumer: impl Into<String>) -> Self {
        Inbox { outbox: outbox.clone(), pool, consumer: consumer.into().into(), counters: Arc::default() }
    }

    /// What its handlers did so far.
    pub fn stats(&self) -> InboxStats {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        InboxStats { handled: n(&self.counters.handled), skipped: n(&self.counters.skipped), failed: n(&self.counters.failed) }
    }

    /// Deletes this consumer's records older than `retention`; how many. Keep them at least as long
    /// as the broker keeps the messages (the streams' `max_age`): a replay or a redelivery of a
    /// message whose record is gone runs its handler again.
    pub async fn purge(&self, retention: Duration) -> Result<u64, Error> {
        let sql = &self.outbox.inner.sql;
        let cutoff = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
        DB::ops()
            .inbox_purge(&self.pool, sql, &self.consumer, cutoff)
            .await
            .map_err(|e| database(format!("{}: deleting old records", self.outbox.tables().inbox_table()), e))
    }

    /// `handler`, run in the inbox's transaction: give the result to [`Router::on`](events_nats::Router::on).
    pub fn handler<M, F, Fut, E>(
        &self,
        handler: F,
    ) -> impl events_nats::Handler<M>
    where
        M: Message,
        F: Fn(Inboxed<DB, M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<ErrorInfo>,
    {
        let inbox = self.clone();
        let handler = Arc::new(handler);
        move |delivered: Delivered<M>| {
            let inbox = inbox.clone();
            let handler = handler.clone();
            async move { inbox.handle(delivered, &*handler).await }
        }
    }

    async fn handle<M, F, Fut, E>(&self, delivered: Delivered<M>, handler: &F) -> Result<(), ErrorInfo>
    where
        M: Message,
        F: Fn(Inboxed<DB, M>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Into<ErrorInfo>,
    {
        let table = self.outbox.tables().inbox_table();
        let id = delivered.message_id();
        let name = delivered.name();
        let fail = |what: String| {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
            ErrorInfo::from(what)
        };
        let mut tx = self.pool.begin().await.map_err(|e| fail(format!("{table}: cannot begin a transaction: {e}")))?;
        // Waits while another instance's transaction holds the same id: then skips it if that one
        // committed, handles it if it rolled back.
        let claimed = DB::ops()
            .inbox_claim(&mut *tx, &self.outbox.inner.sql, &self.consumer, &id, name, now_ms())
            .await
            .map_err(|e| fail(format!("{table}: cannot record {name} {id} for {}: {e}", self.consumer)))?;
        if !claimed {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(consumer = %self.consumer, name, id = %id, "already processed: skipped");
            // Nothing was written: the rollback only ends the transaction.
            let _ = tx.rollback().await;
            return Ok(());
        }
        let tx = Arc::new(Mutex::new(tx));
        // Turned into the transport's error at once: `E` need not be `Send`.
        let result = handler(Inboxed { delivered, tx: tx.clone(), outbox: self.outbox.clone() }).await.map_err(Into::into);
        let Ok(tx) = Arc::try_unwrap(tx).map(Mutex::into_inner) else {
            // The handler handed its transaction to a task that outlives it: never commit that.
            return Err(fail(format!("{table}: the handler of {name} {id} kept its transaction past its end; rolled back")));
        };
        match result {
            Ok(()) => {
                let mut tx = tx;
                // A statement that failed inside the handler (its error swallowed) has aborted a
                // PostgreSQL transaction, whose COMMIT then rolls back without an error: asked first.
                if DB::ABORTS_ON_ERROR {
                    if let Err(e) = DB::ops().probe(&mut *tx).await {
                        let _ = tx.rollback().await;
                        return Err(fail(format!("{table}: {name} {id} not committed, a statement of its handler failed: {e}")));
                    }
                }
                tx.commit().await.map_err(|e| fail(format!("{table}: cannot commit {name} {id}: {e}")))?;
                self.counters.handled.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                let _ = tx.rollback().await;
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }
}
