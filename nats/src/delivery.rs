//! One delivery, from the broker's message to its answer: decode, claim, handle, then ack, nak
//! with the retry policy's delay, or dead letter.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{AckKind, Message};
use events::{ErrorInfo, Failure, Origin, RetryPolicy, SplitMix64};
use futures_util::FutureExt;

use crate::dead_letter::{self, FailureLog, PoisonMessage};
use crate::idempotency::{Claim, ProcessedIds};
use crate::message::Kind;
use crate::publish::Publisher;
use crate::router::{Context, Dispatch, Router};
use crate::subject::{self, header};

/// What a consumer did, counted as it runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    delivered: AtomicU64,
    processed: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
    poison: AtomicU64,
    unrouted: AtomicU64,
    duplicates: AtomicU64,
    recorded: AtomicU64,
    replays_for_others: AtomicU64,
    claims_lost: AtomicU64,
    held_elsewhere: AtomicU64,
    pub(crate) unanswered: AtomicU64,
}

/// A snapshot of what a consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Deliveries received, redeliveries included.
    pub delivered: u64,
    /// Handled and acknowledged.
    pub processed: u64,
    /// Failed and sent back for a retry.
    pub retried: u64,
    /// Given up on after the last attempt, and recorded in the dead-letter stream.
    pub dead_lettered: u64,
    /// Refused by decoding or validation, and recorded in the dead-letter stream at once.
    pub poison: u64,
    /// Valid, but no handler takes them: acknowledged unhandled.
    pub unrouted: u64,
    /// Ids already processed (idempotent consumers): acknowledged without calling the handler.
    pub duplicates: u64,
    /// Ids recorded as processed (idempotent consumers): one per id, however often it came.
    pub recorded: u64,
    /// Replays of dead letters another consumer failed: acknowledged unhandled.
    pub replays_for_others: u64,
    /// Handled, but another instance had taken the claim over meanwhile (the handler outran the
    /// ack wait): the message was handled twice, and recorded once.
    pub claims_lost: u64,
    /// Claimed by another instance at the time: sent back until that claim ends.
    pub held_elsewhere: u64,
    /// Handlers still running when a shutdown's drain timed out: their messages were left to the
    /// broker's redelivery.
    pub unanswered: u64,
}

/// What every delivery of one consumer shares.
pub(crate) struct Shared {
    pub name: String,
    pub kind: Kind,
    pub policy: RetryPolicy,
    pub handler_timeout: Duration,
    /// The consumer's ack wait, which is also how long a claim lives.
    pub ack_wait: Duration,
    pub publisher: Publisher,
    pub failures: FailureLog,
    pub processed: Option<ProcessedIds>,
    pub rng: Mutex<SplitMix64>,
    pub counters: Counters,
}

