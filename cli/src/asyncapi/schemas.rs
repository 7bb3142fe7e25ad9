//! The payloads' definitions as `components.schemas`. A bundled schema holds its definitions under
//! its own root (`#/definitions/<name>`), which inside an AsyncAPI document resolves against the
//! document's root, where there are none; and a definition of a shared file is copied into every
//! bundle that uses it. So each definition moves to `components.schemas`, once for every place it
//! was written, and every reference is rewritten to `#/components/schemas/<key>`.
//!
//! Keys name where the definition was written, so that one does not change when another schema
//! joins the registry:
//! - a definition of a contract's own file: `<message key>.<name>`, e.g.
//!   `CustomerRegisteredEvent_v1_0.Address` for `customerRegisteredSchema/1.0.json#/$defs/Address`;
//! - one of another file of the registry: its path without `.json`, `/` as `.`, then its name, e.g.
//!   `_shared.commerce.OrderItem` for `_shared/commerce.json#/$defs/OrderItem`;
//! - one of a vendored document: its URI without the scheme and `.json`, likewise.
//!
//! A pointer that is not `#/$defs/<name>` (`#/properties/a`) keeps its other tokens (`….properties.a`);
//! characters a key may not hold (outside `A-Za-z0-9._-`) become `_`, and should two places still
//! meet on one key, the later in (file, pointer) order gets `_2`, `_3`, ….
//!
//! The bundle no longer says where each definition came from, so that is traced here: the schema
//! as written and its bundle are walked side by side, and each rewritten reference is resolved the
//! way the bundler resolves it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use events_codegen::ident::{escape, unescape};
use events_codegen::registry::SchemaFile;
use events_codegen::Inspection;
use serde_json::{Map, Value};

/// Keywords whose values are data: a `$ref` inside them is no reference.
const DATA: [&str; 4] = ["const", "enum", "default", "examples"];
/// Keywords whose values map names to schemas (a property called `default` is still a schema).
const NAME_MAPS: [&str; 6] =
    ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"];
const BUNDLED: &str = "#/definitions/";

/// The document a definition was written in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Doc {
    File(PathBuf),
    Uri(String),
}

/// Where a definition was written: its document and its JSON pointer there.
type Origin = (Doc, String);

/// Moves the definitions of every message's payload schema in `messages` (keyed as in `files`) to
/// the returned `components.schemas`, rewriting the references to them.
pub fn hoist(
    registry: &Inspection,
    messages: &mut Map<String, Value>,
    files: &[(String, &SchemaFile)],
) -> Map<String, Value> {
    let mut reader = Reader { registry, read: BTreeMap::new() };
    // Per message: bundled name → origin.
    let mut traced: Vec<BTreeMap<String, Origin>> = Vec::new();
    // Per origin: the first message that holds it, and its schema there.
    let mut definitions: BTreeMap<Origin, (usize, Value)> = BTreeMap::new();
    for (i, (key, f)) in files.iter().enumerate() {
        let mut origins = BTreeMap::new();
        let defs = messages.get_mut(key).and_then(|m| take_definitions(registry, f, &mut m["payload"]["schema"]));
        if let (Some(defs), Some(bundled)) = (defs, registry.bundled(f)) {
            let here = Doc::File(normalize(&f.path));
            reader.trace(&f.document, bundled, &here, &defs, &mut origins);
            // Definitions of the file that nothing refers to, and anything they refer to.
            for name in defs.keys() {
                if origins.contains_key(name) {
                    continue;
                }
                let written = ["$defs", "definitions"].into_iter().find(|k| f.document[*k].get(name).is_some());
                let pointer = format!("/{}/{}", written.unwrap_or("$defs"), escape(name));
                origins.insert(name.clone(), (here.clone(), pointer.clone()));
                if let Some(raw) = f.document.pointer(&pointer) {
                    reader.trace(raw, &defs[name], &here, &defs, &mut origins);
                }
            }
            for (name, def) in defs {
                definitions.entry(origins[&name].clone()).or_insert((i, def));
            }
        }
        traced.push(origins);
    }
    let keys = keys(registry, definitions.keys(), files);
    let key_of = |i: usize| -> BTreeMap<&str, &str> {
        traced[i].iter().map(|(name, origin)| (name.as_str(), keys[origin].as_str())).collect()
    };
    for (i, (key, _)) in files.iter().enumerate() {
        if let Some(m) = messages.get_mut(key) {
            rewrite(&mut m["payload"]["schema"], &key_of(i));
        }
    }
    let mut schemas = Map::new();
    for (origin, (i, mut def)) in definitions {
        rewrite(&mut def, &key_of(i));
        schemas.insert(keys[&origin].clone(), def);
    }
    schemas
}

