//! Access rules in the registry: `publishers` and `consumers` in `x-event`/`x-command`, services,
//! roles, default consumers and operators in `[package.metadata.events.access]`. Every unknown name
//! is an error naming the file and pointer (or the manifest key); one test per kind.

mod common;

use std::collections::BTreeMap;

use events_codegen::registry::AccessPolicy;
use events_codegen::{Config, Diagnostic};

fn event(name: &str, source: &str, access: &str) -> String {
    format!(
        r#"{{
  "x-event": {{
    "name": "{name}", "type": "integration", "source": "{source}"{access}
  }},
  "type": "object"
}}"#
    )
}

fn policy() -> AccessPolicy {
    AccessPolicy {
        services: ["Inventory", "Orders", "Payments"].map(String::from).to_vec(),
        roles: BTreeMap::from([("fulfilment".to_string(), vec!["Orders".to_string(), "Payments".to_string()])]),
        default_consumers: Vec::new(),
        operators: vec!["Operator".to_string()],
    }
}

fn problems(files: &[(&str, String)], policy: AccessPolicy) -> Vec<Diagnostic> {
    let dir = common::registry(files);
    let result = Config::new().schema_dir(dir.path().join("reg")).access_policy(policy).inspect();
    match result {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics().to_vec(),
    }
}

fn only(ds: &[Diagnostic]) -> &Diagnostic {
    assert_eq!(ds.len(), 1, "{ds:#?}");
    &ds[0]
}

