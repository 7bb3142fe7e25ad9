//! Every kind of bad registry input fails the build with a diagnostic that names the file, and the
//! JSON pointer and line where they apply; a good registry generates the same code every time.
//!
//! Each test builds a small registry in `<tempdir>/reg`, so that diagnostics read `reg/<id>/1.0.json`.

use std::fs;
use std::path::{Path, PathBuf};

use events_codegen::{Config, Diagnostic, Error, Generated};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/// A registry under construction: `<tempdir>/reg`.
struct Registry {
    tmp: TempDir,
}

impl Registry {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        fs::create_dir(tmp.path().join("reg")).expect("registry folder");
        Registry { tmp }
    }

    /// The registry folder.
    fn dir(&self) -> PathBuf {
        self.tmp.path().join("reg")
    }

    /// The temp dir that holds the registry folder.
    fn outside(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `text` at `rel` (relative to the registry folder), creating folders as needed.
    fn file(&self, rel: &str, text: &str) -> &Self {
        let path = self.dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    fn generate(&self) -> Result<Generated, Error> {
        Config::new().schema_dir(self.dir()).generate()
    }

    /// Generates, expecting failure; returns every diagnostic.
    fn fails(&self) -> Vec<Diagnostic> {
        match self.generate() {
            Ok(_) => panic!("the registry should have been refused, but it generated"),
            Err(e) => {
                assert!(!e.diagnostics().is_empty(), "an error with no diagnostics");
                // Display must render every problem too.
                let shown = e.to_string();
                for d in e.diagnostics() {
                    assert!(shown.contains(&d.message), "Display leaves out `{}`:\n{shown}", d.message);
                }
                e.diagnostics().to_vec()
            }
        }
    }
}

/// The one diagnostic about `file_suffix` whose message contains `fragment`.
fn find<'a>(ds: &'a [Diagnostic], file_suffix: &str, fragment: &str) -> &'a Diagnostic {
    ds.iter()
        .find(|d| d.file.ends_with(file_suffix) && d.message.contains(fragment))
        .unwrap_or_else(|| panic!("no diagnostic about `{file_suffix}` mentioning `{fragment}`; got:\n{}", show(ds)))
}

fn show(ds: &[Diagnostic]) -> String {
    ds.iter().map(|d| format!("  {d}   [{d:?}]\n")).collect()
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the text"));
    text[..at].matches('\n').count() + 1
}

fn assert_line(d: &Diagnostic, text: &str, needle: &str) {
    let (line, column) = d.position.unwrap_or_else(|| panic!("no position in {d:?}"));
    assert_eq!(line, line_of(text, needle), "wrong line in {d:?}");
    assert!(column >= 1, "columns are 1-based: {d:?}");
}

/// A valid schema file of an event called `name`, with `body` spliced in after `x-event`.
fn event(name: &str, body: &str) -> String {
    format!(
        r#"{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "x-event": {{ "name": "{name}", "type": "domain", "source": "TestService", "tags": ["test"] }},
  "type": "object",
  {body}
}}
"#
    )
}

const SIMPLE_BODY: &str = r#""properties": { "id": { "type": "string" } }"#;

// ---------------------------------------------------------------------------------------------
// 1. malformed JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_json_reports_serde_line_and_column() {
    let text = "{\n  \"x-event\": { \"name\": \"BrokenEvent\", \"type\": \"domain\",, \"source\": \"S\" },\n  \"type\": \"object\"\n}\n";
    let reg = Registry::new();
    reg.file("brokenSchema/1.0.json", text);
    let ds = reg.fails();
    let d = find(&ds, "reg/brokenSchema/1.0.json", "malformed JSON");
    let serde = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
    assert_eq!(d.position, Some((serde.line(), serde.column())), "{d:?}");
    assert_eq!(d.position.unwrap().0, 2, "the stray comma is on line 2: {d:?}");
    assert_eq!(d.pointer, None);
    assert_eq!(d.file, "reg/brokenSchema/1.0.json");
}

// ---------------------------------------------------------------------------------------------
// 2. wrong keyword value (meta-schema)
// ---------------------------------------------------------------------------------------------

