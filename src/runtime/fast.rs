//! The fast path of decoding: the envelope read in one pass straight into its fields, the payload
//! into its type, and the typed payload checked against its schema, with no `serde_json::Value`.
//!
//! It only ever accepts: anything it is unsure of (a short form, a field it would have to fill
//! in, an escape, a payload the typed check declines) goes to the complete path, which decides and
//! names the reason. So both paths accept the same messages and build the same envelopes.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{
    CausationId, CommandId, CorrelationId, Envelope, EventContract, EventId, EventStatus, EventType, Metadata,
    SchemaVersion,
};

/// An event in its full form, as [`Envelope::to_json`] writes it, its payload not yet read. One
/// type for every contract: the envelope's serde code is instantiated once, and each payload type's
/// once, through the strict reader every decoding path shares.
#[doc(hidden)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WireEvent<'a> {
    #[serde(borrow)]
    event_name: Cow<'a, str>,
    pub(crate) event_id: EventId,
    pub(crate) correlation_id: CorrelationId,
    #[serde(default)]
    pub(crate) command_id: Option<CommandId>,
    #[serde(default)]
    pub(crate) causation_id: Option<CausationId>,
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    version: SchemaVersion,
    #[serde(borrow)]
    schema_ref: WireSchemaRef<'a>,
    event_type: EventType,
    pub(crate) event_source: String,
    #[serde(borrow)]
    event_version: Cow<'a, str>,
    pub(crate) event_status: EventStatus,
    pub(crate) tags: Vec<String>,
    pub(crate) retry_count: u32,
    // `None` (absent or null) leaves the message to the complete path.
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
    pub(crate) metadata: Metadata,
}

/// The event as contract `P`, for messages whose name leaves one contract.
#[doc(hidden)]
pub fn decode_typed<P: EventContract>(bytes: &[u8]) -> Option<Envelope<P>> {
    WireEvent::parse(bytes)?.decode()
}

/// `eventName` when the message starts with it, as the encoder writes it, and the version its
/// first `"version"` member states: enough to pick the contract before reading the rest. `None`
/// otherwise. A wrong guess costs time, never a wrong result: the decode that follows checks every
/// field against the contract. Contract names are ASCII letters and digits, so nothing else names one.
#[doc(hidden)]
pub fn leading_identity(bytes: &[u8]) -> Option<(&str, Option<SchemaVersion>)> {
    fn skip_ws(rest: &[u8]) -> &[u8] {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
        &rest[start..]
    }
    let rest = skip_ws(bytes).strip_prefix(b"{")?;
    let rest = skip_ws(rest).strip_prefix(b"\"eventName\"")?;
    let rest = skip_ws(rest).strip_prefix(b":")?;
    let rest = skip_ws(rest).strip_prefix(b"\"")?;
    let end = rest.iter().position(|b| !b.is_ascii_alphanumeric())?;
    if end == 0 || rest[end] != b'"' {
        return None;
    }
    let name = std::str::from_utf8(&rest[..end]).ok()?;
    // Built once: a searcher's set-up costs more than the search.
    static VERSION: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"version\""));
    let version = VERSION.find(rest).and_then(|at| {
        let value = skip_ws(&rest[at + 9..]).strip_prefix(b":")?;
        let value = skip_ws(value).strip_prefix(b"\"")?;
        let close = memchr::memchr(b'"', value)?;
        std::str::from_utf8(&value[..close]).ok()?.parse().ok()
    });
    Some((name, version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSchemaRef<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    version: SchemaVersion,
    #[serde(borrow)]
    uri: Cow<'a, str>,
}

/// An RFC 3339 timestamp in UTC (`Z` or a zero offset); why not, otherwise.
pub(crate) fn parse_utc(text: &str) -> Result<DateTime<Utc>, String> {
    let parsed =
        DateTime::parse_from_rfc3339(text).map_err(|e| format!("`{text}` is not an RFC 3339 timestamp: {e}"))?;
    if parsed.offset().local_minus_utc() != 0 {
        return Err(format!(
            "`{text}` is not in UTC; write it with `Z`, as {}",
            parsed.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        ));
    }
    Ok(parsed.with_timezone(&Utc))
}

impl<'a> WireEvent<'a> {
    /// Reads the full form; `None` for anything else.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// The event as contract `P`, when every field agrees with it and the typed payload meets its
    /// schema; `None` sends the message down the complete path.
    pub fn decode<P: EventContract>(&mut self) -> Option<Envelope<P>> {
        let raw: &'a RawValue = self.payload?;
        let payload: P = crate::runtime::strict::from_slice(raw.get().as_bytes()).ok()?;
        self.accept(payload)
    }

    /// `eventName`.
    pub fn name(&self) -> &str {
        &self.event_name
    }

    /// `schemaRef.version`.
    pub fn version(&self) -> SchemaVersion {
        self.schema_ref.version
    }
}

impl WireEvent<'_> {
    /// The envelope around an already typed payload, when every field agrees with contract `P`
    /// and the payload meets its schema.
    fn accept<P: EventContract>(&mut self, payload: P) -> Option<Envelope<P>> {
        let expected = P::SCHEMA_REF;
        let identity = self.event_name == P::NAME
            && self.version == expected.version
            && self.schema_ref.version == expected.version
            && self.schema_ref.id == expected.id
            && (self.schema_ref.uri == expected.uri || P::FORMER_URIS.contains(&self.schema_ref.uri.as_ref()))
            && self.event_type == P::EVENT_TYPE
            && self.event_version == P::EVENT_VERSION;
        if !identity {
            return None;
        }
        let timestamp = parse_utc(&self.timestamp).ok()?;
        if !payload.typed_valid() {
            return None;
        }
        Some(Envelope::from_wire(self, timestamp, payload))
    }
}
