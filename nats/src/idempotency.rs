//! Effectively-once handling: which event and command ids a consumer has processed, kept in a
//! key-value bucket of its own on the broker, so that its instances, and a restarted one, agree.
//!
//! Before a handler runs, the consumer claims the message's id (a `create`, which only one
//! instance can win); `Ok` marks it processed (an update against the claim's revision, so a claim
//! taken over after it expired can never write a second record); `Err` releases it. A claim older
//! than the ack wait is expired: its holder crashed or hung, and the broker has delivered the
//! message again; the next delivery takes the claim over.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::kv::{self, CreateErrorKind, UpdateErrorKind};
use chrono::{DateTime, Utc};
use events::{RandomSource, SplitMix64};
use serde::{Deserialize, Serialize};

use crate::subject;

/// Where an id stands in a consumer's processed-id bucket: the consumer's own record of an
/// event's (or command's) status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Processing {
    /// Claimed by an instance whose handler is running (or crashed before it could say).
    InProgress,
    /// Handled and acknowledged.
    Processed,
}

/// One entry of the processed-id bucket, under the message's eventId (or commandId).
///
/// ```
/// let entry: events_nats::ProcessingRecord = serde_json::from_value(serde_json::json!({
///     "status": "processed", "attempt": 2, "instance": "billing-7f9c:4d2a", "at": "2025-02-25T19:05:00Z",
///     "streamSequence": 42, "claim": "9f2c4e1d0b7a3856"
/// })).unwrap();
/// assert_eq!(entry.status, events_nats::Processing::Processed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessingRecord {
    /// In progress or processed.
    pub status: Processing,
    /// The delivery attempt that wrote it.
    pub attempt: u32,
    /// The consumer instance that wrote it.
    pub instance: String,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// The stream sequence of the message that carried the id.
    pub stream_sequence: u64,
    /// Which claim wrote it: a random token per delivery, so that a delivery can tell its own
    /// write (stored, its answer lost) from another's.
    pub claim: String,
}

/// What claiming an id found.
#[derive(Debug)]
pub(crate) enum Claim {
    /// This delivery holds the id: run the handler. The revision to mark or release it with,
    /// and the claim's token.
    Owned(u64, String),
    /// Already processed: acknowledge without handling.
    Processed(ProcessingRecord),
    /// Another instance holds a live claim; it ends within this long.
    Held(Duration),
}

#[derive(Debug, Clone)]
pub(crate) struct ProcessedIds {
    store: kv::Store,
    claim_ttl: Duration,
    instance: String,
}

/// The bucket of a consumer's processed ids.
pub(crate) fn bucket_name(consumer: &str) -> String {
    format!("{}{consumer}", subject::PROCESSED_BUCKET_PREFIX)
}

impl ProcessedIds {
    /// Opens the consumer's bucket, creating it with `horizon` as its max age.
    pub async fn open(
        js: &jetstream::Context,
        consumer: &str,
        horizon: Duration,
        replicas: usize,
        claim_ttl: Duration,
    ) -> Result<Self, String> {
        let bucket = bucket_name(consumer);
        let description = format!("Ids {consumer} has processed, kept {horizon:?}");
        let wanted = crate::setup::bucket_stream(&bucket, &description, horizon, replicas);
        let mut stream = js.get_or_create_stream(wanted).await.map_err(|e| format!("the bucket {bucket}: {e}"))?;
        let found = stream.info().await.map_err(|e| format!("the bucket {bucket}: {e}"))?.config.max_age;
        if found != horizon {
            return Err(format!("the bucket {bucket} exists with a horizon of {found:?}, not {horizon:?}"));
        }
        let store = js.get_key_value(&bucket).await.map_err(|e| format!("the bucket {bucket}: {e}"))?;
        Ok(ProcessedIds { store, claim_ttl, instance: instance_name() })
    }

    fn record(&self, status: Processing, attempt: u32, stream_sequence: u64, claim: &str) -> bytes::Bytes {
        let record = ProcessingRecord {
            status,
            attempt,
            instance: self.instance.clone(),
            at: Utc::now(),
            stream_sequence,
            claim: claim.to_string(),
        };
        serde_json::to_vec(&record).expect("a record always serializes").into()
    }