impl Shared {
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            delivered: get(&c.delivered),
            processed: get(&c.processed),
            retried: get(&c.retried),
            dead_lettered: get(&c.dead_lettered),
            poison: get(&c.poison),
            unrouted: get(&c.unrouted),
            duplicates: get(&c.duplicates),
            recorded: get(&c.recorded),
            replays_for_others: get(&c.replays_for_others),
            claims_lost: get(&c.claims_lost),
            held_elsewhere: get(&c.held_elsewhere),
            unanswered: get(&c.unanswered),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One delivery, from the broker's message to its answer. Every path but the common one (decoded,
/// handled, acknowledged) is boxed, so that the future each delivery allocates stays small.
pub(crate) async fn handle<R: events::Registry>(shared: &Shared, router: &Router<R>, message: Message) {
    bump(&shared.counters.delivered);
    let Ok(info) = message.info() else {
        tracing::error!(consumer = %shared.name, subject = %message.subject, "not a JetStream delivery; left unanswered");
        return;
    };
    let attempt = u32::try_from(info.delivered.max(1)).unwrap_or(u32::MAX);
    let sequence = info.stream_sequence;
    let stream = info.stream;
    // Built when needed: the common path (decoded, handled, acknowledged) allocates once for it.
    let origin = || Origin::new(message.subject.as_str(), shared.name.as_str()).in_stream(stream, sequence);
    let published = chrono::DateTime::from_timestamp_nanos(
        i64::try_from(info.published.unix_timestamp_nanos()).unwrap_or(i64::MAX),
    );
    let key = || subject::failures_key(&shared.name, stream, sequence);
    let bytes = message.payload.clone();
    let max = shared.policy.max_attempts();

    if attempt > max {
        // The last allowed attempt never answered (a crash or a hang), or its dead-letter record
        // could not be written: the handler is not called again.
        let key = key();
        let mut failures = Box::pin(shared.failures.load(&key)).await;
        if failures.last().map(|f| f.attempt) != Some(max) {
            let hung = ErrorInfo {
                error_type: "events_nats::NoAnswer".to_string(),
                message: format!("attempt {max} was not answered within the ack wait"),
                causes: vec![],
            };
            failures.push(Failure::new(max, chrono::Utc::now(), hung));
        }
        Box::pin(dead_letter(shared, router, &message, &bytes, max, failures, &origin(), &key)).await;
        return;
    }

    let cx = || Context { attempt, max_attempts: max, origin: origin(), published };
    // The common path reads the body once, straight into the guessed contract's type. Otherwise
    // (members in another order, a guess that was wrong, or a message that does not decode) the
    // body is parsed once, routed on its members and decoded from that parse.
    let guess = router.route_fast(&bytes, shared.kind);
    let fast = guess.as_ref().map(|route| route.dispatch(&bytes, cx()));
    let dispatched = match fast {
        Some(Ok(dispatch)) => Ok(dispatch),
        fast => match events::parse_json(&bytes) {
            Err(error) => Err(error),
            Ok(body) => {
                let route = router.route(&body, shared.kind);
                match (fast, &guess) {
                    // The guess was right: its error is the message's.
                    (Some(Err(error)), Some(guess)) if Arc::ptr_eq(guess, &route) => Err(error),
                    _ => route.dispatch_value(body, cx()),
                }
            }
        },
    };
    let Dispatch { ids, run } = match dispatched {
        Ok(dispatch) => dispatch,
        Err(error) => {
            let record = PoisonMessage::new(&bytes, message.headers.as_ref(), &error, origin());
            let out = dead_letter::poison_record(&record, &shared.name);
            match Box::pin(shared.publisher.publish_outgoing(out)).await {
                Ok(_) => {
                    answer(&message, AckKind::Term, &shared.name).await;
                    bump(&shared.counters.poison);
                    tracing::error!(consumer = %shared.name, subject = %message.subject, sequence,
                        error = %error, "poison message dead-lettered");
                }
                Err(e) => {
                    tracing::error!(consumer = %shared.name, sequence, error = %e, "could not dead-letter a poison message; retrying later");
                    answer(&message, AckKind::Nak(Some(Duration::from_secs(1))), &shared.name).await;
                }
            }
            return;
        }
    };
    if let Some(owner) = replay_for(&message) {
        if owner != shared.name {
            answer(&message, AckKind::Ack, &shared.name).await;
            bump(&shared.counters.replays_for_others);
            tracing::debug!(consumer = %shared.name, name = ids.name, id = %ids.id, replay_for = owner,
                "a replay for another consumer; acknowledged");
            return;
        }
    }
    let Some(run) = run else {
        answer(&message, AckKind::Ack, &shared.name).await;
        bump(&shared.counters.unrouted);
        tracing::debug!(consumer = %shared.name, name = ids.name, id = %ids.id, "no handler; acknowledged");
        return;
    };
    let claim = match &shared.processed {
        None => None,
        Some(store) => match Box::pin(store.claim(&ids.id, attempt, sequence)).await {
            Ok(Claim::Owned(revision, token)) => Some((revision, token)),
            Ok(Claim::Processed(record)) => {
                answer(&message, AckKind::Ack, &shared.name).await;
                if attempt > 1 {
                    Box::pin(shared.failures.clear(&key())).await;
                }
                bump(&shared.counters.duplicates);
                tracing::info!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
                    processed_by = %record.instance, processed_at = %record.at, "already processed; acknowledged");
                return;
            }
            Ok(Claim::Held(remaining)) => {
                let delay = remaining.max(Duration::from_millis(50));
                answer(&message, AckKind::Nak(Some(delay)), &shared.name).await;
                bump(&shared.counters.held_elsewhere);
                tracing::info!(consumer = %shared.name, name = ids.name, id = %ids.id, retry_in = ?delay,
                    "another instance holds this id; sent back");
                return;
            }
            Err(e) => {
                // Without the claim, handling could double: wait for the store.
                answer(&message, AckKind::Nak(Some(Duration::from_secs(1))), &shared.name).await;
                tracing::warn!(consumer = %shared.name, name = ids.name, id = %ids.id, error = %e,
                    "the processed-id store did not answer; sent back");
                return;
            }
        },
    };
    tracing::info!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
        causation_id = %ids.causation_id, attempt, retry_count = attempt - 1, "delivered");

    let result =
        match tokio::time::timeout(shared.handler_timeout, AssertUnwindSafe(async move { run().await }).catch_unwind())
            .await
        {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string());
                Err(ErrorInfo { error_type: "events_nats::HandlerPanicked".into(), message: text, causes: vec![] })
            }
            Err(_) => Err(ErrorInfo {
                error_type: "events_nats::HandlerTimedOut".into(),
                message: format!("no answer within the handler timeout of {:?}", shared.handler_timeout),
                causes: vec![],
            }),
        };
    match result {
        Ok(()) => {
            if let (Some(store), Some((revision, token))) = (&shared.processed, &claim) {
                match Box::pin(store.mark_processed(&ids.id, (*revision, token), attempt, sequence)).await {
                    Ok(true) => bump(&shared.counters.recorded),
                    Ok(false) => {
                        bump(&shared.counters.claims_lost);
                        tracing::warn!(consumer = %shared.name, name = ids.name, id = %ids.id,
                            "the claim was taken over while the handler ran (it outran the ack wait): handled twice");
                    }
                    // Not acknowledged: the broker delivers it again once the claim has expired,
                    // and that delivery runs the handler again and records the id. The one
                    // window where a handler runs twice.
                    Err(e) => {
                        tracing::error!(consumer = %shared.name, name = ids.name, id = %ids.id, error = %e,
                            "could not record the id as processed; it will be handled again");
                        answer(&message, AckKind::Nak(Some(shared.ack_wait)), &shared.name).await;
                        return;
                    }
                }
            }
            answer(&message, AckKind::Ack, &shared.name).await;
            if attempt > 1 {
                Box::pin(shared.failures.clear(&key())).await;
            }
            bump(&shared.counters.processed);
            tracing::info!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
                attempt, "processed");
        }
        Err(error) => {
            if let (Some(store), Some((revision, _))) = (&shared.processed, &claim) {
                Box::pin(store.release(&ids.id, *revision)).await;
            }
            let failure = Failure::new(attempt, chrono::Utc::now(), error.clone());
            let failures = Box::pin(shared.failures.push(&key(), failure)).await;
            if shared.policy.allows_retry(attempt - 1) {
                let delay = shared.policy.delay(attempt, &mut *shared.rng.lock().unwrap_or_else(|p| p.into_inner()));
                answer(&message, AckKind::Nak(Some(delay)), &shared.name).await;
                bump(&shared.counters.retried);
                tracing::warn!(consumer = %shared.name, name = ids.name, id = %ids.id, correlation_id = %ids.correlation_id,
                    attempt, retry_in = ?delay, error = %error.message, "handler failed; retrying");
            } else {
                Box::pin(dead_letter(shared, router, &message, &bytes, attempt, failures, &origin(), &key())).await;
            }
        }
    }
}

