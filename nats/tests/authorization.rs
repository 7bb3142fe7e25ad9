//! The registry's access rules, enforced by a real `nats-server` started with the authorization
//! the registry generates (one user per service, bcrypt hashes): one test per rule.

mod common;

use events::Contracts;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy};
use events_nats::{Broker, BrokerConfig, ConsumerErrorKind, LocalServer, PublishErrorKind, Router, Secrets};
use futures_util::StreamExt;

const STOCK: &str = "events.integration.InventoryUpdatedIntegrationEvent";

/// The generated configuration and the credentials folder, made once per test binary (bcrypt
/// is slow on purpose); each test starts a server of its own with it.
fn secured() -> &'static (PathBuf, String) {
    static MADE: OnceLock<(PathBuf, String)> = OnceLock::new();
    MADE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("credentials-{}", std::process::id()));
        let secrets = Secrets::open(&dir).unwrap();
        let policy = events_nats::access_policy::<events::Contracts>();
        let hashes: std::collections::BTreeMap<String, String> =
            policy.users().iter().map(|u| (u.to_string(), secrets.ensure(u).unwrap().hash())).collect();
        (dir, policy.render(|u| hashes[u].clone()))
    })
}

fn server() -> LocalServer {
    LocalServer::start_with_authorization(&secured().1).unwrap_or_else(|e| panic!("{e}"))
}

async fn client_as(server: &LocalServer, service: &str) -> async_nats::Client {
    let credentials = Secrets::open(&secured().0).unwrap().get(service).unwrap();
    events_nats::connect_as(&server.url(), &credentials).await.unwrap()
}

/// A service's broker; the operator's first, which creates the streams.
async fn broker_as(server: &LocalServer, service: &str) -> Broker {
    let config = BrokerConfig::default().service(service).publish_deadline(Duration::from_secs(10));
    Broker::setup(client_as(server, service).await, config).await.unwrap_or_else(|e| panic!("{service}: {e}"))
}

