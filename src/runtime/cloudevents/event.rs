//! A CloudEvents 1.0 event in the structured JSON format, read with the format's rules checked.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::runtime::decode::{self, parse_json};
use crate::DecodeError;

/// The only CloudEvents version read and written.
const SPEC_VERSION: &str = "1.0";

/// The attributes CloudEvents itself defines, which no extension may be named after.
const CONTEXT_ATTRIBUTES: [&str; 10] =
    ["specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "subject", "data", "data_base64"];

/// A CloudEvent, as the JSON event format writes it (`application/cloudevents+json`).
///
/// The context attributes are plain fields; extension attributes are kept apart, since their names
/// must follow the format's rules (see [`CloudEvent::set_extension`]). Reading
/// ([`CloudEvent::from_json`], serde's `Deserialize`) checks those rules and refuses what breaks
/// them, naming the attribute by its JSON pointer; `specversion` is always `1.0`.
///
/// ```
/// use events::{CloudEvent, ExtensionValue};
///
/// let json = br#"{
///     "specversion": "1.0", "id": "A234-1234-1234", "source": "/orders", "type": "com.example.order.created",
///     "time": "2025-02-25T19:05:00Z", "tenant": "acme", "data": {"orderId": "ORD12345"}
/// }"#;
/// let event = CloudEvent::from_json(json).unwrap();
/// assert_eq!(event.event_type, "com.example.order.created");
/// assert_eq!(event.extension("tenant"), Some(&ExtensionValue::String("acme".into())));
/// assert_eq!(CloudEvent::from_json(event.to_json().as_bytes()).unwrap(), event);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// `id`: unique within its source.
    pub id: String,
    /// `source`: the context the event happened in, a URI reference.
    pub source: String,
    /// `type`: what kind of event this is.
    pub event_type: String,
    /// `time`, RFC 3339, with its offset as written.
    pub time: Option<DateTime<FixedOffset>>,
    /// `datacontenttype`: the media type of `data`; JSON when absent.
    pub datacontenttype: Option<String>,
    /// `dataschema`: the schema `data` follows.
    pub dataschema: Option<String>,
    /// `subject`: what the event is about, within its source.
    pub subject: Option<String>,
    /// `data`, as JSON.
    pub data: Option<Value>,
    /// Valid names only: every way in checks them.
    pub(super) extensions: BTreeMap<String, ExtensionValue>,
}

/// The value of an extension attribute. The JSON format writes CloudEvents' other types (URI,
/// timestamp, binary) as strings.
///
/// ```
/// use events::{CloudEvent, ExtensionValue};
///
/// let mut event = CloudEvent::new("1", "/orders", "OrderCreatedEvent");
/// event.set_extension("priority", 3).unwrap();
/// event.set_extension("replayed", true).unwrap();
/// assert_eq!(event.to_value()["priority"], 3);
/// assert_eq!(event.extension("replayed"), Some(&ExtensionValue::Boolean(true)));
/// // Integers are 32-bit: a larger number is refused where it is read.
/// let json = br#"{"specversion": "1.0", "id": "1", "source": "/s", "type": "T", "priority": 3000000000}"#;
/// assert_eq!(CloudEvent::from_json(json).unwrap_err().pointer(), Some("/priority"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExtensionValue {
    /// A JSON string.
    String(String),
    /// A JSON number, a 32-bit signed integer as CloudEvents defines its integers.
    Integer(i32),
    /// A JSON boolean.
    Boolean(bool),
}

impl From<&str> for ExtensionValue {
    fn from(s: &str) -> Self {
        ExtensionValue::String(s.to_string())
    }
}

impl From<String> for ExtensionValue {
    fn from(s: String) -> Self {
        ExtensionValue::String(s)
    }
}

impl From<i32> for ExtensionValue {
    fn from(i: i32) -> Self {
        ExtensionValue::Integer(i)
    }
}