/// Writes the record, then terminates the message; the failures stay in the log until both are
/// done, so a crash in between leaves a later delivery everything it needs.
#[allow(clippy::too_many_arguments)]
async fn dead_letter<R: events::Registry>(
    shared: &Shared,
    router: &Router<R>,
    message: &Message,
    bytes: &[u8],
    attempts: u32,
    failures: Vec<Failure>,
    origin: &Origin,
    key: &str,
) {
    let record = events::parse_json(bytes).and_then(|body| router.route(&body, shared.kind).record(body, attempts));
    let out = match record {
        Ok((ids, value)) => {
            dead_letter::message_record(shared.kind, value, &ids, attempts, failures, origin, &shared.name)
        }
        Err(error) => {
            let record = PoisonMessage::new(bytes, message.headers.as_ref(), &error, origin.clone());
            dead_letter::poison_record(&record, &shared.name)
        }
    };
    let name = out.name.clone();
    match Box::pin(shared.publisher.publish_outgoing(out)).await {
        Ok(_) => {
            answer(message, AckKind::Term, &shared.name).await;
            shared.failures.clear(key).await;
            bump(&shared.counters.dead_lettered);
            tracing::error!(consumer = %shared.name, name = %name, subject = %origin.queue, sequence = origin.offset,
                attempts, "dead-lettered");
        }
        Err(e) => {
            tracing::error!(consumer = %shared.name, error = %e, "could not write the dead-letter record; the message stays");
            answer(message, AckKind::Nak(Some(Duration::from_secs(1))), &shared.name).await;
        }
    }
}

async fn answer(message: &Message, kind: AckKind, consumer: &str) {
    if let Err(e) = message.ack_with(kind).await {
        tracing::warn!(consumer, subject = %message.subject, error = %e, "could not answer the broker; it will deliver again");
    }
}

/// The `Events-Replay-For` header, found without building a header name (which allocates).
fn replay_for(message: &Message) -> Option<&str> {
    let headers = message.headers.as_ref()?;
    let (_, values) =
        headers.iter().find(|(name, _)| AsRef::<str>::as_ref(*name).eq_ignore_ascii_case(header::REPLAY_FOR))?;
    values.first().map(|v| v.as_str())
}
