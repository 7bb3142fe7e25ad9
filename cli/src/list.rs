//! `events list`: every subject and version of the registry, and what its payload became.

use std::collections::BTreeMap;
use std::io::Write;

use events_codegen::registry::{ContractKind, Registry, SchemaFile};
use events_codegen::Config;
use serde_json::{json, Value};

use crate::failure::{Failure, FailureKind, Outcome};
use crate::progress::Progress;
use crate::tools;

/// What the generator made of a payload.
#[derive(Debug, Clone, PartialEq)]
enum Typing {
    Typed,
    /// Typed, with some parts kept as validated JSON values (why).
    Partly(String),
    /// A validated `serde_json::Value` (why).
    Value(String),
    /// Not generated (`--no-types`, or generation failed).
    Unknown,
}

impl Typing {
    fn label(&self) -> &'static str {
        match self {
            Typing::Typed => "typed",
            Typing::Partly(_) => "partly typed",
            Typing::Value(_) => "value",
            Typing::Unknown => "-",
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Typing::Partly(why) | Typing::Value(why) => Some(why),
            _ => None,
        }
    }
}

pub fn run(config: &Config, json: bool, with_types: bool) -> Result<Outcome, Failure> {
    let mut progress = Progress::new();
    progress.stage("checking the registry…");
    let registry = tools::load(config)?;
    // Without the types the list is still printed, with `-` for them; the failure comes after it.
    let mut untyped = None;
    let mut typing: BTreeMap<String, Typing> = BTreeMap::new();
    if with_types {
        let n = registry.registry().files().count();
        progress.stage(&format!("generating the types of {n} schema{}…", if n == 1 { "" } else { "s" }));
        match config.generate_isolated() {
            Ok(generated) => {
                for d in generated.fallbacks() {
                    typing.insert(d.file.clone(), Typing::Value(d.message.clone()));
                }
                for d in generated.partly_typed() {
                    typing.insert(d.file.clone(), Typing::Partly(d.message.clone()));
                }
                for f in registry.registry().files() {
                    typing.entry(f.display.clone()).or_insert(Typing::Typed);
                }
            }
            Err(e) => untyped = Some(Failure::from(e)),
        }
    }
    drop(progress);
    let typing_of = |f: &SchemaFile| typing.get(&f.display).cloned().unwrap_or(Typing::Unknown);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if json {
        let subjects: Vec<Value> = registry
            .registry()
            .subjects
            .iter()
            .map(|s| json!({ "id": s.id, "versions": s.versions.iter().map(|f| entry(registry.registry(), f, &typing_of(f))).collect::<Vec<_>>() }))
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&json!({ "subjects": subjects })).expect("JSON"))
    } else {
        table(&mut out, registry.registry(), registry.registry().files().map(|f| (f, typing_of(f))).collect())
    };
    written.map_err(|e| Failure::caused(FailureKind::Io, "cannot write the list to standard output", e))?;
    match untyped {
        Some(failure) => Err(failure),
        None => Ok(Outcome::Clean),
    }
}

fn kind(f: &SchemaFile) -> (&'static str, Option<&'static str>) {
    match f.contract.kind {
        ContractKind::Event(t) => ("event", Some(t.name())),
        ContractKind::Command => ("command", None),
    }
}

fn entry(registry: &Registry, f: &SchemaFile, typing: &Typing) -> Value {
    let (kind, event_type) = kind(f);
    json!({
        "version": f.schema_ref.version.to_string(),
        "file": f.display,
        "uri": f.schema_ref.uri,
        "contract": f.contract.name,
        "kind": kind,
        "eventType": event_type,
        "source": f.contract.source,
        "tags": f.contract.tags,
        "deprecated": f.contract.deprecated.as_ref().map(|d| d.describe()),
        "publishers": registry.publishers(f),
        "consumers": registry.consumers(f),
        "consumersAsWritten": f.contract.access.consumers,
        "payload": if *typing == Typing::Unknown { Value::Null } else { typing.label().into() },
        "payloadNote": typing.reason(),
    })
}

fn table(out: &mut impl Write, registry: &Registry, rows: Vec<(&SchemaFile, Typing)>) -> std::io::Result<()> {
    let header = [
        "SUBJECT",
        "VERSION",
        "CONTRACT",
        "KIND",
        "SOURCE",
        "TAGS",
        "PUBLISHERS",
        "CONSUMERS",
        "PAYLOAD",
        "DEPRECATED",
    ];
    let names = |v: Vec<String>| if v.is_empty() { "-".to_string() } else { v.join(",") };
    let cells: Vec<[String; 10]> = rows
        .iter()
        .map(|(f, typing)| {
            let (kind, event_type) = kind(f);
            [
                f.schema_ref.id.clone(),
                f.schema_ref.version.to_string(),
                f.contract.name.clone(),
                event_type.map(|t| format!("{kind} ({t})")).unwrap_or_else(|| kind.to_string()),
                f.contract.source.clone().unwrap_or_else(|| "-".into()),
                if f.contract.tags.is_empty() { "-".into() } else { f.contract.tags.join(",") },
                names(registry.publishers(f)),
                names(registry.consumers(f)),
                typing.label().to_string(),
                f.contract.deprecated.as_ref().map(|d| d.describe()).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, row: &[&str]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                text.push_str(c);
            } else {
                text.push_str(&format!("{c:<w$}  "));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &header)?;
    for row in &cells {
        line(out, &row.iter().map(String::as_str).collect::<Vec<_>>())?;
    }
    Ok(())
}