/// Waits until the server logged a violation by `user` on `subject`.
async fn violation_logged(server: &LocalServer, kind: &str, user: &str, subject: &str) {
    let line = format!("{kind} Violation - User \"{user}\", Subject \"{subject}\"");
    common::wait_until(&format!("the server logs `{line}`"), Duration::from_secs(10), || {
        let found = server.log().contains(&line);
        async move { found }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_publishes_the_events_it_is_the_source_of() {
    let server = server();
    let operator = broker_as(&server, "Operator").await;
    let inventory = broker_as(&server, "InventoryService").await;
    let published = inventory.publisher().publish(&common::inventory_event("ITEM001", 5)).await.unwrap();
    assert_eq!((published.stream.as_str(), published.attempts), ("EVENTS", 1));
    assert_eq!(common::stream_messages(&operator, "EVENTS", STOCK).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_an_event_of_another_source_is_refused_by_the_broker_and_reported_as_forbidden() {
    let server = server();
    let operator = broker_as(&server, "Operator").await;
    let payment = broker_as(&server, "PaymentService").await;
    let started = std::time::Instant::now();
    let err = payment.publisher().publish(&common::inventory_event("ITEM001", 5)).await.unwrap_err();
    assert_eq!(err.kind(), PublishErrorKind::Forbidden, "{err}");
    assert!(err.to_string().contains(STOCK), "the error names the subject: {err}");
    assert_eq!(err.attempts, 1, "refused for good, not retried");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "reported at once, not after the deadline: {:?}",
        started.elapsed()
    );
    violation_logged(&server, "Publish", "PaymentService", STOCK).await;
    assert!(common::stream_messages(&operator, "EVENTS", STOCK).await.is_empty(), "nothing stored");
    // A command it does not send, likewise.
    let err = payment.publisher().publish_command(&common::create_order()).await.unwrap_err();
    assert_eq!(err.kind(), PublishErrorKind::Forbidden, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_consumes_the_events_it_may_read() {
    let server = server();
    let _operator = broker_as(&server, "Operator").await;
    let inventory = broker_as(&server, "InventoryService").await;
    let payment = broker_as(&server, "PaymentService").await;
    let consumer = payment.consumer("PaymentService").events(STOCK).build().await.unwrap();
    let calls: common::Calls = Default::default();
    let running = common::run(consumer, common::counting(calls.clone()));
    let event = common::inventory_event("ITEM001", 5);
    inventory.publisher().publish(&event).await.unwrap();
    running.wait_for("the event is processed", Duration::from_secs(20), |s| s.processed == 1).await;
    assert_eq!(calls.lock().unwrap().get(&event.event_id()), Some(&1));
    running.stop().await;
    // A second consumer of its own on the same stream, named after the contract, is allowed too.
    payment
        .consumer("PaymentService-InventoryUpdatedIntegrationEvent")
        .events(STOCK)
        .build::<Contracts>()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transport_refuses_a_consumer_the_registry_does_not_allow_before_the_broker_does() {
    let server = server();
    let _operator = broker_as(&server, "Operator").await;
    let notification = broker_as(&server, "NotificationService").await;
    for (name, filter, fragment) in [
        ("NotificationService", STOCK, "NotificationService may not read InventoryUpdatedIntegrationEvent: its readers are OrderService, PaymentService"),
        ("NotificationService", "events.domain.>", "is a wildcard"),
        ("Mailer", "events.domain.OrderCreatedEvent", "is named `NotificationService` or `NotificationService-OrderCreatedEvent`"),
        ("NotificationService", "events.domain.NoSuchEvent", "no contract of the registry is published on"),
    ] {
        let err = notification.consumer(name).events(filter).build::<Contracts>().await.err().unwrap_or_else(|| panic!("{name} {filter}"));
        assert_eq!(err.kind(), ConsumerErrorKind::Forbidden, "{err}");
        assert!(err.to_string().contains(fragment), "{err}");
    }
    assert!(!server.log().contains("Violation"), "the broker was never asked:\n{}", server.log());
    notification
        .consumer("NotificationService")
        .events("events.domain.OrderCreatedEvent")
        .build::<Contracts>()
        .await
        .unwrap();
}

/// Whatever consumer it creates, through whatever subject, a service that may not read an event
/// never receives it: the broker refuses each way in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_is_not_a_reader_cannot_receive_the_event_by_any_consumer_or_subscription() {
    let server = server();
    let operator = broker_as(&server, "Operator").await;
    let inventory = broker_as(&server, "InventoryService").await;
    inventory.publisher().publish(&common::inventory_event("ITEM001", 5)).await.unwrap();
    let client = client_as(&server, "NotificationService").await;
    let mut js = async_nats::jetstream::new(client.clone());
    js.set_timeout(Duration::from_secs(2));
    let stream = js.get_stream("EVENTS").await.unwrap();
    let attempts: Vec<(&str, pull::Config)> = vec![
        (
            "its own name, the event's subject",
            pull::Config {
                durable_name: Some("NotificationService".into()),
                filter_subject: STOCK.into(),
                ..Default::default()
            },
        ),
        (
            "a wildcard",
            pull::Config {
                durable_name: Some("NotificationService".into()),
                filter_subject: "events.>".into(),
                ..Default::default()
            },
        ),
        (
            "one-token wildcard",
            pull::Config {
                durable_name: Some("NotificationService".into()),
                filter_subject: "events.integration.*".into(),
                ..Default::default()
            },
        ),
        ("no filter", pull::Config { durable_name: Some("NotificationService".into()), ..Default::default() }),
        (
            "another service's name",
            pull::Config {
                durable_name: Some("PaymentService".into()),
                filter_subject: STOCK.into(),
                ..Default::default()
            },
        ),
        ("ephemeral", pull::Config { filter_subject: STOCK.into(), ack_policy: AckPolicy::None, ..Default::default() }),
    ];
    for (what, config) in attempts {
        assert!(stream.create_consumer(config).await.is_err(), "{what}: the consumer was created");
    }
    violation_logged(
        &server,
        "Publish",
        "NotificationService",
        &format!("$JS.API.CONSUMER.CREATE.EVENTS.NotificationService.{STOCK}"),
    )
    .await;
    violation_logged(&server, "Publish", "NotificationService", "$JS.API.CONSUMER.CREATE.EVENTS").await;
    // Reading the stream by sequence, or directly.
    assert!(stream.get_raw_message(1).await.is_err(), "read by sequence");
    assert!(stream.direct_get(1).await.is_err(), "direct get");
    violation_logged(&server, "Publish", "NotificationService", "$JS.API.STREAM.MSG.GET.EVENTS").await;
    // Pulling through the consumer of a service that may read it.
    let payment = broker_as(&server, "PaymentService").await;
    payment.consumer("PaymentService").events(STOCK).build::<Contracts>().await.unwrap();
    let theirs: Result<async_nats::jetstream::consumer::PullConsumer, _> = stream.get_consumer("PaymentService").await;
    assert!(theirs.is_err(), "another service's consumer");
    client.publish("$JS.API.CONSUMER.MSG.NEXT.EVENTS.PaymentService", "1".into()).await.unwrap();
    violation_logged(&server, "Publish", "NotificationService", "$JS.API.CONSUMER.MSG.NEXT.EVENTS.PaymentService")
        .await;
    // A plain subscription to the events, or to another service's inbox.
    let mut sub = client.subscribe("events.>").await.unwrap();
    let _inbox = client.subscribe("_INBOX_PaymentService.>").await.unwrap();
    inventory.publisher().publish(&common::inventory_event("ITEM002", 6)).await.unwrap();
    violation_logged(&server, "Subscription", "NotificationService", "events.>").await;
    violation_logged(&server, "Subscription", "NotificationService", "_INBOX_PaymentService.>").await;
    client.flush().await.unwrap();
    assert!(futures_util::FutureExt::now_or_never(sub.next()).is_none(), "a message reached the refused subscription");
    // The events are there, for those who may read them.
    assert_eq!(common::stream_messages(&operator, "EVENTS", STOCK).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_read_by_the_service_whose_consumer_failed_them_and_by_operators_only() {
    let server = server();
    let operator = broker_as(&server, "Operator").await;
    let inventory = broker_as(&server, "InventoryService").await;
    let payment = broker_as(&server, "PaymentService").await;
    let consumer = payment.consumer("PaymentService").events(STOCK).build::<Contracts>().await.unwrap();
    let running = common::run(consumer, Router::new());
    // A payload that breaks its schema, published by the event's source: dead-lettered at once.
    let mut broken: serde_json::Value = serde_json::from_str(&common::inventory_event("ITEM001", 5).to_json()).unwrap();
    broken["payload"]["newQuantity"] = (-1).into();
    inventory.jetstream().publish(STOCK, broken.to_string().into()).await.unwrap().await.unwrap();
    running.wait_for("the message is dead-lettered", Duration::from_secs(20), |s| s.poison == 1).await;
    running.stop().await;
    // PaymentService reads its own.
    let mut reader = payment.dead_letter_reader("PaymentService").await.unwrap();
    let pending = reader.info().await.unwrap().num_pending;
    assert_eq!(pending, 1);
    // OrderService, a reader of the same event, cannot read PaymentService's dead letters.
    let order = broker_as(&server, "OrderService").await;
    assert!(order.dead_letter_reader("PaymentService").await.is_err());
    violation_logged(
        &server,
        "Publish",
        "OrderService",
        "$JS.API.CONSUMER.CREATE.DEAD_LETTERS.PaymentService.deadletters.PaymentService.>",
    )
    .await;
    let mut js = async_nats::jetstream::new(order.client().clone());
    js.set_timeout(Duration::from_secs(2));
    let stream = js.get_stream("DEAD_LETTERS").await.unwrap();
    let everything =
        pull::Config { filter_subject: "deadletters.>".into(), ack_policy: AckPolicy::None, ..Default::default() };
    assert!(stream.create_consumer(everything).await.is_err(), "all dead letters");
    assert!(stream.get_raw_message(1).await.is_err(), "a dead letter by sequence");
    // Operators read every dead letter.
    assert_eq!(common::dead_letters(&operator).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_holds_no_secret_and_a_wrong_password_is_refused() {
    let (dir, config) = secured();
    let secrets = Secrets::open(dir).unwrap();
    for user in events_nats::access_policy::<events::Contracts>().users() {
        let credentials = secrets.get(user).unwrap();
        assert!(!config.contains(credentials.password()), "{user}'s password is in the configuration");
        assert!(config.contains(&format!("user: \"{user}\"")));
    }
    let server = server();
    let wrong = events_nats::Credentials::new("PaymentService", "not-the-password");
    assert!(events_nats::connect_as(&server.url(), &wrong).await.is_err());
    let stranger = events_nats::Credentials::new("Stranger", "whatever");
    assert!(events_nats::connect_as(&server.url(), &stranger).await.is_err());
    assert!(events_nats::connect(&server.url()).await.is_err(), "no credentials at all");
}
