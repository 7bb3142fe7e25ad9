//! What the registry says of one contract version, as data: the generated types check incoming
//! envelopes against their own constants through it, and tools that read a registry folder at run
//! time (the command-line tool) check against what they loaded, so that both refuse the same messages.

use serde_json::Value;

use super::decode::{mismatch, Common, DecodeError, RawCommand, RawEvent};
use super::envelope::type_name;
use crate::{Contract, EventType, SchemaVersion};

/// The identity of one contract version: what an envelope must agree with.
///
/// ```
/// use events::{ContractIdentity, EventType, RawEvent, SchemaVersion};
///
/// let identity = ContractIdentity {
///     name: "PingEvent",
///     schema_id: "pingSchema",
///     version: SchemaVersion::new(1, 0),
///     uri: "https://schemas.example.com/pingSchema/1.0",
///     event_type: Some(EventType::Notification),
///     event_version: Some("1.0"),
///     former_uris: &[],
/// };
/// let raw = RawEvent::parse(br#"{"eventId": "1b0d6a4e-8f5e-4c9e-9a43-0c7b3c2f1a10", "eventName": "PingEvent",
///   "eventType": "domain", "correlationId": "5f7a0a44-9c55-4f3e-8f0e-2b6c1d0e9a21",
///   "timestamp": "2026-01-01T00:00:00Z", "metadata": {"initiatedBy": "a", "sourceSystem": "b"},
///   "payload": {}}"#).unwrap();
/// let err = raw.check_against(&identity).unwrap_err();
/// assert_eq!(err.pointer(), Some("/eventType"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractIdentity<'a> {
    /// `eventName` or `commandName`.
    pub name: &'a str,
    /// The schema id.
    pub schema_id: &'a str,
    /// The schema version.
    pub version: SchemaVersion,
    /// `schemaRef.uri`.
    pub uri: &'a str,
    /// The event's type; `None` for commands.
    pub event_type: Option<EventType>,
    /// `eventVersion`; `None` for commands.
    pub event_version: Option<&'a str>,
    /// `schemaRef.uri`s under the registry's former base URIs, accepted as well.
    pub former_uris: &'a [&'a str],
}

impl ContractIdentity<'static> {
    /// The identity of a generated contract, without the event fields (see [`EventContract`](crate::EventContract)).
    pub fn of<P: Contract>() -> Self {
        let r = P::SCHEMA_REF;
        ContractIdentity {
            name: P::NAME,
            schema_id: r.id,
            version: r.version,
            uri: r.uri,
            event_type: None,
            event_version: None,
            former_uris: P::FORMER_URIS,
        }
    }
}

/// Checks that name, version and schemaRef agree with `identity`.
pub(crate) fn check_common(
    name_field: &str,
    common: &Common,
    identity: &ContractIdentity<'_>,
) -> Result<(), DecodeError> {
    let version_mismatch = |pointer: &str, found: SchemaVersion| DecodeError::Mismatch {
        pointer: pointer.into(),
        expected: identity.version.to_string(),
        found: found.to_string(),
    };
    mismatch(name_field, identity.name, &common.name)?;
    match common.version {
        Some(v) if v != identity.version => return Err(version_mismatch("/version", v)),
        _ => {}
    }
    if let Some(r) = &common.schema_ref {
        mismatch("/schemaRef/id", identity.schema_id, &r.id)?;
        if r.version != identity.version {
            return Err(version_mismatch("/schemaRef/version", r.version));
        }
        if !identity.former_uris.contains(&r.uri.as_str()) {
            mismatch("/schemaRef/uri", identity.uri, &r.uri)?;
        }
    }
    Ok(())
}

impl RawEvent {
    /// Checks the envelope against a contract version of the registry, as the typed decoders do
    /// before they validate the payload.
    pub fn check_against(&self, identity: &ContractIdentity<'_>) -> Result<(), DecodeError> {
        check_common("/eventName", &self.common, identity)?;
        if let (Some(t), Some(expected)) = (self.event.event_type, identity.event_type) {
            mismatch("/eventType", type_name(expected), type_name(t))?;
        }
        if let (Some(v), Some(expected)) = (&self.event.event_version, identity.event_version) {
            mismatch("/eventVersion", expected, v)?;
        }
        Ok(())
    }

    /// The payload, not yet validated.
    pub fn payload(&self) -> &Value {
        &self.common.payload
    }
}

impl RawCommand {
    /// Checks the envelope against a contract version of the registry; see [`RawEvent::check_against`].
    pub fn check_against(&self, identity: &ContractIdentity<'_>) -> Result<(), DecodeError> {
        check_common("/commandName", &self.common, identity)
    }

    /// The payload, not yet validated.
    pub fn payload(&self) -> &Value {
        &self.common.payload
    }
}
