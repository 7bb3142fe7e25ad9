//! PostgreSQL: a committed insert notifies the relay (the trigger of migration 1), and migrators
//! exclude each other with a transaction-scoped advisory lock.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use sqlx::Postgres;

use super::{Backend, Ops, Statements};
use crate::migrate::Migration;
use crate::tables::Tables;

const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

impl super::sealed::Sealed for Postgres {}

impl Backend for Postgres {
    const DATABASE: &'static str = "PostgreSQL";
    // Notifications wake the relay; the poll catches one lost while its connection was down.
    const POLL: Duration = Duration::from_secs(1);

    const ABORTS_ON_ERROR: bool = true;

    fn statements(t: &Tables) -> Statements {
        let r = |text: &str| -> Arc<str> { t.render(&text.replace("{now}", NOW_MS)).into() };
        Statements {
            insert: r("INSERT INTO {outbox} (msg_id, kind, name, subject, headers, body, ordering_key, enqueued_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            pending: r("SELECT seq, msg_id, name, subject, headers, body, ordering_key FROM {outbox} AS o \
                 WHERE published_at IS NULL AND parked_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM {outbox} AS p WHERE p.parked_at IS NOT NULL AND p.ordering_key = o.ordering_key) \
                 ORDER BY seq LIMIT $1"),
            mark: r("UPDATE {outbox} AS o SET published_at = $1, stream_sequence = (j ->> 1)::bigint \
                 FROM jsonb_array_elements($2::jsonb) AS j WHERE o.seq = (j ->> 0)::bigint"),
            delete: r("DELETE FROM {outbox} WHERE seq IN \
                 (SELECT (j ->> 0)::bigint FROM jsonb_array_elements($1::jsonb) AS j)"),
            park: r("UPDATE {outbox} SET parked_at = $2, park_reason = $3, last_error = $3, attempts = attempts + 1 \
                 WHERE seq = $1"),
            fail: r("UPDATE {outbox} SET attempts = attempts + 1, last_error = $2 WHERE seq = $1"),
            backlog: r("SELECT COUNT(*) FILTER (WHERE parked_at IS NULL), \
                 COUNT(*) FILTER (WHERE parked_at IS NULL AND ordering_key IN \
                   (SELECT ordering_key FROM {outbox} WHERE parked_at IS NOT NULL)), \
                 COUNT(*) FILTER (WHERE parked_at IS NOT NULL), \
                 MIN(enqueued_at) FILTER (WHERE parked_at IS NULL) \
                 FROM {outbox} WHERE published_at IS NULL"),
            parked: r("SELECT seq, msg_id, name, subject, ordering_key, enqueued_at, parked_at, park_reason, attempts \
                 FROM {outbox} WHERE parked_at IS NOT NULL ORDER BY seq"),
            retry: r("UPDATE {outbox} SET parked_at = NULL, park_reason = NULL WHERE seq = $1 AND parked_at IS NOT NULL"),
            discard: r("DELETE FROM {outbox} WHERE seq = $1 AND parked_at IS NOT NULL"),
            purge: r("DELETE FROM {outbox} WHERE published_at IS NOT NULL AND published_at < $1"),
            lease_acquire: r("INSERT INTO {relay} AS l (outbox, holder, expires_at, acquired_at) VALUES ($1, $2, {now} + $3, {now}) \
                 ON CONFLICT (outbox) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
                 acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END \
                 WHERE l.holder = excluded.holder OR l.expires_at < {now} \
                 RETURNING l.holder"),
            lease_release: r("DELETE FROM {relay} WHERE outbox = $1 AND holder = $2"),
            inbox_claim: r("INSERT INTO {inbox} (consumer, message_id, name, processed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING"),
            inbox_purge: r("DELETE FROM {inbox} WHERE consumer = $1 AND processed_at < $2"),
            migrations_table: r("CREATE TABLE IF NOT EXISTS {migrations} (version BIGINT PRIMARY KEY, \
                 description TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)"),
            migrations_applied: r("SELECT version, checksum FROM {migrations} ORDER BY version"),
            migration_record: r("INSERT INTO {migrations} (version, description, checksum, applied_at) \
                 VALUES ($1, $2, $3, $4)"),
            channel: t.channel().into(),
            outbox: t.outbox_table().into(),
        }
    }

    fn migrations() -> &'static [Migration] {
        &[
            Migration { version: 1, description: "outbox", sql: include_str!("../../migrations/postgres/0001_outbox.sql") },
            Migration { version: 2, description: "inbox", sql: include_str!("../../migrations/postgres/0002_inbox.sql") },
        ]
    }

    fn ops() -> &'static dyn Ops<Self> {
        &PostgresOps
    }
}

/// A transaction no other migrator of this outbox runs beside: the advisory lock is released at
/// its end, whatever the end.
async fn begin_locked(
    pool: &sqlx::Pool<Postgres>,
    outbox: &str,
) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(format!("events-outbox:{outbox}")).execute(&mut *tx).await?;
    Ok(tx)
}

async fn listen(pool: &sqlx::Pool<Postgres>, s: &Statements) -> Result<Option<crate::relay::Wakeups>, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(&s.channel).await?;
    // The listener reconnects by itself; an error is a gap the poll covers.
    let stream = listener.into_stream().map(|n| n.map(|_| ()).map_err(|e| e.to_string()));
    Ok(Some(crate::relay::Wakeups::new(stream)))
}

super::ops!(PostgresOps, Postgres, begin_locked);
