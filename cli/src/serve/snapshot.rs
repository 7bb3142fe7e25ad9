//! What the server answers from: the registry as the build sees it, copied into memory with every
//! document it serves already rendered, so that a request never reads a file.

use std::collections::BTreeMap;

use events_codegen::Config;
use serde_json::{json, Value};

use crate::registry_args::Package;

/// A document ready to send.
#[derive(Debug, Clone)]
pub struct Doc {
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// A strong validator of the body, stable across restarts.
    pub etag: String,
}

impl Doc {
    pub fn new(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let etag = format!("\"{:016x}\"", fnv1a(&body));
        Doc { content_type, body, etag }
    }

    fn json(value: &Value) -> Self {
        Doc::new("application/json", serde_json::to_string_pretty(value).expect("JSON") + "\n")
    }
}

/// FNV-1a, 64 bits: a fingerprint that is the same on every machine and run.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The registry, served.
#[derive(Debug)]
pub struct Snapshot {
    /// The path of the base URI (`/schemas`), under which schemas are served.
    pub base_path: String,
    /// `(schema id, version)` → the schema as written.
    pub schemas: BTreeMap<(String, String), Doc>,
    /// `(schema id, version)` → the envelope schema.
    pub envelopes: BTreeMap<(String, String), Doc>,
    /// Schema id → its versions, as JSON.
    pub subjects: BTreeMap<String, Doc>,
    /// The catalog's files by path.
    pub catalog: BTreeMap<String, Doc>,
    pub asyncapi: Doc,
    /// How many versions it holds.
    pub versions: usize,
    /// What the Confluent Schema Registry API answers.
    pub api: Api,
}

/// The registry as the Confluent Schema Registry API sees it: one subject per schema id, whose
/// versions are the envelope schemas (what a message on the wire is), numbered 1, 2, 3 and with
/// the ids of `schema-ids.lock`.
#[derive(Debug)]
pub struct Api {
    /// By subject, then integer version.
    pub versions: Vec<ApiVersion>,
    /// The registry's default compatibility mode.
    pub default_mode: events_codegen::compat::Mode,
    /// Whether the ids come from `schema-ids.lock` (else they are positions, until `events ids`).
    pub recorded: bool,
}

/// One version of a subject.
#[derive(Debug, Clone)]
pub struct ApiVersion {
    pub subject: String,
    pub version: u32,
    pub id: u32,
    pub schema: Value,
    /// The schema as a JSON string, as the API carries it.
    pub text: String,
    /// The mode the version sets with `x-compatibility`, if it sets one.
    pub mode: Option<events_codegen::compat::Mode>,
    /// The shared files it `$ref`s: `{"name", "subject", "version"}`.
    pub references: Vec<Value>,
}

/// Ids of a payload subject's versions: this plus the version's recorded id.
pub const PAYLOAD_IDS: u32 = 1 << 29;
/// Ids of shared files: this plus a hash of their path, so that adding files never moves one.
pub const SHARED_IDS: u32 = 1 << 30;

