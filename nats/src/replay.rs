//! Replaying dead letters once the cause is fixed: each selected record's message goes back to
//! its original subject, for the consumer that failed it only, and the record is removed once the
//! broker has stored the message again.

use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use events::Registry;
use futures_util::StreamExt;

use crate::publish::{Outgoing, PublishError};
use crate::subject::{self, header, DEAD_LETTERS_STREAM};
use crate::Broker;

/// Which dead letters to replay: every filter given must match.
///
/// ```
/// let selection = events_nats::Replay::new()
///     .consumer("PaymentService")
///     .contract("InventoryUpdatedIntegrationEvent")
///     .since("2025-02-25T00:00:00Z".parse().unwrap());
/// assert_eq!(selection.subject_filter(), "deadletters.PaymentService.>");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Replay {
    consumer: Option<String>,
    contract: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    poison: bool,
    dry_run: bool,
}

impl Replay {
    /// Every event and command record; no poison messages.
    pub fn new() -> Self {
        Replay::default()
    }
    /// Only the records of this consumer.
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = Some(name.into());
        self
    }
    /// Only this contract (`eventName` or `commandName`).
    pub fn contract(mut self, name: impl Into<String>) -> Self {
        self.contract = Some(name.into());
        self
    }
    /// Only records dead-lettered at or after `t`.
    pub fn since(mut self, t: DateTime<Utc>) -> Self {
        self.since = Some(t);
        self
    }
    /// Only records dead-lettered before `t`.
    pub fn until(mut self, t: DateTime<Utc>) -> Self {
        self.until = Some(t);
        self
    }
    /// Poison messages too: their body is republished exactly as received (after a fix of the
    /// registry, say), under a new `Nats-Msg-Id`.
    pub fn include_poison(mut self) -> Self {
        self.poison = true;
        self
    }

    /// Reports what would be replayed, and changes nothing.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// The dead-letter subjects the selection reads.
    pub fn subject_filter(&self) -> String {
        format!("deadletters.{}.>", self.consumer.as_deref().unwrap_or("*"))
    }
}

/// One dead letter replayed (or, in a dry run, that would be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The record's sequence in the dead-letter stream (now removed).
    pub dead_letter_sequence: u64,
    /// The consumer that failed it, and the only one that handles the replay.
    pub consumer: String,
    /// The subject it was republished on.
    pub subject: String,
    /// Its new `Nats-Msg-Id`: `<eventId>:replay:<dead-letter sequence>`.
    pub msg_id: String,
    /// `eventName` or `commandName` (empty for a poison message).
    pub name: String,
}

/// What a replay did: what it republished, and what it left and why.
#[derive(Debug, Default)]
pub struct ReplayReport {
    /// Republished, and their records removed.
    pub replayed: Vec<Replayed>,
    /// Left in the dead-letter stream: (sequence, why).
    pub left: Vec<(u64, String)>,
}

/// A replay that could not read the dead-letter stream, or publish.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The dead-letter stream could not be read: the broker's error.
    #[error("reading {DEAD_LETTERS_STREAM}: {0}")]
    Read(#[source] events::BoxError),
    /// A republish failed; the record stays, and the message is handed back. Records replayed
    /// before it are in `done`.
    #[error("republishing dead letter {sequence}: {source}")]
    Publish {
        /// The record's sequence.
        sequence: u64,
        /// The publish error, with the message.
        #[source]
        source: Box<PublishError>,
        /// What was replayed before.
        done: ReplayReport,
    },
}

