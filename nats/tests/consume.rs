//! Consuming against a real server: typed handlers, two services, retries with the policy's
//! delays, dead letters, poison messages, hung and crashed handlers, graceful shutdown.

mod common;

use events::Contracts;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{pull, PullConsumer};
use events::create_order_schema::{CreateOrderCommand, CreateOrderCommandPayload};
use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
use events::{AnyCommand, AnyEvent, CommandDeadLetter, DeadLetter, EventStatus, Jitter, RetryPolicy};
use events_nats::{Broker, ConsumerErrorKind, Delivered, Router};
use futures_util::StreamExt;

type Calls = Arc<Mutex<Vec<(Instant, u32, u32)>>>; // (when, attempt, retryCount)

fn policy(attempts: u32, base_ms: u64) -> RetryPolicy {
    RetryPolicy::new(attempts, Duration::from_millis(base_ms), Duration::from_secs(5)).with_jitter(Jitter::Equal)
}

/// A handler of inventory events that fails while `fail(attempt)` says so, recording each call.
fn inventory_handler(calls: Calls, fail: fn(u32) -> bool) -> Router<Contracts> {
    Router::new().on(move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
        let calls = calls.clone();
        async move {
            calls.lock().unwrap().push((Instant::now(), e.attempt(), e.retry_count()));
            assert_eq!(e.event_status(), EventStatus::Created);
            if fail(e.attempt()) {
                Err(format!("attempt {} failed", e.attempt()))
            } else {
                Ok(())
            }
        }
    })
}

async fn raw_consumer(broker: &Broker, name: &str) -> PullConsumer {
    broker.jetstream().get_stream("EVENTS").await.unwrap().get_consumer::<pull::Config>(name).await.unwrap()
}

