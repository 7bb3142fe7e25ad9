//! The comparison itself: can a reader holding one schema accept every value a writer's schema
//! allows? Both schemas are bundled, so every `$ref` points into the document's own `definitions`.
//!
//! The answer is conservative: a change the rules cannot prove safe is reported, never waved through.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::keywords::{is_annotation, only_annotations};

use super::schema::*;

/// Which rule a change breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The reader no longer accepts a type the writer may send (integer → number is the one widening).
    TypeChanged,
    /// The writer may send an enum or const value the reader does not list.
    EnumValueRemoved,
    /// The reader requires a property the writer may omit, and has no default for it.
    RequiredAdded,
    /// A property the writer may omit became required.
    OptionalMadeRequired,
    /// An open writer may send the new property with any value; the reader constrains it.
    PropertyAddedToOpenModel,
    /// A closed reader refuses a property the writer sends.
    PropertyRemovedFromClosedModel,
    /// The reader allows fewer unknown properties than the writer.
    ContentModelNarrowed,
    /// The reader adds a constraint the writer did not have.
    ConstraintAdded,
    /// The reader tightens a constraint of the writer.
    ConstraintTightened,
    /// A pattern or format changed; equivalence cannot be shown.
    PatternChanged,
    /// A writer's `anyOf`/`oneOf` branch no reader branch accepts.
    BranchNotAccepted,
    /// The schema can no longer be read at all (`false`).
    SchemaClosed,
    /// A keyword with no rule of its own changed; the change cannot be shown safe.
    KeywordChanged,
    /// The contract itself (name, kind or event type) changed between versions.
    ContractChanged,
}

impl Rule {
    /// The rule's short name, as printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::TypeChanged => "type-changed",
            Rule::EnumValueRemoved => "enum-value-removed",
            Rule::RequiredAdded => "required-property-added",
            Rule::OptionalMadeRequired => "optional-made-required",
            Rule::PropertyAddedToOpenModel => "property-added-to-open-model",
            Rule::PropertyRemovedFromClosedModel => "property-removed-from-closed-model",
            Rule::ContentModelNarrowed => "content-model-narrowed",
            Rule::ConstraintAdded => "constraint-added",
            Rule::ConstraintTightened => "constraint-tightened",
            Rule::PatternChanged => "pattern-changed",
            Rule::BranchNotAccepted => "branch-not-accepted",
            Rule::SchemaClosed => "schema-closed",
            Rule::KeywordChanged => "keyword-changed",
            Rule::ContractChanged => "contract-changed",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One change that breaks reading, located in both documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// Where in the reader's (bundled) schema.
    pub reader: String,
    /// Where in the writer's (bundled) schema.
    pub writer: String,
    /// What changed, in words.
    pub message: String,
}

/// Every reason a reader with schema `reader` may refuse a value valid under `writer`.
pub fn reads(reader: &Value, writer: &Value) -> Vec<Finding> {
    let mut walk = Walk { reader_root: reader, writer_root: writer, seen: HashSet::new(), found: Vec::new() };
    walk.compare(reader, "", writer, "");
    walk.found
}

struct Walk<'a> {
    reader_root: &'a Value,
    writer_root: &'a Value,
    /// Pairs already compared: recursive definitions end here.
    seen: HashSet<(String, String)>,
    found: Vec<Finding>,
}

impl<'a> Walk<'a> {
    fn push(&mut self, rule: Rule, reader: &str, writer: &str, message: String) {
        self.found.push(Finding { rule, reader: reader.to_string(), writer: writer.to_string(), message });
    }

