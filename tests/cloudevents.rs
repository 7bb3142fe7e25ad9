//! Envelopes as CloudEvents 1.0 (structured JSON) and back: every field kept, every refusal named.
#![cfg(feature = "cloudevents")]

mod common;

use chrono::{DateTime, SecondsFormat, Utc};
use events::inventory_updated_domain_schema::v1_0::InventoryUpdatedEvent;
use events::order_shipped_schema::v1_0::OrderShippedNotificationEvent;
use events::{AnyEvent, CloudEvent, DecodeError, EventSet, ExtensionValue};
use proptest::prelude::*;
use serde_json::{json, Value};

fn spec(prefix: &str) -> Value {
    common::spec_examples().into_iter().find(|(n, _)| n.starts_with(prefix)).unwrap().1
}

/// The specification's OrderShippedNotificationEvent (retried twice), as a CloudEvent's JSON.
fn shipped_cloud_json() -> Value {
    let event = OrderShippedNotificationEvent::from_json(spec("10-").to_string().as_bytes()).unwrap();
    event.to_cloud_event().to_value()
}

fn read(v: &Value) -> Result<AnyEvent, DecodeError> {
    AnyEvent::from_cloud_event(CloudEvent::from_value(v.clone())?)
}

/// Reading `v` fails at `pointer`.
#[track_caller]
fn refused_at(v: &Value, pointer: &str) -> DecodeError {
    let err = read(v).unwrap_err();
    assert_eq!(err.pointer(), Some(pointer), "{err}");
    err
}

#[test]
fn the_spec_example_maps_attribute_by_attribute() {
    let mut v = spec("11-");
    v["retryCount"] = json!(2);
    let event = AnyEvent::from_json(v.to_string().as_bytes()).unwrap();
    assert_eq!(
        event.to_cloud_event().to_value(),
        json!({
            "specversion": "1.0",
            "id": "a5d9f4e2-1a7f-4c3d-9e7d-3f8d9f2c4a1e",
            "source": "ShippingService",
            "type": "OrderShippedNotificationEvent",
            "time": "2025-02-25T20:30:00Z",
            "datacontenttype": "application/json",
            "dataschema": "https://schema-registry.example.com/schemas/orderShippedSchema/1.0",
            "schemaid": "orderShippedSchema",
            "schemaversion": "1.0",
            "version": "1.0",
            "correlationid": "654e3217-e89b-12d3-a456-426614171654",
            "commandid": "d8f7b4d4-4a9f-4c3d-8e7d-6f3c8f4d7b9e",
            "causationid": "d8f7b4d4-4a9f-4c3d-8e7d-6f3c8f4d7b9e",
            "eventtype": "notification",
            "eventversion": "1.0",
            "eventstatus": "created",
            "retrycount": 2,
            "tags": r#"["order","shipment","notification"]"#,
            "metadata": r#"{"initiatedBy":"ShippingService","sourceSystem":"OrderManagementSystem"}"#,
            "data": v["payload"],
        })
    );
}

#[test]
fn every_extension_name_is_short_lower_case_alphanumeric() {
    let cloud = CloudEvent::from_value(shipped_cloud_json()).unwrap();
    let names: Vec<&str> = cloud.extensions().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 12, "{names:?}");
    for name in names {
        assert!(name.len() <= 20 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{name}");
    }
}

#[test]
fn the_correlation_extension_carries_the_ids() {
    let cloud = CloudEvent::from_value(shipped_cloud_json()).unwrap();
    let text = |s: &str| Some(ExtensionValue::String(s.into()));
    assert_eq!(cloud.extension("correlationid").cloned(), text("654e3217-e89b-12d3-a456-426614171654"));
    assert_eq!(cloud.extension("causationid").cloned(), text("d8f7b4d4-4a9f-4c3d-8e7d-6f3c8f4d7b9e"));
}

#[test]
fn retry_counts_beyond_cloud_events_integers_are_decimal_strings() {
    for (count, carried) in [(i32::MAX as u32, json!(i32::MAX)), (i32::MAX as u32 + 1, json!("2147483648"))] {
        let mut v = spec("10-");
        v["retryCount"] = json!(count);
        let event = AnyEvent::from_json(v.to_string().as_bytes()).unwrap();
        let cloud = event.to_cloud_event().to_value();
        assert_eq!(cloud["retrycount"], carried);
        assert_eq!(read(&cloud).unwrap(), event);
    }
}

