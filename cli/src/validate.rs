//! `events validate`: every message of the input decoded through the registry, one result each.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use events_codegen::Config;
use serde_json::json;

use crate::decode::{Decoder, Outcome};
use crate::progress::Progress;
use crate::stream::{values, Item};
use crate::tools::{self, FINDINGS, USAGE};

pub fn run(config: &Config, files: &[PathBuf], json: bool, quiet: bool) -> u8 {
    let mut progress = Progress::new();
    progress.stage("checking the registry…");
    let registry = match tools::inspect(config) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let mut decoder = Decoder::new(&registry);
    let stdin = [PathBuf::from("-")];
    let inputs = if files.is_empty() { &stdin[..] } else { files };
    let (mut valid, mut invalid, mut unreadable) = (0usize, 0usize, 0usize);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for input in inputs {
        let (name, bytes) = match read(input) {
            Ok(read) => read,
            Err(message) => {
                drop(progress);
                eprintln!("error: {message}");
                progress = Progress::new();
                unreadable += 1;
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
    if unreadable > 0 {
        USAGE
    } else if invalid > 0 {
        FINDINGS
    } else {
        0
    }
}

fn read(input: &Path) -> Result<(String, Vec<u8>), String> {
    if input == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("standard input: {e}"))?;
        return Ok(("<stdin>".to_string(), bytes));
    }
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    Ok((input.display().to_string(), bytes))
}

fn describe(outcome: &Outcome) -> String {
    match (&outcome.contract, &outcome.version) {
        (Some(c), Some(v)) => format!("{c} {v}"),
        (Some(c), None) => c.clone(),
        _ => "message".to_string(),
    }
}

fn write_text(out: &mut impl Write, file: &str, line: usize, outcome: &Outcome) -> std::io::Result<()> {
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

fn as_json(file: &str, line: usize, outcome: &Outcome) -> serde_json::Value {
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
