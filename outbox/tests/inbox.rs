//! The inbox against a real broker and database: a message handled once for its database part
//! whatever the broker delivers, and what a handler enqueues going out with its causation.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{stock, TestDb};
use events::create_order_schema::{latest::OrderItem, CreateOrderCommand, CreateOrderCommandPayload};
use events::inventory_updated_schema::InventoryUpdatedIntegrationEvent;
use events::order_created_schema::{self, OrderCreatedEvent, OrderCreatedEventPayload};
use events::{Metadata, RetryPolicy};
use events_nats::{Broker, Outgoing, Router};
use events_outbox::{Inbox, InboxStats, Inboxed, Outbox};
use sqlx::{Postgres, Sqlite};

/// A running consumer of OrderService whose inventory handler writes one effect row per event
/// (the effects table's primary key is the eventId) and counts its calls; it fails the first
/// `fail_first` calls after writing.
struct Service<DB: TestDb> {
    inbox: Inbox<DB>,
    calls: Arc<AtomicU32>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<events_nats::Stats>,
}

async fn service<DB: TestDb>(broker: &Broker, pool: &sqlx::Pool<DB>, fail_first: u32) -> Service<DB> {
    let inbox = Inbox::new(&Outbox::<DB>::default(), pool.clone(), "OrderService");
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let router = Router::new().on(inbox.handler(move |e: Inboxed<DB, InventoryUpdatedIntegrationEvent>| {
        let calls = counted.clone();
        async move {
            let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
            let id = e.event_id().to_string();
            DB::insert_effect(&mut **e.transaction().await, &id).await.map_err(|e| e.to_string())?;
            // Held a moment inside the transaction, so that two instances overlap.
            tokio::time::sleep(Duration::from_millis(5)).await;
            if call <= fail_first {
                return Err(format!("call {call} fails after writing its effect"));
            }
            Ok(())
        }
    }));
    let consumer = broker
        .consumer("OrderService")
        .events("events.integration.>")
        .retry_policy(RetryPolicy::new(4, Duration::from_millis(100), Duration::from_millis(500)))
        .build()
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    Service { inbox, calls, stop, task }
}

impl<DB: TestDb> Service<DB> {
    async fn wait_for(&self, what: &str, done: impl Fn(InboxStats) -> bool) {
        common::wait_until(what, Duration::from_secs(60), || {
            let done = done(self.inbox.stats());
            async move { done }
        })
        .await;
    }
    async fn stop(self) -> InboxStats {
        let _ = self.stop.send(());
        self.task.await.unwrap();
        self.inbox.stats()
    }
}

/// The same event again under another `Nats-Msg-Id`: the broker stores it twice, and delivers it twice.
async fn publish_twice(broker: &Broker, event: &InventoryUpdatedIntegrationEvent) {
    let publisher = broker.publisher();
    publisher.publish(event).await.unwrap();
    let mut again = Outgoing::event(event);
    again.msg_id = format!("{}-again", again.msg_id);
    again.headers.insert("Nats-Msg-Id", again.msg_id.as_str());
    assert!(!publisher.publish_outgoing(again).await.unwrap().duplicate);
}

