//! A service of two registry crates on one broker: OrderService reads the shipped registry's
//! stock events and billing's payments and refunds, each through the typed API of `events-nats`,
//! under the access rules of both registries, which the broker enforces.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use billing_events::issue_refund_schema::{IssueRefundCommand, IssueRefundCommandPayload};
use billing_events::payment_received_schema::{PaymentReceivedEvent, PaymentReceivedEventPayload};
use billing_events::refund_issued_schema::{RefundIssuedEvent, RefundIssuedEventPayload};
use billing_events::shared::money::Money;
use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
use events::{CommandSet, EventSet, Registry};
use events_nats::authorization::AccessErrorKind;
use events_nats::{
    Broker, BrokerConfig, ConsumerErrorKind, Delivered, LocalServer, PublishErrorKind, Router, Secrets,
};
use tokio::sync::oneshot;

type Seen = Arc<Mutex<Vec<String>>>;

#[tokio::main]
async fn main() {
    let secrets_dir = tempfile_dir();
    let secrets = Secrets::open(&secrets_dir).unwrap();

    // One broker for both registries: their rules together.
    let policy = events_nats::access_policy::<events::Contracts>()
        .merge(events_nats::access_policy::<billing_events::Contracts>())
        .unwrap();
    let both = policy.clone().merge(events_nats::access_policy::<billing_events::Contracts>()).unwrap_err();
    assert_eq!(both.kind(), AccessErrorKind::Conflict, "{both}");
    let mut hashes = std::collections::BTreeMap::new();
    for user in policy.users() {
        hashes.insert(user.to_string(), secrets.ensure(user).unwrap().hash());
    }
    let server = LocalServer::start_with_authorization(&policy.render(|u| hashes[u].clone())).unwrap();
    let url = server.url();
    let connect = |service: &'static str| {
        let (url, secrets) = (url.clone(), secrets.clone());
        async move {
            let client = events_nats::connect_as(&url, &secrets.get(service).unwrap()).await.unwrap();
            Broker::setup(client, BrokerConfig::default().service(service)).await.unwrap()
        }
    };
    let _operator = connect("Operator").await;
    let order = connect("OrderService").await;
    let billing = connect("BillingService").await;
    let audit = connect("AuditService").await;
    let inventory = connect("InventoryService").await;

    // OrderService: one consumer per contract, of either registry; typed handlers, and billing's
    // `AnyEvent` as the fallback of the refunds consumer.
    let seen: Seen = Arc::default();
    let stock = Router::new().on({
        let seen = seen.clone();
        move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            seen.lock().unwrap().push(format!("stock {} {}", e.payload().item_id, e.payload().new_quantity));
            async { Ok::<_, String>(()) }
        }
    });
    let payments = Router::new().on({
        let seen = seen.clone();
        move |e: Delivered<PaymentReceivedEvent>| {
            let paid = &e.payload().paid;
            seen.lock().unwrap().push(format!("paid {} {} {}", e.payload().order_id, paid.amount, paid.currency));
            async { Ok::<_, String>(()) }
        }
    });
    let refunds = Router::new().on({
        let seen = seen.clone();
        move |e: Delivered<billing_events::AnyEvent>| {
            let line = match e.message() {
                billing_events::AnyEvent::RefundIssuedEventV1_0(r) => format!("refund {}", r.payload().refunded.amount),
                other => format!("unexpected {}", other.event_name()),
            };
            seen.lock().unwrap().push(line);
            async { Ok::<_, String>(()) }
        }
    });
    let mut stops = Vec::new();
    let mut runs = Vec::new();
    macro_rules! run {
        ($name:expr, $filter:expr, $router:expr) => {{
            let consumer = order.consumer($name).events($filter).build().await.unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            stops.push(stop);
            runs.push(tokio::spawn(async move {
                consumer.run($router, async {
                    stopped.await.ok();
                })
                .await
            }));
        }};
    }
    run!("OrderService", "events.integration.InventoryUpdatedIntegrationEvent", stock);
    run!("OrderService-PaymentReceivedEvent", "events.integration.PaymentReceivedEvent", payments);
    run!("OrderService-RefundIssuedEvent", "events.domain.RefundIssuedEvent", refunds);

    // The rules before the broker is asked: AuditService reads refunds, not payments; BillingService
    // is no service of the shipped registry.
    let err = audit.consumer("AuditService").events("events.integration.PaymentReceivedEvent");
    let err = err.build::<billing_events::Contracts>().await.unwrap_err();
    assert_eq!(err.kind(), ConsumerErrorKind::Forbidden, "{err}");
    let err = billing.consumer("BillingService").events("events.integration.InventoryUpdatedIntegrationEvent");
    let err = err.build::<events::Contracts>().await.unwrap_err();
    assert_eq!(err.kind(), ConsumerErrorKind::Config, "{err}");
    assert!(err.to_string().contains("not a service of the registry"), "{err}");

    // Both registries' events on one broker.
    let stock_event = InventoryUpdatedIntegrationEvent::new(
        InventoryUpdatedIntegrationEventPayload { item_id: "ITEM001".into(), new_quantity: 7, warehouse_id: "WH-1".into() },
        events::Metadata::new("stock-job", "InventoryService"),
    )
    .unwrap();
    inventory.publisher().publish(&stock_event).await.unwrap();
    let paid = PaymentReceivedEvent::new(
        PaymentReceivedEventPayload {
            order_id: "ORD1".into(),
            paid: Money { amount: 12.5, currency: "EUR".into() },
            card_number: Some("4111111111111111".to_string().into()),
        },
        billing_events::Metadata::new("checkout", "BillingService"),
    )
    .unwrap();
    billing.publisher().publish(&paid).await.unwrap();
    // The command hands its `Money` to the event it causes: one shared type.
    let refund = IssueRefundCommand::new(
        IssueRefundCommandPayload { order_id: "ORD1".into(), amount: paid.payload().paid.clone() },
        billing_events::Metadata::new("support", "OrderService"),
    )
    .unwrap();
    order.publisher().publish_command(&refund).await.unwrap();
    let refunded = RefundIssuedEvent::caused_by(
        &refund,
        RefundIssuedEventPayload { order_id: "ORD1".into(), refunded: refund.payload().amount.clone() },
    )
    .unwrap();
    billing.publisher().publish(&refunded).await.unwrap();

    // The broker refuses what the rules do not allow: AuditService publishes no payments.
    let err = audit.publisher().publish(&paid).await.unwrap_err();
    assert_eq!(err.kind(), PublishErrorKind::Forbidden, "{err}");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = seen.lock().unwrap().clone();
        if got.len() >= 3 {
            let mut got = got;
            got.sort();
            assert_eq!(got, ["paid ORD1 12.5 EUR", "refund 12.5", "stock ITEM001 7"], "{got:?}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "handled so far: {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for stop in stops {
        stop.send(()).ok();
    }
    for run in runs {
        let stats = run.await.unwrap();
        assert_eq!(stats.dead_lettered, 0, "{stats:?}");
    }

    // CloudEvents and the Confluent framing, with billing's own schema ids.
    let cloud = paid.to_cloud_event();
    assert_eq!(cloud.event_type, "PaymentReceivedEvent");
    let back = billing_events::AnyEvent::from_cloud_event(events::CloudEvent::from_json(cloud.to_json().as_bytes()).unwrap())
        .unwrap();
    assert_eq!(back, billing_events::AnyEvent::from(paid.clone()));
    let framed = paid.to_confluent().unwrap();
    assert_eq!(&framed[1..5], &102u32.to_be_bytes());
    assert_eq!(billing_events::Contracts::schema_id("PaymentReceivedEvent", paid.version()), Some(102));
    assert_eq!(billing_events::AnyEvent::from_confluent(&framed).unwrap(), back);
    let command = billing_events::AnyCommand::from_confluent(&refund.to_confluent().unwrap()).unwrap();
    assert_eq!(command, billing_events::AnyCommand::from(refund.clone()));
    let other = events::AnyEvent::from_confluent(&framed).unwrap_err();
    println!("shipped registry on billing's framing: {other}");
    // The card number is masked in logs.
    assert!(!format!("{paid:?}").contains("4111111111111111"));
    drop(server);
    std::fs::remove_dir_all(secrets_dir).ok();
    println!("over nats ok");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("billing-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
