//! The outbox: messages stored in the caller's own transaction, and what an operator asks of them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use events_nats::Outgoing;

use crate::backend::{Backend, NewRow, Statements};
use crate::error::{database, Error, ErrorKind};
use crate::message::{correlation_of, encode_headers, Outboxed};
use crate::migrate::Migration;
use crate::tables::Tables;
use crate::{from_ms, now_ms};

/// One outbox on database `DB` (`sqlx::Sqlite` or `sqlx::Postgres`): its tables and their SQL.
/// Cheap to clone; it holds no connection, the caller's pool and transactions do.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
/// use events_outbox::Outbox;
///
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let outbox = Outbox::<sqlx::Sqlite>::default();
/// outbox.migrate(&pool).await?; // creates the tables, once
///
/// let payload = InventoryUpdatedIntegrationEventPayload { item_id: "ITEM001".into(), new_quantity: 90, warehouse_id: "WH-1".into() };
/// let event = InventoryUpdatedIntegrationEvent::new(payload, events::Metadata::new("stock-job", "InventoryService"))?;
///
/// let mut tx = pool.begin().await?;
/// // … the service's own writes, in `tx` …
/// outbox.enqueue(&mut tx, &event).await?;
/// tx.rollback().await?; // rolled back: nothing will be published
/// assert_eq!(outbox.backlog(&pool).await?.pending, 0);
///
/// let mut tx = pool.begin().await?;
/// outbox.enqueue(&mut tx, &event).await?;
/// tx.commit().await?; // committed: the relay publishes it
/// assert_eq!(outbox.backlog(&pool).await?.pending, 1);
/// # Ok(()) }
/// ```
pub struct Outbox<DB: Backend> {
    pub(crate) inner: Arc<Shared>,
    _db: std::marker::PhantomData<fn() -> DB>,
}

pub(crate) struct Shared {
    pub tables: Tables,
    pub sql: Statements,
}

impl<DB: Backend> Clone for Outbox<DB> {
    fn clone(&self) -> Self {
        Outbox { inner: self.inner.clone(), _db: std::marker::PhantomData }
    }
}

impl<DB: Backend> std::fmt::Debug for Outbox<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("database", &DB::DATABASE).field("tables", &self.inner.tables).finish()
    }
}

impl<DB: Backend> Default for Outbox<DB> {
    /// The default tables, `events_outbox` and `events_inbox`.
    fn default() -> Self {
        Outbox::new(Tables::default()).expect("the default table names are identifiers")
    }
}

/// How many messages wait, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// Committed and not yet published (those held behind a parked row included).
    pub pending: u64,
    /// Of the pending, those whose ordering key has a parked row: they wait for an operator.
    pub held: u64,
    /// Refused by the broker for good, waiting for an operator ([`Outbox::parked`]).
    pub parked: u64,
    /// When the oldest pending message was enqueued.
    pub oldest_pending: Option<DateTime<Utc>>,
}

impl Backlog {
    /// How long the oldest pending message has waited.
    pub fn oldest_pending_age(&self) -> Option<Duration> {
        self.oldest_pending.map(|t| (Utc::now() - t).to_std().unwrap_or_default())
    }
}

/// A row the broker refused for good (a publish the access rules forbid, a message too large):
/// the rows of its ordering key behind it wait until an operator retries or discards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    /// Its place in the outbox.
    pub seq: i64,
    /// Its `Nats-Msg-Id` (the eventId or commandId).
    pub msg_id: String,
    /// `eventName` or `commandName`.
    pub name: String,
    /// The subject it was refused on.
    pub subject: String,
    /// Its ordering key.
    pub ordering_key: String,
    /// When it was enqueued.
    pub enqueued_at: DateTime<Utc>,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
    /// What the broker said.
    pub reason: String,
    /// Publish attempts made.
    pub attempts: u32,
}

impl<DB: Backend> Outbox<DB> {
    /// An outbox on `tables`, refused if a name is not a plain identifier (or, on SQLite, if it
    /// names a schema).
    pub fn new(tables: Tables) -> Result<Self, Error> {
        tables.check()?;
        if tables.schema_name().is_some() && DB::DATABASE != "PostgreSQL" {
            return Err(Error::new(ErrorKind::Config, format!("{} has no schemas: Tables::schema is for PostgreSQL", DB::DATABASE)));
        }
        let sql = DB::statements(&tables);
        Ok(Outbox { inner: Arc::new(Shared { tables, sql }), _db: std::marker::PhantomData })
    }

    /// Its tables.
    pub fn tables(&self) -> &Tables {
        &self.inner.tables
    }

