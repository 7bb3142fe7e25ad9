//! An event envelope as a CloudEvent and back, field for field.

use serde_json::{Map, Value};

use crate::runtime::decode::RawEvent;
use serde::Serialize;

use crate::runtime::members::{CloudCarriage, EVENT_MEMBERS};
use crate::{CloudEvent, DecodeError, Envelope, EventContract, ExtensionValue, SchemaVersion};

/// The media type of every envelope's `data`.
const JSON: &str = "application/json";

/// How an envelope member rides in an extension attribute.
#[derive(Clone, Copy)]
enum Carried {
    /// A string, as it is.
    Text,
    /// `retryCount`: an integer, or its decimal string beyond CloudEvents' 32-bit integers.
    Count,
    /// An array or object, as its JSON text: extension values cannot nest.
    JsonText,
}

/// Extension attribute, envelope member, and how it is carried: every member of
/// [`EVENT_MEMBERS`] not in a context attribute of its own.
fn extension_members() -> impl Iterator<Item = (&'static str, &'static str, Carried)> {
    EVENT_MEMBERS.iter().filter_map(|m| match m.cloud_event {
        CloudCarriage::Text(attr) => Some((attr, m.name, Carried::Text)),
        CloudCarriage::Count(attr) => Some((attr, m.name, Carried::Count)),
        CloudCarriage::JsonText(attr) => Some((attr, m.name, Carried::JsonText)),
        CloudCarriage::Attribute(_) | CloudCarriage::SchemaRef => None,
    })
}

/// Envelope member (or part of one) and the attribute that carries it, longer paths first, so
/// that `schemaRef/id` wins over `schemaRef`.
fn attributes() -> impl Iterator<Item = (&'static str, &'static str)> {
    EVENT_MEMBERS.iter().flat_map(|m| -> Vec<(&'static str, &'static str)> {
        match m.cloud_event {
            CloudCarriage::Attribute(attr) => vec![(m.name, attr)],
            CloudCarriage::SchemaRef => vec![
                ("schemaRef/uri", "dataschema"),
                ("schemaRef/id", "schemaid"),
                ("schemaRef/version", "schemaversion"),
                (m.name, "dataschema"),
            ],
            CloudCarriage::Text(attr) | CloudCarriage::Count(attr) | CloudCarriage::JsonText(attr) => {
                vec![(m.name, attr)]
            }
        }
    })
}

/// The envelope's JSON (its full form) as a CloudEvent.
fn from_envelope_json(envelope: Value) -> CloudEvent {
    let Value::Object(mut m) = envelope else { unreachable!("an envelope serializes to an object") };
    let mut text = |key: &str| match m.remove(key) {
        Some(Value::String(s)) => s,
        other => other.map(|v| v.to_string()).unwrap_or_default(),
    };
    let mut event = CloudEvent::new(text("eventId"), text("eventSource"), text("eventName"));
    event.time = serde_json::from_value(Value::from(text("timestamp"))).ok();
    event.datacontenttype = Some(JSON.into());
    event.data = m.remove("payload");
    if let Some(Value::Object(mut schema_ref)) = m.remove("schemaRef") {
        let mut part = |key: &str| schema_ref.remove(key).and_then(|v| v.as_str().map(str::to_string));
        event.dataschema = part("uri");
        let (id, version) = (part("id"), part("version"));
        event.extensions.extend(id.map(|id| ("schemaid".into(), id.into())));
        event.extensions.extend(version.map(|v| ("schemaversion".into(), v.into())));
    }
    for (name, field, carried) in extension_members() {
        let Some(value) = m.remove(field) else { continue };
        let value = match (carried, value) {
            (Carried::Text, Value::String(s)) => ExtensionValue::String(s),
            (Carried::Count, Value::Number(n)) => match n.as_i64().map(i32::try_from) {
                Some(Ok(i)) => ExtensionValue::Integer(i),
                _ => ExtensionValue::String(n.to_string()),
            },
            (_, other) => ExtensionValue::String(other.to_string()),
        };
        event.extensions.insert(name.into(), value);
    }
    event
}

