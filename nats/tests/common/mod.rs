//! What the transport tests share: a server of their own, a broker on it, messages of every
//! shipped contract, and waiting for a condition.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use events::create_order_schema::{latest::OrderItem, CreateOrderCommand, CreateOrderCommandPayload};
use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
use events::Metadata;
use events_nats::{Broker, BrokerConfig, LocalServer};

/// A fresh `nats-server`; a missing binary fails the test with how to install it.
pub fn server() -> LocalServer {
    LocalServer::start().unwrap_or_else(|e| panic!("{e}"))
}

pub async fn broker(server: &LocalServer) -> Broker {
    broker_with(server, BrokerConfig::default()).await
}

pub async fn broker_with(server: &LocalServer, config: BrokerConfig) -> Broker {
    let client = events_nats::connect(&server.url()).await.expect("connect");
    Broker::setup(client, config).await.expect("setup")
}

/// Polls `check` until it holds, failing after `limit` with `what`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out after {limit:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn inventory_event(item: &str, quantity: u64) -> InventoryUpdatedIntegrationEvent {
    let payload = InventoryUpdatedIntegrationEventPayload {
        item_id: item.into(),
        new_quantity: quantity,
        warehouse_id: "WH-1".into(),
    };
    InventoryUpdatedIntegrationEvent::new(payload, Metadata::new("stock-job", "InventoryService")).unwrap()
}

pub fn create_order() -> CreateOrderCommand {
    let payload = CreateOrderCommandPayload {
        customer_id: "CUST67890".into(),
        items: vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
    };
    CreateOrderCommand::new(payload, Metadata::new("user123", "OrderManagementSystem")).unwrap()
}

/// How often the handler ran, per event.
pub type Calls = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<events::EventId, u32>>>;

/// A router whose inventory handler succeeds and counts its calls per event.
pub fn counting(calls: Calls) -> events_nats::Router<events::Contracts> {
    events_nats::Router::new().on(move |e: events_nats::Delivered<InventoryUpdatedIntegrationEvent>| {
        *calls.lock().unwrap().entry(e.event_id()).or_default() += 1;
        async { Ok::<_, String>(()) }
    })
}

/// The specification's OrderShippedNotificationEvent.
pub fn shipped_event() -> events::order_shipped_schema::OrderShippedNotificationEvent {
    let wire = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/spec/10-OrderShippedNotificationEvent.json"
    ))
    .unwrap();
    events::order_shipped_schema::OrderShippedNotificationEvent::from_json(&wire).unwrap()
}

/// The events of the specification's examples, one file each.
pub fn spec_events() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/spec");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The messages of `subject` in `stream`, in order, read through an ephemeral consumer that
/// acknowledges nothing (so that no service's consumer is touched).
pub async fn stream_messages(broker: &Broker, stream: &str, subject: &str) -> Vec<async_nats::jetstream::Message> {
    use async_nats::jetstream::consumer::{pull, AckPolicy};
    use futures_util::StreamExt;
    let stream = broker.jetstream().get_stream(stream).await.unwrap();
    let mut consumer = stream
        .create_consumer(pull::Config {
            filter_subject: subject.to_string(),
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let pending = consumer.info().await.unwrap().num_pending as usize;
    let mut out = Vec::new();
    if pending == 0 {
        return out;
    }
    let mut batch = consumer.fetch().max_messages(pending).expires(Duration::from_secs(5)).messages().await.unwrap();
    while out.len() < pending {
        match batch.next().await {
            Some(m) => out.push(m.unwrap()),
            None => break,
        }
    }
    out
}

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A consumer running in the background until stopped.
pub struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<events_nats::Stats>,
    pub stats: events_nats::StatsHandle,
}

impl Running {
    /// Waits until the consumer's counters satisfy `check`, failing after `limit` with `what` and
    /// the counters.
    pub async fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&events_nats::Stats) -> bool) {
        let started = Instant::now();
        loop {
            let stats = self.stats.get();
            if check(&stats) {
                return;
            }
            assert!(started.elapsed() < limit, "timed out after {limit:?} waiting until {what}: {stats:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn stop(self) -> events_nats::Stats {
        let _ = self.stop.send(());
        self.handle.await.expect("the consumer task")
    }
}

pub fn run<R: events::Registry>(consumer: events_nats::Consumer<R>, router: events_nats::Router<R>) -> Running {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stats = consumer.stats_handle();
    let handle = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    Running { stop, handle, stats }
}

/// Dead-letter records on the broker, oldest first: (headers' kind, body as JSON).
pub async fn dead_letters(broker: &Broker) -> Vec<(String, serde_json::Value)> {
    stream_messages(broker, "DEAD_LETTERS", "deadletters.>")
        .await
        .into_iter()
        .map(|m| {
            let kind = m
                .headers
                .as_ref()
                .and_then(|h| h.get("Events-Dead-Letter"))
                .map(|v| v.as_str().to_string())
                .unwrap_or_default();
            (kind, serde_json::from_slice(&m.payload).expect("a record is JSON"))
        })
        .collect()
}
