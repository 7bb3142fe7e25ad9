-- The outbox: one row per message a transaction enqueued, until the relay has published it (and,
-- with a retention, for that long after). `seq` orders the rows. It is the rowid, without
-- AUTOINCREMENT (which costs a write per insert): a number is reused only once every row above
-- it is gone, so a new row still comes after every row left.
CREATE TABLE {outbox} (
    seq INTEGER PRIMARY KEY,
    msg_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    ordering_key TEXT NOT NULL,
    enqueued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    published_at INTEGER,
    stream_sequence INTEGER,
    parked_at INTEGER,
    park_reason TEXT
);
-- What the relay reads: the rows not yet published, in order.
CREATE INDEX {bare}_pending ON {outbox} (seq) WHERE published_at IS NULL;
-- The ordering keys held behind a parked row.
CREATE INDEX {bare}_parked ON {outbox} (ordering_key) WHERE parked_at IS NOT NULL;
-- What the retention deletes.
CREATE INDEX {bare}_published ON {outbox} (published_at) WHERE published_at IS NOT NULL;

-- Which relay instance may publish: one row per outbox, held until `expires_at` (milliseconds
-- since the epoch, the database's clock) and renewed while its holder lives.
CREATE TABLE {relay} (
    outbox TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
);
