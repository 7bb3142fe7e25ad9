//! Stable schema ids (`schema-ids.lock`): recorded numbers survive the addition of versions and
//! subjects in any order; a bad lock file is an error naming the file and pointer; a version
//! without an id is a warning; former base URIs reach the generated code.

mod common;

use events_codegen::ids::{assign, render, IDS_FILE};
use events_codegen::Config;

fn event(name: &str) -> String {
    format!(r#"{{"x-event": {{"name": "{name}", "type": "domain", "source": "S"}}, "type": "object"}}"#)
}

fn inspect(dir: &std::path::Path) -> events_codegen::Inspection {
    Config::new().schema_dir(dir).inspect().unwrap()
}

#[test]
fn ids_survive_new_versions_and_subjects_in_any_order() {
    let tmp = common::registry(&[
        ("orderSchema/1.0.json", event("OrderEvent")),
        ("stockSchema/1.0.json", event("StockEvent")),
    ]);
    let reg = tmp.path().join("reg");
    let first = assign(inspect(&reg).registry(), &[]);
    std::fs::write(reg.join(IDS_FILE), render(&first)).unwrap();
    let numbers = |ids: &[events_codegen::registry::SchemaId]| -> Vec<(String, String, u32, u32)> {
        ids.iter().map(|s| (s.subject.clone(), s.version.to_string(), s.id, s.integer)).collect()
    };
    assert_eq!(
        numbers(&first),
        [("orderSchema".into(), "1.0".into(), 1, 1), ("stockSchema".into(), "1.0".into(), 2, 1)]
    );
    // A subject that sorts first and a new version arrive later: nothing recorded moves.
    std::fs::create_dir_all(reg.join("auditSchema")).unwrap();
    std::fs::write(reg.join("auditSchema/1.0.json"), event("AuditEvent")).unwrap();
    std::fs::write(reg.join("orderSchema/1.1.json"), event("OrderEvent")).unwrap();
    let registry = inspect(&reg);
    assert_eq!(numbers(&registry.registry().schema_ids), numbers(&first), "read back as written");
    let second = assign(registry.registry(), &registry.registry().schema_ids);
    let got = numbers(&second);
    assert_eq!(&got[..2], &numbers(&first)[..]);
    assert!(got.contains(&("auditSchema".into(), "1.0".into(), 3, 1)), "{got:?}");
    assert!(got.contains(&("orderSchema".into(), "1.1".into(), 4, 2)), "{got:?}");
    // A version removed keeps its id reserved.
    std::fs::write(reg.join(IDS_FILE), render(&second)).unwrap();
    std::fs::remove_dir_all(reg.join("auditSchema")).unwrap();
    std::fs::create_dir_all(reg.join("zooSchema")).unwrap();
    std::fs::write(reg.join("zooSchema/1.0.json"), event("ZooEvent")).unwrap();
    let third = assign(inspect(&reg).registry(), &second);
    assert!(numbers(&third).contains(&("zooSchema".into(), "1.0".into(), 5, 1)), "id 3 stays reserved");
}

#[test]
fn a_version_without_an_id_is_a_warning_naming_the_command() {
    let tmp = common::registry(&[("orderSchema/1.0.json", event("OrderEvent"))]);
    let reg = tmp.path().join("reg");
    std::fs::write(reg.join(IDS_FILE), render(&[])).unwrap();
    let generated = Config::new().schema_dir(&reg).generate().unwrap();
    let w = generated.warnings().iter().find(|w| w.message.contains("no schema id")).expect("a warning");
    assert!(w.file.ends_with("orderSchema/1.0.json") && w.message.contains("cargo events ids"), "{w}");
}

#[test]
fn a_bad_lock_file_is_an_error_with_its_pointer() {
    for (text, pointer, fragment) in [
        (
            r#"{"versions": [{"subject": "orderSchema", "version": "1.0", "id": 1, "integer": 1}, {"subject": "stockSchema", "version": "1.0", "id": 1, "integer": 1}]}"#,
            "/versions/1/id",
            "id 1 is also orderSchema 1.0",
        ),
        (
            r#"{"versions": [{"subject": "orderSchema", "version": "1.0", "id": 1, "integer": 1}, {"subject": "orderSchema", "version": "1.1", "id": 2, "integer": 1}]}"#,
            "/versions/1/integer",
            "two versions numbered 1",
        ),
        (
            r#"{"versions": [{"subject": "orderSchema", "version": "one", "id": 1, "integer": 1}]}"#,
            "/versions/0",
            "an entry is",
        ),
        (r#"{"ids": []}"#, "", "a `versions` array"),
    ] {
        let tmp = common::registry(&[("orderSchema/1.0.json", event("OrderEvent"))]);
        let reg = tmp.path().join("reg");
        std::fs::write(reg.join(IDS_FILE), text).unwrap();
        let err = Config::new().schema_dir(&reg).inspect().unwrap_err();
        let d = err.diagnostics().iter().find(|d| d.file.ends_with(IDS_FILE)).unwrap_or_else(|| panic!("{err}"));
        assert_eq!(d.pointer.as_deref().unwrap_or(""), pointer, "{d}");
        assert!(d.message.contains(fragment), "{d}");
    }
}

#[test]
fn former_base_uris_reach_the_generated_contracts() {
    let tmp = common::registry(&[("orderSchema/1.0.json", event("OrderEvent"))]);
    let code = Config::new()
        .schema_dir(tmp.path().join("reg"))
        .former_base_uri("https://old.example.com/schemas/")
        .generate()
        .unwrap()
        .render()
        .unwrap();
    assert!(code.contains("const FORMER_URIS: &'static [&'static str]"), "{code}");
    assert!(code.contains(r#""https://old.example.com/schemas/orderSchema/1.0""#), "{code}");
}
