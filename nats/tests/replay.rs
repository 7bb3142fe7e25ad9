//! Replaying dead letters against a real server: back on their subject, for the consumer that
//! failed them only, their records removed; selected by consumer, contract and time.

mod common;

use events::Contracts;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use events::inventory_updated_schema::InventoryUpdatedIntegrationEvent;
use events::{AnyEvent, Jitter, RetryPolicy};
use events_nats::{Broker, Delivered, Replay, Router};

fn once() -> RetryPolicy {
    RetryPolicy::new(1, Duration::ZERO, Duration::ZERO).with_jitter(Jitter::None)
}

async fn wait_dead_letters(broker: &Broker, n: usize) {
    common::wait_until(&format!("{n} dead letters are stored"), Duration::from_secs(20), || {
        let broker = broker.clone();
        async move { common::dead_letters(&broker).await.len() == n }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_dead_letter_reaches_only_the_consumer_that_failed_it() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let fixed = Arc::new(AtomicBool::new(false));
    let (order_calls, payment_calls) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let seen_retry_counts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let order = Router::new().on({
        let calls = order_calls.clone();
        move |_: Delivered<InventoryUpdatedIntegrationEvent>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, String>(()) }
        }
    });
    let payment = Router::new().on({
        let (calls, fixed, seen) = (payment_calls.clone(), fixed.clone(), seen_retry_counts.clone());
        move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            calls.fetch_add(1, Ordering::SeqCst);
            seen.lock().unwrap().push((e.event_id(), e.retry_count(), e.attempt()));
            let ok = fixed.load(Ordering::SeqCst);
            async move {
                if ok {
                    Ok(())
                } else {
                    Err("a bug in PaymentService")
                }
            }
        }
    });
    let policy = RetryPolicy::new(2, Duration::from_millis(20), Duration::from_millis(20)).with_jitter(Jitter::None);
    let on_order = common::run(broker.consumer("OrderService").retry_policy(policy).build().await.unwrap(), order);
    let on_payment =
        common::run(broker.consumer("PaymentService").retry_policy(policy).build().await.unwrap(), payment);
    let event = common::inventory_event("ITEM001", 90);
    broker.publisher().publish(&event).await.unwrap();
    wait_dead_letters(&broker, 1).await;
    let record_sequence =
        common::stream_messages(&broker, "DEAD_LETTERS", "deadletters.>").await[0].info().unwrap().stream_sequence;

    // The bug is fixed; PaymentService's dead letters go back.
    fixed.store(true, Ordering::SeqCst);
    let report = broker.replay::<Contracts>(&Replay::new().consumer("PaymentService")).await.unwrap();
    assert_eq!(report.replayed.len(), 1, "{report:?}");
    let replayed = &report.replayed[0];
    assert_eq!(replayed.msg_id, format!("{}:replay:{record_sequence}", event.event_id()));
    assert_eq!(replayed.subject, "events.integration.InventoryUpdatedIntegrationEvent");
    assert_eq!(replayed.consumer, "PaymentService");
    common::wait_until(
        "PaymentService handles the replay and OrderService passes it by",
        Duration::from_secs(20),
        || {
            let (p, o) = (on_payment.stats.get(), on_order.stats.get());
            async move { p.processed == 1 && o.replays_for_others == 1 }
        },
    )
    .await;
    on_order.stop().await;
    on_payment.stop().await;
    assert_eq!(order_calls.load(Ordering::SeqCst), 1, "OrderService handled the event once, not the replay");
    assert_eq!(payment_calls.load(Ordering::SeqCst), 3, "two failed attempts, then the replay");
    // The same event, its retries counted afresh.
    let seen = seen_retry_counts.lock().unwrap().clone();
    assert_eq!(seen.last(), Some(&(event.event_id(), 0, 1)));
    assert!(common::dead_letters(&broker).await.is_empty(), "the record is removed once replayed");
    // Replaying again finds nothing.
    assert!(broker.replay::<Contracts>(&Replay::new()).await.unwrap().replayed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_selects_by_consumer_contract_and_time_and_leaves_poison_unless_asked() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let failing = || Router::new().on(|_: Delivered<AnyEvent>| async { Err::<(), _>("down") });
    let on_order = common::run(broker.consumer("OrderService").retry_policy(once()).build().await.unwrap(), failing());
    let on_payment =
        common::run(broker.consumer("PaymentService").retry_policy(once()).build().await.unwrap(), failing());

    let before = chrono::Utc::now();
    broker.publisher().publish(&common::inventory_event("ITEM001", 90)).await.unwrap();
    wait_dead_letters(&broker, 2).await; // one record per consumer
    let between = chrono::Utc::now();
    let shipped = common::shipped_event();
    broker.publisher().publish(&shipped).await.unwrap();
    broker.jetstream().publish("events.domain.OrderCreatedEvent", "not json".into()).await.unwrap().await.unwrap();
    wait_dead_letters(&broker, 6).await;
    on_order.stop().await;
    on_payment.stop().await;

    let names = |r: &events_nats::ReplayReport| {
        let mut v: Vec<String> = r.replayed.iter().map(|x| format!("{}/{}", x.consumer, x.name)).collect();
        v.sort();
        v
    };
    let dry = |s: Replay| {
        let broker = broker.clone();
        async move { broker.replay::<Contracts>(&s.dry_run()).await.unwrap() }
    };
    assert_eq!(
        names(&dry(Replay::new().consumer("PaymentService").contract("InventoryUpdatedIntegrationEvent")).await),
        ["PaymentService/InventoryUpdatedIntegrationEvent"]
    );
    assert_eq!(
        names(&dry(Replay::new().until(between)).await),
        ["OrderService/InventoryUpdatedIntegrationEvent", "PaymentService/InventoryUpdatedIntegrationEvent"]
    );
    assert_eq!(
        names(&dry(Replay::new().since(between).consumer("OrderService")).await),
        ["OrderService/OrderShippedNotificationEvent"]
    );
    assert!(dry(Replay::new().until(before)).await.replayed.is_empty());
    let all = dry(Replay::new()).await;
    assert_eq!(all.replayed.len(), 4);
    assert_eq!(all.left.len(), 2, "the poison messages stay: {:?}", all.left);
    assert!(all.left.iter().all(|(_, why)| why.contains("include_poison")), "{:?}", all.left);
    assert_eq!(dry(Replay::new().include_poison()).await.replayed.len(), 6);
    assert_eq!(common::dead_letters(&broker).await.len(), 6, "a dry run changes nothing");

    // For real now: only the selection goes, the rest stays.
    let report = broker
        .replay::<Contracts>(&Replay::new().consumer("OrderService").contract("OrderShippedNotificationEvent"))
        .await
        .unwrap();
    assert_eq!(names(&report), ["OrderService/OrderShippedNotificationEvent"]);
    assert_eq!(common::dead_letters(&broker).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_example_replays_what_it_selects_and_says_what_it_did() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let failing = Router::new().on(|_: Delivered<AnyEvent>| async { Err::<(), _>("down") });
    let running = common::run(broker.consumer("PaymentService").retry_policy(once()).build().await.unwrap(), failing);
    let event = common::inventory_event("ITEM001", 90);
    broker.publisher().publish(&event).await.unwrap();
    wait_dead_letters(&broker, 1).await;
    running.stop().await;

    // `cargo test` builds the examples beside the test binaries.
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().unwrap().parent().unwrap().join("examples").join("replay");
    let run = |args: &[&str]| {
        std::process::Command::new(&example)
            .args(args)
            .env("NATS_URL", server.url())
            .output()
            .expect("the replay example runs")
    };
    let out = run(&["--consumer", "OrderService"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 replayed, 0 left"));
    let out = run(&["--consumer", "PaymentService", "--contract", "InventoryUpdatedIntegrationEvent"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(&format!("as {}:replay:", event.event_id())), "{stdout}");
    assert!(stdout.contains("1 replayed, 0 left"), "{stdout}");
    assert!(common::dead_letters(&broker).await.is_empty());
    let out = run(&["--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since yesterday: not an RFC 3339 time"));
}
