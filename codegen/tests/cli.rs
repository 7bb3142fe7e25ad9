//! The command-line entry, and typify run apart: a schema that overflows typify's stack fails with
//! a message naming the file instead of killing the generator.

mod common;

use common::registry;

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

fn generate(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_events-codegen"))
        // typify no longer crashes on the shapes that made it overflow its stack (they are
        // narrowed first), so the test makes the worker die on this payload instead.
        .env("EVENTS_CODEGEN_TEST_ABORT_ON", "TreeEventPayload")
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
fn a_schema_that_crashes_typify_falls_back_and_the_others_stay_typed() {
    let dir = registry(&[
        ("pingSchema/1.0.json", GOOD),
        ("treeSchema/1.0.json", CRASHING),
        ("zSchema/1.0.json", &GOOD.replace("Ping", "Zed")),
    ]);
    let out = generate(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: reg/treeSchema/1.0.json"), "{stderr}");
    assert!(stderr.contains("typify crashed"), "{stderr}");
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(code.contains("pub struct TreeEventPayload(pub ::serde_json::Value);"), "{code}");
    // The schemas after the crash are typed.
    assert!(code.contains("pub struct ZedEventPayload {"), "{code}");
}

#[test]
fn bad_usage_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_events-codegen")).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn concurrent_runs_writing_the_same_file_do_not_share_typify_jobs() {
    let a = registry(&[("pingSchema/1.0.json", GOOD)]);
    let b = registry(&[("zedSchema/1.0.json", &GOOD.replace("Ping", "Zed"))]);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("events.rs");
    let spawn = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_events-codegen"))
            .args(["generate", "--schemas"])
            .arg(dir.join("reg"))
            .arg("--out")
            .arg(&target)
            .spawn()
            .unwrap()
    };
    for _ in 0..3 {
        let (mut x, mut y) = (spawn(a.path()), spawn(b.path()));
        assert!(x.wait().unwrap().success());
        assert!(y.wait().unwrap().success());
        let code = std::fs::read_to_string(&target).unwrap();
        assert!(code.contains("PingEventPayload") != code.contains("ZedEventPayload"), "a mix of both registries");
    }
    let leftovers: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, [std::ffi::OsString::from("events.rs")], "job folders left behind");
}

fn compat(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_events-codegen"))
        .arg("compat")
        .arg("--schemas")
        .arg(dir.join("reg"))
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn compat_prints_every_pair_and_fails_on_a_break() {
    let widened = GOOD.replace("\"integer\"", "\"number\"");
    let dir = registry(&[("pingSchema/1.0.json", GOOD), ("pingSchema/1.1.json", &widened)]);
    let out = compat(dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("pingSchema (1.0, 1.1)\n  1.0 → 1.1  BACKWARD  compatible"), "{stdout}");

    // integer → number is BACKWARD only: FULL fails, and says where and why.
    let out = compat(dir.path(), &["--compatibility", "FULL"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1.0 → 1.1  FULL  INCOMPATIBLE"), "{stdout}");
    assert!(stdout.contains("reg/pingSchema/1.1.json:3:73: at /properties/at/type: FULL 1.0 → 1.1: 1.0 cannot read data written with 1.1"), "{stdout}");
    assert!(stdout.contains("[type-changed]"), "{stdout}");
}

#[test]
fn compat_refuses_an_unknown_mode_and_reports_a_broken_registry() {
    let dir = registry(&[("pingSchema/1.0.json", GOOD)]);
    let out = compat(dir.path(), &["--compatibility", "SIDEWAYS"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown compatibility mode `SIDEWAYS`"));

    let dir = registry(&[("pingSchema/1.0.json", "{ not json")]);
    let out = compat(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reg/pingSchema/1.0.json"));
}
