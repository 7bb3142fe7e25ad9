//! `events asyncapi`: the registry as an AsyncAPI 3.0.0 document, the ecosystem's format for
//! event-driven APIs. One channel per contract at the subject the NATS transport uses, one message
//! per version whose payload is the whole message's schema; with `--service`, that service's
//! operations (a document describes one application). The payloads' definitions are
//! `components.schemas`, each once (see [`schemas`]).

mod schemas;

use std::collections::BTreeMap;

use events_codegen::registry::{ContractKind, SchemaFile};
use events_codegen::{Config, Inspection};
use serde_json::{json, Map, Value};

use crate::example::{self, Ids};
use crate::registry_args::Package;
use crate::tools::{self, FINDINGS, USAGE};

pub fn run(config: &Config, package: &Package, service: Option<&str>, out: Option<&std::path::Path>) -> u8 {
    let registry = match tools::inspect(config) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let policy = crate::access::policy(registry.registry());
    if let Some(s) = service.filter(|s| !policy.users().contains(s)) {
        eprintln!("error: --service {s}: not a service of the registry ({})", policy.users().join(", "));
        return USAGE;
    }
    let document = document(&registry, package, service);
    let text = serde_json::to_string_pretty(&document).expect("JSON") + "\n";
    match out {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                FINDINGS
            }
        },
        None => {
            print!("{text}");
            0
        }
    }
}

/// The document. Deterministic: examples carry fixed ids and timestamps.
pub fn document(registry: &Inspection, package: &Package, service: Option<&str>) -> Value {
    // Versions of one contract, oldest first; contracts by name.
    let mut contracts: BTreeMap<&str, Vec<&SchemaFile>> = BTreeMap::new();
    for f in registry.registry().files() {
        contracts.entry(&f.contract.name).or_default().push(f);
    }
    let mut channels = Map::new();
    let mut messages = Map::new();
    let mut operations = Map::new();
    let mut files = Vec::new();
    for (name, versions) in &contracts {
        let newest = versions.last().expect("a contract has a version");
        let mut channel_messages = Map::new();
        for f in versions {
            let key = message_key(f);
            channel_messages.insert(key.clone(), json!({ "$ref": format!("#/components/messages/{key}") }));
            messages.insert(key.clone(), message(registry, f));
            files.push((key, *f));
        }
        let address = match newest.contract.kind {
            ContractKind::Event(t) => events_broker::event_subject(crate::decode::runtime_type(t), name),
            ContractKind::Command => events_broker::command_subject(name),
        };
        let mut channel = Map::new();
        channel.insert("address".into(), address.into());
        channel.insert("title".into(), (*name).into());
        if let Some(d) = &newest.contract.description {
            channel.insert("description".into(), d.clone().into());
        }
        channel.insert("messages".into(), Value::Object(channel_messages.clone()));
        channels.insert((*name).to_string(), Value::Object(channel));
        if let Some(service) = service {
            let registry = registry.registry();
            let refs: Vec<Value> =
                channel_messages.keys().map(|k| json!({ "$ref": format!("#/channels/{name}/messages/{k}") })).collect();
            let channel_ref = json!({ "$ref": format!("#/channels/{name}") });
            if registry.publishers(newest).iter().any(|p| p == service) {
                operations.insert(
                    format!("send{name}"),
                    json!({ "action": "send", "channel": channel_ref, "messages": refs, "summary": format!("{service} publishes {name}.") }),
                );
            }
            if registry.consumers(newest).iter().any(|c| c == service) {
                operations.insert(
                    format!("receive{name}"),
                    json!({ "action": "receive", "channel": channel_ref, "messages": refs, "summary": format!("{service} consumes {name}.") }),
                );
            }
        }
    }
    let title = match service {
        Some(s) => format!("{s} ({} event registry)", package.name),
        None => format!("{} event registry", package.name),
    };
    let mut info = Map::new();
    info.insert("title".into(), title.into());
    info.insert("version".into(), package.version.clone().into());
    let description = package.description.clone().unwrap_or_else(|| "The registry's events and commands".into());
    info.insert(
        "description".into(),
        format!(
            "{}. Messages travel over NATS JetStream: events on `events.<eventType>.<eventName>` (stream EVENTS), commands on `commands.<commandName>` (stream COMMANDS).",
            description.trim_end_matches('.')
        )
        .into(),
    );
    let mut doc = Map::new();
    doc.insert("asyncapi".into(), "3.0.0".into());
    doc.insert("info".into(), Value::Object(info));
    doc.insert("defaultContentType".into(), "application/json".into());
    doc.insert("channels".into(), Value::Object(channels));
    if service.is_some() {
        doc.insert("operations".into(), Value::Object(operations));
    }
    let shared = schemas::hoist(registry, &mut messages, &files);
    let mut components = Map::new();
    if !shared.is_empty() {
        components.insert("schemas".into(), Value::Object(shared));
    }
    components.insert("messages".into(), Value::Object(messages));
    doc.insert("components".into(), Value::Object(components));
    Value::Object(doc)
}

