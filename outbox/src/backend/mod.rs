//! The databases the outbox runs on. Each names its SQL in [`Statements`]; the Rust that runs it
//! is the same for both, written once in [`ops!`] and instantiated per database, because sqlx's
//! executor bounds cannot be stated once for a generic database.

use std::future::Future;
use std::sync::Arc;

use crate::error::Error;
use crate::migrate::Migration;
use crate::tables::Tables;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

/// A database the outbox and inbox run on: `sqlx::Sqlite` (feature `sqlite`, the default) or
/// `sqlx::Postgres` (feature `postgres`). Sealed; its methods are the crate's own.
pub trait Backend: sqlx::Database + sealed::Sealed {
    #[doc(hidden)]
    const DATABASE: &'static str;
    /// How long the relay waits between looks at the table when nothing woke it.
    #[doc(hidden)]
    const POLL: std::time::Duration;
    /// Whether a failed statement aborts the transaction around it (PostgreSQL), so that a
    /// commit after one rolls back instead.
    #[doc(hidden)]
    const ABORTS_ON_ERROR: bool;
    #[doc(hidden)]
    fn statements(tables: &Tables) -> Statements;
    #[doc(hidden)]
    fn migrations() -> &'static [Migration];
    #[doc(hidden)]
    fn ops() -> &'static dyn Ops<Self>;
}

mod sealed {
    pub trait Sealed {}
}

/// What a row to store carries.
#[doc(hidden)]
#[derive(Debug)]
pub struct NewRow<'a> {
    pub msg_id: &'a str,
    pub kind: &'static str,
    pub name: &'a str,
    pub subject: &'a str,
    pub headers: String,
    pub body: &'a [u8],
    pub ordering_key: &'a str,
    pub enqueued_at: i64,
}

/// A committed row the relay has to publish.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Pending {
    pub seq: i64,
    pub msg_id: String,
    pub name: String,
    pub subject: String,
    pub headers: String,
    pub body: Vec<u8>,
    pub ordering_key: String,
}

/// A parked row's columns, as [`crate::Parked`] shows them.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ParkedRow {
    pub seq: i64,
    pub msg_id: String,
    pub name: String,
    pub subject: String,
    pub ordering_key: String,
    pub enqueued_at: i64,
    pub parked_at: i64,
    pub reason: String,
    pub attempts: i32,
}

/// The backlog's counts: pending, of which held behind a parked row, parked, oldest pending.
#[doc(hidden)]
pub type Counts = (i64, i64, i64, Option<i64>);

/// The SQL of one database for one set of tables, rendered once.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Statements {
    pub insert: Arc<str>,
    pub pending: Arc<str>,
    pub mark: Arc<str>,
    pub delete: Arc<str>,
    pub park: Arc<str>,
    pub fail: Arc<str>,
    pub backlog: Arc<str>,
    pub parked: Arc<str>,
    pub retry: Arc<str>,
    pub discard: Arc<str>,
    pub purge: Arc<str>,
    pub lease_acquire: Arc<str>,
    pub lease_release: Arc<str>,
    pub inbox_claim: Arc<str>,
    pub inbox_purge: Arc<str>,
    pub migrations_table: Arc<str>,
    pub migrations_applied: Arc<str>,
    pub migration_record: Arc<str>,
    /// PostgreSQL: the channel a commit notifies.
    pub channel: Arc<str>,
    /// The outbox's name in the lease table.
    pub outbox: Arc<str>,
}

type Fut<'a, T> = std::pin::Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'a>>;