#[test]
fn wrong_keyword_value_is_caught_by_the_meta_schema() {
    let text = event(
        "ThresholdEvent",
        r#""properties": {
    "level": { "type": "integer", "minimum": "abc" },
    "label": { "type": "strnig" }
  }"#,
    );
    let reg = Registry::new();
    reg.file("thresholdSchema/1.0.json", &text);
    let ds = reg.fails();

    let minimum = ds
        .iter()
        .find(|d| d.pointer.as_deref() == Some("/properties/level/minimum"))
        .unwrap_or_else(|| panic!("no diagnostic at /properties/level/minimum:\n{}", show(&ds)));
    assert!(minimum.file.ends_with("reg/thresholdSchema/1.0.json"), "{minimum:?}");
    assert!(minimum.message.contains("invalid schema"), "{minimum:?}");
    assert!(minimum.message.contains("abc"), "the message should quote the bad value: {minimum:?}");
    assert_line(minimum, &text, r#""minimum": "abc""#);

    let ty = ds
        .iter()
        .find(|d| d.pointer.as_deref() == Some("/properties/label/type"))
        .unwrap_or_else(|| panic!("no diagnostic at /properties/label/type:\n{}", show(&ds)));
    assert!(ty.file.ends_with("reg/thresholdSchema/1.0.json"), "{ty:?}");
    assert!(ty.message.contains("invalid schema"), "{ty:?}");
    assert_line(ty, &text, r#""strnig""#);
}

/// The same mistake in a shared file: reported once, against the shared file, at its pointer and
/// line; the schema that uses the definition gets no second diagnostic of its own (formerly the
/// runtime-validator check blamed the referrer too, at a pointer into the meta-schema).
#[test]
fn wrong_keyword_value_in_a_shared_file_names_only_that_file() {
    let shared = r#"{
  "$defs": {
    "Gauge": {
      "type": "object",
      "properties": { "level": { "type": "integer", "minimum": "abc" } }
    }
  }
}
"#;
    let user = event("GaugeEvent", r#""properties": { "gauge": { "$ref": "../_shared/gauges.json#/$defs/Gauge" } }"#);
    let reg = Registry::new();
    reg.file("_shared/gauges.json", shared);
    reg.file("gaugeSchema/1.0.json", &user);
    let ds = reg.fails();
    let d = find(&ds, "reg/_shared/gauges.json", "invalid schema");
    assert_eq!(d.pointer.as_deref(), Some("/$defs/Gauge/properties/level/minimum"), "{d:?}");
    assert_line(d, shared, r#""minimum": "abc""#);
    // Every pointer must exist in the file its diagnostic names.
    for d in &ds {
        let text = if d.file.ends_with("gauges.json") { shared } else { user.as_str() };
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        if let Some(p) = &d.pointer {
            assert!(doc.pointer(p).is_some(), "pointer `{p}` does not exist in {}:\n{}", d.file, show(&ds));
        }
    }
    assert_eq!(ds.len(), 1, "one mistake, one diagnostic:\n{}", show(&ds));
}

// ---------------------------------------------------------------------------------------------
// 3. $ref to a missing file
// ---------------------------------------------------------------------------------------------

#[test]
fn ref_to_a_missing_file() {
    let text = event(
        "LostEvent",
        r#""properties": {
    "address": { "$ref": "../_shared/nowhere.json#/$defs/Address" }
  }"#,
    );
    let reg = Registry::new();
    reg.file("lostSchema/1.0.json", &text);
    reg.file("_shared/other.json", r#"{ "$defs": { "Address": { "type": "string" } } }"#);
    let ds = reg.fails();
    let d = find(&ds, "reg/lostSchema/1.0.json", "missing file");
    assert_eq!(d.pointer.as_deref(), Some("/properties/address/$ref"), "{d:?}");
    assert!(d.message.contains("nowhere.json"), "{d:?}");
    assert_line(d, &text, "nowhere.json");
}

// ---------------------------------------------------------------------------------------------
// 4. $ref leaving the registry folder
// ---------------------------------------------------------------------------------------------

#[test]
fn ref_leaving_the_registry_folder() {
    let text = event(
        "EscapeEvent",
        r#""properties": {
    "secret": { "$ref": "../../outside.json" }
  }"#,
    );
    let reg = Registry::new();
    // The target really exists, next to the registry folder: it must still be refused.
    fs::write(reg.outside().join("outside.json"), r#"{ "type": "string" }"#).unwrap();
    reg.file("escapeSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/escapeSchema/1.0.json", "leaves the registry folder");
    assert_eq!(d.pointer.as_deref(), Some("/properties/secret/$ref"), "{d:?}");
    assert!(d.message.contains("../../outside.json"), "{d:?}");
    assert_line(d, &text, "outside.json");
    assert!(
        !ds.iter().any(|d| d.file.contains("outside.json")),
        "the outside file must not even be read:\n{}",
        show(&ds)
    );
}

// ---------------------------------------------------------------------------------------------
// 5. $ref to the network
// ---------------------------------------------------------------------------------------------

#[test]
fn ref_to_the_network_is_never_fetched() {
    let text = event(
        "RemoteEvent",
        r#""properties": {
    "thing": { "$ref": "https://example.org/x.json" }
  }"#,
    );
    let reg = Registry::new();
    reg.file("remoteSchema/1.0.json", &text);
    let started = std::time::Instant::now();
    let ds = reg.fails();
    let d = find(&ds, "reg/remoteSchema/1.0.json", "never fetched");
    assert_eq!(d.pointer.as_deref(), Some("/properties/thing/$ref"), "{d:?}");
    assert!(d.message.contains("https://example.org/x.json"), "{d:?}");
    assert_line(d, &text, "https://example.org/x.json");
    // Only the one diagnostic: nothing fetched, so nothing else (a resolver error, a timeout) to report.
    assert_eq!(ds.len(), 1, "{}", show(&ds));
    // A network round trip (or a DNS timeout) would not finish this fast on a shared machine.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

// ---------------------------------------------------------------------------------------------
// 6. duplicate event name in two subjects
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_event_name_in_two_subjects() {
    let first = event("OrderPlacedEvent", SIMPLE_BODY);
    let second = event("OrderPlacedEvent", SIMPLE_BODY);
    let reg = Registry::new();
    reg.file("aOrderSchema/1.0.json", &first);
    reg.file("bOrderSchema/1.0.json", &second);
    let ds = reg.fails();
    let d = find(&ds, "reg/bOrderSchema/1.0.json", "duplicate name");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/name"), "{d:?}");
    assert!(d.message.contains("OrderPlacedEvent"), "{d:?}");
    assert!(d.message.contains("reg/aOrderSchema/1.0.json"), "the message should name the other file: {d:?}");
    assert_line(d, &second, "OrderPlacedEvent");
}

// ---------------------------------------------------------------------------------------------
// 7. unknown x-event type
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_event_type() {
    let text = r#"{
  "x-event": {
    "name": "WeirdEvent",
    "type": "gossip",
    "source": "Rumours"
  },
  "type": "object"
}
"#;
    let reg = Registry::new();
    reg.file("weirdSchema/1.0.json", text);
    let ds = reg.fails();
    let d = find(&ds, "reg/weirdSchema/1.0.json", "unknown event type");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/type"), "{d:?}");
    assert!(d.message.contains("gossip"), "{d:?}");
    assert!(d.message.contains("domain"), "the message should list the accepted types: {d:?}");
    assert_line(d, text, r#""gossip""#);
}

// ---------------------------------------------------------------------------------------------
// 8. missing x-event
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_x_event() {
    let text = r#"{
  "type": "object",
  "properties": { "id": { "type": "string" } }
}
"#;
    let reg = Registry::new();
    reg.file("anonymousSchema/1.0.json", text);
    let ds = reg.fails();
    let d = find(&ds, "reg/anonymousSchema/1.0.json", "x-event");
    assert!(d.message.contains("missing"), "{d:?}");
    assert_eq!(d.pointer.as_deref(), Some(""), "the whole document is at fault: {d:?}");
    assert_eq!(d.position, Some((1, 1)), "{d:?}");
}

// ---------------------------------------------------------------------------------------------
// 9. bad version file name
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_version_file_name() {
    let reg = Registry::new();
    reg.file("versionedSchema/v1.json", &event("VersionedEvent", SIMPLE_BODY));
    let ds = reg.fails();
    let d = find(&ds, "reg/versionedSchema/v1.json", "MAJOR.MINOR");
    assert_eq!(d.pointer, None, "{d:?}");
    assert_eq!(d.position, None, "a problem with the name, not the text: {d:?}");
    assert!(d.message.contains("1.0.json"), "the message should show a valid name: {d:?}");
}

// ---------------------------------------------------------------------------------------------
// 10. definition cycle with no property in between
// ---------------------------------------------------------------------------------------------

const CYCLE_TEXT: &str = r##"{
  "x-event": { "name": "LoopEvent", "type": "domain", "source": "Loops" },
  "type": "object",
  "properties": { "a": { "$ref": "#/$defs/A" } },
  "$defs": {
    "A": { "allOf": [ { "$ref": "#/$defs/B" } ] },
    "B": { "allOf": [ { "$ref": "#/$defs/A" } ] }
  }
}
"##;

