//! `events check --against REV` on throw-away git repositories: published versions are immutable,
//! removals need a flag, new versions meet the compatibility gate, widened access is a finding.

mod common;

use std::path::Path;
use std::process::Command;

use common::{events_in, Run};

const STOCK: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "x-event": { "name": "StockEvent", "type": "integration", "source": "Inventory", "consumers": ["Pinger"] },
  "title": "Stock",
  "type": "object",
  "additionalProperties": false,
  "required": ["sku", "quantity"],
  "properties": {
    "sku": { "$ref": "../_shared/common.json#/$defs/Sku" },
    "quantity": { "type": "integer", "minimum": 0, "default": 0, "description": "on hand" }
  },
  "examples": [{ "sku": "A-1", "quantity": 3 }]
}"#;

const SHARED: &str = r#"{ "$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": { "Sku": { "type": "string", "minLength": 1 } } }"#;

const PING: &str =
    r#"{ "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" }, "type": "object" }"#;

/// A repository with the registry committed, the working tree to edit.
struct Repo(tempfile::TempDir);

impl Repo {
    fn new() -> Self {
        let repo = Repo(tempfile::tempdir().unwrap());
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "registry@example.com"]);
        repo.git(&["config", "user.name", "Registry"]);
        repo.write("schemas/stockSchema/1.0.json", STOCK);
        repo.write("schemas/_shared/common.json", SHARED);
        repo.write("schemas/pingSchema/1.0.json", PING);
        repo.commit("published");
        repo
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git").arg("-C").arg(self.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn check(&self, extra: &[&str]) -> Run {
        let mut args = vec!["--schemas", "schemas", "check", "--against", "HEAD"];
        args.extend_from_slice(extra);
        events_in(self.path(), &args, None)
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.path().join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from} not in {rel}");
        std::fs::write(path, text.replace(from, to)).unwrap();
    }
}

