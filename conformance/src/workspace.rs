//! A copy of the `events` crate whose registry is the schemas under test, built with Cargo, with
//! a runner example that decodes every test payload through `AnyEvent::from_json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::copy::{copy_dir, copy_listed, without_access};

/// The runner, compiled inside the copy.
const RUNNER: &str = include_str!("../runner/conformance_runner.rs");

/// Copies what building `events` needs from `workspace` into `dir`, with `registry` as its
/// `schemas/` and the runner as an example.
pub fn prepare(workspace: &Path, registry: &Path, dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    // The suite's remote documents are vendored in the registry under their own URIs.
    let (prefix, folder) = crate::suite::REMOTES;
    // The shipped registry's access rules name its services; the suite's events have sources of their own.
    let manifest = without_access(&fs::read_to_string(workspace.join("Cargo.toml"))?);
    fs::write(
        dir.join("Cargo.toml"),
        format!("{manifest}\n[package.metadata.events.vendor]\n\"{prefix}\" = \"{folder}\"\n"),
    )?;
    // Everything a copy needs but the manifest (written above) and the registry (the one under test).
    copy_listed(include_str!("../../tests/workspace-copy.txt"), workspace, dir, &["Cargo.toml", "schemas/"])?;
    let _ = fs::remove_dir_all(dir.join("schemas"));
    copy_dir(registry, &dir.join("schemas"))?;
    fs::create_dir_all(dir.join("examples"))?;
    fs::write(dir.join("examples/conformance_runner.rs"), RUNNER)
}

/// What one build attempt gave.
pub enum Built {
    /// The runner's executable.
    Ok(PathBuf),
    /// rustc refused the generated code of these subjects (module name, first error).
    Rejected(Vec<(String, String)>),
    /// The build failed for another reason.
    Failed(String),
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds the runner in `dir`, with its own target folder so that the main build stays warm.
pub fn build(dir: &Path, target: &Path) -> Built {
    let out = Command::new(cargo())
        .args(["build", "--offline", "--example", "conformance_runner", "--message-format", "short"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MAKEFLAGS")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => return Built::Failed(format!("cannot run cargo: {e}")),
    };
    if out.status.success() {
        return Built::Ok(target.join("debug/examples/conformance_runner"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rejected = rejected_modules(&stderr, target);
    if rejected.is_empty() {
        Built::Failed(stderr)
    } else {
        Built::Rejected(rejected)
    }
}

/// Maps rustc's errors in the generated file (`…/out/events.rs:LINE:COL: error…`) to the subject
/// module that holds each line.
fn rejected_modules(stderr: &str, target: &Path) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for line in stderr.lines() {
        let Some(at) = line.find("/out/events.rs:") else { continue };
        if !line.contains("error") {
            continue;
        }
        let path = &line[..at + "/out/events.rs".len()];
        let rest = &line[at + "/out/events.rs:".len()..];
        let Some(line_no) = rest.split(':').next().and_then(|n| n.parse::<usize>().ok()) else { continue };
        let file = if Path::new(path).is_absolute() { PathBuf::from(path) } else { target.join(path) };
        let Ok(code) = fs::read_to_string(&file) else { continue };
        if let Some(module) = enclosing_module(&code, line_no) {
            if !found.iter().any(|(m, _)| *m == module) {
                found.push((module, rest.splitn(3, ':').nth(2).unwrap_or(rest).trim().to_string()));
            }
        }
    }
    found
}

/// The top-level `pub mod` that line `line_no` (1-based) of the generated file sits in.
fn enclosing_module(code: &str, line_no: usize) -> Option<String> {
    code.lines()
        .take(line_no)
        .filter_map(|l| l.strip_prefix("pub mod ").and_then(|r| r.strip_suffix(" {")))
        .last()
        .map(str::to_string)
}

/// Runs the runner on the cases file; its stdout holds one JSON result per line.
pub fn run(runner: &Path, cases: &Path) -> Result<String, String> {
    let out = Command::new(runner).arg(cases).output().map_err(|e| format!("cannot run the runner: {e}"))?;
    if !out.status.success() {
        return Err(format!("the runner failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