/// typify cannot type a value that contains itself (and overflows its stack trying): the payload
/// falls back to a validated JSON value, once, naming the file and both definitions, without
/// typify ever seeing the schema.
#[test]
fn definition_cycle_without_property_falls_back_to_a_validated_value() {
    let reg = Registry::new();
    reg.file("loopSchema/1.0.json", CYCLE_TEXT);
    let generated = reg.generate().unwrap_or_else(|e| panic!("{e}"));
    let fallbacks = generated.fallbacks();
    assert_eq!(fallbacks.len(), 1, "{fallbacks:#?}");
    let d = &fallbacks[0];
    assert!(d.file.ends_with("reg/loopSchema/1.0.json"), "{d:?}");
    assert!(d.message.contains("contains itself") && d.message.contains("A → B"), "{d:?}");
    let code = generated.render().unwrap();
    assert!(code.contains("pub struct LoopEventPayload(pub ::serde_json::Value);"), "{code}");
}

// ---------------------------------------------------------------------------------------------
// 11. $ref to a pointer missing from an existing shared file
// ---------------------------------------------------------------------------------------------

#[test]
fn ref_to_a_missing_pointer_in_a_shared_file() {
    let text = event(
        "MissingDefEvent",
        r#""properties": {
    "item": { "$ref": "../_shared/common.json#/$defs/Nope" }
  }"#,
    );
    let reg = Registry::new();
    reg.file("_shared/common.json", r#"{ "$defs": { "Item": { "type": "string" } } }"#);
    reg.file("missingDefSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/missingDefSchema/1.0.json", "points at nothing");
    assert_eq!(d.pointer.as_deref(), Some("/properties/item/$ref"), "{d:?}");
    assert!(d.message.contains("/$defs/Nope"), "{d:?}");
    assert!(d.message.contains("reg/_shared/common.json"), "the message should name the shared file: {d:?}");
    assert_line(d, &text, "Nope");
}

