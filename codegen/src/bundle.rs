//! Bundle: turns one schema file and everything it `$ref`s into a single self-contained document.
//!
//! typify understands only `#/definitions/<name>` references inside one document, and the runtime
//! validator must never go looking for files or URLs. So every reference is resolved here, relative
//! to the file that holds it, its target is copied into the root's `definitions`, and the reference
//! is rewritten to point there. `$defs` is renamed to `definitions` on the way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::Diagnostic;
use crate::load::{display_path, read_json};
use crate::registry::SchemaFile;

/// Keywords whose values are data, not schemas: a `$ref` inside them is not a reference.
const DATA_KEYWORDS: [&str; 4] = ["const", "enum", "default", "examples"];

/// A parsed file of the registry, kept so that shared files are read once per build.
#[derive(Debug, Clone)]
pub struct Document {
    /// Path shown in messages.
    pub display: String,
    /// The text, for line numbers.
    pub source: String,
    /// The parsed value.
    pub value: Value,
}

/// Every document read while bundling, keyed by normalized path.
#[derive(Debug, Default)]
pub struct Documents {
    docs: BTreeMap<PathBuf, Document>,
    /// Shared files already checked against the meta-schema, and whether they passed.
    checked: BTreeMap<PathBuf, bool>,
}

impl Documents {
    /// Every document read so far, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&PathBuf, &Document)> {
        self.docs.iter()
    }

    /// Checks each shared file once against its meta-schema; false when one of `paths` is invalid.
    pub fn check_shared(&mut self, paths: &[PathBuf], problems: &mut Vec<Diagnostic>) -> bool {
        let mut ok = true;
        for path in paths {
            let passed = match self.checked.get(path) {
                Some(passed) => *passed,
                None => {
                    let found = self.docs.get(path).map(crate::check::meta_schema).unwrap_or_default();
                    let passed = found.is_empty();
                    problems.extend(found);
                    self.checked.insert(path.clone(), passed);
                    passed
                }
            };
            ok &= passed;
        }
        ok
    }

    fn load(&mut self, root: &Path, path: &Path) -> Result<&Document, Diagnostic> {
        if !self.docs.contains_key(path) {
            let display = display_path(root, path);
            let (source, value) = read_json(path, &display)?;
            self.docs.insert(path.to_path_buf(), Document { display, source, value });
        }
        Ok(&self.docs[path])
    }
}

/// A schema with everything it refers to inside it.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The self-contained schema: references only to `#/definitions/<name>`, no extension keys.
    pub schema: Value,
    /// The other files it took definitions from.
    pub uses: Vec<PathBuf>,
}

/// Bundles `file`.
pub fn bundle(
    file: &SchemaFile,
    registry_root: &Path,
    base_uri: &str,
    docs: &mut Documents,
) -> Result<Bundle, Vec<Diagnostic>> {
    let main = normalize(&file.path);
    docs.docs.entry(main.clone()).or_insert_with(|| Document {
        display: file.display.clone(),
        source: file.source.clone(),
        value: file.document.clone(),
    });
    let mut b = Bundler {
        root: normalize(registry_root),
        base_uri,
        docs,
        defs: BTreeMap::new(),
        names: HashMap::new(),
        taken: HashSet::new(),
        problems: Vec::new(),
    };
    let mut root = file.document.clone();
    let Some(map) = root.as_object_mut() else { return Ok(Bundle { schema: root, uses: Vec::new() }) };
    map.remove("x-event");
    map.remove("x-command");
    // The root's own definitions keep their names, so that generated types are named as written.
    let mut local = Vec::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(defs)) = map.remove(key) {
            for (name, schema) in defs {
                let pointer = format!("/{key}/{}", escape(&name));
                if !b.taken.insert(name.clone()) {
                    b.problems.push(b.diag(
                        &main,
                        &pointer,
                        format!("`{name}` is defined both in `definitions` and in `$defs`"),
                    ));
                    continue;
                }
                b.names.insert((main.clone(), pointer.clone()), name.clone());
                local.push((name, schema, pointer));
            }
        }
    }
    b.rewrite(&mut root, &main, String::new());
    for (name, mut schema, pointer) in local {
        b.rewrite(&mut schema, &main, pointer);
        b.defs.insert(name, schema);
    }
    if !b.problems.is_empty() {
        return Err(b.problems);
    }
    if !b.defs.is_empty() {
        let defs: Map<String, Value> = std::mem::take(&mut b.defs).into_iter().collect();
        root.as_object_mut().expect("checked above").insert("definitions".into(), Value::Object(defs));
    }
    let mut uses: Vec<PathBuf> = b.names.keys().map(|(p, _)| p.clone()).filter(|p| *p != main).collect();
    uses.sort();
    uses.dedup();
    Ok(Bundle { schema: root, uses })
}

struct Bundler<'a> {
    root: PathBuf,
    base_uri: &'a str,
    docs: &'a mut Documents,
    defs: BTreeMap<String, Value>,
    /// (file, pointer) of every hoisted target → its definition name.
    names: HashMap<(PathBuf, String), String>,
    taken: HashSet<String>,
    problems: Vec<Diagnostic>,
}

