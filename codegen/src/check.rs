//! Check: what must hold before any code is generated, so that a bad registry fails with a
//! message about the schema rather than an error inside generated code.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;

use crate::bundle::Documents;
use crate::error::Diagnostic;
use crate::ident::{
    escape, is_keyword, module_name, pascal_case, payload_name, unescape, RESERVED_MODULES, SERVER_ROUTES,
};
use crate::registry::{Registry, SchemaFile};

/// Keywords that place a subschema *inside* a value: a cycle through one of them is a recursive
/// data structure (a tree, a list). A cycle that passes through none of them describes a value
/// that contains itself, which no Rust type can hold and which overflows typify's stack.
const NESTING_KEYWORDS: [&str; 10] = [
    "properties",
    "patternProperties",
    "additionalProperties",
    "items",
    "prefixItems",
    "additionalItems",
    "contains",
    "dependentSchemas",
    "propertyNames",
    "unevaluatedProperties",
];

/// Shared files already checked against their meta-schema, and whether they passed: a broken
/// shared file is reported once, on itself, not again on each schema that uses it.
#[derive(Debug, Default)]
pub struct SharedFiles {
    checked: BTreeMap<PathBuf, bool>,
}

impl SharedFiles {
    /// Checks each of `paths` once against its meta-schema; false when one of them is invalid.
    pub fn passed(&mut self, docs: &Documents, paths: &[PathBuf], problems: &mut Vec<Diagnostic>) -> bool {
        let mut ok = true;
        for path in paths {
            let passed = match self.checked.get(path) {
                Some(passed) => *passed,
                None => {
                    let found =
                        docs.get(path).map(|d| meta_schema(&d.display, &d.source, &d.value)).unwrap_or_default();
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
}

/// Checks a document against the meta-schema of its draft (`$schema`, 2020-12 when absent).
pub fn meta_schema(display: &str, source: &str, value: &Value) -> Vec<Diagnostic> {
    let validator = match jsonschema::meta::validator_for(value) {
        Ok(v) => v,
        Err(e) => {
            return vec![Diagnostic::at(
                display,
                Some(source),
                "/$schema",
                format!("unknown `$schema`: {e}; use a draft from 4 to 2020-12"),
            )]
        }
    };
    validator
        .iter_errors(value)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            Diagnostic::at(display, Some(source), pointer, format!("invalid schema: {e}"))
        })
        .collect()
}

/// Compiles the runtime validator once at build time, so that it cannot fail at run time.
/// `vendored` holds the registry's vendored documents by URI, for documents left to the validator.
pub fn validator(file: &SchemaFile, bundled: &Value, vendored: &[(String, Value)]) -> Vec<Diagnostic> {
    let mut options = runtime_options();
    if !vendored.is_empty() {
        options = options.with_retriever(Vendored(vendored.iter().cloned().collect()));
    }
    match options.build(bundled) {
        Ok(validator) => examples(file, &validator),
        Err(e) => {
            let pointer = e.schema_path().to_string();
            vec![Diagnostic::at(
                file.display.clone(),
                Some(&file.source),
                pointer,
                format!("the schema cannot be compiled into a validator: {e}"),
            )]
        }
    }
}

/// The schema's own `examples` must meet it: tools print them as the contract's examples.
fn examples(file: &SchemaFile, validator: &jsonschema::Validator) -> Vec<Diagnostic> {
    let Some(examples) = file.document.get("examples").and_then(Value::as_array) else { return Vec::new() };
    examples
        .iter()
        .enumerate()
        .filter_map(|(i, example)| {
            let error = validator.iter_errors(example).next()?;
            let at = error.instance_path().to_string();
            Some(Diagnostic::at(
                file.display.clone(),
                Some(&file.source),
                format!("/examples/{i}"),
                format!("this example breaks the schema at `{}`: {error}", if at.is_empty() { "/" } else { &at }),
            ))
        })
        .collect()
}

/// Serves vendored documents to the validator by their URI; nothing is ever fetched. (The
/// runtime's `PayloadSchema::compile_vendored` does the same with the generated copies.)
struct Vendored(BTreeMap<String, Value>);

impl jsonschema::Retrieve for Vendored {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .get(uri.as_str())
            .cloned()
            .ok_or_else(|| format!("`{uri}` is not a vendored document of the registry").into())
    }
}

/// The options the runtime validator is built with: keep in step with `PayloadSchema::compile`
/// in the events crate, which cannot depend on this one.
pub fn runtime_options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options().should_validate_formats(true)
}

