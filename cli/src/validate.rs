//! `events validate`: every message of the input decoded through the registry, one result each.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use events_codegen::Config;
use serde_json::json;

use crate::decode::{self, Decoder};
use crate::failure::{Failure, FailureKind, Outcome};
use crate::progress::Progress;
use crate::stream::{values, Item};
use crate::tools;

pub fn run(config: &Config, files: &[PathBuf], json: bool, quiet: bool) -> Result<Outcome, Failure> {
    let mut progress = Progress::new();
    progress.stage("checking the registry…");
    let registry = tools::load(config)?;
    let mut decoder = Decoder::new(&registry);
    let stdin = [PathBuf::from("-")];
    let inputs = if files.is_empty() { &stdin[..] } else { files };
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut unreadable = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for input in inputs {
        let (name, bytes) = match read(input) {
            Ok(read) => read,
            Err(error) => {
                unreadable.push(error);
                continue;
            }
        };
        for item in values(&bytes) {
            let (line, outcome) = match item {
                Item::Value { line, value } => (line, decoder.decode(&value)),
                Item::Malformed { line, column, message } => {
                    invalid += 1;
                    let _ = if json {
                        writeln!(
                            out,
                            "{}",
                            json!({ "file": name, "line": line, "column": column, "valid": false, "error": format!("not JSON: {message}") })
                        )
                    } else {
                        writeln!(out, "{name}:{line}:{column}: not JSON: {message}")
                    };
                    continue;
                }
            };
            if outcome.valid() {
                valid += 1;
            } else {
                invalid += 1;
            }
            if !(quiet && outcome.valid()) {
                let _ = if json {
                    writeln!(out, "{}", as_json(&name, line, &outcome))
                } else {
                    write_text(&mut out, &name, line, &outcome)
                };
            }
            progress.tick(|| format!("{} messages", valid + invalid));
        }
    }
    drop(progress);
    let _ = out.flush();
    drop(out);
    if !json {
        eprintln!(
            "{} message{}: {valid} valid, {invalid} invalid",
            valid + invalid,
            if valid + invalid == 1 { "" } else { "s" }
        );
    }
    // The other inputs were read all the same; a missing one is still a usage error.
    match unreadable.len() {
        0 => Ok(Outcome::found(invalid > 0)),
        1 => {
            let (name, error) = unreadable.remove(0);
            Err(Failure::caused(FailureKind::Usage, format!("cannot read {name}"), error))
        }
        n => {
            let each: Vec<String> = unreadable.iter().map(|(name, e)| format!("  {name}: {e}")).collect();
            Err(Failure::usage(format!("cannot read {n} inputs:\n{}", each.join("\n"))))
        }
    }
}

/// The name and bytes of an input, or its name and why it cannot be read.
fn read(input: &Path) -> Result<(String, Vec<u8>), (String, std::io::Error)> {
    if input == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| ("standard input".to_string(), e))?;
        return Ok(("<stdin>".to_string(), bytes));
    }
    let bytes = std::fs::read(input).map_err(|e| (input.display().to_string(), e))?;
    Ok((input.display().to_string(), bytes))
}

fn describe(outcome: &decode::Outcome) -> String {
    match (&outcome.contract, &outcome.version) {
        (Some(c), Some(v)) => format!("{c} {v}"),
        (Some(c), None) => c.clone(),
        _ => "message".to_string(),
    }
}

fn write_text(out: &mut impl Write, file: &str, line: usize, outcome: &decode::Outcome) -> std::io::Result<()> {
    if outcome.valid() {
        return writeln!(out, "{file}:{line}: valid {}", describe(outcome));
    }
    writeln!(out, "{file}:{line}: invalid {}", describe(outcome))?;
    for v in &outcome.violations {
        let at = if v.pointer.is_empty() { "(the message)" } else { v.pointer.as_str() };
        match &v.keyword {
            Some(k) => writeln!(out, "  {at}: {} [{k}]", v.message)?,
            None => writeln!(out, "  {at}: {}", v.message)?,
        }
    }
    Ok(())
}

fn as_json(file: &str, line: usize, outcome: &decode::Outcome) -> serde_json::Value {
    json!({
        "file": file,
        "line": line,
        "valid": outcome.valid(),
        "kind": outcome.kind,
        "contract": outcome.contract,
        "version": outcome.version,
        "violations": outcome.violations,
    })
}