impl From<bool> for ExtensionValue {
    fn from(b: bool) -> Self {
        ExtensionValue::Boolean(b)
    }
}

/// Whether `name` may name an extension attribute: lower-case ASCII letters and digits, at most
/// 20 characters (the length CloudEvents recommends, kept to here so that every transport binding
/// can carry it), and not one of the context attributes.
fn valid_extension_name(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !CONTEXT_ATTRIBUTES.contains(&name)
}

fn pointer(name: &str) -> String {
    format!("/{}", name.replace('~', "~0").replace('/', "~1"))
}

fn bad_name(name: &str) -> DecodeError {
    DecodeError::Invalid {
        pointer: pointer(name),
        message: "an extension attribute name is 1 to 20 lower-case ASCII letters and digits, and not a \
                  context attribute's name"
            .into(),
    }
}

impl CloudEvent {
    /// An event with the three attributes every CloudEvent needs and nothing else.
    ///
    /// ```
    /// let event = events::CloudEvent::new("1", "/orders", "OrderCreatedEvent");
    /// assert_eq!(
    ///     event.to_value(),
    ///     serde_json::json!({ "specversion": "1.0", "id": "1", "source": "/orders", "type": "OrderCreatedEvent" })
    /// );
    /// ```
    pub fn new(id: impl Into<String>, source: impl Into<String>, event_type: impl Into<String>) -> Self {
        CloudEvent {
            id: id.into(),
            source: source.into(),
            event_type: event_type.into(),
            time: None,
            datacontenttype: None,
            dataschema: None,
            subject: None,
            data: None,
            extensions: BTreeMap::new(),
        }
    }

    /// An extension attribute.
    pub fn extension(&self, name: &str) -> Option<&ExtensionValue> {
        self.extensions.get(name)
    }

    /// Every extension attribute, by name.
    pub fn extensions(&self) -> impl Iterator<Item = (&str, &ExtensionValue)> {
        self.extensions.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Sets an extension attribute, returning its previous value. Refused, as
    /// [`DecodeError::Invalid`] at the attribute's pointer, unless the name is 1 to 20 lower-case
    /// ASCII letters and digits and not a context attribute's.
    ///
    /// ```
    /// let mut event = events::CloudEvent::new("1", "/orders", "OrderCreatedEvent");
    /// assert!(event.set_extension("partitionkey", "ORD12345").is_ok());
    /// assert!(event.set_extension("partitionKey", "ORD12345").is_err());
    /// assert!(event.set_extension("source", "elsewhere").is_err());
    /// ```
    pub fn set_extension(
        &mut self,
        name: impl Into<String>,
        value: impl Into<ExtensionValue>,
    ) -> Result<Option<ExtensionValue>, DecodeError> {
        let name = name.into();
        if !valid_extension_name(&name) {
            return Err(bad_name(&name));
        }
        Ok(self.extensions.insert(name, value.into()))
    }

    /// Removes an extension attribute, returning its value; for instance one a broker added, before
    /// reading the event as an envelope.
    ///
    /// ```
    /// let json = br#"{"specversion": "1.0", "id": "1", "source": "/s", "type": "T", "knativearrivaltime": "2025-02-25T19:05:00Z"}"#;
    /// let mut event = events::CloudEvent::from_json(json).unwrap();
    /// assert!(event.remove_extension("knativearrivaltime").is_some());
    /// assert_eq!(event.extensions().count(), 0);
    /// ```
    pub fn remove_extension(&mut self, name: &str) -> Option<ExtensionValue> {
        self.extensions.remove(name)
    }

    /// Reads an event in the JSON format.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_value(parse_json(bytes)?)
    }

