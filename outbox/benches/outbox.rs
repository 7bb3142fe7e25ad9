//! The outbox beside what it replaces, in one run against a local nats-server, a throw-away
//! PostgreSQL cluster and SQLite in a temporary folder:
//!
//! - enqueue: a transaction storing the event through the outbox, beside the same transaction
//!   writing the event's JSON to a plain table (one event per transaction, and 100);
//! - relay: committed rows to JetStream, beside raw pipelined async-nats publishing the same bytes;
//! - commit-to-stored latency: PostgreSQL woken by NOTIFY, PostgreSQL polling, SQLite polling;
//! - consuming: the inbox beside the key-value idempotent consumer and the plain typed consumer.
//!
//! Each measure is repeated and the median taken; what matters is the ratios.
//!
//! ```sh
//! cargo bench -p events-outbox --features postgres --bench outbox   # EVENTS_BENCH_REPEAT=3
//! ```

#[path = "../tests/common/postgres.rs"]
mod postgres;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use async_nats::jetstream::message::PublishMessage;
use events::order_created_schema::{latest::OrderItem, OrderCreatedEvent, OrderCreatedEventPayload};
use events::{Metadata, RandomSource};
use events_nats::async_nats;
use events_nats::{Broker, BrokerConfig, Delivered, LocalServer, Outgoing, Router};
use events_outbox::{Backend, Inbox, Inboxed, Outbox};
use futures_util::StreamExt;
use sqlx::{Pool, Postgres, Sqlite};

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

const WINDOW: usize = 256;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(i: usize) -> OrderCreatedEvent {
    let payload = OrderCreatedEventPayload {
        order_id: format!("ORD{i:06}"),
        customer_id: "CUST67890".into(),
        items: vec![
            OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 },
            OrderItem { item_id: "ITEM002".into(), quantity: 1, price: 50.0 },
        ],
        total_amount: 250.0,
        currency: Some("EUR".into()),
    };
    OrderCreatedEvent::new(payload, Metadata::new("OrderService", "OrderService")).unwrap()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// The plain table's insert, in each database's terms.
trait BenchDb: Backend {
    fn plain<'a>(conn: &'a mut Self::Connection, id: &'a str, body: &'a str) -> Fut<'a, ()>;
    fn execute<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, ()>;
}

macro_rules! bench_db {
    ($db:ty) => {
        impl BenchDb for $db {
            fn plain<'a>(conn: &'a mut Self::Connection, id: &'a str, body: &'a str) -> Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::query("INSERT INTO plain (id, body) VALUES ($1, $2)").bind(id).bind(body).execute(conn).await.unwrap();
                })
            }
            fn execute<'a>(pool: &'a Pool<Self>, sql: &'static str) -> Fut<'a, ()> {
                Box::pin(async move {
                    sqlx::raw_sql(sql).execute(pool).await.unwrap();
                })
            }
        }
    };
}
bench_db!(Sqlite);
bench_db!(Postgres);

