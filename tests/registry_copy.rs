//! The whole loop on a copy of this workspace: a schema dropped into `schemas/` is usable after
//! `cargo build`, a bad one fails the build naming the file, and the build script reruns only
//! when the registry changes. These tests run cargo itself, offline, in a shared target folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PAYMENT_SCHEMA: &str = r#"{
  "x-event": { "name": "PaymentReceivedEvent", "type": "integration", "source": "PaymentService", "tags": ["payment"] },
  "type": "object",
  "additionalProperties": false,
  "required": ["orderId", "amount"],
  "properties": {
    "orderId": { "type": "string" },
    "amount": { "type": "number", "exclusiveMinimum": 0 }
  }
}"#;

const ORDER_CREATED_1_1: &str = r#"{
  "x-event": { "name": "OrderCreatedEvent", "type": "domain", "source": "OrderService", "tags": ["order", "creation"] },
  "type": "object",
  "additionalProperties": false,
  "required": ["orderId", "customerId", "items", "totalAmount"],
  "properties": {
    "orderId": { "type": "string" },
    "customerId": { "type": "string" },
    "items": { "type": "array", "minItems": 1, "items": { "$ref": "../_shared/commerce.json#/$defs/OrderItem" } },
    "totalAmount": { "type": "number", "minimum": 0 },
    "currency": { "type": "string", "pattern": "^[A-Z]{3}$" }
  }
}"#;

const USE_PAYMENT: &str = r#"
use events::payment_received_schema::{PaymentReceivedEvent, PaymentReceivedEventPayload};
use events::AnyEvent;
fn main() {
    let e = PaymentReceivedEvent::new(
        PaymentReceivedEventPayload { order_id: "ORD1".into(), amount: 12.5 },
        events::Metadata::new("user123", "PaymentSystem"),
    ).unwrap();
    let back = AnyEvent::from_json(e.to_json().as_bytes()).unwrap();
    println!("{} {} {}", back.event_name(), back.schema_ref().uri, e.event_source());
    let mut bad: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
    bad["payload"]["amount"] = serde_json::json!(0);
    println!("{}", AnyEvent::from_json(bad.to_string().as_bytes()).unwrap_err());

    // Two versions of one event side by side: the version picks the variant, and without one
    // the newest version that accepts the message wins.
    let mut order = serde_json::json!({
        "eventName": "OrderCreatedEvent",
        "eventId": "c4f7d8e6-4a9b-4579-8d4e-6f3d8f5b9c0e",
        "correlationId": "123e4567-e89b-12d3-a456-426614174123",
        "commandId": "123e4567-e89b-12d3-a456-426614174000",
        "timestamp": "2025-02-25T19:05:00Z",
        "payload": { "orderId": "ORD12345", "customerId": "CUST67890",
            "items": [{ "itemId": "ITEM001", "quantity": 2, "price": 100 }], "totalAmount": 200 },
        "metadata": { "initiatedBy": "OrderService", "sourceSystem": "OrderService" }
    });
    let newest = AnyEvent::from_json(order.to_string().as_bytes()).unwrap();
    assert!(matches!(newest, AnyEvent::OrderCreatedEventV1_1(_)), "{newest:?}");
    order["version"] = "1.0".into();
    let older = AnyEvent::from_json(order.to_string().as_bytes()).unwrap();
    assert!(matches!(older, AnyEvent::OrderCreatedEventV1_0(_)), "{older:?}");
    order["payload"]["currency"] = "EUR".into();
    assert!(AnyEvent::from_json(order.to_string().as_bytes()).is_err(), "1.0 is closed: no currency");
    order.as_object_mut().unwrap().remove("version");
    assert_eq!(AnyEvent::from_json(order.to_string().as_bytes()).unwrap().schema_ref().version.to_string(), "1.1");
    // Accepted by no version: the newest version's complaint is the one reported.
    order["payload"]["currency"] = "eur".into();
    let err = AnyEvent::from_json(order.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.pointer(), Some("/payload/currency"), "{err}");
    println!("versions ok");
}
"#;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The folders (`…/`) and files a copy of the workspace needs.
fn workspace_copy() -> impl Iterator<Item = &'static str> {
    include_str!("workspace-copy.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// A copy of what building the `events` crate needs.
fn copy_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in workspace_copy() {
        match entry.strip_suffix('/') {
            Some(folder) => copy_dir(&workspace().join(folder), &dir.path().join(folder)),
            None => {
                std::fs::create_dir_all(dir.path().join(entry).parent().unwrap()).unwrap();
                std::fs::copy(workspace().join(entry), dir.path().join(entry)).unwrap();
            }
        }
    }
    dir
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    cargo_with(dir, args, &[])
}

