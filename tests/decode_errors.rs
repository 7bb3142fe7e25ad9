//! Bad events are refused with an error naming the JSON pointer: one test per kind of constraint.

mod common;

use common::order_created;
use events::{AnyEvent, DecodeError};
use serde_json::{json, Value};

fn decode(v: &Value) -> Result<AnyEvent, DecodeError> {
    AnyEvent::from_json(v.to_string().as_bytes())
}

/// Asserts a payload violation at `pointer` from schema keyword `keyword`.
fn assert_violation(v: &Value, pointer: &str, keyword: &str) {
    match decode(v) {
        Err(DecodeError::Payload { violations }) => assert!(
            violations.iter().any(|x| x.pointer == pointer && x.keyword == keyword),
            "expected {keyword} at {pointer}, got {violations:?}"
        ),
        other => panic!("expected a payload violation, got {other:?}"),
    }
}

#[test]
fn the_example_itself_is_accepted() {
    assert!(decode(&order_created()).is_ok());
}

#[test]
fn integer_valid_for_the_schema_but_beyond_its_rust_type() {
    // `quantity` is a `u64`: 2^64 meets `"type": "integer", "minimum": 1` but fits no `u64`.
    let mut v = order_created();
    v["payload"]["items"][1]["quantity"] = json!(18446744073709551616.0);
    match decode(&v) {
        Err(DecodeError::Invalid { pointer, message }) => {
            assert_eq!(pointer, "/payload/items/1/quantity");
            assert!(message.contains("out of range of its Rust type"), "{message}");
            assert!(!message.contains("line 1"), "no place in text the caller never saw: {message}");
        }
        other => panic!("expected an out-of-range error, got {other:?}"),
    }
}

#[test]
fn missing_required_property() {
    let mut v = order_created();
    v["payload"].as_object_mut().unwrap().remove("orderId");
    assert_violation(&v, "/payload", "required");
}

#[test]
fn integer_below_minimum() {
    let mut v = order_created();
    v["payload"]["items"][1]["quantity"] = json!(0);
    assert_violation(&v, "/payload/items/1/quantity", "minimum");
}

#[test]
fn fraction_where_an_integer_is_required() {
    let mut v = order_created();
    v["payload"]["items"][0]["quantity"] = json!(1.5);
    assert_violation(&v, "/payload/items/0/quantity", "type");
}

#[test]
fn negative_number_below_minimum() {
    let mut v = order_created();
    v["payload"]["totalAmount"] = json!(-0.01);
    assert_violation(&v, "/payload/totalAmount", "minimum");
}

#[test]
fn empty_array_below_min_items() {
    let mut v = order_created();
    v["payload"]["items"] = json!([]);
    assert_violation(&v, "/payload/items", "minItems");
}

#[test]
fn unknown_property_in_a_closed_object() {
    let mut v = order_created();
    v["payload"]["items"][0]["discount"] = json!(5);
    assert_violation(&v, "/payload/items/0", "additionalProperties");
}

#[test]
fn empty_string_below_min_length() {
    let mut v = order_created();
    v["payload"]["customerId"] = json!("");
    assert_violation(&v, "/payload/customerId", "minLength");
}

#[test]
fn wrong_type() {
    let mut v = order_created();
    v["payload"]["orderId"] = json!(12345);
    assert_violation(&v, "/payload/orderId", "type");
}

#[test]
fn constraint_in_a_shared_definition() {
    let (_, mut v) = common::spec_examples().into_iter().find(|(n, _)| n.starts_with("10-")).unwrap();
    v["payload"]["shippingAddress"].as_object_mut().unwrap().remove("city");
    assert_violation(&v, "/payload/shippingAddress", "required");
}

#[test]
fn every_violation_is_reported() {
    let mut v = order_created();
    v["payload"]["items"][0]["quantity"] = json!(0);
    v["payload"]["totalAmount"] = json!(-1);
    let Err(DecodeError::Payload { violations }) = decode(&v) else { panic!("expected violations") };
    assert_eq!(violations.len(), 2, "{violations:?}");
}

#[test]
fn unknown_event_name() {
    let mut v = order_created();
    v["eventName"] = json!("OrderDeletedEvent");
    v.as_object_mut().unwrap().remove("schemaRef");
    let err = decode(&v).unwrap_err();
    assert!(matches!(&err, DecodeError::UnknownContract { name, .. } if name == "OrderDeletedEvent"), "{err}");
    assert_eq!(err.pointer(), Some("/eventName"));
}

#[test]
fn unknown_schema_version() {
    let mut v = order_created();
    v["schemaRef"]["version"] = json!("9.9");
    let err = decode(&v).unwrap_err();
    assert!(matches!(err, DecodeError::UnknownContract { version: Some(_), .. }), "{err}");
    assert_eq!(err.pointer(), Some("/schemaRef/version"));
}

#[test]
fn schema_ref_of_another_schema() {
    let mut v = order_created();
    v["schemaRef"]["id"] = json!("orderShippedSchema");
    let err = decode(&v).unwrap_err();
    assert_eq!(err.pointer(), Some("/schemaRef/id"), "{err}");
    assert!(err.to_string().contains("orderCreatedSchema"), "{err}");
}

#[test]
fn schema_ref_uri_of_another_registry() {
    let mut v = order_created();
    v["schemaRef"]["uri"] = json!("https://elsewhere.example/orderCreatedSchema/1.0");
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/schemaRef/uri"));
}

#[test]
fn version_disagreeing_with_schema_ref() {
    let mut v = order_created();
    v["version"] = json!("2.0");
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/version"));
}