    /// Follows `$ref` chains and merges `allOf` branches into one keyword map, so that the
    /// common `allOf: [{$ref: Base}, {…}]` extension compares keyword by keyword.
    fn flatten(&self, root: &'a Value, schema: &Value, pointer: &str) -> (Option<Map<String, Value>>, String) {
        let mut pointer = pointer.to_string();
        let mut map = match keywords(schema) {
            Some(m) => m,
            None => return (None, pointer),
        };
        for _ in 0..64 {
            let Some(Value::String(target)) = map.get("$ref").cloned() else { break };
            let Some(target_ptr) = target.strip_prefix('#') else { break };
            let Some(resolved) = root.pointer(target_ptr) else { break };
            let Some(mut inner) = keywords(resolved) else { return (None, target_ptr.to_string()) };
            map.remove("$ref");
            let only_ref = map.keys().all(|k| is_annotation(k));
            if only_ref {
                pointer = target_ptr.to_string();
            }
            // Before 2019-09 the validator ignores what stands beside `$ref`; since, both apply:
            // a keyword both state differently is kept as an `allOf` (compared whole, not merged).
            if !legacy_ref(root) {
                let mut beside = Vec::new();
                for (k, v) in std::mem::take(&mut map) {
                    match inner.get(&k) {
                        Some(existing) if *existing != v && !is_annotation(&k) => {
                            beside.push(Value::Object(Map::from_iter([(k, v)])))
                        }
                        _ => {
                            inner.insert(k, v);
                        }
                    }
                }
                if !beside.is_empty() {
                    let mut all = inner.remove("allOf").and_then(|a| a.as_array().cloned()).unwrap_or_default();
                    all.extend(beside);
                    inner.insert("allOf".into(), Value::Array(all));
                }
            }
            map = inner;
        }
        if let Some(Value::Array(branches)) = map.remove("allOf") {
            let mut rest = Vec::new();
            for (i, branch) in branches.iter().enumerate() {
                let (flat, _) = self.flatten(root, branch, &format!("{pointer}/allOf/{i}"));
                let Some(flat) = flat else { return (None, pointer) };
                // A branch that limits the properties of its own (`additionalProperties`,
                // `patternProperties`, …) would limit the others' too: it is not merged.
                let limits = ["additionalProperties", "patternProperties", "unevaluatedProperties", "propertyNames"]
                    .iter()
                    .any(|k| flat.get(*k).is_some_and(|v| *v != Value::Bool(true)));
                if limits && branches.len() > 1 {
                    rest.push(Value::Object(flat));
                    continue;
                }
                for (k, v) in flat {
                    match (k.as_str(), map.get_mut(&k)) {
                        (_, None) => {
                            map.insert(k, v);
                        }
                        ("properties", Some(Value::Object(props))) => {
                            if let Value::Object(more) = v {
                                for (name, s) in more {
                                    match props.get(&name) {
                                        Some(existing) if *existing != s => {
                                            let both = Value::Array(vec![existing.clone(), s]);
                                            props.insert(name, serde_json::json!({ "allOf": both }));
                                        }
                                        _ => {
                                            props.insert(name, s);
                                        }
                                    }
                                }
                            }
                        }
                        ("required", Some(Value::Array(names))) => {
                            if let Value::Array(more) = v {
                                for n in more {
                                    if !names.contains(&n) {
                                        names.push(n);
                                    }
                                }
                            }
                        }
                        (_, Some(existing)) if *existing == v => {}
                        _ => rest.push(v),
                    }
                }
                if !rest.is_empty() {
                    // Two branches state the same keyword differently: keep the conflict visible.
                    map.insert("allOf".into(), Value::Array(std::mem::take(&mut rest)));
                }
            }
        }
        (Some(map), pointer)
    }