// ---------------------------------------------------------------------------------------------
// 12. JSON file at the registry top level
// ---------------------------------------------------------------------------------------------

#[test]
fn json_file_at_the_registry_top_level() {
    let reg = Registry::new();
    reg.file("okSchema/1.0.json", &event("OkEvent", SIMPLE_BODY));
    reg.file("stray.json", &event("StrayEvent", SIMPLE_BODY));
    let ds = reg.fails();
    let d = find(&ds, "reg/stray.json", "<schemaId>/<MAJOR.MINOR>.json");
    assert_eq!(d.pointer, None, "{d:?}");
    assert_eq!(d.position, None, "{d:?}");
    assert!(d.message.contains('_'), "the message should say where shared files go: {d:?}");
    assert_eq!(ds.len(), 1, "only the stray file is wrong:\n{}", show(&ds));
}

// ---------------------------------------------------------------------------------------------
// 13. x-event name not UpperCamelCase
// ---------------------------------------------------------------------------------------------

#[test]
fn event_name_not_upper_camel_case() {
    let text = event("order_shipped", SIMPLE_BODY);
    let reg = Registry::new();
    reg.file("shippedSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/shippedSchema/1.0.json", "UpperCamelCase");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/name"), "{d:?}");
    assert!(d.message.contains("order_shipped"), "{d:?}");
    assert_line(d, &text, "order_shipped");
}

// ---------------------------------------------------------------------------------------------
// 14. a schema typify cannot handle or that the generator refuses
// ---------------------------------------------------------------------------------------------

