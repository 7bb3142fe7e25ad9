//! Decoding a message through a registry read from disk, as a consumer's `AnyEvent::from_json`
//! does with the compiled one: the same envelope parser, the same identity check, the same payload
//! validator. Unlike a consumer, it keeps going after the first problem, to report every one.

use std::collections::HashMap;

use events::{ContractIdentity, DecodeError, EventType, PayloadSchema, RawCommand, RawEvent, SchemaVersion};
use events_codegen::registry::{ContractKind, SchemaFile};
use events_codegen::Inspection;
use serde_json::{json, Value};

/// One problem with a message.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// Where, in the message.
    pub pointer: String,
    /// The schema keyword that failed, for payload violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `event` or `command`, when the message says.
    pub kind: Option<&'static str>,
    /// The contract it was decoded as (or claimed to be).
    pub contract: Option<String>,
    /// The schema version it was decoded as (or the one tried).
    pub version: Option<String>,
    /// Empty when the message is valid.
    pub violations: Vec<Violation>,
}

impl Outcome {
    pub fn valid(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Decodes messages against one registry, compiling each schema once.
pub struct Decoder<'a> {
    registry: &'a Inspection,
    schemas: HashMap<String, Result<PayloadSchema, String>>,
}

impl<'a> Decoder<'a> {
    pub fn new(registry: &'a Inspection) -> Self {
        Decoder { registry, schemas: HashMap::new() }
    }

    pub fn decode(&mut self, message: &Value) -> Outcome {
        let event = message.get("eventName").is_some();
        let command = message.get("commandName").is_some();
        let kind = match (event, command) {
            (true, false) => "event",
            (false, true) => "command",
            (true, true) => {
                return failed(
                    None,
                    "/commandName",
                    "a message is an event (eventName) or a command (commandName), not both",
                )
            }
            (false, false) if !message.is_object() => {
                return failed(None, "", "expected a JSON object, an event or command envelope")
            }
            (false, false) => {
                return failed(None, "/eventName", "required field is missing (or commandName, for a command)")
            }
        };
        let mut out = Outcome { kind: Some(kind), contract: None, version: None, violations: Vec::new() };
        let name_key = if event { "eventName" } else { "commandName" };
        let Some(name) = message[name_key].as_str() else {
            out.violations.push(plain(&format!("/{name_key}"), "expected a string"));
            return out;
        };
        out.contract = Some(name.to_string());
        let mut envelope = envelope_problems(message, event);
        let versions: Vec<&SchemaFile> = self
            .registry
            .versions_of(name)
            .into_iter()
            .filter(|f| matches!(f.contract.kind, ContractKind::Event(_)) == event)
            .collect();
        if versions.is_empty() {
            out.violations.append(&mut envelope);
            out.violations.push(plain(
                &format!("/{name_key}"),
                &format!("unknown contract `{name}`: the registry has no {kind} of that name"),
            ));
            return out;
        }
        let (claimed, version_pointer) = claimed_version(message);
        let candidates: Vec<&SchemaFile> = match claimed {
            Some(Ok(v)) => match versions.iter().find(|f| same(f, v)) {
                Some(f) => vec![*f],
                None => {
                    let known: Vec<String> = versions.iter().map(|f| f.schema_ref.version.to_string()).collect();
                    out.violations.append(&mut envelope);
                    out.version = Some(v.to_string());
                    out.violations.push(plain(
                        version_pointer,
                        &format!("unknown contract `{name}` version {v}: the registry has {}", known.join(", ")),
                    ));
                    return out;
                }
            },
            // A malformed version is an envelope problem; the payload is still checked against the newest.
            Some(Err(_)) => vec![*versions.last().expect("not empty")],
            // Without a version, the newest version that accepts the message wins, as in `AnyEvent`.
            None => versions.iter().rev().copied().collect(),
        };
        let mut first: Option<(String, Vec<Violation>)> = None;
        for file in candidates {
            let mut found = envelope.clone();
            found.extend(self.against(file, message, event));
            let version = file.schema_ref.version.to_string();
            if found.is_empty() {
                out.version = Some(version);
                return out;
            }
            first.get_or_insert((version, found));
        }
        let (version, found) = first.expect("at least one candidate");
        out.version = Some(version);
        out.violations = found;
        out
    }

    /// The identity and payload problems of `message` as a message of `file`.
    fn against(&mut self, file: &SchemaFile, message: &Value, event: bool) -> Vec<Violation> {
        let mut found = Vec::new();
        let formers = self.registry.registry().former_uris(file);
        let formers: Vec<&str> = formers.iter().map(String::as_str).collect();
        let identity = ContractIdentity { former_uris: &formers, ..identity(file) };
        // The envelope's own problems are already known; here it only needs to parse.
        let parsed = if event {
            RawEvent::from_value(message.clone()).map(|r| r.check_against(&identity))
        } else {
            RawCommand::from_value(message.clone()).map(|r| r.check_against(&identity))
        };
        if let Ok(Err(e)) = parsed {
            found.push(from_decode(&e));
        } else if parsed.is_err() {
            found.extend(identity_by_hand(message, &identity));
        }
        let Some(payload) = message.get("payload") else { return found };
        match self.schema(file) {
            Ok(schema) => {
                if let Err(violations) = schema.validate(payload) {
                    found.extend(violations.into_iter().map(|v| Violation {
                        pointer: v.pointer,
                        keyword: Some(v.keyword),
                        message: v.message,
                    }))
                }
            }
            Err(why) => {
                found.push(plain("/payload", &format!("the schema of {} cannot be compiled: {why}", file.display)))
            }
        }
        found
    }

