//! What a stored row holds: the transport's [`Outgoing`] message, taken apart into columns and put
//! back together byte for byte.

use events::{Command, CommandContract, Envelope, EventContract};
use events_nats::async_nats::HeaderMap;
use events_nats::{subject::header, Outgoing};

use crate::backend::Pending;

/// A message the outbox stores: an event (`Envelope<P>`) or a command (`Command<P>`) of any
/// registry.
pub trait Outboxed {
    /// `"event"` or `"command"`.
    #[doc(hidden)]
    const KIND: &'static str;
    /// The message as the transport sends it: subject, headers, the exact `to_json` bytes.
    fn outgoing(&self) -> Outgoing;
}

impl<P: EventContract> Outboxed for Envelope<P> {
    const KIND: &'static str = "event";
    fn outgoing(&self) -> Outgoing {
        Outgoing::event(self)
    }
}

impl<P: CommandContract> Outboxed for Command<P> {
    const KIND: &'static str = "command";
    fn outgoing(&self) -> Outgoing {
        Outgoing::command(self)
    }
}

/// The headers as a JSON array of `[name, value]` pairs: repeated names (one `Events-Tag` per
/// tag) and their order kept.
pub(crate) fn encode_headers(headers: &HeaderMap) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (name, values) in headers.iter() {
        for v in values {
            pairs.push((name.as_ref(), v.as_str()));
        }
    }
    // HeaderMap iterates in hash order: sorted by name (values keep their order) so that the
    // stored text is the same for the same message.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    serde_json::to_string(&pairs).expect("strings always serialize")
}

/// The correlation id, the default ordering key.
pub(crate) fn correlation_of(message: &Outgoing) -> &str {
    message.headers.get(header::CORRELATION_ID).map(|v| v.as_str()).unwrap_or("")
}

impl Pending {
    /// The row as the transport's message again. A row whose headers do not parse was not
    /// written by this crate: the reason is the caller's to park it with.
    pub(crate) fn to_outgoing(&self) -> Result<Outgoing, String> {
        let pairs: Vec<(String, String)> = serde_json::from_str(&self.headers)
            .map_err(|e| format!("outbox row {}: its headers are not [name, value] pairs: {e}", self.seq))?;
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.as_str(), value.as_str());
        }
        Ok(Outgoing {
            subject: self.subject.clone(),
            headers,
            body: self.body.clone().into(),
            msg_id: self.msg_id.clone(),
            name: self.name.clone(),
        })
    }
}
