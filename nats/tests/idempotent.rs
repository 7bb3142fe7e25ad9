//! Idempotent consumers against a real server: ids processed once per consumer, across
//! duplicates, restarts and instances racing on one id.

mod common;

use events::Contracts;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use events::inventory_updated_schema::InventoryUpdatedIntegrationEvent;
use events::{Jitter, RetryPolicy};
use events_nats::{Broker, ConsumerErrorKind, Delivered, Processing, Router};

const HORIZON: Duration = Duration::from_secs(7 * 24 * 3600);

/// The same event stored again under another `Nats-Msg-Id`: what a publish repeated after the
/// duplicate window has passed looks like to consumers.
async fn publish_again(broker: &Broker, event: &InventoryUpdatedIntegrationEvent, copy: u32) {
    let msg =
        PublishMessage::build().payload(event.to_json().into()).message_id(format!("{}:copy:{copy}", event.event_id()));
    let ack = broker.jetstream().send_publish(events_nats::event_subject(event.event_type(), event.event_name()), msg);
    assert!(!ack.await.unwrap().await.unwrap().duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_delivery_of_a_processed_id_is_acknowledged_without_calling_the_handler() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let calls: common::Calls = Arc::default();
    let consumer = broker.consumer("OrderService").idempotent(HORIZON).build().await.unwrap();
    let running = common::run(consumer, common::counting(calls.clone()));
    let event = common::inventory_event("ITEM001", 90);
    broker.publisher().publish(&event).await.unwrap();
    publish_again(&broker, &event, 1).await;
    running
        .wait_for("both copies are answered", Duration::from_secs(20), |s| s.processed == 1 && s.duplicates == 1)
        .await;
    let stats = running.stop().await;
    assert_eq!((stats.delivered, stats.recorded), (2, 1));
    assert_eq!(calls.lock().unwrap().get(&event.event_id()), Some(&1), "the handler ran once");
    let record = broker.processing_record("OrderService", &event.event_id().to_string()).await.unwrap().unwrap();
    assert_eq!((record.status, record.attempt), (Processing::Processed, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_started_again_from_the_start_of_the_stream_handles_nothing_twice() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let event = common::inventory_event(&format!("ITEM{i}"), i);
        broker.publisher().publish(&event).await.unwrap();
        ids.push(event.event_id());
    }
    let calls: common::Calls = Arc::default();
    let first = common::run(
        broker.consumer("OrderService").idempotent(HORIZON).build().await.unwrap(),
        common::counting(calls.clone()),
    );
    first.wait_for("all ten are handled", Duration::from_secs(20), |s| s.processed == 10).await;
    first.stop().await;
    // The durable consumer is lost (deleted, or a new deployment under the same name): the new
    // one starts from the beginning of the stream.
    broker.jetstream().get_stream("EVENTS").await.unwrap().delete_consumer("OrderService").await.unwrap();
    let second = common::run(
        broker.consumer("OrderService").idempotent(HORIZON).build().await.unwrap(),
        common::counting(calls.clone()),
    );
    second.wait_for("all ten are recognised", Duration::from_secs(20), |s| s.duplicates == 10).await;
    assert_eq!(second.stop().await.processed, 0);
    let calls = calls.lock().unwrap();
    assert!(ids.iter().all(|id| calls.get(id) == Some(&1)), "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_releases_its_claim_and_the_retry_records_the_id() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let policy = RetryPolicy::new(3, Duration::from_millis(50), Duration::from_millis(50)).with_jitter(Jitter::None);
    let consumer = broker.consumer("PaymentService").retry_policy(policy).idempotent(HORIZON).build().await.unwrap();
    let router = Router::new().on(|e: Delivered<InventoryUpdatedIntegrationEvent>| async move {
        if e.attempt() == 1 {
            Err("provider down")
        } else {
            Ok(())
        }
    });
    let running = common::run(consumer, router);
    let event = common::inventory_event("ITEM001", 90);
    broker.publisher().publish(&event).await.unwrap();
    running.wait_for("the retry is processed", Duration::from_secs(20), |s| s.processed == 1).await;
    let stats = running.stop().await;
    assert_eq!((stats.retried, stats.held_elsewhere, stats.recorded), (1, 0, 1), "{stats:?}");
    let record = broker.processing_record("PaymentService", &event.event_id().to_string()).await.unwrap().unwrap();
    assert_eq!((record.status, record.attempt), (Processing::Processed, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_on_one_id_handle_it_once() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let calls: common::Calls = Arc::default();
    let held = Arc::new(tokio::sync::Notify::new());
    let make = |calls: common::Calls, held: Arc<tokio::sync::Notify>| {
        Router::new().on(move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            *calls.lock().unwrap().entry(e.event_id()).or_default() += 1;
            let held = held.clone();
            // The first instance to claim the id holds it until the other one has been turned away.
            async move {
                held.notified().await;
                Ok::<_, String>(())
            }
        })
    };
    let instance = || broker.consumer("OrderService").ack_wait(Duration::from_secs(3)).idempotent(HORIZON).build();
    let a = common::run(instance().await.unwrap(), make(calls.clone(), held.clone()));
    let b = common::run(instance().await.unwrap(), make(calls.clone(), held.clone()));
    let event = common::inventory_event("ITEM001", 90);
    broker.publisher().publish(&event).await.unwrap();
    publish_again(&broker, &event, 1).await;
    common::wait_until("one delivery is turned away by the claim", Duration::from_secs(20), || {
        let n = a.stats.get().held_elsewhere + b.stats.get().held_elsewhere;
        async move { n >= 1 }
    })
    .await;
    held.notify_waiters();
    held.notify_one();
    common::wait_until("the id is processed and its copy recognised", Duration::from_secs(20), || {
        let (sa, sb) = (a.stats.get(), b.stats.get());
        async move { sa.processed + sb.processed == 1 && sa.duplicates + sb.duplicates == 1 }
    })
    .await;
    let (sa, sb) = (a.stop().await, b.stop().await);
    assert_eq!(sa.recorded + sb.recorded, 1);
    assert_eq!(calls.lock().unwrap().get(&event.event_id()), Some(&1), "handled once in total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_horizon_shorter_than_the_ack_wait_is_refused() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let err =
        broker.consumer("OrderService").idempotent(Duration::from_secs(1)).build::<Contracts>().await.unwrap_err();
    assert_eq!(err.kind(), ConsumerErrorKind::Config);
    assert!(err.to_string().contains("the idempotency horizon must be at least the ack wait (30s)"), "{err}");
}