/// Finds a definition cycle that never passes through a property or an item (see
/// [`NESTING_KEYWORDS`]): such a value contains itself, no Rust type can hold it, and typify
/// overflows its stack on it. Returns why, for the fallback payload.
pub fn cycles(_file: &SchemaFile, bundled: &Value) -> Option<String> {
    let defs = bundled.get("definitions").and_then(Value::as_object)?;
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, schema) in defs {
        let mut out = BTreeSet::new();
        inline_refs(schema, &mut out);
        edges.insert(name.as_str(), out);
    }
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = on the stack, 2 = done
    for start in edges.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(start, &edges, &mut state, &mut path) {
            return Some(format!(
                "the definitions {} refer to each other without an object property or array item in between (a value that contains itself)",
                cycle.join(" → ")
            ));
        }
    }
    None
}

fn visit<'a>(
    node: &'a str,
    edges: &'a BTreeMap<&'a str, BTreeSet<String>>,
    state: &mut HashMap<&'a str, u8>,
    path: &mut Vec<&'a str>,
) -> Option<Vec<String>> {
    match state.get(node) {
        Some(2) => return None,
        Some(_) => {
            let from = path.iter().position(|n| *n == node).unwrap_or(0);
            let mut cycle: Vec<String> = path[from..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        None => {}
    }
    state.insert(node, 1);
    path.push(node);
    for next in edges.get(node).into_iter().flatten() {
        if let Some((key, _)) = edges.get_key_value(next.as_str()) {
            if let Some(cycle) = visit(key, edges, state, path) {
                return Some(cycle);
            }
        }
    }
    path.pop();
    state.insert(node, 2);
    None
}

/// References reachable from `schema` without passing through a nesting keyword.
fn inline_refs(schema: &Value, out: &mut BTreeSet<String>) {
    let Some(map) = schema.as_object() else { return };
    if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/definitions/")) {
        out.insert(unescape(name));
    }
    for (key, child) in map {
        if NESTING_KEYWORDS.contains(&key.as_str())
            || matches!(key.as_str(), "const" | "enum" | "default" | "examples" | "definitions")
        {
            continue;
        }
        match child {
            Value::Array(items) => items.iter().for_each(|i| inline_refs(i, out)),
            Value::Object(_) => inline_refs(child, out),
            _ => {}
        }
    }
}

/// Names must be unique across the registry, and schema ids must map to distinct modules.
pub fn names(registry: &Registry) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut owners: BTreeMap<&str, &SchemaFile> = BTreeMap::new();
    let mut modules: BTreeMap<String, &str> = BTreeMap::new();
    for subject in &registry.subjects {
        let module = module_name(&subject.id);
        if let Some(other) = modules.insert(module.clone(), &subject.id) {
            let file = &subject.versions[0];
            problems.push(Diagnostic::file(
                file.display.clone(),
                format!("schema ids `{other}` and `{}` both become the Rust module `{module}`; rename one", subject.id),
            ));
        }
        if SERVER_ROUTES.contains(&subject.id.as_str()) {
            problems.push(Diagnostic::file(
                subject.versions[0].display.clone(),
                format!(
                    "schema id `{}` clashes with a route of the registry server (`{}`); rename it",
                    subject.id,
                    SERVER_ROUTES.join("`, `")
                ),
            ));
        }
        if is_keyword(&module) || RESERVED_MODULES.contains(&module.as_str()) {
            problems.push(Diagnostic::file(
                subject.versions[0].display.clone(),
                format!(
                    "schema id `{}` becomes the module `{module}`, a name Rust or the events crate keeps for itself; rename it",
                    subject.id
                ),
            ));
        }
        for file in &subject.versions {
            match owners.get(file.contract.name.as_str()) {
                Some(other) if other.schema_ref.id != file.schema_ref.id => problems.push(Diagnostic::at(
                    file.display.clone(),
                    Some(&file.source),
                    name_pointer(file),
                    format!("duplicate name `{}`: {} already declares it", file.contract.name, other.display),
                )),
                Some(other) if other.contract.kind != file.contract.kind => problems.push(Diagnostic::at(
                    file.display.clone(),
                    Some(&file.source),
                    name_pointer(file),
                    format!(
                        "`{}` changes between event and command across versions of `{}`",
                        file.contract.name, file.schema_ref.id
                    ),
                )),
                _ => {
                    owners.insert(&file.contract.name, file);
                }
            }
        }
    }
    problems
}

