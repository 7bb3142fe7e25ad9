//! The spec's causation chain on the shipped registry: CreateOrderCommand → OrderCreatedEvent →
//! SendOrderConfirmationCommand, each printed as it goes on the wire, then decoded back.
//!
//!     cargo run --example causation_chain

use events::create_order_schema::{self, CreateOrderCommand, CreateOrderCommandPayload};
use events::order_created_schema::{self, OrderCreatedEvent, OrderCreatedEventPayload};
use events::send_order_confirmation_schema::{SendOrderConfirmationCommand, SendOrderConfirmationCommandPayload};
use events::{AnyCommand, AnyEvent, Metadata};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Payloads are plain structs; the constructors check them against the whole schema.
    let order = CreateOrderCommandPayload {
        customer_id: "CUST67890".into(),
        items: vec![
            create_order_schema::latest::OrderItem { item_id: "ITEM001".into(), quantity: 2, price: 100.0 },
            create_order_schema::latest::OrderItem { item_id: "ITEM002".into(), quantity: 1, price: 50.0 },
        ],
    };
    let create = CreateOrderCommand::new(order, Metadata::new("user123", "OrderManagementSystem"))?;
    show("1. a user sends", &create)?;

    // The order service accepts the command's items as they are.
    let items = create
        .payload()
        .items
        .iter()
        .map(|i| order_created_schema::latest::OrderItem {
            item_id: i.item_id.clone(),
            quantity: i.quantity,
            price: i.price,
        })
        .collect();
    let created = OrderCreatedEvent::caused_by(
        &create,
        OrderCreatedEventPayload {
            order_id: "ORD12345".into(),
            customer_id: create.payload().customer_id.clone(),
            items,
            total_amount: 250.0,
            currency: None,
        },
    )?;
    show("2. the order service publishes", &created)?;

    let confirm = SendOrderConfirmationCommand::caused_by(
        &created,
        SendOrderConfirmationCommandPayload { order_id: "ORD12345".into(), customer_id: "CUST67890".into() },
    )?;
    show("3. which causes", &confirm)?;

    // A consumer decodes what arrives, validated against the registry.
    let event = AnyEvent::from_json(created.to_json().as_bytes())?;
    let command = AnyCommand::from_json(confirm.to_json().as_bytes())?;
    println!(
        "decoded: {} {} and {} {}",
        event.event_name(),
        event.event_id(),
        command.command_name(),
        command.command_id()
    );

    // And refuses what breaks the schema, naming the place.
    let mut bad: serde_json::Value = serde_json::from_str(&created.to_json())?;
    bad["payload"]["items"][0]["quantity"] = json!(0);
    match AnyEvent::from_json(bad.to_string().as_bytes()) {
        Err(e) => println!("refused: {e}"),
        Ok(_) => return Err("a quantity of 0 was accepted".into()),
    }
    Ok(())
}

fn show(step: &str, message: &impl serde::Serialize) -> serde_json::Result<()> {
    println!("{step}:\n{}\n", serde_json::to_string_pretty(message)?);
    Ok(())
}
