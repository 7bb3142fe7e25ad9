//! Throughput of the transport beside raw async-nats JetStream carrying the same bytes, in one
//! run against a local nats-server: publishing (each acknowledgement awaited, and pipelined) and
//! consuming with acks. Rows: raw, typed (encode and validate, publish, consume, decode and
//! validate, handler, ack), typed with the idempotency store. Each measure is repeated and the
//! median taken; what matters is the ratio to raw.
//!
//! ```sh
//! cargo bench -p events-nats --bench throughput          # EVENTS_BENCH_N=10000, EVENTS_BENCH_REPEAT=5
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use events::order_created_schema::{latest::OrderItem, OrderCreatedEvent, OrderCreatedEventPayload};
use events::Metadata;
use events_nats::{Broker, BrokerConfig, Delivered, LocalServer, Outgoing, Router};
use futures_util::{stream as futures_stream, StreamExt};

const WINDOW: usize = 256;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn payload(i: usize) -> OrderCreatedEventPayload {
    OrderCreatedEventPayload {
        order_id: format!("ORD{i:06}"),
        customer_id: "CUST67890".into(),
        items: vec![
            OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 },
            OrderItem { item_id: "ITEM002".into(), quantity: 1, price: 50.0 },
        ],
        total_amount: 250.0,
        currency: Some("EUR".into()),
    }
}

fn event(i: usize) -> OrderCreatedEvent {
    OrderCreatedEvent::new(payload(i), Metadata::new("OrderService", "OrderService")).unwrap()
}

#[derive(Default, Clone)]
struct Row {
    publish_awaited: Vec<f64>,
    publish_pipelined: Vec<f64>,
    consume: Vec<f64>,
    /// CPU time of this process per message (µs), all threads: the client's own cost, which
    /// the shared machine's scheduling noise does not blur.
    cpu_pipelined: Vec<f64>,
    cpu_consume: Vec<f64>,
}

/// CPU time consumed so far by every thread of this process, in nanoseconds (Linux).
fn cpu_ns() -> u64 {
    let mut total = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
                total += text.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    total
}

