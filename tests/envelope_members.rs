//! Every place that knows the envelope's members agrees with their one declaration,
//! `events::EVENT_MEMBERS` and `events::COMMAND_MEMBERS`: the encoders write them in that order,
//! `Debug` shows them, both decode paths require exactly the required ones, check the ones the
//! contract fixes and refuse any other, and the envelope schema lists them.

use std::fmt;
use std::path::Path;

use events::create_order_schema::{CreateOrderCommand, CreateOrderCommandPayload};
use events::order_created_schema::{OrderCreatedEvent, OrderCreatedEventPayload};
use events::shared::commerce::OrderItem;
use events::{Member, Metadata, RawCommand, RawEvent, COMMAND_MEMBERS, EVENT_MEMBERS};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::{json, Value};

fn command() -> CreateOrderCommand {
    let items = vec![OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 }];
    let payload = CreateOrderCommandPayload { customer_id: "CUST1".into(), items };
    // A cause, so that `causationId` is written too.
    let start = events::send_order_confirmation_schema::SendOrderConfirmationCommand::new(
        events::send_order_confirmation_schema::SendOrderConfirmationCommandPayload {
            order_id: "ORD0".into(),
            customer_id: "CUST1".into(),
        },
        Metadata::new("user1", "Web"),
    )
    .unwrap();
    CreateOrderCommand::caused_by(&start, payload).unwrap()
}

/// An event with every member set: caused by a command, so `commandId` and `causationId` too.
fn event() -> OrderCreatedEvent {
    let create = command();
    let payload = OrderCreatedEventPayload {
        order_id: "ORD1".into(),
        customer_id: "CUST1".into(),
        items: create.payload().items.clone(),
        total_amount: 200.0,
        currency: Some("EUR".into()),
    };
    OrderCreatedEvent::caused_by(&create, payload).unwrap()
}

/// The top-level member names of a JSON object, in the order written.
fn keys_in_order(json: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    serde::Deserializer::deserialize_map(&mut de, Keys).unwrap()
}

fn names(members: &[Member]) -> Vec<&'static str> {
    members.iter().map(|m| m.name).collect()
}

#[test]
fn the_encoders_write_every_member_in_the_declared_order() {
    assert_eq!(keys_in_order(&event().to_json()), names(&EVENT_MEMBERS));
    assert_eq!(keys_in_order(&command().to_json()), names(&COMMAND_MEMBERS));
    // Members written only when set are the only ones an event without a cause leaves out.
    let fresh = OrderCreatedEvent::new(event().into_payload(), Metadata::new("u", "s")).unwrap();
    let expected: Vec<&str> = EVENT_MEMBERS.iter().filter(|m| !m.when_set).map(|m| m.name).collect();
    assert_eq!(keys_in_order(&fresh.to_json()), expected);
}

fn snake(name: &str) -> String {
    name.chars().fold(String::new(), |mut s, c| {
        if c.is_ascii_uppercase() {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
        s
    })
}

#[test]
fn debug_shows_every_member() {
    // The name is the struct's; `version` is inside `schema_ref`.
    let shown = |text: String, members: &[Member]| {
        for m in members.iter().filter(|m| !m.name.ends_with("Name") && m.name != "version") {
            assert!(text.contains(&format!("{}:", snake(m.name))), "{} is not in {text}", m.name);
        }
    };
    shown(format!("{:?}", event()), &EVENT_MEMBERS);
    shown(format!("{:?}", command()), &COMMAND_MEMBERS);
}

/// A value of the member other than the one the contract fixes.
fn wrong_fixed(name: &str) -> Value {
    match name {
        "eventName" | "commandName" => json!("SomethingElse"),
        "version" => json!("9.9"),
        "schemaRef" => json!({ "id": "otherSchema", "version": "1.0", "uri": "https://example.com/otherSchema/1.0" }),
        "eventType" => json!("integration"),
        "eventVersion" => json!("9.9"),
        other => panic!("{other} is fixed by the contract, and this test has no other value for it"),
    }
}

/// Decodes through both paths (the fast one first, as `from_json` does, then the complete one)
/// and checks they agree.
fn decode_event(value: &Value) -> Result<OrderCreatedEvent, String> {
    let bytes = value.to_string();
    let fast = OrderCreatedEvent::from_json(bytes.as_bytes()).map_err(|e| e.to_string());
    let complete = RawEvent::from_value(value.clone()).and_then(OrderCreatedEvent::from_raw).map_err(|e| e.to_string());
    assert_eq!(fast.is_ok(), complete.is_ok(), "{value}: {fast:?} / {complete:?}");
    if let (Ok(a), Ok(b)) = (&fast, &complete) {
        assert_eq!(a, b, "{value}");
    }
    fast
}

fn decode_command(value: &Value) -> Result<CreateOrderCommand, String> {
    let bytes = value.to_string();
    let direct = CreateOrderCommand::from_json(bytes.as_bytes()).map_err(|e| e.to_string());
    let raw = RawCommand::from_value(value.clone()).and_then(CreateOrderCommand::from_raw).map_err(|e| e.to_string());
    assert_eq!(direct.is_ok(), raw.is_ok(), "{value}: {direct:?} / {raw:?}");
    direct
}

fn each_member_is_read_as_declared<T: fmt::Debug>(
    full: Value,
    members: &[Member],
    decode: impl Fn(&Value) -> Result<T, String>,
) {
    decode(&full).unwrap();
    let names = names(members);
    let mut keys: Vec<&str> = full.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut declared = names.clone();
    declared.sort();
    assert_eq!(keys, declared, "the full form holds exactly the declared members");
    for m in members {
        let mut without = full.clone();
        without.as_object_mut().unwrap().remove(m.name);
        let result = decode(&without);
        assert_eq!(result.is_err(), m.required, "without {}: {result:?}", m.name);
        if m.from_contract {
            let mut wrong = full.clone();
            wrong[m.name] = wrong_fixed(m.name);
            assert!(decode(&wrong).is_err(), "{} other than the contract's was accepted", m.name);
        }
    }
    let mut unknown = full.clone();
    unknown["eventPriority"] = json!("high");
    let err = decode(&unknown).unwrap_err();
    assert!(err.contains("/eventPriority"), "{err}");
}

#[test]
fn both_decoders_require_check_and_refuse_as_declared() {
    each_member_is_read_as_declared(serde_json::to_value(event()).unwrap(), &EVENT_MEMBERS, decode_event);
    each_member_is_read_as_declared(serde_json::to_value(command()).unwrap(), &COMMAND_MEMBERS, decode_command);
}

#[test]
fn the_envelope_schema_lists_the_declared_members() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let registry = events_codegen::Config::from_manifest(&manifest).unwrap().inspect().unwrap();
    for (name, members) in [("OrderCreatedEvent", &EVENT_MEMBERS[..]), ("CreateOrderCommand", &COMMAND_MEMBERS[..])] {
        let file = registry.contract(name, None).unwrap();
        let schema = registry.envelope_schema(file).unwrap();
        let mut properties: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        properties.sort();
        let mut declared = names(members);
        declared.sort();
        assert_eq!(properties, declared, "{name}");
        let mut required: Vec<&str> =
            schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        required.sort();
        let mut declared: Vec<&str> = members.iter().filter(|m| m.required).map(|m| m.name).collect();
        declared.sort();
        assert_eq!(required, declared, "{name}");
    }
}