/// Builds of the copies share a target folder and run side by side, except while the test of when
/// the build script reruns holds it alone: another copy's build between its two builds has made
/// cargo see the script's run as dirty ("the fingerprint comparison turned up nothing obvious").
static BUILDS: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn cargo_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let _shared = BUILDS.read().unwrap_or_else(|e| e.into_inner());
    run_cargo(dir, args, env)
}

fn run_cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let target: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("registry-copy");
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .envs(env.iter().copied())
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MAKEFLAGS")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether this copy's `events` build script ran during the build that printed `stderr` (`-v`).
fn build_script_ran(stderr: &str) -> bool {
    stderr.lines().any(|l| {
        l.trim_start().starts_with("Running") && l.contains("/build/events-") && l.contains("build-script-build")
    })
}

#[test]
fn a_schema_added_to_a_copy_is_usable_after_a_build() {
    let copy = copy_workspace();
    let dir = copy.path();
    std::fs::create_dir_all(dir.join("schemas/paymentReceivedSchema")).unwrap();
    std::fs::write(dir.join("schemas/paymentReceivedSchema/1.0.json"), PAYMENT_SCHEMA).unwrap();
    std::fs::write(dir.join("schemas/orderCreatedSchema/1.1.json"), ORDER_CREATED_1_1).unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::write(dir.join("examples/use_payment.rs"), USE_PAYMENT).unwrap();
    let out = cargo(dir, &["run", "-q", "--example", "use_payment"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "PaymentReceivedEvent https://schema-registry.example.com/schemas/paymentReceivedSchema/1.0 PaymentService"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("/payload/amount"), "{stdout}");
    assert!(stdout.contains("versions ok"), "{stdout}");
}

#[test]
fn a_bad_schema_fails_the_build_naming_the_file() {
    let copy = copy_workspace();
    let dir = copy.path();
    std::fs::create_dir_all(dir.join("schemas/brokenSchema")).unwrap();
    std::fs::write(dir.join("schemas/brokenSchema/1.0.json"), "{\n  \"x-event\": { \"name\": \"BrokenEvent\", \"type\": \"domain\", \"source\": \"S\" },\n  \"type\": \"object\",\n  \"properties\": { \"n\": { \"type\": \"integer\", \"maximum\": \"ten\" } }\n}\n").unwrap();
    let out = cargo(dir, &["build", "--lib"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("schemas/brokenSchema/1.0.json:4:"), "{stderr}");
    assert!(stderr.contains("/properties/n/maximum"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_breaking_minor_version_fails_the_build_and_a_major_one_warns() {
    let copy = copy_workspace();
    let dir = copy.path();
    let current = std::fs::read_to_string(dir.join("schemas/orderCreatedSchema/1.1.json")).unwrap();
    // Three breaks of BACKWARD: a property removed from a closed model, an optional property made
    // required, a constraint tightened.
    let breaking = current
        .replace("\"customerId\": { \"type\": \"string\", \"minLength\": 1 },", "")
        .replace("\"customerId\", ", "")
        .replace("\"totalAmount\"]", "\"totalAmount\", \"currency\"]")
        .replace("\"minItems\": 1", "\"minItems\": 2");
    // Its example, written for 1.1, would break 1.2 too: left out.
    let breaking = match breaking.split_once(",\n  \"examples\"") {
        Some((head, _)) => format!("{head}\n}}\n"),
        None => breaking,
    };
    assert_ne!(breaking, current);
    std::fs::write(dir.join("schemas/orderCreatedSchema/1.2.json"), &breaking).unwrap();
    let out = cargo(dir, &["build", "--lib"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("3 problems"), "{stderr}");
    for expected in [
        "schemas/orderCreatedSchema/1.2.json:12:27: at /additionalProperties: BACKWARD 1.1 → 1.2: 1.2 cannot read data written with 1.1: `customerId` removed",
        "[property-removed-from-closed-model]",
        "at /required: BACKWARD 1.1 → 1.2",
        "[optional-made-required]",
        "at /properties/items/minItems",
        "[constraint-tightened]",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in\n{stderr}");
    }

    // The same change as a major version builds, and shows what broke.
    std::fs::rename(dir.join("schemas/orderCreatedSchema/1.2.json"), dir.join("schemas/orderCreatedSchema/2.0.json"))
        .unwrap();
    let out = cargo(dir, &["build", "--lib"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warned = stderr.lines().filter(|l| {
        l.starts_with("warning:") && l.contains("schemas/orderCreatedSchema/2.0.json:") && l.contains("BACKWARD")
    });
    assert_eq!(warned.count(), 3, "{stderr}");
    assert!(stderr.contains("BACKWARD 1.1 → 2.0"), "{stderr}");
    // A version the registry records no schema id for is named, with the command that records it.
    assert!(
        stderr
            .contains("no schema id is recorded for orderCreatedSchema 2.0 in schema-ids.lock; run `cargo events ids`"),
        "{stderr}"
    );
}

const USE_DEPRECATED: &str = r#"
use events::order_shipped_schema::latest::PostalAddress;
use events::order_shipped_schema::{OrderShippedNotificationEvent, OrderShippedNotificationEventPayload};
fn main() {
    let payload = OrderShippedNotificationEventPayload {
        order_id: "ORD12345".into(),
        customer_id: "CUST67890".into(),
        shipping_address: PostalAddress { street: "123 Main St".into(), city: "Anytown".into(), postal_code: "12345".into() },
        carrier: "UPS".into(),
        tracking_number: "1Z9999999999999999".into(),
    };
    let event = OrderShippedNotificationEvent::new(payload, events::Metadata::new("ShippingService", "ShippingService")).unwrap();
    let back = events::AnyEvent::from_json(event.to_json().as_bytes()).unwrap();
    println!("decoded {}", back.event_name());
}
"#;

const USE_FORMER_BASE: &str = r#"
fn main() {
    let wire = std::fs::read_to_string("tests/fixtures/spec/09-InventoryUpdatedIntegrationEvent.json").unwrap();
    let old = wire.replace("https://schema-registry.example.com/schemas/", "https://old-registry.example.com/schemas/");
    assert_ne!(old, wire);
    // Both decoding paths take the former base; encoding writes the current one.
    let fast = events::AnyEvent::from_json(old.as_bytes()).unwrap();
    let complete = events::AnyEvent::from_raw(events::RawEvent::parse(old.as_bytes()).unwrap()).unwrap();
    assert_eq!(fast.event_id(), complete.event_id());
    let again: serde_json::Value = serde_json::to_value(&fast).unwrap();
    assert_eq!(again["schemaRef"]["uri"], "https://schema-registry.example.com/schemas/inventoryUpdatedSchema/1.0");
    // Any other base is still refused, naming the field.
    let elsewhere = wire.replace("https://schema-registry.example.com/schemas/", "https://elsewhere.example.com/");
    assert_eq!(events::AnyEvent::from_json(elsewhere.as_bytes()).unwrap_err().pointer(), Some("/schemaRef/uri"));
    println!("former base ok");
}
"#;

/// Messages written under a former base URI still decode, on both paths, once it is listed.
#[test]
fn a_former_base_uri_still_decodes_and_is_never_written() {
    let copy = copy_workspace();
    let dir = copy.path();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let with_former = manifest.replacen(
        "base-uri = \"https://schema-registry.example.com/schemas\"\n",
        "base-uri = \"https://schema-registry.example.com/schemas\"\nformer-base-uris = [\"https://old-registry.example.com/schemas\"]\n",
        1,
    );
    assert_ne!(with_former, manifest);
    std::fs::write(dir.join("Cargo.toml"), with_former).unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::write(dir.join("examples/use_former_base.rs"), USE_FORMER_BASE).unwrap();
    let out = cargo(dir, &["run", "-q", "--example", "use_former_base"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("former base ok"));
}

/// A deprecated contract warns the crate that produces it, not the `events` crate that decodes it.
#[test]
fn a_deprecated_contract_warns_its_producers_and_still_decodes() {
    let copy = copy_workspace();
    let dir = copy.path();
    let path = dir.join("schemas/orderShippedSchema/1.0.json");
    let schema = std::fs::read_to_string(&path).unwrap();
    let deprecated =
        schema.replacen("\"x-event\": {", "\"x-event\": {\n    \"deprecated\": \"use trackingUpdatedSchema\",", 1);
    assert_ne!(deprecated, schema);
    std::fs::write(&path, deprecated).unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::write(dir.join("examples/use_deprecated.rs"), USE_DEPRECATED).unwrap();
    let out = cargo(dir, &["run", "--example", "use_deprecated"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(text(&out.stdout).contains("decoded OrderShippedNotificationEvent"), "{}", text(&out.stdout));
    for expected in [
        "use of deprecated type alias `events::order_shipped_schema::OrderShippedNotificationEvent`: use trackingUpdatedSchema",
        "use of deprecated struct `events::order_shipped_schema::OrderShippedNotificationEventPayload`: use trackingUpdatedSchema",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in\n{stderr}");
    }
    assert!(!stderr.contains("`events` (lib) generated"), "the events crate itself warns:\n{stderr}");
}

#[test]
fn the_build_script_reruns_only_when_the_registry_changes() {
    let _alone = BUILDS.write().unwrap_or_else(|e| e.into_inner());
    let cargo = |dir: &Path, args: &[&str]| run_cargo(dir, args, &[]);
    let copy = copy_workspace();
    let dir = copy.path();
    let first = cargo(dir, &["build", "--lib", "-v"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    // On a busy machine cargo has seen the build right after a copy's first one as dirty
    // ("the fingerprint comparison turned up nothing obvious"); one more build settles it, and a
    // script that reran every time would still rerun below.
    let settle = cargo(dir, &["build", "--lib", "-v"]);
    assert!(settle.status.success(), "{}", text(&settle.stderr));

    let unchanged = cargo(dir, &["build", "--lib", "-v"]);
    assert!(!build_script_ran(&text(&unchanged.stderr)), "reran with nothing changed:\n{}", text(&unchanged.stderr));

    // A change outside the registry rebuilds the crate, not the contracts.
    let lib = dir.join("src/lib.rs");
    std::fs::write(&lib, std::fs::read_to_string(&lib).unwrap() + "\n// edited\n").unwrap();
    let code_edit = cargo(dir, &["build", "--lib", "-v"]);
    assert!(code_edit.status.success());
    assert!(!build_script_ran(&text(&code_edit.stderr)), "reran after an edit outside schemas/");

    let schema = dir.join("schemas/orderCreatedSchema/1.0.json");
    let edited = std::fs::read_to_string(&schema).unwrap().replace("\"minItems\": 1", "\"minItems\": 2");
    std::fs::write(&schema, edited).unwrap();
    let changed = cargo(dir, &["build", "--lib", "-v"]);
    assert!(changed.status.success());
    assert!(build_script_ran(&text(&changed.stderr)), "a changed schema did not rerun the build script");

    std::fs::create_dir_all(dir.join("schemas/paymentReceivedSchema")).unwrap();
    std::fs::write(dir.join("schemas/paymentReceivedSchema/1.0.json"), PAYMENT_SCHEMA).unwrap();
    let added = cargo(dir, &["build", "--lib", "-v"]);
    assert!(build_script_ran(&text(&added.stderr)), "an added schema did not rerun the build script");

    std::fs::remove_dir_all(dir.join("schemas/paymentReceivedSchema")).unwrap();
    let removed = cargo(dir, &["build", "--lib", "-v"]);
    assert!(removed.status.success());
    assert!(build_script_ran(&text(&removed.stderr)), "a removed schema did not rerun the build script");
}

#[test]
fn a_schema_that_crashes_typify_builds_with_a_validated_fallback() {
    // typify recurses forever on this shape and overflows its stack; the build script runs it in a
    // child process, so the build goes on: the payload is kept as a validated JSON value, and the
    // build says so, naming the file.
    let copy = copy_workspace();
    let dir = copy.path();
    std::fs::create_dir_all(dir.join("schemas/treeSchema")).unwrap();
    std::fs::write(
        dir.join("schemas/treeSchema/1.0.json"),
        r##"{ "x-event": { "name": "TreeEvent", "type": "domain", "source": "OrderService" },
  "type": "object", "properties": { "a": { "$ref": "#/$defs/A" } },
  "$defs": { "A": { "type": "object", "properties": { "b": { "allOf": [{ "$ref": "#/$defs/A" }, { "required": ["x"] }] } } } } }"##,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::write(
        dir.join("examples/use_tree.rs"),
        r#"
use events::tree_schema::{TreeEvent, TreeEventPayload};
fn main() {
    let ok = TreeEvent::new(TreeEventPayload(serde_json::json!({ "a": { "b": { "x": 1 } } })), events::Metadata::new("u", "s"));
    let refused = TreeEvent::new(TreeEventPayload(serde_json::json!({ "a": { "b": {} } })), events::Metadata::new("u", "s"));
    println!("{} {}", ok.is_ok(), refused.unwrap_err().violations[0].pointer);
}
"#,
    )
    .unwrap();
    // The worker dies on this payload the way typify overflowing its stack killed it.
    let out =
        cargo_with(dir, &["run", "--example", "use_tree"], &[("EVENTS_CODEGEN_TEST_ABORT_ON", "TreeEventPayload")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("schemas/treeSchema/1.0.json") && stderr.contains("typify crashed"), "{stderr}");
    assert_eq!(text(&out.stdout).trim(), "true /payload/a/b");
}

#[test]
fn a_registry_of_events_only_builds() {
    // `AnyCommand` is still generated, empty, and the crate compiles.
    let copy = copy_workspace();
    let dir = copy.path();
    for subject in ["createOrderSchema", "sendOrderConfirmationSchema"] {
        std::fs::remove_dir_all(dir.join("schemas").join(subject)).unwrap();
    }
    let out = cargo(dir, &["build", "--lib"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// With `refined-types = true`, payloads keep typify's newtypes, built through `try_into`; the
/// typed checks and decoding hold all the same.
const USE_REFINED: &str = r##"
use events::order_created_schema::latest::{OrderCreatedEventPayload, OrderCreatedEventPayloadOrderId, OrderItem};
use events::order_created_schema::OrderCreatedEvent;
fn main() {
    let item = OrderItem {
        item_id: "ITEM001".try_into().unwrap(),
        quantity: std::num::NonZeroU64::new(2).unwrap(),
        price: 100.0,
    };
    let payload = OrderCreatedEventPayload {
        order_id: "ORD1".try_into().unwrap(),
        customer_id: "CUST1".try_into().unwrap(),
        items: vec![item],
        total_amount: 200.0,
        currency: None,
    };
    let refused: Result<OrderCreatedEventPayloadOrderId, events::ConversionError> = "".try_into();
    println!("empty id: {}", refused.unwrap_err());
    let event = OrderCreatedEvent::new(payload, events::Metadata::new("u1", "Shop")).unwrap();
    let back = events::AnyEvent::from_json(event.to_json().as_bytes()).unwrap();
    assert_eq!(back, events::AnyEvent::from(event.clone()));
    assert!(event.to_json().contains(r#""price":100}"#), "{}", event.to_json());
    println!("refined ok");
}
"##;

#[test]
fn refined_types_keep_typify_newtypes() {
    let copy = copy_workspace();
    let dir = copy.path();
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let refined =
        manifest.replacen("[package.metadata.events]\n", "[package.metadata.events]\nrefined-types = true\n", 1);
    assert_ne!(refined, manifest);
    std::fs::write(dir.join("Cargo.toml"), refined).unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::write(dir.join("examples/use_refined.rs"), USE_REFINED).unwrap();
    let out = cargo(dir, &["run", "-q", "--example", "use_refined"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("empty id: shorter than 1 characters"), "{stdout}");
    assert!(stdout.contains("refined ok"), "{stdout}");
    // A malformed setting names the key.
    std::fs::write(
        dir.join("Cargo.toml"),
        manifest.replacen("[package.metadata.events]\n", "[package.metadata.events]\nrefined-types = \"yes\"\n", 1),
    )
    .unwrap();
    let out = cargo(dir, &["build", "--lib"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("refined-types must be `true` or `false`"), "{}", text(&out.stderr));
}

/// What every billing crate of these tests has in its manifest; each test adds its own tables.
const BILLING_MANIFEST: &str = r#"[package]
name = "billing-events"
version = "0.1.0"
edition = "2021"

[package.metadata.events]
base-uri = "https://schema-registry.example.com/billing"

[dependencies]
events = { path = "..", default-features = false }
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[build-dependencies]
events-codegen = { path = "../codegen" }
"#;

/// The example is a service that also uses the shipped registry.
const BILLING_BESIDE_SHIPPED: &str = r#"
[dev-dependencies]
events = { path = ".." }
"#;

const BILLING_BUILD: &str = r#"fn main() {
    if let Err(e) = events_codegen::Config::from_cargo_metadata().and_then(|c| c.compile()) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
"#;

const BILLING_LIB: &str = r#"pub use events::runtime::*;
#[allow(missing_docs, deprecated)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/events.rs"));
}
pub use generated::*;
"#;

/// A service using both registries: each crate's `AnyEvent` decodes its own events only.
const USE_BOTH: &str = r#"
use billing_events::payment_received_schema::{PaymentReceivedEvent, PaymentReceivedEventPayload};
fn main() {
    let paid = PaymentReceivedEvent::new(
        PaymentReceivedEventPayload { order_id: "ORD1".into(), amount: 12.5 },
        billing_events::Metadata::new("u1", "Billing"),
    ).unwrap();
    let wire = paid.to_json();
    assert!(wire.contains("https://schema-registry.example.com/billing/paymentReceivedSchema/1.0"), "{wire}");
    let back = billing_events::AnyEvent::from_json(wire.as_bytes()).unwrap();
    assert_eq!(back.event_name(), "PaymentReceivedEvent");
    let err = events::AnyEvent::from_json(wire.as_bytes()).unwrap_err();
    println!("shipped registry: {err}");
    let bad = wire.replace("12.5", "0");
    println!("billing: {}", billing_events::AnyEvent::from_json(bad.as_bytes()).unwrap_err());
    println!("both ok");
}
"#;

/// A registry split by bounded context: a second crate with its own `schemas/` and the runtime of
/// `events`, beside the shipped registry, in one service.
/// A `billing-events` member of the copy `dir`: [`BILLING_MANIFEST`] and the test's own `tables`,
/// the build script and library of the README's recipe; its schemas and examples are the caller's.
fn billing_crate(dir: &Path, tables: &str) -> PathBuf {
    let billing = dir.join("billing-events");
    for folder in ["src", "schemas", "examples"] {
        std::fs::create_dir_all(billing.join(folder)).unwrap();
    }
    std::fs::write(billing.join("Cargo.toml"), format!("{BILLING_MANIFEST}{tables}")).unwrap();
    std::fs::write(billing.join("build.rs"), BILLING_BUILD).unwrap();
    std::fs::write(billing.join("src/lib.rs"), BILLING_LIB).unwrap();
    let workspace = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), workspace.replacen("members = [", "members = [\"billing-events\", ", 1))
        .unwrap();
    billing
}

#[test]
fn a_second_registry_crate_builds_beside_the_shipped_one() {
    let copy = copy_workspace();
    let dir = copy.path();
    let billing = billing_crate(dir, BILLING_BESIDE_SHIPPED);
    std::fs::create_dir_all(billing.join("schemas/paymentReceivedSchema")).unwrap();
    let schema = PAYMENT_SCHEMA.replace("PaymentService", "BillingService");
    std::fs::write(billing.join("schemas/paymentReceivedSchema/1.0.json"), schema).unwrap();
    std::fs::write(billing.join("examples/use_both.rs"), USE_BOTH).unwrap();
    let out = cargo(dir, &["run", "-q", "-p", "billing-events", "--example", "use_both"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("shipped registry: ") && stdout.contains("PaymentReceivedEvent"), "{stdout}");
    assert!(stdout.contains("billing: ") && stdout.contains("/payload/amount"), "{stdout}");
    assert!(stdout.contains("both ok"), "{stdout}");
}

/// The billing crate of `tests/billing/`: its own schemas (a shared `Money`, two events and a
/// command), its own access rules and schema ids.
const BILLING_OVER_NATS: &str = r#"
[package.metadata.events.access]
services = ["AuditService", "BillingService", "OrderService"]
operators = ["Operator"]

# A service that also uses the shipped registry, over the transport.
[dev-dependencies]
events = { path = "..", features = ["registry", "cloudevents", "confluent"] }
events-nats = { path = "../nats" }
tokio = { version = "1", features = ["rt-multi-thread", "macros", "time", "sync"] }
"#;

/// Any registry crate gets every feature: a second crate's events go over a real `nats-server`
/// through `events-nats` beside the shipped registry's, with typed handlers and its own
/// `AnyEvent` fallback, both registries' access rules enforced by the broker, and CloudEvents and
/// Confluent round trips with its own schema ids (`tests/billing/examples/over_nats.rs`).
#[test]
fn a_second_registry_crate_goes_over_nats_with_every_feature() {
    let copy = copy_workspace();
    let dir = copy.path();
    let billing = billing_crate(dir, BILLING_OVER_NATS);
    copy_dir(&workspace().join("tests/billing/schemas"), &billing.join("schemas"));
    copy_dir(&workspace().join("tests/billing/examples"), &billing.join("examples"));
    let out = cargo(dir, &["run", "-q", "-p", "billing-events", "--example", "over_nats"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(stdout.contains("over nats ok"), "{stdout}");
    // The shipped registry's decoder does not take billing's ids for its own.
    assert!(stdout.contains("shipped registry on billing's framing: "), "{stdout}");
}