    fn compare(&mut self, reader: &Value, rp: &str, writer: &Value, wp: &str) {
        // The same schema reads what it writes (unless a `$ref` leads to definitions that differ).
        let same_definitions = self.reader_root.get("definitions") == self.writer_root.get("definitions");
        if reader == writer && (same_definitions || !has_ref(reader)) {
            return;
        }
        let (r, rp) = self.flatten(self.reader_root, reader, rp);
        let (w, wp) = self.flatten(self.writer_root, writer, wp);
        let Some(w) = w else { return }; // the writer sends nothing
        let Some(r) = r else {
            self.push(Rule::SchemaClosed, &rp, &wp, "the reader's schema is `false`: it accepts nothing".into());
            return;
        };
        if !self.seen.insert((rp.clone(), wp.clone())) {
            return;
        }
        if only_annotations(&r) {
            return;
        }
        // A writer with branches may send what any branch allows: each is compared on its own,
        // together with the keywords around the branches.
        if let Some((key, branches)) = of(&w) {
            for (i, branch) in branches.iter().enumerate() {
                let mut merged = without_branches(&w);
                match branch {
                    Value::Object(b) => merged.extend(b.clone()),
                    Value::Bool(false) => continue,
                    _ => {}
                }
                self.compare(&Value::Object(r.clone()), &rp, &Value::Object(merged), &format!("{wp}/{key}/{i}"));
            }
            return;
        }
        // A writer that lists its values: each is validated against the reader's schema.
        let finite = match (w.get("enum"), w.get("const")) {
            (_, Some(c)) => Some(vec![c.clone()]),
            (Some(Value::Array(values)), None) => Some(values.clone()),
            _ => None,
        };
        if let Some(values) = finite {
            let key = if r.contains_key("const") {
                "const"
            } else if r.contains_key("enum") {
                "enum"
            } else {
                "type"
            };
            for v in values.iter().filter(|v| !validates(self.reader_root, reader, v)) {
                let at = format!("{rp}/{key}");
                self.push(
                    Rule::EnumValueRemoved,
                    &at,
                    &wp,
                    format!("the writer may send {v}, which the reader refuses"),
                );
            }
            return;
        }
        self.types(&r, &rp, &w, &wp);
        self.values(&r, &rp, &wp);
        self.bounds(&r, &rp, &w, &wp);
        self.objects(&r, &rp, &w, &wp);
        self.arrays(&r, &rp, &w, &wp);
        self.branches(&r, &rp, &w, &wp);
        self.not(&r, &rp, &w, &wp);
        for (k, v) in &r {
            let known = HANDLED.contains(&k.as_str()) || is_annotation(k);
            if !known && w.get(k) != Some(v) {
                let at = format!("{rp}/{}", esc(k));
                let message = if w.contains_key(k) {
                    format!("`{k}` changed; no rule shows the change safe")
                } else {
                    format!("`{k}` added; it may refuse values the writer allows")
                };
                self.push(Rule::KeywordChanged, &at, &wp, message);
            }
        }
    }

    fn types(&mut self, r: &Map<String, Value>, rp: &str, w: &Map<String, Value>, wp: &str) {
        let Some(reader_types) = type_set(r) else { return };
        let accepts = |t: &str| reader_types.iter().any(|r| r == t || (r == "number" && t == "integer"));
        match type_set(w) {
            None => self.push(
                Rule::TypeChanged,
                &format!("{rp}/type"),
                wp,
                format!("the writer accepts any type, the reader only {}", reader_types.join(", ")),
            ),
            Some(writer_types) => {
                for t in writer_types.iter().filter(|t| !accepts(t)) {
                    self.push(
                        Rule::TypeChanged,
                        &format!("{rp}/type"),
                        &format!("{wp}/type"),
                        format!("type `{t}` is no longer accepted (reader: {})", reader_types.join(", ")),
                    );
                }
            }
        }
    }

    /// A reader that lists its values, against a writer that does not (a listing writer is
    /// validated value by value in `compare`).
    fn values(&mut self, r: &Map<String, Value>, rp: &str, wp: &str) {
        let key = if r.contains_key("const") {
            "const"
        } else if r.contains_key("enum") {
            "enum"
        } else {
            return;
        };
        let at = format!("{rp}/{key}");
        self.push(Rule::ConstraintAdded, &at, wp, format!("`{key}` added: the writer's values are not limited"));
    }

