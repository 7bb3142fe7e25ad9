//! The compatibility gate over a registry folder: modes from files and configuration, transitive
//! modes, major versions, places in shared files, and what the generator does with the verdicts.

mod common;

use common::registry;

use events_codegen::compat::{Mode, Verdict};
use events_codegen::Config;
use serde_json::{json, Value};

fn event(name: &str, properties: Value, required: &[&str], extra: Value) -> String {
    let mut schema = json!({
        "x-event": { "name": name, "type": "domain", "source": "Shop" },
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties
    });
    schema.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    serde_json::to_string_pretty(&schema).unwrap()
}

fn config(dir: &tempfile::TempDir) -> Config {
    let mut c = Config::new();
    c.schema_dir(dir.path().join("reg"));
    c
}

/// 1.1 adds a required `currency` with a default (BACKWARD-compatible); 1.2 drops the default,
/// harmless next to 1.1, which always sends it, but not next to 1.0, which never does.
fn chain(mode_of_1_2: Option<&str>) -> tempfile::TempDir {
    let id = json!({ "type": "string" });
    let with_default = json!({ "id": id, "currency": { "type": "string", "default": "USD" } });
    let without_default = json!({ "id": id, "currency": { "type": "string" } });
    let extra = mode_of_1_2.map_or(json!({}), |m| json!({ "x-compatibility": m }));
    registry(&[
        ("saleSchema/1.0.json", event("SaleEvent", json!({ "id": id }), &["id"], json!({}))),
        ("saleSchema/1.1.json", event("SaleEvent", with_default, &["id", "currency"], json!({}))),
        ("saleSchema/1.2.json", event("SaleEvent", without_default, &["id", "currency"], extra)),
    ])
}

#[test]
fn backward_compares_with_the_previous_version_only() {
    let dir = chain(None);
    let report = config(&dir).compatibility_report().unwrap();
    assert!(report.passed(), "{report}");
    let pairs: Vec<String> = report.subjects[0].pairs.iter().map(|p| format!("{}→{}", p.older, p.newer)).collect();
    assert_eq!(pairs, ["1.0→1.1", "1.1→1.2"]);
}

#[test]
fn a_transitive_mode_set_in_the_file_compares_with_every_earlier_version() {
    let dir = chain(Some("BACKWARD_TRANSITIVE"));
    let report = config(&dir).compatibility_report().unwrap();
    assert!(!report.passed(), "{report}");
    let failed: Vec<_> = report.subjects[0].pairs.iter().filter(|p| p.verdict == Verdict::Incompatible).collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!((failed[0].older.to_string(), failed[0].newer.to_string()), ("1.0".into(), "1.2".into()));
    assert_eq!(failed[0].mode, Mode::BackwardTransitive);
    let d = &failed[0].incompatibilities[0].diagnostic;
    assert!(d.file.ends_with("reg/saleSchema/1.2.json"), "{d}");
    assert_eq!(d.pointer.as_deref(), Some("/required"));
    assert!(d.message.starts_with("BACKWARD_TRANSITIVE 1.0 → 1.2: 1.2 cannot read data written with 1.0"), "{d}");
    assert!(d.message.ends_with("[required-property-added]"), "{d}");
}

#[test]
fn the_configured_default_applies_where_a_file_sets_no_mode() {
    let dir = chain(None);
    // FORWARD: 1.0 readers are closed and refuse `currency`.
    let report = config(&dir).compatibility(Mode::Forward).compatibility_report().unwrap();
    assert!(!report.passed());
    // A file's own mode wins over the default.
    let dir = chain(Some("NONE"));
    let report = config(&dir).compatibility(Mode::Forward).compatibility_report().unwrap();
    let checked: Vec<String> = report.subjects[0].pairs.iter().map(|p| p.newer.to_string()).collect();
    assert_eq!(checked, ["1.1"], "{report}");
}

#[test]
fn a_break_inside_a_shared_definition_points_into_the_shared_file() {
    let item =
        |qty: &str| json!({ "$defs": { "Item": { "type": "object", "properties": { "qty": { "type": qty } } } } });
    let line = |file: &str| json!({ "line": { "$ref": format!("../_shared/{file}#/$defs/Item") } });
    let dir = registry(&[
        ("_shared/v1.json", serde_json::to_string_pretty(&item("integer")).unwrap()),
        ("_shared/v2.json", serde_json::to_string_pretty(&item("string")).unwrap()),
        ("lineSchema/1.0.json", event("LineEvent", line("v1.json"), &[], json!({}))),
        ("lineSchema/1.1.json", event("LineEvent", line("v2.json"), &[], json!({}))),
    ]);
    let errors = config(&dir).compatibility_report().unwrap().errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].file.ends_with("reg/_shared/v2.json"), "{}", errors[0]);
    assert_eq!(errors[0].pointer.as_deref(), Some("/$defs/Item/properties/qty/type"));
    assert!(errors[0].position.is_some());
    assert!(errors[0].message.contains("1.1 cannot read data written with 1.0"), "{}", errors[0]);
}

