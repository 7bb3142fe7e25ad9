//! `events example`: a full-form envelope for a contract that the registry itself accepts.

mod make;
mod pattern;

use chrono::{SecondsFormat, Utc};
use events::{Member, COMMAND_MEMBERS, EVENT_MEMBERS};
use events_codegen::registry::{ContractKind, SchemaFile};
use events_codegen::{Config, Inspection};
use serde_json::{json, Map, Value};

use crate::decode::{Decoder, Violation};
use crate::failure::{Failure, FailureKind, Outcome};
use crate::progress::Progress;
use crate::tools;

/// Where an example's payload came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    /// The schema's `examples`.
    Examples,
    /// Made from the schema's keywords.
    Made,
}

/// Why no example could be given.
#[derive(Debug)]
pub enum Refusal {
    /// Nothing meeting the schema could be made.
    NotMade,
    /// What was made breaks the registry's own checks (listed).
    Invalid(Vec<Violation>),
}

pub fn run(config: &Config, contract: &str) -> Result<Outcome, Failure> {
    let registry = tools::load(config)?;
    let file = tools::contract(&registry, contract)?;
    let (envelope, _) = example(&registry, file, Ids::Fresh)
        .map_err(|refusal| Failure::new(FailureKind::NoExample, refusal_text(file, &refusal)))?;
    println!("{}", serde_json::to_string_pretty(&InOrder(&envelope)).expect("JSON"));
    Ok(Outcome::Clean)
}

/// `events example --all`: which contracts an example can be made for.
pub fn run_all(config: &Config, _: Option<&str>, json: bool) -> Result<Outcome, Failure> {
    let mut progress = Progress::new();
    progress.stage("checking the registry…");
    let registry = tools::load(config)?;
    let files: Vec<&SchemaFile> = registry.registry().files().collect();
    let mut results = Vec::new();
    for (i, file) in files.iter().enumerate() {
        progress.tick(|| format!("{i}/{} contracts", files.len()));
        results.push((*file, example(&registry, file, Ids::Fresh)));
    }
    drop(progress);
    let made = results.iter().filter(|(_, r)| r.is_ok()).count();
    if json {
        let entries: Vec<Value> = results
            .iter()
            .map(|(f, r)| {
                json!({
                    "contract": f.contract.name,
                    "version": f.schema_ref.version.to_string(),
                    "file": f.display,
                    "example": r.as_ref().ok().map(|(_, o)| if *o == Origin::Examples { "examples" } else { "made" }),
                    "refused": r.as_ref().err().map(|e| refusal_text(f, e)),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "made": made, "total": results.len(), "contracts": entries }))
                .expect("JSON")
        );
    } else {
        for (f, r) in &results {
            match r {
                Ok((_, Origin::Examples)) => {
                    println!("{} {}: from the schema's examples", f.contract.name, f.schema_ref.version)
                }
                Ok((_, Origin::Made)) => println!("{} {}: made from the schema", f.contract.name, f.schema_ref.version),
                Err(e) => println!("{} {}: none: {}", f.contract.name, f.schema_ref.version, refusal_text(f, e)),
            }
        }
        eprintln!("examples for {made} of {} contracts", results.len());
    }
    Ok(Outcome::found(made < results.len()))
}

fn refusal_text(file: &SchemaFile, refusal: &Refusal) -> String {
    match refusal {
        Refusal::NotMade => format!(
            "cannot make an example of {} {} ({}): no value meeting the schema could be made from it; add one to its `examples`",
            file.contract.name, file.schema_ref.version, file.display
        ),
        Refusal::Invalid(violations) => format!(
            "cannot make a valid example of {} {} ({}): what was made breaks {}",
            file.contract.name,
            file.schema_ref.version,
            file.display,
            violations.iter().map(|v| format!("{}: {}", v.pointer, v.message)).collect::<Vec<_>>().join("; ")
        ),
    }
}

/// Where an example's ids and timestamp come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// Fresh ones, as a real message would have.
    Fresh,
    /// The same every time, for documents that must be reproducible.
    Fixed,
}

