//! `build-cost [--schemas N] [--work DIR] [--refined] [--also NAME=WORKSPACE]...`
//!
//! What a registry of N realistic event schemas costs a service's `cargo build`, side by side in
//! one run: the generated lines per schema, the debug build of the `events` crate with its
//! dependencies already built, its peak memory, and the edit loop (one schema's description
//! changed, then built again), beside the floor any consumer of these schemas pays: typify's own
//! output for the same schemas in a plain crate that decodes and encodes each payload once with
//! serde_json. `--also` measures other checkouts of this workspace (an older commit) in the
//! same run, so that the rows compare on one machine at one moment; `--refined` adds a row for this
//! workspace with `refined-types = true`.
//!
//!     cargo run --release -p events-conformance --bin build-cost -- --schemas 300
//!
//! `build-cost --write-registry DIR N` writes the synthetic registry alone.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "../copy.rs"]
mod copy;
use copy::{copy_dir, copy_listed, without_access};

/// One measured build: wall time and the peak resident memory of the largest process in it.
#[derive(Clone, Copy)]
struct Build {
    time: Duration,
    peak_mib: f64,
}

fn main() {
    if let Some(pos) = std::env::args().position(|a| a == "--measure-child") {
        return measure_child(std::env::args().skip(pos + 1).collect());
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--write-registry DIR N`: the synthetic registry alone, to read or to build by hand.
    if let [flag, dir, count] = args.as_slice() {
        if flag == "--write-registry" {
            let count =
                count.parse().unwrap_or_else(|_| usage(&format!("--write-registry: `{count}` is not a number")));
            return synthetic_registry(Path::new(dir), count);
        }
    }
    let mut n = 300;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("in the workspace").to_path_buf();
    let mut work = root.join("target/build-cost");
    let mut workspaces = vec![("this workspace".to_string(), root.clone())];
    let mut refined = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--refined" {
            refined = true;
            continue;
        }
        match (a.as_str(), it.next()) {
            ("--schemas", Some(v)) => n = v.parse().unwrap_or_else(|_| usage(&format!("--schemas {v}: not a number"))),
            ("--work", Some(v)) => work = PathBuf::from(v),
            ("--also", Some(v)) => match v.split_once('=') {
                Some((name, dir)) => workspaces.push((name.to_string(), PathBuf::from(dir))),
                None => usage("--also takes NAME=WORKSPACE"),
            },
            _ => usage(&format!("unexpected argument `{a}`")),
        }
    }
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).expect("work folder");
    // One target folder for every build: shared dependencies are compiled once.
    let target = work.join("target");

    let mut report = String::new();

    // The floors: typify's own output for each registry, in a plain crate.
    let floor_dir = work.join("floor");
    write_floor_manifest(&floor_dir);
    eprintln!("floor crate: warming its dependencies");
    let one = (0..1).map(synthetic_typify_output).collect::<Vec<_>>();
    write_floor(&floor_dir, &one);
    run_build(&floor_dir, &target, "floor warm-up");
    let synthetic_floor = (0..n).map(synthetic_typify_output).collect::<Vec<_>>();
    write_floor(&floor_dir, &synthetic_floor);
    let floor = run_build(&floor_dir, &target, "floor, synthetic registry");
    let mut synthetic = vec![Row::new("typify's output in a plain crate (the floor)", &synthetic_floor, n, floor)];
    let shipped_floor = shipped_typify_output(&root);
    let shipped_n = shipped_floor.len();
    write_floor(&floor_dir, &shipped_floor);
    let floor = run_build(&floor_dir, &target, "floor, shipped registry");
    let mut shipped = vec![Row::new("typify's output in a plain crate (the floor)", &shipped_floor, shipped_n, floor)];

    for (i, (name, ws)) in workspaces.iter().enumerate() {
        let dir = work.join(format!("ws{i}"));
        copy_workspace(ws, &dir);
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        // The synthetic events have sources of their own: the shipped access rules would refuse them.
        fs::write(dir.join("Cargo.toml"), without_access(&manifest)).expect("manifest");
        eprintln!("{name}: warming the dependencies with a one-schema registry");
        synthetic_registry(&dir.join("schemas"), 1);
        run_build(&dir, &target, "warm-up");
        synthetic_registry(&dir.join("schemas"), n);
        let full = run_build(&dir, &target, name);
        let lines = generated_lines(&target);
        let edit = edit_loop(&dir, &target, &format!("schemas/subject{}Schema/1.0.json", n / 2), name);
        synthetic.push(Row { name: name.clone(), lines: lines as f64 / n as f64, build: full, edit: Some(edit) });

        // The shipped registry, with its manifest as written.
        let _ = fs::remove_dir_all(dir.join("schemas"));
        copy_dir(&ws.join("schemas"), &dir.join("schemas")).expect("copy the registry");
        fs::write(dir.join("Cargo.toml"), &manifest).expect("manifest");
        let full = run_build(&dir, &target, &format!("{name}, shipped registry"));
        let lines = generated_lines(&target);
        let edit = edit_loop(&dir, &target, "schemas/orderShippedSchema/1.0.json", name);
        shipped.push(Row { name: name.clone(), lines: lines as f64 / shipped_n as f64, build: full, edit: Some(edit) });

        if refined && i == 0 {
            // The synthetic registry with typify's refined newtypes (this workspace only: older
            // checkouts may not know the setting).
            let dir = work.join("ws-refined");
            copy_workspace(ws, &dir);
            let manifest = without_access(&manifest).replacen(
                "[package.metadata.events]\n",
                "[package.metadata.events]\nrefined-types = true\n",
                1,
            );
            fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
            synthetic_registry(&dir.join("schemas"), n);
            let build = run_build(&dir, &target, &format!("{name}, refined-types"));
            let lines = generated_lines(&target) as f64 / n as f64;
            synthetic.push(Row { name: format!("{name}, refined-types = true"), lines, build, edit: None });
        }
    }
    table(&mut report, &format!("a registry of {n} synthetic event schemas"), &synthetic);
    table(&mut report, &format!("the shipped registry ({shipped_n} schema versions)"), &shipped);
    println!("{report}");
}

/// One row of a table: lines generated per schema, the build, and the edit loop.
struct Row {
    name: String,
    lines: f64,
    build: Build,
    edit: Option<Build>,
}

impl Row {
    fn new(name: &str, code: &[Typified], n: usize, build: Build) -> Row {
        let lines = code.iter().map(|(_, c)| c.lines().count()).sum::<usize>() as f64 / n as f64;
        Row { name: name.to_string(), lines, build, edit: None }
    }
}

/// The rows, each build also as a ratio to the first row's, the floor.
fn table(report: &mut String, title: &str, rows: &[Row]) {
    writeln!(report, "build cost of {title} (debug builds, dependencies built)").unwrap();
    writeln!(
        report,
        "{:<48} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8}",
        "", "lines/sch", "build", "/floor", "peak MiB", "edit loop", "/build"
    )
    .unwrap();
    let floor = rows[0].build.time.as_secs_f64();
    for row in rows {
        let build = row.build.time.as_secs_f64();
        let (edit_time, edit_ratio) = match row.edit {
            Some(e) => (format!("{:.1}s", e.time.as_secs_f64()), format!("{:.2}x", e.time.as_secs_f64() / build)),
            None => (String::new(), String::new()),
        };
        writeln!(
            report,
            "{:<48} {:>10.0} {:>9.1}s {:>7.2}x {:>10.0} {:>10} {:>8}",
            row.name,
            row.lines,
            build,
            build / floor,
            row.build.peak_mib,
            edit_time,
            edit_ratio
        )
        .unwrap();
    }
    writeln!(report).unwrap();
}

/// One schema's description edited (the smallest change a schema sees), then built again.
fn edit_loop(dir: &Path, target: &Path, schema: &str, name: &str) -> Build {
    let edited = dir.join(schema);
    let text = fs::read_to_string(&edited).expect("schema");
    let changed = text.replacen("\"description\": \"", "\"description\": \"Edited. ", 1);
    assert_ne!(changed, text, "{schema} has no description to edit");
    fs::write(&edited, changed).expect("edit");
    run_build(dir, target, &format!("{name}, edit loop"))
}

fn usage(problem: &str) -> ! {
    eprintln!("build-cost: {problem}\nusage: build-cost [--schemas N] [--work DIR] [--refined] [--also NAME=WORKSPACE]...\n       build-cost --write-registry DIR N");
    std::process::exit(2)
}

/// Runs `cargo build --lib` in `dir` through a child of this program, which reports the peak
/// memory of the largest process it waited for (rustc, or the build script).
fn run_build(dir: &Path, target: &Path, what: &str) -> Build {
    let exe = std::env::current_exe().expect("own executable");
    let start = Instant::now();
    let out = Command::new(exe).arg("--measure-child").arg(dir).arg(target).output().expect("run the measuring child");
    let time = start.elapsed();
    if !out.status.success() {
        eprintln!("{what}: the build failed\n{}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
    let peak_kib: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0.0);
    let build = Build { time, peak_mib: peak_kib / 1024.0 };
    eprintln!("{what}: {:.1}s, peak {:.0} MiB", time.as_secs_f64(), build.peak_mib);
    build
}

/// In the child: the build, then the peak resident memory (KiB) of the processes it waited for.
fn measure_child(args: Vec<String>) {
    let (dir, target) = (&args[0], &args[1]);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--offline", "--lib", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MAKEFLAGS")
        .status()
        .expect("run cargo");
    if !status.success() {
        std::process::exit(1);
    }
    // SAFETY: getrusage writes into the struct it is given and nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    println!("{}", usage.ru_maxrss);
}

/// Copies what building `events` needs (the list in tests/workspace-copy.txt), but its registry.
fn copy_workspace(ws: &Path, dir: &Path) {
    let list = fs::read_to_string(ws.join("tests/workspace-copy.txt")).expect("the workspace's copy list");
    copy_listed(&list, ws, dir, &["schemas/"]).expect("copy the workspace");
}

/// Lines of the newest generated `events.rs` under the target folder.
fn generated_lines(target: &Path) -> usize {
    let build = target.join("debug/build");
    let newest = fs::read_dir(&build)
        .expect("build folder")
        .flatten()
        .map(|e| e.path().join("out/events.rs"))
        .filter(|p| p.is_file())
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok());
    newest.map(|p| fs::read_to_string(p).expect("generated code").lines().count()).unwrap_or(0)
}

/// The shared definitions: an amount of money and an order line holding one.
fn shared() -> Value {
    json!({
        "Money": {
            "type": "object", "additionalProperties": false, "required": ["amount", "currency"],
            "description": "An amount in a currency.",
            "properties": {
                "amount": { "type": "number", "minimum": 0 },
                "currency": { "type": "string", "pattern": "^[A-Z]{3}$" }
            }
        },
        "Line": {
            "type": "object", "additionalProperties": false, "required": ["sku", "quantity", "unitPrice"],
            "description": "One line of an order.",
            "properties": {
                "sku": { "type": "string", "minLength": 1, "maxLength": 40 },
                "quantity": { "type": "integer", "minimum": 1 },
                "unitPrice": { "$ref": "#/definitions/Money" }
            }
        }
    })
}

/// Schema `i`: ids, an enum, amounts, a timestamp, a nested object, an array of a shared definition.
/// `refs` is how it reaches the shared definitions.
fn schema(i: usize, shared_ref: &str) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": format!("Something happened to entity {i}."),
        "type": "object", "additionalProperties": false,
        "required": ["entityId", "customerId", "status", "total", "occurredAt", "lines", "address"],
        "properties": {
            "entityId": { "type": "string", "minLength": 1, "maxLength": 64 },
            "customerId": { "type": "string", "pattern": "^C[0-9]+$" },
            "status": { "type": "string", "enum": ["pending", "active", "suspended", "closed"] },
            "priority": { "type": "integer", "minimum": 1, "maximum": 5 },
            "total": { "$ref": format!("{shared_ref}Money") },
            "occurredAt": { "type": "string", "format": "date-time" },
            "note": { "type": "string", "maxLength": 500 },
            "attempts": { "type": "integer", "minimum": 0 },
            "address": {
                "type": "object", "additionalProperties": false, "required": ["street", "city", "country"],
                "properties": {
                    "street": { "type": "string", "minLength": 1 },
                    "city": { "type": "string", "minLength": 1 },
                    "postalCode": { "type": "string", "maxLength": 10 },
                    "country": { "type": "string", "pattern": "^[A-Z]{2}$" }
                }
            },
            "lines": { "type": "array", "minItems": 1, "items": { "$ref": format!("{shared_ref}Line") } }
        }
    })
}

/// A registry of `n` event schemas sharing `_shared/common.json`.
fn synthetic_registry(dir: &Path, n: usize) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("_shared")).expect("folder");
    let mut common = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": shared() });
    // Inside the shared file, Line reaches Money next to it.
    let text = serde_json::to_string_pretty(&common).expect("JSON").replace("#/definitions/", "#/$defs/");
    common = serde_json::from_str(&text).expect("JSON");
    fs::write(dir.join("_shared/common.json"), serde_json::to_string_pretty(&common).expect("JSON")).expect("write");
    for i in 0..n {
        let mut s = schema(i, "../_shared/common.json#/$defs/");
        s["x-event"] = json!({
            "name": format!("Subject{i}Event"), "type": "domain", "source": format!("Service{}", i % 20),
            "tags": [format!("area{}", i % 10)]
        });
        let sub = dir.join(format!("subject{i}Schema"));
        fs::create_dir_all(&sub).expect("folder");
        fs::write(sub.join("1.0.json"), serde_json::to_string_pretty(&s).expect("JSON")).expect("write");
    }
}

/// typify's output for synthetic schema `i`, self-contained (the shared definitions inlined).
fn synthetic_typify_output(i: usize) -> Typified {
    let mut s = schema(i, "#/definitions/");
    s["definitions"] = shared();
    typify_output(s, &format!("Subject{i}EventPayload"))
}

/// typify's output for each schema version of the shipped registry, bundled as the build bundles it.
fn shipped_typify_output(root: &Path) -> Vec<Typified> {
    let config = events_codegen::Config::from_manifest(&root.join("Cargo.toml")).expect("the manifest");
    let inspection = config.inspect().expect("the shipped registry checks");
    inspection
        .registry()
        .files()
        .map(|f| {
            let bundled = inspection.bundled(f).expect("a checked file is bundled").clone();
            typify_output(bundled, &events_codegen::payload_name(&f.contract.name))
        })
        .collect()
}

/// A payload type's name and typify's own output for its self-contained schema.
type Typified = (String, String);

/// typify's own output for a self-contained schema whose root type is `payload`.
fn typify_output(mut schema: Value, payload: &str) -> Typified {
    schema["title"] = json!(payload);
    let root: schemars::schema::RootSchema = serde_json::from_value(schema).expect("a schema schemars reads");
    let mut space = typify::TypeSpace::new(typify::TypeSpaceSettings::default().with_derive("PartialEq".into()));
    space.add_root_schema(root).expect("typify takes the schema");
    let file: syn::File = syn::parse2(space.to_stream()).expect("typify's output parses");
    (payload.to_string(), prettyplease::unparse(&file))
}

/// The floor crate's library: one module per schema, each with the round trip a consumer's code
/// would add.
fn write_floor(dir: &Path, code: &[Typified]) {
    let mut lib = String::from("#![allow(clippy::all, dead_code)]\n");
    for (i, (payload, c)) in code.iter().enumerate() {
        writeln!(
            lib,
            "pub mod s{i} {{\n{c}\n/// Decodes and encodes a payload once.\npub fn round_trip(text: &str) -> String {{ let p: {payload} = serde_json::from_str(text).unwrap(); serde_json::to_string(&p).unwrap() }}\n}}"
        )
        .unwrap();
    }
    fs::write(dir.join("src/lib.rs"), lib).expect("write");
}

/// The floor crate's manifest: what typify's output needs.
fn write_floor_manifest(dir: &Path) {
    fs::create_dir_all(dir.join("src")).expect("folder");
    fs::write(
        dir.join("Cargo.toml"),
        r#"[package]
name = "typify-floor"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
chrono = { version = "0.4", default-features = false, features = ["std", "clock", "serde"] }
regress = "0.12"
uuid = { version = "1", features = ["serde"] }

[workspace]
"#,
    )
    .expect("write");
}
