//! `"x-sensitive": true` properties never show in `Debug` or in the redacted JSON view, wherever
//! they sit (top level, optional, nested objects, array items, `$ref`ed definitions); the wire form
//! keeps them.

use events::customer_registered_schema::latest::{Address, CustomerRegisteredEventPayloadPaymentCardsItem};
use events::customer_registered_schema::{CustomerRegisteredEvent, CustomerRegisteredEventPayload};
use events::{AnyEvent, Metadata};
use serde_json::json;

const SECRETS: [&str; 4] = ["ada@example.com", "+44 20 7946 0000", "1 Analytical Way", "4111111111111111"];

fn payload() -> CustomerRegisteredEventPayload {
    CustomerRegisteredEventPayload {
        customer_id: "CUST1".into(),
        email: SECRETS[0].into(),
        phone: Some(SECRETS[1].into()),
        addresses: vec![
            Address { label: "home".into(), street: SECRETS[2].into(), city: "London".into() },
            Address { label: "work".into(), street: SECRETS[2].into(), city: "Cambridge".into() },
        ],
        payment_cards: Some(vec![CustomerRegisteredEventPayloadPaymentCardsItem {
            last4: "1111".into(),
            number: SECRETS[3].into(),
        }]),
    }
}

fn event() -> CustomerRegisteredEvent {
    CustomerRegisteredEvent::new(payload(), Metadata::new("signup", "Web")).unwrap()
}

fn assert_no_secret(shown: &str) {
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret:?} leaked into:\n{shown}");
    }
}

#[test]
fn the_payload_debug_masks_every_sensitive_value() {
    let shown = format!("{:?}", payload());
    assert_no_secret(&shown);
    assert!(shown.contains("CUST1") && shown.contains("London") && shown.contains("1111"), "{shown}");
    assert_eq!(shown.matches("<redacted>").count(), 5, "{shown}");
    assert_no_secret(&format!("{:#?}", payload()));
}

#[test]
fn nested_types_mask_on_their_own_too() {
    let p = payload();
    assert_no_secret(&format!("{:?}", p.addresses[0]));
    assert_no_secret(&format!("{:?}", p.addresses[0].street));
    assert_no_secret(&format!("{:?}", p.payment_cards.as_ref().unwrap()[0]));
    assert_no_secret(&format!("{:?}", p.payment_cards.as_ref().unwrap()[0].number));
    assert_no_secret(&format!("{:?}", p.phone));
    // What is not sensitive still shows.
    let address: &Address = &p.addresses[0];
    assert!(format!("{address:?}").contains("home"));
    let card: &CustomerRegisteredEventPayloadPaymentCardsItem = &p.payment_cards.as_ref().unwrap()[0];
    assert!(format!("{card:?}").contains("1111"));
}

#[test]
fn the_envelope_debug_and_the_decoded_event_debug_mask_them() {
    let e = event();
    assert_no_secret(&format!("{e:?}"));
    let decoded = AnyEvent::from_json(e.to_json().as_bytes()).unwrap();
    assert_no_secret(&format!("{decoded:?}"));
}

#[test]
fn the_redacted_view_masks_them_and_keeps_the_rest() {
    let e = event();
    let view = e.redacted();
    assert_no_secret(&view.to_string());
    assert_eq!(view["payload"]["email"], "<redacted>");
    assert_eq!(view["payload"]["phone"], "<redacted>");
    assert_eq!(view["payload"]["addresses"][1]["street"], "<redacted>");
    assert_eq!(view["payload"]["paymentCards"][0]["number"], "<redacted>");
    assert_eq!(view["payload"]["paymentCards"][0]["last4"], "1111");
    assert_eq!(view["eventId"], json!(e.event_id().to_string()));
    // The same view through the registry-wide decoder.
    let decoded = AnyEvent::from_json(e.to_json().as_bytes()).unwrap();
    assert_eq!(decoded.redacted(), view);
}

#[test]
fn the_wire_form_is_unchanged() {
    let e = event();
    let wire = e.to_json();
    for secret in SECRETS {
        assert!(wire.contains(secret), "{secret:?} missing from the wire form");
    }
    assert_eq!(CustomerRegisteredEvent::from_json(wire.as_bytes()).unwrap(), e);
}

#[test]
fn a_refused_sensitive_value_is_not_quoted_in_the_error() {
    let mut wire: serde_json::Value = serde_json::from_str(&event().to_json()).unwrap();
    wire["payload"]["paymentCards"][0]["number"] = json!("4111-1111-1111-1111");
    wire["payload"]["email"] = json!("not an address");
    let err = AnyEvent::from_json(wire.to_string().as_bytes()).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("4111-1111-1111-1111") && !shown.contains("not an address"), "{shown}");
    assert!(shown.contains("/payload/paymentCards/0/number"), "{shown}");
    assert!(shown.contains("/payload/email"), "{shown}");
}

#[test]
fn commands_and_events_without_sensitive_fields_show_everything() {
    let order = events::order_created_schema::v1_0::OrderCreatedEventPayload {
        order_id: "ORD-7".into(),
        customer_id: "C".into(),
        items: vec![],
        total_amount: 0.0,
    };
    assert!(format!("{order:?}").contains("ORD-7"));
}