    fn bounds(&mut self, r: &Map<String, Value>, rp: &str, w: &Map<String, Value>, wp: &str) {
        // Numeric bounds, with draft 4's boolean exclusives folded in.
        for lower in [true, false] {
            let (rb, wb) = (bound(r, lower), bound(w, lower));
            let Some((rv, r_excl, r_key)) = rb else { continue };
            let at = format!("{rp}/{r_key}");
            match wb {
                None => self.push(Rule::ConstraintAdded, &at, wp, format!("`{r_key}` added")),
                Some((wv, w_excl, w_key)) => {
                    let tighter = if lower {
                        rv > wv || (rv == wv && r_excl && !w_excl)
                    } else {
                        rv < wv || (rv == wv && r_excl && !w_excl)
                    };
                    if tighter {
                        self.push(
                            Rule::ConstraintTightened,
                            &at,
                            &format!("{wp}/{w_key}"),
                            format!("`{r_key}` tightened from {wv} to {rv}"),
                        );
                    }
                }
            }
        }
        // Bounds where the reader may only go lower (min*) or higher (max*).
        const MINS: [&str; 4] = ["minLength", "minItems", "minProperties", "minContains"];
        const MAXES: [&str; 4] = ["maxLength", "maxItems", "maxProperties", "maxContains"];
        for key in MINS.iter().chain(MAXES.iter()) {
            let Some(rv) = r.get(*key).and_then(Value::as_f64) else { continue };
            let at = format!("{rp}/{key}");
            match w.get(*key).and_then(Value::as_f64) {
                None if MINS.contains(key) && rv <= 0.0 => {}
                None => self.push(Rule::ConstraintAdded, &at, wp, format!("`{key}` added")),
                Some(wv) if (MINS.contains(key) && rv > wv) || (MAXES.contains(key) && rv < wv) => self.push(
                    Rule::ConstraintTightened,
                    &at,
                    &format!("{wp}/{key}"),
                    format!("`{key}` tightened from {wv} to {rv}"),
                ),
                Some(_) => {}
            }
        }
        if let Some(rv) = r.get("multipleOf").and_then(Value::as_f64) {
            let at = format!("{rp}/multipleOf");
            match w.get("multipleOf").and_then(Value::as_f64) {
                None => self.push(Rule::ConstraintAdded, &at, wp, "`multipleOf` added".into()),
                Some(wv) => {
                    let ratio = wv / rv;
                    if (ratio - ratio.round()).abs() > 1e-9 {
                        self.push(
                            Rule::ConstraintTightened,
                            &at,
                            &format!("{wp}/multipleOf"),
                            format!("multiples of {wv} are not all multiples of {rv}"),
                        );
                    }
                }
            }
        }
        for key in ["pattern", "format"] {
            let Some(rv) = r.get(key) else { continue };
            let at = format!("{rp}/{key}");
            match w.get(key) {
                None => self.push(Rule::ConstraintAdded, &at, wp, format!("`{key}` {rv} added")),
                Some(wv) if wv != rv => self.push(
                    Rule::PatternChanged,
                    &at,
                    &format!("{wp}/{key}"),
                    format!("`{key}` changed from {wv} to {rv}"),
                ),
                Some(_) => {}
            }
        }
        if r.get("uniqueItems") == Some(&Value::Bool(true)) && w.get("uniqueItems") != Some(&Value::Bool(true)) {
            self.push(Rule::ConstraintAdded, &format!("{rp}/uniqueItems"), wp, "`uniqueItems` added".into());
        }
    }

