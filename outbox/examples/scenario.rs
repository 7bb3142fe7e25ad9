//! The specification's scenario, over a real broker:
//!
//! - InventoryService publishes an `InventoryUpdatedIntegrationEvent`;
//! - OrderService and PaymentService, each with a durable consumer of its own, react to it;
//!   PaymentService fails twice and succeeds on the third delivery (retryCount 0, 1, 2);
//! - a malformed message lands in the dead-letter stream, with its reason;
//! - `CreateOrderCommand` → `OrderCreatedEvent` → `SendOrderConfirmationCommand` crosses the
//!   broker, each step published by the service that handled the one before, ids intact;
//! - OrderService handles the command through its inbox: it stores the order and enqueues
//!   `OrderCreatedEvent` in one database transaction, with the command's processed-mark; its
//!   relay publishes the event once that transaction has committed (SQLite in a temporary folder,
//!   or PostgreSQL when `DATABASE_URL` is set);
//! - with the registry's access rules enforced by the broker: every service connects as itself,
//!   reads only what the registry lets it read, and a publish it may not make is refused.
//!
//! ```sh
//! cargo run -p events-outbox --example scenario              # starts a nats-server of its own, secured
//! NATS_URL=nats://127.0.0.1:4222 NATS_CREDENTIALS=/run/secrets/events cargo run -p events-outbox --example scenario
//! DATABASE_URL=postgres://localhost/orders cargo run -p events-outbox --features postgres --example scenario
//! ```
//!
//! Against a server of its own, it writes fresh credentials to a private temporary folder and
//! starts the server with the registry's authorization (`Policy::render`, bcrypt hashes). With
//! `NATS_URL`, `NATS_CREDENTIALS` names the folder of credentials files (`<service>.json`, as
//! `events nats-config --secrets` writes them); without it, it connects without credentials.
//!
//! It exits 0 once every service has handled everything, 1 otherwise.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use events::create_order_schema::{self, CreateOrderCommand, CreateOrderCommandPayload};
use events::inventory_updated_schema::{InventoryUpdatedIntegrationEvent, InventoryUpdatedIntegrationEventPayload};
use events::order_created_schema::{self, OrderCreatedEvent, OrderCreatedEventPayload};
use events::send_order_confirmation_schema::{SendOrderConfirmationCommand, SendOrderConfirmationCommandPayload};
use events::{Jitter, Metadata, RetryPolicy};
use events_nats::{Broker, BrokerConfig, Delivered, LocalServer, PublishErrorKind, Publisher, Router, Secrets};
use events_nats::async_nats;
use events_outbox::{Backend, Inbox, Inboxed, Outbox};
use tokio::sync::watch;

/// What the scenario waits for, one flag each.
#[derive(Debug, Default, Clone, PartialEq)]
struct Progress {
    order_saw_stock: bool,
    payment_saw_stock: bool,
    poison_dead_lettered: u32,
    order_created: bool,
    confirmation_requested: bool,
    confirmation_sent: bool,
}

impl Progress {
    fn done(&self) -> bool {
        self.order_saw_stock
            && self.payment_saw_stock
            && self.poison_dead_lettered == 2
            && self.order_created
            && self.confirmation_requested
            && self.confirmation_sent
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = with_database().await {
        eprintln!("scenario failed: {e}");
        std::process::exit(1);
    }
}

type BoxError = Box<dyn std::error::Error>;

/// OrderService's database: PostgreSQL at `DATABASE_URL`, or SQLite in a temporary folder.
async fn with_database() -> Result<(), BoxError> {
    match std::env::var("DATABASE_URL") {
        #[cfg(feature = "postgres")]
        Ok(url) => run(sqlx::PgPool::connect(&url).await?, "PostgreSQL").await,
        #[cfg(not(feature = "postgres"))]
        Ok(_) => Err("DATABASE_URL names PostgreSQL: run with --features postgres".into()),
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("events-scenario-orders-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let _remove = RemoveOnDrop(dir.clone());
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.join("orders.db"))
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
            run(sqlx::SqlitePool::connect_with(options).await?, "SQLite").await
        }
    }
}

