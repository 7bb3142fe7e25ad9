//! `events validate`: messages decoded through the registry as a consumer would, one result per
//! message with FILE:LINE, every violation with its JSON pointer. One test per kind of bad input.

mod common;

use common::{events, events_in, workspace, Registry, PING};
use serde_json::{json, Value};

/// A valid full-form event of the shipped registry, as `events example` makes it.
fn example(name: &str) -> Value {
    let run = events(&["example", name]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    run.json()
}

fn validate_stdin(input: &str, json_out: bool) -> common::Run {
    let args: &[&str] = if json_out { &["validate", "--json", "-"] } else { &["validate"] };
    events_in(&workspace(), args, Some(input))
}

#[test]
fn pretty_printed_concatenated_and_json_lines_input_each_get_a_line() {
    let order = example("OrderCreatedEvent");
    let command = example("CreateOrderCommand@1.0");
    let input = format!(
        "{}\n{}{}\n\n{}\n",
        serde_json::to_string_pretty(&order).unwrap(),
        serde_json::to_string(&command).unwrap(),
        serde_json::to_string(&order).unwrap(),
        serde_json::to_string(&command).unwrap()
    );
    let pretty_lines = serde_json::to_string_pretty(&order).unwrap().lines().count();
    let run = validate_stdin(&input, false);
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "<stdin>:1: valid OrderCreatedEvent 1.1".to_string(),
            format!("<stdin>:{}: valid CreateOrderCommand 1.0", pretty_lines + 1),
            format!("<stdin>:{}: valid OrderCreatedEvent 1.1", pretty_lines + 1),
            format!("<stdin>:{}: valid CreateOrderCommand 1.0", pretty_lines + 3),
        ]
    );
    assert!(run.stderr.contains("4 messages: 4 valid, 0 invalid"), "{}", run.stderr);
}

#[test]
fn files_are_named_in_results_and_a_version_picks_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = example("OrderCreatedEvent@1.0");
    let path = dir.path().join("orders.jsonl");
    std::fs::write(&path, format!("{}\n", old)).unwrap();
    // 1.0 is closed: a currency is refused there, and the message says which version it tried.
    old["payload"]["currency"] = json!("EUR");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, old.to_string()).unwrap();
    let run = events(&["validate", path.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("{}:1: valid OrderCreatedEvent 1.0", path.display())), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("{}:1: invalid OrderCreatedEvent 1.0", bad.display())), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "/payload: Additional properties are not allowed ('currency' was unexpected) [additionalProperties]"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn malformed_json_is_reported_at_its_line_and_column_and_the_next_messages_still_count() {
    let good = example("InventoryUpdatedEvent").to_string();
    let input = format!("{good}\n{{\"eventName\": nope}}\n{good}\n");
    let run = validate_stdin(&input, false);
    assert_eq!(run.status, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "<stdin>:1: valid InventoryUpdatedEvent 1.0");
    assert!(lines[1].starts_with("<stdin>:2:16: not JSON:"), "{}", lines[1]);
    assert_eq!(lines[2], "<stdin>:3: valid InventoryUpdatedEvent 1.0");
}

#[test]
fn every_envelope_problem_is_listed_with_its_pointer() {
    let mut event = example("OrderCreatedEvent");
    event["eventId"] = json!("not-a-uuid");
    event.as_object_mut().unwrap().remove("correlationId");
    event["timestamp"] = json!("yesterday");
    event["colour"] = json!("blue");
    let run = validate_stdin(&event.to_string(), true);
    assert_eq!(run.status, 1);
    let result = &run.json_lines()[0];
    assert_eq!(result["valid"], false);
    let pointers: Vec<&str> =
        result["violations"].as_array().unwrap().iter().map(|v| v["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/eventId", "/correlationId", "/timestamp", "/colour"], "{result}");
}

#[test]
fn every_payload_violation_is_listed_with_pointer_and_keyword() {
    let mut event = example("OrderCreatedEvent");
    event["payload"]["items"] = json!([]);
    event["payload"]["currency"] = json!("euro");
    event["payload"].as_object_mut().unwrap().remove("customerId");
    let run = validate_stdin(&event.to_string(), true);
    assert_eq!(run.status, 1);
    let result = &run.json_lines()[0];
    let found: Vec<(String, String)> = result["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["pointer"].as_str().unwrap().to_string(), v["keyword"].as_str().unwrap_or("").to_string()))
        .collect();
    for expected in [("/payload", "required"), ("/payload/items", "minItems"), ("/payload/currency", "pattern")] {
        assert!(found.contains(&(expected.0.to_string(), expected.1.to_string())), "{expected:?} in {found:?}");
    }
    assert_eq!(found.len(), 3, "{found:?}");
}

#[test]
fn an_envelope_that_disagrees_with_the_registry_is_invalid() {
    let mut event = example("OrderCreatedEvent");
    event["eventType"] = json!("integration");
    let run = validate_stdin(&event.to_string(), false);
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("  /eventType: expected domain, found integration"), "{}", run.stdout);
}

