//! The compatibility rules, table-driven: each row is an old and a new schema, the rules that
//! break reading in each direction, and so the verdict under every mode.

use events_codegen::compat::{Direction, Mode, Rule};
use serde_json::{json, Value};

use Rule::*;

struct Case {
    name: &'static str,
    old: Value,
    new: Value,
    /// Why the new schema cannot read old data (empty: BACKWARD passes).
    backward: &'static [Rule],
    /// Why the old schema cannot read new data (empty: FORWARD passes).
    forward: &'static [Rule],
}

fn closed(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "required": required })
}

fn open(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn cases() -> Vec<Case> {
    vec![
        // Closed content model.
        Case {
            name: "closed: optional property added",
            old: closed(json!({ "id": string() }), &["id"]),
            new: closed(json!({ "id": string(), "note": string() }), &["id"]),
            backward: &[],
            forward: &[PropertyRemovedFromClosedModel],
        },
        Case {
            name: "closed: required property added without default",
            old: closed(json!({ "id": string() }), &["id"]),
            new: closed(json!({ "id": string(), "note": string() }), &["id", "note"]),
            backward: &[RequiredAdded],
            forward: &[PropertyRemovedFromClosedModel],
        },
        Case {
            name: "closed: required property added with a default",
            old: closed(json!({ "id": string() }), &["id"]),
            new: closed(json!({ "id": string(), "note": { "type": "string", "default": "-" } }), &["id", "note"]),
            backward: &[],
            forward: &[PropertyRemovedFromClosedModel],
        },
        Case {
            name: "closed: optional property removed",
            old: closed(json!({ "id": string(), "note": string() }), &["id"]),
            new: closed(json!({ "id": string() }), &["id"]),
            backward: &[PropertyRemovedFromClosedModel],
            forward: &[],
        },
        Case {
            name: "closed: required property removed",
            old: closed(json!({ "id": string(), "note": string() }), &["id", "note"]),
            new: closed(json!({ "id": string() }), &["id"]),
            backward: &[PropertyRemovedFromClosedModel],
            forward: &[RequiredAdded],
        },
        Case {
            name: "closed → open: content model widened",
            old: closed(json!({ "id": string() }), &["id"]),
            new: open(json!({ "id": string() }), &["id"]),
            backward: &[],
            forward: &[ContentModelNarrowed],
        },
        // Open content model.
        Case {
            name: "open: typed property added",
            old: open(json!({ "id": string() }), &["id"]),
            new: open(json!({ "id": string(), "note": string() }), &["id"]),
            backward: &[PropertyAddedToOpenModel],
            forward: &[],
        },
        Case {
            name: "open: property added with the empty schema",
            old: open(json!({ "id": string() }), &["id"]),
            new: open(json!({ "id": string(), "note": {} }), &["id"]),
            backward: &[],
            forward: &[],
        },
        Case {
            name: "open: property removed",
            old: open(json!({ "id": string(), "note": string() }), &["id"]),
            new: open(json!({ "id": string() }), &["id"]),
            backward: &[],
            forward: &[PropertyAddedToOpenModel],
        },
        // Partly open content models.
        Case {
            name: "additionalProperties schema covers the added property",
            old: json!({ "type": "object", "additionalProperties": string(), "properties": { "id": string() } }),
            new: json!({ "type": "object", "additionalProperties": string(), "properties": { "id": string(), "note": string() } }),
            backward: &[],
            forward: &[],
        },
        Case {
            name: "additionalProperties schema does not cover the added property",
            old: json!({ "type": "object", "additionalProperties": string(), "properties": { "id": string() } }),
            new: json!({ "type": "object", "additionalProperties": string(), "properties": { "id": string(), "n": { "type": "integer" } } }),
            backward: &[TypeChanged],
            forward: &[TypeChanged],
        },
        Case {
            name: "patternProperties covers the added property",
            old: json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^x-": string() }, "properties": { "id": string() } }),
            new: json!({ "type": "object", "additionalProperties": false, "patternProperties": { "^x-": string() }, "properties": { "id": string(), "x-trace": string() } }),
            backward: &[],
            forward: &[],
        },
        // Types.
        Case {
            name: "integer widened to number",
            old: json!({ "type": "integer" }),
            new: json!({ "type": "number" }),
            backward: &[],
            forward: &[TypeChanged],
        },
        Case {
            name: "string changed to integer",
            old: string(),
            new: json!({ "type": "integer" }),
            backward: &[TypeChanged],
            forward: &[TypeChanged],
        },
        Case {
            name: "null added to the types",
            old: string(),
            new: json!({ "type": ["string", "null"] }),
            backward: &[],
            forward: &[TypeChanged],
        },
        // Enums.
        Case {
            name: "enum value added",
            old: json!({ "enum": ["new", "paid"] }),
            new: json!({ "enum": ["new", "paid", "shipped"] }),
            backward: &[],
            forward: &[EnumValueRemoved],
        },
        Case {
            name: "enum value removed",
            old: json!({ "type": "string", "enum": ["new", "paid"] }),
            new: json!({ "type": "string", "enum": ["new"] }),
            backward: &[EnumValueRemoved],
            forward: &[],
        },
        Case {
            name: "const opened into an enum",
            old: json!({ "const": "v1" }),
            new: json!({ "enum": ["v1", "v2"] }),
            backward: &[],
            forward: &[EnumValueRemoved],
        },
        // Required.
        Case {
            name: "required made optional",
            old: closed(json!({ "id": string(), "note": string() }), &["id", "note"]),
            new: closed(json!({ "id": string(), "note": string() }), &["id"]),
            backward: &[],
            forward: &[OptionalMadeRequired],
        },
        Case {
            name: "optional made required",
            old: open(json!({ "id": string(), "note": string() }), &["id"]),
            new: open(json!({ "id": string(), "note": string() }), &["id", "note"]),
            backward: &[OptionalMadeRequired],
            forward: &[],
        },
        // Constraints.
        Case {
            name: "minLength loosened",
            old: json!({ "type": "string", "minLength": 3 }),
            new: json!({ "type": "string", "minLength": 1 }),
            backward: &[],
            forward: &[ConstraintTightened],
        },
        Case {
            name: "maxLength tightened",
            old: json!({ "type": "string", "maxLength": 10 }),
            new: json!({ "type": "string", "maxLength": 5 }),
            backward: &[ConstraintTightened],
            forward: &[],
        },
        Case {
            name: "minimum added",
            old: json!({ "type": "number" }),
            new: json!({ "type": "number", "minimum": 0 }),
            backward: &[ConstraintAdded],
            forward: &[],
        },
        Case {
            name: "maximum raised",
            old: json!({ "type": "integer", "maximum": 100 }),
            new: json!({ "type": "integer", "maximum": 200 }),
            backward: &[],
            forward: &[ConstraintTightened],
        },
        Case {
            name: "exclusiveMinimum relaxed to minimum",
            old: json!({ "type": "number", "exclusiveMinimum": 0 }),
            new: json!({ "type": "number", "minimum": 0 }),
            backward: &[],
            forward: &[ConstraintTightened],
        },
        Case {
            name: "draft-4 boolean exclusiveMinimum relaxed",
            old: json!({ "type": "number", "minimum": 0, "exclusiveMinimum": true }),
            new: json!({ "type": "number", "minimum": 0 }),
            backward: &[],
            forward: &[ConstraintTightened],
        },
        Case {
            name: "pattern changed",
            old: json!({ "type": "string", "pattern": "^[A-Z]+$" }),
            new: json!({ "type": "string", "pattern": "^[A-Z0-9]+$" }),
            backward: &[PatternChanged],
            forward: &[PatternChanged],
        },
        Case {
            name: "pattern removed",
            old: json!({ "type": "string", "pattern": "^[A-Z]+$" }),
            new: string(),
            backward: &[],
            forward: &[ConstraintAdded],
        },
        Case {
            name: "format added",
            old: string(),
            new: json!({ "type": "string", "format": "date-time" }),
            backward: &[ConstraintAdded],
            forward: &[],
        },
        Case {
            name: "minItems raised",
            old: json!({ "type": "array", "minItems": 1 }),
            new: json!({ "type": "array", "minItems": 2 }),
            backward: &[ConstraintTightened],
            forward: &[],
        },
        Case {
            name: "multipleOf made coarser",
            old: json!({ "type": "integer", "multipleOf": 2 }),
            new: json!({ "type": "integer", "multipleOf": 4 }),
            backward: &[ConstraintTightened],
            forward: &[],
        },
        Case {
            name: "uniqueItems added",
            old: json!({ "type": "array", "items": string() }),
            new: json!({ "type": "array", "items": string(), "uniqueItems": true }),
            backward: &[ConstraintAdded],
            forward: &[],
        },
        Case {
            name: "not added",
            old: string(),
            new: json!({ "type": "string", "not": { "const": "" } }),
            backward: &[ConstraintAdded],
            forward: &[],
        },
        Case {
            name: "keyword without a rule added",
            old: open(json!({ "a": string(), "b": string() }), &[]),
            new: json!({ "type": "object", "properties": { "a": string(), "b": string() }, "required": [], "dependentRequired": { "a": ["b"] } }),
            backward: &[KeywordChanged],
            forward: &[],
        },
        Case {
            name: "property schema closed to false",
            old: closed(json!({ "id": string(), "legacy": true }), &["id"]),
            new: closed(json!({ "id": string(), "legacy": false }), &["id"]),
            backward: &[SchemaClosed],
            forward: &[],
        },
        Case {
            name: "enum writer against a tightened length",
            old: json!({ "type": "string", "enum": ["a", "bb"] }),
            new: json!({ "type": "string", "maxLength": 1 }),
            backward: &[EnumValueRemoved],
            forward: &[ConstraintAdded],
        },
        Case {
            name: "oneOf whose branches overlap",
            old: json!({ "type": "integer" }),
            new: json!({ "oneOf": [{ "type": "number" }, { "type": "integer" }] }),
            backward: &[BranchNotAccepted],
            // It sends only numbers that are not integers: exactly one branch matches those.
            forward: &[TypeChanged],
        },
        // Annotations change freely.
        Case {
            name: "title, description, default, examples and $comment changed",
            old: json!({ "type": "string", "title": "A", "description": "a", "default": "x", "examples": ["x"], "$comment": "1" }),
            new: json!({ "type": "string", "title": "B", "description": "b", "default": "y", "examples": ["y"], "$comment": "2" }),
            backward: &[],
            forward: &[],
        },
        // Recursion into arrays, definitions and branches.
        Case {
            name: "array items gain a required property",
            old: closed(
                json!({ "lines": { "type": "array", "items": closed(json!({ "sku": string() }), &["sku"]) } }),
                &[],
            ),
            new: closed(
                json!({ "lines": { "type": "array", "items": closed(json!({ "sku": string(), "qty": { "type": "integer" } }), &["sku", "qty"]) } }),
                &[],
            ),
            backward: &[RequiredAdded],
            forward: &[PropertyRemovedFromClosedModel],
        },
        Case {
            name: "referenced definition changes a type",
            old: json!({ "type": "object", "properties": { "item": { "$ref": "#/definitions/Item" } }, "definitions": { "Item": closed(json!({ "qty": { "type": "integer" } }), &["qty"]) } }),
            new: json!({ "type": "object", "properties": { "item": { "$ref": "#/definitions/Item" } }, "definitions": { "Item": closed(json!({ "qty": string() }), &["qty"]) } }),
            backward: &[TypeChanged],
            forward: &[TypeChanged],
        },
        Case {
            name: "anyOf branch added",
            old: json!({ "anyOf": [string(), { "type": "integer" }] }),
            new: json!({ "anyOf": [string(), { "type": "integer" }, { "type": "boolean" }] }),
            backward: &[],
            forward: &[BranchNotAccepted],
        },
        Case {
            name: "oneOf branch removed",
            old: json!({ "oneOf": [string(), { "type": "integer" }] }),
            new: json!({ "oneOf": [string()] }),
            backward: &[BranchNotAccepted],
            forward: &[],
        },
        Case {
            name: "flat object rewritten as allOf over a referenced base",
            old: open(json!({ "id": string(), "note": string() }), &["id"]),
            new: json!({
                "allOf": [{ "$ref": "#/definitions/Base" }, { "properties": { "note": string() } }],
                "definitions": { "Base": { "type": "object", "properties": { "id": string() }, "required": ["id"] } }
            }),
            backward: &[],
            forward: &[],
        },
        Case {
            // A closed branch refuses the other branch's property: `note` can no longer be sent.
            name: "allOf whose closed branch refuses the other branch's property",
            old: open(json!({ "id": string(), "note": string() }), &["id"]),
            new: json!({
                "allOf": [{ "$ref": "#/definitions/Base" }, { "properties": { "note": string() } }],
                "definitions": { "Base": { "type": "object", "additionalProperties": false, "properties": { "id": string() }, "required": ["id"] } }
            }),
            backward: &[KeywordChanged],
            // Conservative: the new writer's closed branch is not merged, so the old reader cannot
            // tell what it sends (it sends less than the old writer did).
            forward: &[TypeChanged, RequiredAdded, PropertyAddedToOpenModel],
        },
    ]
}

fn rules(found: &[(Direction, events_codegen::compat::Finding)], direction: Direction) -> Vec<Rule> {
    let mut rules: Vec<Rule> = found.iter().filter(|(d, _)| *d == direction).map(|(_, f)| f.rule).collect();
    rules.dedup();
    rules
}

#[test]
fn every_case_has_its_verdict_under_every_mode() {
    let cases = cases();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for case in &cases {
        let full = Mode::Full.check(&case.old, &case.new);
        let (backward, forward) = (rules(&full, Direction::Backward), rules(&full, Direction::Forward));
        if backward != case.backward || forward != case.forward {
            failures.push(format!(
                "{}: backward {:?} (expected {:?}), forward {:?} (expected {:?})\n  {:#?}",
                case.name, backward, case.backward, forward, case.forward, full
            ));
            continue;
        }
        for mode in Mode::ALL {
            let expected =
                (!mode.backward() || case.backward.is_empty()) && (!mode.forward() || case.forward.is_empty());
            let passes = mode.check(&case.old, &case.new).is_empty();
            if passes != expected {
                failures.push(format!("{}: {mode} passes = {passes}, expected {expected}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn findings_point_at_the_changed_keyword() {
    let old = json!({ "type": "object", "properties": { "qty": { "type": "integer", "maximum": 10 } } });
    let new = json!({ "type": "object", "properties": { "qty": { "type": "integer", "maximum": 5 } } });
    let found = events_codegen::compat::reads(&new, &old);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].reader, "/properties/qty/maximum");
    assert_eq!(found[0].writer, "/properties/qty/maximum");
    assert!(found[0].message.contains("from 10 to 5"), "{}", found[0].message);
}

#[test]
fn recursive_definitions_compare_without_looping() {
    let tree = |leaf: &str| {
        json!({
            "$ref": "#/definitions/Node",
            "definitions": { "Node": { "type": "object", "properties": {
                "value": { "type": leaf }, "children": { "type": "array", "items": { "$ref": "#/definitions/Node" } }
            } } }
        })
    };
    assert!(events_codegen::compat::reads(&tree("number"), &tree("integer")).is_empty());
    let found = events_codegen::compat::reads(&tree("integer"), &tree("number"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].reader, "/definitions/Node/properties/value/type");
}

#[test]
fn mode_names_parse_and_unknown_ones_are_refused() {
    for mode in Mode::ALL {
        assert_eq!(mode.name().parse::<Mode>(), Ok(mode));
    }
    let err = "backward".parse::<Mode>().unwrap_err();
    assert!(err.contains("BACKWARD_TRANSITIVE"), "{err}");
}