async fn an_event_delivered_twice_writes_its_effect_once<DB: TestDb>() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    let event = stock("ITEM-1", 1);
    publish_twice(&broker, &event).await;
    let service = service::<DB>(&broker, &pool, 0).await;
    service.wait_for("both deliveries are answered", |s| s.handled + s.skipped == 2).await;
    let calls = service.calls.load(Ordering::SeqCst);
    let stats = service.stop().await;
    assert_eq!((stats.handled, stats.skipped, calls), (1, 1, 1), "{stats:?}");
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM effects").await, 1);
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM events_inbox WHERE consumer = 'OrderService'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_event_delivered_twice_writes_its_effect_once() {
    an_event_delivered_twice_writes_its_effect_once::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_event_delivered_twice_writes_its_effect_once() {
    an_event_delivered_twice_writes_its_effect_once::<Postgres>().await;
}

/// The consumer recreated from the start of the stream (a replay of everything): all skipped.
async fn a_replayed_stream_is_skipped<DB: TestDb>() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    for n in 0..20 {
        broker.publisher().publish(&stock("ITEM-1", n)).await.unwrap();
    }
    let first = service::<DB>(&broker, &pool, 0).await;
    first.wait_for("the first run handles all", |s| s.handled == 20).await;
    first.stop().await;
    broker.jetstream().get_stream("EVENTS").await.unwrap().delete_consumer("OrderService").await.unwrap();
    let replay = service::<DB>(&broker, &pool, 0).await;
    replay.wait_for("the replay is answered", |s| s.skipped == 20).await;
    let calls = replay.calls.load(Ordering::SeqCst);
    let stats = replay.stop().await;
    assert_eq!((stats.handled, calls), (0, 0), "{stats:?}");
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM effects").await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_replayed_stream_is_skipped() {
    a_replayed_stream_is_skipped::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_replayed_stream_is_skipped() {
    a_replayed_stream_is_skipped::<Postgres>().await;
}

/// Two instances of the service, each given one of two copies of every event at the same time:
/// the unique key lets one of them through per event.
async fn two_instances_racing_write_each_effect_once<DB: TestDb>() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    let a = service::<DB>(&broker, &pool, 0).await;
    let b = service::<DB>(&broker, &pool, 0).await;
    for n in 0..100 {
        publish_twice(&broker, &stock("ITEM-1", n)).await;
    }
    common::wait_until("all 200 deliveries are answered", Duration::from_secs(120), || {
        let (sa, sb) = (a.inbox.stats(), b.inbox.stats());
        async move { sa.handled + sa.skipped + sb.handled + sb.skipped == 200 }
    })
    .await;
    let (sa, sb) = (a.stop().await, b.stop().await);
    println!("instance a {sa:?}, instance b {sb:?}");
    assert_eq!(sa.handled + sb.handled, 100, "{sa:?} {sb:?}");
    assert_eq!(sa.skipped + sb.skipped, 100, "{sa:?} {sb:?}");
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM effects").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_instances_racing_write_each_effect_once() {
    two_instances_racing_write_each_effect_once::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_instances_racing_write_each_effect_once() {
    two_instances_racing_write_each_effect_once::<Postgres>().await;
}

/// A handler error rolls its effect and the mark back together; the broker's retry runs it again.
async fn a_handler_error_rolls_back_effect_and_mark_and_the_retry_runs<DB: TestDb>() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    broker.publisher().publish(&stock("ITEM-1", 1)).await.unwrap();
    let service = service::<DB>(&broker, &pool, 2).await;
    service.wait_for("the third attempt succeeds", |s| s.handled == 1).await;
    let calls = service.calls.load(Ordering::SeqCst);
    let stats = service.stop().await;
    assert_eq!((calls, stats.failed, stats.skipped), (3, 2, 0), "{stats:?}");
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM effects").await, 1, "the failed attempts' effects rolled back");
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM events_inbox").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_handler_error_rolls_back_effect_and_mark_and_the_retry_runs() {
    a_handler_error_rolls_back_effect_and_mark_and_the_retry_runs::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_handler_error_rolls_back_effect_and_mark_and_the_retry_runs() {
    a_handler_error_rolls_back_effect_and_mark_and_the_retry_runs::<Postgres>().await;
}

/// OrderService handles `CreateOrderCommand` in the inbox and enqueues `OrderCreatedEvent` in the
/// same transaction: the first attempt fails after enqueueing (rolled back, never published), the
/// second commits; the one event goes out through the relay, caused by the command.
async fn what_a_handler_enqueues_goes_out_once_with_its_causation<DB: TestDb>() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).poll_interval(Duration::from_millis(20)).start().unwrap();
    let inbox = Inbox::new(&outbox, pool.clone(), "OrderService");
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let router = Router::new().on(inbox.handler(move |cmd: Inboxed<DB, CreateOrderCommand>| {
        let calls = counted.clone();
        async move {
            let items = cmd
                .payload()
                .items
                .iter()
                .map(|i| order_created_schema::latest::OrderItem { item_id: i.item_id.clone(), quantity: i.quantity, price: i.price })
                .collect();
            let payload = OrderCreatedEventPayload {
                order_id: "ORD12345".into(),
                customer_id: cmd.payload().customer_id.clone(),
                items,
                total_amount: 200.0,
                currency: None,
            };
            let created = OrderCreatedEvent::caused_by(cmd.message(), payload).map_err(|e| e.to_string())?;
            DB::insert_effect(&mut **cmd.transaction().await, "ORD12345").await.map_err(|e| e.to_string())?;
            cmd.enqueue(&created).await.map_err(|e| e.to_string())?;
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err("the first attempt fails after enqueueing".to_string());
            }
            Ok(())
        }
    }));
    let consumer = broker
        .consumer("OrderService")
        .commands("commands.CreateOrderCommand")
        .retry_policy(RetryPolicy::new(3, Duration::from_millis(100), Duration::from_millis(500)))
        .build()
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    let payload = CreateOrderCommandPayload {
        customer_id: "CUST67890".into(),
        items: vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
    };
    let command = CreateOrderCommand::new(payload, Metadata::new("user123", "OrderManagementSystem")).unwrap();
    broker.publisher().publish_command(&command).await.unwrap();

    common::wait_until("the event is published", Duration::from_secs(60), || async {
        inbox.stats().handled == 1 && outbox.backlog(&pool).await.unwrap().pending == 0 && common::stored(&broker).await == 1
    })
    .await;
    let _ = stop.send(());
    task.await.unwrap();
    relay.shutdown().await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let events = common::read_events(&broker).await;
    assert_eq!(events.len(), 1, "the rolled-back attempt's event never went out");
    let (_, body, headers) = &events[0];
    assert_eq!(body["eventName"], "OrderCreatedEvent");
    assert_eq!(body["causationId"], command.command_id().to_string());
    assert_eq!(body["correlationId"], command.correlation_id().to_string());
    assert_eq!(headers.get("Events-Causation-Id").unwrap().as_str(), command.command_id().to_string());
    assert_eq!(DB::count(&pool, "SELECT COUNT(*) FROM effects").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_what_a_handler_enqueues_goes_out_once_with_its_causation() {
    what_a_handler_enqueues_goes_out_once_with_its_causation::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_what_a_handler_enqueues_goes_out_once_with_its_causation() {
    what_a_handler_enqueues_goes_out_once_with_its_causation::<Postgres>().await;
}

/// Records past their retention are deleted, this consumer's only; newer ones stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_records_past_their_retention_are_purged() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Sqlite::open().await;
    broker.publisher().publish(&stock("ITEM-1", 1)).await.unwrap();
    let service = service::<Sqlite>(&broker, &pool, 0).await;
    service.wait_for("handled", |s| s.handled == 1).await;
    Sqlite::execute(&pool, "INSERT INTO events_inbox VALUES ('PaymentService', 'x', 'InventoryUpdatedIntegrationEvent', 0)").await;
    assert_eq!(service.inbox.purge(Duration::from_secs(3600)).await.unwrap(), 0, "an hour has not passed");
    assert_eq!(service.inbox.purge(Duration::ZERO).await.unwrap(), 1);
    let left = Sqlite::count(&pool, "SELECT COUNT(*) FROM events_inbox WHERE consumer = 'PaymentService'").await;
    assert_eq!(left, 1, "another consumer's records are its own to purge");
    service.stop().await;
}

/// A handler that swallows a failed statement has left a PostgreSQL transaction aborted, whose
/// COMMIT rolls back without an error: the delivery is failed and retried, not acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_handler_that_swallowed_a_failed_statement_is_retried_not_acknowledged() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Postgres::open().await;
    let inbox = Inbox::new(&Outbox::<Postgres>::default(), pool.clone(), "OrderService");
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let router = Router::new().on(inbox.handler(move |e: Inboxed<Postgres, InventoryUpdatedIntegrationEvent>| {
        let calls = counted.clone();
        async move {
            let id = e.event_id().to_string();
            Postgres::insert_effect(&mut **e.transaction().await, &id).await.map_err(|e| e.to_string())?;
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                // The same key again: refused, and the refusal ignored.
                let _ = Postgres::insert_effect(&mut **e.transaction().await, &id).await;
            }
            Ok::<_, String>(())
        }
    }));
    let consumer = broker
        .consumer("OrderService")
        .retry_policy(RetryPolicy::new(3, Duration::from_millis(100), Duration::from_millis(500)))
        .build()
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    broker.publisher().publish(&stock("ITEM-1", 1)).await.unwrap();
    common::wait_until("the retry is handled", Duration::from_secs(60), || {
        let handled = inbox.stats().handled == 1;
        async move { handled }
    })
    .await;
    let _ = stop.send(());
    task.await.unwrap();
    let stats = inbox.stats();
    assert_eq!((calls.load(Ordering::SeqCst), stats.failed, stats.handled), (2, 1, 1), "{stats:?}");
    assert_eq!(Postgres::count(&pool, "SELECT COUNT(*) FROM effects").await, 1);
    assert_eq!(Postgres::count(&pool, "SELECT COUNT(*) FROM events_inbox").await, 1);
}

