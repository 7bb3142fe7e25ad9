//! What the subcommands share: exit statuses, failures, and the two commands that come from the
//! generator as they are (`generate`, `compat`).

use std::io::Write;
use std::path::Path;

use events_codegen::registry::{SchemaFile, Version};
use events_codegen::{Config, Inspection};

/// Exit status of a usage error (unknown flag, missing file), as clap's own.
pub const USAGE: u8 = 2;
/// Exit status when the tool found problems: invalid messages, a bad registry, a break.
pub const FINDINGS: u8 = 1;

/// Why a command stopped, and with which exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: u8,
}

impl Failure {
    pub fn new(status: u8, message: impl Into<String>) -> Self {
        Failure { message: message.into(), status }
    }
}

/// The registry checked, or its problems printed (status 1).
pub fn inspect(config: &Config) -> Result<events_codegen::Inspection, u8> {
    config.inspect().map_err(|e| {
        eprint!("{e}");
        FINDINGS
    })
}

/// `events generate`: the code the build would generate.
pub fn generate(config: &Config, out: Option<&Path>) -> u8 {
    let generated = match config.generate_isolated() {
        Ok(g) => g,
        Err(e) => {
            eprint!("{e}");
            return FINDINGS;
        }
    };
    for w in generated.warnings().iter().chain(generated.fallbacks()) {
        eprintln!("warning: {w}");
    }
    let code = match generated.render() {
        Ok(code) => code,
        Err(e) => {
            eprint!("{e}");
            return FINDINGS;
        }
    };
    let written = match out {
        Some(path) => std::fs::write(path, code).map_err(|e| format!("{}: {e}", path.display())),
        None => std::io::stdout().write_all(code.as_bytes()).map_err(|e| format!("standard output: {e}")),
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write the generated code to {e}");
            FINDINGS
        }
    }
}

/// `events compat`: every version pair under its mode.
pub fn compat(config: &Config) -> u8 {
    match config.compatibility_report() {
        Ok(report) => {
            print!("{report}");
            if report.passed() {
                0
            } else {
                FINDINGS
            }
        }
        Err(e) => {
            eprint!("{e}");
            FINDINGS
        }
    }
}

/// `Name` or `Name@1.0`.
pub fn parse(text: &str) -> Result<(String, Option<Version>), String> {
    match text.split_once('@') {
        None => Ok((text.to_string(), None)),
        Some((name, v)) => {
            let version = Version::parse(v)
                .ok_or_else(|| format!("`{text}`: the version after @ must be MAJOR.MINOR, such as 1.0"))?;
            Ok((name.to_string(), Some(version)))
        }
    }
}

/// `; did you mean …?` for a name that differs from a known one only in case.
fn suggestion(registry: &Inspection, name: &str) -> String {
    let close: Vec<&str> = registry
        .registry()
        .files()
        .map(|f| f.contract.name.as_str())
        .filter(|n| n.eq_ignore_ascii_case(name) || n.to_lowercase().contains(&name.to_lowercase()))
        .collect();
    match close.first() {
        Some(n) => format!("; did you mean `{n}`?"),
        None => "; `events list` shows them".to_string(),
    }
}

/// The file of `text` (`Name` or `Name@1.0`), or the error printed (status 2).
pub fn contract<'a>(registry: &'a Inspection, text: &str) -> Result<&'a SchemaFile, u8> {
    let (name, version) = parse(text).map_err(|message| {
        eprintln!("error: {message}");
        USAGE
    })?;
    registry.contract(&name, version).ok_or_else(|| {
        let known = registry.versions_of(&name);
        if known.is_empty() {
            eprintln!("error: the registry has no contract `{name}`{}", suggestion(registry, &name));
        } else {
            let versions: Vec<String> = known.iter().map(|f| f.schema_ref.version.to_string()).collect();
            eprintln!(
                "error: `{name}` has no version {}: it has {}",
                version.map(|v| v.to_string()).unwrap_or_default(),
                versions.join(", ")
            );
        }
        USAGE
    })
}

/// `events schema`: the bundled payload schema, or the whole message's.
pub fn schema(config: &Config, contract_text: &str, envelope: bool) -> u8 {
    let registry = match inspect(config) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let file = match contract(&registry, contract_text) {
        Ok(f) => f,
        Err(status) => return status,
    };
    let schema = if envelope { registry.envelope_schema(file) } else { registry.bundled(file).cloned() };
    println!("{}", serde_json::to_string_pretty(&schema.unwrap_or_default()).expect("JSON"));
    0
}

/// `events ids`: numbers for every version that has none, written to the registry's lock file.
pub fn ids(config: &Config, check_only: bool) -> u8 {
    let registry = match inspect(config) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let model = registry.registry();
    let assigned = events_codegen::ids::assign(model, &model.schema_ids);
    let added: Vec<_> = assigned.iter().filter(|s| !model.schema_ids.contains(s)).collect();
    for s in &added {
        println!("{} {}: id {}, version {}", s.subject, s.version, s.id, s.integer);
    }
    if check_only {
        if added.is_empty() {
            return 0;
        }
        eprintln!(
            "{} version{} without a recorded schema id; run `cargo events ids` and commit {}",
            added.len(),
            if added.len() == 1 { "" } else { "s" },
            events_codegen::ids::IDS_FILE
        );
        return FINDINGS;
    }
    let path = model.root.join(events_codegen::ids::IDS_FILE);
    let text = events_codegen::ids::render(&assigned);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        eprintln!("{}: every version has its id", path.display());
        return 0;
    }
    match std::fs::write(&path, text) {
        Ok(()) => {
            eprintln!("{}: {} id{} recorded", path.display(), added.len(), if added.len() == 1 { "" } else { "s" });
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            FINDINGS
        }
    }
}
