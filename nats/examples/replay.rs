//! Replays dead letters once their cause is fixed: each selected record's message goes back to
//! its original subject, for the consumer that failed it only (others acknowledge it unhandled),
//! with a `Nats-Msg-Id` of its own and `retryCount` starting again; the record is removed once the
//! broker has stored the message.
//!
//! ```sh
//! NATS_URL=nats://127.0.0.1:4222 cargo run -p events-nats --example replay -- \
//!     --consumer PaymentService --contract InventoryUpdatedIntegrationEvent \
//!     --since 2025-02-25T00:00:00Z --until 2025-02-26T00:00:00Z [--include-poison] [--dry-run]
//! ```
//!
//! Exit status: 0 when every selected record was replayed, 1 when some were left (listed, with
//! why), 2 on a usage error or when the broker cannot be reached.

use chrono::{DateTime, Utc};
use events::Contracts;
use events_nats::{Broker, BrokerConfig, Replay};

const USAGE: &str = "usage: replay [--consumer NAME] [--contract NAME] [--since RFC3339] [--until RFC3339] \
[--include-poison] [--dry-run]   (the server: NATS_URL)";

fn parse(args: &[String]) -> Result<Replay, String> {
    let mut selection = Replay::new();
    let mut args = args.iter();
    let time = |flag: &str, value: Option<&String>| -> Result<DateTime<Utc>, String> {
        let value = value.ok_or_else(|| format!("{flag} needs a time"))?;
        value.parse().map_err(|e| format!("{flag} {value}: not an RFC 3339 time ({e})"))
    };
    while let Some(arg) = args.next() {
        selection = match arg.as_str() {
            "--consumer" => selection.consumer(args.next().ok_or("--consumer needs a name")?),
            "--contract" => selection.contract(args.next().ok_or("--contract needs a name")?),
            "--since" => selection.since(time("--since", args.next())?),
            "--until" => selection.until(time("--until", args.next())?),
            "--include-poison" => selection.include_poison(),
            "--dry-run" => selection.dry_run(),
            other => return Err(format!("unknown argument {other:?}")),
        };
    }
    Ok(selection)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let selection = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("replay: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let Ok(url) = std::env::var("NATS_URL") else {
        eprintln!("replay: set NATS_URL to the server holding the dead letters\n{USAGE}");
        std::process::exit(2);
    };
    let broker = match events_nats::connect(&url).await {
        Ok(client) => Broker::setup(client, BrokerConfig::default()).await,
        Err(e) => {
            eprintln!("replay: {e}");
            std::process::exit(2);
        }
    };
    let broker = broker.unwrap_or_else(|e| {
        eprintln!("replay: {e}");
        std::process::exit(2);
    });
    match broker.replay::<Contracts>(&selection).await {
        Ok(report) => {
            for r in &report.replayed {
                println!(
                    "replayed dead letter {} ({} of {}) to {} as {}",
                    r.dead_letter_sequence, r.name, r.consumer, r.subject, r.msg_id
                );
            }
            for (sequence, why) in &report.left {
                println!("left dead letter {sequence}: {why}");
            }
            println!("{} replayed, {} left", report.replayed.len(), report.left.len());
            if !report.left.is_empty() {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("replay: {e}");
            std::process::exit(1);
        }
    }
}
