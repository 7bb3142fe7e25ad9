//! The envelope's descriptive fields: schema reference and version, event type and status, metadata.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A schema version, `MAJOR.MINOR` (`version` and `schemaRef.version`).
///
/// ```
/// let v: events::SchemaVersion = "1.0".parse().unwrap();
/// assert_eq!(v, events::SchemaVersion::new(1, 0));
/// assert!("1".parse::<events::SchemaVersion>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaVersion {
    /// Changes that may break readers.
    pub major: u32,
    /// Changes old readers tolerate.
    pub minor: u32,
}

impl SchemaVersion {
    /// `MAJOR.MINOR`.
    pub const fn new(major: u32, minor: u32) -> Self {
        SchemaVersion { major, minor }
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A version that is not `MAJOR.MINOR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a MAJOR.MINOR version")]
pub struct BadVersion(String);

impl FromStr for SchemaVersion {
    type Err = BadVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(s.to_string());
        let (major, minor) = s.split_once('.').ok_or_else(bad)?;
        let part = |p: &str| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0')) {
                return Err(bad());
            }
            p.parse::<u32>().map_err(|_| bad())
        };
        Ok(SchemaVersion::new(part(major)?, part(minor)?))
    }
}

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The spec's `schemaRef`: which registry schema the payload follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRef {
    /// The schema id (`orderCreatedSchema`).
    pub id: String,
    /// The schema version.
    pub version: SchemaVersion,
    /// Where the schema is published.
    pub uri: String,
}

/// A [`SchemaRef`] known at compile time, as the generated contracts carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticSchemaRef {
    /// The schema id.
    pub id: &'static str,
    /// The schema version.
    pub version: SchemaVersion,
    /// Where the schema is published.
    pub uri: &'static str,
}

impl StaticSchemaRef {
    /// The owned form, as serialized.
    pub fn to_schema_ref(&self) -> SchemaRef {
        SchemaRef { id: self.id.to_string(), version: self.version, uri: self.uri.to_string() }
    }
}

/// The spec's `eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// Something happened inside one bounded context.
    Domain,
    /// Keeps other services in sync.
    Integration,
    /// Informs people or external systems.
    Notification,
}

/// The spec's `eventStatus`: where the event is in its lifecycle.
///
/// Written in camelCase like the envelope's field names, which leaves the spec's one-word values
/// (`created`, `processed`, `failed`) as they are. The allowed moves are those of
/// [`EventStatus::transition`].
///
/// ```
/// use events::EventStatus;
/// assert_eq!(serde_json::to_value(EventStatus::DeadLettered).unwrap(), "deadLettered");
/// assert_eq!(serde_json::from_value::<EventStatus>("failed".into()).unwrap(), EventStatus::Failed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum EventStatus {
    /// Published, not yet handled; also a retried event, delivered again.
    #[default]
    Created,
    /// Handled successfully.
    Processed,
    /// Handling failed; next comes a retry or a dead letter.
    Failed,
    /// Given up on after its last allowed attempt, and kept aside for people to look at.
    DeadLettered,
}

/// The spec's `metadata`: who started the process and from which system, plus any further entries.
///
/// ```
/// let m = events::Metadata::new("user123", "OrderManagementSystem").with("channel", "web");
/// let json = serde_json::to_value(&m).unwrap();
/// assert_eq!(json, serde_json::json!({
///     "initiatedBy": "user123", "sourceSystem": "OrderManagementSystem", "channel": "web"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The user, system or entity that initiated the process (`user123`, `batchProcessor`).
    pub initiated_by: String,
    /// The broader system the message comes from (`OrderManagementSystem`).
    pub source_system: String,
    /// Every other entry, kept as it came. Private, so that it never holds the two named fields.
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

impl Metadata {
    /// Metadata with the two fields every message carries.
    pub fn new(initiated_by: impl Into<String>, source_system: impl Into<String>) -> Self {
        Metadata { initiated_by: initiated_by.into(), source_system: source_system.into(), extra: BTreeMap::new() }
    }

    /// Adds a further entry; `initiatedBy` and `sourceSystem` set those fields (a string is
    /// expected there), so that no key is ever written twice.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let (key, value) = (key.into(), value.into());
        let text = || value.as_str().map_or_else(|| value.to_string(), str::to_string);
        match key.as_str() {
            "initiatedBy" => self.initiated_by = text(),
            "sourceSystem" => self.source_system = text(),
            _ => {
                self.extra.insert(key, value);
            }
        }
        self
    }

    /// The entries beyond `initiatedBy` and `sourceSystem`.
    pub fn extra(&self) -> &BTreeMap<String, Value> {
        &self.extra
    }
}