#[test]
fn schemas_typify_cannot_follow_fall_back_to_validated_values() {
    // A reference to the whole document: only the validator follows it, so the document is kept
    // as written and the payload is a validated JSON value; the fallback says why.
    let text = event(
        "SelfEvent",
        r##""properties": {
    "child": { "$ref": "#" }
  }"##,
    );
    let reg = Registry::new();
    reg.file("selfSchema/1.0.json", &text);
    let generated = reg.generate().unwrap_or_else(|e| panic!("{e}"));
    let d = &generated.fallbacks()[0];
    assert!(d.file.ends_with("reg/selfSchema/1.0.json"), "{d:?}");
    assert!(d.message.contains(r##"`$ref: "#"`"##), "{d:?}");

    // Shapes typify panics on or rejects: never a panic of the build; what typify cannot hold is
    // kept as a validated JSON value, and the rest stays typed.
    for (i, body) in TYPIFY_SHAPES.iter().enumerate() {
        let reg = Registry::new();
        let file = format!("shape{i}Schema/1.0.json");
        reg.file(&file, &event(&format!("Shape{i}Event"), body));
        let generated = reg.generate().unwrap_or_else(|e| panic!("shape {i}: {e}"));
        let code = generated.render().unwrap();
        assert!(code.contains(&format!("pub struct Shape{i}EventPayload {{")), "shape {i}: {code}");
    }
}

/// Schema bodies that pass the generator's own checks (meta-schema, references, cycles, runtime
/// validator) but that typify 0.8 panics on or rejects when given them as written.
const TYPIFY_SHAPES: &[&str] = &[
    // typify panics: "unhandled not schema".
    r#""properties": { "x": { "not": { "type": "string" } } }"#,
    // typify panics: "if/then/else schemas are not supported".
    r#""properties": { "x": { "if": { "type": "string" }, "then": { "minLength": 1 }, "else": { "type": "integer" } } }"#,
    // typify panics: "multiple implied types for an un-typed enum".
    r#""properties": { "x": { "enum": [1, "a", null, { "k": 1 }] } }"#,
    // typify returns an error: "unhandled array validation" (`contains`).
    r#""properties": { "x": { "type": "array", "contains": { "type": "string" } } }"#,
];

// ---------------------------------------------------------------------------------------------
// 15. several problems in several files, one error
// ---------------------------------------------------------------------------------------------

#[test]
fn several_problems_in_several_files_are_reported_together() {
    let reg = Registry::new();
    // Found while loading: the load pass reports every file.
    reg.file("aSchema/1.0.json", "{ \"x-event\": ");
    reg.file("bSchema/1.0.json", &event("not_camel", SIMPLE_BODY));
    reg.file("cSchema/v2.json", &event("CEvent", SIMPLE_BODY));
    let ds = reg.fails();
    assert!(ds.len() >= 3, "{}", show(&ds));
    find(&ds, "reg/aSchema/1.0.json", "malformed JSON");
    find(&ds, "reg/bSchema/1.0.json", "UpperCamelCase");
    find(&ds, "reg/cSchema/v2.json", "MAJOR.MINOR");

    // Found after loading: meta-schema, references and names, all in one error; a schema that
    // only needs the fallback payload is no problem.
    let reg = Registry::new();
    reg.file("aSchema/1.0.json", &event("AEvent", r#""properties": { "n": { "minimum": "abc" } }"#));
    reg.file("bSchema/1.0.json", &event("BEvent", r#""properties": { "r": { "$ref": "../_shared/none.json" } }"#));
    reg.file("cSchema/1.0.json", CYCLE_TEXT);
    reg.file("dSchema/1.0.json", &event("AEvent", SIMPLE_BODY));
    let ds = reg.fails();
    assert!(ds.len() >= 3, "{}", show(&ds));
    find(&ds, "reg/aSchema/1.0.json", "invalid schema");
    find(&ds, "reg/bSchema/1.0.json", "missing file");
    find(&ds, "reg/dSchema/1.0.json", "duplicate name");
    assert!(ds.iter().all(|d| !d.file.contains("cSchema")), "{}", show(&ds));
}

// ---------------------------------------------------------------------------------------------
// positive: a valid registry with a shared cross-file $ref
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_registry_with_shared_ref_generates_deterministically() {
    let reg = Registry::new();
    reg.file(
        "_shared/commerce.json",
        r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {
    "LineItem": {
      "type": "object",
      "additionalProperties": false,
      "required": ["sku", "quantity"],
      "properties": {
        "sku": { "type": "string", "minLength": 1 },
        "quantity": { "type": "integer", "minimum": 1 }
      }
    }
  }
}
"#,
    );
    reg.file(
        "cartCheckedOutSchema/1.0.json",
        &event(
            "CartCheckedOutEvent",
            r#""additionalProperties": false,
  "required": ["cartId", "lines"],
  "properties": {
    "cartId": { "type": "string" },
    "lines": { "type": "array", "items": { "$ref": "../_shared/commerce.json#/$defs/LineItem" } }
  }"#,
        ),
    );
    reg.file(
        "startCheckoutSchema/1.0.json",
        r#"{
  "x-command": { "name": "StartCheckoutCommand" },
  "type": "object",
  "required": ["cartId"],
  "properties": { "cartId": { "type": "string" } }
}
"#,
    );
    let first = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap_or_else(|e| panic!("{e}"));
    assert!(first.contains("pub struct CartCheckedOutEventPayload"), "{first}");
    assert!(first.contains("pub struct StartCheckoutCommandPayload"), "{first}");
    assert!(first.contains("pub struct LineItem"), "the shared definition becomes a type: {first}");
    assert!(first.contains("Vec<LineItem>"), "the payload uses the shared type: {first}");
    assert!(first.contains("pub mod cart_checked_out_schema"), "{first}");
    let second = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, second, "two runs over the same registry must give the same text");
}

// ---------------------------------------------------------------------------------------------
// 16. $ref fragment with non-ASCII text and stray percent signs
// ---------------------------------------------------------------------------------------------

#[test]
fn ref_fragment_with_non_ascii_and_percent_signs_points_at_nothing() {
    // `%a` followed by the first byte of `é`, a lone `%` at the end, and `%e9` (which decodes to a
    // byte that is not UTF-8): none of them may panic the percent-decoder or the line locator.
    for (i, fragment) in ["/$defs/%aé", "/$defs/é%", "/$defs/%e9x", "/$defs/%C3%A9%"].iter().enumerate() {
        let text = event(
            &format!("Odd{i}Event"),
            &format!(
                r##""properties": {{
    "odd": {{ "$ref": "#{fragment}" }}
  }},
  "$defs": {{ "Real": {{ "type": "string" }} }}"##
            ),
        );
        let reg = Registry::new();
        let file = format!("odd{i}Schema/1.0.json");
        reg.file(&file, &text);
        let ds = reg.fails();
        let d = find(&ds, &format!("reg/{file}"), "points at nothing");
        assert_eq!(d.pointer.as_deref(), Some("/properties/odd/$ref"), "{fragment}: {d:?}");
        assert!(d.message.contains(fragment), "the message should quote the reference as written: {d:?}");
        assert_line(d, &text, r#""$ref""#);
    }

    // The same in a reference to a shared file.
    let text = event("OddSharedEvent", r#""properties": { "odd": { "$ref": "../_shared/c.json#/$defs/%aé" } }"#);
    let reg = Registry::new();
    reg.file("_shared/c.json", r#"{ "$defs": { "Item": { "type": "string" } } }"#);
    reg.file("oddSharedSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/oddSharedSchema/1.0.json", "points at nothing");
    assert_eq!(d.pointer.as_deref(), Some("/properties/odd/$ref"), "{d:?}");
    assert!(d.message.contains("reg/_shared/c.json"), "{d:?}");
}

// ---------------------------------------------------------------------------------------------
// 17. schema ids that become module names the events crate keeps for itself
// ---------------------------------------------------------------------------------------------

#[test]
fn reserved_module_names_are_refused() {
    for id in ["runtime", "generated"] {
        let reg = Registry::new();
        reg.file(&format!("{id}/1.0.json"), &event("ReservedEvent", SIMPLE_BODY));
        reg.file("fineSchema/1.0.json", &event("FineEvent", SIMPLE_BODY));
        let ds = reg.fails();
        let d = find(&ds, &format!("reg/{id}/1.0.json"), "keeps for itself");
        assert!(d.message.contains(&format!("`{id}`")), "{d:?}");
        assert_eq!(ds.len(), 1, "only `{id}` is wrong:\n{}", show(&ds));
    }
}

// ---------------------------------------------------------------------------------------------
// 18. a nested title that takes the event's own name
// ---------------------------------------------------------------------------------------------

#[test]
fn nested_title_with_the_event_name_is_refused() {
    let text = event(
        "TEvent",
        r#""properties": {
    "inner": { "title": "TEvent", "type": "object", "properties": { "a": { "type": "string" } } }
  }"#,
    );
    let reg = Registry::new();
    reg.file("tSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/tSchema/1.0.json", "the name of the event itself");
    assert!(d.message.contains("`TEvent`"), "{d:?}");
}

// ---------------------------------------------------------------------------------------------
// 19. a local definition and a shared one that would get the same type name
// ---------------------------------------------------------------------------------------------

#[test]
fn local_and_shared_definitions_with_the_same_type_name_both_generate() {
    let reg = Registry::new();
    reg.file(
        "_shared/orders.json",
        r#"{
  "$defs": {
    "OrderItem": {
      "type": "object",
      "required": ["sku"],
      "properties": { "sku": { "type": "string" } }
    }
  }
}
"#,
    );
    reg.file(
        "basketSchema/1.0.json",
        &event(
            "BasketEvent",
            r##""required": ["mine", "theirs"],
  "properties": {
    "mine": { "$ref": "#/$defs/order-item" },
    "theirs": { "$ref": "../_shared/orders.json#/$defs/OrderItem" }
  },
  "$defs": {
    "order-item": {
      "type": "object",
      "required": ["quantity"],
      "properties": { "quantity": { "type": "integer" } }
    }
  }"##,
        ),
    );
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap_or_else(|e| panic!("{e}"));
    assert!(code.contains("pub struct OrderItem {"), "the local definition keeps its name:\n{code}");
    assert!(code.contains("pub struct OrderItem2 {"), "the shared one gets another:\n{code}");
    assert!(code.contains("pub mine: OrderItem,"), "{code}");
    assert!(code.contains("pub theirs: OrderItem2,"), "{code}");
}

// ---------------------------------------------------------------------------------------------
// 20. an event called `Self`
// ---------------------------------------------------------------------------------------------

#[test]
fn event_name_self_is_refused() {
    let text = event("Self", SIMPLE_BODY);
    let reg = Registry::new();
    reg.file("selfNameSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/selfNameSchema/1.0.json", "`Self`");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/name"), "{d:?}");
    assert!(d.message.contains("Rust identifier"), "{d:?}");
    assert_line(d, &text, r#""Self""#);
}

// ---------------------------------------------------------------------------------------------
// 21. a subject folder that is a link to a folder outside the registry
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn subject_folder_linked_outside_the_registry_is_refused() {
    let reg = Registry::new();
    // Outside the registry: a folder that looks like a subject, with a schema that would be
    // refused (a malformed file) if it were read at all.
    let elsewhere = reg.outside().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("1.0.json"), "{ \"x-event\": ").unwrap();
    fs::write(elsewhere.join("2.0.json"), event("SmuggledEvent", SIMPLE_BODY)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, reg.dir().join("linkedSchema")).unwrap();
    reg.file("homeSchema/1.0.json", &event("HomeEvent", SIMPLE_BODY));
    let ds = reg.fails();
    let d = find(&ds, "reg/linkedSchema", "outside the registry");
    assert_eq!(d.pointer, None, "{d:?}");
    assert_eq!(d.position, None, "{d:?}");
    assert_eq!(ds.len(), 1, "nothing inside the linked folder is read:\n{}", show(&ds));

    // Without the link, the rest of the registry generates, and nothing of the outside folder.
    fs::remove_file(reg.dir().join("linkedSchema")).unwrap();
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap_or_else(|e| panic!("{e}"));
    assert!(code.contains("HomeEventPayload"), "{code}");
    assert!(!code.contains("Smuggled") && !code.contains("linked_schema"), "{code}");
}

// ---------------------------------------------------------------------------------------------
// 22. references written as registry URIs
// ---------------------------------------------------------------------------------------------

#[test]
fn refs_written_as_registry_uris_resolve() {
    let reg = Registry::new();
    reg.file(
        "_shared/common.json",
        r#"{
  "$defs": {
    "Item": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" } } }
  }
}
"#,
    );
    reg.file(
        "otherSchema/1.0.json",
        &event(
            "OtherEvent",
            r#""properties": { "id": { "type": "string" } },
  "$defs": {
    "Item": { "type": "object", "required": ["weight"], "properties": { "weight": { "type": "number" } } }
  }"#,
        ),
    );
    reg.file(
        "userSchema/1.0.json",
        &event(
            "UserEvent",
            r#""required": ["shared", "foreign"],
  "properties": {
    "shared": { "$ref": "https://schema-registry.example.com/schemas/_shared/common#/$defs/Item" },
    "foreign": { "$ref": "https://schema-registry.example.com/schemas/otherSchema/1.0#/$defs/Item" }
  }"#,
        ),
    );
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap_or_else(|e| panic!("{e}"));
    assert!(code.contains("pub struct UserEventPayload"), "{code}");
    // Both definitions are copied in, under two names, with their own fields.
    assert!(code.contains("pub code: ::std::string::String") || code.contains("pub code: String"), "{code}");
    assert!(code.contains("pub weight: f64"), "{code}");
    assert!(code.contains("pub struct Item2 {"), "the second `Item` gets another name:\n{code}");
    // Nothing is fetched: the bundled schema holds no URI any more.
    let user = code.split("pub mod user_schema").nth(1).expect("the user module");
    assert!(!user.contains("schema-registry.example.com/schemas/_shared"), "{user}");
}