impl Broker {
    /// Replays the dead letters of registry `R` that `selection` picks, oldest first. Records of
    /// contracts `R` does not know (another registry's, on a shared broker) are not selected.
    ///
    /// ```no_run
    /// # async fn run(broker: events_nats::Broker) -> Result<(), events_nats::ReplayError> {
    /// let report = broker.replay::<events::Contracts>(&events_nats::Replay::new().consumer("PaymentService")).await?;
    /// println!("{} replayed, {} left", report.replayed.len(), report.left.len());
    /// # Ok(()) }
    /// ```
    pub async fn replay<R: Registry>(&self, selection: &Replay) -> Result<ReplayReport, ReplayError> {
        fn read(e: impl Into<events::BoxError>) -> ReplayError {
            ReplayError::Read(e.into())
        }
        let stream = self.0.jetstream.get_stream(DEAD_LETTERS_STREAM).await.map_err(read)?;
        let config = pull::Config {
            filter_subject: selection.subject_filter(),
            ack_policy: AckPolicy::None,
            deliver_policy: DeliverPolicy::All,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        };
        let mut reader = stream.create_consumer(config).await.map_err(read)?;
        let pending = reader.info().await.map_err(read)?.num_pending as usize;
        let mut report = ReplayReport::default();
        if pending == 0 {
            return Ok(report);
        }
        let mut batch =
            reader.fetch().max_messages(pending).expires(Duration::from_secs(10)).messages().await.map_err(read)?;
        let publisher = self.publisher();
        let mut seen = 0;
        while seen < pending {
            let Some(message) = batch.next().await else { break };
            seen += 1;
            let message = message.map_err(read)?;
            let info = message.info().map_err(read)?;
            let sequence = info.stream_sequence;
            let stored_at = DateTime::from_timestamp_nanos(
                i64::try_from(info.published.unix_timestamp_nanos()).unwrap_or(i64::MAX),
            );
            let headers = message.headers.clone().unwrap_or_default();
            let get = |name: &str| headers.get(name).map(|v| v.as_str().to_string()).unwrap_or_default();
            let (kind, consumer, origin_subject, name) =
                (get(header::DEAD_LETTER), get(header::CONSUMER), get(header::ORIGIN_SUBJECT), get(header::NAME));
            let foreign = (kind == "event" || kind == "command") && R::ACCESS.rule(&name).is_none();
            if foreign
                || selection.contract.as_ref().is_some_and(|c| *c != name)
                || selection.since.is_some_and(|t| stored_at < t)
                || selection.until.is_some_and(|t| stored_at >= t)
            {
                continue;
            }
            let out = match replay_message::<R>(
                &kind,
                &message.payload,
                &headers,
                sequence,
                &consumer,
                &origin_subject,
                selection.poison,
            ) {
                Ok(out) => out,
                Err(why) => {
                    report.left.push((sequence, why));
                    continue;
                }
            };
            let (subject, msg_id) = (out.subject.clone(), out.msg_id.clone());
            if selection.dry_run {
                report.replayed.push(Replayed { dead_letter_sequence: sequence, consumer, subject, msg_id, name });
                continue;
            }
            match publisher.publish_outgoing(out).await {
                Ok(_) => {
                    if let Err(e) = stream.delete_message(sequence).await {
                        report.left.push((sequence, format!("republished, but the record could not be removed: {e}")));
                    }
                    tracing::info!(consumer = %consumer, name = %name, subject = %subject, msg_id = %msg_id,
                        dead_letter_sequence = sequence, "dead letter replayed");
                    report.replayed.push(Replayed { dead_letter_sequence: sequence, consumer, subject, msg_id, name });
                }
                Err(e) => return Err(ReplayError::Publish { sequence, source: Box::new(e), done: report }),
            }
        }
        Ok(report)
    }
}

/// The message a record replays: the message as first published (`retryCount` 0, `created`),
/// its registry headers, a `Nats-Msg-Id` of its own and the consumer it is for.
fn replay_message<R: Registry>(
    kind: &str,
    body: &[u8],
    record_headers: &HeaderMap,
    sequence: u64,
    consumer: &str,
    origin_subject: &str,
    poison: bool,
) -> Result<Outgoing, String> {
    if consumer.is_empty() || origin_subject.is_empty() {
        return Err("not a dead-letter record of this transport (no consumer or origin header)".into());
    }
    let record: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("unreadable record: {e}"))?;
    let (mut out, id) = match kind {
        "event" | "command" => {
            let mut message = record.get(kind).cloned().ok_or_else(|| format!("the record has no `{kind}`"))?;
            if kind == "event" {
                message["retryCount"] = 0.into();
                message["eventStatus"] = "created".into();
            }
            let out = Outgoing::from_json::<R>(&message, origin_subject)
                .map_err(|e| format!("the {kind} no longer decodes: {e}"))?;
            let id = out.msg_id.clone();
            (out, id)
        }
        "poison" if poison => {
            let record: crate::PoisonMessage =
                serde_json::from_value(record).map_err(|e| format!("unreadable poison record: {e}"))?;
            let body = record.body_bytes().map_err(|e| format!("unreadable poison body: {e}"))?;
            let mut headers = HeaderMap::new();
            for (name, values) in &record.headers {
                if name != header::MSG_ID {
                    for v in values {
                        headers.append(name.as_str(), v.as_str());
                    }
                }
            }
            let id = record_headers.get(header::MSG_ID).map(|v| v.as_str().to_string()).unwrap_or_default();
            let out = Outgoing {
                subject: origin_subject.to_string(),
                headers,
                body: Bytes::from(body),
                msg_id: String::new(),
                name: String::new(),
            };
            (out, id)
        }
        "poison" => return Err("a poison message (include_poison replays it)".into()),
        other => return Err(format!("unknown dead-letter kind {other:?}")),
    };
    out.msg_id = subject::replay_msg_id(&id, sequence);
    out.headers.insert(header::MSG_ID, out.msg_id.as_str());
    out.headers.insert(header::REPLAY_FOR, consumer);
    out.headers.insert(header::REPLAY_OF, sequence.to_string().as_str());
    Ok(out)
}
