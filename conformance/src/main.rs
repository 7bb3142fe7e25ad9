//! `events-conformance [--suite DIR] [--corpus DIR] [--work DIR] [--out FILE] [--check]`
//!
//! Runs every schema of the JSON-Schema-Test-Suite (drafts 2020-12 and 7, `JSON_SCHEMA_TEST_SUITE`
//! or `--suite`) and of `conformance/corpus/` through the registry: generation, compilation, and
//! decoding of each test payload through `AnyEvent::from_json`. Writes the table to
//! `CONFORMANCE.md` (or `--out`); with `--check`, fails instead when that file is stale. Exits with
//! status 1 when generation panics, generated code does not compile, a decode panics, an invalid
//! payload is accepted, or an accepted payload does not encode back to itself.

mod copy;
mod report;
mod suite;
mod workspace;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use report::{Generation, Outcome};
use serde_json::{json, Value};

struct Options {
    /// `None`: the corpus alone (`--no-suite`).
    suite: Option<PathBuf>,
    corpus: Option<PathBuf>,
    work: PathBuf,
    out: PathBuf,
    check: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate sits in the workspace").to_path_buf()
}

fn options() -> Result<Options, String> {
    let root = workspace_root();
    let mut o = Options {
        suite: std::env::var_os("JSON_SCHEMA_TEST_SUITE").map(PathBuf::from),
        corpus: Some(root.join("conformance/corpus")).filter(|p| p.is_dir()),
        work: root.join("target/conformance"),
        out: root.join("CONFORMANCE.md"),
        check: false,
    };
    let mut no_suite = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().map(PathBuf::from).ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--suite" => o.suite = Some(value()?),
            "--no-suite" => {
                // The corpus alone: its table goes to the work folder, not over the committed one.
                o.suite = None;
                no_suite = true;
            }
            "--corpus" => o.corpus = Some(value()?),
            "--work" => o.work = value()?,
            "--out" => o.out = value()?,
            "--check" => o.check = true,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if no_suite {
        o.out = o.work.join("CONFORMANCE-corpus.md");
    }
    if o.suite.is_none() && !no_suite {
        return Err("where is the JSON-Schema-Test-Suite? set JSON_SCHEMA_TEST_SUITE, pass --suite DIR, or run the corpus alone with --no-suite".into());
    }
    Ok(o)
}

/// Generates the registry, setting aside the schemas the generator refuses, until it generates.
fn generate(
    groups: &[suite::Group],
    registry: &Path,
    work: &Path,
    generation: &mut [Generation],
) -> Result<(), String> {
    let by_subject: BTreeMap<&str, usize> = groups.iter().enumerate().map(|(i, g)| (g.subject.as_str(), i)).collect();
    for _ in 0..8 {
        let mut config = events_codegen::Config::new();
        config
            .schema_dir(registry)
            .cargo_directives(false)
            .vendor(suite::REMOTES.0, suite::REMOTES.1)
            .out_file(work.join("generated.rs"));
        match config.compile() {
            Ok(generated) => {
                for d in generated.fallbacks() {
                    if let Some(&i) = subject_of(&d.file).and_then(|s| by_subject.get(s)) {
                        generation[i] = Generation::Fallback(d.message.clone());
                    }
                }
                for d in generated.partly_typed() {
                    if let Some(&i) = subject_of(&d.file).and_then(|s| by_subject.get(s)) {
                        generation[i] = Generation::Partial(d.message.clone());
                    }
                }
                return Ok(());
            }
            Err(e) => {
                let mut removed = 0;
                for d in e.diagnostics() {
                    // A problem in a vendored remote document belongs to every schema naming it.
                    let users: Vec<usize> = match d.file.split_once(&format!("/{}/", suite::REMOTES.1)) {
                        Some((_, remote)) => groups
                            .iter()
                            .enumerate()
                            .filter(|(_, g)| g.schema.to_string().contains(remote))
                            .map(|(i, _)| i)
                            .collect(),
                        None => subject_of(&d.file).and_then(|s| by_subject.get(s)).copied().into_iter().collect(),
                    };
                    if users.is_empty() {
                        return Err(format!("a problem outside the schemas under test: {d}"));
                    }
                    for i in users {
                        if matches!(generation[i], Generation::Unsupported(_)) {
                            continue;
                        }
                        generation[i] = Generation::Unsupported(d.to_string());
                        std::fs::remove_dir_all(registry.join(&groups[i].subject)).map_err(|e| e.to_string())?;
                        removed += 1;
                    }
                }
                if removed == 0 {
                    return Err(format!("generation keeps failing: {e}"));
                }
            }
        }
    }
    Err("generation did not settle".into())
}

/// `registry/<subject>/1.0.json` → `<subject>`.
fn subject_of(display: &str) -> Option<&str> {
    let mut parts = display.rsplit('/');
    parts.next()?;
    parts.next()
}