/// The CloudEvent as an envelope's JSON, for the envelope decoder to read and check.
fn to_envelope_json(event: CloudEvent) -> Result<Value, DecodeError> {
    let CloudEvent { id, source, event_type, time, datacontenttype, dataschema, subject, data, mut extensions } = event;
    if let Some(media_type) = datacontenttype {
        // Parameters (`; charset=utf-8`) do not change what the data is.
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case(JSON) {
            return Err(DecodeError::Invalid {
                pointer: "/datacontenttype".into(),
                message: format!("expected `{JSON}`, found `{media_type}`: an envelope's payload is JSON"),
            });
        }
    }
    if subject.is_some() {
        // The envelope has no place for it, and dropping it would lose it.
        return Err(DecodeError::UnknownField { pointer: "/subject".into() });
    }
    let mut m = Map::new();
    m.insert("eventName".into(), event_type.into());
    m.insert("eventId".into(), id.into());
    m.insert("eventSource".into(), source.into());
    if let Some(time) = time {
        m.insert("timestamp".into(), time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true).into());
    }
    if let Some(data) = data {
        m.insert("payload".into(), data);
    }

    let schema_id = extensions.remove("schemaid");
    let schema_version = extensions.remove("schemaversion");
    if schema_id.is_some() || schema_version.is_some() || dataschema.is_some() {
        // All three or none: `schemaRef` has no optional member.
        let id = text("schemaid", schema_id.ok_or_else(|| missing("schemaid"))?)?;
        let version = text("schemaversion", schema_version.ok_or_else(|| missing("schemaversion"))?)?;
        let uri = dataschema.ok_or_else(|| missing("dataschema"))?;
        version.parse::<SchemaVersion>().map_err(|e| invalid("schemaversion", e.to_string()))?;
        m.insert("schemaRef".into(), serde_json::json!({ "id": id, "version": version, "uri": uri }));
    }

    for (name, value) in extensions {
        let Some((_, field, carried)) = extension_members().find(|(n, ..)| *n == name) else {
            // Refused like an unknown envelope field: the envelope could not carry it on.
            return Err(DecodeError::UnknownField { pointer: format!("/{name}") });
        };
        let value = match (carried, value) {
            (Carried::Text, v) => Value::from(text(&name, v)?),
            (Carried::Count, ExtensionValue::Integer(i)) => Value::from(i),
            (Carried::Count, ExtensionValue::String(s)) => {
                Value::from(s.parse::<u32>().map_err(|_| invalid(&name, format!("`{s}` is not a retry count")))?)
            }
            (Carried::Count, ExtensionValue::Boolean(_)) => return Err(invalid(&name, "expected an integer".into())),
            (Carried::JsonText, v) => {
                let encoded = text(&name, v)?;
                serde_json::from_str(&encoded).map_err(|e| invalid(&name, format!("expected JSON text: {e}")))?
            }
        };
        m.insert(field.into(), value);
    }
    Ok(Value::Object(m))
}

fn text(name: &str, value: ExtensionValue) -> Result<String, DecodeError> {
    match value {
        ExtensionValue::String(s) => Ok(s),
        _ => Err(invalid(name, "expected a string".into())),
    }
}

fn missing(name: &str) -> DecodeError {
    DecodeError::Missing { pointer: format!("/{name}") }
}

fn invalid(name: &str, message: String) -> DecodeError {
    DecodeError::Invalid { pointer: format!("/{name}"), message }
}