/// The queries, per database. Boxed futures: one allocation per query is nothing beside a
/// round trip to the database, and it keeps the trait object-safe.
#[doc(hidden)]
pub trait Ops<DB: sqlx::Database>: Send + Sync {
    fn insert<'a>(&self, conn: &'a mut DB::Connection, s: &'a Statements, row: NewRow<'a>) -> Fut<'a, ()>;
    fn inbox_claim<'a>(
        &self,
        conn: &'a mut DB::Connection,
        s: &'a Statements,
        consumer: &'a str,
        id: &'a str,
        name: &'a str,
        now: i64,
    ) -> Fut<'a, bool>;
    /// Fails if the transaction on `conn` is aborted.
    fn probe<'a>(&self, conn: &'a mut DB::Connection) -> Fut<'a, ()>;
    /// Up to `limit` unpublished, unparked rows, oldest first, of keys with no parked row.
    fn pending<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, limit: i64) -> Fut<'a, Vec<Pending>>;
    /// Marks `[[seq, stream sequence], …]` published at `now`, or deletes them (`None`).
    fn mark<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, done: String, now: Option<i64>) -> Fut<'a, u64>;
    fn park<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, seq: i64, reason: &'a str, now: i64) -> Fut<'a, ()>;
    fn fail<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, seq: i64, reason: &'a str) -> Fut<'a, ()>;
    fn backlog<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements) -> Fut<'a, Counts>;
    fn parked<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements) -> Fut<'a, Vec<ParkedRow>>;
    /// Deletes `consumer`'s inbox records older than `cutoff`.
    fn inbox_purge<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, consumer: &'a str, cutoff: i64)
        -> Fut<'a, u64>;
    /// Runs `sql` (retry, discard, purge) with one integer; rows affected.
    fn execute_one<'a>(&self, pool: &'a sqlx::Pool<DB>, sql: &'a Arc<str>, value: i64) -> Fut<'a, u64>;
    /// Takes or renews the lease for `ttl_ms`: whether `holder` holds it now.
    fn lease_acquire<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, holder: &'a str, ttl_ms: i64)
        -> Fut<'a, bool>;
    fn lease_release<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements, holder: &'a str) -> Fut<'a, ()>;
    /// Applies what of `migrations` has not run, in one transaction that excludes other migrators.
    fn migrate<'a>(
        &self,
        pool: &'a sqlx::Pool<DB>,
        s: &'a Statements,
        tables: &'a Tables,
        migrations: &'static [Migration],
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<u32>, Error>> + Send + 'a>>;
    /// A stream of commit notifications (PostgreSQL), or `None` where the relay polls.
    fn listen<'a>(&self, pool: &'a sqlx::Pool<DB>, s: &'a Statements) -> Fut<'a, Option<crate::relay::Wakeups>>;
}

