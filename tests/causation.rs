//! Constructors fill what the schema knows, and causation/correlation chains follow the spec:
//! command → event → command, one correlation id throughout.

use events::create_order_schema::{CreateOrderCommand, CreateOrderCommandPayload};
use events::inventory_updated_domain_schema::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
use events::order_created_schema::v1_0::{OrderCreatedEvent, OrderCreatedEventPayload};
use events::send_order_confirmation_schema::{SendOrderConfirmationCommand, SendOrderConfirmationCommandPayload};
use events::{AnyEvent, CausationId, Cause, EventStatus, EventType, Metadata, SchemaVersion};
use serde_json::json;

fn create_order() -> CreateOrderCommand {
    let payload: CreateOrderCommandPayload = serde_json::from_value(json!({
        "customerId": "CUST67890", "items": [{ "itemId": "ITEM001", "quantity": 2, "price": 100 }]
    }))
    .unwrap();
    CreateOrderCommand::new(payload, Metadata::new("user123", "OrderManagementSystem")).unwrap()
}

fn order_created_payload() -> OrderCreatedEventPayload {
    serde_json::from_value(json!({
        "orderId": "ORD12345", "customerId": "CUST67890",
        "items": [{ "itemId": "ITEM001", "quantity": 2, "price": 100 }], "totalAmount": 200
    }))
    .unwrap()
}

#[test]
fn a_new_event_is_filled_from_its_schema() {
    let e = OrderCreatedEvent::new(order_created_payload(), Metadata::new("user123", "OrderManagementSystem")).unwrap();
    assert_eq!(e.event_name(), "OrderCreatedEvent");
    assert_eq!(e.version(), SchemaVersion::new(1, 0));
    assert_eq!(e.schema_ref().id, "orderCreatedSchema");
    assert_eq!(e.schema_ref().uri, "https://schema-registry.example.com/schemas/orderCreatedSchema/1.0");
    assert_eq!(e.event_type(), EventType::Domain);
    assert_eq!(e.event_source(), "OrderService");
    assert_eq!(e.event_version(), "1.0");
    assert_eq!(e.event_status(), EventStatus::Created);
    assert_eq!(e.tags(), ["order", "creation"]);
    assert_eq!(e.retry_count(), 0);
    assert_eq!(e.causation_id(), None);
    let age = chrono::Utc::now() - e.timestamp();
    assert!(age >= chrono::Duration::zero() && age < chrono::Duration::seconds(60));
}

#[test]
fn fresh_events_get_fresh_ids() {
    let meta = Metadata::new("u", "s");
    let a = OrderCreatedEvent::new(order_created_payload(), meta.clone()).unwrap();
    let b = OrderCreatedEvent::new(order_created_payload(), meta).unwrap();
    assert_ne!(a.event_id(), b.event_id());
    assert_ne!(a.correlation_id(), b.correlation_id());
}

#[test]
fn an_event_from_a_command_carries_its_ids() {
    let command = create_order();
    let event = OrderCreatedEvent::caused_by(&command, order_created_payload()).unwrap();
    assert_eq!(event.causation_id(), Some(CausationId::from(command.command_id())));
    assert_eq!(event.command_id(), Some(command.command_id()));
    assert_eq!(event.correlation_id(), command.correlation_id());
    assert_eq!(event.metadata(), command.metadata());
}

#[test]
fn a_command_from_an_event_points_at_the_event() {
    let command = create_order();
    let event = OrderCreatedEvent::caused_by(&command, order_created_payload()).unwrap();
    let confirm = SendOrderConfirmationCommand::caused_by(
        &event,
        SendOrderConfirmationCommandPayload {
            order_id: "ORD12345".try_into().unwrap(),
            customer_id: "CUST67890".try_into().unwrap(),
        },
    )
    .unwrap();
    assert_eq!(confirm.causation_id(), Some(CausationId::from(event.event_id())));
    assert_eq!(confirm.correlation_id(), command.correlation_id());
    assert_ne!(confirm.command_id(), command.command_id());
}

#[test]
fn an_event_from_an_event_keeps_the_related_command() {
    let command = create_order();
    let created = OrderCreatedEvent::caused_by(&command, order_created_payload()).unwrap();
    let stock = InventoryUpdatedEvent::caused_by(
        &created,
        InventoryUpdatedEventPayload { item_id: "ITEM001".try_into().unwrap(), new_quantity: 98 },
    )
    .unwrap();
    assert_eq!(stock.causation_id(), Some(CausationId::from(created.event_id())));
    assert_eq!(stock.command_id(), Some(command.command_id()));
    assert_eq!(stock.correlation_id(), command.correlation_id());
}

#[test]
fn a_decoded_event_can_cause_the_next_message() {
    let created = OrderCreatedEvent::caused_by(&create_order(), order_created_payload()).unwrap();
    let received = AnyEvent::from_json(created.to_json().as_bytes()).unwrap();
    assert_eq!(received.causation(), created.causation());
    let next = SendOrderConfirmationCommand::caused_by(
        &received,
        SendOrderConfirmationCommandPayload {
            order_id: "ORD12345".try_into().unwrap(),
            customer_id: "CUST67890".try_into().unwrap(),
        },
    )
    .unwrap();
    assert_eq!(next.causation_id(), Some(created.event_id().into()));
}

#[test]
fn typed_envelopes_round_trip_through_serde() {
    let created = OrderCreatedEvent::caused_by(&create_order(), order_created_payload()).unwrap().with_tag("ecommerce");
    let json = serde_json::to_string(&created).unwrap();
    let back: OrderCreatedEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(back, created);
    let command = create_order();
    let back: CreateOrderCommand = serde_json::from_str(&command.to_json()).unwrap();
    assert_eq!(back, command);
}

#[test]
fn typed_decoding_refuses_another_event() {
    let created = OrderCreatedEvent::new(order_created_payload(), Metadata::new("u", "s")).unwrap();
    let err = InventoryUpdatedEvent::from_json(created.to_json().as_bytes()).unwrap_err();
    assert_eq!(err.pointer(), Some("/eventName"));
}

#[test]
fn payload_constraints_hold_at_construction_too() {
    // Constrained strings are newtypes: an empty id does not even make a payload.
    assert!(events::order_created_schema::v1_0::OrderCreatedEventPayloadOrderId::try_from("").is_err());
}

#[test]
fn a_payload_that_breaks_its_schema_makes_no_envelope() {
    // The types hold part of the schema; the constructor checks the rest (minItems, minimum on floats).
    let mut payload = order_created_payload();
    payload.items.clear();
    payload.total_amount = -5.0;
    let err = OrderCreatedEvent::new(payload, Metadata::new("u", "s")).unwrap_err();
    assert_eq!(err.contract, "OrderCreatedEvent");
    let pointers: Vec<&str> = err.violations.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(pointers, ["/payload/items", "/payload/totalAmount"], "{err}");
}

#[test]
fn a_nan_amount_makes_no_envelope() {
    let mut payload = order_created_payload();
    payload.total_amount = f64::NAN;
    assert!(OrderCreatedEvent::caused_by(&create_order(), payload).is_err());
}

#[test]
fn metadata_never_writes_a_key_twice() {
    let m = Metadata::new("u", "s").with("initiatedBy", "admin").with("channel", "web");
    assert_eq!(m.initiated_by, "admin");
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(json.matches("initiatedBy").count(), 1, "{json}");
}
