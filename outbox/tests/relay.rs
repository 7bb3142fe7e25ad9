//! The relay against a real broker and database: concurrent writers, a broker outage, a database
//! restart, a refused publish.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{stock, TestDb};
use events::{RandomSource, SplitMix64};
use events_outbox::Outbox;
use sqlx::{Postgres, Sqlite};
use tokio::sync::Mutex;

/// `writers` tasks commit `total` events between them, over 5 keys each, in random order, with
/// random delays inside their transactions and one transaction in twenty rolled back, while the
/// relay runs: every committed event is published exactly once, each key's in commit order.
async fn concurrent_writers_lose_skip_and_double_nothing<DB: TestDb>(writers: usize, total: usize, delay_us: u64) {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).poll_interval(Duration::from_millis(20)).start().unwrap();
    let expected: Arc<Mutex<BTreeMap<String, Vec<String>>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (pool, outbox, expected) = (pool.clone(), outbox.clone(), expected.clone());
        tasks.push(tokio::spawn(async move {
            let mut random = SplitMix64::new(w as u64 + 1);
            let mut next = [0u64; 5];
            let mut committed = 0;
            while committed < total / writers {
                let k = (random.next_u64() % 5) as usize;
                let key = format!("W{w}-K{k}");
                let event = stock(&key, next[k]);
                let mut tx = pool.begin().await.unwrap();
                outbox.enqueue_keyed(&mut tx, &event, &key).await.unwrap();
                tokio::time::sleep(Duration::from_micros(random.next_u64() % (delay_us + 1))).await;
                if random.next_u64().is_multiple_of(20) {
                    tx.rollback().await.unwrap();
                    continue;
                }
                // Recorded under the lock held across the commit: the expected order is the
                // commit order (one writer's transactions on a key never overlap anyway).
                let mut expected = expected.lock().await;
                tx.commit().await.unwrap();
                expected.entry(key).or_default().push(event.event_id().to_string());
                next[k] += 1;
                committed += 1;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let committed = (total / writers) * writers;
    common::wait_until(&format!("{committed} events are published"), Duration::from_secs(180), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0
    })
    .await;
    let stats = relay.shutdown().await;
    assert_eq!(stats.published, committed as u64, "{stats:?}");
    common::assert_each_once_in_order(&broker, &*expected.lock().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_8_concurrent_writers_commit_10000_events_each_published_once_in_key_order() {
    concurrent_writers_lose_skip_and_double_nothing::<Postgres>(8, 10_000, 2_000).await;
}

// SQLite has one writer at a time: the same property, at a size its serial commits allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_8_concurrent_writers_commit_2000_events_each_published_once_in_key_order() {
    concurrent_writers_lose_skip_and_double_nothing::<Sqlite>(8, 2_000, 200).await;
}

/// A transaction that took its `seq` first and committed last (the trap of an `id > last_seen`
/// cursor) is published: the relay has published the rows after it meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_late_commit_below_published_rows_is_published() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Postgres::open().await;
    let outbox = Outbox::<Postgres>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).start().unwrap();
    let late = stock("ITEM-LATE", 1);
    let mut slow = pool.begin().await.unwrap();
    outbox.enqueue(&mut slow, &late).await.unwrap(); // takes the lower seq
    let early = stock("ITEM-EARLY", 1);
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue(&mut tx, &early).await.unwrap();
    tx.commit().await.unwrap();
    common::wait_until("the later seq is published", Duration::from_secs(30), || async {
        common::stored(&broker).await == 1
    })
    .await;
    slow.commit().await.unwrap();
    common::wait_until("the late commit is published", Duration::from_secs(30), || async {
        common::stored(&broker).await == 2
    })
    .await;
    let ids: Vec<String> = common::read_events(&broker).await.into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ids, [early.event_id().to_string(), late.event_id().to_string()]);
    relay.shutdown().await;
}

/// On PostgreSQL a commit wakes the relay: with the poll an hour away, it still publishes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_commit_notification_wakes_the_relay() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Postgres::open().await;
    let outbox = Outbox::<Postgres>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).poll_interval(Duration::from_secs(3600)).start().unwrap();
    common::wait_until("the relay is active", Duration::from_secs(30), || async { relay.stats().active }).await;
    // Once idle, only a notification can wake it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 0..3 {
        let mut tx = pool.begin().await.unwrap();
        outbox.enqueue(&mut tx, &stock("ITEM-1", n)).await.unwrap();
        tx.commit().await.unwrap();
        common::wait_until("the commit is published without a poll", Duration::from_secs(20), || async {
            common::stored(&broker).await == n + 1
        })
        .await;
    }
    relay.shutdown().await;
}