    pub async fn claim(&self, id: &str, attempt: u32, stream_sequence: u64) -> Result<Claim, String> {
        let token = format!("{:016x}", SplitMix64::from_entropy().next_u64());
        let value = self.record(Processing::InProgress, attempt, stream_sequence, &token);
        // A few rounds: each lost race is another instance making progress.
        for _ in 0..8 {
            match self.store.create(id, value.clone()).await {
                Ok(revision) => return Ok(Claim::Owned(revision, token)),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("claiming {id}: {e}")),
            }
            let Some(entry) = self.store.entry(id).await.map_err(|e| format!("reading the claim of {id}: {e}"))? else {
                continue; // released meanwhile
            };
            if entry.operation != kv::Operation::Put {
                continue;
            }
            // Unreadable: treated as an expired claim, so that it is overwritten.
            let record: Option<ProcessingRecord> = serde_json::from_slice(&entry.value).ok();
            if let Some(record) = &record {
                if record.status == Processing::Processed {
                    return Ok(Claim::Processed(record.clone()));
                }
                let age = (Utc::now() - record.at).to_std().unwrap_or_default();
                if age < self.claim_ttl {
                    return Ok(Claim::Held(self.claim_ttl - age));
                }
            }
            match self.store.update(id, value.clone(), entry.revision).await {
                Ok(revision) => return Ok(Claim::Owned(revision, token)),
                Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => continue,
                Err(e) => return Err(format!("taking over the expired claim of {id}: {e}")),
            }
        }
        Err(format!("claiming {id}: contended too often"))
    }

    /// Marks `id` processed, if this instance still holds its claim, retrying while the broker
    /// does not answer. `Ok(false)`: the claim was taken over (it had expired), and the other
    /// instance writes the record.
    pub async fn mark_processed(
        &self,
        id: &str,
        (revision, token): (u64, &str),
        attempt: u32,
        stream_sequence: u64,
    ) -> Result<bool, String> {
        let value = self.record(Processing::Processed, attempt, stream_sequence, token);
        let mut backoff = Duration::from_millis(20);
        // Past the claim's lifetime another delivery may take it over: no point trying longer.
        let deadline = tokio::time::Instant::now() + self.claim_ttl;
        loop {
            match self.store.update(id, value.clone(), revision).await {
                Ok(_) => return Ok(true),
                // Either another instance took the claim over, or an earlier try of ours was
                // stored and its answer lost: the record says which.
                Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => {
                    return Ok(self.recorded_by(id, token).await)
                }
                Err(e) if tokio::time::Instant::now() + backoff < deadline => {
                    tracing::warn!(id, error = %e, retry_in = ?backoff, "could not mark processed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(format!("marking {id} processed: {e}")),
            }
        }
    }

    /// Whether the record of `id` is the processed record of claim `token`.
    async fn recorded_by(&self, id: &str, token: &str) -> bool {
        let Ok(Some(bytes)) = self.store.get(id).await else { return false };
        serde_json::from_slice::<ProcessingRecord>(&bytes)
            .is_ok_and(|r| r.status == Processing::Processed && r.claim == token)
    }

    /// Gives the claim up after a failure, so that the retry can take it at once.
    pub async fn release(&self, id: &str, revision: u64) {
        if let Err(e) = self.store.delete_expect_revision(id, Some(revision)).await {
            tracing::warn!(id, error = %e, "could not release a claim; it expires after the ack wait");
        }
    }
}

impl crate::Broker {
    /// What idempotent consumer `consumer` recorded of the event or command with id `id`:
    /// in progress, processed, or nothing (never seen, released after a failure, or older than
    /// the horizon).
    pub async fn processing_record(
        &self,
        consumer: &str,
        id: &str,
    ) -> Result<Option<ProcessingRecord>, crate::ConsumerError> {
        use crate::{ConsumerError, ConsumerErrorKind::Broker};
        let bucket = bucket_name(consumer);
        let store = self
            .0
            .jetstream
            .get_key_value(&bucket)
            .await
            .map_err(|e| ConsumerError::with_source(Broker, format!("the bucket {bucket}"), e))?;
        match store
            .get(id)
            .await
            .map_err(|e| ConsumerError::with_source(Broker, format!("reading {id} in {bucket}"), e))?
        {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ConsumerError::with_source(Broker, format!("the record of {id} in {bucket}"), e)),
            None => Ok(None),
        }
    }
}

/// This consumer instance, as records name it: host, process id, and a number within the process.
fn instance_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".to_string());
    format!("{host}:{}:{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