#[test]
fn a_renamed_contract_is_a_break() {
    let id = json!({ "id": { "type": "string" } });
    let dir = registry(&[
        ("saleSchema/1.0.json", event("SaleEvent", id.clone(), &["id"], json!({}))),
        ("saleSchema/1.1.json", event("PurchaseEvent", id, &["id"], json!({}))),
    ]);
    let errors = config(&dir).compatibility_report().unwrap().errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].pointer.as_deref(), Some("/x-event/name"));
    assert!(
        errors[0].message.contains("changed from `SaleEvent` to `PurchaseEvent` [contract-changed]"),
        "{}",
        errors[0]
    );
}

fn two_versions(second: &str) -> tempfile::TempDir {
    let old = json!({ "id": { "type": "string", "maxLength": 10 }, "note": { "type": "string" } });
    let new = json!({ "id": { "type": "string", "maxLength": 5 } });
    registry(&[
        ("saleSchema/1.0.json", event("SaleEvent", old, &["id"], json!({}))),
        (second, event("SaleEvent", new, &["id"], json!({}))),
    ])
}

#[test]
fn a_breaking_minor_version_fails_generation_with_every_reason() {
    let dir = two_versions("saleSchema/1.1.json");
    let err = config(&dir).generate().unwrap_err();
    let rules: Vec<&str> = err.diagnostics().iter().map(|d| d.message.rsplit('[').next().unwrap()).collect();
    assert_eq!(rules, ["constraint-tightened]", "property-removed-from-closed-model]"], "{err}");
}

#[test]
fn a_breaking_major_version_generates_with_warnings_and_no_upcast() {
    let dir = two_versions("saleSchema/2.0.json");
    let generated = config(&dir).generate().unwrap();
    assert_eq!(generated.warnings().len(), 2, "{:#?}", generated.warnings());
    assert!(generated.warnings()[0].message.starts_with("BACKWARD 1.0 → 2.0"), "{:#?}", generated.warnings());
    let code = generated.render().unwrap();
    assert!(!code.contains("From<super::v1_0::SaleEventPayload>"), "an upcast across a break");
    assert!(code.contains("Self::SaleEventV1_0(e) => Self::SaleEventV1_0(e)"), "{code}");
}

#[test]
fn a_compatible_version_gets_an_upcast_and_into_latest_uses_it() {
    let dir = chain(None);
    let code = config(&dir).generate().unwrap().render().unwrap();
    assert!(code.contains("From<super::v1_0::SaleEventPayload> for SaleEventPayload"), "{code}");
    assert!(code.contains("From<super::v1_1::SaleEventPayload> for SaleEventPayload"), "{code}");
    // Whitespace aside, 1.0 goes through 1.1 to 1.2.
    let flat: String = code.split_whitespace().collect();
    let chained = "Self::SaleEventV1_0(e)=>{Self::SaleEventV1_2(e.upcast::<self::sale_schema::v1_1::SaleEventPayload>().upcast::<self::sale_schema::v1_2::SaleEventPayload>(),)}";
    assert!(flat.contains(chained), "{code}");
}

#[test]
fn a_bad_mode_in_a_file_is_refused_where_it_is_written() {
    let id = json!({ "id": { "type": "string" } });
    let dir = registry(&[(
        "saleSchema/1.0.json",
        event("SaleEvent", id.clone(), &["id"], json!({ "x-compatibility": "SIDEWAYS" })),
    )]);
    let err = config(&dir).compatibility_report().unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!(d.pointer.as_deref(), Some("/x-compatibility"));
    assert!(d.position.is_some());
    assert!(d.message.contains("unknown compatibility mode `SIDEWAYS`"), "{d}");
}

#[test]
fn a_mode_that_is_not_a_string_is_refused() {
    let id = json!({ "id": { "type": "string" } });
    let dir = registry(&[("saleSchema/1.0.json", event("SaleEvent", id, &["id"], json!({ "x-compatibility": 3 })))]);
    let err = config(&dir).compatibility_report().unwrap_err();
    assert_eq!(err.diagnostics()[0].pointer.as_deref(), Some("/x-compatibility"));
    assert!(err.diagnostics()[0].message.contains("must be a string"), "{err}");
}

fn package(metadata: &str) -> tempfile::TempDir {
    let dir = chain(None);
    let manifest = format!(
        "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.events]\nschemas = \"reg\"\n{metadata}\n"
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    dir
}

#[test]
fn the_registry_mode_is_read_from_cargo_metadata() {
    let dir = package("compatibility = \"FORWARD\"");
    let config = Config::from_manifest(&dir.path().join("Cargo.toml")).unwrap();
    let report = config.compatibility_report().unwrap();
    assert!(report.subjects[0].pairs.iter().all(|p| p.mode == Mode::Forward), "{report}");
    assert!(!report.passed());

    let dir = package("compatibility = \"forward\"");
    let err = Config::from_manifest(&dir.path().join("Cargo.toml")).unwrap_err();
    assert!(err.to_string().contains("compatibility: unknown compatibility mode `forward`"), "{err}");
}
