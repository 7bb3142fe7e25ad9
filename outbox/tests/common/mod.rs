//! What the outbox tests share: a broker of their own, a database of each kind (SQLite in a
//! temporary folder, a throw-away PostgreSQL cluster), messages, and waiting for a condition.
#![allow(dead_code)]

pub mod postgres;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
use events::Metadata;
use events_nats::async_nats;
use events_nats::{Broker, BrokerConfig, LocalServer};
use events_outbox::{Backend, Outbox};
use futures_util::StreamExt;
use sqlx::{Pool, Postgres, Sqlite};

pub use postgres::TestPostgres;

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A fresh `nats-server`; a missing binary fails the test with how to install it.
pub fn server() -> LocalServer {
    LocalServer::start().unwrap_or_else(|e| panic!("{e}"))
}

/// The broker as InventoryService sees it, publishes retried for 10 s at most.
pub async fn broker(server: &LocalServer) -> Broker {
    let client = events_nats::connect(&server.url()).await.expect("connect");
    let config = BrokerConfig::default().publish_deadline(Duration::from_secs(10));
    Broker::setup(client, config).await.expect("setup")
}

/// What keeps a test database alive: its folder, or its server.
pub enum Keep {
    Sqlite(tempfile::TempDir),
    Postgres(TestPostgres),
}

impl Keep {
    pub fn postgres(&mut self) -> &mut TestPostgres {
        match self {
            Keep::Postgres(pg) => pg,
            Keep::Sqlite(_) => panic!("not PostgreSQL"),
        }
    }
}

/// The two databases, for tests written once for both; what a test needs beyond the outbox's own
/// API (the service's table of effects) in each one's terms.
pub trait TestDb: Backend {
    fn open() -> Fut<'static, (Pool<Self>, Keep)>;
    fn execute<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, ()>;
    fn count<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, i64>;
    /// Writes one row of the service's own, in the caller's transaction.
    fn insert_effect<'a>(conn: &'a mut Self::Connection, id: &'a str) -> Fut<'a, Result<(), sqlx::Error>>;
}

impl TestDb for Sqlite {
    fn open() -> Fut<'static, (Pool<Self>, Keep)> {
        Box::pin(async {
            let dir = tempfile::tempdir().unwrap();
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.path().join("service.db"))
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30));
            let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
            setup(&pool).await;
            (pool, Keep::Sqlite(dir))
        })
    }
    fn execute<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, ()> {
        Box::pin(async move {
            sqlx::raw_sql(sql).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    }
    fn count<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, i64> {
        Box::pin(async move { sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}")) })
    }
    fn insert_effect<'a>(conn: &'a mut Self::Connection, id: &'a str) -> Fut<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO effects (id) VALUES ($1)").bind(id).execute(conn).await?;
            Ok(())
        })
    }
}

impl TestDb for Postgres {
    fn open() -> Fut<'static, (Pool<Self>, Keep)> {
        Box::pin(async {
            let pg = tokio::task::spawn_blocking(TestPostgres::start).await.unwrap().unwrap_or_else(|e| panic!("{e}"));
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(&pg.url())
                .await
                .unwrap_or_else(|e| panic!("connecting to {}: {e}\n{}", pg.url(), pg.log()));
            setup(&pool).await;
            (pool, Keep::Postgres(pg))
        })
    }
    fn execute<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, ()> {
        Box::pin(async move {
            sqlx::raw_sql(sql).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        })
    }
    fn count<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, i64> {
        Box::pin(async move { sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}")) })
    }
    fn insert_effect<'a>(conn: &'a mut Self::Connection, id: &'a str) -> Fut<'a, Result<(), sqlx::Error>> {
        Box::pin(async move {
            sqlx::query("INSERT INTO effects (id) VALUES ($1)").bind(id).execute(conn).await?;
            Ok(())
        })
    }
}

/// The outbox's tables, and the service's own table of effects (one row per handled message).
async fn setup<DB: TestDb>(pool: &Pool<DB>) {
    Outbox::<DB>::default().migrate(pool).await.expect("migrate");
    DB::execute(pool, "CREATE TABLE effects (id TEXT PRIMARY KEY)").await;
}

/// Polls `check` until it holds, failing after `limit` with `what`.
pub async fn wait_until<F, Fut2>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut2,
    Fut2: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out after {limit:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An InventoryService event: `item` and a quantity that numbers it within its item.
pub fn stock(item: &str, quantity: u64) -> InventoryUpdatedIntegrationEvent {
    let payload = InventoryUpdatedIntegrationEventPayload {
        item_id: item.into(),
        new_quantity: quantity,
        warehouse_id: "WH-1".into(),
    };
    InventoryUpdatedIntegrationEvent::new(payload, Metadata::new("stock-job", "InventoryService")).unwrap()
}

/// How many messages the EVENTS stream holds.
pub async fn stored(broker: &Broker) -> u64 {
    match broker.jetstream().get_stream("EVENTS").await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Every message of the EVENTS stream, in stream order: `(Nats-Msg-Id, body as JSON, headers)`.
pub async fn read_events(broker: &Broker) -> Vec<(String, serde_json::Value, async_nats::HeaderMap)> {
    let total = stored(broker).await;
    let stream = broker.jetstream().get_stream("EVENTS").await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out = Vec::new();
    while (out.len() as u64) < total {
        let m = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .expect("the stream hands over what it holds")
            .unwrap()
            .unwrap();
        let headers = m.headers.clone().unwrap_or_default();
        let id = headers.get("Nats-Msg-Id").map(|v| v.as_str().to_string()).unwrap_or_default();
        out.push((id, serde_json::from_slice(&m.payload).unwrap(), headers));
    }
    out
}

/// Checks that the stream holds each of `expected` (eventIds by key, in enqueue order) exactly
/// once, nothing else, and each key's in order.
pub async fn assert_each_once_in_order(broker: &Broker, expected: &std::collections::BTreeMap<String, Vec<String>>) {
    let events = read_events(broker).await;
    let total: usize = expected.values().map(Vec::len).sum();
    let mut seen = std::collections::HashSet::new();
    let doubled: Vec<&String> = events.iter().map(|(id, _, _)| id).filter(|id| !seen.insert(*id)).collect();
    assert!(doubled.is_empty(), "stored twice: {doubled:?}");
    assert_eq!(events.len(), total, "the stream holds {} messages, {total} were committed", events.len());
    let mut by_key: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (id, body, _) in &events {
        by_key.entry(body["payload"]["itemId"].as_str().unwrap().to_string()).or_default().push(id.clone());
    }
    for (key, ids) in expected {
        assert_eq!(by_key.get(key), Some(ids), "key {key}: published order differs from commit order");
    }
}
