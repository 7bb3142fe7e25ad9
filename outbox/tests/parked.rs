//! A row the broker refuses for good, under the registry's access rules enforced by a real server:
//! parked with its reason, its key held behind it, every other key flowing; an operator lists,
//! retries and discards it.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{stock, TestDb};
use events::create_order_schema::{latest::OrderItem, CreateOrderCommand, CreateOrderCommandPayload};
use events::Metadata;
use events_nats::{Broker, BrokerConfig, LocalServer, Secrets};
use events_outbox::Outbox;
use sqlx::Sqlite;

async fn broker_as(server: &LocalServer, dir: &PathBuf, service: &str) -> Broker {
    let credentials = Secrets::open(dir).unwrap().get(service).unwrap();
    let client = events_nats::connect_as(&server.url(), &credentials).await.unwrap();
    let config = BrokerConfig::default().service(service).publish_deadline(Duration::from_secs(10));
    Broker::setup(client, config).await.unwrap_or_else(|e| panic!("{service}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_publish_is_parked_its_key_held_and_the_rest_flows() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("outbox-credentials-{}", std::process::id()));
    let secrets = Secrets::open(&dir).unwrap();
    let policy = events_nats::access_policy::<events::Contracts>();
    let hashes: std::collections::BTreeMap<String, String> =
        policy.users().iter().map(|u| (u.to_string(), secrets.ensure(u).unwrap().hash())).collect();
    let server = LocalServer::start_with_authorization(&policy.render(|u| hashes[u].clone())).unwrap();
    let operator = broker_as(&server, &dir, "Operator").await; // sets the streams up
    let inventory = broker_as(&server, &dir, "InventoryService").await;

    let (pool, _keep) = Sqlite::open().await;
    let outbox = Outbox::<Sqlite>::default();
    // InventoryService may publish its stock events, not OrderManagementSystem's command.
    let payload = CreateOrderCommandPayload {
        customer_id: "CUST67890".into(),
        items: vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
    };
    let forbidden = CreateOrderCommand::new(payload, Metadata::new("user123", "InventoryService")).unwrap();
    let (a1, a2, b1, b2) = (stock("A", 1), stock("A", 2), stock("B", 1), stock("B", 2));
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue_keyed(&mut tx, &a1, "A").await.unwrap();
    outbox.enqueue_keyed(&mut tx, &forbidden, "A").await.unwrap();
    outbox.enqueue_keyed(&mut tx, &a2, "A").await.unwrap();
    outbox.enqueue_keyed(&mut tx, &b1, "B").await.unwrap();
    outbox.enqueue_keyed(&mut tx, &b2, "B").await.unwrap();
    tx.commit().await.unwrap();

    let relay = outbox.relay(pool.clone(), inventory.clone()).poll_interval(Duration::from_millis(20)).start().unwrap();
    common::wait_until("the refused row is parked and the rest flows", Duration::from_secs(60), || async {
        let b = outbox.backlog(&pool).await.unwrap();
        b.parked == 1 && b.pending == 1 && common::stored(&operator).await == 3
    })
    .await;
    let backlog = outbox.backlog(&pool).await.unwrap();
    assert_eq!((backlog.pending, backlog.held, backlog.parked), (1, 1, 1), "A2 waits behind the parked row: {backlog:?}");
    let ids: Vec<String> = common::read_events(&operator).await.into_iter().map(|(id, _, _)| id).collect();
    let id = |e: &events::inventory_updated_schema::InventoryUpdatedIntegrationEvent| e.event_id().to_string();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], id(&a1), "A1, before the refused row, went out: {ids:?}");
    assert!(ids.contains(&id(&b1)) && ids.contains(&id(&b2)) && !ids.contains(&id(&a2)), "{ids:?}");

    let parked = outbox.parked(&pool).await.unwrap();
    assert_eq!(parked.len(), 1);
    let row = &parked[0];
    assert_eq!((row.msg_id.as_str(), row.name.as_str(), row.subject.as_str()), (forbidden.command_id().to_string().as_str(), "CreateOrderCommand", "commands.CreateOrderCommand"));
    assert_eq!((row.ordering_key.as_str(), row.attempts), ("A", 1));
    assert!(row.reason.contains("InventoryService may not publish it"), "{}", row.reason);

    // Retried while still forbidden: parked again, one attempt more.
    assert!(outbox.retry_parked(&pool, row.seq).await.unwrap());
    common::wait_until("parked again", Duration::from_secs(60), || async {
        outbox.parked(&pool).await.unwrap().first().is_some_and(|p| p.attempts == 2)
    })
    .await;
    // Discarded: the row it held goes out.
    assert!(outbox.discard_parked(&pool, row.seq).await.unwrap());
    assert!(!outbox.discard_parked(&pool, row.seq).await.unwrap(), "gone");
    common::wait_until("A2 is published", Duration::from_secs(60), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0 && common::stored(&operator).await == 4
    })
    .await;
    let stats = relay.shutdown().await;
    assert_eq!((stats.published, stats.parked), (4, 2), "{stats:?}");
    let last = common::read_events(&operator).await.pop().unwrap();
    assert_eq!(last.0, id(&a2));
}
