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
    writeln!(report, "build cost of a registry of {n} synthetic event schemas (debug builds, dependencies built)")
        .unwrap();

    let floor_dir = work.join("floor");
    let floor_lines = floor_crate(&floor_dir, n);
    eprintln!("floor crate: warming its dependencies");
    floor_warm(&floor_dir);
    run_build(&floor_dir, &target, "floor warm-up");
    floor_full(&floor_dir, n);
    let floor = run_build(&floor_dir, &target, "floor");

    let mut rows =
        vec![("typify's output in a plain crate (the floor)".to_string(), floor_lines as f64 / n as f64, floor, None)];
    for (name, ws) in &workspaces {
        let dir = work.join(format!("ws{}", rows.len()));
        copy_workspace(ws, &dir);
        eprintln!("{name}: warming the dependencies with a one-schema registry");
        synthetic_registry(&dir.join("schemas"), 1);
        run_build(&dir, &target, "warm-up");
        synthetic_registry(&dir.join("schemas"), n);
        let full = run_build(&dir, &target, name);
        let lines = generated_lines(&target);
        // The edit loop: a description is the smallest change a schema sees.
        let edited = dir.join(format!("schemas/subject{}Schema/1.0.json", n / 2));
        let text = fs::read_to_string(&edited).expect("schema");
        fs::write(&edited, text.replacen("\"description\": \"", "\"description\": \"Edited. ", 1)).expect("edit");
        let edit = run_build(&dir, &target, &format!("{name}, edit loop"));
        rows.push((name.clone(), lines as f64 / n as f64, full, Some(edit)));
        if refined && rows.len() == 2 {
            // The same registry with typify's refined newtypes (this workspace only: older
            // checkouts may not know the setting).
            let dir = work.join("ws-refined");
            copy_workspace(ws, &dir);
            let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
            let manifest = manifest.replacen(
                "[package.metadata.events]\n",
                "[package.metadata.events]\nrefined-types = true\n",
                1,
            );
            fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
            synthetic_registry(&dir.join("schemas"), n);
            let build = run_build(&dir, &target, &format!("{name}, refined-types"));
            rows.push((
                format!("{name}, refined-types = true"),
                generated_lines(&target) as f64 / n as f64,
                build,
                None,
            ));
        }
    }

    let floor_time = floor.time.as_secs_f64();
    writeln!(
        report,
        "{:<48} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8}",
        "", "lines/sch", "build", "/floor", "peak MiB", "edit loop", "/build"
    )
    .unwrap();
    for (name, lines, build, edit) in &rows {
        let (edit_time, edit_ratio) = match edit {
            Some(e) => (
                format!("{:.1}s", e.time.as_secs_f64()),
                format!("{:.2}x", e.time.as_secs_f64() / build.time.as_secs_f64()),
            ),
            None => ("".into(), "".into()),
        };
        writeln!(
            report,
            "{:<48} {:>10.0} {:>9.1}s {:>7.2}x {:>10.0} {:>10} {:>8}",
            name,
            lines,
            build.time.as_secs_f64(),
            build.time.as_secs_f64() / floor_time,
            build.peak_mib,
            edit_time,
            edit_ratio
        )
        .unwrap();
    }
    println!("{report}");
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

/// Copies what building `events` needs (the list in tests/workspace-copy.txt) without its access
/// rules, whose services the synthetic events do not use.
fn copy_workspace(ws: &Path, dir: &Path) {
    let list = fs::read_to_string(ws.join("tests/workspace-copy.txt")).expect("the workspace's copy list");
    for entry in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match entry.strip_suffix('/') {
            Some("schemas") => {}
            Some(folder) => copy_dir(&ws.join(folder), &dir.join(folder)),
            None => {
                fs::create_dir_all(dir.join(entry).parent().expect("a parent")).expect("folder");
                fs::copy(ws.join(entry), dir.join(entry)).expect("copy a file");
            }
        }
    }
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
    let mut kept = String::new();
    let mut skipping = false;
    for line in manifest.lines() {
        if line.trim_start().starts_with('[') {
            skipping = line.trim().starts_with("[package.metadata.events.access");
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    fs::write(dir.join("Cargo.toml"), kept).expect("manifest");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("folder");
    for entry in fs::read_dir(from).expect("read a folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            fs::copy(&path, to.join(entry.file_name())).expect("copy a file");
        }
    }
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

/// The floor crate's manifest and a one-schema library, to build its dependencies first.
fn floor_warm(dir: &Path) {
    fs::create_dir_all(dir.join("src")).expect("folder");
    fs::write(dir.join("src/lib.rs"), floor_lib(1)).expect("write");
}

fn floor_full(dir: &Path, n: usize) {
    fs::write(dir.join("src/lib.rs"), floor_lib(n)).expect("write");
}

/// typify's output for schema `i`, self-contained (the shared definitions inlined).
fn typify_output(i: usize) -> String {
    let mut s = schema(i, "#/definitions/");
    s["title"] = json!(format!("Subject{i}EventPayload"));
    s["definitions"] = shared();
    let root: schemars::schema::RootSchema = serde_json::from_value(s).expect("a schema schemars reads");
    let mut space = typify::TypeSpace::new(typify::TypeSpaceSettings::default().with_derive("PartialEq".into()));
    space.add_root_schema(root).expect("typify takes the schema");
    let file: syn::File = syn::parse2(space.to_stream()).expect("typify's output parses");
    prettyplease::unparse(&file)
}

fn floor_lib(n: usize) -> String {
    let mut lib = String::from("#![allow(clippy::all, dead_code)]\n");
    for i in 0..n {
        writeln!(
            lib,
            "pub mod s{i} {{\n{}\n/// Decodes and encodes a payload once.\npub fn round_trip(text: &str) -> String {{ let p: Subject{i}EventPayload = serde_json::from_str(text).unwrap(); serde_json::to_string(&p).unwrap() }}\n}}",
            typify_output(i)
        )
        .unwrap();
    }
    lib
}

/// Writes the floor crate for `n` schemas; returns the lines of typify's output.
fn floor_crate(dir: &Path, n: usize) -> usize {
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

[workspace]
"#,
    )
    .expect("write");
    (0..n).map(|i| typify_output(i).lines().count()).sum()
}
