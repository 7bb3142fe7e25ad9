//! Load: walks the registry folder, parses every schema file, reads its `x-event`/`x-command`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Diagnostic, Error, Problems};
use crate::ident::is_type_name;
use crate::registry::{
    Access, AccessPolicy, Contract, ContractKind, Deprecation, EventType, Registry, SchemaFile, SchemaRef, Subject,
    Version,
};

/// Folders whose name starts with this hold shared definitions, not subjects.
pub const SHARED_PREFIX: char = '_';

const OUTSIDE: &str =
    "is a link that leads outside the registry folder (or nowhere); the generator reads nothing outside it";

const EXTENSION_KEYS: [&str; 9] =
    ["name", "type", "source", "tags", "eventVersion", "description", "deprecated", "publishers", "consumers"];

/// Shows `path` relative to the registry folder's parent: `schemas/a/1.0.json`.
pub fn display_path(root: &Path, path: &Path) -> String {
    let base = root.parent().unwrap_or(root);
    path.strip_prefix(base).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Reads and parses one JSON file, turning syntax errors into a diagnostic with line and column.
pub fn read_json(path: &Path, display: &str) -> Result<(String, Value), Diagnostic> {
    let source =
        fs::read_to_string(path).map_err(|e| Diagnostic::file(display, format!("cannot read the file: {e}")))?;
    match serde_json::from_str::<Value>(&source) {
        Ok(value) => Ok((source, value)),
        Err(e) => Err(Diagnostic {
            file: display.to_string(),
            position: Some((e.line(), e.column())),
            pointer: None,
            message: format!("malformed JSON: {e}"),
        }),
    }
}

/// Loads every subject of the registry at `root`: what loaded, and the problems of what did not,
/// so that later checks still run on the good files and one build reports everything.
pub fn load(root: &Path, base_uri: &str) -> Result<(Registry, Vec<Diagnostic>), Error> {
    let base_uri = base_uri.trim_end_matches('/').to_string();
    let root_display = display_path(root, root);
    let entries = sorted_entries(root)
        .map_err(|e| Diagnostic::file(root_display.clone(), format!("cannot read the registry folder: {e}")))?;
    let mut problems = Problems::default();
    let mut subjects = Vec::new();
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for path in entries {
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let display = display_path(root, &path);
        if name.starts_with('.') || name.starts_with(SHARED_PREFIX) {
            continue;
        }
        if !path.is_dir() {
            if name.ends_with(".json") {
                problems.push(Diagnostic::file(
                    display,
                    "a schema file must sit at <schemaId>/<MAJOR.MINOR>.json; shared definitions go in a folder whose name starts with `_`",
                ));
            }
            continue;
        }
        if !inside(&real_root, &path) {
            problems.push(Diagnostic::file(display, OUTSIDE));
            continue;
        }
        if !is_schema_id(&name) {
            problems.push(Diagnostic::file(
                display,
                "a schema id must start with an ASCII letter and hold only ASCII letters, digits, `-` and `_`",
            ));
            continue;
        }
        match load_subject(root, &path, &name, &base_uri) {
            Ok(subject) if subject.versions.is_empty() => {}
            Ok(subject) => subjects.push(subject),
            Err(mut more) => problems.0.append(&mut more),
        }
    }
    let registry = Registry {
        root: root.to_path_buf(),
        base_uri,
        subjects,
        access: AccessPolicy::default(),
        former_base_uris: Vec::new(),
        schema_ids: Vec::new(),
    };
    Ok((registry, problems.0))
}

/// Whether `path`, links resolved, lies inside `real_root`.
fn inside(real_root: &Path, path: &Path) -> bool {
    path.canonicalize().is_ok_and(|real| real.starts_with(real_root))
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    Ok(entries)
}

fn is_schema_id(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn load_subject(root: &Path, dir: &Path, id: &str, base_uri: &str) -> Result<Subject, Vec<Diagnostic>> {
    let entries = sorted_entries(dir)
        .map_err(|e| vec![Diagnostic::file(display_path(root, dir), format!("cannot read the folder: {e}"))])?;
    let mut problems = Vec::new();
    let mut versions = Vec::new();
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for path in entries {
        let display = display_path(root, &path);
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // editor and system files (`.#1.0.json` locks, `.DS_Store`)
        }
        if !inside(&real_root, &path) {
            problems.push(Diagnostic::file(display, OUTSIDE));
            continue;
        }
        let Some(stem) = name.strip_suffix(".json") else {
            if !name.ends_with(".md") {
                problems.push(Diagnostic::file(
                    display,
                    "only <MAJOR.MINOR>.json schema files (and .md notes) belong in a subject folder",
                ));
            }
            continue;
        };
        let Some(version) = Version::parse(stem) else {
            problems.push(Diagnostic::file(
                display,
                "the file name must be the schema version, <MAJOR.MINOR>.json, for instance 1.0.json",
            ));
            continue;
        };
        let (source, document) = match read_json(&path, &display) {
            Ok(parsed) => parsed,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        let schema_ref = SchemaRef { id: id.to_string(), version, uri: format!("{base_uri}/{id}/{version}") };
        let compatibility = match document.get("x-compatibility") {
            None => None,
            Some(Value::String(mode)) => match mode.parse() {
                Ok(mode) => Some(mode),
                Err(message) => {
                    problems.push(Diagnostic::at(&display, Some(&source), "/x-compatibility", message));
                    None
                }
            },
            Some(_) => {
                problems.push(Diagnostic::at(
                    &display,
                    Some(&source),
                    "/x-compatibility",
                    "`x-compatibility` must be a string such as \"BACKWARD\"",
                ));
                None
            }
        };
        match read_contract(&display, &source, &document, version) {
            Ok(contract) => {
                versions.push(SchemaFile { path, display, source, document, schema_ref, contract, compatibility })
            }
            Err(mut more) => problems.append(&mut more),
        }
    }
    versions.sort_by_key(|f| f.schema_ref.version);
    if problems.is_empty() {
        Ok(Subject { id: id.to_string(), versions })
    } else {
        Err(problems)
    }
}

/// Reads `x-event` or `x-command`: exactly one of them, with known keys of the right types.
fn read_contract(display: &str, source: &str, document: &Value, version: Version) -> Result<Contract, Vec<Diagnostic>> {
    let at = |pointer: &str, message: String| Diagnostic::at(display, Some(source), pointer, message);
    let Some(root) = document.as_object() else {
        return Err(vec![at(
            "",
            "the schema must be a JSON object carrying an `x-event` or `x-command` member".into(),
        )]);
    };
    let (key, kind_is_event) = match (root.get("x-event"), root.get("x-command")) {
        (Some(_), None) => ("x-event", true),
        (None, Some(_)) => ("x-command", false),
        (Some(_), Some(_)) => {
            return Err(vec![at("/x-command", "a schema declares either `x-event` or `x-command`, not both".into())])
        }
        (None, None) => {
            return Err(vec![at("", "missing `x-event` (or `x-command`): the event's name, type and source".into())])
        }
    };
    let base = format!("/{key}");
    let Some(ext) = root[key].as_object() else {
        return Err(vec![at(&base, format!("`{key}` must be an object"))]);
    };
    let mut problems = Vec::new();
    for k in ext.keys() {
        if !EXTENSION_KEYS.contains(&k.as_str()) || (!kind_is_event && (k == "type" || k == "source")) {
            problems.push(at(&format!("{base}/{k}"), format!("unknown key `{k}` in `{key}`")));
        }
    }
    let mut string = |field: &str, required: bool| -> Option<String> {
        match ext.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            None if !required => None,
            None => {
                problems.push(at(&base, format!("`{key}.{field}` is required")));
                None
            }
            Some(_) => {
                problems.push(at(&format!("{base}/{field}"), format!("`{key}.{field}` must be a non-empty string")));
                None
            }
        }
    };
    let name = string("name", true);
    let source_name = string("source", kind_is_event);
    let event_version = string("eventVersion", false);
    let description = string("description", false);
    let type_name = if kind_is_event { string("type", true) } else { None };
    let tags = read_tags(ext, &base, &mut problems, &at);
    let access = Access {
        publishers: read_names(ext, "publishers", &base, &mut problems, &at),
        consumers: read_names(ext, "consumers", &base, &mut problems, &at),
    };
    let deprecated = match ext.get("deprecated") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(Deprecation { note: None }),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(Deprecation { note: Some(s.trim().to_string()) }),
        Some(_) => {
            problems.push(at(
                &format!("{base}/deprecated"),
                format!("`{key}.deprecated` must be true, false, or a non-empty string saying what to use instead"),
            ));
            None
        }
    };
    if let Some(n) = &name {
        if !is_type_name(n) {
            problems.push(at(&format!("{base}/name"), format!("`{n}` is not an UpperCamelCase Rust identifier of its own (ASCII letters and digits, starting with a capital, not a keyword nor a name of Rust's prelude such as `String`)")));
        }
    }
    let kind = if kind_is_event {
        match type_name.as_deref().map(|t| EventType::ALL.iter().find(|(n, _)| *n == t)) {
            Some(Some((_, t))) => Some(ContractKind::Event(*t)),
            Some(None) => {
                problems.push(at(
                    &format!("{base}/type"),
                    format!(
                        "unknown event type `{}`: expected one of domain, integration, notification",
                        type_name.unwrap_or_default()
                    ),
                ));
                None
            }
            None => None,
        }
    } else {
        Some(ContractKind::Command)
    };
    match (name, kind) {
        (Some(name), Some(kind)) if problems.is_empty() => Ok(Contract {
            name,
            kind,
            source: source_name,
            tags,
            event_version: event_version.unwrap_or_else(|| version.to_string()),
            description,
            deprecated,
            access,
        }),
        _ => Err(problems),
    }
}

