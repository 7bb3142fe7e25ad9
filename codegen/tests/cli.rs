//! The command-line entry, and typify run apart: a schema that overflows typify's stack fails with
//! a message naming the file instead of killing the generator.

use std::process::Command;

const CRASHING: &str = r##"{
  "x-event": { "name": "TreeEvent", "type": "domain", "source": "S" },
  "type": "object",
  "properties": { "a": { "$ref": "#/$defs/A" } },
  "$defs": { "A": { "type": "object", "properties": { "b": { "allOf": [{ "$ref": "#/$defs/A" }, { "required": ["x"] }] } } } }
}"##;

const GOOD: &str = r#"{
  "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" },
  "type": "object", "required": ["at"], "properties": { "at": { "type": "integer" } }
}"#;

fn registry(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join("reg").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn generate(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_events-codegen"))
        .args(["generate", "--schemas"])
        .arg(dir.join("reg"))
        .output()
        .unwrap()
}

#[test]
fn prints_the_generated_code() {
    let dir = registry(&[("pingSchema/1.0.json", GOOD)]);
    let out = generate(dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).unwrap();
    assert!(code.contains("pub struct PingEventPayload"), "{code}");
    assert!(code.contains("pub enum AnyEvent"));
}

#[test]
fn a_schema_that_crashes_typify_is_reported_and_the_others_still_generate() {
    let dir = registry(&[
        ("pingSchema/1.0.json", GOOD),
        ("treeSchema/1.0.json", CRASHING),
        ("zSchema/1.0.json", &GOOD.replace("Ping", "Zed")),
    ]);
    let out = generate(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reg/treeSchema/1.0.json"), "{stderr}");
    assert!(stderr.contains("typify crashed"), "{stderr}");
    assert!(stderr.contains("1 problem"), "the schemas after the crash were not generated:\n{stderr}");
}

#[test]
fn bad_usage_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_events-codegen")).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