#[test]
fn rules_resolve_roles_defaults_and_sources() {
    let dir = common::registry(&[
        ("stockSchema/1.0.json", event("StockEvent", "Inventory", r#", "consumers": ["@fulfilment", "Orders"]"#)),
        ("auditSchema/1.0.json", event("AuditEvent", "Orders", "")),
        (
            "paySchema/1.0.json",
            r#"{"x-command": {"name": "PayCommand", "publishers": ["Orders"], "consumers": ["Payments"]}, "type": "object"}"#
                .to_string(),
        ),
        ("askSchema/1.0.json", r#"{"x-command": {"name": "AskCommand"}, "type": "object"}"#.to_string()),
    ]);
    let mut with_default = policy();
    with_default.default_consumers = vec!["Payments".into()];
    for (policy, audit_readers) in [(policy(), vec![]), (with_default, vec!["Payments".to_string()])] {
        let inspection = Config::new().schema_dir(dir.path().join("reg")).access_policy(policy).inspect().unwrap();
        let registry = inspection.registry();
        let file = |name: &str| registry.files().find(|f| f.contract.name == name).unwrap();
        assert_eq!(registry.consumers(file("StockEvent")), ["Orders", "Payments"]);
        assert_eq!(registry.publishers(file("StockEvent")), ["Inventory"], "an event's source by default");
        assert_eq!(registry.consumers(file("AuditEvent")), audit_readers, "no rule: the default, else nobody");
        assert_eq!(registry.publishers(file("PayCommand")), ["Orders"]);
        assert!(registry.publishers(file("AskCommand")).is_empty(), "a command names its senders");
    }
    // The generated rules carry the same.
    let generated = Config::new().schema_dir(dir.path().join("reg")).access_policy(policy()).generate().unwrap();
    let code = generated.render().unwrap();
    assert!(code.contains(r#"name: "StockEvent""#) && code.contains(r#"consumers: &["Orders", "Payments"]"#), "{code}");
    assert!(code.contains(r#"operators: &["Operator"]"#), "{code}");
}

#[test]
fn an_unknown_consumer_is_named_with_its_pointer() {
    let ds = problems(
        &[("stockSchema/1.0.json", event("StockEvent", "Inventory", r#", "consumers": ["Orders", "Shipping"]"#))],
        policy(),
    );
    let d = only(&ds);
    assert!(d.file.ends_with("reg/stockSchema/1.0.json"), "{d}");
    assert_eq!(d.pointer.as_deref(), Some("/x-event/consumers/1"));
    assert_eq!(d.position.map(|p| p.0), Some(3));
    assert!(
        d.message.contains("unknown service `Shipping`") && d.message.contains("Inventory, Orders, Payments"),
        "{d}"
    );
}

#[test]
fn an_unknown_role_is_named_with_its_pointer() {
    let ds = problems(
        &[("stockSchema/1.0.json", event("StockEvent", "Inventory", r#", "consumers": ["@billing"]"#))],
        policy(),
    );
    let d = only(&ds);
    assert_eq!(d.pointer.as_deref(), Some("/x-event/consumers/0"));
    assert!(d.message.contains("unknown role `billing`") && d.message.contains("fulfilment"), "{d}");
}

#[test]
fn an_unknown_publisher_is_named_with_its_pointer() {
    let ds = problems(
        &[(
            "paySchema/1.0.json",
            r#"{"x-command": {"name": "PayCommand", "publishers": ["Checkout"]}, "type": "object"}"#.to_string(),
        )],
        policy(),
    );
    let d = only(&ds);
    assert_eq!(d.pointer.as_deref(), Some("/x-command/publishers/0"));
    assert!(d.message.contains("unknown service `Checkout`"), "{d}");
}

#[test]
fn a_source_that_is_no_known_service_is_an_error() {
    let ds = problems(&[("stockSchema/1.0.json", event("StockEvent", "Warehouse", ""))], policy());
    let d = only(&ds);
    assert_eq!(d.pointer.as_deref(), Some("/x-event/source"));
    assert!(d.message.contains("unknown service `Warehouse`"), "{d}");
}

#[test]
fn an_event_whose_publishers_leave_out_its_source_is_an_error() {
    let ds = problems(
        &[("stockSchema/1.0.json", event("StockEvent", "Inventory", r#", "publishers": ["Orders"]"#))],
        policy(),
    );
    let d = only(&ds);
    assert_eq!(d.pointer.as_deref(), Some("/x-event/publishers"));
    assert!(d.message.contains("source `Inventory` must be among its publishers"), "{d}");
}

#[test]
fn rules_of_the_wrong_shape_are_errors() {
    for (access, pointer, fragment) in [
        (r#", "consumers": "Orders""#, "/x-event/consumers", "must be an array"),
        (r#", "consumers": ["Orders", 3]"#, "/x-event/consumers/1", "non-empty string"),
        (r#", "consumers": ["Orders", "Orders"]"#, "/x-event/consumers/1", "listed twice"),
    ] {
        let ds = problems(&[("stockSchema/1.0.json", event("StockEvent", "Inventory", access))], policy());
        let d = only(&ds);
        assert_eq!(d.pointer.as_deref(), Some(pointer), "{access}: {d}");
        assert!(d.message.contains(fragment), "{access}: {d}");
    }
}

#[test]
fn a_role_or_default_naming_an_unknown_service_is_a_manifest_error() {
    let mut bad = policy();
    bad.roles.insert("night".into(), vec!["Batch".into()]);
    bad.default_consumers = vec!["Reporting".into()];
    let ds = problems(&[("stockSchema/1.0.json", event("StockEvent", "Inventory", ""))], bad);
    assert_eq!(ds.len(), 2, "{ds:#?}");
    assert!(ds.iter().all(|d| d.file == "Cargo.toml"), "{ds:#?}");
    assert!(ds.iter().any(|d| d.message.contains("roles.night: unknown service `Batch`")), "{ds:#?}");
    assert!(ds.iter().any(|d| d.message.contains("default-consumers: unknown service `Reporting`")), "{ds:#?}");
}

#[test]
fn a_service_name_that_cannot_name_a_broker_user_is_a_manifest_error() {
    let mut bad = policy();
    bad.services.push("Order Service".into());
    let ds = problems(&[("stockSchema/1.0.json", event("StockEvent", "Inventory", ""))], bad);
    let d = only(&ds);
    assert_eq!(d.file, "Cargo.toml");
    assert!(d.message.contains("`Order Service` is not a service name"), "{d}");
}

#[test]
fn the_manifest_table_is_read_and_checked() {
    let dir = common::registry(&[(
        "stockSchema/1.0.json",
        event("StockEvent", "Inventory", r#", "consumers": ["@fulfilment"]"#),
    )]);
    let manifest = |access: &str| {
        std::fs::write(
            dir.path().join("Cargo.toml"),
            format!("[package]\nname = \"reg\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.events]\nschemas = \"reg\"\n\n{access}"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        Config::from_manifest(&dir.path().join("Cargo.toml"))
    };
    let config = manifest("[package.metadata.events.access]\nservices = [\"Inventory\", \"Orders\"]\n\n[package.metadata.events.access.roles]\nfulfilment = [\"Orders\"]\n").unwrap();
    let inspection = config.inspect().unwrap();
    let file = inspection.registry().files().next().unwrap();
    assert_eq!(inspection.registry().consumers(file), ["Orders"]);
    let err = manifest("[package.metadata.events.access]\nreaders = [\"Orders\"]\n").unwrap_err();
    assert!(err.to_string().contains("unknown key `readers` in [package.metadata.events.access]"), "{err}");
    let err = manifest("[package.metadata.events.access]\nservices = \"Orders\"\n").unwrap_err();
    assert!(err.to_string().contains("services must be an array"), "{err}");
}
