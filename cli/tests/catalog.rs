//! `events catalog`: the site is written deterministically, and works in a real headless Chromium
//! opened on `file://` URLs: no exceptions, failed loads or console errors; search and filters
//! narrow the list; a contract page shows its fields, its example and its version diff.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::path::PathBuf;

use browser::Browser;
use common::{events, Registry};
use serde_json::Value;

fn catalog() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("catalog");
    let run = events(&["catalog", "--out", out.to_str().unwrap()]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    (dir, out)
}

/// Fails on any error the browser logged: exceptions, failed loads, console errors.
async fn assert_clean(browser: &Browser, page: &str) {
    let errors: Vec<Value> =
        browser.log().await.into_iter().filter(|e| e["level"] != "INFO" && e["level"] != "DEBUG").collect();
    assert!(errors.is_empty(), "{page}: the browser logged {errors:#?}");
}

fn visible(names: &str) -> String {
    format!("Array.from(document.querySelectorAll('li.contract')).filter(e => !e.hidden).map(e => e.dataset.name).join(',') === '{names}'")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_loads_cleanly_and_search_and_filters_narrow_the_list() {
    let (_dir, out) = catalog();
    let browser = Browser::start().await;
    browser.open(&out.join("index.html")).await;
    browser
        .wait_until("the list is counted", "document.getElementById('count').textContent === '7 of 7 contracts'")
        .await;
    assert_clean(&browser, "index.html").await;
    // A broken script or a missing file would show up: the check itself can fail.
    browser.eval("console.error('probe'); return true;").await;
    assert_eq!(browser.log().await.len(), 1, "the console is read");

    let search = browser.client.find(fantoccini::Locator::Id("search")).await.unwrap();
    search.send_keys("inventory").await.unwrap();
    browser.wait_until("the search narrows", &visible("InventoryUpdatedEvent,InventoryUpdatedIntegrationEvent")).await;
    // Field names are searched too.
    search.clear().await.unwrap();
    search.send_keys("warehouseId").await.unwrap();
    browser.wait_until("a field name finds its contract", &visible("InventoryUpdatedIntegrationEvent")).await;
    search.clear().await.unwrap();
    search.send_keys("order creation").await.unwrap();
    browser.wait_until("every word must match", &visible("CreateOrderCommand,OrderCreatedEvent")).await;
    search.clear().await.unwrap();
    browser
        .wait_until(
            "clearing the search shows every contract",
            "document.getElementById('count').textContent === '7 of 7 contracts'",
        )
        .await;

    let kind = browser.client.find(fantoccini::Locator::Id("filter-kind")).await.unwrap();
    kind.select_by_value("command").await.unwrap();
    browser.wait_until("the kind filter narrows", &visible("CreateOrderCommand,SendOrderConfirmationCommand")).await;
    kind.select_by_value("").await.unwrap();
    let source = browser.client.find(fantoccini::Locator::Id("filter-source")).await.unwrap();
    source.select_by_value("InventoryService").await.unwrap();
    let tag = browser.client.find(fantoccini::Locator::Id("filter-tag")).await.unwrap();
    tag.select_by_value("integration").await.unwrap();
    browser.wait_until("filters combine", &visible("InventoryUpdatedIntegrationEvent")).await;
    assert_clean(&browser, "index.html after searching").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_page_shows_its_fields_example_and_version_diff() {
    let (_dir, out) = catalog();
    let browser = Browser::start().await;
    browser.open(&out.join("index.html")).await;
    browser.client.find(fantoccini::Locator::LinkText("OrderCreatedEvent")).await.unwrap().click().await.unwrap();
    browser.wait_until("the contract page opens", "document.title.startsWith('OrderCreatedEvent')").await;
    assert_clean(&browser, "OrderCreatedEvent.html").await;
    let section = "document.querySelector('section.version:not([hidden])')";
    assert_eq!(browser.eval(&format!("return {section}.dataset.version")).await, "1.1", "the newest version first");
    let fields = browser
        .eval(&format!(
            "return Array.from({section}.querySelectorAll('#payload-fields tr[data-path]')).map(r => r.dataset.path)"
        ))
        .await;
    assert_eq!(
        fields,
        serde_json::json!([
            "currency",
            "customerId",
            "items",
            "items[].itemId",
            "items[].price",
            "items[].quantity",
            "orderId",
            "totalAmount"
        ])
    );
    let required = browser
        .eval(&format!("return {section}.querySelector('tr[data-path=\"orderId\"]').children[2].textContent"))
        .await;
    assert_eq!(required, "yes");
    let example = browser.eval(&format!("return JSON.parse({section}.querySelector('pre.example').textContent)")).await;
    assert_eq!(example["eventName"], "OrderCreatedEvent");
    assert_eq!(example["payload"]["orderId"], "ORD12345");
    let changes = browser.eval(&format!("return {section}.querySelector('.changes').textContent")).await;
    let changes = changes.as_str().unwrap();
    assert!(changes.contains("Fields added:currency") && changes.contains("compatible under BACKWARD"), "{changes}");
    // The version selector shows 1.0, which has no currency and no diff.
    let select = browser.client.find(fantoccini::Locator::Id("version")).await.unwrap();
    select.select_by_value("1.0").await.unwrap();
    browser.wait_until("1.0 is shown", &format!("{section}.dataset.version === '1.0'")).await;
    assert_eq!(
        browser.eval(&format!("return {section}.querySelector('tr[data-path=\"currency\"]') === null")).await,
        true
    );
    assert_eq!(browser.eval(&format!("return {section}.querySelector('.changes') === null")).await, true);
    assert_eq!(browser.eval("return location.hash").await, "#v1.0");
    // Sensitive fields are marked.
    browser.open(&out.join("contracts/CustomerRegisteredEvent.html")).await;
    browser.wait_until("the page opens", "document.title.startsWith('CustomerRegisteredEvent')").await;
    let marked = browser.eval("return Array.from(document.querySelectorAll('tr[data-path] .sensitive')).map(s => s.closest('tr').dataset.path)").await;
    assert_eq!(marked, serde_json::json!(["addresses[].street", "email", "paymentCards[].number", "phone"]));
    assert_clean(&browser, "CustomerRegisteredEvent.html").await;
    browser.close().await;
}

#[test]
fn the_catalog_is_deterministic_and_escapes_schema_text() {
    let (_a, one) = catalog();
    let (_b, two) = catalog();
    for file in ["index.html", "catalog.js", "catalog.css", "contracts/OrderCreatedEvent.html"] {
        assert_eq!(
            std::fs::read(one.join(file)).unwrap(),
            std::fs::read(two.join(file)).unwrap(),
            "{file} differs between runs"
        );
    }
    let registry = Registry::new(&[(
        "xssSchema/1.0.json",
        r#"{"x-event": {"name": "XssEvent", "type": "domain", "source": "S", "description": "<script>alert(1)</script> & more"},
            "type": "object", "properties": {"note": {"type": "string", "description": "<img src=x onerror=alert(2)>"}}}"#,
    )]);
    let out = registry.path().join("site");
    let run = registry.run(&["catalog", "--out", out.to_str().unwrap()], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    for file in ["index.html", "contracts/XssEvent.html"] {
        let html = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{file} holds unescaped schema text");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), "{file}");
    }
}