// ---------------------------------------------------------------------------------------------
// 23. a schema and a shared file of different drafts
// ---------------------------------------------------------------------------------------------

#[test]
fn ref_to_a_file_of_another_draft_is_refused() {
    let text = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "x-event": { "name": "OldDraftEvent", "type": "domain", "source": "Legacy" },
  "type": "object",
  "properties": {
    "item": { "$ref": "../_shared/modern.json#/$defs/Item" }
  }
}
"#;
    let reg = Registry::new();
    reg.file(
        "_shared/modern.json",
        r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": { "Item": { "type": "object", "properties": { "code": { "type": "string" } } } }
}
"#,
    );
    reg.file("oldDraftSchema/1.0.json", text);
    let ds = reg.fails();
    let d = find(&ds, "reg/oldDraftSchema/1.0.json", "same `$schema`");
    assert_eq!(d.pointer.as_deref(), Some("/properties/item/$ref"), "{d:?}");
    assert!(d.message.contains("draft-07") && d.message.contains("2020-12"), "both drafts are named: {d:?}");
    assert!(d.message.contains("reg/_shared/modern.json"), "{d:?}");
    assert_line(d, text, "modern.json");
}

// ---------------------------------------------------------------------------------------------
// 24. properties named like keywords that hold data
// ---------------------------------------------------------------------------------------------