/// The one query of OrderService's own, in each database's terms.
trait Orders: Backend {
    fn create_table(pool: &sqlx::Pool<Self>) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send;
    fn insert<'a>(
        conn: &'a mut Self::Connection,
        order: &'a str,
        customer: &'a str,
        total: f64,
    ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'a;
}

const CREATE_ORDERS: &str =
    "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, total DOUBLE PRECISION NOT NULL)";
const INSERT_ORDER: &str = "INSERT INTO orders (order_id, customer_id, total) VALUES ($1, $2, $3)";

impl Orders for sqlx::Sqlite {
    async fn create_table(pool: &sqlx::Pool<Self>) -> Result<(), sqlx::Error> {
        sqlx::query(CREATE_ORDERS).execute(pool).await.map(drop)
    }
    async fn insert<'a>(conn: &'a mut Self::Connection, order: &'a str, customer: &'a str, total: f64) -> Result<(), sqlx::Error> {
        sqlx::query(INSERT_ORDER).bind(order).bind(customer).bind(total).execute(conn).await.map(drop)
    }
}

#[cfg(feature = "postgres")]
impl Orders for sqlx::Postgres {
    async fn create_table(pool: &sqlx::Pool<Self>) -> Result<(), sqlx::Error> {
        sqlx::query(CREATE_ORDERS).execute(pool).await.map(drop)
    }
    async fn insert<'a>(conn: &'a mut Self::Connection, order: &'a str, customer: &'a str, total: f64) -> Result<(), sqlx::Error> {
        sqlx::query(INSERT_ORDER).bind(order).bind(customer).bind(total).execute(conn).await.map(drop)
    }
}

