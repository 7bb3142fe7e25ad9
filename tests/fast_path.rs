//! The decoders' fast path (one pass, the payload checked on its typed form) accepts exactly what
//! the complete path accepts, builds the same envelopes, and is the path full-form messages take.

mod common;

use common::{order_created, spec_examples};
use events::order_created_schema::v1_0::{OrderCreatedEvent, OrderCreatedEventPayload};
use events::{AnyEvent, RawEvent, TypedCheck, WireEvent};
use serde_json::{json, Value};

/// `from_json` (fast path first) and the complete path alone give the same result.
fn assert_agree(message: &Value) {
    let bytes = message.to_string();
    let fast = AnyEvent::from_json(bytes.as_bytes());
    let complete = RawEvent::parse(bytes.as_bytes()).and_then(AnyEvent::from_raw);
    match (&fast, &complete) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{message}"),
        (Err(a), Err(b)) => assert_eq!(a, b, "{message}"),
        _ => panic!("the paths disagree on {message}:\nfast: {fast:?}\ncomplete: {complete:?}"),
    }
}

#[test]
fn a_full_form_message_takes_the_fast_path() {
    let bytes = order_created().to_string();
    let typed = events::decode_typed::<OrderCreatedEventPayload>(bytes.as_bytes()).expect("single-pass typed decode");
    let mut wire = WireEvent::parse(bytes.as_bytes()).expect("the full form reads as a wire event");
    let dispatched = wire.decode::<OrderCreatedEventPayload>().expect("decode after dispatch");
    assert_eq!(typed, dispatched);
    assert_eq!(typed, OrderCreatedEvent::from_json(bytes.as_bytes()).unwrap());
    assert!(typed.payload().typed_valid());
}

#[test]
fn what_the_encoder_writes_takes_the_fast_path() {
    let event = OrderCreatedEvent::from_json(order_created().to_string().as_bytes()).unwrap();
    let wire = event.to_json();
    assert_eq!(
        events::leading_identity(wire.as_bytes()),
        Some(("OrderCreatedEvent", Some(events::SchemaVersion::new(1, 0))))
    );
    assert!(events::decode_typed::<OrderCreatedEventPayload>(wire.as_bytes()).is_some());
}

#[test]
fn both_paths_agree_on_every_example_of_the_specification() {
    for (_, example) in spec_examples() {
        assert_agree(&example);
    }
}

#[test]
fn both_paths_agree_on_broken_and_unusual_messages() {
    let base = order_created();
    let edits: Vec<Box<dyn Fn(&mut Value)>> = vec![
        // Shapes serde's derive would read but the schema refuses.
        Box::new(|v| v["payload"]["items"][0] = json!(["ITEM001", 2, 100])),
        Box::new(|v| v["payload"] = json!(["ORD12345", "CUST67890", [], 250])),
        Box::new(|v| v["payload"]["items"] = json!({})),
        // Values the schema refuses.
        Box::new(|v| v["payload"]["items"] = json!([])),
        Box::new(|v| v["payload"]["totalAmount"] = json!(-1)),
        Box::new(|v| v["payload"]["items"][0]["quantity"] = json!(0)),
        Box::new(|v| v["payload"]["orderId"] = json!("")),
        Box::new(|v| v["payload"]["extra"] = json!(1)),
        // Values only the complete path reads.
        Box::new(|v| v["payload"]["items"][0]["quantity"] = json!(2.0)),
        Box::new(|v| v["timestamp"] = json!("2025-02-25T19:05:00+00:00")),
        Box::new(|v| v["commandId"] = Value::Null),
        Box::new(|v| {
            v.as_object_mut().unwrap().remove("schemaRef");
        }),
        // Envelopes the registry refuses.
        Box::new(|v| v["timestamp"] = json!("2025-02-25T19:05:00+02:00")),
        Box::new(|v| v["eventVersion"] = json!("2.0")),
        Box::new(|v| v["schemaRef"]["uri"] = json!("https://elsewhere.example/orderCreatedSchema/1.0")),
        Box::new(|v| v["eventType"] = json!("integration")),
        Box::new(|v| v["unexpected"] = json!(true)),
        Box::new(|v| v["eventStatus"] = json!({ "created": null })),
        Box::new(|v| v["payload"] = Value::Null),
    ];
    for edit in edits {
        let mut message = base.clone();
        edit(&mut message);
        assert_agree(&message);
    }
}

#[test]
fn the_contract_is_read_only_from_the_first_members() {
    let v1_0 = Some(events::SchemaVersion::new(1, 0));
    assert_eq!(events::leading_identity(br#" { "eventName" : "A", "x": 1 }"#), Some(("A", None)));
    assert_eq!(events::leading_identity(br#"{"eventName": "A", "eventId": "e", "version": "1.0"}"#), Some(("A", v1_0)));
    // The first `"version"` member, wherever it stands: the decode that follows checks it.
    assert_eq!(events::leading_identity(br#"{"eventName": "A", "n": 2, "version": "1.0"}"#), Some(("A", v1_0)));
    assert_eq!(events::leading_identity(br#"{"eventName": "A", "version": 1}"#), Some(("A", None)));
    assert_eq!(events::leading_identity(br#"{"eventId": "x", "eventName": "A"}"#), None);
    assert_eq!(events::leading_identity(br#"{"eventName": "A\"B"}"#), None);
    assert_eq!(events::leading_identity(b"[]"), None);
}

#[test]
fn an_optional_property_set_to_null_is_refused_on_both_paths() {
    // 1.1's `currency` is optional and a string: `null` is neither absent nor a string.
    let mut message = order_created();
    message["version"] = json!("1.1");
    message["eventVersion"] = json!("1.1");
    message["schemaRef"]["version"] = json!("1.1");
    message["schemaRef"]["uri"] = json!("https://schema-registry.example.com/schemas/orderCreatedSchema/1.1");
    message["payload"]["currency"] = json!("EUR");
    assert_agree(&message);
    assert!(AnyEvent::from_json(message.to_string().as_bytes()).is_ok());
    message["payload"]["currency"] = Value::Null;
    assert_agree(&message);
    let err = AnyEvent::from_json(message.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.pointer(), Some("/payload/currency"), "{err}");
}