impl Bundler<'_> {
    fn diag(&self, file: &Path, pointer: &str, message: String) -> Diagnostic {
        match self.docs.docs.get(file) {
            Some(doc) => Diagnostic::at(doc.display.clone(), Some(&doc.source), pointer, message),
            None => Diagnostic::at(display_path(&self.root, file), None, pointer, message),
        }
    }

    fn rewrite(&mut self, value: &mut Value, file: &Path, pointer: String) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let at = format!("{pointer}/$ref");
                    match self.resolve(&reference.clone(), file, &at) {
                        Ok(target) => {
                            map.insert("$ref".into(), Value::String(target));
                        }
                        Err(d) => self.problems.push(d),
                    }
                }
                // Nested base URIs would re-anchor the rewritten references.
                if !pointer.is_empty() {
                    map.remove("$id");
                    map.remove("$schema");
                }
                for (key, child) in map.iter_mut() {
                    if key != "$ref" && !DATA_KEYWORDS.contains(&key.as_str()) {
                        self.rewrite(child, file, format!("{pointer}/{}", escape(key)));
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.rewrite(item, file, format!("{pointer}/{i}"));
                }
            }
            _ => {}
        }
    }

    /// Resolves one reference and returns what it becomes: `#/definitions/<name>`.
    fn resolve(&mut self, reference: &str, file: &Path, at: &str) -> Result<String, Diagnostic> {
        let (target, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let fragment = percent_decode(fragment);
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return Err(self.diag(
                file,
                at,
                format!(
                    "unsupported: `$ref` to the anchor `#{fragment}`; refer to a JSON pointer such as `#/$defs/Name`"
                ),
            ));
        }
        let path = if target.is_empty() { file.to_path_buf() } else { self.target_path(target, file, at)? };
        let key = (path.clone(), fragment.clone());
        if let Some(name) = self.names.get(&key) {
            return Ok(format!("#/definitions/{name}"));
        }
        if fragment.is_empty() && target.is_empty() {
            return Err(self.diag(
                file,
                at,
                "unsupported: `$ref: \"#\"` (a reference to the whole document); move the recursive part into `$defs`"
                    .into(),
            ));
        }
        let doc = self.docs.load(&self.root, &path).map_err(|mut d| {
            d.message = format!("{} (referenced from {} at {at})", d.message, display_path(&self.root, file));
            d
        })?;
        let (target_display, schema) = (doc.display.clone(), doc.value.pointer(&fragment).cloned());
        let Some(schema) = schema else {
            return Err(self.diag(
                file,
                at,
                format!("`{reference}` points at nothing: {target_display} has no `#{fragment}`"),
            ));
        };
        let name = self.fresh_name(&path, &fragment);
        self.names.insert(key, name.clone());
        let mut schema = schema;
        self.rewrite(&mut schema, &path, fragment);
        if let Some(map) = schema.as_object_mut() {
            map.remove("x-event");
            map.remove("x-command");
        }
        self.defs.insert(name.clone(), schema);
        Ok(format!("#/definitions/{name}"))
    }

    fn target_path(&self, target: &str, file: &Path, at: &str) -> Result<PathBuf, Diagnostic> {
        let relative = if let Some(rest) = target.strip_prefix(self.base_uri).and_then(|r| r.strip_prefix('/')) {
            // A URI under the registry's own base names a file of this registry.
            let mut p = self.root.join(rest);
            if p.extension().is_none() {
                p.set_extension("json");
            }
            p
        } else if target.contains("://") || target.starts_with("urn:") {
            return Err(self.diag(file, at, format!("`{target}` is outside the registry: remote schemas are never fetched; copy the definition into a shared folder such as `_shared/` and refer to it by relative path")));
        } else {
            file.parent().unwrap_or(&self.root).join(percent_decode(target))
        };
        let path = normalize(&relative);
        if !path.starts_with(&self.root) {
            return Err(self.diag(
                file,
                at,
                format!("`{target}` leaves the registry folder; references may only name files inside it"),
            ));
        }
        if !path.is_file() {
            return Err(self.diag(
                file,
                at,
                format!("`{target}` points at a missing file ({})", display_path(&self.root, &path)),
            ));
        }
        // A symbolic link could still lead outside: compare real paths too.
        match (path.canonicalize(), self.root.canonicalize()) {
            (Ok(real), Ok(root)) if real.starts_with(&root) => Ok(path),
            _ => Err(self.diag(file, at, format!("`{target}` leaves the registry folder through a link"))),
        }
    }

    fn fresh_name(&mut self, path: &Path, fragment: &str) -> String {
        let last =
            fragment.rsplit('/').next().filter(|s| !s.is_empty()).map(|s| s.replace("~1", "/").replace("~0", "~"));
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let base = pascal_case(&last.unwrap_or(stem));
        let base = if base.is_empty() { "Shared".to_string() } else { base };
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }
}

/// Escapes one JSON pointer token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Lexical normalization: removes `.` and resolves `..` without touching the disk.
pub(crate) fn normalize(path: &Path) -> PathBuf {
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

/// `shipping-address` → `ShippingAddress`.
pub fn pascal_case(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first.chain(chars).collect::<String>()
        })
        .collect()
}
