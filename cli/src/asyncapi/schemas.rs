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
//! Where each definition was written is the bundler's record ([`Bundle::origins`]); a file under a
//! vendored folder is named by the URI it stands for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use events_codegen::bundle::{Bundle, Origin, DATA_KEYWORDS, NAME_MAPS};
use events_codegen::ident::unescape;
use events_codegen::registry::SchemaFile;
use events_codegen::Inspection;
use serde_json::{Map, Value};

const BUNDLED: &str = "#/definitions/";

/// The document a definition was written in: a file of the registry by the path shown in
/// messages, or a vendored document by its URI. Files sort first, as collisions of keys are
/// settled in (document, pointer) order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Doc {
    File(PathBuf),
    Uri(String),
}

/// Where a definition was written: its document and its JSON pointer there.
type Place = (Doc, String);

/// Moves the definitions of every message's payload schema in `messages` (keyed as in `files`) to
/// the returned `components.schemas`, rewriting the references to them.
pub fn hoist(
    registry: &Inspection,
    messages: &mut Map<String, Value>,
    files: &[(String, &SchemaFile)],
) -> Map<String, Value> {
    // Per message: bundled name → place.
    let mut placed: Vec<BTreeMap<String, Place>> = Vec::new();
    // Per place: the first message that holds it, and its schema there.
    let mut definitions: BTreeMap<Place, (usize, Value)> = BTreeMap::new();
    for (i, (key, f)) in files.iter().enumerate() {
        let mut places = BTreeMap::new();
        if let (Some(bundle), Some(m)) = (registry.bundle(f), messages.get_mut(key)) {
            for (name, def) in take_definitions(registry, bundle, &mut m["payload"]["schema"]).into_iter().flatten() {
                let place = place(registry, &bundle.origins[&name]);
                definitions.entry(place.clone()).or_insert((i, def));
                places.insert(name, place);
            }
        }
        placed.push(places);
    }
    let keys = keys(registry, definitions.keys(), files);
    let key_of = |i: usize| -> BTreeMap<&str, &str> {
        placed[i].iter().map(|(name, place)| (name.as_str(), keys[place].as_str())).collect()
    };
    for (i, (key, _)) in files.iter().enumerate() {
        if let Some(m) = messages.get_mut(key) {
            rewrite(&mut m["payload"]["schema"], &key_of(i));
        }
    }
    let mut schemas = Map::new();
    for (place, (i, mut def)) in definitions {
        rewrite(&mut def, &key_of(i));
        schemas.insert(keys[&place].clone(), def);
    }
    schemas
}

/// The bundled definitions of one envelope schema, removed from it. None for a payload whose
/// references only a validator follows (anchors, embedded resources): it is kept as written.
fn take_definitions(registry: &Inspection, bundle: &Bundle, envelope: &mut Value) -> Option<Map<String, Value>> {
    let base_uri = &registry.registry().base_uri;
    if bundle.validator_only.is_some() || events_codegen::embedded::validator_only(&bundle.schema, base_uri).is_some() {
        return None;
    }
    // Every definition is keyed by its origin: one the bundler did not record leaves all in place.
    let mut names = bundle.schema.get("definitions").and_then(Value::as_object).into_iter().flat_map(|d| d.keys());
    if names.any(|n| !bundle.origins.contains_key(n)) {
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

/// The place of a bundled definition: its origin, with a vendored file named by its URI.
fn place(registry: &Inspection, origin: &Origin) -> Place {
    let doc = match registry.vendored_uri(&origin.display) {
        Some(uri) => Doc::Uri(uri.to_string()),
        None => Doc::File(PathBuf::from(&origin.display)),
    };
    (doc, origin.pointer.clone())
}

/// A key per place, as the module's documentation describes.
fn keys<'a>(
    registry: &Inspection,
    places: impl Iterator<Item = &'a Place>,
    files: &[(String, &SchemaFile)],
) -> BTreeMap<Place, String> {
    // Files are shown by their path from the registry folder's parent: the folder is dropped.
    let root = &registry.registry().root;
    let root = PathBuf::from(events_codegen::load::display_path(root, root));
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    // `places` comes sorted: collisions are settled the same way every run.
    for place in places {
        let (doc, pointer) = place;
        let mut parts = vec![match doc {
            Doc::File(path) => match files.iter().find(|(_, f)| Path::new(&f.display) == path) {
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
        out.insert(place.clone(), key);
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
                } else if !DATA_KEYWORDS.contains(&key.as_str()) {
                    rewrite(child, keys);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite(i, keys)),
        _ => {}
    }
}