async fn run<DB: Orders>(pool: sqlx::Pool<DB>, database: &str) -> Result<(), BoxError> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    }
    STARTED.get_or_init(Instant::now);

    // A server of our own, secured with the registry's access rules, unless NATS_URL names one.
    let (_server, url, secrets, _dir) = match std::env::var("NATS_URL") {
        Ok(url) => (None, url, std::env::var_os("NATS_CREDENTIALS").map(Secrets::open).transpose()?, None),
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("events-scenario-credentials-{}", std::process::id()));
            let secrets = Secrets::open(&dir)?;
            let policy = events_nats::access_policy::<events::Contracts>();
            let mut hashes = std::collections::BTreeMap::new();
            for user in policy.users() {
                hashes.insert(user.to_string(), secrets.ensure(user)?.hash());
            }
            let server = LocalServer::start_with_authorization(&policy.render(|u| hashes[u].clone()))?;
            let url = server.url();
            (Some(server), url, Some(secrets), Some(RemoveOnDrop(dir)))
        }
    };
    let connect = |service: &'static str| {
        let (url, secrets) = (url.clone(), secrets.clone());
        async move {
            let client = match &secrets {
                Some(s) => events_nats::connect_as(&url, &s.get(service)?).await?,
                None => events_nats::connect(&url).await?,
            };
            let config = BrokerConfig::default().service(service);
            Ok::<_, Box<dyn std::error::Error>>(Broker::setup(client, config).await?)
        }
    };
    let access = if secrets.is_some() { "one user per service, the registry's access rules" } else { "no credentials" };
    say("broker", format!("{url}, streams EVENTS, COMMANDS and DEAD_LETTERS; {access}"));
    // The operator sets up the streams and watches the dead letters.
    let broker = connect("Operator").await?;
    let services = Services {
        order: connect("OrderService").await?,
        payment: connect("PaymentService").await?,
        notification: connect("NotificationService").await?,
        inventory: connect("InventoryService").await?,
        order_management: connect("OrderManagementSystem").await?,
    };

    // The dead letters, as an operator would read them: from now on.
    let dead_letters = dead_letter_reader(&broker).await?;

    let (progress_tx, mut progress) = watch::channel(Progress::default());
    let progress_tx = Arc::new(progress_tx);
    let mut stops = Vec::new();
    let mut runs = Vec::new();

    // OrderService: notes stock changes; turns CreateOrderCommand into OrderCreatedEvent.
    let order_stock = Router::new().on({
        let p = progress_tx.clone();
        move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            say(
                "OrderService",
                format!(
                    "{} now at {} in {} (retryCount {})",
                    e.payload().item_id,
                    e.payload().new_quantity,
                    e.payload().warehouse_id,
                    e.retry_count()
                ),
            );
            p.send_modify(|s| s.order_saw_stock = true);
            async { Ok::<_, String>(()) }
        }
    });
    // OrderService's database: its orders, its outbox and its inbox, in one transaction per command.
    let outbox = Outbox::<DB>::default();
    outbox.migrate(&pool).await?;
    DB::create_table(&pool).await?;
    let relay = outbox.relay(pool.clone(), services.order.clone()).instance("OrderService").start()?;
    say("OrderService", format!("outbox and inbox on {database}; its relay publishes what commits"));
    let inbox = Inbox::new(&outbox, pool.clone(), "OrderService");
    let order_commands = Router::new().on(inbox.handler({
        let p = progress_tx.clone();
        move |c: Inboxed<DB, CreateOrderCommand>| {
            let p = p.clone();
            async move { create_order(c, &p).await }
        }
    }));

    // Retries wait between half and all of 400 ms, 800 ms, … (equal jitter); five attempts.
    let retry = RetryPolicy::new(5, Duration::from_millis(400), Duration::from_secs(5)).with_jitter(Jitter::Equal);

    // PaymentService: its payment provider is down for the first two deliveries.
    let attempts = Arc::new(AtomicU32::new(0));
    let last_delivery: Arc<Mutex<Option<Instant>>> = Arc::default();
    let payment_stock = Router::new().on({
        let p = progress_tx.clone();
        move |e: Delivered<InventoryUpdatedIntegrationEvent>| {
            let now = Instant::now();
            let ceiling = retry.backoff(e.retry_count());
            let waited = last_delivery.lock().unwrap().replace(now).map(|t| {
                format!(
                    ", {:.0} ms after the last (policy: {:?} to {:?})",
                    (now - t).as_secs_f64() * 1000.0,
                    ceiling / 2,
                    ceiling
                )
            });
            let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let ok = n >= 3;
            say(
                "PaymentService",
                format!(
                    "{} delivery {} (retryCount {}){}: {}",
                    e.payload().item_id,
                    e.attempt(),
                    e.retry_count(),
                    waited.unwrap_or_default(),
                    if ok { "reserved funds" } else { "payment provider unavailable" }
                ),
            );
            if ok {
                p.send_modify(|s| s.payment_saw_stock = true);
            }
            async move {
                if ok {
                    Ok(())
                } else {
                    Err("payment provider unavailable")
                }
            }
        }
    });

    // NotificationService: asks for a confirmation when an order is created, then sends it.
    let notify_events = Router::new().on({
        let (p, publisher) = (progress_tx.clone(), services.notification.publisher());
        move |e: Delivered<OrderCreatedEvent>| {
            let (p, publisher) = (p.clone(), publisher.clone());
            async move { request_confirmation(&publisher, e, &p).await }
        }
    });
    let notify_commands = Router::new().on({
        let p = progress_tx.clone();
        move |c: Delivered<SendOrderConfirmationCommand>| {
            say(
                "NotificationService",
                format!(
                    "confirmation of {} sent to {} (causationId {})",
                    c.payload().order_id,
                    c.payload().customer_id,
                    c.causation_id().map(|c| c.to_string()).unwrap_or_default()
                ),
            );
            p.send_modify(|s| s.confirmation_sent = true);
            async { Ok::<_, String>(()) }
        }
    });

    const STOCK: &str = "events.integration.InventoryUpdatedIntegrationEvent";
    for (service, broker, filter, router) in [
        ("OrderService", &services.order, STOCK, order_stock),
        ("PaymentService", &services.payment, STOCK, payment_stock),
        ("NotificationService", &services.notification, "events.domain.OrderCreatedEvent", notify_events),
        ("OrderService", &services.order, "commands.CreateOrderCommand", order_commands),
        ("NotificationService", &services.notification, "commands.SendOrderConfirmationCommand", notify_commands),
    ] {
        let builder = broker.consumer(service).retry_policy(retry).deliver_new();
        let builder = if filter.starts_with("commands.") { builder.commands(filter) } else { builder.events(filter) };
        let consumer = builder.build().await?;
        say(service, format!("consuming {filter}"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        runs.push(tokio::spawn(consumer.run(router, async move {
            let _ = stopped.await;
        })));
    }

    // InventoryService publishes.
    let stock = InventoryUpdatedIntegrationEventPayload {
        item_id: "ITEM001".into(),
        new_quantity: 90,
        warehouse_id: "WH-EU-1".into(),
    };
    let event = InventoryUpdatedIntegrationEvent::new(stock, Metadata::new("stock-count", "InventoryService"))?;
    let published = services.inventory.publisher().publish(&event).await?;
    say(
        "InventoryService",
        format!("published {} {} (stream sequence {})", event.event_name(), event.event_id(), published.sequence),
    );

    // PaymentService may read it but not publish it: the broker refuses.
    match services.payment.publisher().publish(&event).await {
        Err(e) if e.kind() == PublishErrorKind::Forbidden => {
            say("PaymentService", format!("refused by the broker: {e}"))
        }
        Err(e) if secrets.is_none() => say("PaymentService", format!("publish failed: {e}")),
        Ok(_) if secrets.is_none() => {
            say("PaymentService", "published it too (no access rules without credentials)".into())
        }
        other => return Err(format!("PaymentService published InventoryService's event: {other:?}").into()),
    }

    // A faulty release of InventoryService publishes a broken message on its subject.
    services
        .inventory
        .jetstream()
        .publish(
            "events.integration.InventoryUpdatedIntegrationEvent",
            r#"{"eventName":"InventoryUpdatedIntegrationEvent","eventId":"42"}"#.into(),
        )
        .await?
        .await?;
    say("InventoryService", "(a faulty release) published a malformed InventoryUpdatedIntegrationEvent".to_string());

    // A user asks for an order.
    let order = CreateOrderCommandPayload {
        customer_id: "CUST67890".into(),
        items: vec![create_order_schema::latest::OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
    };
    let create = CreateOrderCommand::new(order, Metadata::new("user123", "OrderManagementSystem"))?;
    services.order_management.publisher().publish_command(&create).await?;
    say(
        "OrderManagementSystem",
        format!("sent CreateOrderCommand {} (correlationId {})", create.command_id(), create.correlation_id()),
    );

    let watch_dead_letters = tokio::spawn(read_dead_letters(dead_letters, progress_tx.clone()));

    let finished =
        tokio::time::timeout(Duration::from_secs(60), progress.wait_for(Progress::done)).await.map(|r| r.is_ok());
    watch_dead_letters.abort();
    for stop in stops {
        let _ = stop.send(());
    }
    for run in runs {
        run.await?;
    }
    let relayed = relay.shutdown().await;
    say("OrderService", format!("relay stopped: {} published, {} parked", relayed.published, relayed.parked));
    match finished {
        Ok(true) => {
            say("scenario", "every service has handled everything".to_string());
            Ok(())
        }
        _ => Err(format!("not everything was handled within 60 s: {:?}", *progress.borrow()).into()),
    }
}

/// Each service's own connection, as itself.
struct Services {
    order: Broker,
    payment: Broker,
    notification: Broker,
    inventory: Broker,
    order_management: Broker,
}

/// The credentials folder of a server of our own goes with the run.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// One line of the story: when, who, what.
fn say(who: &str, what: String) {
    let t = STARTED.get_or_init(Instant::now).elapsed().as_secs_f64();
    println!("[{t:>6.3}s] {who:<21} {what}");
}

async fn create_order<DB: Orders>(
    command: Inboxed<DB, CreateOrderCommand>,
    progress: &watch::Sender<Progress>,
) -> Result<(), String> {
    let items: Vec<order_created_schema::latest::OrderItem> = command
        .payload()
        .items
        .iter()
        .map(|i| order_created_schema::latest::OrderItem {
            item_id: i.item_id.clone(),
            quantity: i.quantity,
            price: i.price,
        })
        .collect();
    let total: f64 = items.iter().map(|i| i.price * i.quantity as f64).sum();
    let payload = OrderCreatedEventPayload {
        order_id: "ORD12345".into(),
        customer_id: command.payload().customer_id.clone(),
        items,
        total_amount: total,
        currency: None,
    };
    let created = OrderCreatedEvent::caused_by(command.message(), payload).map_err(|e| e.to_string())?;
    if created.causation_id() != Some(command.command_id().into())
        || created.correlation_id() != command.correlation_id()
    {
        return Err("the causation chain broke".into());
    }
    // The order and the event in the command's transaction: both commit, with the command's
    // processed-mark, or none does.
    let order = &created.payload().order_id;
    DB::insert(&mut **command.transaction().await, order, &command.payload().customer_id, total)
        .await
        .map_err(|e| e.to_string())?;
    command.enqueue(&created).await.map_err(|e| e.to_string())?;
    say(
        "OrderService",
        format!(
            "handled CreateOrderCommand {}: stored order {order} and enqueued OrderCreatedEvent {} (causationId {}) in one transaction",
            command.command_id(),
            created.event_id(),
            command.command_id()
        ),
    );
    progress.send_modify(|s| s.order_created = true);
    Ok(())
}

async fn request_confirmation(
    publisher: &Publisher,
    event: Delivered<OrderCreatedEvent>,
    progress: &watch::Sender<Progress>,
) -> Result<(), String> {
    let payload = SendOrderConfirmationCommandPayload {
        order_id: event.payload().order_id.clone(),
        customer_id: event.payload().customer_id.clone(),
    };
    let confirm = SendOrderConfirmationCommand::caused_by(event.message(), payload).map_err(|e| e.to_string())?;
    if confirm.causation_id() != Some(event.event_id().into()) || confirm.correlation_id() != event.correlation_id() {
        return Err("the causation chain broke".into());
    }
    publisher.publish_command(&confirm).await.map_err(|e| e.to_string())?;
    say(
        "NotificationService",
        format!(
            "handled OrderCreatedEvent {}; sent SendOrderConfirmationCommand {} (correlationId {})",
            event.event_id(),
            confirm.command_id(),
            confirm.correlation_id()
        ),
    );
    progress.send_modify(|s| s.confirmation_requested = true);
    Ok(())
}

async fn dead_letter_reader(
    broker: &Broker,
) -> Result<async_nats::jetstream::consumer::PullConsumer, Box<dyn std::error::Error>> {
    use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
    let stream = broker.jetstream().get_stream("DEAD_LETTERS").await?;
    let config = pull::Config { ack_policy: AckPolicy::None, deliver_policy: DeliverPolicy::New, ..Default::default() };
    Ok(stream.create_consumer(config).await?)
}

async fn read_dead_letters(
    reader: async_nats::jetstream::consumer::PullConsumer,
    progress: Arc<watch::Sender<Progress>>,
) -> Result<(), String> {
    use futures_util::StreamExt;
    let mut messages = reader.messages().await.map_err(|e| e.to_string())?;
    while let Some(Ok(m)) = messages.next().await {
        let record: serde_json::Value = serde_json::from_slice(&m.payload).map_err(|e| e.to_string())?;
        let header = |name: &str| {
            m.headers.as_ref().and_then(|h| h.get(name)).map(|v| v.as_str().to_string()).unwrap_or_default()
        };
        say(
            "dead letters",
            format!(
                "{} gave up on {} message {} of {}: {}",
                header("Events-Consumer"),
                header("Events-Dead-Letter"),
                header("Events-Origin-Sequence"),
                header("Events-Origin-Subject"),
                record["error"]["message"].as_str().unwrap_or("?")
            ),
        );
        progress.send_modify(|s| s.poison_dead_lettered += 1);
    }
    Ok(())
}
