//! Every JSON example of the event specification decodes, and encodes again to the same JSON
//! (the earlier, shorter forms come out in the full form, missing fields filled from the registry).

mod common;

use common::{same_json, spec_examples};
use events::AnyEvent;
use serde_json::Value;

const FULL_FORM: [&str; 16] = [
    "eventName",
    "eventId",
    "correlationId",
    "commandId",
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
    "metadata",
];

#[test]
fn there_are_eleven_distinct_examples() {
    assert_eq!(spec_examples().len(), 11);
}

#[test]
fn full_forms_round_trip_exactly() {
    let mut full = 0;
    for (name, original) in spec_examples() {
        if original.as_object().unwrap().len() != FULL_FORM.len() {
            continue;
        }
        full += 1;
        let event = AnyEvent::from_json(original.to_string().as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let encoded = serde_json::to_value(&event).unwrap();
        assert!(same_json(&original, &encoded), "{name}:\n{original:#}\n!=\n{encoded:#}");
    }
    assert_eq!(full, 7);
}

#[test]
fn short_forms_decode_and_come_out_full() {
    let mut short = 0;
    for (name, original) in spec_examples() {
        let original = original.as_object().unwrap();
        if original.len() == FULL_FORM.len() {
            continue;
        }
        short += 1;
        let event = AnyEvent::from_json(Value::Object(original.clone()).to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let encoded = serde_json::to_value(&event).unwrap();
        let encoded = encoded.as_object().unwrap();
        let mut keys: Vec<&str> = encoded.keys().map(String::as_str).collect();
        let mut expected = FULL_FORM.to_vec();
        keys.sort();
        expected.sort();
        assert_eq!(keys, expected, "{name}");
        for (k, v) in original.iter().filter(|(k, _)| *k != "payload") {
            assert!(same_json(v, &encoded[k]), "{name}: {k} changed");
        }
        // Without a version, the newest version that accepts the message reads it: the payload keeps
        // every member and gains the defaults of what that version adds (1.1's currency).
        let payload = original["payload"].as_object().unwrap();
        for (k, v) in payload {
            assert!(same_json(v, &encoded["payload"][k]), "{name}: payload {k} changed");
        }
        for (k, v) in encoded["payload"].as_object().unwrap().iter().filter(|(k, _)| !payload.contains_key(*k)) {
            assert_eq!((k.as_str(), v), ("currency", &serde_json::json!("USD")), "{name}");
        }
        // What the registry fills in.
        assert_eq!(encoded["causationId"], original["commandId"], "{name}");
        assert_eq!(encoded["eventStatus"], "created");
        assert_eq!(encoded["retryCount"], 0);
        assert_eq!(encoded["schemaRef"]["version"], encoded["version"]);
        let uri = encoded["schemaRef"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("https://schema-registry.example.com/schemas/"), "{uri}");
    }
    assert_eq!(short, 4);
}

#[test]
fn short_form_fills_the_registry_values() {
    let (_, original) = spec_examples().into_iter().find(|(n, _)| n.starts_with("02-")).unwrap();
    let AnyEvent::InventoryUpdatedEventV1_0(event) = AnyEvent::from_json(original.to_string().as_bytes()).unwrap()
    else {
        panic!("wrong variant")
    };
    assert_eq!(event.schema_ref().id, "inventoryUpdatedDomainSchema");
    assert_eq!(event.event_type(), events::EventType::Domain);
    assert_eq!(event.event_source(), "InventoryService");
    assert_eq!(event.tags(), ["inventory", "update"]);
}

#[test]
fn decoded_events_encode_to_what_decodes_to_the_same_event() {
    for (name, original) in spec_examples() {
        let first = AnyEvent::from_json(original.to_string().as_bytes()).unwrap();
        let again = AnyEvent::from_json(serde_json::to_string(&first).unwrap().as_bytes()).unwrap();
        assert_eq!(first, again, "{name}");
    }
}

#[test]
fn extra_tags_and_metadata_entries_are_kept() {
    let mut v = common::order_created();
    v["tags"] = serde_json::json!(["order", "creation", "ecommerce"]);
    v["metadata"]["channel"] = "web".into();
    let event = AnyEvent::from_json(v.to_string().as_bytes()).unwrap();
    let encoded = serde_json::to_value(&event).unwrap();
    assert_eq!(encoded["tags"], v["tags"]);
    assert_eq!(encoded["metadata"]["channel"], "web");
}