/// The broker down for ten seconds in the middle of 1,000 enqueues: the backlog grows, then drains,
/// each event published once, in order.
async fn a_broker_outage_grows_the_backlog_and_it_drains_in_order<DB: TestDb>() {
    let mut server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = DB::open().await;
    let outbox = Outbox::<DB>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).poll_interval(Duration::from_millis(20)).start().unwrap();
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut down_at = None;
    let mut largest_backlog = 0;
    for n in 0..1_000u64 {
        if n == 200 {
            server.kill();
            down_at = Some(Instant::now());
        }
        if n > 200 && down_at.is_some_and(|t| t.elapsed() >= Duration::from_secs(10)) {
            largest_backlog = outbox.backlog(&pool).await.unwrap().pending;
            server.restart().unwrap();
            down_at = None;
        }
        let key = format!("ITEM-{}", n % 7);
        let event = stock(&key, n);
        let mut tx = pool.begin().await.unwrap();
        outbox.enqueue_keyed(&mut tx, &event, &key).await.unwrap();
        tx.commit().await.unwrap();
        expected.entry(key).or_default().push(event.event_id().to_string());
        if down_at.is_some() {
            // Spread the enqueues over the outage.
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
    }
    if down_at.is_some() {
        while down_at.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        largest_backlog = outbox.backlog(&pool).await.unwrap().pending;
        server.restart().unwrap();
    }
    assert!(largest_backlog >= 100, "the backlog grew while the broker was down: {largest_backlog}");
    common::wait_until("the backlog drains", Duration::from_secs(120), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0
    })
    .await;
    let stats = relay.shutdown().await;
    assert!(stats.failed > 0, "publishes failed during the outage: {stats:?}");
    common::assert_each_once_in_order(&broker, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_broker_outage_of_ten_seconds_during_1000_enqueues_loses_nothing() {
    a_broker_outage_grows_the_backlog_and_it_drains_in_order::<Sqlite>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_broker_outage_of_ten_seconds_during_1000_enqueues_loses_nothing() {
    a_broker_outage_grows_the_backlog_and_it_drains_in_order::<Postgres>().await;
}

/// PostgreSQL restarted under the relay: it reconnects, and every event is published once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_the_relay_loses_and_doubles_nothing() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, mut keep) = Postgres::open().await;
    let outbox = Outbox::<Postgres>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).start().unwrap();
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in 0..600u64 {
        if n == 300 {
            let pg = keep.postgres();
            pg.restart().unwrap_or_else(|e| panic!("{e}"));
        }
        let key = format!("ITEM-{}", n % 5);
        let event = stock(&key, n);
        // A connection the restart broke fails once; the service retries its transaction.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = async {
                let mut tx = pool.begin().await?;
                outbox.enqueue_keyed(&mut tx, &event, &key).await.map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                tx.commit().await
            }
            .await;
            match result {
                Ok(()) => break,
                Err(e) if attempts < 50 => {
                    eprintln!("enqueue {n}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("enqueue {n} still failing: {e}"),
            }
        }
        expected.entry(key).or_default().push(event.event_id().to_string());
    }
    common::wait_until("everything is published after the restart", Duration::from_secs(120), || async {
        outbox.backlog(&pool).await.is_ok_and(|b| b.pending == 0)
    })
    .await;
    let stats = relay.shutdown().await;
    assert_eq!(stats.published, 600, "{stats:?}");
    common::assert_each_once_in_order(&broker, &expected).await;
}

/// A relay dropped without `shutdown` (as a crash leaves it): its lease is no longer renewed, and
/// another instance takes over once it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_relay_is_taken_over_once_its_lease_expires() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, _keep) = Sqlite::open().await;
    let outbox = Outbox::<Sqlite>::default();
    let lease = Duration::from_secs(1);
    let first = outbox.relay(pool.clone(), broker.clone()).instance("first").lease_ttl(lease).start().unwrap();
    common::wait_until("the first relay is active", Duration::from_secs(30), || async { first.stats().active }).await;
    let second = outbox.relay(pool.clone(), broker.clone()).instance("second").lease_ttl(lease).start().unwrap();
    drop(first);
    let dropped = Instant::now();
    common::wait_until("the second relay takes over", Duration::from_secs(30), || async { second.stats().active }).await;
    println!("taken over {:?} after the drop", dropped.elapsed());
    let mut tx = pool.begin().await.unwrap();
    outbox.enqueue(&mut tx, &stock("ITEM-1", 1)).await.unwrap();
    tx.commit().await.unwrap();
    common::wait_until("the second relay publishes", Duration::from_secs(30), || async {
        common::stored(&broker).await == 1
    })
    .await;
    assert_eq!(second.shutdown().await.published, 1);
}