#[test]
fn an_unknown_type_is_refused() {
    let mut v = shipped_cloud_json();
    v["type"] = json!("OrderPaidEvent");
    let err = refused_at(&v, "/type");
    assert!(matches!(err, DecodeError::UnknownContract { ref name, .. } if name == "OrderPaidEvent"), "{err}");
}

#[test]
fn a_typed_envelope_refuses_another_type() {
    let cloud = CloudEvent::from_value(shipped_cloud_json()).unwrap();
    let err = InventoryUpdatedEvent::from_cloud_event(cloud).unwrap_err();
    assert!(matches!(err, DecodeError::Mismatch { .. }), "{err}");
    assert_eq!(err.pointer(), Some("/type"));
}

#[test]
fn an_unknown_schema_version_is_refused_at_schemaversion() {
    let mut v = shipped_cloud_json();
    v["schemaversion"] = json!("9.0");
    assert!(matches!(refused_at(&v, "/schemaversion"), DecodeError::UnknownContract { .. }));
}

#[test]
fn invalid_data_is_refused_with_pointers_into_data() {
    let mut v = shipped_cloud_json();
    v["data"]["carrier"] = json!("");
    v["data"]["shippingAddress"]["city"] = json!(7);
    let DecodeError::Payload { violations } = refused_at(&v, "/data/carrier") else { panic!("a payload error") };
    let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert!(pointers.contains(&"/data/shippingAddress/city"), "{pointers:?}");
}

