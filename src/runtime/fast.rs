//! The fast path of decoding: the envelope read in one pass straight into its fields, the payload
//! into its type, and the typed payload checked against its schema, with no `serde_json::Value`.
//!
//! It only ever accepts: anything it is unsure of (a short form, a field it would have to fill
//! in, an escape, a payload the typed check declines) goes to the complete path, which decides and
//! names the reason. So both paths accept the same messages and build the same envelopes.

use std::borrow::Cow;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::de::{self, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{
    CausationId, CommandId, Contract, CorrelationId, Envelope, EventContract, EventId, EventStatus, EventType,
    Metadata, SchemaVersion,
};

/// An event in its full form, as [`Envelope::to_json`] writes it, its payload not yet read. One
/// type for every contract, its members read by [`Members::read`]: the envelope's serde code is
/// instantiated once, and each payload type's once, through the strict reader every decoding path
/// shares. Texts are borrowed: one with an escape fails the read, and the complete path takes the
/// message.
#[doc(hidden)]
pub struct WireEvent<'a> {
    event_name: &'a str,
    pub(crate) event_id: EventId,
    pub(crate) correlation_id: CorrelationId,
    pub(crate) command_id: Option<CommandId>,
    pub(crate) causation_id: Option<CausationId>,
    timestamp: &'a str,
    version: SchemaVersion,
    schema_ref: WireSchemaRef<'a>,
    event_type: EventType,
    pub(crate) event_source: String,
    event_version: &'a str,
    pub(crate) event_status: EventStatus,
    pub(crate) tags: Vec<String>,
    pub(crate) retry_count: u32,
    // `None` (absent or null) leaves the message to the complete path.
    payload: Option<&'a RawValue>,
    pub(crate) metadata: Metadata,
}

/// The event as contract `P`, read in a single pass: for messages whose name leaves one contract.
///
/// The envelope's members are read by [`Members::read`], one function for every contract; what
/// is instantiated per contract is the loop over the member names and the payload's read.
#[doc(hidden)]
pub fn decode_typed<P: EventContract>(bytes: &[u8]) -> Option<Envelope<P>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (mut wire, payload) =
        serde::Deserializer::deserialize_map(&mut de, OnePass::<StrictPayload<P>>(PhantomData)).ok()?;
    de.end().ok()?;
    wire.accept(payload?.0)
}

/// The members of the full form. An unknown one fails the read: the complete path decides.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Member {
    EventName,
    EventId,
    CorrelationId,
    CommandId,
    CausationId,
    Timestamp,
    Version,
    SchemaRef,
    EventType,
    EventSource,
    EventVersion,
    EventStatus,
    Tags,
    RetryCount,
    Payload,
    Metadata,
}

/// The envelope's members as they are read, the same for every contract.
#[derive(Default)]
struct Members<'a> {
    event_name: Option<&'a str>,
    event_id: Option<EventId>,
    correlation_id: Option<CorrelationId>,
    command_id: Option<Option<CommandId>>,
    causation_id: Option<Option<CausationId>>,
    timestamp: Option<&'a str>,
    version: Option<SchemaVersion>,
    schema_ref: Option<WireSchemaRef<'a>>,
    event_type: Option<EventType>,
    event_source: Option<String>,
    event_version: Option<&'a str>,
    event_status: Option<EventStatus>,
    tags: Option<Vec<String>>,
    retry_count: Option<u32>,
    metadata: Option<Metadata>,
}

/// Reads a member's value into its slot, once.
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(slot: &mut Option<T>, map: &mut A) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::custom("a member appears twice"));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'a> Members<'a> {
    /// Reads the value of any member but the payload.
    fn read<A: MapAccess<'a>>(&mut self, member: Member, map: &mut A) -> Result<(), A::Error> {
        match member {
            Member::EventName => once(&mut self.event_name, map),
            Member::EventId => once(&mut self.event_id, map),
            Member::CorrelationId => once(&mut self.correlation_id, map),
            Member::CommandId => once(&mut self.command_id, map),
            Member::CausationId => once(&mut self.causation_id, map),
            Member::Timestamp => once(&mut self.timestamp, map),
            Member::Version => once(&mut self.version, map),
            Member::SchemaRef => once(&mut self.schema_ref, map),
            Member::EventType => once(&mut self.event_type, map),
            Member::EventSource => once(&mut self.event_source, map),
            Member::EventVersion => once(&mut self.event_version, map),
            Member::EventStatus => once(&mut self.event_status, map),
            Member::Tags => once(&mut self.tags, map),
            Member::RetryCount => once(&mut self.retry_count, map),
            Member::Metadata => once(&mut self.metadata, map),
            Member::Payload => Err(de::Error::custom("the payload is the contract's to read")),
        }
    }

    /// The full form, when every required member came (`commandId` and `causationId` may not).
    fn finish(self) -> Option<WireEvent<'a>> {
        Some(WireEvent {
            event_name: self.event_name?,
            event_id: self.event_id?,
            correlation_id: self.correlation_id?,
            command_id: self.command_id.flatten(),
            causation_id: self.causation_id.flatten(),
            timestamp: self.timestamp?,
            version: self.version?,
            schema_ref: self.schema_ref?,
            event_type: self.event_type?,
            event_source: self.event_source?,
            event_version: self.event_version?,
            event_status: self.event_status?,
            tags: self.tags?,
            retry_count: self.retry_count?,
            payload: None,
            metadata: self.metadata?,
        })
    }
}

/// A payload read with the strict reader, as every other path reads it.
struct StrictPayload<P>(P);

impl<'de, P: Contract> Deserialize<'de> for StrictPayload<P> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::runtime::strict::deserialize(deserializer).map(StrictPayload)
    }
}

/// The full form in one pass over the text, its payload read as `T`: the typed payload of one
/// contract, or the raw text for [`WireEvent::parse`].
struct OnePass<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OnePass<T> {
    type Value = (WireEvent<'de>, Option<T>);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event in its full form")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Members::default();
        // `None` inside (a `null` payload) leaves the message to the complete path.
        let mut payload: Option<Option<T>> = None;
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                Member::Payload => once(&mut payload, &mut map)?,
                other => members.read(other, &mut map)?,
            }
        }
        let wire = members.finish().ok_or_else(|| de::Error::custom("a member is missing"))?;
        Ok((wire, payload.flatten()))
    }
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
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let (mut wire, payload) =
            serde::Deserializer::deserialize_map(&mut de, OnePass::<&'a RawValue>(PhantomData)).ok()?;
        de.end().ok()?;
        wire.payload = payload;
        Some(wire)
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
        self.event_name
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
        let timestamp = parse_utc(self.timestamp).ok()?;
        if !payload.typed_valid() {
            return None;
        }
        Some(Envelope::from_wire(self, timestamp, payload))
    }
}
