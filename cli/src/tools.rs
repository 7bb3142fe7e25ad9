//! What the subcommands share: the registry loaded, a contract looked up, and the commands that
//! come from the generator as they are (`generate`, `compat`).

use std::io::Write;
use std::path::Path;

use events_codegen::registry::{SchemaFile, Version};
use events_codegen::{Config, Inspection};

use crate::failure::{Failure, FailureKind, Outcome};
pub use crate::failure::{FINDINGS, USAGE};

/// The registry checked.
pub fn load(config: &Config) -> Result<Inspection, Failure> {
    Ok(config.inspect()?)
}

/// The registry checked, or its problems printed and their exit status, for a command that prints
/// its own errors.
pub fn inspect(config: &Config) -> Result<Inspection, u8> {
    load(config).map_err(|failure| {
        eprintln!("error: {failure}");
        failure.kind().status()
    })
}

/// `events generate`: the code the build would generate.
pub fn generate(config: &Config, out: Option<&Path>) -> Result<Outcome, Failure> {
    let generated = config.generate_isolated()?;
    for w in generated.warnings().iter().chain(generated.fallbacks()) {
        eprintln!("warning: {w}");
    }
    let code = generated.render()?;
    match out {
        Some(path) => std::fs::write(path, code).map_err(|e| {
            Failure::caused(FailureKind::Io, format!("cannot write the generated code to {}", path.display()), e)
        })?,
        None => std::io::stdout()
            .write_all(code.as_bytes())
            .map_err(|e| Failure::caused(FailureKind::Io, "cannot write the generated code to standard output", e))?,
    }
    Ok(Outcome::Clean)
}

/// `events compat`: every version pair under its mode.
pub fn compat(config: &Config) -> Result<Outcome, Failure> {
    let report = config.compatibility_report()?;
    print!("{report}");
    Ok(Outcome::found(!report.passed()))
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

/// The file of `text` (`Name` or `Name@1.0`); a name or version the registry lacks is a usage error.
pub fn contract<'a>(registry: &'a Inspection, text: &str) -> Result<&'a SchemaFile, Failure> {
    let (name, version) = parse(text).map_err(Failure::usage)?;
    registry.contract(&name, version).ok_or_else(|| {
        let known = registry.versions_of(&name);
        if known.is_empty() {
            return Failure::usage(format!("the registry has no contract `{name}`{}", suggestion(registry, &name)));
        }
        let versions: Vec<String> = known.iter().map(|f| f.schema_ref.version.to_string()).collect();
        Failure::usage(format!(
            "`{name}` has no version {}: it has {}",
            version.map(|v| v.to_string()).unwrap_or_default(),
            versions.join(", ")
        ))
    })
}

/// `events schema`: the bundled payload schema, or the whole message's.
pub fn schema(config: &Config, contract_text: &str, envelope: bool) -> Result<Outcome, Failure> {
    let registry = load(config)?;
    let file = contract(&registry, contract_text)?;
    let schema = if envelope { registry.envelope_schema(file) } else { registry.bundled(file).cloned() };
    println!("{}", serde_json::to_string_pretty(&schema.unwrap_or_default()).expect("JSON"));
    Ok(Outcome::Clean)
}

/// `events ids`: numbers for every version that has none, written to the registry's lock file.
pub fn ids(config: &Config, check_only: bool) -> Result<Outcome, Failure> {
    let registry = load(config)?;
    let model = registry.registry();
    let assigned = events_codegen::ids::assign(model, &model.schema_ids);
    let added: Vec<_> = assigned.iter().filter(|s| !model.schema_ids.contains(s)).collect();
    for s in &added {
        println!("{} {}: id {}, version {}", s.subject, s.version, s.id, s.integer);
    }
    if check_only {
        if !added.is_empty() {
            eprintln!(
                "{} version{} without a recorded schema id; run `cargo events ids` and commit {}",
                added.len(),
                if added.len() == 1 { "" } else { "s" },
                events_codegen::ids::IDS_FILE
            );
        }
        return Ok(Outcome::found(!added.is_empty()));
    }
    let path = model.root.join(events_codegen::ids::IDS_FILE);
    let text = events_codegen::ids::render(&assigned);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        eprintln!("{}: every version has its id", path.display());
        return Ok(Outcome::Clean);
    }
    std::fs::write(&path, text)
        .map_err(|e| Failure::caused(FailureKind::Io, format!("cannot write {}", path.display()), e))?;
    eprintln!("{}: {} id{} recorded", path.display(), added.len(), if added.len() == 1 { "" } else { "s" });
    Ok(Outcome::Clean)
}
