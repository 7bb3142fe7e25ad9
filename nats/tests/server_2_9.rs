//! The pinned client against the server these machines ship (2.9): every JetStream feature the
//! transport relies on, used directly.

mod common;

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, stream, AckKind};
use futures_util::StreamExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_client_works_with_the_installed_server() {
    let server = common::server();
    let client = events_nats::connect(&server.url()).await.unwrap();
    let version = client.server_info().version;
    let (major, minor) = {
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    assert!((major, minor) >= (2, 9), "nats-server {version} is older than 2.9");
    let js = jetstream::new(client.clone());

    // A Limits stream on file storage with a duplicate window.
    js.create_stream(stream::Config {
        name: "PROBE".into(),
        subjects: vec!["probe.>".into()],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(60),
        ..Default::default()
    })
    .await
    .unwrap();

    // Nats-Msg-Id de-duplication.
    let publish = |id: &'static str| {
        let js = js.clone();
        async move {
            let msg = jetstream::message::PublishMessage::build().payload("x".into()).message_id(id);
            js.send_publish("probe.a", msg).await.unwrap().await.unwrap()
        }
    };
    let first = publish("one").await;
    let again = publish("one").await;
    assert!(!first.duplicate && again.duplicate && again.sequence == first.sequence);
    publish("two").await;
    publish("three").await;

    // A pull consumer with explicit ack and max_deliver; nak with a delay; term.
    let consumer = js
        .get_stream("PROBE")
        .await
        .unwrap()
        .create_consumer(pull::Config {
            durable_name: Some("probe".into()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_deliver: 3,
            ack_wait: Duration::from_secs(30),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let m1 = messages.next().await.unwrap().unwrap();
    m1.ack_with(AckKind::Nak(Some(Duration::from_millis(300)))).await.unwrap();
    let naked_at = Instant::now();
    let m2 = messages.next().await.unwrap().unwrap();
    m2.ack_with(AckKind::Term).await.unwrap();
    let m3 = messages.next().await.unwrap().unwrap();
    m3.double_ack().await.unwrap();
    let again = messages.next().await.unwrap().unwrap();
    assert!(naked_at.elapsed() >= Duration::from_millis(300), "the nak delay was not honoured");
    assert_eq!(again.info().unwrap().stream_sequence, m1.info().unwrap().stream_sequence);
    assert_eq!(again.info().unwrap().delivered, 2);
    again.double_ack().await.unwrap();

    // A key-value bucket as the transport makes one (the client's own `create_key_value` cannot
    // read a 2.9 server's account info): create (only if absent), put, get, purge.
    let broker = events_nats::Broker::setup(client, events_nats::BrokerConfig::default()).await.unwrap();
    let store = broker.jetstream().get_key_value(events_nats::subject::FAILURES_BUCKET).await.unwrap();
    store.create("k", "v1".into()).await.unwrap();
    assert!(store.create("k", "v2".into()).await.is_err(), "create must refuse an existing key");
    store.put("k", "v3".into()).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap(), "v3");
    store.purge("k").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
    // An entry expires after the bucket's max age; the stream says so.
    let info = broker.jetstream().get_stream("KV_EVENTS_FAILURES").await.unwrap().get_info().await.unwrap();
    assert_eq!(info.config.max_messages_per_subject, 1);
}