/// The bundled definitions of one envelope schema, removed from it. None for a payload whose
/// references only a validator follows (anchors, embedded resources): it is kept as written.
fn take_definitions(registry: &Inspection, f: &SchemaFile, envelope: &mut Value) -> Option<Map<String, Value>> {
    let bundled = registry.bundled(f)?;
    if events_codegen::embedded::validator_only(bundled, &registry.registry().base_uri).is_some() {
        return None;
    }
    let draft4 = envelope["$schema"].as_str().is_some_and(|s| s.contains("draft-04"));
    if let Some(Value::Object(defs)) = envelope.as_object_mut()?.remove("definitions") {
        return Some(defs);
    }
    // A payload with an `$id` of its own keeps its definitions beside it, references relative to
    // that `$id`; once they point into the document, the `$id` would re-anchor them elsewhere.
    let payload = envelope.get_mut("properties")?.get_mut("payload")?.as_object_mut()?;
    let Some(Value::Object(defs)) = payload.remove("definitions") else { return None };
    payload.remove("$id");
    if draft4 {
        payload.remove("id");
    }
    Some(defs)
}

struct Reader<'a> {
    registry: &'a Inspection,
    /// Files of the registry outside the contracts (shared definitions), read once.
    read: BTreeMap<PathBuf, Option<Value>>,
}

impl Reader<'_> {
    /// Walks `raw` (as written in `at`) beside `bundled` (its bundle), recording in `origins` where
    /// each `#/definitions/<name>` reference of the bundle was written.
    fn trace(
        &mut self,
        raw: &Value,
        bundled: &Value,
        at: &Doc,
        defs: &Map<String, Value>,
        origins: &mut BTreeMap<String, Origin>,
    ) {
        match (raw, bundled) {
            (Value::Object(r), Value::Object(b)) => {
                if let (Some(Value::String(written)), Some(Value::String(rewritten))) = (r.get("$ref"), b.get("$ref")) {
                    let name =
                        rewritten.strip_prefix(BUNDLED).map(|rest| unescape(rest.split('/').next().unwrap_or("")));
                    if let Some(name) = name.filter(|n| !origins.contains_key(n)) {
                        if let Some((doc, pointer)) = self.resolve(written, at) {
                            origins.insert(name.clone(), (doc.clone(), pointer.clone()));
                            let target = self.load(&doc).and_then(|d| d.pointer(&pointer)).cloned();
                            if let (Some(target), Some(def)) = (target, defs.get(&name)) {
                                self.trace(&target, def, &doc, defs, origins);
                            }
                        }
                    }
                }
                for (key, rv) in r {
                    let Some(bv) = b.get(key) else { continue };
                    if NAME_MAPS.contains(&key.as_str()) && rv.is_object() {
                        for (name, rs) in rv.as_object().into_iter().flatten() {
                            if let Some(bs) = bv.get(name) {
                                self.trace(rs, bs, at, defs, origins);
                            }
                        }
                    } else if key != "$ref" && !DATA.contains(&key.as_str()) {
                        self.trace(rv, bv, at, defs, origins);
                    }
                }
            }
            (Value::Array(r), Value::Array(b)) => {
                for (rv, bv) in r.iter().zip(b) {
                    self.trace(rv, bv, at, defs, origins);
                }
            }
            _ => {}
        }
    }

    /// The document and pointer a `$ref` written in `at` names, resolved as the bundler does: the
    /// registry's base URI names its files, other absolute URIs vendored documents, and a relative
    /// reference is relative to the document that holds it.
    fn resolve(&self, reference: &str, at: &Doc) -> Option<Origin> {
        let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let fragment = percent_decode(fragment);
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return None;
        }
        let base = &self.registry.registry().base_uri;
        let doc = if target.is_empty() {
            at.clone()
        } else if let Some(rest) = target.strip_prefix(base.as_str()).and_then(|r| r.strip_prefix('/')) {
            let rest = percent_decode(rest);
            let file = if rest.ends_with(".json") { rest } else { format!("{rest}.json") };
            Doc::File(normalize(&self.registry.registry().root.join(file)))
        } else if target.contains("://") || target.starts_with("urn:") {
            Doc::Uri(target.to_string())
        } else {
            match at {
                Doc::File(p) => Doc::File(normalize(&p.parent()?.join(percent_decode(target)))),
                Doc::Uri(u) => Doc::Uri(join_uri(u, target)),
            }
        };
        Some((doc, fragment))
    }

    fn load(&mut self, doc: &Doc) -> Option<&Value> {
        let registry = self.registry;
        match doc {
            Doc::File(path) => {
                if let Some(f) = registry.registry().files().find(|f| normalize(&f.path) == *path) {
                    return Some(&f.document);
                }
                self.read
                    .entry(path.clone())
                    .or_insert_with(|| serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok())
                    .as_ref()
            }
            Doc::Uri(uri) => registry.vendored().iter().find(|(u, _)| u == uri).map(|(_, v)| v),
        }
    }
}

