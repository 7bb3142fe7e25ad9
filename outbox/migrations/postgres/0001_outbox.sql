-- The outbox: one row per message a transaction enqueued, until the relay has published it (and,
-- with a retention, for that long after). `seq` orders the rows.
CREATE TABLE {outbox} (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    ordering_key TEXT NOT NULL,
    enqueued_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    published_at BIGINT,
    stream_sequence BIGINT,
    parked_at BIGINT,
    park_reason TEXT
);
-- A queue table: every published row leaves a dead tuple that the relay's reads step over until
-- it is vacuumed. Vacuumed after a fixed number of them, not a fraction of a table that is
-- usually near empty.
ALTER TABLE {outbox} SET (
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
    autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000,
    autovacuum_vacuum_cost_delay = 0
);
-- What the relay reads: the rows not yet published, in order.
CREATE INDEX {bare}_pending ON {outbox} (seq) WHERE published_at IS NULL;
-- The ordering keys held behind a parked row.
CREATE INDEX {bare}_parked ON {outbox} (ordering_key) WHERE parked_at IS NOT NULL;
-- What the retention deletes.
CREATE INDEX {bare}_published ON {outbox} (published_at) WHERE published_at IS NOT NULL;

-- A committed insert wakes the relay: a notification sent at commit, once per transaction
-- (PostgreSQL folds identical ones), none for a rollback.
CREATE FUNCTION {notify_fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{channel}', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER {bare}_notify AFTER INSERT ON {outbox} FOR EACH STATEMENT EXECUTE FUNCTION {notify_fn}();

-- Which relay instance may publish: one row per outbox, held until `expires_at` (milliseconds
-- since the epoch, the database's clock) and renewed while its holder lives.
CREATE TABLE {relay} (
    outbox TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL
);
