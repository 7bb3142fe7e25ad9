//! What the transport logs: every publish, delivery, retry and dead letter with the message's
//! name and ids, and never a payload value.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use events::customer_registered_schema::{latest::Address, CustomerRegisteredEvent, CustomerRegisteredEventPayload};
use events::{Jitter, RetryPolicy};
use events_nats::{Delivered, Router};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread, so that the subscriber set for it also sees the consumer's tasks.
#[tokio::test(flavor = "current_thread")]
async fn publishes_deliveries_retries_and_dead_letters_are_logged_with_ids_and_without_payload_values() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = common::server();
    let broker = common::broker(&server).await;
    let payload = CustomerRegisteredEventPayload {
        customer_id: "CUST-SECRET-ID".into(),
        email: "ada@example.com".into(),
        phone: None,
        addresses: vec![Address { label: "home".into(), street: "1 Analytical Way".into(), city: "London".into() }],
        payment_cards: None,
    };
    let event = CustomerRegisteredEvent::new(payload, events::Metadata::new("signup", "Web")).unwrap();
    broker.publisher().publish(&event).await.unwrap();

    let policy = RetryPolicy::new(2, Duration::from_millis(20), Duration::from_millis(20)).with_jitter(Jitter::None);
    let consumer = broker.consumer("CrmService").retry_policy(policy).build().await.unwrap();
    let router = Router::new().on(|_: Delivered<CustomerRegisteredEvent>| async { Err::<(), _>("crm unreachable") });
    let running = common::run(consumer, router);
    running.wait_for("the event is dead-lettered", Duration::from_secs(20), |s| s.dead_lettered == 1).await;
    running.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let id = event.event_id().to_string();
    let correlation = event.correlation_id().to_string();
    for what in ["published", "delivered", "handler failed; retrying", "dead-lettered"] {
        let line = logs.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("no `{what}` line in:\n{logs}"));
        assert!(line.contains("CustomerRegisteredEvent"), "{line}");
        if what != "dead-lettered" {
            assert!(line.contains(&correlation), "{line}");
        }
        if what != "dead-lettered" && what != "published" {
            assert!(line.contains(&id), "{line}");
        }
    }
    for secret in ["ada@example.com", "1 Analytical Way", "CUST-SECRET-ID"] {
        assert!(!logs.contains(secret), "a payload value reached the logs: {secret}\n{logs}");
    }
}
