//! `events asyncapi`: the document validates against the official AsyncAPI 3.0.0 JSON Schema (npm
//! package `@asyncapi/specs` 6, installed into a temporary folder, never committed), the official
//! parser (`@asyncapi/parser` 3, likewise) reads it without an error, every `$ref` resolves from
//! the document's root, shared definitions appear once, every operation's messages belong to its
//! channel, and every example meets its schema.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use common::{events, Registry};
use serde_json::{json, Value};

/// Installs npm `packages` into `CARGO_TARGET_TMPDIR/<folder>` unless `marker` (a path inside its
/// `node_modules`) is there already; returns that `node_modules`.
fn npm_install(folder: &str, packages: &[&str], marker: &str) -> PathBuf {
    let prefix = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(folder);
    let modules = prefix.join("node_modules");
    if !modules.join(marker).exists() {
        let out = Command::new("npm")
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .args(packages)
            .output()
            .expect("npm runs (install Node.js and npm, or set ASYNCAPI_SPECS_DIR and ASYNCAPI_PARSER_DIR)");
        assert!(out.status.success(), "npm install {packages:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    modules
}

/// `schemas/3.0.0-without-$id.json` of `@asyncapi/specs` 6: from `ASYNCAPI_SPECS_DIR` (the package
/// folder, as `.ci/run` installs it), else installed here with npm.
fn asyncapi_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let package = match std::env::var_os("ASYNCAPI_SPECS_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => npm_install("asyncapi-specs", &["@asyncapi/specs@6"], "@asyncapi/specs/package.json")
                .join("@asyncapi/specs"),
        };
        let path = package.join("schemas/3.0.0-without-$id.json");
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .unwrap()
    })
}

/// The `node_modules` folder holding `@asyncapi/parser` 3: `ASYNCAPI_PARSER_DIR` (as `.ci/run`
/// installs it), else installed here with npm.
fn parser_modules() -> &'static PathBuf {
    static MODULES: OnceLock<PathBuf> = OnceLock::new();
    MODULES.get_or_init(|| match std::env::var_os("ASYNCAPI_PARSER_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => npm_install("asyncapi-parser", &["@asyncapi/parser@3"], "@asyncapi/parser/package.json"),
    })
}