    fn schema(&mut self, file: &SchemaFile) -> &Result<PayloadSchema, String> {
        let registry = self.registry;
        self.schemas.entry(file.display.clone()).or_insert_with(|| {
            let bundled = registry.bundled(file).cloned().ok_or("not in the registry")?;
            PayloadSchema::from_bundled(bundled, registry.vendored())
        })
    }
}

/// What the registry says `file`'s envelopes carry.
pub fn identity(file: &SchemaFile) -> ContractIdentity<'_> {
    let r = &file.schema_ref;
    let (event_type, event_version) = match file.contract.kind {
        ContractKind::Event(t) => (Some(runtime_type(t)), Some(file.contract.event_version.as_str())),
        ContractKind::Command => (None, None),
    };
    ContractIdentity {
        name: &file.contract.name,
        schema_id: &r.id,
        version: SchemaVersion::new(r.version.major, r.version.minor),
        uri: &r.uri,
        event_type,
        event_version,
        former_uris: &[],
    }
}

pub fn runtime_type(t: events_codegen::registry::EventType) -> EventType {
    use events_codegen::registry::EventType as Declared;
    match t {
        Declared::Domain => EventType::Domain,
        Declared::Integration => EventType::Integration,
        Declared::Notification => EventType::Notification,
    }
}

fn same(file: &SchemaFile, v: SchemaVersion) -> bool {
    file.schema_ref.version.major == v.major && file.schema_ref.version.minor == v.minor
}

/// The version the message claims (`schemaRef.version`, else `version`), and where it is written.
fn claimed_version(message: &Value) -> (Option<Result<SchemaVersion, ()>>, &'static str) {
    let parse = |v: &Value| v.as_str().and_then(|s| s.parse::<SchemaVersion>().ok()).ok_or(());
    match message.pointer("/schemaRef/version") {
        Some(v) => (Some(parse(v)), "/schemaRef/version"),
        None => (message.get("version").filter(|v| !v.is_null()).map(parse), "/version"),
    }
}

/// Every problem of the envelope itself: the runtime's parser stops at the first, so each one
/// found is set aside (a bad member removed, a missing one stood in for) and the parse repeated.
fn envelope_problems(message: &Value, event: bool) -> Vec<Violation> {
    let mut copy = message.clone();
    let mut found: Vec<Violation> = Vec::new();
    for _ in 0..32 {
        let parsed = if event {
            RawEvent::from_value(copy.clone()).map(drop)
        } else {
            RawCommand::from_value(copy.clone()).map(drop)
        };
        let Err(e) = parsed else { break };
        let pointer = e.pointer().unwrap_or("").to_string();
        if found.iter().any(|f| f.pointer == pointer) || !pointer.starts_with('/') || pointer[1..].contains('/') {
            // Nested or repeated: nothing more to learn by setting members aside.
            if !found.iter().any(|f| f.pointer == pointer) {
                found.push(from_decode(&e));
            }
            break;
        }
        found.push(from_decode(&e));
        let key = events_codegen::ident::unescape(&pointer[1..]);
        let Some(map) = copy.as_object_mut() else { break };
        match stand_in(&key) {
            Some(value) => {
                map.insert(key, value);
            }
            None => {
                map.remove(&key);
            }
        }
    }
    found
}

/// A valid value for a required envelope member, so that the parse can go on past it.
fn stand_in(key: &str) -> Option<Value> {
    Some(match key {
        "eventId" | "commandId" | "correlationId" => json!("00000000-0000-4000-8000-000000000000"),
        "timestamp" => json!("2000-01-01T00:00:00Z"),
        "metadata" => json!({ "initiatedBy": "-", "sourceSystem": "-" }),
        "payload" => json!({}),
        _ => return None,
    })
}

/// The identity check when the envelope does not parse: each field the message has is compared.
fn identity_by_hand(message: &Value, identity: &ContractIdentity<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut compare = |pointer: &str, expected: &str| {
        if let Some(found_value) = message.pointer(pointer).and_then(Value::as_str) {
            if found_value != expected {
                found.push(plain(pointer, &format!("expected {expected}, found {found_value}")));
            }
        }
    };
    compare("/schemaRef/id", identity.schema_id);
    compare("/schemaRef/uri", identity.uri);
    if let Some(v) = identity.event_version {
        compare("/eventVersion", v);
    }
    if let Some(t) = identity.event_type {
        compare(
            "/eventType",
            &serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        );
    }
    found
}

fn from_decode(e: &DecodeError) -> Violation {
    let message = match e {
        DecodeError::Invalid { message, .. } => message.clone(),
        DecodeError::Missing { .. } => "required field is missing".to_string(),
        DecodeError::UnknownField { .. } => "unknown envelope field".to_string(),
        DecodeError::Mismatch { expected, found, .. } => format!("expected {expected}, found {found}"),
        other => other.to_string(),
    };
    Violation { pointer: e.pointer().unwrap_or("").to_string(), keyword: None, message }
}

fn plain(pointer: &str, message: &str) -> Violation {
    Violation { pointer: pointer.to_string(), keyword: None, message: message.to_string() }
}

fn failed(kind: Option<&'static str>, pointer: &str, message: &str) -> Outcome {
    Outcome { kind, contract: None, version: None, violations: vec![plain(pointer, message)] }
}