/// Runs `f`, returning its wall time and this process's CPU µs per message over `n` messages.
async fn measured<F: std::future::Future<Output = Duration>>(n: usize, f: F) -> (Duration, f64) {
    let cpu = cpu_ns();
    let wall = f.await;
    (wall, (cpu_ns() - cpu) as f64 / 1000.0 / n as f64)
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_usize("EVENTS_BENCH_N", 10_000);
    let repeat = env_usize("EVENTS_BENCH_REPEAT", 5).max(1);
    let server = LocalServer::start().unwrap_or_else(|e| panic!("{e}"));
    let client = events_nats::connect(&server.url()).await.unwrap();
    let broker = Broker::setup(client.clone(), BrokerConfig::default()).await.unwrap();
    let js = broker.jetstream().clone();
    // The raw rows' stream: the events stream's settings, other subjects.
    js.create_stream(stream::Config {
        name: "RAW".into(),
        subjects: vec!["raw.>".into()],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .unwrap();

    let (mut raw, mut typed, mut stored) = (Row::default(), Row::default(), Row::default());
    for round in 0..repeat {
        purge(&js).await;

        // Raw: the same bytes and headers as the typed path writes, prepared beforehand.
        let prepared = |offset: usize| -> Vec<Outgoing> {
            (0..n)
                .map(|i| {
                    let mut out = Outgoing::event(&event(offset + i));
                    out.subject = out.subject.replacen("events.", "raw.", 1);
                    out
                })
                .collect()
        };
        let batch = prepared(0);
        let t = Instant::now();
        for out in &batch {
            raw_publish(&js, out).await.await.unwrap();
        }
        raw.publish_awaited.push(rate(n, t.elapsed()));
        let batch = prepared(n);
        let (wall, cpu) = measured(n, async {
            let t = Instant::now();
            futures_stream::iter(batch.iter())
                .map(|out| {
                    let js = js.clone();
                    async move { raw_publish(&js, out).await.await.unwrap() }
                })
                .buffer_unordered(WINDOW)
                .for_each(|_| async {})
                .await;
            t.elapsed()
        })
        .await;
        raw.publish_pipelined.push(rate(n, wall));
        raw.cpu_pipelined.push(cpu);
        let (wall, cpu) = measured(2 * n, raw_consume(&js, 2 * n)).await;
        raw.consume.push(rate(2 * n, wall));
        raw.cpu_consume.push(cpu);

        // Typed: envelopes built (the payload checked against its schema, ids and time drawn)
        // and encoded in the timed loop; the payloads, the service's own data, beforehand.
        let payloads: Vec<OrderCreatedEventPayload> = (0..n).map(payload).collect();
        let metadata = Metadata::new("OrderService", "OrderService");
        let build = |i: usize| OrderCreatedEvent::new(payloads[i].clone(), metadata.clone()).unwrap();
        let publisher = broker.publisher();
        let t = Instant::now();
        for i in 0..n {
            publisher.publish(&build(i)).await.unwrap();
        }
        typed.publish_awaited.push(rate(n, t.elapsed()));
        let (wall, cpu) = measured(n, async {
            let t = Instant::now();
            futures_stream::iter(0..n)
                .map(|i| {
                    let (p, e) = (publisher.clone(), build(i));
                    async move { p.publish(&e).await.unwrap() }
                })
                .buffer_unordered(WINDOW)
                .for_each(|_| async {})
                .await;
            t.elapsed()
        })
        .await;
        typed.publish_pipelined.push(rate(n, wall));
        typed.cpu_pipelined.push(cpu);
        let (wall, cpu) = measured(2 * n, typed_consume(&broker, &format!("typed{round}"), 2 * n, false)).await;
        typed.consume.push(rate(2 * n, wall));
        typed.cpu_consume.push(cpu);
        // The idempotency store's row reads the same events with a consumer of its own.
        let (wall, cpu) = measured(2 * n, typed_consume(&broker, &format!("stored{round}"), 2 * n, true)).await;
        stored.consume.push(rate(2 * n, wall));
        stored.cpu_consume.push(cpu);
        eprintln!("round {} of {repeat} done", round + 1);
    }

    let (rp, rpp, rc) = (median(&raw.publish_awaited), median(&raw.publish_pipelined), median(&raw.consume));
    let (tp, tpp, tc) = (median(&typed.publish_awaited), median(&typed.publish_pipelined), median(&typed.consume));
    let sc = median(&stored.consume);
    println!("{n} OrderCreatedEvents per publish measure, {} consumed per consume measure; median of {repeat}", 2 * n);
    println!("| path | publish, each ack awaited | publish, pipelined ({WINDOW} in flight) | consume with acks |");
    println!("|---|---|---|---|");
    println!("| raw async-nats | {rp:.0} msg/s | {rpp:.0} msg/s | {rc:.0} msg/s |");
    println!(
        "| typed | {tp:.0} msg/s ({:.2}×) | {tpp:.0} msg/s ({:.2}×) | {tc:.0} msg/s ({:.2}×) |",
        tp / rp,
        tpp / rpp,
        tc / rc
    );
    println!("| typed, idempotency store | (as typed) | (as typed) | {sc:.0} msg/s ({:.2}×) |", sc / rc);
    println!();
    println!("client CPU per message (this process, every thread), median:");
    println!("| path | publish, pipelined | consume with acks |");
    println!("|---|---|---|");
    let (rcp, rcc) = (median(&raw.cpu_pipelined), median(&raw.cpu_consume));
    println!("| raw async-nats | {rcp:.1} µs | {rcc:.1} µs |");
    println!("| typed | {:.1} µs | {:.1} µs |", median(&typed.cpu_pipelined), median(&typed.cpu_consume));
    println!("| typed, idempotency store | (as typed) | {:.1} µs |", median(&stored.cpu_consume));
}

async fn raw_publish(js: &jetstream::Context, out: &Outgoing) -> jetstream::context::PublishAckFuture {
    let msg =
        PublishMessage::build().payload(out.body.clone()).headers(out.headers.clone()).message_id(out.msg_id.as_str());
    js.send_publish(out.subject.clone(), msg).await.unwrap()
}

/// Reads `n` messages of the raw stream with a durable consumer, acknowledging each.
async fn raw_consume(js: &jetstream::Context, n: usize) -> Duration {
    let stream = js.get_stream("RAW").await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("raw".into()),
            ack_policy: AckPolicy::Explicit,
            max_ack_pending: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let t = Instant::now();
    let mut messages = consumer.messages().await.unwrap();
    let mut seen = 0;
    while seen < n {
        let m = messages.next().await.unwrap().unwrap();
        m.ack().await.unwrap();
        seen += 1;
    }
    t.elapsed()
}

/// Reads `n` events through the transport: decoded, validated, handed to a handler, acknowledged.
async fn typed_consume(broker: &Broker, name: &str, n: usize, idempotent: bool) -> Duration {
    let mut builder = broker
        .consumer(name)
        .events("events.domain.OrderCreatedEvent")
        .concurrency(env_usize("EVENTS_BENCH_CONCURRENCY", 64));
    if idempotent {
        builder = builder.idempotent(Duration::from_secs(24 * 3600));
    }
    let consumer = builder.build().await.unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(tokio::sync::Notify::new());
    let router = Router::new().on({
        let (count, done) = (count.clone(), done.clone());
        move |e: Delivered<OrderCreatedEvent>| {
            std::hint::black_box(e.payload().total_amount);
            if count.fetch_add(1, Ordering::Relaxed) + 1 == n {
                done.notify_one();
            }
            async { Ok::<_, String>(()) }
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let t = Instant::now();
    let run = tokio::spawn(consumer.run(router, async move {
        let _ = stopped.await;
    }));
    done.notified().await;
    let elapsed = t.elapsed();
    let _ = stop.send(());
    run.await.unwrap();
    elapsed
}

async fn purge(js: &jetstream::Context) {
    for name in ["RAW", "EVENTS"] {
        let stream = js.get_stream(name).await.unwrap();
        stream.purge().await.unwrap();
        let names: Vec<String> = stream.consumer_names().filter_map(|n| async { n.ok() }).collect().await;
        for consumer in names {
            stream.delete_consumer(&consumer).await.unwrap();
        }
    }
}