/// Builds the runner, setting aside the schemas whose generated code rustc refuses.
fn build(
    groups: &[suite::Group],
    copy: &Path,
    target: &Path,
    generation: &mut [Generation],
) -> Result<PathBuf, String> {
    let by_module: BTreeMap<String, usize> =
        groups.iter().enumerate().map(|(i, g)| (events_codegen::module_name(&g.subject), i)).collect();
    for _ in 0..20 {
        match workspace::build(copy, target) {
            workspace::Built::Ok(runner) => return Ok(runner),
            workspace::Built::Failed(stderr) => return Err(format!("the registry copy does not build:\n{stderr}")),
            workspace::Built::Rejected(modules) => {
                for (module, error) in modules {
                    let Some(&i) = by_module.get(&module) else {
                        return Err(format!("rustc refused code outside the schemas under test ({module}): {error}"));
                    };
                    generation[i] = Generation::Rejected(error);
                    std::fs::remove_dir_all(copy.join("schemas").join(&groups[i].subject))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Err("the build did not settle".into())
}

fn run(o: &Options) -> Result<report::Totals, String> {
    let mut groups = match &o.suite {
        Some(dir) => suite::suite(dir)?,
        None => Vec::new(),
    };
    if let Some(corpus) = &o.corpus {
        groups.extend(suite::corpus(corpus)?);
    }
    let registry = o.work.join("registry");
    std::fs::create_dir_all(&o.work).map_err(|e| e.to_string())?;
    suite::write_registry(&groups, o.suite.as_deref(), &registry).map_err(|e| e.to_string())?;
    let mut generation = vec![Generation::Typed; groups.len()];
    eprintln!("generating {} schemas", groups.len());
    generate(&groups, &registry, &o.work, &mut generation)?;
    // Which contracts got a typed check, so decode on the fast path.
    let code = std::fs::read_to_string(o.work.join("generated.rs")).map_err(|e| e.to_string())?;
    let fast: Vec<bool> = groups
        .iter()
        .map(|g| {
            let start = format!("pub mod {} {{", events_codegen::module_name(&g.subject));
            code.split_once(&start)
                .map(|(_, rest)| rest.split("\npub mod ").next().unwrap_or(rest).contains("fn typed_valid"))
                .unwrap_or(false)
        })
        .collect();
    let copy = o.work.join("crate");
    workspace::prepare(&workspace_root(), &registry, &copy).map_err(|e| format!("cannot copy the workspace: {e}"))?;
    eprintln!("compiling the registry");
    let runner = build(&groups, &copy, &o.work.join("target"), &mut generation)?;
    let mut cases = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if matches!(generation[i], Generation::Typed | Generation::Partial(_) | Generation::Fallback(_)) {
            for (j, t) in g.tests.iter().enumerate() {
                cases.push(json!({ "id": [i, j], "event": g.event, "subject": g.subject, "data": t.data }));
            }
        }
    }
    let cases_file = o.work.join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).expect("JSON")).map_err(|e| e.to_string())?;
    eprintln!("decoding {} payloads", cases.len());
    let output = workspace::run(&runner, &cases_file)?;
    std::fs::write(o.work.join("results.jsonl"), &output).map_err(|e| e.to_string())?;
    let mut outcomes: Vec<Vec<Option<Outcome>>> = groups.iter().map(|g| vec![None; g.tests.len()]).collect();
    for line in output.lines() {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("bad runner output {line}: {e}"))?;
        let (i, j) = (v["id"][0].as_u64().unwrap_or(0) as usize, v["id"][1].as_u64().unwrap_or(0) as usize);
        outcomes[i][j] = Some(Outcome::from_line(&v));
    }
    let (text, summary, totals) = report::render(&groups, &generation, &fast, &outcomes);
    // The README's summary, when the run covers the suite and the README has its markers.
    let readme_path = workspace_root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap_or_default();
    let fresh_readme = match (o.suite.is_some(), readme.split_once(report::SUMMARY_START)) {
        (true, Some((before, rest))) => rest
            .split_once(report::SUMMARY_END)
            .map(|(_, after)| format!("{before}{}\n{summary}{}{after}", report::SUMMARY_START, report::SUMMARY_END)),
        _ => None,
    };
    if o.check {
        if fresh_readme.as_ref().is_some_and(|fresh| *fresh != readme) {
            return Err("the conformance summary in README.md is stale; refresh it with `JSON_SCHEMA_TEST_SUITE=<suite> cargo run -p events-conformance`".into());
        }
        let committed = std::fs::read_to_string(&o.out).unwrap_or_default();
        if committed != text {
            std::fs::write(o.work.join("CONFORMANCE.md"), &text).map_err(|e| e.to_string())?;
            return Err(format!(
                "{} is stale (fresh copy in {}); refresh it with `JSON_SCHEMA_TEST_SUITE=<suite> cargo run -p events-conformance`",
                o.out.display(),
                o.work.join("CONFORMANCE.md").display()
            ));
        }
    } else {
        std::fs::write(&o.out, &text).map_err(|e| e.to_string())?;
        if let Some(fresh) = fresh_readme {
            std::fs::write(&readme_path, fresh).map_err(|e| e.to_string())?;
        }
    }
    Ok(totals)
}

fn main() -> ExitCode {
    events_codegen::serve_typify_jobs();
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(t) => {
            println!(
                "required {}/{}, optional {}/{}, corpus {}/{}; rustc rejected {}, panics {}, invalid accepted {}, round-trip failures {}, fast and complete paths disagree {}, corpus failures {}",
                t.required.0, t.required.1, t.optional.0, t.optional.1, t.corpus.0, t.corpus.1, t.rejected, t.panics, t.accepted_invalid, t.round_trip_failures, t.disagreements, t.corpus_failures
            );
            if t.rejected + t.panics + t.round_trip_failures + t.accepted_invalid + t.disagreements + t.corpus_failures
                > 0
            {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
