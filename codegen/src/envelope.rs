//! The JSON Schema of a whole message: the specification's envelope fields, with the values the
//! contract fixes, and the payload's bundled schema under `payload`, in the payload's draft. What
//! travels on the wire is the envelope, so this is what other tools (AsyncAPI documents, the
//! catalog, the registry server) hand on.

use serde_json::{json, Map, Value};

use crate::registry::{ContractKind, SchemaFile};

/// A UUID as the runtime writes it: hyphenated hexadecimal.
const UUID: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// The decoder takes UTC timestamps only (`Z` or a zero offset): another offset would not survive
/// re-encoding unchanged.
const UTC: &str = "([Zz]|[+-]00:00)$";

/// The draft a document declares: its `$schema` without a trailing `#`, 2020-12 when absent.
pub fn draft_of(document: &Value) -> String {
    document
        .get("$schema")
        .and_then(Value::as_str)
        .unwrap_or("https://json-schema.org/draft/2020-12/schema")
        .trim_end_matches('#')
        .to_string()
}

/// The envelope schema of `file`, whose bundled payload schema is `bundled`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
/// std::fs::write(dir.path().join("pingSchema/1.0.json"), r#"{
///   "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" },
///   "type": "object", "required": ["at"], "properties": { "at": { "type": "integer" } }
/// }"#).unwrap();
/// let registry = events_codegen::Config::new().schema_dir(dir.path()).inspect().unwrap();
/// let file = registry.contract("PingEvent", None).unwrap();
/// let schema = registry.envelope_schema(file).unwrap();
/// assert_eq!(schema["properties"]["eventName"]["const"], "PingEvent");
/// assert_eq!(schema["properties"]["payload"]["required"][0], "at");
/// assert!(schema["required"].as_array().unwrap().contains(&"eventId".into()));
/// ```
pub fn schema(file: &SchemaFile, bundled: &Value, base_uri: &str) -> Value {
    let draft = draft_of(bundled);
    let draft4 = draft.contains("draft-04");
    // `const` arrived in draft 6; a one-value `enum` means the same everywhere.
    let fixed = |v: Value| if draft4 { json!({ "enum": [v] }) } else { json!({ "const": v }) };
    let optional = |schema: Value| json!({ "anyOf": [{ "type": "null" }, schema] });
    let uuid = || json!({ "type": "string", "pattern": UUID });
    let r = &file.schema_ref;
    let c = &file.contract;
    let version = r.version.to_string();
    let mut properties = Map::new();
    let (name_key, mut required) = match c.kind {
        ContractKind::Event(_) => ("eventName", vec!["eventName", "eventId"]),
        ContractKind::Command => ("commandName", vec!["commandName", "commandId"]),
    };
    properties.insert(name_key.into(), fixed(c.name.clone().into()));
    match c.kind {
        ContractKind::Event(t) => {
            properties.insert("eventId".into(), uuid());
            properties.insert("commandId".into(), optional(uuid()));
            properties.insert("eventType".into(), optional(fixed(t.name().into())));
            properties.insert("eventSource".into(), optional(json!({ "type": "string" })));
            properties.insert("eventVersion".into(), optional(fixed(c.event_version.clone().into())));
            properties.insert(
                "eventStatus".into(),
                optional(json!({ "enum": ["created", "processed", "failed", "deadLettered"] })),
            );
            properties
                .insert("retryCount".into(), optional(json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX })));
        }
        ContractKind::Command => {
            properties.insert("commandId".into(), uuid());
        }
    }
    properties.insert("correlationId".into(), uuid());
    properties.insert("causationId".into(), optional(uuid()));
    properties.insert(
        "timestamp".into(),
        json!({ "type": "string", "format": "date-time", "pattern": UTC, "description": "RFC 3339, in UTC" }),
    );
    properties.insert("version".into(), optional(fixed(version.clone().into())));
    properties.insert(
        "schemaRef".into(),
        optional(json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["id", "version", "uri"],
            "properties": { "id": fixed(r.id.clone().into()), "version": fixed(version.into()), "uri": fixed(r.uri.clone().into()) }
        })),
    );
    properties.insert("tags".into(), optional(json!({ "type": "array", "items": { "type": "string" } })));
    properties.insert(
        "metadata".into(),
        json!({
            "type": "object",
            "required": ["initiatedBy", "sourceSystem"],
            "properties": { "initiatedBy": { "type": "string" }, "sourceSystem": { "type": "string" } }
        }),
    );
    required.extend(["correlationId", "timestamp", "payload", "metadata"]);
    let (payload, definitions) = split_definitions(bundled, &r.uri, base_uri, draft4);
    properties.insert("payload".into(), payload);
    let mut out = Map::new();
    out.insert("$schema".into(), Value::String(draft));
    out.insert("title".into(), format!("{} {} message", c.name, r.version).into());
    let description = match c.kind {
        ContractKind::Event(_) => "The whole event as it travels: the envelope's fields and the payload.",
        ContractKind::Command => "The whole command as it travels: the envelope's fields and the payload.",
    };
    out.insert("description".into(), description.into());
    out.insert("type".into(), "object".into());
    out.insert("additionalProperties".into(), false.into());
    out.insert("required".into(), required.into_iter().map(Value::from).collect());
    out.insert("properties".into(), Value::Object(properties));
    if let Some(defs) = definitions {
        out.insert("definitions".into(), defs);
    }
    Value::Object(out)
}

/// The payload schema without its root `definitions` (moved to the envelope's root, where its
/// `#/definitions/…` references still point), or, for a document that holds its own resources
/// and anchors, the document whole, made a resource of its own so its references stay inside it.
fn split_definitions(bundled: &Value, uri: &str, base_uri: &str, draft4: bool) -> (Value, Option<Value>) {
    let Some(map) = bundled.as_object() else { return (bundled.clone(), None) };
    let id_key = if draft4 { "id" } else { "$id" };
    let self_contained = crate::embedded::validator_only(bundled, base_uri).is_some() || map.contains_key(id_key);
    let mut payload = map.clone();
    payload.remove("$schema");
    if self_contained {
        payload.entry(id_key).or_insert_with(|| Value::String(uri.to_string()));
        return (Value::Object(payload), None);
    }
    let definitions = payload.remove("definitions");
    (Value::Object(payload), definitions)
}