#[test]
fn event_type_disagreeing_with_the_registry() {
    let mut v = order_created();
    v["eventType"] = json!("integration");
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/eventType"));
}

#[test]
fn unknown_event_type_value() {
    let mut v = order_created();
    v["eventType"] = json!("system");
    let err = decode(&v).unwrap_err();
    assert!(matches!(&err, DecodeError::Invalid { pointer, .. } if pointer == "/eventType"), "{err}");
}

#[test]
fn unknown_event_status_value() {
    let mut v = order_created();
    v["eventStatus"] = json!("archived");
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/eventStatus"));
}

#[test]
fn malformed_uuid() {
    let mut v = order_created();
    v["eventId"] = json!("a1b2c3d4-e5f6-7g8h-9i0j-1k2l3m4n5o6p");
    let err = decode(&v).unwrap_err();
    assert!(matches!(&err, DecodeError::Invalid { pointer, .. } if pointer == "/eventId"), "{err}");
}

#[test]
fn malformed_timestamp() {
    let mut v = order_created();
    v["timestamp"] = json!("yesterday");
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/timestamp"));
}

#[test]
fn negative_retry_count() {
    let mut v = order_created();
    v["retryCount"] = json!(-1);
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/retryCount"));
}

#[test]
fn missing_envelope_field() {
    let mut v = order_created();
    v.as_object_mut().unwrap().remove("correlationId");
    let err = decode(&v).unwrap_err();
    assert!(matches!(&err, DecodeError::Missing { pointer } if pointer == "/correlationId"), "{err}");
}

#[test]
fn missing_metadata_entry() {
    let mut v = order_created();
    v["metadata"].as_object_mut().unwrap().remove("initiatedBy");
    assert_eq!(decode(&v).unwrap_err().pointer(), Some("/metadata"));
}

#[test]
fn unknown_envelope_field_is_refused_not_dropped() {
    let mut v = order_created();
    v["priority"] = json!("high");
    let err = decode(&v).unwrap_err();
    assert!(matches!(&err, DecodeError::UnknownField { pointer } if pointer == "/priority"), "{err}");
}

#[test]
fn not_json() {
    let err = AnyEvent::from_json(b"{\"eventName\": ").unwrap_err();
    assert!(matches!(err, DecodeError::Syntax { line: 1, .. }), "{err}");
}

#[test]
fn not_an_object() {
    assert!(matches!(AnyEvent::from_json(b"[1]").unwrap_err(), DecodeError::Invalid { .. }));
}

#[test]
fn errors_are_std_errors() {
    let err: Box<dyn std::error::Error> = Box::new(AnyEvent::from_json(b"{}").unwrap_err());
    assert_eq!(err.to_string(), "/eventName: required field is missing");
}

#[test]
fn an_integral_float_counts_as_an_integer() {
    // JSON Schema says 2.0 is an integer; the typed quantity still decodes.
    let mut v = order_created();
    v["payload"]["items"][0]["quantity"] = json!(2.0);
    let AnyEvent::OrderCreatedEventV1_0(e) = decode(&v).unwrap() else { panic!("wrong variant") };
    assert_eq!(e.payload().items[0].quantity, 2);
}

#[test]
fn a_schema_valid_number_too_large_for_its_rust_type_names_its_place() {
    let mut v = order_created();
    v["payload"]["items"][1]["quantity"] = json!(1e20);
    let err = decode(&v).unwrap_err();
    assert!(matches!(&err, DecodeError::Invalid { pointer, .. } if pointer == "/payload/items/1/quantity"), "{err}");
}

#[test]
fn a_timestamp_outside_utc_is_refused() {
    let mut v = order_created();
    v["timestamp"] = json!("2025-02-25T21:05:00+02:00");
    let err = decode(&v).unwrap_err();
    assert_eq!(err.pointer(), Some("/timestamp"));
    assert!(err.to_string().contains("2025-02-25T19:05:00Z"), "{err}");
}

#[test]
fn a_zero_offset_is_utc() {
    let mut v = order_created();
    v["timestamp"] = json!("2025-02-25T19:05:00+00:00");
    let encoded = serde_json::to_value(decode(&v).unwrap()).unwrap();
    assert_eq!(encoded["timestamp"], "2025-02-25T19:05:00Z");
}

#[test]
fn an_unknown_command_names_the_command_name() {
    let command = json!({
        "commandName": "CancelOrderCommand",
        "commandId": "123e4567-e89b-12d3-a456-426614174000",
        "correlationId": "789e4567-e89b-12d3-a456-426614174123",
        "timestamp": "2025-02-25T19:00:00Z",
        "payload": {},
        "metadata": { "initiatedBy": "user123", "sourceSystem": "OrderManagementSystem" }
    });
    let err = events::AnyCommand::from_json(command.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.pointer(), Some("/commandName"), "{err}");
}

#[test]
fn a_command_payload_is_validated_too() {
    let command = json!({
        "commandName": "CreateOrderCommand",
        "commandId": "123e4567-e89b-12d3-a456-426614174000",
        "correlationId": "789e4567-e89b-12d3-a456-426614174123",
        "timestamp": "2025-02-25T19:00:00Z",
        "payload": { "customerId": "CUST67890", "items": [] },
        "metadata": { "initiatedBy": "user123", "sourceSystem": "OrderManagementSystem" }
    });
    let err = events::AnyCommand::from_json(command.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.pointer(), Some("/payload/items"), "{err}");
}
