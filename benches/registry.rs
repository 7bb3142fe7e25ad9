//! Benchmarks, side by side in one run so that ratios hold whatever the machine:
//! code generation for the shipped registry and for a synthetic one of a few hundred schemas, and
//! decode + validate of an OrderCreatedEvent beside plain typed serde decoding of the same envelope.
//!
//!     cargo bench --bench registry

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use events::order_created_schema::v1_0::{OrderCreatedEvent, OrderCreatedEventPayload};
use events::{AnyEvent, CausationId, CommandId, CorrelationId, EventId, Metadata, SchemaRef};
use serde::Deserialize;

/// The same envelope with serde's derive and no validation: the floor for any decoder.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlainEnvelope {
    event_name: String,
    event_id: EventId,
    correlation_id: CorrelationId,
    command_id: CommandId,
    causation_id: CausationId,
    timestamp: DateTime<Utc>,
    version: String,
    schema_ref: SchemaRef,
    event_type: String,
    event_source: String,
    event_version: String,
    event_status: String,
    tags: Vec<String>,
    retry_count: u32,
    payload: OrderCreatedEventPayload,
    metadata: Metadata,
}

/// Median time per iteration of each candidate over `rounds` rounds of `iters` iterations,
/// interleaved round by round so that a slow moment of the machine hits every candidate alike.
fn side_by_side(rounds: usize, iters: usize, candidates: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    for f in candidates.iter_mut() {
        f(); // warm up lazily compiled validators and caches
    }
    let mut times = vec![Vec::with_capacity(rounds); candidates.len()];
    for _ in 0..rounds {
        for (f, t) in candidates.iter_mut().zip(times.iter_mut()) {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.push(start.elapsed() / iters as u32);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[rounds / 2]
        })
        .collect()
}

/// Median time per iteration over `rounds` rounds of `iters` iterations.
fn measure(rounds: usize, iters: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm up lazily compiled validators and caches
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed() / iters as u32
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

fn synthetic_registry(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("_shared")).unwrap();
    std::fs::write(
        dir.join("_shared/common.json"),
        r#"{ "$defs": { "Money": { "type": "object", "additionalProperties": false, "required": ["amount", "currency"],
            "properties": { "amount": { "type": "number", "minimum": 0 }, "currency": { "type": "string", "pattern": "^[A-Z]{3}$" } } } } }"#,
    )
    .unwrap();
    for i in 0..n {
        let sub = dir.join(format!("subject{i}Schema"));
        std::fs::create_dir_all(&sub).unwrap();
        let schema = format!(
            r##"{{ "x-event": {{ "name": "Subject{i}Event", "type": "domain", "source": "Service{i}", "tags": ["t{i}"] }},
  "type": "object", "additionalProperties": false, "required": ["id", "lines", "total"],
  "properties": {{
    "id": {{ "type": "string", "minLength": 1 }},
    "note": {{ "type": "string", "maxLength": 200 }},
    "kind": {{ "enum": ["a", "b", "c"] }},
    "total": {{ "$ref": "../_shared/common.json#/$defs/Money" }},
    "lines": {{ "type": "array", "minItems": 1, "items": {{ "$ref": "#/$defs/Line" }} }}
  }},
  "$defs": {{ "Line": {{ "type": "object", "required": ["sku", "quantity"],
    "properties": {{ "sku": {{ "type": "string" }}, "quantity": {{ "type": "integer", "minimum": 1 }} }} }} }}
}}"##
        );
        std::fs::write(sub.join("1.0.json"), schema).unwrap();
    }
}

fn main() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let generate = |config: &events_codegen::Config| {
        let code = config.generate().unwrap().render().unwrap();
        black_box(code.len())
    };
    // The shipped registry with its manifest's settings (its access rules name its services).
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let shipped_config = events_codegen::Config::from_manifest(&manifest).unwrap();
    let shipped_time = measure(5, 4, || {
        generate(&shipped_config);
    });
    let synthetic = tempfile::tempdir().unwrap();
    const N: usize = 300;
    synthetic_registry(synthetic.path(), N);
    let mut synthetic_config = events_codegen::Config::new();
    synthetic_config.schema_dir(synthetic.path());
    let synthetic_time = measure(3, 1, || {
        generate(&synthetic_config);
    });
    let shipped_files = std::fs::read_dir(&shipped)
        .unwrap()
        .filter(|e| {
            let e = e.as_ref().unwrap();
            e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('_')
        })
        .count();

    let message =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec/05-OrderCreatedEvent.json"))
            .unwrap();
    let schema: serde_json::Value = serde_json::from_str(events::order_created_schema::v1_0::SCHEMA_JSON).unwrap();
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let mut plain = || {
        black_box(serde_json::from_slice::<PlainEnvelope>(black_box(&message)).unwrap());
    };
    let mut ours = || {
        black_box(AnyEvent::from_json(black_box(&message)).unwrap());
    };
    let mut typed = || {
        black_box(OrderCreatedEvent::from_json(black_box(&message)).unwrap());
    };
    // The complete path the fast one defers to: what an unusual or refused message costs.
    let mut complete = || {
        black_box(AnyEvent::from_raw(events::RawEvent::parse(black_box(&message)).unwrap()).unwrap());
    };
    let mut via_value = || {
        let value: serde_json::Value = serde_json::from_slice(black_box(&message)).unwrap();
        assert!(validator.is_valid(&value["payload"]));
        black_box(serde_json::from_value::<PlainEnvelope>(value).unwrap());
    };
    let [plain, ours, typed, complete, via_value] =
        side_by_side(41, 1_000, &mut [&mut plain, &mut ours, &mut typed, &mut complete, &mut via_value])[..]
    else {
        unreachable!()
    };

    println!("code generation (generate + render, median)");
    println!("  shipped registry ({shipped_files} schemas)   {:>10.2?}", shipped_time);
    println!(
        "  synthetic registry ({N} schemas) {:>10.2?}   {:.2?} per schema",
        synthetic_time,
        synthetic_time / N as u32
    );
    println!();
    println!("decoding the spec's OrderCreatedEvent ({} bytes), median per message", message.len());
    let rate = |d: Duration| 1.0 / d.as_secs_f64();
    let row = |name: &str, d: Duration| {
        println!(
            "  {name:<48} {:>9.2?}  {:>9.0} msg/s  {:>5.2}x plain",
            d,
            rate(d),
            d.as_secs_f64() / plain.as_secs_f64()
        )
    };
    row("plain serde decode, no validation", plain);
    row("AnyEvent::from_json (decode + validate)", ours);
    row("OrderCreatedEvent::from_json (decode + validate)", typed);
    row("complete path (Value, field by field, jsonschema)", complete);
    row("Value + jsonschema payload check + from_value", via_value);
    println!(
        "  AnyEvent::from_json runs {:.2}x faster than Value + jsonschema",
        via_value.as_secs_f64() / ours.as_secs_f64()
    );
}