    /// Reads an event from parsed JSON. `null` counts as absent, like in the envelope.
    pub fn from_value(value: Value) -> Result<Self, DecodeError> {
        let mut f = decode::Fields::new(value)?;
        let spec_version: String = f.required("specversion")?;
        decode::mismatch("/specversion", SPEC_VERSION, &spec_version)?;
        if f.optional::<Value>("data_base64")?.is_some() {
            return Err(DecodeError::Invalid {
                pointer: "/data_base64".into(),
                message: "binary data is not supported: events carry JSON in `data`".into(),
            });
        }
        let time = match f.optional::<String>("time")? {
            None => None,
            Some(text) => Some(DateTime::parse_from_rfc3339(&text).map_err(|e| DecodeError::Invalid {
                pointer: "/time".into(),
                message: format!("`{text}` is not an RFC 3339 timestamp: {e}"),
            })?),
        };
        let mut event = CloudEvent {
            id: non_empty(&mut f, "id")?.ok_or_else(|| missing("id"))?,
            source: non_empty(&mut f, "source")?.ok_or_else(|| missing("source"))?,
            event_type: non_empty(&mut f, "type")?.ok_or_else(|| missing("type"))?,
            time,
            datacontenttype: non_empty(&mut f, "datacontenttype")?,
            dataschema: non_empty(&mut f, "dataschema")?,
            subject: non_empty(&mut f, "subject")?,
            data: f.optional("data")?,
            extensions: BTreeMap::new(),
        };
        for (name, value) in f.into_rest() {
            if !valid_extension_name(&name) {
                return Err(bad_name(&name));
            }
            let value = match value {
                Value::Null => continue,
                Value::String(s) => ExtensionValue::String(s),
                Value::Bool(b) => ExtensionValue::Boolean(b),
                Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
                    Some(i) => ExtensionValue::Integer(i),
                    None => {
                        return Err(DecodeError::Invalid {
                            pointer: pointer(&name),
                            message: format!("{n} is not a CloudEvents integer (32-bit signed)"),
                        })
                    }
                },
                Value::Array(_) | Value::Object(_) => {
                    return Err(DecodeError::Invalid {
                        pointer: pointer(&name),
                        message: "an extension attribute is a string, an integer or a boolean".into(),
                    })
                }
            };
            event.extensions.insert(name, value);
        }
        Ok(event)
    }

    /// The event in the JSON format.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a CloudEvent always serializes")
    }

    /// The event in the JSON format, as text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a CloudEvent always serializes")
    }
}

fn missing(name: &str) -> DecodeError {
    DecodeError::Missing { pointer: format!("/{name}") }
}

/// A string attribute that CloudEvents requires, when present, to be non-empty.
fn non_empty(f: &mut decode::Fields, name: &str) -> Result<Option<String>, DecodeError> {
    match f.optional::<String>(name)? {
        Some(s) if s.is_empty() => {
            Err(DecodeError::Invalid { pointer: format!("/{name}"), message: "must not be empty".into() })
        }
        other => Ok(other),
    }
}

impl Serialize for CloudEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("specversion", SPEC_VERSION)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("source", &self.source)?;
        m.serialize_entry("type", &self.event_type)?;
        if let Some(time) = &self.time {
            m.serialize_entry("time", &time.to_rfc3339_opts(SecondsFormat::AutoSi, true))?;
        }
        for (key, value) in
            [("datacontenttype", &self.datacontenttype), ("dataschema", &self.dataschema), ("subject", &self.subject)]
        {
            if let Some(v) = value {
                m.serialize_entry(key, v)?;
            }
        }
        for (name, value) in &self.extensions {
            match value {
                ExtensionValue::String(s) => m.serialize_entry(name, s)?,
                ExtensionValue::Integer(i) => m.serialize_entry(name, i)?,
                ExtensionValue::Boolean(b) => m.serialize_entry(name, b)?,
            }
        }
        if let Some(data) = &self.data {
            m.serialize_entry("data", data)?;
        }
        m.end()
    }
}

/// Deserializing checks the format's rules exactly as [`CloudEvent::from_json`] does.
impl<'de> Deserialize<'de> for CloudEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        decode::deserialize_via(deserializer, Self::from_value, Ok)
    }
}
