//! Decodes every test payload of the conformance run through `AnyEvent::from_json`, the path a
//! service uses, and prints one JSON result per payload. Built inside a copy of the `events` crate
//! whose registry holds the schemas under test.

use std::panic::{catch_unwind, AssertUnwindSafe};

use events::AnyEvent;
use serde_json::{json, Value};

/// Whether `a`, a payload as encoded, is `b`, the payload as the message wrote it: numbers
/// compared by value (`1.0` may come back as `1`), except that an integer must come back as one.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64() == y.as_f64() && (x.as_f64().is_some() || x == y) && (y.is_f64() || !x.is_f64())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

fn main() {
    // Panics are caught and reported per payload; the default hook would flood the output.
    std::panic::set_hook(Box::new(|_| {}));
    let path = std::env::args().nth(1).expect("usage: conformance_runner CASES.json");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).expect("cases file")).expect("cases JSON");
    for case in cases {
        let event = case["event"].as_str().expect("event name");
        let subject = case["subject"].as_str().expect("subject");
        let data = &case["data"];
        // The full form, as the registry's encoder writes it: it takes the fast path when the
        // contract has a typed check.
        let envelope = json!({
            "eventName": event,
            "eventId": "c4f7d8e6-4a9b-4579-8d4e-6f3d8f5b9c0e",
            "correlationId": "123e4567-e89b-12d3-a456-426614174123",
            "timestamp": "2025-02-25T19:05:00Z",
            "version": "1.0",
            "schemaRef": { "id": subject, "version": "1.0", "uri": format!("https://schema-registry.example.com/schemas/{subject}/1.0") },
            "eventType": "domain",
            "eventSource": "ConformanceSuite",
            "eventVersion": "1.0",
            "eventStatus": "created",
            "tags": [],
            "retryCount": 0,
            "payload": data,
            "metadata": { "initiatedBy": "conformance", "sourceSystem": "suite" }
        });
        let bytes = envelope.to_string();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let decoded = AnyEvent::from_json(bytes.as_bytes());
            // The complete path alone must agree with whatever path `from_json` took.
            let complete = events::RawEvent::parse(bytes.as_bytes()).and_then(AnyEvent::from_raw);
            let agree = match (&decoded, &complete) {
                (Ok(a), Ok(b)) => a == b,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            let encoded = decoded.as_ref().ok().map(|e| serde_json::to_value(e).expect("an event serializes")["payload"].clone());
            let round_trip = encoded.as_ref().map(|p| same_json(p, data));
            (decoded.map_err(|e| e.to_string()), round_trip, encoded, agree)
        }));
        let result = match outcome {
            Ok((decoded, round_trip, encoded, agree)) => json!({
                "id": case["id"],
                "accepted": decoded.is_ok(),
                "error": decoded.err(),
                "round_trip": round_trip,
                // What came back, when it differs: to see what changed.
                "encoded": if round_trip == Some(false) { encoded } else { None },
                "paths_agree": agree,
                "panicked": false,
            }),
            Err(_) => json!({ "id": case["id"], "accepted": false, "panicked": true }),
        };
        println!("{result}");
    }
}