/// µs per event: `n` events, `per_tx` to a transaction, through the outbox or to the plain table.
async fn enqueue<DB: BenchDb>(pool: &Pool<DB>, outbox: &Outbox<DB>, n: usize, per_tx: usize, through_outbox: bool) -> f64 {
    let events: Vec<OrderCreatedEvent> = (0..n).map(event).collect();
    let bodies: Vec<(String, String)> = events.iter().map(|e| (e.event_id().to_string(), e.to_json())).collect();
    let t = Instant::now();
    for chunk in 0..n / per_tx {
        let mut tx = pool.begin().await.unwrap();
        for i in chunk * per_tx..(chunk + 1) * per_tx {
            if through_outbox {
                outbox.enqueue(&mut tx, &events[i]).await.unwrap();
            } else {
                // What a service without an outbox writes: the event's own JSON, in its transaction.
                let json = events[i].to_json();
                DB::plain(&mut *tx, &bodies[i].0, &json).await;
            }
        }
        tx.commit().await.unwrap();
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

async fn purge(broker: &Broker) {
    broker.jetstream().get_stream("EVENTS").await.unwrap().purge().await.unwrap();
}

async fn stored(broker: &Broker) -> u64 {
    broker.jetstream().get_stream("EVENTS").await.unwrap().info().await.unwrap().state.messages
}

/// msg/s: `n` committed rows published by a relay started once they are there.
async fn relay<DB: BenchDb>(pool: &Pool<DB>, outbox: &Outbox<DB>, broker: &Broker, n: usize) -> f64 {
    purge(broker).await;
    let events: Vec<OrderCreatedEvent> = (0..n).map(event).collect();
    for chunk in events.chunks(500) {
        let mut tx = pool.begin().await.unwrap();
        for e in chunk {
            outbox.enqueue(&mut tx, e).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    let t = Instant::now();
    let relay = outbox.relay(pool.clone(), broker.clone()).start().unwrap();
    while stored(broker).await < n as u64 || outbox.backlog(pool).await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = t.elapsed();
    relay.shutdown().await;
    n as f64 / elapsed.as_secs_f64()
}

/// msg/s: the same messages published raw, pipelined, each acknowledgement awaited.
async fn raw(broker: &Broker, n: usize) -> f64 {
    purge(broker).await;
    let batch: Vec<Outgoing> = (0..n).map(|i| Outgoing::event(&event(i))).collect();
    let js = broker.jetstream().clone();
    let t = Instant::now();
    futures_util::stream::iter(batch)
        .map(|out| {
            let js = js.clone();
            async move {
                let msg = PublishMessage::build().payload(out.body).headers(out.headers);
                js.send_publish(out.subject, msg).await.unwrap().await.unwrap()
            }
        })
        .buffer_unordered(WINDOW)
        .for_each(|_| async {})
        .await;
    n as f64 / t.elapsed().as_secs_f64()
}

/// ms from each commit until the broker hands the event to a subscriber, `samples` of them.
async fn latency<DB: BenchDb>(
    pool: &Pool<DB>,
    outbox: &Outbox<DB>,
    broker: &Broker,
    listen: bool,
    poll: Duration,
    samples: usize,
) -> (f64, f64) {
    let mut sub = broker.client().subscribe("events.domain.>").await.unwrap();
    broker.client().flush().await.unwrap();
    let relay = outbox.relay(pool.clone(), broker.clone()).listen(listen).poll_interval(poll).start().unwrap();
    while !relay.stats().active {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut random = events::SplitMix64::new(7);
    let mut ms = Vec::new();
    for i in 0..samples {
        // Commits at random moments, not in step with the poll.
        tokio::time::sleep(Duration::from_micros(random.next_u64() % 50_000)).await;
        let e = event(i);
        let mut tx = pool.begin().await.unwrap();
        outbox.enqueue(&mut tx, &e).await.unwrap();
        tx.commit().await.unwrap();
        let committed = Instant::now();
        tokio::time::timeout(Duration::from_secs(30), sub.next()).await.unwrap().unwrap();
        ms.push(committed.elapsed().as_secs_f64() * 1000.0);
    }
    relay.shutdown().await;
    (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99))
}

/// msg/s: a fresh durable consumer of OrderService's events reading `n`. Its handler does nothing,
/// or (`effect`) writes the event's row to the service's own table: in a transaction of its own
/// (the plain and the key-value idempotent consumers), or in the inbox's.
async fn consume<DB: BenchDb>(broker: &Broker, name: &str, n: usize, how: Consume<'_, DB>, effect: bool) -> f64 {
    let mut builder = broker.consumer(name).events("events.domain.>").concurrency(64);
    if matches!(how, Consume::Idempotent(_)) {
        builder = builder.idempotent(Duration::from_secs(24 * 3600));
    }
    let consumer = builder.build::<events::Contracts>().await.unwrap();
    let router = match how {
        Consume::Inbox(pool) => {
            let inbox = Inbox::new(&Outbox::<DB>::default(), pool.clone(), name);
            Router::new().on(inbox.handler(move |e: Inboxed<DB, OrderCreatedEvent>| async move {
                if effect {
                    let id = e.event_id().to_string();
                    DB::plain(&mut **e.transaction().await, &id, "{}").await;
                }
                Ok::<_, String>(())
            }))
        }
        Consume::Plain(pool) | Consume::Idempotent(pool) => {
            let pool = pool.clone();
            Router::new().on(move |e: Delivered<OrderCreatedEvent>| {
                let pool = pool.clone();
                async move {
                    if effect {
                        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
                        DB::plain(&mut *tx, &e.event_id().to_string(), "{}").await;
                        tx.commit().await.map_err(|e| e.to_string())?;
                    }
                    Ok::<_, String>(())
                }
            })
        }
    };
    let stats = consumer.stats_handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let t = Instant::now();
    let run = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    while stats.get().processed + stats.get().duplicates < n as u64 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = t.elapsed();
    let _ = stop.send(());
    run.await.unwrap();
    n as f64 / elapsed.as_secs_f64()
}

enum Consume<'a, DB: Backend> {
    Plain(&'a Pool<DB>),
    Idempotent(&'a Pool<DB>),
    Inbox(&'a Pool<DB>),
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let repeat = env_usize("EVENTS_BENCH_REPEAT", 3);
    let server = LocalServer::start().unwrap_or_else(|e| panic!("{e}"));
    let client = events_nats::connect(&server.url()).await.unwrap();
    let broker = Broker::setup(client, BrokerConfig::default()).await.unwrap();
    let pg = postgres::TestPostgres::start().unwrap_or_else(|e| panic!("{e}"));
    let pg_pool = sqlx::postgres::PgPoolOptions::new().max_connections(64).test_before_acquire(false).connect(&pg.url()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("bench.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    let lite_pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(16).test_before_acquire(false).connect_with(options).await.unwrap();
    let (pg_outbox, lite_outbox) = (Outbox::<Postgres>::default(), Outbox::<Sqlite>::default());
    pg_outbox.migrate(&pg_pool).await.unwrap();
    lite_outbox.migrate(&lite_pool).await.unwrap();
    Postgres::execute(&pg_pool, "CREATE TABLE plain (id TEXT PRIMARY KEY, body TEXT NOT NULL)").await;
    Sqlite::execute(&lite_pool, "CREATE TABLE plain (id TEXT PRIMARY KEY, body TEXT NOT NULL)").await;

    // Enqueue. The outbox's rows are deleted between rounds, as the relay would.
    let n_enqueue = env_usize("EVENTS_BENCH_ENQUEUE", 2_000);
    println!("## enqueue: µs per event, {n_enqueue} events, median of {repeat}");
    println!("| database | events per transaction | plain table | outbox | ratio |");
    println!("|---|---|---|---|---|");
    for per_tx in [1, 100] {
        let (mut pp, mut po, mut lp, mut lo) = (vec![], vec![], vec![], vec![]);
        for _ in 0..repeat {
            pp.push(enqueue(&pg_pool, &pg_outbox, n_enqueue, per_tx, false).await);
            po.push(enqueue(&pg_pool, &pg_outbox, n_enqueue, per_tx, true).await);
            lp.push(enqueue(&lite_pool, &lite_outbox, n_enqueue, per_tx, false).await);
            lo.push(enqueue(&lite_pool, &lite_outbox, n_enqueue, per_tx, true).await);
            for sql in ["DELETE FROM plain", "DELETE FROM events_outbox"] {
                Postgres::execute(&pg_pool, sql).await;
                Sqlite::execute(&lite_pool, sql).await;
            }
        }
        let (pp, po, lp, lo) = (median(&mut pp), median(&mut po), median(&mut lp), median(&mut lo));
        println!("| PostgreSQL | {per_tx} | {pp:.1} | {po:.1} | {:.2}× |", po / pp);
        println!("| SQLite | {per_tx} | {lp:.1} | {lo:.1} | {:.2}× |", lo / lp);
    }

    // Relay throughput.
    let n_relay = env_usize("EVENTS_BENCH_RELAY", 20_000);
    let (mut r, mut rp, mut rl) = (vec![], vec![], vec![]);
    for _ in 0..repeat {
        r.push(raw(&broker, n_relay).await);
        rp.push(relay(&pg_pool, &pg_outbox, &broker, n_relay).await);
        rl.push(relay(&lite_pool, &lite_outbox, &broker, n_relay).await);
    }
    let (r, rp, rl) = (median(&mut r), median(&mut rp), median(&mut rl));
    println!();
    println!("## relay: {n_relay} committed OrderCreatedEvents to JetStream, msg/s, median of {repeat}");
    println!("| path | msg/s | ratio |");
    println!("|---|---|---|");
    println!("| raw async-nats, pipelined ({WINDOW} in flight) | {r:.0} | 1.00× |");
    println!("| relay, PostgreSQL | {rp:.0} | {:.2}× |", rp / r);
    println!("| relay, SQLite | {rl:.0} | {:.2}× |", rl / r);

    // Commit-to-stored latency, on tables vacuumed of the relay runs' dead rows (as autovacuum
    // keeps them in a steady state).
    let samples = env_usize("EVENTS_BENCH_SAMPLES", 200);
    purge(&broker).await;
    Postgres::execute(&pg_pool, "VACUUM ANALYZE events_outbox").await;
    println!();
    println!("## commit to stored: ms, {samples} commits at random moments");
    println!("| relay | p50 | p99 |");
    println!("|---|---|---|");
    let (p50, p99) = latency(&pg_pool, &pg_outbox, &broker, true, Duration::from_secs(1), samples).await;
    println!("| PostgreSQL, LISTEN/NOTIFY (1 s poll behind it) | {p50:.2} | {p99:.2} |");
    let (p50, p99) = latency(&pg_pool, &pg_outbox, &broker, false, Duration::from_millis(100), samples).await;
    println!("| PostgreSQL, polling every 100 ms | {p50:.2} | {p99:.2} |");
    let (p50, p99) = latency(&lite_pool, &lite_outbox, &broker, false, Duration::from_millis(100), samples).await;
    println!("| SQLite, polling every 100 ms (the default) | {p50:.2} | {p99:.2} |");

    // Consuming.
    let n_consume = env_usize("EVENTS_BENCH_CONSUME", 10_000);
    purge(&broker).await;
    raw(&broker, n_consume).await;
    println!();
    println!("## consuming: {n_consume} OrderCreatedEvents, 64 handled at once, msg/s, median of {repeat}");
    println!("| consumer | handler does nothing | handler writes a row to the service's database |");
    println!("|---|---|---|");
    for (label, pg) in [("PostgreSQL", true), ("SQLite", false)] {
        let mut rates: Vec<Vec<f64>> = vec![vec![]; 6];
        for round in 0..repeat {
            for (i, effect) in [false, true].into_iter().enumerate() {
                let tag = format!("{}{round}{i}", if pg { "pg" } else { "lite" });
                let mut three = Vec::new();
                for kind in 0..3 {
                    // Each consumer writes the same events' rows: an empty table for each.
                    let name = format!("{}{tag}", ["plain", "kv", "inbox"][kind]);
                    let rate = if pg {
                        Postgres::execute(&pg_pool, "DELETE FROM plain").await;
                        let how = [Consume::Plain(&pg_pool), Consume::Idempotent(&pg_pool), Consume::Inbox(&pg_pool)];
                        let how = how.into_iter().nth(kind).unwrap();
                        consume::<Postgres>(&broker, &name, n_consume, how, effect).await
                    } else {
                        Sqlite::execute(&lite_pool, "DELETE FROM plain").await;
                        let how = [Consume::Plain(&lite_pool), Consume::Idempotent(&lite_pool), Consume::Inbox(&lite_pool)];
                        let how = how.into_iter().nth(kind).unwrap();
                        consume::<Sqlite>(&broker, &name, n_consume, how, effect).await
                    };
                    three.push(rate);
                }
                let (p, k, b) = (three[0], three[1], three[2]);
                rates[i * 3].push(p);
                rates[i * 3 + 1].push(k);
                rates[i * 3 + 2].push(b);
            }
        }
        let m: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
        println!("| plain typed consumer ({label} for the effect) | {:.0} | {:.0} |", m[0], m[3]);
        println!("| key-value idempotent consumer ({label} for the effect) | {:.0} ({:.2}× plain) | {:.0} ({:.2}× plain) |", m[1], m[1] / m[0], m[4], m[4] / m[3]);
        println!(
            "| inbox, {label} | {:.0} ({:.2}× key-value, {:.2}× plain) | {:.0} ({:.2}× key-value, {:.2}× plain) |",
            m[2], m[2] / m[1], m[2] / m[0], m[5], m[5] / m[4], m[5] / m[3]
        );
    }
}
