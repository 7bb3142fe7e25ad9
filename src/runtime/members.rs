//! The envelope's members, declared once: their names in the order the encoder writes them, who
//! carries them, whether a message must have them, and how a CloudEvent carries them. The
//! CloudEvents mapping and the example maker read this table; the encoders, both decoders and the
//! envelope schema are checked against it (`tests/envelope_members.rs`).

/// How a CloudEvent carries an envelope member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudCarriage {
    /// In a context attribute of its own (`eventId` → `id`).
    Attribute(&'static str),
    /// `schemaRef`: its `uri` in `dataschema`, its `id` and `version` in `schemaid` and `schemaversion`.
    SchemaRef,
    /// In an extension attribute, as the string it is.
    Text(&'static str),
    /// `retryCount`: an integer extension, its decimal string beyond CloudEvents' 32-bit integers.
    Count(&'static str),
    /// An array or object, as its JSON text: extension values cannot nest.
    JsonText(&'static str),
}

/// One member of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Its JSON name.
    pub name: &'static str,
    /// Whether every message must have it; the others are filled in when decoding (from the
    /// contract, or the specification's defaults).
    pub required: bool,
    /// Whether the encoder writes it only when it is set (`commandId`, `causationId`).
    pub when_set: bool,
    /// Whether the contract fixes its value (`eventName`, `version`, `schemaRef`, …): decoding
    /// checks a message against it.
    pub from_contract: bool,
    /// Where a CloudEvent carries it.
    pub cloud_event: CloudCarriage,
}

const fn member(name: &'static str, required: bool, cloud_event: CloudCarriage) -> Member {
    Member { name, required, when_set: false, from_contract: false, cloud_event }
}

const fn fixed(name: &'static str, cloud_event: CloudCarriage) -> Member {
    Member { name, required: false, when_set: false, from_contract: true, cloud_event }
}

const fn when_set(name: &'static str, cloud_event: CloudCarriage) -> Member {
    Member { name, required: false, when_set: true, from_contract: false, cloud_event }
}

use CloudCarriage::{Attribute, Count, JsonText, Text};

/// An event's members, in the order the encoder writes them (the specification's).
///
/// ```
/// let names: Vec<&str> = events::EVENT_MEMBERS.iter().map(|m| m.name).collect();
/// assert_eq!(names[..3], ["eventName", "eventId", "correlationId"]);
/// assert_eq!(names.len(), 16);
/// ```
pub const EVENT_MEMBERS: [Member; 16] = [
    Member { required: true, ..fixed("eventName", Attribute("type")) },
    member("eventId", true, Attribute("id")),
    // The names of the CloudEvents correlation extension.
    member("correlationId", true, Text("correlationid")),
    when_set("commandId", Text("commandid")),
    when_set("causationId", Text("causationid")),
    member("timestamp", true, Attribute("time")),
    fixed("version", Text("version")),
    fixed("schemaRef", CloudCarriage::SchemaRef),
    fixed("eventType", Text("eventtype")),
    member("eventSource", false, Attribute("source")),
    fixed("eventVersion", Text("eventversion")),
    member("eventStatus", false, Text("eventstatus")),
    member("tags", false, JsonText("tags")),
    member("retryCount", false, Count("retrycount")),
    member("payload", true, Attribute("data")),
    member("metadata", true, JsonText("metadata")),
];

/// A command's members, in the order the encoder writes them.
pub const COMMAND_MEMBERS: [Member; 10] = [
    Member { required: true, ..fixed("commandName", Attribute("type")) },
    member("commandId", true, Attribute("id")),
    member("correlationId", true, Text("correlationid")),
    when_set("causationId", Text("causationid")),
    member("timestamp", true, Attribute("time")),
    fixed("version", Text("version")),
    fixed("schemaRef", CloudCarriage::SchemaRef),
    member("tags", false, JsonText("tags")),
    member("payload", true, Attribute("data")),
    member("metadata", true, JsonText("metadata")),
];