    fn objects(&mut self, r: &Map<String, Value>, rp: &str, w: &Map<String, Value>, wp: &str) {
        let empty = Map::new();
        let r_props = r.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let w_props = w.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let w_required = string_set(w.get("required"));
        for name in string_set(r.get("required")) {
            if w_required.contains(&name) {
                continue;
            }
            let at = format!("{rp}/required");
            if w_props.contains_key(&name) {
                self.push(
                    Rule::OptionalMadeRequired,
                    &at,
                    wp,
                    format!("`{name}` is now required; the writer may omit it"),
                );
            } else if !r_props.get(&name).is_some_and(|s| {
                // A default fills what the writer never sent, provided it meets its own schema.
                s.get("default").is_some_and(|d| validates(self.reader_root, s, d))
            }) {
                self.push(
                    Rule::RequiredAdded,
                    &at,
                    wp,
                    format!("`{name}` is required and has no default; the writer never sends it"),
                );
            }
        }
        for (name, rs) in r_props {
            let r_at = format!("{rp}/properties/{}", esc(name));
            match w_props.get(name) {
                Some(ws) => self.compare(rs, &r_at, ws, &format!("{wp}/properties/{}", esc(name))),
                None => {
                    match extra_for(w, wp, name) {
                        None => {} // the writer never sends it
                        Some((s, _)) if accepts_all(&s) => {
                            if !accepts_all(rs) {
                                self.push(
                                Rule::PropertyAddedToOpenModel,
                                &r_at,
                                wp,
                                format!("`{name}` added, but the writer's open content model may send it with any value"),
                            );
                            }
                        }
                        Some((s, s_at)) => self.compare(rs, &r_at, &s, &s_at),
                    }
                }
            }
        }
        for (name, ws) in w_props {
            if r_props.contains_key(name) {
                continue;
            }
            let w_at = format!("{wp}/properties/{}", esc(name));
            // Every pattern of the reader that matches the name applies; failing those, what it
            // allows beyond its properties.
            let patterns = matching_patterns(r, rp, name);
            if !patterns.is_empty() {
                for (s, s_at) in patterns {
                    self.compare(&s, &s_at, ws, &w_at);
                }
                continue;
            }
            match additional(r, rp) {
                None => self.push(
                    Rule::PropertyRemovedFromClosedModel,
                    &closing_keyword(r, rp),
                    &w_at,
                    format!("`{name}` removed, and the reader's closed content model refuses it"),
                ),
                Some((s, s_at)) => self.compare(&s, &s_at, ws, &w_at),
            }
        }
        // Names neither lists: what the writer lets through, the reader must let through.
        let writer_rest = additional(w, wp);
        let reader_rest = additional(r, rp);
        if let Some((ws, w_at)) = writer_rest {
            match reader_rest {
                None => self.push(
                    Rule::ContentModelNarrowed,
                    &format!("{rp}/additionalProperties"),
                    &w_at,
                    "the reader closed its content model; the writer may send other properties".into(),
                ),
                Some((rs, r_at)) => self.compare(&rs, &r_at, &ws, &w_at),
            }
        }
        let r_patterns = r.get("patternProperties").and_then(Value::as_object).unwrap_or(&empty);
        let w_patterns = w.get("patternProperties").and_then(Value::as_object).unwrap_or(&empty);
        for (pattern, rs) in r_patterns {
            let r_at = format!("{rp}/patternProperties/{}", esc(pattern));
            if let Some(ws) = w_patterns.get(pattern) {
                self.compare(rs, &r_at, ws, &format!("{wp}/patternProperties/{}", esc(pattern)));
                continue;
            }
            // Names the writer lists that the new pattern now governs (listed by the reader too or
            // not: a pattern applies beside `properties`).
            for (name, ws) in w_props.iter().filter(|(n, _)| matches(pattern, n)) {
                self.compare(rs, &r_at, ws, &format!("{wp}/properties/{}", esc(name)));
            }
            if let Some((ws, w_at)) = additional(w, wp) {
                self.compare(rs, &r_at, &ws, &w_at);
            }
        }
        for (pattern, ws) in w_patterns.iter().filter(|(p, _)| !r_patterns.contains_key(*p)) {
            let w_at = format!("{wp}/patternProperties/{}", esc(pattern));
            match additional(r, rp) {
                None => self.push(
                    Rule::ContentModelNarrowed,
                    &format!("{rp}/additionalProperties"),
                    &w_at,
                    format!("properties matching `{pattern}` are no longer accepted"),
                ),
                Some((rs, r_at)) => self.compare(&rs, &r_at, ws, &w_at),
            }
        }
    }

    fn arrays(&mut self, r: &Map<String, Value>, rp: &str, w: &Map<String, Value>, wp: &str) {
        let tuple = |m: &Map<String, Value>| match (m.get("prefixItems"), m.get("items")) {
            (Some(Value::Array(t)), _) => Some(("prefixItems", t.clone())),
            (None, Some(Value::Array(t))) => Some(("items", t.clone())),
            _ => None,
        };
        // The schema for items after the tuple (or for all items when there is no tuple).
        let rest = |m: &Map<String, Value>, p: &str| -> (Value, String) {
            match (m.get("prefixItems"), m.get("items"), m.get("additionalItems")) {
                (Some(_), Some(s), _) => (s.clone(), format!("{p}/items")),
                (None, Some(Value::Array(_)), Some(s)) => (s.clone(), format!("{p}/additionalItems")),
                (None, Some(Value::Array(_)), None) | (Some(_), None, _) => (Value::Bool(true), p.to_string()),
                (None, Some(s), _) => (s.clone(), format!("{p}/items")),
                (None, None, _) => (Value::Bool(true), p.to_string()),
            }
        };
        let (r_tuple, w_tuple) = (tuple(r), tuple(w));
        let ((r_rest, r_rest_at), (w_rest, w_rest_at)) = (rest(r, rp), rest(w, wp));
        let positions = r_tuple.as_ref().map_or(0, |t| t.1.len()).max(w_tuple.as_ref().map_or(0, |t| t.1.len()));
        for i in 0..positions {
            let pick = |t: &Option<(&str, Vec<Value>)>, p: &str, rest: &Value, rest_at: &str| match t {
                Some((key, items)) if i < items.len() => (items[i].clone(), format!("{p}/{key}/{i}")),
                _ => (rest.clone(), rest_at.to_string()),
            };
            let (rs, r_at) = pick(&r_tuple, rp, &r_rest, &r_rest_at);
            let (ws, w_at) = pick(&w_tuple, wp, &w_rest, &w_rest_at);
            self.compare(&rs, &r_at, &ws, &w_at);
        }
        if !accepts_all(&r_rest) || !accepts_all(&w_rest) {
            self.compare(&r_rest, &r_rest_at, &w_rest, &w_rest_at);
        }
    }