/// The definitions of a bundled schema must not take the names the generator gives its own items.
pub fn reserved_names(file: &SchemaFile, bundled: &Value) -> Vec<Diagnostic> {
    let reserved = [file.contract.name.clone(), payload_name(&file.contract.name)];
    let Some(defs) = bundled.get("definitions").and_then(Value::as_object) else { return Vec::new() };
    defs.keys()
        .filter(|k| reserved.contains(&pascal_case(k)))
        .map(|k| {
            Diagnostic::at(
                file.display.clone(),
                Some(&file.source),
                definition_pointer(file, k),
                format!("the definition `{k}` clashes with the generated type of the same name; rename it"),
            )
        })
        .collect()
}

/// Where definition `name` of the bundle is written in the file: under `$defs` or `definitions`,
/// or, for one taken from a shared file, at the document root.
fn definition_pointer(file: &SchemaFile, name: &str) -> String {
    ["$defs", "definitions"]
        .iter()
        .map(|k| format!("/{k}/{}", escape(name)))
        .find(|p| file.document.pointer(p).is_some())
        .unwrap_or_default()
}

fn name_pointer(file: &SchemaFile) -> &'static str {
    if file.document.get("x-event").is_some() {
        "/x-event/name"
    } else {
        "/x-command/name"
    }
}

/// Access rules name only known services and roles. The known services are those of
/// `[package.metadata.events.access] services`, or, when it lists none, the sources of the registry.
pub fn access(registry: &Registry) -> Vec<Diagnostic> {
    let policy = &registry.access;
    let declared = !policy.services.is_empty();
    let known = registry.services();
    let list = || known.iter().copied().collect::<Vec<_>>().join(", ");
    let mut problems = Vec::new();
    let manifest = |what: String| Diagnostic::file("Cargo.toml", format!("[package.metadata.events.access] {what}"));
    // Service names become broker user names, consumer names and subject tokens.
    let token = |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    for name in policy.services.iter().chain(&policy.operators).filter(|n| !token(n)) {
        problems.push(manifest(format!(
            "services/operators: `{name}` is not a service name: use ASCII letters, digits, `-` and `_` (it names broker users and subjects)"
        )));
    }
    for name in policy.default_consumers.iter().filter(|n| !known.contains(n.as_str()) && !is_role(policy, n)) {
        problems.push(manifest(format!("default-consumers: unknown service `{name}`; the services are {}", list())));
    }
    for (role, members) in &policy.roles {
        for name in members.iter().filter(|n| !known.contains(n.as_str())) {
            problems.push(manifest(format!("roles.{role}: unknown service `{name}`; the services are {}", list())));
        }
    }
    for file in registry.files() {
        let key = if file.document.get("x-event").is_some() { "x-event" } else { "x-command" };
        let at = |pointer: String, message: String| {
            Diagnostic::at(file.display.clone(), Some(&file.source), pointer, message)
        };
        if let Some(source) = file.contract.source.as_deref().filter(|s| declared && !known.contains(s)) {
            problems.push(at(
                format!("/{key}/source"),
                format!("unknown service `{source}`: add it to [package.metadata.events.access] services ({})", list()),
            ));
        }
        if let Some(publishers) = &file.contract.access.publishers {
            for (i, name) in publishers.iter().enumerate().filter(|(_, n)| !known.contains(n.as_str())) {
                problems.push(at(
                    format!("/{key}/publishers/{i}"),
                    format!("unknown service `{name}`; the services are {}", list()),
                ));
            }
            if let Some(source) = file.contract.source.as_deref().filter(|s| !publishers.iter().any(|p| p == s)) {
                problems.push(at(
                    format!("/{key}/publishers"),
                    format!("the event's source `{source}` must be among its publishers"),
                ));
            }
        }
        for (i, entry) in file.contract.access.consumers.iter().flatten().enumerate() {
            let problem = match entry.strip_prefix('@') {
                Some(role) if !policy.roles.contains_key(role) => Some(format!(
                    "unknown role `{role}`; the roles of [package.metadata.events.access.roles] are {}",
                    if policy.roles.is_empty() {
                        "none".to_string()
                    } else {
                        policy.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                )),
                Some(_) => None,
                None if !known.contains(entry.as_str()) => {
                    Some(format!("unknown service `{entry}`; the services are {} (a role is written `@name`)", list()))
                }
                None => None,
            };
            if let Some(message) = problem {
                problems.push(at(format!("/{key}/consumers/{i}"), message));
            }
        }
    }
    problems
}

fn is_role(policy: &crate::registry::AccessPolicy, name: &str) -> bool {
    name.strip_prefix('@').is_some_and(|r| policy.roles.contains_key(r))
}