#[test]
fn properties_named_default_and_enum_hold_schemas() {
    let reg = Registry::new();
    reg.file(
        "_shared/c.json",
        r#"{ "$defs": { "Item": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" } } } } }"#,
    );
    reg.file(
        "keywordPropsSchema/1.0.json",
        &event(
            "KeywordPropsEvent",
            r#""required": ["default", "enum"],
  "properties": {
    "default": { "$ref": "../_shared/c.json#/$defs/Item" },
    "enum": { "$ref": "../_shared/c.json#/$defs/Item" }
  }"#,
        ),
    );
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap_or_else(|e| panic!("{e}"));
    assert!(code.contains("pub struct Item {"), "{code}");
    // `default` is only a contextual keyword, a plain field name; `enum` is renamed.
    assert!(code.contains("pub default: Item,"), "{code}");
    assert!(code.contains(r#"rename = "enum""#) && code.contains("pub enum_: Item,"), "{code}");
    // The references were rewritten: the bundled schema names no file.
    assert!(!code.contains("c.json"), "{code}");
}

// ---------------------------------------------------------------------------------------------
// 25. an unknown key in x-event
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_key_in_x_event() {
    let text = r#"{
  "x-event": { "name": "TypoEvent", "type": "domain", "sorce": "Typos" },
  "type": "object"
}
"#;
    let reg = Registry::new();
    reg.file("typoSchema/1.0.json", text);
    let ds = reg.fails();
    let d = find(&ds, "reg/typoSchema/1.0.json", "unknown key `sorce`");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/sorce"), "{d:?}");
    assert_line(d, text, r#""sorce""#);
}

// ---------------------------------------------------------------------------------------------
// 26. an event-only key in x-command
// ---------------------------------------------------------------------------------------------

#[test]
fn event_type_in_x_command_is_refused() {
    let text = r#"{
  "x-command": {
    "name": "ShipOrderCommand",
    "type": "domain"
  },
  "type": "object"
}
"#;
    let reg = Registry::new();
    reg.file("shipOrderSchema/1.0.json", text);
    let ds = reg.fails();
    let d = find(&ds, "reg/shipOrderSchema/1.0.json", "unknown key `type`");
    assert_eq!(d.pointer.as_deref(), Some("/x-command/type"), "{d:?}");
    assert!(d.message.contains("x-command"), "{d:?}");
    assert_line(d, text, r#""domain""#);
}

// ---------------------------------------------------------------------------------------------
// 27. schema ids that are Rust keywords
// ---------------------------------------------------------------------------------------------

#[test]
fn schema_id_that_is_a_rust_keyword_is_refused() {
    // `Self` and `Crate` become the modules `self` and `crate`.
    for id in ["type", "fn", "Self", "Crate"] {
        let reg = Registry::new();
        reg.file(&format!("{id}/1.0.json"), &event("KeywordEvent", SIMPLE_BODY));
        let ds = reg.fails();
        let d = find(&ds, &format!("reg/{id}/1.0.json"), "rename it");
        assert!(d.message.contains(&format!("schema id `{id}`")), "{d:?}");
        assert_eq!(ds.len(), 1, "{}", show(&ds));
    }
}

// ---------------------------------------------------------------------------------------------
// 28. names found in the second review
// ---------------------------------------------------------------------------------------------

#[test]
fn definition_names_that_need_escaping_generate() {
    let reg = Registry::new();
    reg.file(
        "oddSchema/1.0.json",
        &event(
            "OddEvent",
            r##""properties": {
    "a": { "$ref": "#/$defs/a~1b" },
    "b": { "$ref": "#/$defs/my%20thing" },
    "c": { "$ref": "#/$defs/100%25" }
  },
  "$defs": {
    "a/b": { "type": "string" },
    "my thing": { "type": "integer" },
    "100%": { "type": "boolean" }
  }"##,
        ),
    );
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap();
    // typify's own case conversion names the types.
    for field in [
        "pub a: ::std::option::Option<Ab>",
        "pub b: ::std::option::Option<MyThing>",
        "pub c: ::std::option::Option<X100>",
    ] {
        assert!(code.contains(field), "missing `{field}` in:\n{code}");
    }
}

#[test]
fn a_definition_named_like_a_prelude_type_gets_a_name_of_its_own() {
    // `ok` would become the type `Ok` and shadow the prelude's: it is `OkDefinition` instead, and
    // so is a title that would do the same.
    let reg = Registry::new();
    reg.file(
        "okSchema/1.0.json",
        &event(
            "OkEvent",
            r##""properties": { "x": { "$ref": "#/$defs/ok" }, "y": { "title": "Option", "type": "object", "properties": { "z": { "type": "integer" } } } }, "$defs": { "ok": { "type": "string", "minLength": 1 } }"##,
        ),
    );
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap();
    assert!(code.contains("pub struct OkDefinition("), "{code}");
    assert!(!code.contains("pub struct Option"), "{code}");
}

#[test]
fn an_event_named_like_a_prelude_type_is_refused() {
    let reg = Registry::new();
    let text = event("String", SIMPLE_BODY);
    reg.file("stringSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/stringSchema/1.0.json", "prelude");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/name"));
    assert_line(d, &text, "\"name\"");
}

#[test]
fn draft4_exclusive_bounds_generate() {
    let reg = Registry::new();
    reg.file(
        "legacySchema/1.0.json",
        r#"{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "x-event": { "name": "LegacyEvent", "type": "domain", "source": "Old" },
  "type": "object",
  "properties": { "ratio": { "type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1, "exclusiveMaximum": false } }
}"#,
    );
    let code = reg.generate().unwrap_or_else(|e| panic!("{e}")).render().unwrap();
    assert!(code.contains("LegacyEventPayload"), "{code}");
    // Validation keeps draft 4's meaning: the bundled schema is the schema as written.
    assert!(code.contains(r#""exclusiveMinimum": true"#), "{code}");
}

#[test]
fn editor_files_in_a_subject_folder_are_ignored() {
    let reg = Registry::new();
    reg.file("pingSchema/1.0.json", &event("PingEvent", SIMPLE_BODY));
    // Emacs keeps a lock as a dangling link named `.#<file>`.
    std::os::unix::fs::symlink("user@host.1234:1700000000", reg.dir().join("pingSchema/.#1.0.json")).unwrap();
    reg.file("pingSchema/.DS_Store", "binary junk");
    assert!(reg.generate().is_ok());
}

#[test]
fn definitions_that_become_one_type_name_are_refused() {
    let reg = Registry::new();
    let text = event(
        "LineEvent",
        r##""properties": { "a": { "$ref": "#/$defs/line-item" }, "b": { "$ref": "#/$defs/lineItem" } },
  "$defs": { "line-item": { "type": "string" }, "lineItem": { "type": "integer" } }"##,
    );
    reg.file("lineSchema/1.0.json", &text);
    let ds = reg.fails();
    let d = find(&ds, "reg/lineSchema/1.0.json", "same Rust type name");
    assert_eq!(d.pointer.as_deref(), Some("/$defs/lineItem"));
}
