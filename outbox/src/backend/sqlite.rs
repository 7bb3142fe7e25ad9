//! SQLite: one writer at a time, so the relay polls (nothing can notify another process), and a
//! migration takes the write lock up front (`BEGIN IMMEDIATE`).

use std::sync::Arc;
use std::time::Duration;

use sqlx::Sqlite;

use super::{Backend, Ops, Statements};
use crate::migrate::Migration;
use crate::tables::Tables;

const NOW_MS: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

impl super::sealed::Sealed for Sqlite {}

impl Backend for Sqlite {
    const DATABASE: &'static str = "SQLite";
    const POLL: Duration = Duration::from_millis(100);

    const ABORTS_ON_ERROR: bool = false;

    fn statements(t: &Tables) -> Statements {
        let r = |text: &str| -> Arc<str> { t.render(&text.replace("{now}", NOW_MS)).into() };
        Statements {
            insert: r("INSERT INTO {outbox} (msg_id, kind, name, subject, headers, body, ordering_key, enqueued_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
            pending: r("SELECT seq, msg_id, name, subject, headers, body, ordering_key FROM {outbox} AS o \
                 WHERE published_at IS NULL AND parked_at IS NULL AND NOT EXISTS \
                 (SELECT 1 FROM {outbox} AS p WHERE p.parked_at IS NOT NULL AND p.ordering_key = o.ordering_key) \
                 ORDER BY seq LIMIT $1"),
            mark: r("UPDATE {outbox} SET published_at = $1, stream_sequence = j.value ->> 1 \
                 FROM json_each($2) AS j WHERE {outbox}.seq = j.value ->> 0"),
            delete: r("DELETE FROM {outbox} WHERE seq IN (SELECT value ->> 0 FROM json_each($1))"),
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
            lease_acquire: r("INSERT INTO {relay} (outbox, holder, expires_at, acquired_at) VALUES ($1, $2, {now} + $3, {now}) \
                 ON CONFLICT (outbox) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
                 acquired_at = CASE WHEN {relay}.holder = excluded.holder THEN {relay}.acquired_at ELSE excluded.acquired_at END \
                 WHERE {relay}.holder = excluded.holder OR {relay}.expires_at < {now} \
                 RETURNING holder"),
            lease_release: r("DELETE FROM {relay} WHERE outbox = $1 AND holder = $2"),
            inbox_claim: r("INSERT INTO {inbox} (consumer, message_id, name, processed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING"),
            inbox_purge: r("DELETE FROM {inbox} WHERE consumer = $1 AND processed_at < $2"),
            migrations_table: r("CREATE TABLE IF NOT EXISTS {migrations} (version INTEGER PRIMARY KEY, \
                 description TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)"),
            migrations_applied: r("SELECT version, checksum FROM {migrations} ORDER BY version"),
            migration_record: r("INSERT INTO {migrations} (version, description, checksum, applied_at) \
                 VALUES ($1, $2, $3, $4)"),
            channel: t.channel().into(),
            outbox: t.outbox_table().into(),
        }
    }

    fn migrations() -> &'static [Migration] {
        &[
            Migration { version: 1, description: "outbox", sql: include_str!("../../migrations/sqlite/0001_outbox.sql") },
            Migration { version: 2, description: "inbox", sql: include_str!("../../migrations/sqlite/0002_inbox.sql") },
        ]
    }

    fn ops() -> &'static dyn Ops<Self> {
        &SqliteOps
    }
}

async fn begin_locked(
    pool: &sqlx::Pool<Sqlite>,
    _outbox: &str,
) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

async fn listen(
    _pool: &sqlx::Pool<Sqlite>,
    _s: &Statements,
) -> Result<Option<crate::relay::Wakeups>, sqlx::Error> {
    Ok(None)
}

super::ops!(SqliteOps, Sqlite, begin_locked);