/// A full-form envelope of `file`'s contract, checked through the registry as a consumer would.
pub fn example(registry: &Inspection, file: &SchemaFile, ids: Ids) -> Result<(Value, Origin), Refusal> {
    let bundled = registry.bundled(file).ok_or(Refusal::NotMade)?;
    let mut decoder = Decoder::new(registry);
    let mut last = None;
    // The schema's own examples first, as written; then one made from its keywords.
    let given = file.document.get("examples").and_then(Value::as_array).cloned().unwrap_or_default();
    let made = make::Maker::new(bundled).root_value();
    let candidates = given.into_iter().map(|v| (v, Origin::Examples)).chain(made.map(|v| (v, Origin::Made)));
    for (payload, origin) in candidates {
        let envelope = envelope(file, payload, ids);
        let outcome = decoder.decode(&envelope);
        if outcome.valid() {
            return Ok((envelope, origin));
        }
        last = Some(outcome.violations);
    }
    Err(last.map(Refusal::Invalid).unwrap_or(Refusal::NotMade))
}

/// The full form: every field of the specification, in the order the runtime writes them.
fn envelope(file: &SchemaFile, payload: Value, ids: Ids) -> Value {
    let counter = std::cell::Cell::new(0u32);
    let id = || match ids {
        Ids::Fresh => uuid::Uuid::new_v4().to_string(),
        Ids::Fixed => {
            counter.set(counter.get() + 1);
            format!("00000000-0000-4000-8000-{:012}", counter.get())
        }
    };
    let now = match ids {
        Ids::Fresh => Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        Ids::Fixed => "2026-01-01T00:00:00.000Z".to_string(),
    };
    let r = &file.schema_ref;
    let c = &file.contract;
    let source = c.source.clone().unwrap_or_else(|| "ExampleService".to_string());
    let metadata = json!({ "initiatedBy": "events example", "sourceSystem": source });
    let schema_ref = json!({ "id": r.id, "version": r.version.to_string(), "uri": r.uri });
    let (members, event_type): (&[Member], _) = match c.kind {
        ContractKind::Event(t) => (&EVENT_MEMBERS, Some(t)),
        ContractKind::Command => (&COMMAND_MEMBERS, None),
    };
    // Every member the runtime declares, in its order; `commandId` of an event is left out as an
    // event with no command behind it would.
    let mut message = Map::new();
    for m in members {
        let value = match m.name {
            "eventName" | "commandName" => json!(c.name),
            "eventId" | "correlationId" | "causationId" => json!(id()),
            "commandId" if event_type.is_none() => json!(id()),
            "timestamp" => json!(now),
            "version" => json!(r.version.to_string()),
            "schemaRef" => schema_ref.clone(),
            "eventType" => json!(event_type.map(|t| t.name())),
            "eventSource" => json!(source),
            "eventVersion" => json!(c.event_version),
            "eventStatus" => json!("created"),
            "tags" => json!(c.tags),
            "retryCount" => json!(0),
            "payload" => payload.clone(),
            "metadata" => metadata.clone(),
            _ => continue,
        };
        message.insert(m.name.to_string(), value);
    }
    Value::Object(message)
}

/// The envelope's members in the specification's order (a `serde_json::Map` sorts them).
pub struct InOrder<'a>(pub &'a Value);

impl serde::Serialize for InOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(map) = self.0.as_object() else { return self.0.serialize(serializer) };
        let members: &[Member] = if map.contains_key("commandName") { &COMMAND_MEMBERS } else { &EVENT_MEMBERS };
        let known = |key: &str| members.iter().any(|m| m.name == key);
        let mut out = serializer.serialize_map(Some(map.len()))?;
        for m in members.iter().filter(|m| map.contains_key(m.name)) {
            out.serialize_entry(m.name, &map[m.name])?;
        }
        for (key, value) in map.iter().filter(|(k, _)| !known(k)) {
            out.serialize_entry(key, value)?;
        }
        out.end()
    }
}
