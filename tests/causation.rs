//! Constructors fill what the schema knows, and causation/correlation chains follow the spec:
//! command → event → command, one correlation id throughout.

use events::create_order_schema::{self, CreateOrderCommand, CreateOrderCommandPayload};
use events::inventory_updated_domain_schema::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
use events::order_created_schema::v1_0::{OrderCreatedEvent, OrderCreatedEventPayload, OrderItem};
use events::send_order_confirmation_schema::{SendOrderConfirmationCommand, SendOrderConfirmationCommandPayload};
use events::{AnyEvent, CausationId, Cause, EventStatus, EventType, Metadata, SchemaVersion};

fn create_order() -> CreateOrderCommand {
    let payload = CreateOrderCommandPayload {
        customer_id: "CUST67890".into(),
        items: vec![create_order_schema::latest::OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
    };
    CreateOrderCommand::new(payload, Metadata::new("user123", "OrderManagementSystem")).unwrap()
}

fn order_created_payload() -> OrderCreatedEventPayload {
    OrderCreatedEventPayload {
        order_id: "ORD12345".into(),
        customer_id: "CUST67890".into(),
        items: vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }],
        total_amount: 200.0,
    }
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
        SendOrderConfirmationCommandPayload { order_id: "ORD12345".into(), customer_id: "CUST67890".into() },
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
        InventoryUpdatedEventPayload { item_id: "ITEM001".into(), new_quantity: 98 },
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
        SendOrderConfirmationCommandPayload { order_id: "ORD12345".into(), customer_id: "CUST67890".into() },
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
    // Fields are plain types, so an empty id or a quantity of 0 makes a payload; the constructor
    // checks the whole schema and refuses it, naming the field and the keyword.
    let mut payload = order_created_payload();
    payload.order_id = String::new();
    let err = OrderCreatedEvent::new(payload, Metadata::new("u", "s")).unwrap_err();
    let found: Vec<(&str, &str)> = err.violations.iter().map(|v| (v.pointer.as_str(), v.keyword.as_str())).collect();
    assert_eq!(found, [("/payload/orderId", "minLength")], "{err}");

    let mut payload = order_created_payload();
    payload.items[0].quantity = 0;
    let err = OrderCreatedEvent::caused_by(&create_order(), payload).unwrap_err();
    let found: Vec<(&str, &str)> = err.violations.iter().map(|v| (v.pointer.as_str(), v.keyword.as_str())).collect();
    assert_eq!(found, [("/payload/items/0/quantity", "minimum")], "{err}");
}

#[test]
fn a_payload_that_breaks_its_schema_makes_no_envelope() {
    // The types hold the payload's shape; the constructor checks the rest of the schema (minItems, minimum).
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