#[test]
fn bad_extension_values_are_refused_at_their_attribute() {
    let cases: [(&str, Value); 15] = [
        ("retrycount", json!(-1)),
        ("retrycount", json!("-1")),
        ("retrycount", json!("two")),
        ("retrycount", json!(true)),
        ("retrycount", json!(1.5)),
        ("tags", json!("order, shipment")),
        ("tags", json!("[1, 2]")),
        ("tags", json!(["order"])),
        ("metadata", json!(r#"{"initiatedBy": "ShippingService"}"#)),
        ("metadata", json!({"initiatedBy": "a", "sourceSystem": "b"})),
        ("correlationid", json!("not-a-uuid")),
        ("correlationid", json!(5)),
        ("eventstatus", json!("retrying")),
        ("eventtype", json!("domain")),
        ("schemaversion", json!("1")),
    ];
    for (name, value) in cases {
        let mut v = shipped_cloud_json();
        v[name] = value.clone();
        let err = read(&v).unwrap_err();
        assert_eq!(err.pointer(), Some(format!("/{name}").as_str()), "{name} = {value}: {err}");
    }
}

#[test]
fn extension_names_and_values_follow_the_format() {
    for (name, value) in
        [("correlationId", json!("x")), ("trace_parent", json!("x")), ("a23456789012345678901", json!(1))]
    {
        let mut v = shipped_cloud_json();
        v[name] = value;
        let err = CloudEvent::from_value(v).unwrap_err();
        assert!(matches!(err, DecodeError::Invalid { .. }), "{name}: {err}");
        assert_eq!(err.pointer(), Some(format!("/{name}").as_str()));
    }
    let mut cloud = CloudEvent::new("1", "/s", "T");
    assert!(cloud.set_extension("a2345678901234567890", 1).is_ok());
    assert!(cloud.set_extension("a23456789012345678901", 1).is_err());
    assert!(cloud.set_extension("", 1).is_err());
    assert!(cloud.set_extension("data", 1).is_err());
}

#[test]
fn an_extension_the_envelope_has_no_field_for_is_refused_not_dropped() {
    let mut v = shipped_cloud_json();
    v["traceparent"] = json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert!(matches!(refused_at(&v, "/traceparent"), DecodeError::UnknownField { .. }));

    // Dropping it is the reader's decision to make.
    let mut cloud = CloudEvent::from_value(v).unwrap();
    assert!(cloud.remove_extension("traceparent").is_some());
    assert!(AnyEvent::from_cloud_event(cloud).is_ok());

    let mut with_subject = shipped_cloud_json();
    with_subject["subject"] = json!("ORD12345");
    assert!(matches!(refused_at(&with_subject, "/subject"), DecodeError::UnknownField { .. }));
}

#[test]
fn missing_required_attributes_are_named() {
    for attribute in ["specversion", "id", "source", "type"] {
        let mut v = shipped_cloud_json();
        v.as_object_mut().unwrap().remove(attribute);
        let err = CloudEvent::from_value(v).unwrap_err();
        assert_eq!(err, DecodeError::Missing { pointer: format!("/{attribute}") });
    }
    // Optional in CloudEvents, required by the envelope.
    for attribute in ["time", "data", "correlationid", "metadata"] {
        let mut v = shipped_cloud_json();
        v.as_object_mut().unwrap().remove(attribute);
        assert!(matches!(refused_at(&v, &format!("/{attribute}")), DecodeError::Missing { .. }), "{attribute}");
    }
    // schemaRef's three parts travel together.
    let mut v = shipped_cloud_json();
    v.as_object_mut().unwrap().remove("dataschema");
    assert!(matches!(refused_at(&v, "/dataschema"), DecodeError::Missing { .. }));
}

#[test]
fn required_attributes_are_non_empty_strings_of_version_1_0() {
    let mut v = shipped_cloud_json();
    v["specversion"] = json!("0.3");
    assert!(matches!(CloudEvent::from_value(v).unwrap_err(), DecodeError::Mismatch { .. }));
    for (attribute, value) in
        [("id", json!("")), ("source", json!("")), ("type", json!(1)), ("time", json!("yesterday"))]
    {
        let mut v = shipped_cloud_json();
        v[attribute] = value;
        let err = CloudEvent::from_value(v).unwrap_err();
        assert_eq!(err.pointer(), Some(format!("/{attribute}").as_str()), "{err}");
    }
    assert_eq!(CloudEvent::from_json(b"[]").unwrap_err().pointer(), Some(""));
    assert!(matches!(CloudEvent::from_json(b"{").unwrap_err(), DecodeError::Syntax { .. }));
}

#[test]
fn the_id_must_be_the_event_uuid() {
    let mut v = shipped_cloud_json();
    v["id"] = json!("A234-1234-1234");
    assert!(matches!(refused_at(&v, "/id"), DecodeError::Invalid { .. }));
}

#[test]
fn time_must_be_utc_like_the_envelope_timestamp() {
    let mut v = shipped_cloud_json();
    v["time"] = json!("2025-02-25T21:30:00+01:00");
    let err = refused_at(&v, "/time");
    assert!(err.to_string().contains("2025-02-25T20:30:00Z"), "{err}");
    v["time"] = json!("2025-02-25T20:30:00+00:00");
    assert!(read(&v).is_ok());
}

#[test]
fn data_is_json_whatever_the_media_type_parameters() {
    for (media_type, accepted) in [
        (json!("application/json"), true),
        (json!("application/json; charset=utf-8"), true),
        (Value::Null, true),
        (json!("text/xml"), false),
        (json!("application/cloudevents+json"), false),
    ] {
        let mut v = shipped_cloud_json();
        v["datacontenttype"] = media_type.clone();
        assert_eq!(read(&v).is_ok(), accepted, "{media_type}");
    }
    let mut v = shipped_cloud_json();
    v.as_object_mut().unwrap().remove("data");
    v["data_base64"] = json!("e30=");
    assert_eq!(CloudEvent::from_value(v).unwrap_err().pointer(), Some("/data_base64"));
}

#[test]
fn a_short_cloud_event_reads_like_the_spec_short_envelope() {
    let event = read(&json!({
        "specversion": "1.0",
        "id": "c4f7d8e6-4a9b-4579-8d4e-6f3d8f5b9c0e",
        "source": "InventoryService",
        "type": "InventoryUpdatedEvent",
        "time": "2025-02-25T19:05:00Z",
        "correlationid": "123e4567-e89b-12d3-a456-426614174123",
        "metadata": r#"{"initiatedBy": "batchProcessor", "sourceSystem": "InventoryManagementSystem"}"#,
        "data": { "itemId": "ITEM001", "newQuantity": 90 }
    }))
    .unwrap();
    let cloud = event.to_cloud_event();
    assert_eq!(cloud.extension("retrycount"), Some(&ExtensionValue::Integer(0)));
    assert_eq!(cloud.extension("eventstatus"), Some(&"created".into()));
    assert_eq!(cloud.extension("schemaid"), Some(&"inventoryUpdatedDomainSchema".into()));
    assert_eq!(read(&cloud.to_value()).unwrap(), event);
}

#[test]
fn serde_reads_a_cloud_event_as_strictly_as_from_json() {
    let err =
        serde_json::from_value::<CloudEvent>(json!({ "specversion": "1.0", "id": "1", "source": "/s" })).unwrap_err();
    assert!(err.to_string().contains("/type"), "{err}");
    let cloud: CloudEvent = serde_json::from_value(shipped_cloud_json()).unwrap();
    assert_eq!(serde_json::to_value(&cloud).unwrap(), shipped_cloud_json());
}

// ---- the round trip, over random envelopes ----------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    // Quotes, backslashes, commas and non-ASCII: what would break a naive encoding of tags.
    proptest::string::string_regex(r#"[a-zA-Z0-9 ,"\\/:é€😀-]{1,12}"#).unwrap()
}

fn uuid() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string())
}

