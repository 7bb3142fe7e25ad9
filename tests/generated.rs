//! The generated code is committed in `generated/`, one snapshot per schema version plus the
//! registry outline, so that every change to a schema or to the generator shows up in review.
//! When this fails, review the diff and accept it with:
//!
//!     INSTA_UPDATE=always cargo test --test generated

use std::collections::BTreeSet;
use std::path::Path;

fn units() -> Vec<(String, String)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let config = events_codegen::Config::from_manifest(&manifest).unwrap();
    config.generate().unwrap().units().unwrap()
}

#[test]
fn generated_code_matches_the_committed_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../generated");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description("Generated from schemas/. Refresh: INSTA_UPDATE=always cargo test --test generated");
    settings.bind(|| {
        for (name, code) in units() {
            insta::assert_snapshot!(name, code);
        }
    });
}

#[test]
fn no_snapshot_is_left_over_from_a_removed_schema() {
    let expected: BTreeSet<String> = units().into_iter().map(|(n, _)| format!("{n}.snap")).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".snap") {
            assert!(expected.contains(&name), "generated/{name} belongs to no schema any more: delete it");
        }
    }
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(units(), units());
}
