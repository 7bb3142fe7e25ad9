//! Enqueueing in the caller's transaction, on SQLite and on PostgreSQL: what is stored, when it is
//! published, and the inputs refused.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{stock, TestDb};
use events_outbox::{ErrorKind, Outbox, Tables};
use sqlx::{Postgres, Sqlite};

async fn rollback_publishes_nothing_and_commit_publishes_once<DB: TestDb>() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).poll_interval(Duration::from_millis(20)).start().unwrap();

    let dropped = stock("ITEM-R", 1);
    let mut tx = pool.begin().await.unwrap();
    DB::insert_effect(&mut *tx, "rolled-back").await.unwrap();
    outbox.enqueue(&mut tx, &dropped).await.unwrap();
    tx.rollback().await.unwrap();

    let kept = stock("ITEM-C", 2);
    let mut tx = pool.begin().await.unwrap();
    DB::insert_effect(&mut *tx, "committed").await.unwrap();
    outbox.enqueue(&mut tx, &kept).await.unwrap();
    tx.commit().await.unwrap();

    common::wait_until("the committed event is published", Duration::from_secs(30), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0 && common::stored(&broker).await >= 1
    })
    .await;
    let events = common::read_events(&broker).await;
    let ids: Vec<&str> = events.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, [kept.event_id().to_string()], "only the committed event, once");
    // The body is the event's own JSON, byte for byte, and the headers the transport's.
    let (_, body, headers) = &events[0];
    assert_eq!(body, &serde_json::from_str::<serde_json::Value>(&kept.to_json()).unwrap());
    assert_eq!(headers.get("Events-Correlation-Id").unwrap().as_str(), kept.correlation_id().to_string());
    assert_eq!(headers.get("Events-Name").unwrap().as_str(), "InventoryUpdatedIntegrationEvent");
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM effects").await, 1);
    let stats = relay.shutdown().await;
    assert_eq!((stats.published, stats.duplicates, stats.parked), (1, 0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rollback_publishes_nothing_and_commit_publishes_once() {
    rollback_publishes_nothing_and_commit_publishes_once::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rollback_publishes_nothing_and_commit_publishes_once() {
    rollback_publishes_nothing_and_commit_publishes_once::<Postgres>().await;
}

/// The row holds what the transport needs: subject, headers, the exact bytes, the id, the key.
async fn the_row_holds_the_transport_message<DB: TestDb>() {
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    let event = stock("ITEM-1", 5);
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue(&mut tx, &event).await.unwrap();
    outbox.enqueue_keyed(&mut tx, &stock("ITEM-1", 6), "item-1").await.unwrap();
    tx.commit().await.unwrap();
    let keys = DB::count(&pool, "SELECT COUNT(DISTINCT ordering_key) FROM events_outbox").await;
    assert_eq!(keys, 2);
    let default_key = DB::count(&pool, "SELECT COUNT(*) FROM events_outbox WHERE ordering_key <> 'item-1'").await;
    assert_eq!(default_key, 1);
    let backlog = outbox.backlog(&pool).await.unwrap();
    assert_eq!((backlog.pending, backlog.parked, backlog.held), (2, 0, 0));
    let age = backlog.oldest_pending_age().unwrap();
    assert!(age < Duration::from_secs(60), "{age:?}");
    let exact = DB::count(&pool, "SELECT COUNT(*) FROM events_outbox WHERE subject = 'events.integration.InventoryUpdatedIntegrationEvent' AND kind = 'event' AND name = 'InventoryUpdatedIntegrationEvent'").await;
    assert_eq!(exact, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_row_holds_the_transport_message() {
    the_row_holds_the_transport_message::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_row_holds_the_transport_message() {
    the_row_holds_the_transport_message::<Postgres>().await;
}

/// The same message enqueued twice is refused, naming the table and the message.
async fn an_id_enqueued_twice_is_refused<DB: TestDb>() {
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    let event = stock("ITEM-1", 5);
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue(&mut tx, &event).await.unwrap();
    let err = outbox.enqueue(&mut tx, &event).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Duplicate, "{err}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("events_outbox: storing InventoryUpdatedIntegrationEvent {}", event.event_id())), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_id_enqueued_twice_is_refused() {
    an_id_enqueued_twice_is_refused::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_id_enqueued_twice_is_refused() {
    an_id_enqueued_twice_is_refused::<Postgres>().await;
}

/// Migrating again changes nothing; a migration applied with other SQL is refused.
async fn migrations_run_once_and_an_edited_one_is_refused<DB: TestDb>() {
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    assert_eq!(outbox.migrate(&pool).await.unwrap(), Vec::<u32>::new(), "already applied by the setup");
    let applied = DB::count(&pool, "SELECT COUNT(*) FROM events_outbox_migrations").await;
    assert_eq!(applied, Outbox::<DB>::migrations().len() as i64);
    DB::execute(&pool, "UPDATE events_outbox_migrations SET checksum = 'edited' WHERE version = 2").await;
    let err = outbox.migrate(&pool).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Migration);
    assert!(err.to_string().contains("events_outbox: migration 0002_inbox was applied with other SQL"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations_run_once_and_an_edited_one_is_refused() {
    migrations_run_once_and_an_edited_one_is_refused::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_run_once_and_an_edited_one_is_refused() {
    migrations_run_once_and_an_edited_one_is_refused::<Postgres>().await;
}

/// Tables of other names, in a schema of their own: migrated and used side by side with the default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tables_may_be_named_and_put_in_a_schema() {
    let (pool, _keep) = Postgres::open().await;
    Postgres::execute(&pool, "CREATE SCHEMA billing").await;
    let tables = Tables::default().schema("billing").outbox("outgoing").inbox("incoming");
    let outbox = Outbox::<Postgres>::new(tables).unwrap();
    assert_eq!(outbox.migrate(&pool).await.unwrap(), [1, 2]);
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue(&mut tx, &stock("ITEM-1", 1)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(Postgres::count(&pool, "SELECT COUNT(*) FROM billing.outgoing").await, 1);
    assert_eq!(Postgres::count(&pool, "SELECT COUNT(*) FROM events_outbox").await, 0);
}

#[test]
fn sqlite_has_no_schemas() {
    let err = Outbox::<Sqlite>::new(Tables::default().schema("billing")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.to_string(), "SQLite has no schemas: Tables::schema is for PostgreSQL");
}

#[test]
fn a_table_name_that_is_not_an_identifier_is_refused() {
    let err = Outbox::<Postgres>::new(Tables::default().inbox("Inbox-2")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().starts_with("the inbox table name \"Inbox-2\" is not a lowercase identifier"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_window_too_short_for_the_relay_is_refused() {
    let server = common::server();
    let client = events_nats::connect(&server.url()).await.unwrap();
    let config = events_nats::BrokerConfig::default()
        .duplicate_window(Duration::from_secs(20))
        .publish_deadline(Duration::from_secs(15));
    let broker = events_nats::Broker::setup(client, config).await.unwrap();
    let (pool, _keep) = Sqlite::open().await;
    let err = Outbox::<Sqlite>::default().relay(pool, broker).start().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().starts_with("the broker's duplicate window (20s) must exceed the relay's lease (5s"), "{err}");
}

/// Published rows are kept for the retention asked for, and purged after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rows_are_kept_for_the_retention_then_purged() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Sqlite::open().await;
    let outbox = Outbox::<Sqlite>::default();
    let relay = outbox
        .relay(pool.clone(), broker.clone())
        .poll_interval(Duration::from_millis(20))
        .retention(Duration::from_secs(3600))
        .start()
        .unwrap();
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tx = pool.begin().await.unwrap();
    for q in 0..5 {
        let e = stock("ITEM-1", q);
        expected.entry("ITEM-1".into()).or_default().push(e.event_id().to_string());
        outbox.enqueue_keyed(&mut tx, &e, "ITEM-1").await.unwrap();
    }
    tx.commit().await.unwrap();
    common::wait_until("all published", Duration::from_secs(30), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0
    })
    .await;
    relay.shutdown().await;
    let kept = Sqlite::count(&pool, "SELECT COUNT(*) FROM events_outbox WHERE published_at IS NOT NULL AND stream_sequence IS NOT NULL").await;
    assert_eq!(kept, 5, "published rows kept, with their stream sequence");
    assert_eq!(outbox.purge_published(&pool, Duration::from_secs(3600)).await.unwrap(), 0, "none is an hour old");
    assert_eq!(outbox.purge_published(&pool, Duration::ZERO).await.unwrap(), 5);
    common::assert_each_once_in_order(&broker, &expected).await;
}
