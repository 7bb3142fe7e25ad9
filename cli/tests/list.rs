//! `events list`: every subject and version with its contract, and what its payload became.

mod common;

use common::{events, events_in, Registry, PING};

#[test]
fn the_shipped_registry_is_listed_from_the_workspace_metadata() {
    let run = events(&["list", "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let list = run.json();
    let subjects = list["subjects"].as_array().unwrap();
    let order = subjects.iter().find(|s| s["id"] == "orderCreatedSchema").expect("orderCreatedSchema");
    let versions: Vec<&str> =
        order["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.0", "1.1"]);
    let v1_1 = &order["versions"][1];
    assert_eq!(v1_1["contract"], "OrderCreatedEvent");
    assert_eq!(v1_1["kind"], "event");
    assert_eq!(v1_1["eventType"], "domain");
    assert_eq!(v1_1["source"], "OrderService");
    assert_eq!(v1_1["tags"], serde_json::json!(["order", "creation"]));
    assert_eq!(v1_1["payload"], "typed");
    assert_eq!(v1_1["uri"], "https://schema-registry.example.com/schemas/orderCreatedSchema/1.1");
    let command = subjects.iter().find(|s| s["id"] == "createOrderSchema").unwrap();
    assert_eq!(command["versions"][0]["kind"], "command");
    assert!(command["versions"][0]["eventType"].is_null());
    // The text form: a header and one row per version.
    let text = events(&["list"]);
    assert_eq!(text.status, 0, "{}", text.stderr);
    assert!(text.stdout.lines().next().unwrap().starts_with("SUBJECT"), "{}", text.stdout);
    let rows = subjects.iter().map(|s| s["versions"].as_array().unwrap().len()).sum::<usize>();
    assert_eq!(text.stdout.lines().count(), rows + 1, "{}", text.stdout);
}

#[test]
fn typing_and_deprecation_are_shown() {
    let partly = r#"{
      "x-event": { "name": "NoteEvent", "type": "domain", "source": "Notes" },
      "type": "object", "required": ["id"],
      "properties": { "id": { "type": "string" }, "note": { "type": ["string", "null"] } }
    }"#;
    let value = r##"{
      "x-event": { "name": "TreeEvent", "type": "domain", "source": "Trees" },
      "$defs": { "node": { "$anchor": "node", "type": "object", "properties": { "kids": { "type": "array", "items": { "$ref": "#node" } } } } },
      "$ref": "#node"
    }"##;
    let deprecated = PING.replace(r#""tags": ["ping"]"#, r#""tags": ["ping"], "deprecated": "use pulseSchema""#);
    let registry = Registry::new(&[
        ("pingSchema/1.0.json", &deprecated),
        ("noteSchema/1.0.json", partly),
        ("treeSchema/1.0.json", value),
    ]);
    let run = registry.run(&["list", "--json"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let list = run.json();
    let entry =
        |id: &str| list["subjects"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["versions"][0].clone();
    assert_eq!(entry("pingSchema")["payload"], "typed");
    assert_eq!(entry("pingSchema")["deprecated"], "use pulseSchema");
    assert_eq!(entry("noteSchema")["payload"], "partly typed");
    assert!(
        entry("noteSchema")["payloadNote"].as_str().unwrap().contains("/properties/note"),
        "{}",
        entry("noteSchema")
    );
    assert!(entry("noteSchema")["deprecated"].is_null());
    assert_eq!(entry("treeSchema")["payload"], "value");
    let text = registry.run(&["list"], None);
    let ping = text.stdout.lines().find(|l| l.starts_with("pingSchema")).unwrap();
    assert!(ping.ends_with("use pulseSchema"), "{ping}");
    assert!(ping.contains("event (notification)") && ping.contains("Pinger"), "{ping}");
    // Without generating types: the same rows, no payload column values.
    let quick = registry.run(&["list", "--json", "--no-types"], None).json();
    assert!(quick["subjects"][0]["versions"][0]["payload"].is_null());
}

#[test]
fn a_bad_deprecation_value_is_an_error_naming_the_pointer() {
    let registry = Registry::new(&[(
        "pingSchema/1.0.json",
        &PING.replace(r#""tags": ["ping"]"#, r#""tags": ["ping"], "deprecated": 3"#),
    )]);
    let run = registry.run(&["list", "--no-types"], None);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("schemas/pingSchema/1.0.json:2:"), "{}", run.stderr);
    assert!(run.stderr.contains("/x-event/deprecated"), "{}", run.stderr);
}

#[test]
fn the_manifest_metadata_is_read_vendor_included_and_flags_override_it() {
    let registry = Registry::new(&[
        (
            "_vendor/geo/point.json",
            r#"{"type": "object", "required": ["lat"], "properties": {"lat": {"type": "number"}}}"#,
        ),
        (
            "placeSchema/1.0.json",
            r#"{"x-event": {"name": "PlaceEvent", "type": "domain", "source": "Maps"}, "type": "object",
                "required": ["at"], "properties": {"at": {"$ref": "https://geo.example.org/point.json"}}}"#,
        ),
    ]);
    let dir = registry.path();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"places\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.events]\nbase-uri = \"https://registry.example.net/s\"\n\n[package.metadata.events.vendor]\n\"https://geo.example.org/\" = \"_vendor/geo\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    std::fs::create_dir_all(dir.join("deep/inside")).unwrap();
    // From a folder below the manifest, as `cargo events` is run.
    let run = events_in(&dir.join("deep/inside"), &["list", "--json", "--no-types"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.json()["subjects"][0]["versions"][0]["uri"], "https://registry.example.net/s/placeSchema/1.0");
    let run = events_in(dir, &["list", "--json", "--no-types", "--base-uri", "https://other.example/x/"], None);
    assert_eq!(run.json()["subjects"][0]["versions"][0]["uri"], "https://other.example/x/placeSchema/1.0");
    // Without the manifest's vendor table the reference cannot be resolved.
    std::fs::remove_file(dir.join("Cargo.toml")).unwrap();
    let run = registry.run(&["list", "--no-types"], None);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stderr.contains("schemas/placeSchema/1.0.json"), "{}", run.stderr);
}
