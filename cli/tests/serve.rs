//! `events serve` with a real HTTP client: schemas as written at the path of their schemaRef
//! URI, envelope schemas, caching headers, the catalog and the AsyncAPI document, errors in the
//! Confluent shape, and reloads that never serve a registry failing its checks.

mod common;
#[path = "common/server.rs"]
mod server;

use std::time::{Duration, Instant};

use common::{events_in, workspace, Registry, PING};
use server::{free_port, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_are_served_as_written_with_caching_headers() {
    let server = Server::start(&workspace(), &[], "127.0.0.1:0");
    let client = reqwest::Client::new();
    let url = format!("http://{}/schemas/orderCreatedSchema/1.1", server.url);
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/schema+json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let body = response.bytes().await.unwrap();
    assert_eq!(
        &body[..],
        std::fs::read(workspace().join("schemas/orderCreatedSchema/1.1.json")).unwrap(),
        "the schema as written"
    );
    let again = client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let envelope: serde_json::Value = client.get(format!("{url}?envelope")).send().await.unwrap().json().await.unwrap();
    assert_eq!(envelope["properties"]["eventName"]["const"], "OrderCreatedEvent");
    assert_eq!(envelope["properties"]["payload"]["required"][0], "orderId");
    let versions: serde_json::Value = client
        .get(format!("http://{}/schemas/orderCreatedSchema", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_and_the_asyncapi_document_are_served() {
    let server = Server::start(&workspace(), &[], "127.0.0.1:0");
    let client = reqwest::Client::new();
    let index = client.get(format!("http://{}/catalog/", server.url)).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert!(index.text().await.unwrap().contains("OrderCreatedEvent"));
    let page =
        client.get(format!("http://{}/catalog/contracts/OrderCreatedEvent.html", server.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let script = client.get(format!("http://{}/catalog/catalog.js", server.url)).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    let asyncapi: serde_json::Value =
        client.get(format!("http://{}/asyncapi.json", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_schemas_versions_routes_and_methods_get_confluent_errors() {
    let server = Server::start(&workspace(), &[], "127.0.0.1:0");
    let client = reqwest::Client::new();
    for (method, path, status, code) in [
        ("GET", "/schemas/noSuchSchema/1.0", 404, 40401),
        ("GET", "/schemas/orderCreatedSchema/9.9", 404, 40402),
        ("GET", "/nowhere", 404, 404),
        ("GET", "/catalog/contracts/Nope.html", 404, 404),
        ("POST", "/schemas/orderCreatedSchema/1.1", 405, 405),
    ] {
        let response =
            client.request(method.parse().unwrap(), format!("http://{}{path}", server.url)).send().await.unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(response.headers()["content-type"], "application/vnd.schemaregistry.v1+json");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], code, "{method} {path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// With `base-uri` pointing at the server, every message's `schemaRef.uri` resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_ref_uri_resolves_when_the_base_uri_points_at_the_server() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/registry/schemas");
    let server = Server::start(&workspace(), &["--base-uri", &base], &format!("127.0.0.1:{port}"));
    let example =
        events_in(&workspace(), &["--base-uri", &base, "example", "InventoryUpdatedIntegrationEvent"], None).json();
    let uri = example["schemaRef"]["uri"].as_str().unwrap();
    assert_eq!(uri, format!("{base}/inventoryUpdatedSchema/1.0"));
    let body = reqwest::get(uri).await.unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(
        &body.bytes().await.unwrap()[..],
        std::fs::read(workspace().join("schemas/inventoryUpdatedSchema/1.0.json")).unwrap()
    );
    assert!(server.log().contains("schemas under /registry/schemas"), "{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_registry_is_reloaded_and_a_broken_one_never_served() {
    let registry = Registry::new(&[("pingSchema/1.0.json", PING)]);
    let server = Server::start(registry.path(), &["--schemas", "schemas"], "127.0.0.1:0");
    let client = reqwest::Client::new();
    let v1_1 = format!("http://{}/schemas/pingSchema/1.1", server.url);
    assert_eq!(client.get(&v1_1).send().await.unwrap().status(), 404);
    let newer = PING.replace(r#""maximum": 9"#, r#""maximum": 99"#);
    std::fs::write(registry.path().join("schemas/pingSchema/1.1.json"), &newer).unwrap();
    let started = Instant::now();
    while client.get(&v1_1).send().await.unwrap().status() != 200 {
        assert!(started.elapsed() < Duration::from_secs(20), "never reloaded: {}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(client.get(&v1_1).send().await.unwrap().text().await.unwrap(), newer);
    // A version that breaks its compatibility gate: the last good registry stays served.
    let breaking = PING.replace(r#""minimum": 1"#, r#""minimum": 5"#);
    std::fs::write(registry.path().join("schemas/pingSchema/1.2.json"), &breaking).unwrap();
    server.wait_for_log("fails its checks; still serving the last good one");
    assert!(server.log().contains("schemas/pingSchema/1.2.json"), "{}", server.log());
    assert_eq!(client.get(format!("http://{}/schemas/pingSchema/1.2", server.url)).send().await.unwrap().status(), 404);
    assert_eq!(client.get(&v1_1).send().await.unwrap().status(), 200);
}

#[test]
fn a_schema_id_that_clashes_with_a_server_route_is_refused() {
    let registry = Registry::new(&[("ids/1.0.json", PING)]);
    let run = registry.run(&["list", "--no-types"], None);
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("schema id `ids` clashes with a route of the registry server"), "{}", run.stderr);
}
