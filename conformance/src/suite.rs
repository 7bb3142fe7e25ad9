//! The inputs: every test group of the JSON-Schema-Test-Suite (and every corpus schema) becomes one
//! subject of a registry, its schema the payload schema of an event, its tests that event's payloads.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The drafts run, with the folder name in the suite and the `$schema` their files assume.
pub const DRAFTS: [(&str, &str, &str); 2] = [
    ("draft2020-12", "d2020", "https://json-schema.org/draft/2020-12/schema"),
    ("draft7", "d7", "http://json-schema.org/draft-07/schema#"),
];

/// One schema under test: a suite group or a corpus file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// Where it is reported: `draft2020-12/additionalProperties.json`, `corpus/geojson.json`.
    pub file: String,
    /// Required by the suite, or from its `optional/` folder (or the corpus).
    pub required: bool,
    /// The group's description.
    pub description: String,
    /// Schema id of its subject in the generated registry.
    pub subject: String,
    /// Its event's name.
    pub event: String,
    /// The schema as the registry file holds it (with `x-event`).
    pub schema: Value,
    /// Payloads and whether the schema accepts them.
    pub tests: Vec<Case>,
}

/// One payload of a group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    /// What the suite says about it.
    pub description: String,
    /// The payload.
    pub data: Value,
    /// Whether the schema accepts it.
    pub valid: bool,
}

#[derive(Deserialize)]
struct SuiteGroup {
    description: String,
    schema: Value,
    tests: Vec<Case>,
}

/// `if-then-else` → `IfThenElse`, `format/date-time` → `FormatDateTime`.
fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The registry file for a schema: `x-event` added, `$schema` made explicit. A boolean schema
/// is wrapped, since a registry file must be an object to carry `x-event`.
pub fn registry_schema(schema: &Value, event: &str, draft_uri: &str) -> Value {
    let x_event = json!({ "name": event, "type": "domain", "source": "ConformanceSuite" });
    let mut root = match schema {
        Value::Object(map) => Value::Object(map.clone()),
        Value::Bool(true) => json!({}),
        Value::Bool(false) => json!({ "not": {} }),
        other => json!({ "allOf": [other] }),
    };
    let map = root.as_object_mut().expect("made an object above");
    map.insert("x-event".into(), x_event);
    map.entry("$schema").or_insert_with(|| Value::String(draft_uri.to_string()));
    root
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every group of the suite's drafts, required and optional.
pub fn suite(root: &Path) -> Result<Vec<Group>, String> {
    let mut groups = Vec::new();
    for (folder, short, uri) in DRAFTS {
        let dir = root.join("tests").join(folder);
        let mut files = Vec::new();
        json_files(&dir, &mut files).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for path in files {
            let rel = path.strip_prefix(&dir).expect("listed under dir").to_string_lossy().replace('\\', "/");
            let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let parsed: Vec<SuiteGroup> =
                serde_json::from_str(&text).map_err(|e| format!("{}: not a suite file: {e}", path.display()))?;
            let stem = rel.trim_end_matches(".json");
            for (i, mut g) in parsed.into_iter().enumerate() {
                let event = format!("{}{}{i}Event", pascal(short), pascal(stem));
                if rel == "format.json" {
                    // The registry asserts `format` (its documented choice); these tests expect the
                    // annotation-only default, so under assertion their values are refused.
                    // idn-email and idn-hostname are the formats the validator does not check.
                    let unchecked = ["idn-email", "idn-hostname"].iter().any(|f| g.description.starts_with(f));
                    for t in g
                        .tests
                        .iter_mut()
                        .filter(|t| !unchecked && t.description.contains("only an annotation by default"))
                    {
                        t.valid = false;
                        t.description.push_str(" (refused: formats are asserted)");
                    }
                }
                groups.push(Group {
                    file: format!("{folder}/{rel}"),
                    required: !rel.starts_with("optional/"),
                    description: g.description,
                    subject: format!("{short}_{}_{i}", stem.replace(['/', '-'], "_")),
                    schema: registry_schema(&g.schema, &event, uri),
                    event,
                    tests: g.tests,
                });
            }
        }
    }
    Ok(groups)
}

/// The corpus: one schema per file, with its sample payloads in `samples/<name>.json`.
pub fn corpus(dir: &Path) -> Result<Vec<Group>, String> {
    let mut groups = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let read = |p: &Path| -> Result<Value, String> {
            let text = fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
        };
        let schema = read(&path)?;
        let samples = dir.join("samples").join(format!("{name}.json"));
        let mut tests = Vec::new();
        if samples.exists() {
            let s = read(&samples)?;
            for (key, valid) in [("valid", true), ("invalid", false)] {
                for (i, data) in
                    s.get(key).and_then(Value::as_array).cloned().unwrap_or_default().into_iter().enumerate()
                {
                    tests.push(Case { description: format!("{key} sample {i}"), data, valid });
                }
            }
        }
        let event = format!("Corpus{}Event", pascal(&name));
        groups.push(Group {
            file: format!("corpus/{name}.json"),
            required: true,
            description: name.clone(),
            subject: format!("corpus_{}", name.replace('-', "_")),
            schema: registry_schema(&schema, &event, DRAFTS[0].2),
            event,
            tests,
        });
    }
    Ok(groups)
}

/// Where the suite's remote documents are served from, and the registry folder that vendors them.
pub const REMOTES: (&str, &str) = ("http://localhost:1234/", "_remotes");

/// Writes the registry folder: one subject per group, version 1.0, and the suite's remote
/// documents vendored under [`REMOTES`].
pub fn write_registry(groups: &[Group], suite: Option<&Path>, dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    match suite {
        Some(suite) => crate::copy::copy_dir(&suite.join("remotes"), &dir.join(REMOTES.1))?,
        None => fs::create_dir_all(dir.join(REMOTES.1))?,
    }
    for g in groups {
        let subject = dir.join(&g.subject);
        fs::create_dir_all(&subject)?;
        let text = serde_json::to_string_pretty(&g.schema).expect("a JSON value serializes");
        fs::write(subject.join("1.0.json"), text)?;
    }
    Ok(())
}