/// Enqueueing while holding the transaction's guard would wait for ever: refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueueing_while_holding_the_transaction_is_refused() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Sqlite::open().await;
    let inbox = Inbox::new(&Outbox::<Sqlite>::default(), pool.clone(), "OrderService");
    let seen: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let saw = seen.clone();
    let router = Router::new().on(inbox.handler(move |e: Inboxed<Sqlite, InventoryUpdatedIntegrationEvent>| {
        let saw = saw.clone();
        async move {
            let held = e.transaction().await;
            let err = e.enqueue(&stock("ITEM-2", 1)).await.unwrap_err();
            drop(held);
            assert_eq!(err.kind(), events_outbox::ErrorKind::TransactionHeld);
            *saw.lock().unwrap() = Some(err.to_string());
            Ok::<_, String>(())
        }
    }));
    let consumer = broker.consumer("OrderService").build().await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    broker.publisher().publish(&stock("ITEM-1", 1)).await.unwrap();
    common::wait_until("handled", Duration::from_secs(60), || {
        let handled = inbox.stats().handled == 1;
        async move { handled }
    })
    .await;
    let _ = stop.send(());
    task.await.unwrap();
    let text = seen.lock().unwrap().clone().unwrap();
    assert!(text.starts_with("the handler holds its transaction's guard"), "{text}");
}
