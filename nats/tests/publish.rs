//! Publishing against a real server: subjects and headers, acknowledgements, duplicates, an
//! unreachable broker, and the setup that guards them.

mod common;

use std::time::Duration;

use events_nats::{BrokerConfig, PublishErrorKind, SetupErrorKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_goes_to_its_subject_with_its_headers_and_body() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let event = common::inventory_event("ITEM001", 90).with_tag("urgent");
    let published = broker.publisher().publish(&event).await.unwrap();
    assert_eq!((published.stream.as_str(), published.duplicate, published.attempts), ("EVENTS", false, 1));

    let stored = common::stream_messages(&broker, "EVENTS", "events.>").await;
    assert_eq!(stored.len(), 1);
    let m = &stored[0];
    assert_eq!(m.subject.as_str(), "events.integration.InventoryUpdatedIntegrationEvent");
    assert_eq!(m.info().unwrap().stream_sequence, published.sequence);
    assert_eq!(&m.payload[..], event.to_json().as_bytes(), "the body is exactly to_json");
    let h = |name: &str| m.headers.as_ref().unwrap().get(name).map(|v| v.as_str().to_string());
    assert_eq!(h("Nats-Msg-Id"), Some(event.event_id().to_string()));
    assert_eq!(h("Content-Type").as_deref(), Some("application/json"));
    assert_eq!(h("Events-Kind").as_deref(), Some("event"));
    assert_eq!(h("Events-Name").as_deref(), Some("InventoryUpdatedIntegrationEvent"));
    assert_eq!(h("Events-Event-Type").as_deref(), Some("integration"));
    assert_eq!(h("Events-Schema-Id").as_deref(), Some("inventoryUpdatedSchema"));
    assert_eq!(h("Events-Schema-Version").as_deref(), Some("1.0"));
    assert_eq!(h("Events-Correlation-Id"), Some(event.correlation_id().to_string()));
    assert_eq!(h("Events-Causation-Id"), None, "an event that starts a process has no cause");
    let tags: Vec<&str> = m.headers.as_ref().unwrap().get_all("Events-Tag").map(|v| v.as_str()).collect();
    assert_eq!(tags, ["inventory", "update", "integration", "urgent"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_goes_to_its_subject_with_its_id_and_cause() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let create = common::create_order();
    let event = common::inventory_event("ITEM001", 1);
    let confirm = events::send_order_confirmation_schema::SendOrderConfirmationCommand::caused_by(
        &event,
        events::send_order_confirmation_schema::SendOrderConfirmationCommandPayload {
            order_id: "ORD1".into(),
            customer_id: "CUST1".into(),
        },
    )
    .unwrap();
    broker.publisher().publish_command(&create).await.unwrap();
    broker.publisher().publish_command(&confirm).await.unwrap();
    let stored = common::stream_messages(&broker, "COMMANDS", "commands.>").await;
    let subjects: Vec<&str> = stored.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["commands.CreateOrderCommand", "commands.SendOrderConfirmationCommand"]);
    let h = |i: usize, name: &str| stored[i].headers.as_ref().unwrap().get(name).map(|v| v.as_str().to_string());
    assert_eq!(h(0, "Nats-Msg-Id"), Some(create.command_id().to_string()));
    assert_eq!(h(0, "Events-Kind").as_deref(), Some("command"));
    assert_eq!(h(0, "Events-Event-Type"), None);
    assert_eq!(h(1, "Events-Causation-Id"), Some(event.event_id().to_string()));
    assert_eq!(h(1, "Events-Correlation-Id"), Some(event.correlation_id().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_published_twice_is_stored_once_and_reported_as_a_duplicate() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let event = common::inventory_event("ITEM001", 90);
    let first = broker.publisher().publish(&event).await.unwrap();
    let second = broker.publisher().publish(&event).await.unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate, "a second publish within the window is a duplicate, not an error");
    assert_eq!(second.sequence, first.sequence);
    assert_eq!(common::stream_messages(&broker, "EVENTS", "events.>").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_while_the_server_is_down_is_retried_and_stored_once_it_is_back() {
    let mut server = common::server();
    let config = BrokerConfig::default()
        .publish_deadline(Duration::from_secs(30))
        .publish_attempt_timeout(Duration::from_millis(500));
    let broker = common::broker_with(&server, config).await;
    let publisher = broker.publisher();
    server.kill();
    let event = common::inventory_event("ITEM001", 90);
    let publishing = tokio::spawn({
        let (publisher, event) = (publisher.clone(), event.clone());
        async move { publisher.publish(&event).await }
    });
    common::wait_until("the publisher has retried twice", Duration::from_secs(20), || {
        let n = publisher.retried_attempts();
        async move { n >= 2 }
    })
    .await;
    server.restart().unwrap();
    let published = publishing.await.unwrap().expect("stored once the server is back");
    assert!(published.attempts >= 3, "{published:?}");
    // However many attempts reached the server, one message is stored.
    let stored = common::stream_messages(&broker, "EVENTS", "events.>").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(&stored[0].payload[..], event.to_json().as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_that_outlives_its_deadline_hands_the_message_back() {
    let mut server = common::server();
    let config = BrokerConfig::default()
        .publish_deadline(Duration::from_secs(2))
        .publish_attempt_timeout(Duration::from_millis(300));
    let broker = common::broker_with(&server, config).await;
    server.kill();
    let event = common::inventory_event("ITEM001", 90);
    let err = broker.publisher().publish(&event).await.unwrap_err();
    assert_eq!(err.kind(), PublishErrorKind::Unavailable);
    assert!(err.attempts >= 2, "{err}");
    assert!(
        err.to_string()
            .starts_with("events.integration.InventoryUpdatedIntegrationEvent: InventoryUpdatedIntegrationEvent "),
        "{err}"
    );
    let message = err.into_message();
    assert_eq!(message.msg_id, event.event_id().to_string());
    assert_eq!(&message.body[..], event.to_json().as_bytes());

    // Kept, and published again once the server is back: stored once. (The client may also have
    // delivered one of the unacknowledged attempts after reconnecting; the id makes that the same
    // message.)
    server.restart().unwrap();
    broker.publisher().publish_outgoing(message).await.unwrap();
    let stored = common::stream_messages(&broker, "EVENTS", "events.>").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(&stored[0].payload[..], event.to_json().as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_refuses_a_publish_deadline_not_shorter_than_the_duplicate_window() {
    let server = common::server();
    let client = events_nats::connect(&server.url()).await.unwrap();
    let config =
        BrokerConfig::default().duplicate_window(Duration::from_secs(30)).publish_deadline(Duration::from_secs(30));
    let err = events_nats::Broker::setup(client.clone(), config).await.unwrap_err();
    assert_eq!(err.kind(), SetupErrorKind::Config);
    assert!(err.to_string().contains("publish_deadline (30s) must be shorter than duplicate_window (30s)"), "{err}");
    // Nothing was created.
    let js = async_nats::jetstream::new(client);
    assert!(js.get_stream("EVENTS").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_refuses_an_existing_work_queue_stream() {
    let server = common::server();
    let client = events_nats::connect(&server.url()).await.unwrap();
    let js = async_nats::jetstream::new(client.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "EVENTS".into(),
        subjects: vec!["events.>".into()],
        retention: async_nats::jetstream::stream::RetentionPolicy::WorkQueue,
        ..Default::default()
    })
    .await
    .unwrap();
    let err = events_nats::Broker::setup(client, BrokerConfig::default()).await.unwrap_err();
    assert_eq!(err.kind(), SetupErrorKind::Conflict);
    assert!(err.to_string().starts_with("stream EVENTS exists with retention WorkQueue"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_brings_an_existing_streams_limits_to_the_configuration() {
    let server = common::server();
    common::broker(&server).await;
    let config = BrokerConfig::default().max_age(Duration::from_secs(3600)).max_bytes(1 << 20);
    let broker = common::broker_with(&server, config).await;
    let info = broker.jetstream().get_stream("EVENTS").await.unwrap().get_info().await.unwrap();
    assert_eq!((info.config.max_age, info.config.max_bytes), (Duration::from_secs(3600), 1 << 20));
    assert_eq!(info.config.storage, async_nats::jetstream::stream::StorageType::File);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_nothing_names_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("nats://127.0.0.1:{port}");
    let err = events_nats::connect(&url).await.unwrap_err();
    assert!(err.to_string().starts_with(&format!("cannot connect to {url}: ")), "{err}");
}
