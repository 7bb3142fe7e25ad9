//! The Confluent JSON wire format (feature `confluent`): magic byte, the recorded schema id, the
//! JSON; decoded with the id choosing the version; bad frames refused, one test per kind; and the
//! framed JSON validates, with a plain validator, against the envelope schema the id names.

use std::path::Path;

use events::confluent::ConfluentError;
use events::inventory_updated_schema::InventoryUpdatedIntegrationEvent;
use events::{AnyCommand, AnyEvent, CommandSet, Contracts, EventSet, Registry};

fn schema_id(name: &str, version: events::SchemaVersion) -> Option<u32> {
    Contracts::schema_id(name, version)
}

fn spec(file: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec").join(file)).unwrap()
}

fn stock() -> InventoryUpdatedIntegrationEvent {
    InventoryUpdatedIntegrationEvent::from_json(&spec("09-InventoryUpdatedIntegrationEvent.json")).unwrap()
}

#[test]
fn an_event_is_framed_with_its_recorded_id_and_decodes_back() {
    let event = stock();
    let bytes = event.to_confluent().unwrap();
    assert_eq!(bytes[0], 0);
    let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
    assert_eq!(Some(id), schema_id("InventoryUpdatedIntegrationEvent", event.version()));
    assert_eq!(&bytes[5..], event.to_json().as_bytes());
    match AnyEvent::from_confluent(&bytes).unwrap() {
        AnyEvent::InventoryUpdatedIntegrationEventV1_0(back) => assert_eq!(back, event),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_id_chooses_the_version_of_a_message_that_names_none() {
    // OrderCreatedEvent 1.0's message, without a version: on its own it decodes as the newest
    // version that accepts it (1.1); framed with 1.0's id, it is 1.0.
    let mut json: serde_json::Value = serde_json::from_slice(&spec("01-OrderCreatedEvent.json")).unwrap();
    json.as_object_mut().unwrap().remove("version");
    json.as_object_mut().unwrap().remove("schemaRef");
    let id = schema_id("OrderCreatedEvent", events::SchemaVersion::new(1, 0)).unwrap();
    let mut bytes = vec![0];
    bytes.extend(id.to_be_bytes());
    bytes.extend(json.to_string().into_bytes());
    assert!(matches!(AnyEvent::from_confluent(&bytes).unwrap(), AnyEvent::OrderCreatedEventV1_0(_)));
    assert!(matches!(AnyEvent::from_json(json.to_string().as_bytes()).unwrap(), AnyEvent::OrderCreatedEventV1_1(_)));
}

#[test]
fn a_command_is_framed_too() {
    let wire = AnyCommand::from_json(
        &serde_json::to_vec(&serde_json::json!({
            "commandName": "CreateOrderCommand", "commandId": "123e4567-e89b-12d3-a456-426614174000",
            "correlationId": "123e4567-e89b-12d3-a456-426614174001", "timestamp": "2026-01-01T00:00:00Z",
            "payload": { "customerId": "CUST67890", "items": [{ "itemId": "ITEM001", "quantity": 2, "price": 100 }] },
            "metadata": { "initiatedBy": "user123", "sourceSystem": "OrderManagementSystem" }
        }))
        .unwrap(),
    )
    .unwrap();
    let AnyCommand::CreateOrderCommandV1_0(command) = wire else { panic!("{wire:?}") };
    let bytes = command.to_confluent().unwrap();
    assert!(matches!(AnyCommand::from_confluent(&bytes), Ok(AnyCommand::CreateOrderCommandV1_0(_))));
}

#[test]
fn an_unknown_id_is_refused() {
    let mut bytes = stock().to_confluent().unwrap();
    bytes[1..5].copy_from_slice(&9999u32.to_be_bytes());
    assert_eq!(AnyEvent::from_confluent(&bytes).unwrap_err(), ConfluentError::UnknownId { id: 9999 });
}

#[test]
fn a_wrong_magic_byte_is_refused() {
    let mut bytes = stock().to_confluent().unwrap();
    bytes[0] = 1;
    assert_eq!(AnyEvent::from_confluent(&bytes).unwrap_err(), ConfluentError::MagicByte { found: 1 });
    assert!(matches!(AnyEvent::from_confluent(b"{\"eventName\":1}"), Err(ConfluentError::MagicByte { found: b'{' })));
}

#[test]
fn a_truncated_header_is_refused() {
    let bytes = stock().to_confluent().unwrap();
    for len in 0..5 {
        assert_eq!(AnyEvent::from_confluent(&bytes[..len]).unwrap_err(), ConfluentError::Truncated { len });
    }
}

#[test]
fn an_id_that_disagrees_with_the_event_name_is_refused() {
    let mut bytes = stock().to_confluent().unwrap();
    let other = schema_id("OrderShippedNotificationEvent", events::SchemaVersion::new(1, 0)).unwrap();
    bytes[1..5].copy_from_slice(&other.to_be_bytes());
    match AnyEvent::from_confluent(&bytes).unwrap_err() {
        ConfluentError::IdMismatch { id, expected_name, found_name, .. } => {
            assert_eq!(id, other);
            assert_eq!(expected_name, "OrderShippedNotificationEvent");
            assert_eq!(found_name, "InventoryUpdatedIntegrationEvent");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_bad_message_after_a_good_header_is_a_decode_error_with_its_pointer() {
    let mut bytes = stock().to_confluent().unwrap();
    bytes.truncate(5);
    bytes.extend(br#"{"eventName": "InventoryUpdatedIntegrationEvent", "eventId": "nope"}"#);
    match AnyEvent::from_confluent(&bytes).unwrap_err() {
        ConfluentError::Decode(e) => assert_eq!(e.pointer(), Some("/eventId")),
        e => panic!("{e:?}"),
    }
}

/// What a validating Confluent deserializer does: fetch the schema the id names and validate the
/// JSON against it. The id names the envelope schema of its version.
#[test]
fn the_framed_json_validates_against_the_schema_its_id_names() {
    let config =
        events_codegen::Config::from_manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let registry = config.inspect().unwrap();
    for file in [
        "01-OrderCreatedEvent.json",
        "09-InventoryUpdatedIntegrationEvent.json",
        "10-OrderShippedNotificationEvent.json",
    ] {
        let event = AnyEvent::from_json(&spec(file)).unwrap();
        let bytes = match &event {
            AnyEvent::OrderCreatedEventV1_0(e) => e.to_confluent(),
            AnyEvent::OrderCreatedEventV1_1(e) => e.to_confluent(),
            AnyEvent::InventoryUpdatedIntegrationEventV1_0(e) => e.to_confluent(),
            AnyEvent::OrderShippedNotificationEventV1_0(e) => e.to_confluent(),
            other => panic!("{other:?}"),
        }
        .unwrap();
        let id = u32::from_be_bytes(bytes[1..5].try_into().unwrap());
        let recorded = registry.registry().schema_ids.iter().find(|s| s.id == id).unwrap();
        let version_file = registry
            .registry()
            .files()
            .find(|f| f.schema_ref.id == recorded.subject && f.schema_ref.version == recorded.version)
            .unwrap();
        let schema = registry.envelope_schema(version_file).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes[5..]).unwrap();
        let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
}
