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
use crate::ident::{escape, pascal_case, unescape, unshadowed};
use crate::load::{display_path, read_json};
use crate::registry::SchemaFile;

/// Keywords whose values are data, not schemas: a `$ref` inside them is not a reference.
pub const DATA_KEYWORDS: [&str; 4] = ["const", "enum", "default", "examples"];

/// Keywords whose values map names to schemas: their keys are names, never keywords, so a
/// property called `default` still holds a schema.
pub const NAME_MAPS: [&str; 6] =
    ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"];

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
}

impl Documents {
    /// A document read while bundling, by normalized path.
    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.docs.get(path)
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
    /// Where each of `definitions` was written, so that messages point at the source, not the bundle.
    pub origins: BTreeMap<String, Origin>,
    /// Set when the document is kept as written for the validator to resolve (see
    /// [`crate::embedded`]): what made it so.
    pub validator_only: Option<String>,
}

/// Where a bundled definition comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, as shown in messages.
    pub display: String,
    /// The definition's JSON pointer in that file.
    pub pointer: String,
    /// That file's text, for line numbers.
    pub source: String,
}

impl Bundle {
    /// Turns a pointer into the bundled schema into the file and pointer where it was written;
    /// `own` is the bundled file itself.
    pub fn locate(&self, own: &crate::registry::SchemaFile, pointer: &str) -> Diagnostic {
        let def = pointer.strip_prefix("/definitions/").map(|rest| rest.split_once('/').unwrap_or((rest, "")));
        if let Some((name, rest)) = def {
            if let Some(o) = self.origins.get(&unescape(name)) {
                let inner = if rest.is_empty() { o.pointer.clone() } else { format!("{}/{rest}", o.pointer) };
                return Diagnostic::at(o.display.clone(), Some(&o.source), inner, String::new());
            }
        }
        Diagnostic::at(own.display.clone(), Some(&own.source), pointer, String::new())
    }
}

/// Bundles `file`.
/// `vendor` maps URI prefixes to folders of the registry that hold copies of those documents.
pub fn bundle(
    file: &SchemaFile,
    registry_root: &Path,
    base_uri: &str,
    vendor: &[(String, PathBuf)],
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
        vendor,
        docs,
        defs: BTreeMap::new(),
        names: HashMap::new(),
        taken: HashSet::new(),
        draft: draft_of(&file.document),
        problems: Vec::new(),
    };
    let mut root = file.document.clone();
    let Some(map) = root.as_object_mut() else {
        return Ok(Bundle { schema: root, uses: Vec::new(), origins: BTreeMap::new(), validator_only: None });
    };
    map.remove("x-event");
    map.remove("x-command");
    map.remove("x-compatibility");
    if let Some(why) = crate::embedded::validator_only(&file.document, base_uri) {
        return Ok(Bundle { schema: root, uses: Vec::new(), origins: BTreeMap::new(), validator_only: Some(why) });
    }
    // The root's own definitions keep their names, so that generated types are named as written.
    let mut local = Vec::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(defs)) = map.remove(key) {
            for (written, schema) in defs {
                let pointer = format!("/{key}/{}", escape(&written));
                let rust_name = unshadowed(pascal_case(&written));
                if !b.taken.insert(rust_name.clone()) {
                    b.problems.push(b.diag(
                        &main,
                        &pointer,
                        format!("`{written}` becomes the same Rust type name as another definition of this file; rename one"),
                    ));
                    continue;
                }
                // A name that would need escaping in a reference (`a/b`, `my thing`, `100%`) is
                // renamed to the Rust type name it gets anyway.
                // So is one whose Rust type would shadow a name of the prelude (`option` → `OptionDefinition`).
                let name = if is_plain_name(&written) && rust_name == pascal_case(&written) {
                    written
                } else if rust_name.is_empty() {
                    b.plain_name(&written)
                } else {
                    rust_name
                };
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
        // A vendored document may itself need what only a validator resolves (anchors, embedded
        // `$id`s): a document referring to one is then left to the validator, which is served the
        // vendored documents. Whether it resolves them is checked when the validator is compiled.
        let text = file.document.to_string();
        if let Some((prefix, _)) = vendor.iter().find(|(prefix, _)| text.contains(prefix.as_str())) {
            let mut schema = file.document.clone();
            if let Some(map) = schema.as_object_mut() {
                for key in ["x-event", "x-command", "x-compatibility"] {
                    map.remove(key);
                }
            }
            let why = format!("it refers to vendored documents under `{prefix}` that only the validator resolves");
            return Ok(Bundle { schema, uses: Vec::new(), origins: BTreeMap::new(), validator_only: Some(why) });
        }
        return Err(b.problems);
    }
    if !b.defs.is_empty() {
        let defs: Map<String, Value> = std::mem::take(&mut b.defs).into_iter().collect();
        root.as_object_mut().expect("checked above").insert("definitions".into(), Value::Object(defs));
    }
    let mut uses: Vec<PathBuf> = b.names.keys().map(|(p, _)| p.clone()).filter(|p| *p != main).collect();
    uses.sort();
    uses.dedup();
    let origins = b
        .names
        .iter()
        .filter_map(|((path, pointer), name)| {
            let doc = b.docs.docs.get(path)?;
            let origin = Origin { display: doc.display.clone(), pointer: pointer.clone(), source: doc.source.clone() };
            Some((name.clone(), origin))
        })
        .collect();
    Ok(Bundle { schema: root, uses, origins, validator_only: None })
}

