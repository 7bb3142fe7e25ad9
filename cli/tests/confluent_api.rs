//! The Confluent Schema Registry REST API of `events serve`, with a real HTTP client against a
//! running server: every endpoint, every error code, and each bad input (raw bytes over a TCP
//! socket where an HTTP client would tidy them up).

mod common;
#[path = "common/server.rs"]
mod server;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{workspace, Registry, PING};
use serde_json::{json, Value};
use server::Server;

const MEDIA: &str = "application/vnd.schemaregistry.v1+json";

struct Api {
    server: Server,
    client: reqwest::Client,
}

impl Api {
    fn start() -> Api {
        Api { server: Server::start(&workspace(), &[], "127.0.0.1:0"), client: reqwest::Client::new() }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.url)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        assert_eq!(r.headers()["content-type"], MEDIA, "{path}");
        (status, r.json().await.unwrap())
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .header("content-type", MEDIA)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

fn error_code(body: &Value) -> u64 {
    body["error_code"].as_u64().unwrap_or_else(|| panic!("not an error body: {body}"))
}

/// The envelope schema the API holds for orderCreatedSchema version `v`, as a JSON string.
async fn schema_text(api: &Api, v: u32) -> String {
    api.get(&format!("/subjects/orderCreatedSchema/versions/{v}")).await.1["schema"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_endpoints_answer_in_confluents_shapes() {
    let api = Api::start();
    assert_eq!(api.get("/").await, (200, json!({})));
    assert_eq!(api.get("/schemas/types").await, (200, json!(["JSON"])));
    let (_, subjects) = api.get("/subjects").await;
    assert_eq!(subjects.as_array().unwrap().len(), 15, "7 schema ids, their 7 payload subjects, 1 shared file");
    assert_eq!(
        api.get("/subjects?subjectPrefix=order").await.1,
        json!(["orderCreatedSchema", "orderCreatedSchema-payload", "orderShippedSchema", "orderShippedSchema-payload"])
    );
    assert_eq!(api.get("/subjects?deleted=true").await.1, subjects);
    assert_eq!(api.get("/subjects/orderCreatedSchema/versions").await, (200, json!([1, 2])));
    let (status, latest) = api.get("/subjects/orderCreatedSchema/versions/latest").await;
    assert_eq!(status, 200);
    assert_eq!(
        (latest["subject"].clone(), latest["version"].clone(), latest["schemaType"].clone()),
        (json!("orderCreatedSchema"), json!(2), json!("JSON"))
    );
    let schema: Value = serde_json::from_str(latest["schema"].as_str().unwrap()).unwrap();
    assert_eq!(
        schema["properties"]["eventName"]["const"], "OrderCreatedEvent",
        "the envelope schema, as a JSON string"
    );
    assert_eq!(api.get("/subjects/orderCreatedSchema/versions/-1").await.1, latest);
    assert_eq!(api.get("/subjects/orderCreatedSchema/versions/2/schema").await.1, schema);
    assert_eq!(api.get("/subjects/orderCreatedSchema/versions/1/referencedby").await, (200, json!([])));
    // Ids come from schema-ids.lock.
    let id = latest["id"].as_u64().unwrap();
    assert_eq!(id, 6);
    let (_, by_id) = api.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!((by_id["schemaType"].clone(), by_id["schema"].clone()), (json!("JSON"), latest["schema"].clone()));
    assert_eq!(api.get(&format!("/schemas/ids/{id}/schema")).await.1, schema);
    assert_eq!(api.get(&format!("/schemas/ids/{id}/subjects")).await.1, json!(["orderCreatedSchema"]));
    assert_eq!(
        api.get(&format!("/schemas/ids/{id}/versions")).await.1,
        json!([{"subject": "orderCreatedSchema", "version": 2}])
    );
    let (_, all) = api.get("/schemas").await;
    assert_eq!(all.as_array().unwrap().len(), 17);
    assert_eq!(api.get("/schemas?latestOnly=true&subjectPrefix=orderC").await.1.as_array().unwrap().len(), 2);
    assert_eq!(api.get("/config").await.1, json!({"compatibilityLevel": "BACKWARD"}));
    assert_eq!(
        api.get("/config/orderCreatedSchema?defaultToGlobal=true").await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(api.get("/mode").await.1, json!({"mode": "READONLY"}));
    assert_eq!(api.get("/mode/orderCreatedSchema").await.1, json!({"mode": "READONLY"}));
    assert_eq!(api.get("/contexts").await.1, json!(["."]));
    // `application/json` is accepted as well.
    let r = api
        .client
        .post(api.url("/subjects/orderCreatedSchema"))
        .header("content-type", "application/json")
        .body(json!({"schema": schema_text(&api, 1).await}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Payload schemas as written sit under `<schemaId>-payload`; the shared files they `$ref` are
/// their references, each a subject of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_subjects_refer_to_their_shared_files() {
    let api = Api::start();
    let (status, payload) = api.get("/subjects/orderCreatedSchema-payload/versions/1").await;
    assert_eq!(status, 200);
    let written = std::fs::read_to_string(workspace().join("schemas/orderCreatedSchema/1.0.json")).unwrap();
    assert_eq!(payload["schema"].as_str().unwrap(), written.trim_end(), "the schema as written");
    let reference = json!({"name": "../_shared/commerce.json", "subject": "_shared/commerce.json", "version": 1});
    assert_eq!(payload["references"], json!([reference]));
    let (_, by_id) = api.get(&format!("/schemas/ids/{}", payload["id"])).await;
    assert_eq!(by_id["references"], json!([reference]));
    // The shared file, as a subject (its name percent-encoded in the path).
    let (status, shared) = api.get("/subjects/_shared%2Fcommerce.json/versions/1").await;
    assert_eq!(status, 200);
    assert_eq!(
        shared["schema"].as_str().unwrap(),
        std::fs::read_to_string(workspace().join("schemas/_shared/commerce.json")).unwrap().trim_end()
    );
    let (_, users) = api.get("/subjects/_shared%2Fcommerce.json/versions/1/referencedby").await;
    assert!(users.as_array().unwrap().contains(&payload["id"]), "{users}");
    // Envelope subjects inline their shared files.
    assert_eq!(api.get("/subjects/orderCreatedSchema/versions/1").await.1["references"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_level_mode_is_the_newest_versions_and_40408_without_one() {
    let full = PING.replace(r#""type": "object","#, r#""type": "object", "x-compatibility": "FULL","#);
    let registry = Registry::new(&[
        ("pingSchema/1.0.json", &full),
        ("plainSchema/1.0.json", &PING.replace("PingEvent", "PlainEvent")),
    ]);
    let api = Api {
        server: Server::start(registry.path(), &["--schemas", "schemas"], "127.0.0.1:0"),
        client: reqwest::Client::new(),
    };
    assert_eq!(api.get("/config/pingSchema").await, (200, json!({"compatibilityLevel": "FULL"})));
    let (status, body) = api.get("/config/plainSchema").await;
    assert_eq!((status, error_code(&body)), (404, 40408));
    assert!(api.server.log().contains("records no schema ids"), "{}", api.server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_finds_a_registered_schema_and_not_another() {
    let api = Api::start();
    let v1 = schema_text(&api, 1).await;
    let (status, found) =
        api.send("POST", "/subjects/orderCreatedSchema", json!({"schema": v1, "schemaType": "JSON"})).await;
    assert_eq!(status, 200);
    assert_eq!((found["version"].clone(), found["id"].clone()), (json!(1), json!(5)));
    // Parsed JSON is compared: other whitespace and member order match; `normalize` lets `required` come in any order.
    let mut reordered: Value = serde_json::from_str(&v1).unwrap();
    reordered["required"].as_array_mut().unwrap().reverse();
    let pretty = serde_json::to_string_pretty(&reordered).unwrap();
    let (status, body) = api.send("POST", "/subjects/orderCreatedSchema", json!({"schema": pretty})).await;
    assert_eq!((status, error_code(&body)), (404, 40403));
    let (status, _) = api.send("POST", "/subjects/orderCreatedSchema?normalize=true", json!({"schema": pretty})).await;
    assert_eq!(status, 200);
    let (status, body) = api.send("POST", "/subjects/noSuchSubject", json!({"schema": v1})).await;
    assert_eq!((status, error_code(&body)), (404, 40401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compatibility_is_answered_by_the_registrys_rules() {
    let api = Api::start();
    let mut candidate: Value = serde_json::from_str(&schema_text(&api, 2).await).unwrap();
    let (status, body) = api
        .send(
            "POST",
            "/compatibility/subjects/orderCreatedSchema/versions/latest",
            json!({"schema": candidate.to_string()}),
        )
        .await;
    assert_eq!((status, body.clone()), (200, json!({"is_compatible": true})));
    // A new required member breaks BACKWARD: the reasons with `verbose`.
    candidate["required"].as_array_mut().unwrap().push("channel".into());
    candidate["properties"]["channel"] = json!({"type": "string"});
    let path = "/compatibility/subjects/orderCreatedSchema/versions/latest?verbose=true";
    let (status, body) = api.send("POST", path, json!({"schema": candidate.to_string()})).await;
    assert_eq!(status, 200);
    assert_eq!(body["is_compatible"], false);
    let messages = body["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m.as_str().unwrap().contains("required")), "{body}");
    let (_, all) = api
        .send("POST", "/compatibility/subjects/orderCreatedSchema/versions", json!({"schema": candidate.to_string()}))
        .await;
    assert_eq!(all, json!({"is_compatible": false}));
    let (status, body) =
        api.send("POST", "/compatibility/subjects/orderCreatedSchema/versions/7", json!({"schema": "{}"})).await;
    assert_eq!((status, error_code(&body)), (404, 40402));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_is_refused_as_in_read_only_mode() {
    let api = Api::start();
    let schema = json!({"schema": "{}"});
    for (method, path) in [
        ("POST", "/subjects/orderCreatedSchema/versions"),
        ("DELETE", "/subjects/orderCreatedSchema"),
        ("DELETE", "/subjects/orderCreatedSchema/versions/1"),
        ("PUT", "/config"),
        ("PUT", "/config/orderCreatedSchema"),
        ("DELETE", "/config/orderCreatedSchema"),
        ("PUT", "/mode"),
    ] {
        let (status, body) = api.send(method, path, schema.clone()).await;
        assert_eq!((status, error_code(&body)), (422, 42205), "{method} {path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_error_code_comes_in_the_confluent_shape() {
    let api = Api::start();
    for (path, status, code) in [
        ("/subjects/noSuchSubject/versions", 404, 40401),
        ("/subjects/orderCreatedSchema/versions/9", 404, 40402),
        ("/schemas/ids/999", 404, 40403),
        ("/subjects/orderCreatedSchema/versions/zero", 422, 42202),
        ("/subjects/orderCreatedSchema/versions/0", 422, 42202),
        ("/no/such/route", 404, 404),
    ] {
        let (s, body) = api.get(path).await;
        assert_eq!((s, error_code(&body)), (status, code), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // 405: a method a route does not take.
    let (s, body) = api.send("PATCH", "/subjects", json!({})).await;
    assert_eq!((s, error_code(&body)), (405, 405));
    // 42201: a body that is no schema.
    for body in [json!({"schema": "{not json"}), json!({"nothing": 1}), json!({"schema": "{}", "schemaType": "AVRO"})] {
        let (s, answer) = api.send("POST", "/subjects/orderCreatedSchema", body.clone()).await;
        assert_eq!((s, error_code(&answer)), (422, 42201), "{body}: {answer}");
    }
    let r = api
        .client
        .post(api.url("/subjects/orderCreatedSchema"))
        .header("content-type", MEDIA)
        .body("{{{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // 415: an unknown media type.
    let r = api
        .client
        .post(api.url("/subjects/orderCreatedSchema"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(error_code(&r.json::<Value>().await.unwrap()), 415);
    // 413: a body over the limit (1 MiB).
    let big = json!({"schema": "x".repeat(1 << 20)}).to_string();
    let r = api
        .client
        .post(api.url("/subjects/orderCreatedSchema"))
        .header("content-type", MEDIA)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(error_code(&r.json::<Value>().await.unwrap()), 413);
}

/// Raw bytes over a socket: what the server answers to exactly this request line.
fn raw(addr: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn path_traversal_in_any_spelling_reads_nothing_outside_the_registry() {
    let server = Server::start(&workspace(), &[], "127.0.0.1:0");
    for path in [
        "/schemas/../../Cargo.toml",
        "/schemas/%2e%2e/%2e%2e/Cargo.toml",
        "/schemas/..%2F..%2FCargo.toml/1.0",
        "/catalog/../../Cargo.toml",
        "/catalog/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/subjects/..%2f..%2fCargo.toml/versions",
        "/schemas/orderCreatedSchema/..%2f..%2f..%2fCargo.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let answer =
            raw(&server.url, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
        let status = answer.lines().next().unwrap_or("").to_string();
        assert!(status.contains(" 404 ") || status.contains(" 400 "), "{path}: {status}");
        assert!(!answer.contains("[package]") && !answer.contains("root:"), "{path} read a file:\n{answer}");
        if status.contains(" 404 ") {
            assert!(answer.contains("\"error_code\""), "{path}: {answer}");
        }
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_dropped() {
    let server = Server::start_with(&workspace(), &[], &["--header-timeout", "1"], "127.0.0.1:0");
    let mut stream = TcpStream::connect(&server.url).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    stream.write_all(b"GET /subjects HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "the connection stayed open for {waited:?}");
    assert!(waited >= Duration::from_millis(500), "closed before the timeout: {waited:?}");
}

#[test]
fn a_client_that_never_finishes_its_body_gets_408() {
    let server = Server::start_with(&workspace(), &[], &["--body-timeout", "1"], "127.0.0.1:0");
    let started = Instant::now();
    let answer = raw(
        &server.url,
        format!("POST /subjects/orderCreatedSchema HTTP/1.1\r\nHost: x\r\nContent-Type: {MEDIA}\r\nContent-Length: 100\r\n\r\n{{\"schema\"").as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error_code\":408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