/// The queries' Rust, for one concrete database type.
macro_rules! ops {
    ($ops:ident, $db:ty, $begin_locked:path) => {
        pub(crate) struct $ops;

        fn sql(text: &std::sync::Arc<str>) -> sqlx::AssertSqlSafe<std::sync::Arc<str>> {
            // Table names are checked identifiers (`Tables::check`); values are always bound.
            sqlx::AssertSqlSafe(text.clone())
        }

        impl $crate::backend::Ops<$db> for $ops {
            fn insert<'a>(
                &self,
                conn: &'a mut <$db as sqlx::Database>::Connection,
                s: &'a $crate::backend::Statements,
                row: $crate::backend::NewRow<'a>,
            ) -> $crate::backend::Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::query(sql(&s.insert))
                        .bind(row.msg_id)
                        .bind(row.kind)
                        .bind(row.name)
                        .bind(row.subject)
                        .bind(row.headers)
                        .bind(row.body)
                        .bind(row.ordering_key)
                        .bind(row.enqueued_at)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            }

            fn inbox_claim<'a>(
                &self,
                conn: &'a mut <$db as sqlx::Database>::Connection,
                s: &'a $crate::backend::Statements,
                consumer: &'a str,
                id: &'a str,
                name: &'a str,
                now: i64,
            ) -> $crate::backend::Fut<'a, bool> {
                Box::pin(async move {
                    let done = sqlx::query(sql(&s.inbox_claim))
                        .bind(consumer)
                        .bind(id)
                        .bind(name)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    Ok(done.rows_affected() == 1)
                })
            }

            fn probe<'a>(&self, conn: &'a mut <$db as sqlx::Database>::Connection) -> $crate::backend::Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::query("SELECT 1").execute(&mut *conn).await?;
                    Ok(())
                })
            }

            fn pending<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                limit: i64,
            ) -> $crate::backend::Fut<'a, Vec<$crate::backend::Pending>> {
                use sqlx::Row;
                Box::pin(async move {
                    let rows = sqlx::query(sql(&s.pending)).bind(limit).fetch_all(pool).await?;
                    rows.iter()
                        .map(|r| {
                            Ok($crate::backend::Pending {
                                seq: r.try_get(0)?,
                                msg_id: r.try_get(1)?,
                                name: r.try_get(2)?,
                                subject: r.try_get(3)?,
                                headers: r.try_get(4)?,
                                body: r.try_get(5)?,
                                ordering_key: r.try_get(6)?,
                            })
                        })
                        .collect()
                })
            }

            fn mark<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                done: String,
                now: Option<i64>,
            ) -> $crate::backend::Fut<'a, u64> {
                Box::pin(async move {
                    let result = match now {
                        Some(now) => sqlx::query(sql(&s.mark)).bind(now).bind(done).execute(pool).await?,
                        None => sqlx::query(sql(&s.delete)).bind(done).execute(pool).await?,
                    };
                    Ok(result.rows_affected())
                })
            }

            fn park<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                seq: i64,
                reason: &'a str,
                now: i64,
            ) -> $crate::backend::Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::query(sql(&s.park)).bind(seq).bind(now).bind(reason).execute(pool).await?;
                    Ok(())
                })
            }

            fn fail<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                seq: i64,
                reason: &'a str,
            ) -> $crate::backend::Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::query(sql(&s.fail)).bind(seq).bind(reason).execute(pool).await?;
                    Ok(())
                })
            }

            fn backlog<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
            ) -> $crate::backend::Fut<'a, $crate::backend::Counts> {
                use sqlx::Row;
                Box::pin(async move {
                    let r = sqlx::query(sql(&s.backlog)).fetch_one(pool).await?;
                    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
                })
            }

            fn parked<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
            ) -> $crate::backend::Fut<'a, Vec<$crate::backend::ParkedRow>> {
                use sqlx::Row;
                Box::pin(async move {
                    let rows = sqlx::query(sql(&s.parked)).fetch_all(pool).await?;
                    rows.iter()
                        .map(|r| {
                            Ok($crate::backend::ParkedRow {
                                seq: r.try_get(0)?,
                                msg_id: r.try_get(1)?,
                                name: r.try_get(2)?,
                                subject: r.try_get(3)?,
                                ordering_key: r.try_get(4)?,
                                enqueued_at: r.try_get(5)?,
                                parked_at: r.try_get(6)?,
                                reason: r.try_get(7)?,
                                attempts: r.try_get(8)?,
                            })
                        })
                        .collect()
                })
            }

            fn inbox_purge<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                consumer: &'a str,
                cutoff: i64,
            ) -> $crate::backend::Fut<'a, u64> {
                Box::pin(async move {
                    let done = sqlx::query(sql(&s.inbox_purge)).bind(consumer).bind(cutoff).execute(pool).await?;
                    Ok(done.rows_affected())
                })
            }

            fn execute_one<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                text: &'a std::sync::Arc<str>,
                value: i64,
            ) -> $crate::backend::Fut<'a, u64> {
                Box::pin(async move { Ok(sqlx::query(sql(text)).bind(value).execute(pool).await?.rows_affected()) })
            }

            fn lease_acquire<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                holder: &'a str,
                ttl_ms: i64,
            ) -> $crate::backend::Fut<'a, bool> {
                Box::pin(async move {
                    let row = sqlx::query(sql(&s.lease_acquire))
                        .bind(&*s.outbox)
                        .bind(holder)
                        .bind(ttl_ms)
                        .fetch_optional(pool)
                        .await?;
                    Ok(row.is_some())
                })
            }

            fn lease_release<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                holder: &'a str,
            ) -> $crate::backend::Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::query(sql(&s.lease_release)).bind(&*s.outbox).bind(holder).execute(pool).await?;
                    Ok(())
                })
            }

            fn migrate<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
                tables: &'a $crate::tables::Tables,
                migrations: &'static [$crate::migrate::Migration],
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<Vec<u32>, $crate::error::Error>> + Send + 'a>,
            > {
                use sqlx::Row;
                Box::pin(async move {
                    let db = |what: &str, e| $crate::error::database(format!("migrating {}: {what}", s.outbox), e);
                    let mut tx = $begin_locked(pool, &s.outbox).await.map_err(|e| db("begin", e))?;
                    sqlx::raw_sql(sql(&s.migrations_table)).execute(&mut *tx).await.map_err(|e| db("create", e))?;
                    let rows =
                        sqlx::query(sql(&s.migrations_applied)).fetch_all(&mut *tx).await.map_err(|e| db("read", e))?;
                    let mut applied = Vec::new();
                    for r in &rows {
                        let version: i64 = r.try_get(0).map_err(|e| db("read", e))?;
                        let checksum: String = r.try_get(1).map_err(|e| db("read", e))?;
                        applied.push((version, checksum));
                    }
                    let todo = $crate::migrate::plan(migrations, tables, &applied)?;
                    let mut done = Vec::new();
                    for (m, text, checksum) in todo {
                        let what = format!("{:04}_{}", m.version, m.description);
                        sqlx::raw_sql(sqlx::AssertSqlSafe(text)).execute(&mut *tx).await.map_err(|e| db(&what, e))?;
                        sqlx::query(sql(&s.migration_record))
                            .bind(i64::from(m.version))
                            .bind(m.description)
                            .bind(checksum)
                            .bind($crate::now_ms())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| db(&what, e))?;
                        done.push(m.version);
                    }
                    tx.commit().await.map_err(|e| db("commit", e))?;
                    Ok(done)
                })
            }

            fn listen<'a>(
                &self,
                pool: &'a sqlx::Pool<$db>,
                s: &'a $crate::backend::Statements,
            ) -> $crate::backend::Fut<'a, Option<$crate::relay::Wakeups>> {
                Box::pin(listen(pool, s))
            }
        }
    };
}
pub(crate) use ops;
