//! Processes killed at the worst moments (SIGKILL: no cleanup): the service after its commit, the
//! relay between a publish and its mark, the active relay beside a standby.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{stock, TestDb};
use events_outbox::Outbox;
use sqlx::{Postgres, Sqlite};

const LEASE: Duration = Duration::from_secs(2);

/// The child processes of the tests below, by `EVENTS_OUTBOX_CHILD_ROLE`. Run only by them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by the fault tests as their child process"]
async fn child_process() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name}: started by a fault test"));
    let (role, db) = (var("EVENTS_OUTBOX_CHILD_ROLE"), var("EVENTS_OUTBOX_CHILD_DB"));
    match role.as_str() {
        // Commits events and stops before any relay ran: the service's crash after its commit.
        "service" => {
            let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
            let outbox = Outbox::<Sqlite>::default();
            for n in 0..var("EVENTS_OUTBOX_CHILD_N").parse::<u64>().unwrap() {
                let key = format!("ITEM-{}", n % 5);
                let mut tx = pool.begin().await.unwrap();
                outbox.enqueue_keyed(&mut tx, &stock(&key, n), &key).await.unwrap();
                tx.commit().await.unwrap();
            }
            println!("COMMITTED");
        }
        // A relay of PostgreSQL's outbox, publishing one row at a time (so that a kill lands
        // between a publish and its mark), or many.
        "relay" => {
            let server_url = var("EVENTS_OUTBOX_CHILD_NATS");
            let client = events_nats::connect(&server_url).await.unwrap();
            let config = events_nats::BrokerConfig::default().publish_deadline(Duration::from_secs(10));
            let broker = events_nats::Broker::setup(client, config).await.unwrap();
            let pool = sqlx::PgPool::connect(&db).await.unwrap();
            let in_flight = var("EVENTS_OUTBOX_CHILD_IN_FLIGHT").parse().unwrap();
            let relay = Outbox::<Postgres>::default()
                .relay(pool, broker)
                .instance("child")
                .lease_ttl(LEASE)
                .batch_size(10_000)
                .max_in_flight(in_flight)
                .start()
                .unwrap();
            while !relay.stats().active {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            println!("RELAYING");
            std::mem::forget(relay);
        }
        other => panic!("no role {other}"),
    }
    std::future::pending::<()>().await;
}

/// A child process, killed when dropped: a failing test leaves none behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

/// Starts the child with `role`, waits until it prints `ready`.
async fn child(role: &str, env: &[(&str, String)], ready: &str) -> Running {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_process", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("EVENTS_OUTBOX_CHILD_ROLE", role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = Running(command.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    // The harness prints `test child_process ... ` before the child's first line, on the same line.
    let wanted = ready.to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    // A thread of its own, not the runtime's blocking pool: a failed test must not wait for it.
    std::thread::spawn(move || {
        let _ = tx.send(BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.ends_with(&wanted)));
    });
    match tokio::time::timeout(Duration::from_secs(120), rx).await {
        Ok(Ok(true)) => child,
        other => panic!("the child did not print {ready}: {other:?}"),
    }
}

fn kill(child: Running) {
    drop(child);
}