/// The shared files `document` (a file of the registry at `file`) refers to: (the `$ref` text
/// without its fragment, the file's path in the registry).
fn shared_refs(root: &std::path::Path, file: &std::path::Path, document: &Value) -> Vec<(String, String)> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let path = r.split('#').next().unwrap_or("");
                    if !path.is_empty() && !path.contains("://") && !path.starts_with("urn:") {
                        out.push(path.to_string());
                    }
                }
                for (k, x) in m {
                    if !matches!(k.as_str(), "const" | "enum" | "default" | "examples") {
                        walk(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    walk(document, &mut names);
    names.sort();
    names.dedup();
    let dir = file.parent().unwrap_or(root);
    names
        .into_iter()
        .filter_map(|name| {
            let mut path = std::path::PathBuf::new();
            for c in dir.join(&name).components() {
                match c {
                    std::path::Component::ParentDir => {
                        path.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => path.push(other),
                }
            }
            let rel = path.strip_prefix(root).ok()?.to_string_lossy().replace('\\', "/");
            Some((name, rel))
        })
        .collect()
}

/// 32-bit FNV-1a of a shared file's path, within the shared ids' range.
fn shared_id(path: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in path.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    SHARED_IDS + (h % (SHARED_IDS - 1)) + 1
}

impl Api {
    pub fn subject(&self, name: &str) -> Vec<&ApiVersion> {
        self.versions.iter().filter(|v| v.subject == name).collect()
    }

    pub fn by_id(&self, id: u32) -> Option<&ApiVersion> {
        self.versions.iter().find(|v| v.id == id)
    }
}

/// The path part of a URI: `https://host/schemas` → `/schemas`; `/` when it has none.
pub fn path_of(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

/// Loads, checks and renders everything; the registry's problems, when it has any.
pub fn build(config: &Config, package: &Package) -> Result<Snapshot, String> {
    let registry = config.inspect().map_err(|e| e.to_string())?;
    let report = config.compatibility_report().map_err(|e| e.to_string())?;
    // The build's gate: a minor version that breaks its mode is not a registry to serve.
    let breaks = report.errors();
    if !breaks.is_empty() {
        return Err(events_codegen::Error::new(breaks).to_string());
    }
    let base_path = path_of(&registry.registry().base_uri);
    let mut schemas = BTreeMap::new();
    let mut envelopes = BTreeMap::new();
    let mut subjects = BTreeMap::new();
    let mut versions = 0;
    for subject in &registry.registry().subjects {
        let mut listed = Vec::new();
        for f in &subject.versions {
            let key = (subject.id.clone(), f.schema_ref.version.to_string());
            schemas.insert(key.clone(), Doc::new("application/schema+json", f.source.clone()));
            if let Some(envelope) = registry.envelope_schema(f) {
                let mut d = Doc::json(&envelope);
                d.content_type = "application/schema+json";
                envelopes.insert(key.clone(), d);
            }
            listed.push(json!({ "version": key.1, "contract": f.contract.name, "uri": f.schema_ref.uri }));
            versions += 1;
        }
        subjects.insert(subject.id.clone(), Doc::json(&json!({ "id": subject.id, "versions": listed })));
    }
    let catalog = crate::catalog::site(&registry, &report, package)
        .into_iter()
        .map(|(path, text)| {
            let kind = match path.rsplit('.').next() {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                _ => "application/octet-stream",
            };
            (path, Doc::new(kind, text))
        })
        .collect();
    let asyncapi = Doc::json(&crate::asyncapi::document(&registry, package, None));
    let model = registry.registry();
    let recorded = !model.schema_ids.is_empty();
    let ids = events_codegen::ids::assign(model, &model.schema_ids);
    let mut api_versions: Vec<ApiVersion> = model
        .files()
        .filter_map(|f| {
            let n = ids.iter().find(|s| s.subject == f.schema_ref.id && s.version == f.schema_ref.version)?;
            let schema = registry.envelope_schema(f)?;
            Some(ApiVersion {
                subject: f.schema_ref.id.clone(),
                version: n.integer,
                id: n.id,
                text: serde_json::to_string(&schema).expect("JSON"),
                schema,
                mode: f.compatibility,
                references: Vec::new(),
            })
        })
        .collect();
    // The payload schemas as written, under `<schemaId>-payload`, with their shared files as
    // references; each shared file a subject of its own, at version 1.
    let root = model.root.clone();
    let mut shared: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let reference = |(name, path): (String, String)| json!({ "name": name, "subject": path, "version": 1 });
    for f in model.files() {
        let Some(n) = ids.iter().find(|s| s.subject == f.schema_ref.id && s.version == f.schema_ref.version) else {
            continue;
        };
        let refs = shared_refs(&root, &f.path, &f.document);
        for (_, path) in &refs {
            shared.entry(path.clone()).or_default();
        }
        api_versions.push(ApiVersion {
            subject: format!("{}-payload", f.schema_ref.id),
            version: n.integer,
            id: PAYLOAD_IDS + n.id,
            schema: f.document.clone(),
            text: f.source.trim_end().to_string(),
            mode: f.compatibility,
            references: refs.into_iter().map(reference).collect(),
        });
    }
    let mut taken = BTreeMap::new();
    for path in shared.keys().cloned().collect::<Vec<_>>() {
        let Ok(text) = std::fs::read_to_string(root.join(&path)) else { continue };
        let Ok(schema) = serde_json::from_str::<Value>(&text) else { continue };
        let id = shared_id(&path);
        if let Some(other) = taken.insert(id, path.clone()) {
            return Err(format!("the shared files {other} and {path} hash to the same schema id {id}; rename one"));
        }
        let references = shared_refs(&root, &root.join(&path), &schema).into_iter().map(reference).collect();
        api_versions.push(ApiVersion {
            subject: path,
            version: 1,
            id,
            schema,
            text: text.trim_end().to_string(),
            mode: None,
            references,
        });
    }
    api_versions.sort_by(|a, b| (a.subject.as_str(), a.version).cmp(&(b.subject.as_str(), b.version)));
    let api = Api { versions: api_versions, default_mode: config.default_compatibility(), recorded };
    Ok(Snapshot { base_path, schemas, envelopes, subjects, catalog, asyncapi, versions, api })
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_base_path_is_read_from_the_uri() {
        assert_eq!(path_of("https://schema-registry.example.com/schemas"), "/schemas");
        assert_eq!(path_of("http://127.0.0.1:8081/a/b/"), "/a/b");
        assert_eq!(path_of("https://registry.example.com"), "/");
    }
}