    /// The migrations this crate ships for `DB`, in order; [`Migration::render`] gives the SQL
    /// for these tables, for a team that applies migrations with its own tool.
    pub fn migrations() -> &'static [Migration] {
        DB::migrations()
    }

    /// Creates or updates the tables: applies, in one transaction, the migrations not yet applied
    /// (recorded in `<outbox>_migrations`), and returns their versions. Instances starting at
    /// once wait for each other. A migration applied with other SQL, or a database migrated by a
    /// newer version of this crate, is refused ([`ErrorKind::Migration`]).
    pub async fn migrate(&self, pool: &sqlx::Pool<DB>) -> Result<Vec<u32>, Error> {
        DB::ops().migrate(pool, &self.inner.sql, &self.inner.tables, DB::migrations()).await
    }

    /// Stores `message` in the caller's transaction: it is published if and only if `tx` commits.
    /// Its ordering key is its correlationId: the messages of one correlation are published in
    /// the order they were stored (transactions that follow each other: their commit order; two
    /// that overlap: the order the database gave their rows, see `docs/outbox.md`).
    pub async fn enqueue<M: Outboxed>(&self, tx: &mut sqlx::Transaction<'_, DB>, message: &M) -> Result<(), Error> {
        let out = message.outgoing();
        let key = correlation_of(&out).to_string();
        self.store(tx, M::KIND, &out, &key).await
    }

    /// [`enqueue`](Self::enqueue), ordered under `key` (an aggregate's id, say) rather than the
    /// correlationId.
    pub async fn enqueue_keyed<M: Outboxed>(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        message: &M,
        key: &str,
    ) -> Result<(), Error> {
        self.store(tx, M::KIND, &message.outgoing(), key).await
    }

    /// Stores a message the transport built ([`Outgoing::from_json`], say), ordered under `key`.
    pub async fn enqueue_outgoing(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        message: &Outgoing,
        key: &str,
    ) -> Result<(), Error> {
        let kind = if message.subject.starts_with("commands.") { "command" } else { "event" };
        self.store(tx, kind, message, key).await
    }

    async fn store(
        &self,
        tx: &mut sqlx::Transaction<'_, DB>,
        kind: &'static str,
        out: &Outgoing,
        key: &str,
    ) -> Result<(), Error> {
        let row = NewRow {
            msg_id: &out.msg_id,
            kind,
            name: &out.name,
            subject: &out.subject,
            headers: encode_headers(&out.headers),
            body: &out.body,
            ordering_key: key,
            enqueued_at: now_ms(),
        };
        DB::ops().insert(&mut **tx, &self.inner.sql, row).await.map_err(|e| {
            database(format!("{}: storing {} {} for {}", self.inner.sql.outbox, out.name, out.msg_id, out.subject), e)
        })
    }

    /// The backlog: pending, held and parked counts, and the oldest pending message's age.
    pub async fn backlog(&self, pool: &sqlx::Pool<DB>) -> Result<Backlog, Error> {
        let (pending, held, parked, oldest) = DB::ops()
            .backlog(pool, &self.inner.sql)
            .await
            .map_err(|e| database(format!("{}: reading the backlog", self.inner.sql.outbox), e))?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Backlog { pending: count(pending), held: count(held), parked: count(parked), oldest_pending: oldest.map(from_ms) })
    }

    /// The parked rows, oldest first.
    pub async fn parked(&self, pool: &sqlx::Pool<DB>) -> Result<Vec<Parked>, Error> {
        let rows = DB::ops()
            .parked(pool, &self.inner.sql)
            .await
            .map_err(|e| database(format!("{}: listing the parked rows", self.inner.sql.outbox), e))?;
        Ok(rows
            .into_iter()
            .map(|r| Parked {
                seq: r.seq,
                msg_id: r.msg_id,
                name: r.name,
                subject: r.subject,
                ordering_key: r.ordering_key,
                enqueued_at: from_ms(r.enqueued_at),
                parked_at: from_ms(r.parked_at),
                reason: r.reason,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
            })
            .collect())
    }

    /// Puts parked row `seq` back in line (the access rules were fixed, say): the relay publishes
    /// it next, then the rows held behind it. Whether there was such a parked row.
    pub async fn retry_parked(&self, pool: &sqlx::Pool<DB>, seq: i64) -> Result<bool, Error> {
        let sql = &self.inner.sql;
        let n = DB::ops().execute_one(pool, &sql.retry, seq).await;
        Ok(n.map_err(|e| database(format!("{}: retrying parked row {seq}", sql.outbox), e))? == 1)
    }

    /// Deletes parked row `seq` unpublished, releasing the rows held behind it. Whether there was
    /// such a parked row.
    pub async fn discard_parked(&self, pool: &sqlx::Pool<DB>, seq: i64) -> Result<bool, Error> {
        let sql = &self.inner.sql;
        let n = DB::ops().execute_one(pool, &sql.discard, seq).await;
        Ok(n.map_err(|e| database(format!("{}: discarding parked row {seq}", sql.outbox), e))? == 1)
    }

    /// Deletes the rows published more than `retention` ago; how many. The relay calls it itself
    /// when it keeps published rows ([`RelayBuilder::retention`](crate::RelayBuilder::retention)).
    pub async fn purge_published(&self, pool: &sqlx::Pool<DB>, retention: Duration) -> Result<u64, Error> {
        let sql = &self.inner.sql;
        let cutoff = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX / 2);
        DB::ops()
            .execute_one(pool, &sql.purge, cutoff)
            .await
            .map_err(|e| database(format!("{}: deleting published rows", sql.outbox), e))
    }
}