/// Names, in an error of the envelope decoder, the CloudEvent attribute instead of the envelope
/// field: `/retryCount` becomes `/retrycount`, `/payload/items/0` becomes `/data/items/0`.
fn in_cloud_event(mut error: DecodeError) -> DecodeError {
    fn rename(pointer: &mut String) {
        if let Some(rest) = pointer.strip_prefix("/payload") {
            *pointer = format!("/data{rest}");
            return;
        }
        for (field, attribute) in attributes() {
            let Some(rest) = pointer.strip_prefix('/').and_then(|p| p.strip_prefix(field)) else { continue };
            if rest.is_empty() || rest.starts_with('/') {
                // Inside `tags` or `metadata` is inside a JSON text: the attribute is the place.
                *pointer = format!("/{attribute}");
                return;
            }
        }
    }
    match &mut error {
        DecodeError::Missing { pointer }
        | DecodeError::Invalid { pointer, .. }
        | DecodeError::UnknownField { pointer }
        | DecodeError::Mismatch { pointer, .. }
        | DecodeError::UnknownContract { pointer, .. } => rename(pointer),
        DecodeError::Payload { violations } => violations.iter_mut().for_each(|v| rename(&mut v.pointer)),
        DecodeError::Syntax { .. } => {}
    }
    error
}

fn read(event: CloudEvent) -> Result<RawEvent, DecodeError> {
    to_envelope_json(event).and_then(|v| RawEvent::from_value(v).map_err(in_cloud_event))
}

impl<P: EventContract> Envelope<P> {
    /// This event as a CloudEvent: `eventId` → `id`, `eventSource` → `source`, `eventName` →
    /// `type`, `timestamp` → `time`, `schemaRef.uri` → `dataschema`, `payload` → `data`
    /// (`application/json`), and every other field as an extension attribute (see the crate's
    /// README for the table).
    ///
    /// ```
    /// use events::order_created_schema::v1_0::OrderCreatedEvent;
    ///
    /// let wire = std::fs::read("tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
    /// let event = OrderCreatedEvent::from_json(&wire).unwrap();
    /// let cloud = event.to_cloud_event();
    /// assert_eq!(cloud.event_type, "OrderCreatedEvent");
    /// assert_eq!(cloud.extension("correlationid"), Some(&event.correlation_id().to_string().into()));
    /// assert_eq!(OrderCreatedEvent::from_cloud_event(cloud).unwrap(), event);
    /// ```
    pub fn to_cloud_event(&self) -> CloudEvent {
        of_message(self)
    }

    /// The event a CloudEvent carries, checked as [`Envelope::from_json`] checks an envelope;
    /// errors name the CloudEvent's attributes (`/type`, `/retrycount`, `/data/items/0`, …).
    /// Extension attributes the envelope has no field for are refused, like unknown envelope
    /// fields: remove them first ([`CloudEvent::remove_extension`]) to drop them.
    ///
    /// ```
    /// use events::inventory_updated_domain_schema::v1_0::InventoryUpdatedEvent;
    ///
    /// let json = br#"{
    ///     "specversion": "1.0", "id": "f7b4d2e6-5a1b-4e79-9d4f-7e3b6f9d7c1f", "source": "InventoryService",
    ///     "type": "InventoryUpdatedEvent", "time": "2025-02-25T19:10:00Z",
    ///     "correlationid": "123e4567-e89b-12d3-a456-426614174123", "retrycount": -1,
    ///     "metadata": "{\"initiatedBy\": \"InventoryService\", \"sourceSystem\": \"InventoryService\"}",
    ///     "data": {"itemId": "ITEM001", "newQuantity": 90}
    /// }"#;
    /// let cloud = events::CloudEvent::from_json(json).unwrap();
    /// let err = InventoryUpdatedEvent::from_cloud_event(cloud).unwrap_err();
    /// assert_eq!(err.pointer(), Some("/retrycount")); // a count is not negative
    /// ```
    pub fn from_cloud_event(event: CloudEvent) -> Result<Self, DecodeError> {
        Self::from_raw(read(event)?).map_err(in_cloud_event)
    }
}

/// An event, one contract's or any of a registry's, as a CloudEvent.
pub(crate) fn of_message<E: Serialize>(event: &E) -> CloudEvent {
    from_envelope_json(serde_json::to_value(event).expect("an envelope always serializes"))
}

/// The CloudEvent read as an envelope, then decoded by `decode` ([`crate::EventSet::from_cloud_event`]).
pub(crate) fn read_with<T>(
    event: CloudEvent,
    decode: impl FnOnce(RawEvent) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    decode(read(event)?).map_err(in_cloud_event)
}