async fn pending(broker: &Broker, name: &str) -> (u64, usize) {
    let mut c = raw_consumer(broker, name).await;
    let info = c.info().await.unwrap();
    (info.num_pending, info.num_ack_pending)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_contract_makes_the_round_trip() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let publisher = broker.publisher();

    let mut sent_events: Vec<AnyEvent> = Vec::new();
    for (file, bytes) in common::spec_events() {
        // The examples share ids; each gets its own, or the broker would store one of them.
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        value["eventId"] = uuid::Uuid::new_v4().to_string().into();
        let event = AnyEvent::from_json(value.to_string().as_bytes()).unwrap_or_else(|e| panic!("{file}: {e}"));
        sent_events.push(event);
    }
    let customer = events::customer_registered_schema::CustomerRegisteredEventPayload {
        customer_id: "CUST1".into(),
        email: "ada@example.com".into(),
        phone: None,
        addresses: vec![],
        payment_cards: None,
    };
    sent_events.push(
        events::customer_registered_schema::CustomerRegisteredEvent::new(customer, events::Metadata::new("u", "Web"))
            .unwrap()
            .into(),
    );
    let create = common::create_order();
    let order = events::order_created_schema::OrderCreatedEventPayload {
        order_id: "ORD1".into(),
        customer_id: "CUST67890".into(),
        items: vec![events::order_created_schema::latest::OrderItem {
            item_id: "ITEM001".into(),
            quantity: 2,
            price: 100.0,
        }],
        total_amount: 200.0,
        currency: Some("EUR".into()),
    };
    let created = events::order_created_schema::OrderCreatedEvent::caused_by(&create, order).unwrap();
    sent_events.push(created.clone().into());
    let confirm = events::send_order_confirmation_schema::SendOrderConfirmationCommand::caused_by(
        &created,
        events::send_order_confirmation_schema::SendOrderConfirmationCommandPayload {
            order_id: "ORD1".into(),
            customer_id: "CUST67890".into(),
        },
    )
    .unwrap();
    let sent_commands: Vec<AnyCommand> = vec![create.clone().into(), confirm.clone().into()];

    for event in &sent_events {
        let published = match event {
            AnyEvent::CustomerRegisteredEventV1_0(e) => publisher.publish(e).await,
            AnyEvent::InventoryUpdatedEventV1_0(e) => publisher.publish(e).await,
            AnyEvent::InventoryUpdatedIntegrationEventV1_0(e) => publisher.publish(e).await,
            AnyEvent::OrderCreatedEventV1_0(e) => publisher.publish(e).await,
            AnyEvent::OrderCreatedEventV1_1(e) => publisher.publish(e).await,
            AnyEvent::OrderShippedNotificationEventV1_0(e) => publisher.publish(e).await,
        };
        assert!(!published.unwrap().duplicate);
    }
    publisher.publish_command(&create).await.unwrap();
    publisher.publish_command(&confirm).await.unwrap();

    let got_events: Arc<Mutex<Vec<AnyEvent>>> = Arc::default();
    let got_commands: Arc<Mutex<Vec<AnyCommand>>> = Arc::default();
    let events_router = Router::new().on({
        let got = got_events.clone();
        move |e: Delivered<AnyEvent>| {
            got.lock().unwrap().push(e.into_message());
            async { Ok::<_, String>(()) }
        }
    });
    let commands_router = Router::new().on({
        let got = got_commands.clone();
        move |c: Delivered<AnyCommand>| {
            got.lock().unwrap().push(c.into_message());
            async { Ok::<_, String>(()) }
        }
    });
    let on_events = common::run(broker.consumer("Archive").build().await.unwrap(), events_router);
    let on_commands =
        common::run(broker.consumer("Archive").commands("commands.>").build().await.unwrap(), commands_router);
    let (n_events, n_commands) = (sent_events.len(), sent_commands.len());
    common::wait_until("every message is handled", Duration::from_secs(20), || {
        let done = got_events.lock().unwrap().len() == n_events && got_commands.lock().unwrap().len() == n_commands;
        async move { done }
    })
    .await;
    assert_eq!(on_events.stop().await.processed, n_events as u64);
    assert_eq!(on_commands.stop().await.processed, n_commands as u64);

    // What arrives is what was sent, as its first delivery shows it (retryCount 0, created).
    let json = |v: &dyn erased::Ser| v.json();
    let mut expected: Vec<String> = sent_events.iter().cloned().map(|e| json(&e.at_attempt(1))).collect();
    let mut received: Vec<String> = got_events.lock().unwrap().iter().map(|e| json(e)).collect();
    expected.sort();
    received.sort();
    assert_eq!(received, expected);
    let mut expected: Vec<String> = sent_commands.iter().map(|c| json(c)).collect();
    let mut received: Vec<String> = got_commands.lock().unwrap().iter().map(|c| json(c)).collect();
    expected.sort();
    received.sort();
    assert_eq!(received, expected);

    // Every version of every schema in the registry was among them.
    let mut shipped = Vec::new();
    for dir in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas")).unwrap() {
        let dir = dir.unwrap().path();
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        // Shared folders and the registry's own files (schema-ids.lock) are not subjects.
        if id.starts_with('_') || !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let version = file.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned();
            shipped.push(format!("{id}/{version}"));
        }
    }
    let mut covered: Vec<String> = sent_events
        .iter()
        .map(|e| e.schema_ref())
        .chain(sent_commands.iter().map(|c| c.schema_ref()))
        .map(|r| format!("{}/{}", r.id, r.version))
        .collect();
    covered.sort();
    covered.dedup();
    shipped.sort();
    assert_eq!(covered, shipped);
}

mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_services_each_receive_every_event() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let mut published = Vec::new();
    for i in 0..20 {
        let event = common::inventory_event(&format!("ITEM{i:03}"), i);
        broker.publisher().publish(&event).await.unwrap();
        published.push(event.event_id());
    }
    let mut running = Vec::new();
    let mut seen = Vec::new();
    for service in ["OrderService", "PaymentService"] {
        let ids: Arc<Mutex<Vec<events::EventId>>> = Arc::default();
        let router = Router::new().on({
            let ids = ids.clone();
            move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
                ids.lock().unwrap().push(e.event_id());
                async { Ok::<_, String>(()) }
            }
        });
        let consumer = broker.consumer(service).events("events.integration.>").build().await.unwrap();
        running.push(common::run(consumer, router));
        seen.push(ids);
    }
    for ids in &seen {
        common::wait_until("both services have every event", Duration::from_secs(20), || {
            let n = ids.lock().unwrap().len();
            async move { n >= 20 }
        })
        .await;
    }
    for r in running {
        assert_eq!(r.stop().await.delivered, 20, "each event delivered once to each service");
    }
    for ids in seen {
        let mut got = ids.lock().unwrap().clone();
        got.sort();
        let mut want = published.clone();
        want.sort();
        assert_eq!(got, want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_after_the_policys_delay_with_retry_count_rising() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let policy = policy(4, 400);
    let calls: Calls = Arc::default();
    let consumer = broker.consumer("PaymentService").retry_policy(policy).build().await.unwrap();
    let running = common::run(consumer, inventory_handler(calls.clone(), |attempt| attempt < 3));
    broker.publisher().publish(&common::inventory_event("ITEM001", 90)).await.unwrap();
    running.wait_for("the third delivery succeeds", Duration::from_secs(20), |s| s.processed == 1).await;
    let stats = running.stop().await;
    assert_eq!((stats.delivered, stats.retried, stats.dead_lettered), (3, 2, 0));

    let calls = calls.lock().unwrap().clone();
    let counts: Vec<(u32, u32)> = calls.iter().map(|(_, a, r)| (*a, *r)).collect();
    assert_eq!(counts, [(1, 0), (2, 1), (3, 2)]);
    // Equal jitter: retry n waits between half and all of min(cap, base × 2^(n-1)).
    for (n, pair) in calls.windows(2).enumerate() {
        let retry = n as u32 + 1;
        let gap = pair[1].0 - pair[0].0;
        let ceiling = policy.backoff(retry);
        assert!(gap >= ceiling / 2, "retry {retry} came after {gap:?}, before half of {ceiling:?}");
        assert!(
            gap <= ceiling + Duration::from_millis(900),
            "retry {retry} came after {gap:?}, long after {ceiling:?}"
        );
    }
    // The failures kept for the record are gone once the event is processed.
    let store = broker.jetstream().get_key_value("EVENTS_FAILURES").await.unwrap();
    let mut keys = store.keys().await.unwrap();
    assert!(keys.next().await.is_none(), "no failure log left behind");
    assert!(common::dead_letters(&broker).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policys_attempts_then_one_dead_letter_record_listing_every_failure() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let calls: Calls = Arc::default();
    let consumer = broker.consumer("PaymentService").retry_policy(policy(3, 50)).build().await.unwrap();
    let running = common::run(consumer, inventory_handler(calls.clone(), |_| true));
    let event = common::inventory_event("ITEM001", 90);
    let published = broker.publisher().publish(&event).await.unwrap();
    running.wait_for("the event is dead-lettered", Duration::from_secs(20), |s| s.dead_lettered == 1).await;
    common::wait_until("the consumer holds nothing", Duration::from_secs(10), || {
        let broker = broker.clone();
        async move { pending(&broker, "PaymentService").await == (0, 0) }
    })
    .await;
    let stats = running.stop().await;
    assert_eq!((stats.delivered, stats.retried, stats.dead_lettered, stats.processed), (3, 2, 1, 0));
    assert_eq!(calls.lock().unwrap().len(), 3, "exactly the policy's attempts");

    let records = common::dead_letters(&broker).await;
    assert_eq!(records.len(), 1, "one record");
    let (kind, body) = &records[0];
    assert_eq!(kind, "event");
    let record: DeadLetter<InventoryUpdatedIntegrationEventPayload> = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(record.event.event_id(), event.event_id());
    assert_eq!((record.event.retry_count(), record.attempts), (2, 3));
    let failures: Vec<(u32, &str)> = record.failures.iter().map(|f| (f.attempt, f.error.message.as_str())).collect();
    assert_eq!(failures, [(1, "attempt 1 failed"), (2, "attempt 2 failed"), (3, "attempt 3 failed")]);
    assert_eq!(record.reason.message, "attempt 3 failed");
    assert_eq!(record.origin.stream.as_deref(), Some("EVENTS"));
    assert_eq!(record.origin.offset, Some(published.sequence));
    assert_eq!(record.origin.queue, "events.integration.InventoryUpdatedIntegrationEvent");
    assert_eq!(record.origin.endpoint, "PaymentService");
    let store = broker.jetstream().get_key_value("EVENTS_FAILURES").await.unwrap();
    assert!(store.keys().await.unwrap().next().await.is_none(), "the failure log is cleared");
}

/// Publishes `body` raw on `subject` and returns the one poison record a consumer writes for it.
async fn poison(body: &[u8], subject: &str) -> events_nats::PoisonMessage {
    let server = common::server();
    let broker = common::broker(&server).await;
    let calls: Calls = Arc::default();
    let consumer = broker.consumer("OrderService").build().await.unwrap();
    let handled = calls.clone();
    let router = inventory_handler(calls, |_| false).on(move |_: Delivered<AnyEvent>| {
        handled.lock().unwrap().push((Instant::now(), 0, 0));
        async { Ok::<_, String>(()) }
    });
    let running = common::run(consumer, router);
    broker.jetstream().publish(subject.to_string(), body.to_vec().into()).await.unwrap().await.unwrap();
    running.wait_for("the message is dead-lettered", Duration::from_secs(20), |s| s.poison == 1).await;
    let stats = running.stop().await;
    assert_eq!((stats.delivered, stats.retried, stats.processed), (1, 0, 0), "dead-lettered at its first delivery");
    let records = common::dead_letters(&broker).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, "poison");
    let record: events_nats::PoisonMessage = serde_json::from_value(records[0].1.clone()).unwrap();
    assert_eq!(record.body_bytes().unwrap(), body, "the body as received");
    assert_eq!(record.origin.queue, subject);
    assert_eq!(record.origin.endpoint, "OrderService");
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_json_is_dead_lettered_at_once() {
    let record = poison(b"\xff\xfe not json", "events.integration.InventoryUpdatedIntegrationEvent").await;
    assert!(record.body.is_none() && record.body_base64.is_some(), "bytes that are not UTF-8 are kept as base64");
    assert!(record.error.message.starts_with("malformed JSON at line 1, column 1"), "{}", record.error.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_with_a_bad_field_is_dead_lettered_at_once_naming_the_pointer() {
    let mut event: serde_json::Value = serde_json::from_str(&common::inventory_event("ITEM001", 1).to_json()).unwrap();
    event["eventId"] = "not-a-uuid".into();
    let record = poison(event.to_string().as_bytes(), "events.integration.InventoryUpdatedIntegrationEvent").await;
    assert_eq!(record.error.pointer.as_deref(), Some("/eventId"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_that_breaks_its_schema_is_dead_lettered_at_once_naming_the_pointer() {
    let mut event: serde_json::Value = serde_json::from_str(&common::inventory_event("ITEM001", 1).to_json()).unwrap();
    event["payload"]["newQuantity"] = (-5).into();
    let record = poison(event.to_string().as_bytes(), "events.integration.InventoryUpdatedIntegrationEvent").await;
    assert_eq!(record.error.pointer.as_deref(), Some("/payload/newQuantity"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_registry_does_not_know_is_dead_lettered_at_once() {
    let mut event: serde_json::Value = serde_json::from_str(&common::inventory_event("ITEM001", 1).to_json()).unwrap();
    event["eventName"] = "TeleportedEvent".into();
    let record = poison(event.to_string().as_bytes(), "events.integration.TeleportedEvent").await;
    assert_eq!(record.error.pointer.as_deref(), Some("/eventName"));
    assert!(record.error.message.contains("unknown contract `TeleportedEvent`"), "{}", record.error.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_never_answered_is_redelivered_after_the_ack_wait_and_counts_as_an_attempt() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let ack_wait = Duration::from_secs(1);
    let consumer =
        broker.consumer("OrderService").ack_wait(ack_wait).retry_policy(policy(3, 50)).build().await.unwrap();
    broker.publisher().publish(&common::inventory_event("ITEM001", 90)).await.unwrap();

    // An instance of the service takes the event and dies without answering.
    let raw = raw_consumer(&broker, "OrderService").await;
    let mut batch = raw.fetch().max_messages(1).expires(Duration::from_secs(5)).messages().await.unwrap();
    let taken = batch.next().await.unwrap().unwrap();
    let taken_at = Instant::now();
    assert_eq!(taken.info().unwrap().delivered, 1);
    drop((batch, taken));

    let calls: Calls = Arc::default();
    let running = common::run(consumer, inventory_handler(calls.clone(), |_| false));
    running.wait_for("the event is handled", Duration::from_secs(20), |s| s.processed == 1).await;
    running.stop().await;
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    let (at, attempt, retry_count) = calls[0];
    assert_eq!((attempt, retry_count), (2, 1), "the lost delivery was the first attempt");
    assert!(at - taken_at >= ack_wait - Duration::from_millis(50), "redelivered after {:?}", at - taken_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_hangs_is_timed_out_and_retried() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let consumer = broker
        .consumer("OrderService")
        .ack_wait(Duration::from_secs(2))
        .handler_timeout(Duration::from_millis(300))
        .retry_policy(policy(3, 50))
        .build()
        .await
        .unwrap();
    let calls: Calls = Arc::default();
    let failures_seen: Arc<Mutex<Vec<u32>>> = Arc::default();
    let router = Router::new().on({
        let (calls, seen) = (calls.clone(), failures_seen.clone());
        move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            calls.lock().unwrap().push((Instant::now(), e.attempt(), e.retry_count()));
            seen.lock().unwrap().push(e.retry_count());
            let first = e.attempt() == 1;
            async move {
                if first {
                    std::future::pending::<()>().await; // hangs for ever
                }
                Ok::<_, String>(())
            }
        }
    });
    let running = common::run(consumer, router);
    broker.publisher().publish(&common::inventory_event("ITEM001", 90)).await.unwrap();
    running.wait_for("the retry is handled", Duration::from_secs(20), |s| s.processed == 1).await;
    let stats = running.stop().await;
    assert_eq!((stats.delivered, stats.retried), (2, 1));
    let calls = calls.lock().unwrap().clone();
    assert!(calls[1].0 - calls[0].0 >= Duration::from_millis(300), "retried before the handler timeout");
    assert_eq!(*failures_seen.lock().unwrap(), [0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_attempt_that_was_never_answered_is_dead_lettered_without_calling_the_handler() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let consumer = broker
        .consumer("OrderService")
        .ack_wait(Duration::from_secs(1))
        .retry_policy(policy(2, 50))
        .build()
        .await
        .unwrap();
    let event = common::inventory_event("ITEM001", 90);
    broker.publisher().publish(&event).await.unwrap();

    // Both allowed attempts taken by instances that died.
    let raw = raw_consumer(&broker, "OrderService").await;
    for attempt in 1..=2 {
        let mut batch = raw.fetch().max_messages(1).expires(Duration::from_secs(5)).messages().await.unwrap();
        let taken = batch.next().await.unwrap().unwrap();
        assert_eq!(taken.info().unwrap().delivered, attempt);
    }
    let calls: Calls = Arc::default();
    let running = common::run(consumer, inventory_handler(calls.clone(), |_| false));
    running.wait_for("the event is dead-lettered", Duration::from_secs(20), |s| s.dead_lettered == 1).await;
    running.stop().await;
    assert!(calls.lock().unwrap().is_empty(), "the handler is not called past the last attempt");
    let records = common::dead_letters(&broker).await;
    let record: DeadLetter<InventoryUpdatedIntegrationEventPayload> =
        serde_json::from_value(records[0].1.clone()).unwrap();
    assert_eq!((record.attempts, record.event.event_id()), (2, event.event_id()));
    assert_eq!(record.reason.error_type, "events_nats::NoAnswer");
    assert_eq!(record.reason.message, "attempt 2 was not answered within the ack wait");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_handlers_in_flight_finish_and_acknowledges_them() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let consumer = broker.consumer("OrderService").concurrency(4).build().await.unwrap();
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let started: Calls = Arc::default();
    let router = Router::new().on({
        let (release, started) = (release.clone(), started.clone());
        move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            started.lock().unwrap().push((Instant::now(), e.attempt(), 0));
            let release = release.clone();
            async move {
                release.acquire().await.unwrap().forget();
                Ok::<_, String>(())
            }
        }
    });
    for i in 0..3 {
        broker.publisher().publish(&common::inventory_event(&format!("ITEM{i}"), i)).await.unwrap();
    }
    let running = common::run(consumer, router);
    common::wait_until("three handlers are running", Duration::from_secs(20), || {
        let n = started.lock().unwrap().len();
        async move { n == 3 }
    })
    .await;
    let (stop, handle) = (running.stop(), release.clone());
    let stopping = tokio::spawn(stop);
    handle.add_permits(3);
    let stats = stopping.await.unwrap();
    assert_eq!(stats.processed, 3, "the run returned after its handlers finished");
    assert_eq!(pending(&broker, "OrderService").await, (0, 0), "and their messages are acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_event_without_a_handler_is_acknowledged_unhandled() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let consumer = broker.consumer("OrderService").build().await.unwrap();
    let calls: Calls = Arc::default();
    let running = common::run(consumer, inventory_handler(calls.clone(), |_| false));
    let shipped = common::shipped_event();
    broker.publisher().publish(&shipped).await.unwrap();
    running.wait_for("the event is acknowledged", Duration::from_secs(20), |s| s.unrouted == 1).await;
    running.stop().await;
    assert!(calls.lock().unwrap().is_empty());
    assert!(common::dead_letters(&broker).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_handler_gets_the_delivery_count_and_a_failed_command_dead_letters_as_a_command() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let consumer =
        broker.consumer("OrderService").commands("commands.>").retry_policy(policy(2, 50)).build().await.unwrap();
    let attempts: Arc<Mutex<Vec<u32>>> = Arc::default();
    let router = Router::new().on({
        let attempts = attempts.clone();
        move |c: Delivered<CreateOrderCommand>| {
            attempts.lock().unwrap().push(c.attempt());
            let last = c.is_last_attempt();
            async move { Err::<(), _>(format!("stock service down (last attempt: {last})")) }
        }
    });
    let running = common::run(consumer, router);
    let command = common::create_order();
    broker.publisher().publish_command(&command).await.unwrap();
    running.wait_for("the command is dead-lettered", Duration::from_secs(20), |s| s.dead_lettered == 1).await;
    running.stop().await;
    assert_eq!(*attempts.lock().unwrap(), [1, 2]);
    let records = common::dead_letters(&broker).await;
    assert_eq!(records[0].0, "command");
    let record: CommandDeadLetter<CreateOrderCommandPayload> = serde_json::from_value(records[0].1.clone()).unwrap();
    assert_eq!(record.command, command);
    assert_eq!(record.attempts, 2);
    assert_eq!(record.reason.message, "stock service down (last attempt: true)");
    assert_eq!(record.origin.queue, "commands.CreateOrderCommand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_name_that_cannot_be_a_subject_token_is_refused() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let err = broker.consumer("payment.service").build::<Contracts>().await.unwrap_err();
    assert_eq!(err.kind(), ConsumerErrorKind::Config);
    assert!(err.to_string().starts_with("consumer name \"payment.service\": use letters, digits"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_outside_the_stream_is_refused() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let err = broker.consumer("OrderService").events("commands.>").build::<Contracts>().await.unwrap_err();
    assert_eq!(err.kind(), ConsumerErrorKind::Config);
    assert!(
        err.to_string().contains("filter \"commands.>\" is outside the EVENTS stream's subjects `events.>`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_timeout_not_below_the_ack_wait_is_refused() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let err = broker
        .consumer("OrderService")
        .ack_wait(Duration::from_secs(5))
        .handler_timeout(Duration::from_secs(5))
        .build::<Contracts>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConsumerErrorKind::Config);
    assert!(err.to_string().contains("handler_timeout (5s) must be above zero and below ack_wait (5s)"), "{err}");
}

/// Off the fast path (members in another order than the encoder's), a message is parsed once,
/// routed on its members (the version `schemaRef` names) and decoded from that parse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_in_another_member_order_reaches_the_handler_of_the_version_its_schema_ref_names() {
    use events::order_created_schema::{v1_0, v1_1};
    let server = common::server();
    let broker = common::broker(&server).await;
    let wire = std::fs::read("../tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
    let event = v1_0::OrderCreatedEvent::from_json(&wire).unwrap();
    let full: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
    // Not in the encoder's order (`eventName` first), and `version` dropped: `schemaRef.version`
    // alone says 1.0.
    let mut members: Vec<(String, serde_json::Value)> = full.as_object().unwrap().clone().into_iter().collect();
    members.retain(|(k, _)| k != "version");
    members.reverse();
    let body = format!(
        "{{{}}}",
        members
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(!body.starts_with("{\"eventName\""), "{body}");

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let (old, new, any) = (seen.clone(), seen.clone(), seen.clone());
    let router = Router::new()
        .on(move |e: Delivered<v1_0::OrderCreatedEvent>| {
            old.lock().unwrap().push(format!("1.0 {}", e.payload().order_id));
            async { Ok::<_, String>(()) }
        })
        .on(move |e: Delivered<v1_1::OrderCreatedEvent>| {
            new.lock().unwrap().push(format!("1.1 {}", e.payload().order_id));
            async { Ok::<_, String>(()) }
        })
        .on(move |e: Delivered<AnyEvent>| {
            any.lock().unwrap().push(format!("any {}", e.event_name()));
            async { Ok::<_, String>(()) }
        });
    let consumer =
        broker.consumer("NotificationService").events("events.domain.OrderCreatedEvent").build().await.unwrap();
    let running = common::run(consumer, router);
    broker.jetstream().publish("events.domain.OrderCreatedEvent", body.into()).await.unwrap().await.unwrap();
    running.wait_for("the event is handled", Duration::from_secs(20), |s| s.processed + s.poison == 1).await;
    let stats = running.stop().await;
    assert_eq!(stats.poison, 0, "{stats:?}");
    assert_eq!(*seen.lock().unwrap(), ["1.0 ORD12345"]);
}