/// A key per origin, as the module's documentation describes.
fn keys<'a>(
    registry: &Inspection,
    origins: impl Iterator<Item = &'a Origin>,
    files: &[(String, &SchemaFile)],
) -> BTreeMap<Origin, String> {
    let root = normalize(&registry.registry().root);
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    // `origins` comes sorted: collisions are settled the same way every run.
    for origin in origins {
        let (doc, pointer) = origin;
        let mut parts = vec![match doc {
            Doc::File(path) => match files.iter().find(|(_, f)| normalize(&f.path) == *path) {
                Some((key, _)) => key.clone(),
                None => {
                    let relative = path.strip_prefix(&root).unwrap_or(path).with_extension("");
                    let names: Vec<String> =
                        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                    names.join(".")
                }
            },
            Doc::Uri(uri) => {
                let rest = uri.split_once("://").map_or(uri.as_str(), |(_, rest)| rest);
                let rest = rest.strip_prefix("urn:").unwrap_or(rest);
                rest.trim_end_matches(".json").split(['/', ':']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(".")
            }
        }];
        parts.extend(pointer.split('/').skip(1).map(unescape).filter(|t| t != "$defs" && t != "definitions"));
        let base: String = parts
            .join(".")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        let mut key = base.clone();
        let mut n = 2;
        while !taken.insert(key.clone()) {
            key = format!("{base}_{n}");
            n += 1;
        }
        out.insert(origin.clone(), key);
    }
    out
}

/// Rewrites every `#/definitions/<name>…` reference in `value` to `#/components/schemas/<key>…`.
fn rewrite(value: &mut Value, keys: &BTreeMap<&str, &str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                if let Some(rest) = reference.strip_prefix(BUNDLED) {
                    let (name, tail) = rest.split_once('/').map_or((rest, ""), |(n, t)| (n, t));
                    if let Some(key) = keys.get(unescape(name).as_str()) {
                        let tail = if tail.is_empty() { String::new() } else { format!("/{tail}") };
                        *reference = format!("#/components/schemas/{key}{tail}");
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                if NAME_MAPS.contains(&key.as_str()) && child.is_object() {
                    child.as_object_mut().into_iter().flat_map(|m| m.values_mut()).for_each(|s| rewrite(s, keys));
                } else if !DATA.contains(&key.as_str()) {
                    rewrite(child, keys);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, keys)),
        _ => {}
    }
}

/// `base` with its last segment replaced by the relative reference `relative`.
fn join_uri(base: &str, relative: &str) -> String {
    let (origin, path) = match base.split_once("://") {
        Some((scheme, rest)) => {
            let slash = rest.find('/').unwrap_or(rest.len());
            (format!("{scheme}://{}", &rest[..slash]), &rest[slash..])
        }
        None => (String::new(), base),
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    segments.pop();
    for s in relative.split('/') {
        match s {
            "." => {}
            ".." => {
                if segments.len() > 1 {
                    segments.pop();
                }
            }
            s => segments.push(s),
        }
    }
    format!("{origin}{}", segments.join("/"))
}

/// Lexical normalization, as the bundler's: `.` dropped, `..` resolved, the disk untouched.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)));
        if let (b'%', (Some(h), Some(l))) = (bytes[i], pair) {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}
