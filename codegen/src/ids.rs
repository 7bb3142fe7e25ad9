//! Stable schema ids: each contract version's registry-wide id and its subject's integer version,
//! recorded on first publication in `schema-ids.lock` at the root of the registry folder (committed,
//! like a lock file), so that adding files later, in any order, never renumbers anything. The
//! Confluent wire format writes the id into every message; Confluent's clients number versions
//! 1, 2, 3. `events ids` writes the file; the build checks it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

use crate::error::Diagnostic;
use crate::load::{display_path, read_json};
use crate::registry::{Registry, SchemaId, Version};

/// The lock file's name, at the root of the registry folder.
pub const IDS_FILE: &str = "schema-ids.lock";

/// Reads the lock file of the registry at `root`: `None` when there is none.
pub fn read(root: &Path) -> Result<Option<Vec<SchemaId>>, Vec<Diagnostic>> {
    let path = root.join(IDS_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let display = display_path(root, &path);
    let (source, value) = read_json(&path, &display).map_err(|d| vec![d])?;
    let at = |pointer: String, message: String| Diagnostic::at(display.clone(), Some(&source), pointer, message);
    let Some(entries) = value.get("versions").and_then(Value::as_array) else {
        return Err(vec![at(
            String::new(),
            "expected an object with a `versions` array; `events ids` writes this file".into(),
        )]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let (mut ids, mut keys, mut integers) = (BTreeMap::new(), BTreeSet::new(), BTreeSet::new());
    for (i, e) in entries.iter().enumerate() {
        let field = |k: &str| e.get(k);
        let subject = field("subject").and_then(Value::as_str);
        let version = field("version").and_then(Value::as_str).and_then(Version::parse);
        // Ids from 2^29 up are the registry server's own (payload and shared-file subjects).
        let id = field("id").and_then(Value::as_u64).filter(|n| (1..(1u64 << 29)).contains(n));
        let integer = field("integer").and_then(Value::as_u64).filter(|n| (1..=u64::from(u32::MAX)).contains(n));
        let (Some(subject), Some(version), Some(id), Some(integer)) = (subject, version, id, integer) else {
            problems.push(at(
                format!("/versions/{i}"),
                "an entry is {\"subject\": \"…\", \"version\": \"MAJOR.MINOR\", \"id\": 1, \"integer\": 1} (ids from 1 to 2^29 - 1, integers from 1)".into(),
            ));
            continue;
        };
        let (id, integer) = (id as u32, integer as u32);
        if let Some(other) = ids.insert(id, (subject.to_string(), version)) {
            problems.push(at(
                format!("/versions/{i}/id"),
                format!("id {id} is also {} {}: an id names one version", other.0, other.1),
            ));
        }
        if !keys.insert((subject.to_string(), version)) {
            problems.push(at(format!("/versions/{i}"), format!("{subject} {version} is listed twice")));
        }
        if !integers.insert((subject.to_string(), integer)) {
            problems
                .push(at(format!("/versions/{i}/integer"), format!("{subject} has two versions numbered {integer}")));
        }
        out.push(SchemaId { subject: subject.to_string(), version, id, integer });
    }
    if problems.is_empty() {
        Ok(Some(out))
    } else {
        Err(problems)
    }
}

/// Every version of the registry must have its numbers once the registry records them.
pub fn check(registry: &Registry) -> Vec<Diagnostic> {
    registry
        .files()
        .filter(|f| registry.schema_id(f).is_none())
        .map(|f| {
            Diagnostic::file(
                f.display.clone(),
                format!(
                    "no schema id is recorded for {} {} in {IDS_FILE}; run `cargo events ids` and commit the file",
                    f.schema_ref.id, f.schema_ref.version
                ),
            )
        })
        .collect()
}

/// `existing`, with numbers for every version of `registry` that has none: the next free id, and
/// the subject's next integer, in registry order. Recorded numbers never change, and those of
/// versions no longer in the registry stay reserved.
pub fn assign(registry: &Registry, existing: &[SchemaId]) -> Vec<SchemaId> {
    let mut out = existing.to_vec();
    let mut next_id = out.iter().map(|s| s.id).max().unwrap_or(0) + 1;
    for file in registry.files() {
        let (subject, version) = (&file.schema_ref.id, file.schema_ref.version);
        if out.iter().any(|s| &s.subject == subject && s.version == version) {
            continue;
        }
        let integer = out.iter().filter(|s| &s.subject == subject).map(|s| s.integer).max().unwrap_or(0) + 1;
        out.push(SchemaId { subject: subject.clone(), version, id: next_id, integer });
        next_id += 1;
    }
    out
}

/// The lock file's text, entries by id.
///
/// ```
/// use events_codegen::registry::{SchemaId, Version};
/// let text = events_codegen::ids::render(&[SchemaId { subject: "pingSchema".into(), version: Version::parse("1.0").unwrap(), id: 1, integer: 1 }]);
/// assert!(text.contains(r#"{ "subject": "pingSchema", "version": "1.0", "id": 1, "integer": 1 }"#));
/// ```
pub fn render(ids: &[SchemaId]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_by_key(|s| s.id);
    let lines: Vec<String> = sorted
        .iter()
        .map(|s| {
            let entry =
                json!({ "subject": s.subject, "version": s.version.to_string(), "id": s.id, "integer": s.integer });
            // One entry per line, members in a fixed order: reviewable diffs.
            format!(
                "    {{ \"subject\": {}, \"version\": {}, \"id\": {}, \"integer\": {} }}",
                entry["subject"], entry["version"], entry["id"], entry["integer"]
            )
        })
        .collect();
    format!(
        "{{\n  \"comment\": \"Stable schema ids, recorded on first publication by `events ids`. Never edit an entry: ids and integers are immutable.\",\n  \"versions\": [\n{}\n  ]\n}}\n",
        lines.join(",\n")
    )
}
