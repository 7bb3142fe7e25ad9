//! `events asyncapi`: the document validates against the official AsyncAPI 3.0.0 JSON Schema (npm
//! package `@asyncapi/specs` 6, installed into a temporary folder, never committed), every `$ref`
//! resolves, every operation's messages belong to its channel, and every example meets its schema.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use common::{events, Registry};
use serde_json::Value;

/// `schemas/3.0.0-without-$id.json` of `@asyncapi/specs` 6: from `ASYNCAPI_SPECS_DIR` (the package
/// folder, as `.ci/run` installs it), else installed here with npm.
fn asyncapi_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let package = match std::env::var_os("ASYNCAPI_SPECS_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let prefix = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("asyncapi-specs");
                let package = prefix.join("node_modules/@asyncapi/specs");
                if !package.join("package.json").exists() {
                    let out = Command::new("npm")
                        .args(["install", "--no-save", "--no-audit", "--no-fund", "--prefix"])
                        .arg(&prefix)
                        .arg("@asyncapi/specs@6")
                        .output()
                        .expect("npm runs (install Node.js and npm, or set ASYNCAPI_SPECS_DIR)");
                    assert!(
                        out.status.success(),
                        "npm install @asyncapi/specs@6: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                package
            }
        };
        let path = package.join("schemas/3.0.0-without-$id.json");
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .unwrap()
    })
}

fn check(document: &Value) {
    let validator = jsonschema::validator_for(asyncapi_schema()).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(document).take(10).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "not a valid AsyncAPI 3.0.0 document:\n{}", errors.join("\n"));
    // Every reference resolves inside the document.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(document, &mut found);
    for r in &found {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{r}: not a local reference"));
        // References inside payload schemas point into those schemas.
        if pointer.starts_with("/definitions/") {
            continue;
        }
        assert!(document.pointer(pointer).is_some(), "{r} does not resolve");
    }
    // An operation's messages are among its channel's.
    for (name, op) in document["operations"].as_object().into_iter().flatten() {
        let channel = op["channel"]["$ref"].as_str().unwrap();
        for m in op["messages"].as_array().unwrap() {
            let m = m["$ref"].as_str().unwrap();
            assert!(m.starts_with(&format!("{channel}/messages/")), "{name}: {m} is not a message of {channel}");
        }
    }
    // Each message: payload schema in the draft it names, examples that meet it, correlation id.
    for (key, message) in document["components"]["messages"].as_object().unwrap() {
        let schema = &message["payload"]["schema"];
        let format = message["payload"]["schemaFormat"].as_str().unwrap();
        if format.ends_with("draft-07") {
            assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#", "{key}");
        }
        assert_eq!(message["correlationId"]["location"], "$message.payload#/correlationId");
        let validator = jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{key}: {e}"));
        for example in message["examples"].as_array().unwrap_or_else(|| panic!("{key}: no example")) {
            let errors: Vec<String> = validator.iter_errors(&example["payload"]).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{key}: its example breaks its schema: {errors:?}");
        }
    }
}

#[test]
fn the_registry_document_is_valid_asyncapi_3() {
    let run = events(&["asyncapi"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let document = run.json();
    assert_eq!(document["asyncapi"], "3.0.0");
    assert_eq!(
        document["channels"]["InventoryUpdatedIntegrationEvent"]["address"],
        "events.integration.InventoryUpdatedIntegrationEvent"
    );
    assert_eq!(document["channels"]["CreateOrderCommand"]["address"], "commands.CreateOrderCommand");
    let versions = document["channels"]["OrderCreatedEvent"]["messages"].as_object().unwrap();
    assert_eq!(versions.len(), 2, "one message per version");
    assert!(document.get("operations").is_none(), "operations belong to one application");
    assert_eq!(
        document["components"]["messages"]["OrderCreatedEvent_v1_1"]["tags"],
        serde_json::json!([{"name": "order"}, {"name": "creation"}])
    );
    check(&document);
    // The official schema does refuse a broken document.
    let mut broken = document.clone();
    broken["info"].as_object_mut().unwrap().remove("version");
    broken["channels"]["OrderCreatedEvent"]["address"] = 42.into();
    assert!(!jsonschema::validator_for(asyncapi_schema()).unwrap().is_valid(&broken));
    // Deterministic: the same document every run.
    assert_eq!(events(&["asyncapi"]).stdout, run.stdout);
}

#[test]
fn a_service_document_has_its_operations() {
    for (service, sends, receives) in [
        (
            "InventoryService",
            vec!["sendInventoryUpdatedEvent", "sendInventoryUpdatedIntegrationEvent"],
            vec!["receiveInventoryUpdatedEvent"],
        ),
        (
            "NotificationService",
            vec!["sendSendOrderConfirmationCommand"],
            vec![
                "receiveOrderCreatedEvent",
                "receiveOrderShippedNotificationEvent",
                "receiveSendOrderConfirmationCommand",
            ],
        ),
        ("PaymentService", vec![], vec!["receiveInventoryUpdatedIntegrationEvent"]),
    ] {
        let run = events(&["asyncapi", "--service", service]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let document = run.json();
        check(&document);
        let ops: Vec<&str> = document["operations"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected: Vec<&str> = sends.iter().chain(&receives).copied().collect();
        expected.sort();
        assert_eq!(ops, expected, "{service}");
    }
    let run = events(&["asyncapi", "--service", "Nobody"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("not a service of the registry"), "{}", run.stderr);
}

#[test]
fn a_schema_that_reads_otherwise_in_draft_7_is_labelled_with_its_own_draft() {
    let registry = Registry::new(&[
        (
            "pairSchema/1.0.json",
            r#"{"x-event": {"name": "PairEvent", "type": "domain", "source": "S"}, "type": "object", "required": ["p"],
               "properties": {"p": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}},
               "examples": [{"p": [1, "a"]}]}"#,
        ),
        (
            "plainSchema/1.0.json",
            r#"{"x-event": {"name": "PlainEvent", "type": "domain", "source": "S"}, "type": "object", "required": ["n"],
               "properties": {"n": {"type": "integer", "minimum": 1}}}"#,
        ),
    ]);
    let run = registry.run(&["asyncapi"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let document = run.json();
    let format =
        |key: &str| document["components"]["messages"][key]["payload"]["schemaFormat"].as_str().unwrap().to_string();
    assert_eq!(format("PairEvent_v1_0"), "application/schema+json;version=2020-12");
    assert_eq!(format("PlainEvent_v1_0"), "application/schema+json;version=draft-07");
    check(&document);
}
