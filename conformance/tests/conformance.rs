//! The conformance run as a test: heavy (it compiles a registry of some 800 schemas), so it runs
//! when `EVENTS_CONFORMANCE=1`, as `.ci/run` sets it. With the JSON-Schema-Test-Suite
//! (`JSON_SCHEMA_TEST_SUITE`), the committed `CONFORMANCE.md` must be what the run produces;
//! without it, the real-world corpus alone runs. Either way the run must be clean: no panic, no
//! generated code rustc refuses, no invalid payload accepted, no payload changed by a round trip,
//! the fast and the complete decoding paths in agreement, every corpus sample as labelled.

use std::process::Command;

#[test]
fn the_conformance_run_is_clean_and_its_table_fresh() {
    if std::env::var_os("EVENTS_CONFORMANCE").is_none() {
        eprintln!("conformance run skipped: set EVENTS_CONFORMANCE=1 (and JSON_SCHEMA_TEST_SUITE) to run it");
        return;
    }
    let mut run = Command::new(env!("CARGO_BIN_EXE_events-conformance"));
    if std::env::var_os("JSON_SCHEMA_TEST_SUITE").is_some() {
        run.arg("--check");
    } else {
        run.arg("--no-suite");
    }
    let out = run.output().expect("the conformance binary runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("rustc rejected 0, panics 0, invalid accepted 0, round-trip failures 0"), "{stdout}");
}