/// What the official parser saw in `document` (see `asyncapi_parse.mjs`); fails on any error.
fn parse_officially(document: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("asyncapi.json");
    std::fs::write(&file, serde_json::to_string_pretty(document).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/asyncapi_parse.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(parser_modules())
        .arg(&file)
        .output()
        .expect("node runs (install Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the parser failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let all: Vec<String> = diagnostics
        .iter()
        .map(|d| format!("severity {} {} at {}: {}", d["severity"], d["code"], d["path"], d["message"]))
        .collect();
    // Severity 0 is an error.
    assert!(
        diagnostics.iter().all(|d| d["severity"] != 0) && report["parsed"] == true,
        "@asyncapi/parser refuses the document:\n{}",
        all.join("\n")
    );
    // It read the document it was given.
    let count = |v: &Value| v.as_object().map_or(0, |m| m.len());
    assert_eq!(report["channels"], count(&document["channels"]), "{report}");
    assert_eq!(report["messages"], count(&document["components"]["messages"]), "{report}");
    assert_eq!(report["operations"], count(&document["operations"]), "{report}");
    assert_eq!(report["componentSchemas"], count(&document["components"]["schemas"]), "{report}");
    report
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
        // From the document's root, references inside payload schemas too.
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
        assert!(schema.get("definitions").is_none() && schema.get("$defs").is_none(), "{key}: definitions of its own");
        // The schema with the document's components beside it, where its references point.
        let mut schema = schema.clone();
        schema["components"] = json!({ "schemas": document["components"]["schemas"] });
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{key}: {e}"));
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
    let report = parse_officially(&document);
    assert_eq!((&report["channels"], &report["messages"]), (&json!(7), &json!(8)), "{report}");
    // The shared OrderItem is one component, which every message using it refers to.
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let items: Vec<&String> = schemas.keys().filter(|k| k.contains("OrderItem")).collect();
    assert_eq!(items, ["_shared.commerce.OrderItem"], "{:?}", schemas.keys());
    assert_eq!(schemas["_shared.commerce.OrderItem"]["description"], "One line of an order.");
    let messages = &document["components"]["messages"];
    for key in ["CreateOrderCommand_v1_0", "OrderCreatedEvent_v1_0", "OrderCreatedEvent_v1_1"] {
        assert_eq!(
            messages[key]["payload"]["schema"]["properties"]["payload"]["properties"]["items"]["items"],
            json!({ "$ref": "#/components/schemas/_shared.commerce.OrderItem" }),
            "{key}"
        );
    }
    assert_eq!(
        messages["OrderShippedNotificationEvent_v1_0"]["payload"]["schema"]["properties"]["payload"]["properties"]
            ["shippingAddress"],
        json!({ "$ref": "#/components/schemas/_shared.commerce.PostalAddress" })
    );
    // A definition local to one schema is keyed by its message.
    assert_eq!(
        messages["CustomerRegisteredEvent_v1_0"]["payload"]["schema"]["properties"]["payload"]["properties"]
            ["addresses"]["items"],
        json!({ "$ref": "#/components/schemas/CustomerRegisteredEvent_v1_0.Address" })
    );
    // No inline copy is left among the messages.
    let text = messages.to_string();
    for (key, schema) in schemas {
        assert!(!text.contains(&schema.to_string()), "a message holds a copy of {key}");
    }
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
        (
            "OrderService",
            vec!["sendOrderCreatedEvent"],
            vec![
                "receiveCreateOrderCommand",
                "receiveCustomerRegisteredEvent",
                "receiveInventoryUpdatedIntegrationEvent",
            ],
        ),
    ] {
        let run = events(&["asyncapi", "--service", service]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let document = run.json();
        check(&document);
        parse_officially(&document);
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

#[test]
fn definitions_are_components_once_under_keys_of_where_they_were_written() {
    // A local `Money` beside the shared one (the bundle renames the shared one `Money2`), a shared
    // definition referring to another of its file, a local definition nothing refers to, and a
    // schema with an `$id` of its own (its bundle keeps its definitions beside it).
    let registry = Registry::new(&[
        (
            "_shared/common.json",
            r##"{"$defs": {
                "Money": {"type": "object", "required": ["amount", "currency"],
                          "properties": {"amount": {"type": "number"}, "currency": {"$ref": "#/$defs/Currency"}}},
                "Currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}}"##,
        ),
        (
            "paidSchema/1.0.json",
            r##"{"x-event": {"name": "PaidEvent", "type": "domain", "source": "S"}, "type": "object",
               "required": ["price", "cents"],
               "properties": {"price": {"$ref": "../_shared/common.json#/$defs/Money"}, "cents": {"$ref": "#/$defs/Money"}},
               "$defs": {"Money": {"type": "integer", "minimum": 0}}}"##,
        ),
        (
            "refundedSchema/1.0.json",
            r##"{"x-event": {"name": "RefundedEvent", "type": "domain", "source": "S"}, "type": "object",
               "required": ["amount"],
               "properties": {"amount": {"$ref": "../_shared/common.json#/$defs/Money"}},
               "$defs": {"Unused": {"type": "array", "items": {"$ref": "../_shared/common.json#/$defs/Currency"}}}}"##,
        ),
        (
            "taggedSchema/1.0.json",
            r##"{"$id": "https://schema-registry.example.com/schemas/taggedSchema/1.0",
               "x-event": {"name": "TaggedEvent", "type": "domain", "source": "S"}, "type": "object",
               "required": ["tag", "price"],
               "properties": {"tag": {"$ref": "#/$defs/Tag"}, "price": {"$ref": "../_shared/common.json#/$defs/Money"}},
               "$defs": {"Tag": {"type": "string", "minLength": 1}}}"##,
        ),
    ]);
    let run = registry.run(&["asyncapi"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let document = run.json();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let keys: Vec<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "PaidEvent_v1_0.Money",
            "RefundedEvent_v1_0.Unused",
            "TaggedEvent_v1_0.Tag",
            "_shared.common.Currency",
            "_shared.common.Money"
        ]
    );
    let currency = json!({ "$ref": "#/components/schemas/_shared.common.Currency" });
    assert_eq!(schemas["_shared.common.Money"]["properties"]["currency"], currency);
    assert_eq!(schemas["RefundedEvent_v1_0.Unused"]["items"], currency);
    let payload =
        |key: &str| document["components"]["messages"][key]["payload"]["schema"]["properties"]["payload"].clone();
    assert_eq!(
        payload("PaidEvent_v1_0")["properties"]["price"],
        json!({ "$ref": "#/components/schemas/_shared.common.Money" })
    );
    assert_eq!(
        payload("PaidEvent_v1_0")["properties"]["cents"],
        json!({ "$ref": "#/components/schemas/PaidEvent_v1_0.Money" })
    );
    assert_eq!(
        payload("RefundedEvent_v1_0")["properties"]["amount"],
        json!({ "$ref": "#/components/schemas/_shared.common.Money" })
    );
    // Its references now point into the document: an `$id` would re-anchor them.
    let tagged = payload("TaggedEvent_v1_0");
    assert_eq!(tagged["properties"]["tag"], json!({ "$ref": "#/components/schemas/TaggedEvent_v1_0.Tag" }));
    assert!(tagged.get("$id").is_none() && tagged.get("definitions").is_none(), "{tagged}");
    check(&document);
    parse_officially(&document);
    assert_eq!(registry.run(&["asyncapi"], None).stdout, run.stdout, "the same bytes every run");
}

#[test]
fn a_vendored_document_is_one_component_keyed_by_its_uri_however_it_is_referred_to() {
    // One payload names the vendored document by its URI, the other by its path in the registry;
    // inside it, a relative reference to another vendored document.
    let registry = Registry::new(&[
        (
            "_vendor/geo/point.json",
            r##"{"type": "object", "required": ["lat", "lon"],
               "properties": {"lat": {"$ref": "units.json#/$defs/Degrees"}, "lon": {"$ref": "units.json#/$defs/Degrees"}}}"##,
        ),
        ("_vendor/geo/units.json", r#"{"$defs": {"Degrees": {"type": "number"}}}"#),
        (
            "parcelSchema/1.0.json",
            r#"{"x-event": {"name": "ParcelEvent", "type": "domain", "source": "S"}, "type": "object",
               "required": ["at"], "properties": {"at": {"$ref": "https://geo.example.org/schemas/point.json"}}}"#,
        ),
        (
            "depotSchema/1.0.json",
            r#"{"x-event": {"name": "DepotEvent", "type": "domain", "source": "S"}, "type": "object",
               "required": ["at"], "properties": {"at": {"$ref": "../_vendor/geo/point.json"}}}"#,
        ),
    ]);
    let run = registry.run(&["--vendor", "https://geo.example.org/schemas/=_vendor/geo", "asyncapi"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let document = run.json();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let keys: Vec<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(keys, ["geo.example.org.schemas.point", "geo.example.org.schemas.units.Degrees"]);
    assert_eq!(
        schemas["geo.example.org.schemas.point"]["properties"]["lat"],
        json!({ "$ref": "#/components/schemas/geo.example.org.schemas.units.Degrees" })
    );
    for key in ["ParcelEvent_v1_0", "DepotEvent_v1_0"] {
        assert_eq!(
            document["components"]["messages"][key]["payload"]["schema"]["properties"]["payload"]["properties"]["at"],
            json!({ "$ref": "#/components/schemas/geo.example.org.schemas.point" }),
            "{key}"
        );
    }
    check(&document);
    parse_officially(&document);
}
