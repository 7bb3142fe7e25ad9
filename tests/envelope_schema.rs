//! The envelope schema of every contract version: every message of the specification's examples
//! and every message the encoder writes validates against it with a plain JSON Schema validator,
//! and messages the decoder refuses for their envelope do not.

use std::path::Path;

use events::{AnyCommand, AnyEvent};
use events_codegen::{Config, Inspection};
use serde_json::{json, Value};

fn registry() -> Inspection {
    Config::from_manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap().inspect().unwrap()
}

/// The envelope schema of the contract version a message claims (the newest that decodes it).
fn validator_for(registry: &Inspection, name: &str, version: &str) -> jsonschema::Validator {
    let file = registry
        .versions_of(name)
        .into_iter()
        .find(|f| f.schema_ref.version.to_string() == version)
        .unwrap_or_else(|| panic!("{name} {version}"));
    let schema = registry.envelope_schema(file).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name} {version}: {e}\n{schema:#}"))
}

fn check(registry: &Inspection, message: &Value) -> Result<(), Vec<String>> {
    let (name, version) = match AnyEvent::from_json(message.to_string().as_bytes()) {
        Ok(e) => (e.event_name().to_string(), e.schema_ref().version.to_string()),
        Err(_) => {
            let c = AnyCommand::from_json(message.to_string().as_bytes()).expect("a message of the registry");
            (c.command_name().to_string(), c.schema_ref().version.to_string())
        }
    };
    let validator = validator_for(registry, &name, &version);
    let errors: Vec<String> = validator.iter_errors(message).map(|e| format!("{}: {e}", e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[test]
fn the_specifications_examples_meet_their_envelope_schema() {
    let registry = registry();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 10);
    for path in files {
        let message: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        check(&registry, &message).unwrap_or_else(|e| panic!("{}: {e:#?}", path.display()));
    }
}

#[test]
fn every_message_the_encoder_writes_meets_its_envelope_schema() {
    let registry = registry();
    for file in registry.registry().files() {
        // The schema's own example, encoded by the runtime in the full form.
        let payload = file.document["examples"][0].clone();
        let stub = json!({
            "eventName": file.contract.name, "commandName": file.contract.name,
            "eventId": "8d3e2a8c-6f1e-4f55-9d0a-3b6f2f1c9e01", "commandId": "8d3e2a8c-6f1e-4f55-9d0a-3b6f2f1c9e02",
            "correlationId": "8d3e2a8c-6f1e-4f55-9d0a-3b6f2f1c9e03",
            "timestamp": "2026-01-01T00:00:00Z", "version": file.schema_ref.version.to_string(),
            "payload": payload, "metadata": { "initiatedBy": "test", "sourceSystem": "test" }
        });
        let mut stub = stub.as_object().unwrap().clone();
        let encoded = if file.document.get("x-event").is_some() {
            stub.remove("commandName");
            stub.remove("commandId");
            AnyEvent::from_json(Value::Object(stub).to_string().as_bytes()).map(|e| {
                // Every field present: a retried, caused event.
                serde_json::to_value(&e).unwrap()
            })
        } else {
            stub.remove("eventName");
            stub.remove("eventId");
            AnyCommand::from_json(Value::Object(stub).to_string().as_bytes()).map(|c| serde_json::to_value(&c).unwrap())
        };
        let encoded = encoded.unwrap_or_else(|e| panic!("{}: {e}", file.display));
        check(&registry, &encoded).unwrap_or_else(|e| panic!("{}: {e:#?}\n{encoded:#}", file.display));
    }
}

#[test]
fn envelopes_the_decoder_refuses_do_not_meet_the_schema() {
    let registry = registry();
    let good: Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec/09-InventoryUpdatedIntegrationEvent.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = validator_for(&registry, "InventoryUpdatedIntegrationEvent", "1.0");
    assert!(validator.is_valid(&good));
    let broken: Vec<(&str, Box<dyn Fn(&mut Value)>)> = vec![
        ("another name", Box::new(|m| m["eventName"] = "InventoryUpdatedEvent".into())),
        ("another event type", Box::new(|m| m["eventType"] = "domain".into())),
        (
            "a missing id",
            Box::new(|m| {
                m.as_object_mut().unwrap().remove("eventId");
            }),
        ),
        ("an id that is no UUID", Box::new(|m| m["eventId"] = "42".into())),
        ("a timestamp not in UTC", Box::new(|m| m["timestamp"] = "2025-02-25T19:05:00+01:00".into())),
        ("an unknown member", Box::new(|m| m["colour"] = "blue".into())),
        (
            "another schema uri",
            Box::new(|m| {
                m["schemaRef"] =
                    json!({"id": "inventoryUpdatedSchema", "version": "1.0", "uri": "https://elsewhere.example/x"})
            }),
        ),
        ("an unknown status", Box::new(|m| m["eventStatus"] = "lost".into())),
        ("a payload that breaks its schema", Box::new(|m| m["payload"]["newQuantity"] = (-1).into())),
        (
            "metadata without initiatedBy",
            Box::new(|m| {
                m["metadata"].as_object_mut().unwrap().remove("initiatedBy");
            }),
        ),
    ];
    for (what, change) in broken {
        let mut message = good.clone();
        change(&mut message);
        assert!(AnyEvent::from_json(message.to_string().as_bytes()).is_err(), "{what}: the decoder accepts it");
        assert!(!validator.is_valid(&message), "{what}: the envelope schema accepts it");
    }
}
