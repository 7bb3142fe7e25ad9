//! `events example`: a valid full-form envelope, from the schema's examples or made from the
//! schema, checked by a consumer of the compiled registry; refused rather than invalid.

mod common;

use common::{events, Registry, PING};

#[test]
fn every_shipped_contract_has_an_example_that_a_consumer_decodes() {
    let run = events(&["example", "--all", "--json"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let all = run.json();
    assert_eq!(all["made"], all["total"]);
    for entry in all["contracts"].as_array().unwrap() {
        // The shipped schemas carry the specification's payloads as their examples.
        assert_eq!(entry["example"], "examples", "{entry}");
        let name = format!("{}@{}", entry["contract"].as_str().unwrap(), entry["version"].as_str().unwrap());
        let run = events(&["example", &name]);
        assert_eq!(run.status, 0, "{name}: {}", run.stderr);
        let text = run.stdout.as_bytes();
        let ok = match run.json().get("eventName") {
            Some(_) => events::AnyEvent::from_json(text).map(|e| e.schema_ref().version.to_string()),
            None => events::AnyCommand::from_json(text).map(|c| c.schema_ref().version.to_string()),
        };
        assert_eq!(ok.as_deref(), Ok(entry["version"].as_str().unwrap()), "{name}: {}", run.stdout);
    }
}

#[test]
fn the_full_form_lists_every_field_in_the_specification_order() {
    let run = events(&["example", "OrderCreatedEvent@1.0"]);
    let keys: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l.trim().split('"').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "eventName",
            "eventId",
            "correlationId",
            "causationId",
            "timestamp",
            "version",
            "schemaRef",
            "eventType",
            "eventSource",
            "eventVersion",
            "eventStatus",
            "tags",
            "retryCount",
            "payload",
            "metadata"
        ]
    );
    let event = run.json();
    assert_eq!(event["payload"]["orderId"], "ORD12345", "the specification's payload");
}

#[test]
fn without_examples_one_is_made_from_patterns_formats_and_bounds() {
    let registry = Registry::new(&[("pingSchema/1.0.json", PING)]);
    let run = registry.run(&["example", "PingEvent"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let ping = run.json();
    let code = ping["payload"]["code"].as_str().unwrap();
    assert!(code.starts_with("P-") && code.len() == 6, "{code}");
    let count = ping["payload"]["count"].as_i64().unwrap();
    assert!((1..=9).contains(&count), "{count}");
    assert!(chrono::DateTime::parse_from_rfc3339(ping["payload"]["at"].as_str().unwrap()).is_ok());
    assert_eq!(ping["eventType"], "notification");
    assert_eq!(ping["eventSource"], "Pinger");
    let all = registry.run(&["example", "--all"], None);
    assert_eq!(all.stdout.trim(), "PingEvent 1.0: made from the schema");
}

#[test]
fn where_none_can_be_made_it_says_so_and_prints_nothing() {
    // A lookahead the maker does not generate, on a required member.
    let strict = PING.replace(r#""pattern": "^P-[0-9]{4}$""#, r#""pattern": "^(?=.*[A-Z])(?=.*[0-9]).{8}$""#);
    let registry = Registry::new(&[("pingSchema/1.0.json", &strict)]);
    let run = registry.run(&["example", "PingEvent"], None);
    assert_eq!(run.status, 1, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("cannot make"), "{}", run.stderr);
    assert!(run.stderr.contains("schemas/pingSchema/1.0.json"), "{}", run.stderr);
    let all = registry.run(&["example", "--all"], None);
    assert_eq!(all.status, 1);
    assert!(all.stderr.contains("examples for 0 of 1 contracts"), "{}", all.stderr);
}

#[test]
fn an_example_that_breaks_its_schema_fails_the_registry_check() {
    let bad = PING.replace("\n}", ",\n  \"examples\": [{\"at\": \"2026-01-01T00:00:00Z\", \"code\": \"nope\"}]\n}");
    let registry = Registry::new(&[("pingSchema/1.0.json", &bad)]);
    let run = registry.run(&["example", "PingEvent"], None);
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("schemas/pingSchema/1.0.json:"), "{}", run.stderr);
    assert!(run.stderr.contains("/examples/0"), "{}", run.stderr);
    assert!(run.stderr.contains("/code"), "{}", run.stderr);
}

#[test]
fn an_unknown_contract_or_version_is_a_usage_error() {
    let run = events(&["example", "orderCreatedEvent"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("did you mean `OrderCreatedEvent`?"), "{}", run.stderr);
    let run = events(&["example", "OrderCreatedEvent@3.0"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("has no version 3.0: it has 1.0, 1.1"), "{}", run.stderr);
    let run = events(&["example", "OrderCreatedEvent@latest"]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("MAJOR.MINOR"), "{}", run.stderr);
}