/// `OrderCreatedEvent_v1_1`: a component key per version.
fn message_key(f: &SchemaFile) -> String {
    format!("{}_{}", f.contract.name, f.schema_ref.version.module())
}

fn message(registry: &Inspection, f: &SchemaFile) -> Value {
    let mut envelope = registry.envelope_schema(f).unwrap_or_default();
    let format = schema_format(&envelope);
    // Labelled draft 7 because it means the same there: say so inside the schema too.
    if format.ends_with("draft-07") {
        envelope["$schema"] = "http://json-schema.org/draft-07/schema#".into();
    }
    let mut m = Map::new();
    m.insert("name".into(), f.contract.name.clone().into());
    m.insert("title".into(), format!("{} {}", f.contract.name, f.schema_ref.version).into());
    if let Some(d) = &f.contract.description {
        m.insert("summary".into(), d.clone().into());
    }
    if let Some(d) = &f.contract.deprecated {
        m.insert("deprecated".into(), true.into());
        m.insert("description".into(), format!("Deprecated: {}", d.describe()).into());
    }
    m.insert("contentType".into(), "application/json".into());
    m.insert("payload".into(), json!({ "schemaFormat": format, "schema": envelope }));
    m.insert("correlationId".into(), json!({ "location": "$message.payload#/correlationId" }));
    m.insert("tags".into(), f.contract.tags.iter().map(|t| json!({ "name": t })).collect());
    if let Ok((example, _)) = example::example(registry, f, Ids::Fixed) {
        m.insert("examples".into(), json!([{ "name": "example", "payload": example }]));
    }
    Value::Object(m)
}

/// The payload's draft, named truthfully: draft-07 (the format every AsyncAPI tool must support)
/// where every keyword the schema uses means the same in draft 7, its own draft otherwise.
pub fn schema_format(schema: &Value) -> String {
    let draft = events_codegen::envelope::draft_of(schema);
    let label = if draft.contains("draft-07") || draft.contains("draft-06") {
        "draft-07"
    } else if draft.contains("draft-04") {
        if uses_any(schema, &["id", "exclusiveMinimum", "exclusiveMaximum"], true) {
            "draft-04"
        } else {
            "draft-07"
        }
    } else {
        let year = if draft.contains("2019-09") { "2019-09" } else { "2020-12" };
        if means_the_same_in_draft7(schema) {
            "draft-07"
        } else {
            year
        }
    };
    format!("application/schema+json;version={label}")
}

/// Keywords of 2019-09 and 2020-12 that draft 7 lacks or reads otherwise.
const NEWER: [&str; 12] = [
    "prefixItems",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "minContains",
    "maxContains",
];

fn means_the_same_in_draft7(schema: &Value) -> bool {
    !uses_any(schema, &NEWER, false) && !sibling_of_ref(schema) && !items_array(schema)
}

/// Whether a keyword of `keywords` appears in a schema position (property names are not keywords;
/// `draft4_bool` counts `exclusiveMinimum` only in its boolean form).
fn uses_any(value: &Value, keywords: &[&str], draft4_bool: bool) -> bool {
    walk(value, &mut |map| {
        map.iter().any(|(k, v)| {
            keywords.contains(&k.as_str())
                && (!draft4_bool || !k.starts_with("exclusive") || v.is_boolean())
                && !(k == "id" && !v.is_string())
        })
    })
}

/// Draft 7 ignores the siblings of a `$ref`; 2019-09 and later apply them.
fn sibling_of_ref(value: &Value) -> bool {
    walk(value, &mut |map| {
        map.contains_key("$ref")
            && map.keys().any(|k| {
                !matches!(
                    k.as_str(),
                    "$ref" | "title" | "description" | "$comment" | "examples" | "default" | "definitions" | "$defs"
                ) && !k.starts_with("x-")
            })
    })
}

/// `items` as an array is a tuple before 2020-12 and refused after it.
fn items_array(value: &Value) -> bool {
    walk(value, &mut |map| map.get("items").is_some_and(Value::is_array))
}

/// Calls `check` on every schema object; true as soon as one answers true.
fn walk(value: &Value, check: &mut dyn FnMut(&Map<String, Value>) -> bool) -> bool {
    match value {
        Value::Object(map) => {
            if check(map) {
                return true;
            }
            map.iter().any(|(k, v)| match k.as_str() {
                "const" | "enum" | "default" | "examples" => false,
                "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas" => {
                    v.as_object().is_some_and(|m| m.values().any(|s| walk(s, check)))
                }
                _ => walk(v, check),
            })
        }
        Value::Array(items) => items.iter().any(|i| walk(i, check)),
        _ => false,
    }
}
