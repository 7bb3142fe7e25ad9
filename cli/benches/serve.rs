//! A load test of `events serve` on loopback, bounded in count and time: requests per second for
//! `GET /subjects/{s}/versions/latest` and for a compatibility check, 16 clients at a time.
//!
//! ```sh
//! cargo bench -p events-cli --bench serve
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const REQUESTS: usize = 4000;
/// No run takes longer than this, whatever the machine.
const LIMIT: Duration = Duration::from_secs(30);

fn main() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let mut child = Command::new(env!("CARGO_BIN_EXE_events"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(&workspace)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the events binary runs");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server starts").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let latest = format!("http://{addr}/subjects/orderCreatedSchema/versions/latest");
        let schema =
            client.get(&latest).send().await.unwrap().json::<serde_json::Value>().await.unwrap()["schema"].clone();
        let compat = format!("http://{addr}/compatibility/subjects/orderCreatedSchema/versions/latest");
        let body = serde_json::json!({ "schema": schema }).to_string();
        let get = run(&client, move |c| c.get(latest.clone())).await;
        let check = run(&client, move |c| {
            c.post(compat.clone()).header("content-type", "application/vnd.schemaregistry.v1+json").body(body.clone())
        })
        .await;
        println!("events serve on loopback, {CLIENTS} concurrent clients, release builds:");
        println!(
            "  GET  /subjects/orderCreatedSchema/versions/latest            {:>8.0} requests/s ({} requests)",
            get.0, get.1
        );
        println!(
            "  POST /compatibility/subjects/orderCreatedSchema/versions/latest {:>5.0} requests/s ({} requests)",
            check.0, check.1
        );
        println!("  ratio: a compatibility check costs {:.1}× a schema fetch", get.0 / check.0);
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// Requests per second over `REQUESTS` requests (fewer if `LIMIT` passes first).
async fn run(
    client: &reqwest::Client,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> (f64, usize) {
    let make = Arc::new(make);
    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, make, done) = (client.clone(), make.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < REQUESTS && started.elapsed() < LIMIT {
                let r = make(&client).send().await.expect("the server answers");
                assert!(r.status().is_success(), "{}", r.status());
                let _ = r.bytes().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = done.load(std::sync::atomic::Ordering::Relaxed).min(REQUESTS);
    (n as f64 / started.elapsed().as_secs_f64(), n)
}
