//! Help on every subcommand, usage errors with status 2, and the commands that came from the
//! generator (`generate`, `compat`) still working.

mod common;

use common::{events, Registry, PING};

#[test]
fn every_subcommand_has_help() {
    for sub in ["list", "validate", "example", "generate", "compat"] {
        let run = events(&[sub, "--help"]);
        assert_eq!(run.status, 0, "{sub}: {}", run.stderr);
        assert!(run.stdout.contains(&format!("Usage: events {sub}")), "{sub}:\n{}", run.stdout);
        assert!(run.stdout.contains("--schemas"), "{sub} shows the registry flags:\n{}", run.stdout);
    }
}

#[test]
fn an_unknown_subcommand_or_flag_is_a_usage_error() {
    for args in [&["publish"][..], &["list", "--colour"], &["validate", "--schemas"]] {
        let run = events(args);
        assert_eq!(run.status, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error:"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_registry_folder_that_does_not_exist_is_a_usage_error() {
    let run = events(&["list", "--schemas", "no-such-folder"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--schemas no-such-folder: no such folder"), "{}", run.stderr);
}

#[test]
fn a_bad_compatibility_mode_is_a_usage_error_naming_the_modes() {
    let run = events(&["compat", "--compatibility", "SIDEWAYS"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("BACKWARD_TRANSITIVE"), "{}", run.stderr);
}

#[test]
fn generate_prints_the_code_of_the_registry() {
    let registry = Registry::new(&[("pingSchema/1.0.json", PING)]);
    let run = registry.run(&["generate"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("pub struct PingEventPayload"), "{}", run.stdout);
    let out = registry.path().join("events.rs");
    let run = registry.run(&["generate", "--out", out.to_str().unwrap()], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(std::fs::read_to_string(out).unwrap().contains("pub struct PingEventPayload"));
}

#[test]
fn compat_fails_on_a_minor_version_that_breaks_its_mode() {
    let broken = PING
        .replace(r#""minimum": 1"#, r#""minimum": 5"#)
        .replace(r#""required": ["at", "code"]"#, r#""required": ["at", "code", "count"]"#);
    let registry = Registry::new(&[("pingSchema/1.0.json", PING), ("pingSchema/1.1.json", &broken)]);
    let run = registry.run(&["compat"], None);
    assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("pingSchema") && run.stdout.contains("1.1"), "{}", run.stdout);
    assert!(run.stdout.contains("/properties/count/minimum"), "{}", run.stdout);
    assert_eq!(events(&["compat"]).status, 0, "the shipped registry passes");
}

#[test]
fn a_bad_registry_is_reported_with_file_and_pointer_and_status_1() {
    let registry = Registry::new(&[("pingSchema/1.0.json", &PING.replace(r#""minimum": 1"#, r#""minimum": "one""#))]);
    for sub in ["list", "validate", "example"] {
        let args: Vec<&str> = if sub == "example" { vec![sub, "PingEvent"] } else { vec![sub] };
        let run = registry.run(&args, Some(""));
        assert_eq!(run.status, 1, "{sub}: {}", run.stderr);
        assert!(run.stderr.contains("schemas/pingSchema/1.0.json:"), "{sub}: {}", run.stderr);
        assert!(run.stderr.contains("/properties/count/minimum"), "{sub}: {}", run.stderr);
    }
}

#[test]
fn a_failure_is_printed_once_as_an_error() {
    let registry = Registry::new(&[("pingSchema/1.0.json", PING)]);
    let run = registry.run(&["example", "PongEvent"], None);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: the registry has no contract `PongEvent`"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.stderr);
}

#[test]
fn output_that_cannot_be_written_is_a_failure_naming_the_file_and_why() {
    let registry = Registry::new(&[("pingSchema/1.0.json", PING)]);
    let out = registry.path().join("no-such-folder").join("events.rs");
    let run = registry.run(&["generate", "--out", out.to_str().unwrap()], None);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("error: cannot write the generated code to {}: ", out.display())),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
