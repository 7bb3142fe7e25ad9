//! The registry's access rules through the tool: shown by `list`, written as the broker's
//! authorization by `nats-config`, which a real `nats-server` then enforces.

mod common;

use common::{events, Registry};

#[test]
fn list_shows_who_publishes_and_who_reads() {
    let list = events(&["list", "--json", "--no-types"]).json();
    let entry =
        |id: &str| list["subjects"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["versions"][0].clone();
    let stock = entry("inventoryUpdatedSchema");
    assert_eq!(stock["publishers"], serde_json::json!(["InventoryService"]));
    assert_eq!(stock["consumers"], serde_json::json!(["OrderService", "PaymentService"]));
    assert_eq!(stock["consumersAsWritten"], serde_json::json!(["@fulfilment"]));
    assert_eq!(entry("createOrderSchema")["publishers"], serde_json::json!(["OrderManagementSystem"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_config_writes_hashes_keeps_passwords_private_and_a_real_server_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let out = dir.path().join("auth.conf");
    let args = ["nats-config", "--secrets", secrets.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let run = events(&args);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let config = std::fs::read_to_string(&out).unwrap();
    let users = [
        "CustomerService",
        "InventoryService",
        "NotificationService",
        "Operator",
        "OrderManagementSystem",
        "OrderService",
        "PaymentService",
        "ShippingService",
    ];
    let mut passwords = Vec::new();
    for user in users {
        let path = secrets.join(format!("{user}.json"));
        let credentials = events_nats::Credentials::load(&path).unwrap();
        assert!(!config.contains(credentials.password()), "{user}'s password is in the configuration");
        assert!(!run.stdout.contains(credentials.password()) && !run.stderr.contains(credentials.password()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{user}");
        }
        passwords.push(credentials.password().to_string());
    }
    assert_eq!(config.matches("user: ").count(), users.len());
    // Run again: the passwords stay.
    assert_eq!(events(&args).status, 0);
    for (user, password) in users.iter().zip(&passwords) {
        assert_eq!(events_nats::Credentials::load(&secrets.join(format!("{user}.json"))).unwrap().password(), password);
    }
    // A real server takes the configuration; services connect with their files, nobody else.
    let config = std::fs::read_to_string(&out).unwrap();
    let server = events_nats::LocalServer::start_with_authorization(&config).unwrap_or_else(|e| panic!("{e}"));
    let payment = events_nats::Credentials::load(&secrets.join("PaymentService.json")).unwrap();
    let client = events_nats::connect_as(&server.url(), &payment).await.unwrap();
    client.flush().await.unwrap();
    let wrong = events_nats::Credentials::new("PaymentService", "guess");
    assert!(events_nats::connect_as(&server.url(), &wrong).await.is_err());
}

#[test]
fn nats_config_refuses_a_registry_with_unknown_readers() {
    let registry = Registry::new(&[(
        "stockSchema/1.0.json",
        r#"{"x-event": {"name": "StockEvent", "type": "integration", "source": "Inventory", "consumers": ["Billing"]}, "type": "object"}"#,
    )]);
    let secrets = registry.path().join("secrets");
    let run = registry.run(&["nats-config", "--secrets", secrets.to_str().unwrap()], None);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("schemas/stockSchema/1.0.json:1:") && run.stderr.contains("/x-event/consumers/0"),
        "{}",
        run.stderr
    );
    assert!(!secrets.exists(), "nothing is written for a bad registry");
}