    /// Whether some branch of the reader's `anyOf`/`oneOf` accepts everything the writer allows.
    fn branches(&mut self, r: &Map<String, Value>, rp: &str, w: &Map<String, Value>, wp: &str) {
        let Some((key, reader_branches)) = of(r) else { return };
        let writer = Value::Object(w.clone());
        let accepted = reader_branches.iter().enumerate().any(|(j, rb)| {
            let mut trial = Walk {
                reader_root: self.reader_root,
                writer_root: self.writer_root,
                seen: self.seen.clone(),
                found: Vec::new(),
            };
            trial.compare(rb, &format!("{rp}/{key}/{j}"), &writer, wp);
            trial.found.is_empty()
        });
        if !accepted {
            self.push(
                Rule::BranchNotAccepted,
                &format!("{rp}/{key}"),
                wp,
                format!("no branch of the reader's `{key}` accepts everything the writer allows"),
            );
        } else if key == "oneOf" && !self.exclusive(&reader_branches) {
            // `oneOf` refuses a value two branches accept: shown safe only for branches of
            // distinct types.
            self.push(
                Rule::BranchNotAccepted,
                &format!("{rp}/oneOf"),
                wp,
                "the reader's `oneOf` branches may overlap, so a value the writer sends could match several".into(),
            );
        }
    }

    /// Whether no value can match two of these branches: each declares types, and no type is shared
    /// (an integer is also a number).
    fn exclusive(&self, branches: &[Value]) -> bool {
        let mut seen: Vec<String> = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            let (flat, _) = self.flatten(self.reader_root, b, &format!("/{i}"));
            let Some(types) = flat.as_ref().and_then(type_set) else { return false };
            for t in types {
                let clash =
                    |o: &String| *o == t || (o == "number" && t == "integer") || (o == "integer" && t == "number");
                if seen.iter().any(clash) {
                    return false;
                }
                seen.push(t);
            }
        }
        true
    }

    fn not(&mut self, r: &Map<String, Value>, rp: &str, w: &Map<String, Value>, wp: &str) {
        let Some(r_not) = r.get("not") else { return };
        let at = format!("{rp}/not");
        match w.get("not") {
            // The writer already excludes a superset of what the reader excludes.
            Some(w_not) => {
                let mut trial = Walk {
                    reader_root: self.writer_root,
                    writer_root: self.reader_root,
                    seen: HashSet::new(),
                    found: Vec::new(),
                };
                trial.compare(w_not, &format!("{wp}/not"), r_not, &at);
                if !trial.found.is_empty() {
                    self.push(
                        Rule::ConstraintTightened,
                        &at,
                        &format!("{wp}/not"),
                        "`not` excludes more values".into(),
                    );
                }
            }
            None => self.push(Rule::ConstraintAdded, &at, wp, "`not` added".into()),
        }
    }
}

/// The keyword that closes a content model, to point at when it refuses a property.
fn closing_keyword(m: &Map<String, Value>, p: &str) -> String {
    match ["additionalProperties", "unevaluatedProperties"].into_iter().find(|k| m.contains_key(*k)) {
        Some(k) => format!("{p}/{k}"),
        None => p.to_string(),
    }
}