fn timestamp() -> impl Strategy<Value = String> {
    // Years 1970 to 9999, to the nanosecond: RFC 3339 writes four-digit years.
    (0i64..253_402_300_799, 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
        DateTime::<Utc>::from_timestamp(secs, nanos).unwrap().to_rfc3339_opts(SecondsFormat::AutoSi, true)
    })
}

fn metadata() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        text().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from)
    ];
    (text(), text(), proptest::collection::btree_map("[a-z][a-zA-Z]{0,8}", value, 0..4)).prop_map(
        |(by, system, extra)| {
            let mut m = json!({ "initiatedBy": by, "sourceSystem": system });
            for (k, v) in extra {
                if k != "initiatedBy" && k != "sourceSystem" {
                    m[k] = v;
                }
            }
            m
        },
    )
}

/// An envelope's JSON with random values in every field, of one of two contracts.
fn envelope() -> impl Strategy<Value = Value> {
    let ids = (uuid(), uuid(), proptest::option::of(uuid()), proptest::option::of(uuid()));
    let lifecycle =
        (prop_oneof![Just("created"), Just("processed"), Just("failed"), Just("deadLettered")], any::<u32>());
    let payloads = prop_oneof![
        (text(), text(), text(), text()).prop_map(|(order, carrier, tracking, city)| {
            let mut v = spec("10-");
            v["payload"]["orderId"] = json!(order);
            v["payload"]["carrier"] = json!(carrier);
            v["payload"]["trackingNumber"] = json!(tracking);
            v["payload"]["shippingAddress"]["city"] = json!(city);
            v
        }),
        (text(), any::<u32>()).prop_map(|(item, quantity)| {
            let mut v = spec("02-");
            v["payload"] = json!({ "itemId": item, "newQuantity": quantity });
            v
        }),
    ];
    (payloads, ids, timestamp(), text(), lifecycle, proptest::collection::vec(text(), 0..4), metadata()).prop_map(
        |(mut v, (event, correlation, command, causation), time, source, (status, retries), tags, metadata)| {
            let m = v.as_object_mut().unwrap();
            m.insert("eventId".into(), event.into());
            m.insert("correlationId".into(), correlation.into());
            m.remove("commandId");
            m.remove("causationId");
            if let Some(id) = command {
                m.insert("commandId".into(), id.into());
            }
            if let Some(id) = causation {
                m.insert("causationId".into(), id.into());
            }
            m.insert("timestamp".into(), time.into());
            m.insert("eventSource".into(), source.into());
            m.insert("eventStatus".into(), status.into());
            m.insert("retryCount".into(), retries.into());
            m.insert("tags".into(), tags.into());
            m.insert("metadata".into(), metadata);
            v
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_envelope_survives_the_round_trip(v in envelope()) {
        let event = AnyEvent::from_json(v.to_string().as_bytes()).unwrap();
        let cloud = event.to_cloud_event();
        prop_assert_eq!(AnyEvent::from_cloud_event(cloud.clone()).unwrap(), event.clone());

        // And through the JSON text of the CloudEvent, the envelope's JSON comes back the same.
        let text = cloud.to_json();
        let back = AnyEvent::from_cloud_event(CloudEvent::from_json(text.as_bytes()).unwrap()).unwrap();
        prop_assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&event).unwrap());
        prop_assert_eq!(&back, &event);
        prop_assert_eq!(back.to_cloud_event(), cloud);
    }

    #[test]
    fn a_typed_envelope_survives_the_round_trip(v in envelope()) {
        if v["eventName"] == "InventoryUpdatedEvent" {
            let event = InventoryUpdatedEvent::from_json(v.to_string().as_bytes()).unwrap();
            prop_assert_eq!(InventoryUpdatedEvent::from_cloud_event(event.to_cloud_event()).unwrap(), event);
        } else {
            let event = OrderShippedNotificationEvent::from_json(v.to_string().as_bytes()).unwrap();
            prop_assert_eq!(OrderShippedNotificationEvent::from_cloud_event(event.to_cloud_event()).unwrap(), event);
        }
    }
}