fn expected_keys(n: u64, ids: impl IntoIterator<Item = (u64, String)>) -> BTreeMap<String, Vec<String>> {
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (q, id) in ids {
        expected.entry(format!("ITEM-{}", q % n)).or_default().push(id);
    }
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_killed_after_its_commit_and_before_the_relay_ran_is_published_after_restart() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, keep) = Sqlite::open().await;
    let common::Keep::Sqlite(dir) = &keep else { unreachable!() };
    let url = format!("sqlite://{}", dir.path().join("service.db").display());
    let service = child("service", &[("EVENTS_OUTBOX_CHILD_DB", url), ("EVENTS_OUTBOX_CHILD_N", "300".into())], "COMMITTED").await;
    kill(service);
    assert_eq!(common::stored(&broker).await, 0, "nothing published before the relay runs");
    assert_eq!(Outbox::<Sqlite>::default().backlog(&pool).await.unwrap().pending, 300);

    // The service restarts, and its relay with it.
    let outbox = Outbox::<Sqlite>::default();
    let relay = outbox.relay(pool.clone(), broker.clone()).start().unwrap();
    common::wait_until("the committed events are published", Duration::from_secs(60), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0
    })
    .await;
    relay.shutdown().await;
    let events = common::read_events(&broker).await;
    let ids = events.iter().map(|(id, body, _)| (body["payload"]["newQuantity"].as_u64().unwrap(), id.clone()));
    let expected = expected_keys(5, ids.collect::<Vec<_>>());
    assert_eq!(expected.values().map(Vec::len).sum::<usize>(), 300);
    common::assert_each_once_in_order(&broker, &expected).await;
    for (key, ids) in &expected {
        let quantities: Vec<u64> = events
            .iter()
            .filter(|(id, _, _)| ids.contains(id))
            .map(|(_, b, _)| b["payload"]["newQuantity"].as_u64().unwrap())
            .collect();
        assert!(quantities.windows(2).all(|w| w[0] < w[1]), "{key} in commit order: {quantities:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_killed_between_publish_and_mark_stores_each_event_once() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, keep) = Postgres::open().await;
    let common::Keep::Postgres(pg) = &keep else { unreachable!() };
    let outbox = Outbox::<Postgres>::default();
    let total = 5_000u64;
    let mut committed = Vec::new();
    let mut tx = pool.begin().await.unwrap();
    for n in 0..total {
        let key = format!("ITEM-{}", n % 3);
        let event = stock(&key, n);
        outbox.enqueue_keyed(&mut tx, &event, &key).await.unwrap();
        committed.push((n, event.event_id().to_string()));
    }
    tx.commit().await.unwrap();

    // Its marks wait behind this lock (they update the table; reading it and publishing do not):
    // whenever it is killed, what it stored is not marked.
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE events_outbox IN SHARE MODE").execute(&mut *lock).await.unwrap();
    let env = [
        ("EVENTS_OUTBOX_CHILD_DB", pg.url()),
        ("EVENTS_OUTBOX_CHILD_NATS", server.url()),
        ("EVENTS_OUTBOX_CHILD_IN_FLIGHT", "1".into()),
    ];
    let relay_process = child("relay", &env, "RELAYING").await;
    common::wait_until("the child relay has published some", Duration::from_secs(60), || async {
        common::stored(&broker).await >= 50
    })
    .await;
    kill(relay_process);
    lock.rollback().await.unwrap();
    let stored_before = common::stored(&broker).await;
    let pending = outbox.backlog(&pool).await.unwrap().pending;
    assert_eq!(pending, total, "killed before its marks: every row still pending ({stored_before} stored)");

    // Its successor takes the lease once it expires and publishes everything again.
    let relay = outbox.relay(pool.clone(), broker.clone()).lease_ttl(LEASE).start().unwrap();
    common::wait_until("the successor publishes the rest", Duration::from_secs(120), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0
    })
    .await;
    let stats = relay.shutdown().await;
    assert_eq!(stats.published, total, "{stats:?}");
    assert!(stats.duplicates >= stored_before, "the rows stored before the kill were recognised: {stats:?}");
    common::assert_each_once_in_order(&broker, &expected_keys(3, committed)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_one_active_and_the_standby_takes_over_when_it_is_killed() {
    let server = common::server();
    let broker = common::broker(&server).await;
    let (pool, keep) = Postgres::open().await;
    let common::Keep::Postgres(pg) = &keep else { unreachable!() };
    let outbox = Outbox::<Postgres>::default();
    let env = [
        ("EVENTS_OUTBOX_CHILD_DB", pg.url()),
        ("EVENTS_OUTBOX_CHILD_NATS", server.url()),
        ("EVENTS_OUTBOX_CHILD_IN_FLIGHT", "64".into()),
    ];
    let active = child("relay", &env, "RELAYING").await;
    let standby = outbox.relay(pool.clone(), broker.clone()).instance("standby").lease_ttl(LEASE).start().unwrap();

    let mut committed = Vec::new();
    let enqueue = |from: u64| {
        let (pool, outbox) = (pool.clone(), outbox.clone());
        async move {
            let mut ids = Vec::new();
            for n in from..from + 300 {
                let key = format!("ITEM-{}", n % 4);
                let event = stock(&key, n);
                let mut tx = pool.begin().await.unwrap();
                outbox.enqueue_keyed(&mut tx, &event, &key).await.unwrap();
                tx.commit().await.unwrap();
                ids.push((n, event.event_id().to_string()));
            }
            ids
        }
    };
    committed.extend(enqueue(0).await);
    common::wait_until("the active relay publishes", Duration::from_secs(60), || async {
        common::stored(&broker).await == 300
    })
    .await;
    assert_eq!(standby.stats().published, 0, "the standby published nothing while the active one lived");
    assert!(!standby.stats().active);

    kill(active);
    let killed = Instant::now();
    committed.extend(enqueue(300).await);
    common::wait_until("the standby takes over", Duration::from_secs(30), || async { standby.stats().active }).await;
    let takeover = killed.elapsed();
    println!("the standby took over {takeover:?} after the kill (lease {LEASE:?})");
    common::wait_until("the standby publishes the rest", Duration::from_secs(60), || async {
        outbox.backlog(&pool).await.unwrap().pending == 0
    })
    .await;
    let stats = standby.shutdown().await;
    assert!(stats.published >= 300, "{stats:?}");
    common::assert_each_once_in_order(&broker, &expected_keys(4, committed)).await;
}
