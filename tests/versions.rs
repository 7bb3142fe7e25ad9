//! Versions side by side: each has its own types at a predictable path, `AnyEvent` decodes each to
//! its own variant, and older versions upcast to newer ones where the compatibility gate allows.

mod common;

use common::order_created;
use events::order_created_schema::{latest, v1_0, v1_1};
use events::{AnyEvent, SchemaVersion};
use serde_json::json;

fn payload_1_0() -> v1_0::OrderCreatedEventPayload {
    serde_json::from_value(order_created()["payload"].clone()).unwrap()
}

#[test]
fn each_version_has_its_own_types_and_latest_is_the_newest() {
    assert_eq!(<v1_0::OrderCreatedEventPayload as events::Contract>::SCHEMA_REF.version, SchemaVersion::new(1, 0));
    assert_eq!(<v1_1::OrderCreatedEventPayload as events::Contract>::SCHEMA_REF.version, SchemaVersion::new(1, 1));
    assert_eq!(<latest::OrderCreatedEventPayload as events::Contract>::SCHEMA_REF.version, SchemaVersion::new(1, 1));
    // The subject module re-exports the newest version's names.
    let newest: events::order_created_schema::OrderCreatedEventPayload =
        v1_1::OrderCreatedEventPayload::from(payload_1_0());
    assert_eq!(newest.total_amount, 250.0);
}

#[test]
fn any_event_decodes_each_version_to_its_own_variant() {
    let old = order_created();
    assert!(matches!(AnyEvent::from_json(old.to_string().as_bytes()).unwrap(), AnyEvent::OrderCreatedEventV1_0(_)));

    let mut new = old.clone();
    new["version"] = json!("1.1");
    new["eventVersion"] = json!("1.1");
    new["schemaRef"]["version"] = json!("1.1");
    new["schemaRef"]["uri"] = json!("https://schema-registry.example.com/schemas/orderCreatedSchema/1.1");
    new["payload"]["currency"] = json!("EUR");
    let AnyEvent::OrderCreatedEventV1_1(e) = AnyEvent::from_json(new.to_string().as_bytes()).unwrap() else {
        panic!("expected version 1.1")
    };
    assert_eq!(e.payload().currency.as_deref(), Some("EUR"));

    // 1.0 is closed: the field 1.1 added is refused there, naming it.
    let mut wrong = old.clone();
    wrong["payload"]["currency"] = json!("EUR");
    let err = AnyEvent::from_json(wrong.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.pointer(), Some("/payload"), "{err}");
}

#[test]
fn a_message_without_a_version_decodes_as_the_newest_that_accepts_it() {
    let mut short = order_created();
    for field in ["version", "schemaRef", "eventVersion"] {
        short.as_object_mut().unwrap().remove(field);
    }
    let decoded = AnyEvent::from_json(short.to_string().as_bytes()).unwrap();
    assert!(matches!(decoded, AnyEvent::OrderCreatedEventV1_1(_)), "{decoded:?}");
}

#[test]
fn the_upcast_fills_new_fields_from_the_schema_default() {
    let upcast = v1_1::OrderCreatedEventPayload::from(payload_1_0());
    assert_eq!(upcast.currency.as_deref(), Some("USD"));
    assert_eq!(upcast.order_id.as_str(), "ORD12345");
    assert_eq!(upcast.items.len(), 2);
}

#[test]
fn into_latest_keeps_every_envelope_field_and_moves_to_the_newest_schema() {
    let AnyEvent::OrderCreatedEventV1_0(old) = AnyEvent::from_json(order_created().to_string().as_bytes()).unwrap()
    else {
        panic!("expected version 1.0")
    };
    let AnyEvent::OrderCreatedEventV1_1(new) = AnyEvent::OrderCreatedEventV1_0(old.clone()).into_latest() else {
        panic!("expected the upcast to 1.1")
    };
    assert_eq!(new.event_id(), old.event_id());
    assert_eq!(new.correlation_id(), old.correlation_id());
    assert_eq!(new.causation_id(), old.causation_id());
    assert_eq!(new.command_id(), old.command_id());
    assert_eq!(new.timestamp(), old.timestamp());
    assert_eq!(new.tags(), old.tags());
    assert_eq!(new.metadata(), old.metadata());
    assert_eq!(new.version(), SchemaVersion::new(1, 1));
    assert_eq!(new.schema_ref().version, SchemaVersion::new(1, 1));
    assert_eq!(new.payload().currency.as_deref(), Some("USD"));
    // The upcast event is a valid 1.1 message.
    let again = AnyEvent::from_json(new.to_json().as_bytes()).unwrap();
    assert_eq!(again, AnyEvent::OrderCreatedEventV1_1(new));
}

#[test]
fn into_latest_leaves_the_newest_and_single_version_contracts_alone() {
    let inventory = common::spec_examples().into_iter().find(|(n, _)| n.contains("InventoryUpdatedEvent")).unwrap().1;
    let decoded = AnyEvent::from_json(inventory.to_string().as_bytes()).unwrap();
    assert_eq!(decoded.clone().into_latest(), decoded);
}