fn rules(run: &Run) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    doc["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

#[test]
fn an_unchanged_registry_passes() {
    let repo = Repo::new();
    let run = repo.check(&[]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout.trim(), "0 findings against HEAD: 2 published versions compared, 0 new");
}

#[test]
fn documentation_may_change_and_deprecation_may_be_added() {
    let repo = Repo::new();
    repo.edit(
        "schemas/stockSchema/1.0.json",
        r#""title": "Stock""#,
        r#""title": "Stock level", "$comment": "reviewed""#,
    );
    repo.edit("schemas/stockSchema/1.0.json", r#""description": "on hand""#, r#""description": "units on hand""#);
    repo.edit("schemas/stockSchema/1.0.json", r#""quantity": 3 }"#, r#""quantity": 4 }"#);
    repo.edit(
        "schemas/stockSchema/1.0.json",
        r#""source": "Inventory","#,
        r#""source": "Inventory", "deprecated": "use stockLevelSchema","#,
    );
    let run = repo.check(&[]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_changed_constraint_of_a_published_version_is_a_finding_with_its_place() {
    let repo = Repo::new();
    repo.edit("schemas/stockSchema/1.0.json", r#""minimum": 0"#, r#""minimum": 1"#);
    let run = repo.check(&[]);
    assert_eq!(run.status, 1, "{}", run.stdout);
    let line = run.stdout.lines().next().unwrap();
    assert_eq!(
        line,
        "schemas/stockSchema/1.0.json:10:49: at /properties/quantity/minimum: [version-changed] published version 1.0 changed: changed from 0 to 1; publish the change as a new version"
    );
    assert!(run.stdout.contains("1 finding against HEAD"), "{}", run.stdout);
}

#[test]
fn a_changed_default_is_a_finding() {
    let repo = Repo::new();
    repo.edit("schemas/stockSchema/1.0.json", r#""default": 0"#, r#""default": 5"#);
    assert_eq!(rules(&repo.check(&["--json"])), ["version-changed"]);
}

#[test]
fn a_change_in_a_shared_file_changes_the_versions_that_use_it() {
    let repo = Repo::new();
    repo.edit("schemas/_shared/common.json", r#""minLength": 1"#, r#""minLength": 2"#);
    let run = repo.check(&["--json"]);
    assert_eq!(run.status, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["file"], "schemas/stockSchema/1.0.json");
    assert_eq!(f["rule"], "version-changed");
    assert!(f["pointer"].as_str().unwrap().ends_with("/minLength"), "{f}");
}

#[test]
fn uncommitted_and_committed_edits_are_both_compared() {
    let repo = Repo::new();
    repo.edit("schemas/stockSchema/1.0.json", r#""minimum": 0"#, r#""minimum": 1"#);
    repo.commit("edited in place");
    let run = events_in(repo.path(), &["--schemas", "schemas", "check", "--against", "HEAD~1"], None);
    assert_eq!(run.status, 1, "{}", run.stdout);
    assert!(run.stdout.contains("[version-changed]"));
}

#[test]
fn a_changed_identity_is_a_finding() {
    let repo = Repo::new();
    repo.edit("schemas/stockSchema/1.0.json", r#""type": "integration""#, r#""type": "domain""#);
    let run = repo.check(&[]);
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("at /x-event/type: [identity-changed] published version 1.0: `type` changed from `an event (integration)` to `an event (domain)`"), "{}", run.stdout);
}

#[test]
fn a_relaxed_compatibility_mode_is_a_finding_and_a_stricter_one_is_not() {
    let repo = Repo::new();
    repo.edit("schemas/pingSchema/1.0.json", r#""type": "object""#, r#""type": "object", "x-compatibility": "FULL""#);
    repo.commit("full");
    let relaxed = Repo(repo.0);
    relaxed.edit("schemas/pingSchema/1.0.json", r#""x-compatibility": "FULL""#, r#""x-compatibility": "BACKWARD""#);
    assert_eq!(rules(&relaxed.check(&["--json"])), ["compatibility-relaxed"]);
    relaxed.edit(
        "schemas/pingSchema/1.0.json",
        r#""x-compatibility": "BACKWARD""#,
        r#""x-compatibility": "FULL_TRANSITIVE""#,
    );
    assert!(rules(&relaxed.check(&["--json"])).is_empty());
}

#[test]
fn a_removed_version_or_subject_is_a_finding_unless_allowed() {
    let repo = Repo::new();
    std::fs::remove_dir_all(repo.path().join("schemas/stockSchema")).unwrap();
    let run = repo.check(&[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("schemas/stockSchema/1.0.json: [subject-removed] subject `stockSchema` was removed"),
        "{}",
        run.stdout
    );
    assert_eq!(repo.check(&["--allow-removal"]).status, 0);
    repo.write("schemas/stockSchema/2.0.json", STOCK);
    assert_eq!(rules(&repo.check(&["--json"])), ["version-removed"]);
}

#[test]
fn a_new_version_goes_through_the_compatibility_gate() {
    let repo = Repo::new();
    let compatible = STOCK.replace(
        r#""required": ["sku", "quantity"],"#,
        r#""required": ["sku", "quantity"], "x-compatibility": "BACKWARD","#,
    );
    repo.write("schemas/stockSchema/1.1.json", &compatible);
    let run = repo.check(&[]);
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert!(run.stdout.contains("2 published versions compared, 1 new"), "{}", run.stdout);
    let breaking = STOCK
        .replace(r#""required": ["sku", "quantity"]"#, r#""required": ["sku", "quantity", "bin"]"#)
        .replace(r#""quantity": { "type""#, r#""bin": { "type": "string" }, "quantity": { "type""#)
        .replace(
            r#""examples": [{ "sku": "A-1", "quantity": 3 }]"#,
            r#""examples": [{ "sku": "A-1", "quantity": 3, "bin": "B1" }]"#,
        );
    repo.write("schemas/stockSchema/1.1.json", &breaking);
    let run = repo.check(&["--json"]);
    assert_eq!(run.status, 1);
    assert_eq!(rules(&run), ["required-property-added"], "{}", run.stdout);
}

#[test]
fn widened_access_is_a_finding_of_its_own_and_narrowed_access_is_not() {
    let repo = Repo::new();
    repo.edit("schemas/stockSchema/1.0.json", r#""consumers": ["Pinger"]"#, r#""consumers": ["Pinger", "Inventory"]"#);
    let run = repo.check(&[]);
    assert_eq!(run.status, 1);
    assert!(
        run.stdout.contains("at /x-event/consumers: [access-widened] `StockEvent` is now also read by Inventory"),
        "{}",
        run.stdout
    );
    repo.edit("schemas/stockSchema/1.0.json", r#""consumers": ["Pinger", "Inventory"]"#, r#""consumers": []"#);
    assert_eq!(repo.check(&[]).status, 0);
}

#[test]
fn it_works_from_a_subfolder() {
    let repo = Repo::new();
    repo.edit("schemas/stockSchema/1.0.json", r#""minimum": 0"#, r#""minimum": 1"#);
    let run = events_in(
        &repo.path().join("schemas/stockSchema"),
        &["--schemas", "../../schemas", "check", "--against", "main"],
        None,
    );
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("[version-changed]"));
}

#[test]
fn an_unknown_revision_is_a_usage_error_and_a_shallow_clone_says_to_fetch() {
    let repo = Repo::new();
    let run = events_in(repo.path(), &["--schemas", "schemas", "check", "--against", "v9.9"], None);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("unknown revision `v9.9`"), "{}", run.stderr);
    repo.write("schemas/pingSchema/1.1.json", PING);
    repo.commit("second");
    let shallow = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.path().display());
    let out =
        Command::new("git").args(["clone", "-q", "--depth", "1", &url]).arg(shallow.path().join("c")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = String::from_utf8(
        Command::new("git").arg("-C").arg(repo.path()).args(["rev-parse", "HEAD~1"]).output().unwrap().stdout,
    )
    .unwrap();
    let run = events_in(&shallow.path().join("c"), &["--schemas", "schemas", "check", "--against", first.trim()], None);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("not in this shallow clone; fetch it first: git fetch --depth=1 origin"),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_a_repository_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schemas/pingSchema")).unwrap();
    std::fs::write(dir.path().join("schemas/pingSchema/1.0.json"), PING).unwrap();
    let run = events_in(dir.path(), &["--schemas", "schemas", "check", "--against", "main"], None);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("is not inside a git repository"), "{}", run.stderr);
}