struct Bundler<'a> {
    root: PathBuf,
    base_uri: &'a str,
    vendor: &'a [(String, PathBuf)],
    docs: &'a mut Documents,
    defs: BTreeMap<String, Value>,
    /// (file, pointer) of every hoisted target → its definition name.
    names: HashMap<(PathBuf, String), String>,
    /// The Rust type names the definitions will get, so that two never meet.
    taken: HashSet<String>,
    /// The root's `$schema`: every file it draws definitions from must be of the same draft.
    draft: String,
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
                    let at = format!("{pointer}/{}", escape(key));
                    if NAME_MAPS.contains(&key.as_str()) {
                        if let Value::Object(named) = child {
                            for (name, schema) in named.iter_mut() {
                                self.rewrite(schema, file, format!("{at}/{}", escape(name)));
                            }
                            continue;
                        }
                    }
                    if key != "$ref" && !DATA_KEYWORDS.contains(&key.as_str()) {
                        self.rewrite(child, file, at);
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
        let target_draft = draft_of(&doc.value);
        // A document that declares no `$schema` is read in the draft of the one referring to it.
        if doc.value.get("$schema").is_some() && target_draft != self.draft {
            // Keywords mean different things across drafts; copied as is, they would be misread.
            return Err(self.diag(file, at, format!("`{reference}` is in a file of another draft ({target_display} uses {target_draft}, this file {}); a schema and the files it refers to must declare the same `$schema`", self.draft)));
        }
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
            for key in ["x-event", "x-command", "$schema", "$id"] {
                map.remove(key);
            }
        }
        self.defs.insert(name.clone(), schema);
        Ok(format!("#/definitions/{name}"))
    }

    fn target_path(&self, target: &str, file: &Path, at: &str) -> Result<PathBuf, Diagnostic> {
        let relative = if let Some(rest) = target.strip_prefix(self.base_uri).and_then(|r| r.strip_prefix('/')) {
            // A URI under the registry's own base names a file of this registry.
            let rest = percent_decode(rest);
            // `<base>/<id>/<version>` is a schemaRef URI; its file is `<id>/<version>.json`.
            if rest.ends_with(".json") {
                self.root.join(rest)
            } else {
                self.root.join(format!("{rest}.json"))
            }
        } else if let Some((dir, rest)) =
            self.vendor.iter().find_map(|(prefix, dir)| target.strip_prefix(prefix.as_str()).map(|rest| (dir, rest)))
        {
            // A vendored copy of a remote document, kept in the registry.
            self.root.join(dir).join(percent_decode(rest.trim_start_matches('/')))
        } else if target.contains("://") || target.starts_with("urn:") {
            return Err(self.diag(file, at, format!("`{target}` is outside the registry: remote schemas are never fetched; copy the definition into a shared folder such as `_shared/` and refer to it by relative path, or vendor the remote documents (`vendor` in [package.metadata.events])")));
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

    /// The Rust type name of `written`, which the caller has already reserved in `taken`
    /// (a name with no letter or digit at all gets one of its own).
    fn plain_name(&mut self, written: &str) -> String {
        let base = pascal_case(written);
        if !base.is_empty() {
            return base;
        }
        let mut n = 1;
        while !self.taken.insert(format!("Definition{n}")) {
            n += 1;
        }
        format!("Definition{n}")
    }

    fn fresh_name(&mut self, path: &Path, fragment: &str) -> String {
        let last = fragment.rsplit('/').next().filter(|s| !s.is_empty()).map(unescape);
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let base = unshadowed(pascal_case(&last.unwrap_or(stem)));
        let base = if base.is_empty() { "Shared".to_string() } else { base };
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(pascal_case(&name)) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }
}

/// The draft a document declares: its `$schema` without a trailing `#`, 2020-12 when absent.
fn draft_of(doc: &Value) -> String {
    doc.get("$schema")
        .and_then(Value::as_str)
        .unwrap_or("https://json-schema.org/draft/2020-12/schema")
        .trim_end_matches('#')
        .replace("http://", "https://")
}

/// Whether a definition name can stand in `#/definitions/<name>` as it is.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
            {
                out.push(h * 16 + l);
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
