-- The inbox: one row per message a consumer has handled, written in the handler's own
-- transaction, so that the handler's effects and this mark commit together.
CREATE TABLE {inbox} (
    consumer TEXT NOT NULL,
    message_id TEXT NOT NULL,
    name TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, message_id)
);
-- What the retention deletes.
CREATE INDEX {inbox_bare}_processed ON {inbox} (processed_at);