#[test]
fn an_unknown_contract_or_version_is_named() {
    let mut unknown = example("OrderCreatedEvent");
    unknown["eventName"] = json!("OrderTeleportedEvent");
    let mut version = example("OrderCreatedEvent");
    version["schemaRef"]["version"] = json!("7.0");
    version["version"] = json!("7.0");
    let input = format!("{unknown}\n{version}\n");
    let run = validate_stdin(&input, false);
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("/eventName: unknown contract `OrderTeleportedEvent`"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "/schemaRef/version: unknown contract `OrderCreatedEvent` version 7.0: the registry has 1.0, 1.1"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_value_that_is_no_envelope_is_invalid() {
    let run = validate_stdin("[1, 2]\n{\"payload\": {}}\n", false);
    assert_eq!(run.status, 1);
    assert!(
        run.stdout.contains("<stdin>:1: invalid message\n  (the message): expected a JSON object"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("<stdin>:2: invalid message\n  /eventName: required field is missing"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_file_is_a_usage_error_and_the_other_files_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.json");
    std::fs::write(&path, example("InventoryUpdatedEvent").to_string()).unwrap();
    let run = events(&["validate", "no-such-file.json", path.to_str().unwrap()]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no-such-file.json: No such file"), "{}", run.stderr);
    assert!(run.stdout.contains("valid InventoryUpdatedEvent 1.0"), "{}", run.stdout);
}

#[test]
fn every_missing_file_is_named() {
    let run = events(&["validate", "no-such-file.json", "nor-this.json"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("error: cannot read 2 inputs:"), "{}", run.stderr);
    assert!(run.stderr.contains("  no-such-file.json: ") && run.stderr.contains("  nor-this.json: "), "{}", run.stderr);
}

#[test]
fn quiet_shows_only_the_invalid_messages() {
    let good = example("InventoryUpdatedEvent").to_string();
    let run = events_in(&workspace(), &["validate", "-q"], Some(&format!("{good}\n[]\n{good}\n")));
    assert_eq!(run.status, 1);
    assert_eq!(run.stdout.lines().filter(|l| !l.starts_with("  ")).count(), 1, "{}", run.stdout);
    assert!(run.stdout.starts_with("<stdin>:2: invalid"), "{}", run.stdout);
}

/// The tool and a consumer's `AnyEvent::from_json` agree, message for message.
#[test]
fn results_agree_with_the_compiled_registry() {
    let mut messages = Vec::new();
    for name in [
        "OrderCreatedEvent@1.0",
        "OrderCreatedEvent",
        "InventoryUpdatedIntegrationEvent",
        "CustomerRegisteredEvent",
        "OrderShippedNotificationEvent",
    ] {
        let good = example(name);
        messages.push(good.clone());
        let mut no_version = good.clone();
        no_version.as_object_mut().unwrap().remove("version");
        no_version.as_object_mut().unwrap().remove("schemaRef");
        messages.push(no_version);
        let mut bad_payload = good.clone();
        bad_payload["payload"] = json!({});
        messages.push(bad_payload);
        let mut bad_status = good.clone();
        bad_status["eventStatus"] = json!("lost");
        messages.push(bad_status);
        let mut wrong_uri = good;
        wrong_uri["schemaRef"]["uri"] = json!("https://elsewhere.example/x/1.0");
        messages.push(wrong_uri);
    }
    let input: String = messages.iter().map(|m| format!("{m}\n")).collect();
    let results = validate_stdin(&input, true).json_lines();
    assert_eq!(results.len(), messages.len());
    for (message, result) in messages.iter().zip(&results) {
        let consumer = events::AnyEvent::from_json(message.to_string().as_bytes());
        assert_eq!(
            result["valid"].as_bool().unwrap(),
            consumer.is_ok(),
            "{message}\ntool: {result}\nconsumer: {consumer:?}"
        );
        if let Ok(e) = consumer {
            assert_eq!(result["version"], e.schema_ref().version.to_string(), "{message}");
        }
    }
}

#[test]
fn a_registry_of_its_own_is_validated_with_flags() {
    let registry = Registry::new(&[("pingSchema/1.0.json", PING)]);
    let run = registry.run(&["example", "PingEvent"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let mut ping = run.json();
    let run = registry.run(&["validate"], Some(&ping.to_string()));
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    ping["payload"]["count"] = json!(10);
    let run = registry.run(&["validate"], Some(&ping.to_string()));
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("/payload/count: 10 is greater than the maximum of 9 [maximum]"), "{}", run.stdout);
}