/// `publishers` or `consumers`: an array of non-empty, distinct names.
fn read_names(
    ext: &Map<String, Value>,
    key: &str,
    base: &str,
    problems: &mut Vec<Diagnostic>,
    at: &dyn Fn(&str, String) -> Diagnostic,
) -> Option<Vec<String>> {
    let value = ext.get(key)?;
    let Some(items) = value.as_array() else {
        problems.push(at(&format!("{base}/{key}"), format!("`{key}` must be an array of service names")));
        return None;
    };
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(str::trim) {
            Some(name) if !name.is_empty() && !names.iter().any(|n| n == name) => names.push(name.to_string()),
            Some(name) if !name.is_empty() => {
                problems.push(at(&format!("{base}/{key}/{i}"), format!("`{name}` is listed twice")))
            }
            _ => problems.push(at(&format!("{base}/{key}/{i}"), "a service name must be a non-empty string".into())),
        }
    }
    Some(names)
}

fn read_tags(
    ext: &Map<String, Value>,
    base: &str,
    problems: &mut Vec<Diagnostic>,
    at: &dyn Fn(&str, String) -> Diagnostic,
) -> Vec<String> {
    match ext.get("tags") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match t.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    problems.push(at(&format!("{base}/tags/{i}"), "a tag must be a string".into()));
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.push(at(&format!("{base}/tags"), "`tags` must be an array of strings".into()));
            Vec::new()
        }
    }
}
