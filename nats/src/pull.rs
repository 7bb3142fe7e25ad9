//! Pulling deliveries: one subscription, pull requests kept ahead of the handlers, and an exact
//! count of what is still owed, so that a shutdown can wait for every message it asked for.
//!
//! The client's own continuous pull cannot be stopped cleanly (messages it asked for keep
//! arriving after it is dropped, and wait out the ack wait), and a fresh batch per round costs a
//! subscription and a round trip each time. Here every request ends, on the server's side,
//! either delivered in full or with a status (408, 409) saying how many it will not deliver.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull::BatchConfig;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, Message};
use async_nats::{StatusCode, Subject, Subscriber};
use futures_util::StreamExt;

pub(crate) struct Puller {
    consumer: PullConsumer,
    jetstream: jetstream::Context,
    inbox: Subject,
    subscription: Subscriber,
    expires: Duration,
    /// Messages asked for and neither received nor cancelled.
    owed: usize,
    last_request: Option<Instant>,
}

impl Puller {
    pub async fn new(
        consumer: PullConsumer,
        client: &async_nats::Client,
        jetstream: jetstream::Context,
        expires: Duration,
    ) -> Result<Self, String> {
        let inbox = Subject::from(client.new_inbox());
        let subscription = client.subscribe(inbox.clone()).await.map_err(|e| e.to_string())?;
        Ok(Puller { consumer, jetstream, inbox, subscription, expires, owed: 0, last_request: None })
    }

    /// How many messages are still owed. Requests older than their expiry (and a margin) are
    /// over whatever the server said, or failed to say across a reconnect: nothing is owed then.
    pub fn owed(&mut self) -> usize {
        if self.last_request.is_some_and(|t| t.elapsed() > self.expires + Duration::from_secs(1)) {
            self.owed = 0;
        }
        self.owed
    }

    /// Asks for `n` more messages.
    pub async fn request(&mut self, n: usize) -> Result<(), String> {
        let config = BatchConfig { batch: n, expires: Some(self.expires), ..Default::default() };
        self.consumer.request_batch(config, self.inbox.clone()).await.map_err(|e| e.to_string())?;
        self.owed += n;
        self.last_request = Some(Instant::now());
        Ok(())
    }

    /// The next message delivered. Statuses are accounted for on the way; cancel-safe (nothing is
    /// held across the wait).
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            let message = self.subscription.next().await?;
            match message.status {
                None | Some(StatusCode::OK) => {
                    self.owed = self.owed.saturating_sub(1);
                    return Some(Message { message, context: self.jetstream.clone() });
                }
                Some(StatusCode::IDLE_HEARTBEAT) => {}
                // A request that ended short: it says how many it will not deliver.
                Some(status) => {
                    let undelivered = message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get("Nats-Pending-Messages"))
                        .and_then(|v| v.as_str().parse::<usize>().ok());
                    match undelivered {
                        Some(n) => self.owed = self.owed.saturating_sub(n),
                        None => {
                            tracing::warn!(status = %status, description = ?message.description, "pull request ended");
                            self.owed = 0;
                        }
                    }
                }
            }
        }
    }
}
