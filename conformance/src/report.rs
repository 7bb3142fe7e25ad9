//! The conformance table: per keyword file, generation outcomes and validation results, written
//! as Markdown. Deterministic: the same inputs give the same text, so it can be committed and
//! checked.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use crate::suite::Group;

/// What the generator and the compiler made of one group's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generation {
    /// typify's types.
    Typed,
    /// typify's types, with `serde_json::Value` where they cannot hold the schema exactly.
    Partial(String),
    /// A validated `serde_json::Value` payload, and why.
    Fallback(String),
    /// The generator refused the schema, with its message.
    Unsupported(String),
    /// rustc refused the generated code: a generator bug.
    Rejected(String),
}

/// The outcome of one test payload.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Decoding accepted it.
    pub accepted: bool,
    /// Decoding panicked.
    pub panicked: bool,
    /// When accepted: whether the payload encodes back to the same JSON.
    pub round_trip: Option<bool>,
    /// When refused: why.
    pub error: Option<String>,
    /// Whether `from_json` and the complete path alone gave the same result.
    pub paths_agree: bool,
}

impl Outcome {
    /// From one line of the runner's output.
    pub fn from_line(v: &Value) -> Self {
        Outcome {
            accepted: v["accepted"].as_bool().unwrap_or(false),
            panicked: v["panicked"].as_bool().unwrap_or(false),
            round_trip: v["round_trip"].as_bool(),
            error: v["error"].as_str().map(str::to_string),
            paths_agree: v["paths_agree"].as_bool().unwrap_or(false),
        }
    }
}

#[derive(Default)]
struct Row {
    groups: usize,
    typed: usize,
    partial: usize,
    fast: usize,
    fallback: usize,
    unsupported: usize,
    rejected: usize,
    passed: usize,
    total: usize,
    accepted: usize,
    round_trip: usize,
    panics: usize,
}

impl Row {
    fn add(&mut self, other: &Row) {
        self.groups += other.groups;
        self.typed += other.typed;
        self.partial += other.partial;
        self.fast += other.fast;
        self.fallback += other.fallback;
        self.unsupported += other.unsupported;
        self.rejected += other.rejected;
        self.passed += other.passed;
        self.total += other.total;
        self.accepted += other.accepted;
        self.round_trip += other.round_trip;
        self.panics += other.panics;
    }

    fn line(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {}/{} |",
            self.groups,
            self.typed,
            self.partial,
            self.fallback,
            self.unsupported,
            self.rejected,
            self.fast,
            self.passed,
            self.total,
            self.round_trip,
            self.accepted
        )
    }
}

/// Totals the run needs to judge itself.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Required tests passed, and their number.
    pub required: (usize, usize),
    /// Optional tests passed, and their number.
    pub optional: (usize, usize),
    /// Corpus sample payloads passed, and their number.
    pub corpus: (usize, usize),
    /// Groups whose generated code rustc refused.
    pub rejected: usize,
    /// Payloads whose decoding panicked.
    pub panics: usize,
    /// Accepted payloads that did not encode back to themselves.
    pub round_trip_failures: usize,
    /// Invalid payloads that were accepted (required tests and corpus).
    pub accepted_invalid: usize,
    /// Payloads where the fast path and the complete path gave different results.
    pub disagreements: usize,
    /// Sample payloads of generated corpus schemas decoded against their label.
    pub corpus_failures: usize,
}

/// The summary the README shows: one row per part, between these markers.
pub const SUMMARY_START: &str = "<!-- conformance summary: written by `cargo run -p events-conformance` -->";
/// Where the README's summary ends.
pub const SUMMARY_END: &str = "<!-- end of conformance summary -->";

/// The Markdown report, the README summary, and the totals.
pub fn render(
    groups: &[Group],
    generation: &[Generation],
    fast: &[bool],
    outcomes: &[Vec<Option<Outcome>>],
) -> (String, String, Totals) {
    let mut rows: BTreeMap<(u8, String), Row> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    // Corpus schemas the generator refuses with a diagnostic: an allowed outcome, shown as is.
    let mut refused: Vec<String> = Vec::new();
    let mut totals = Totals::default();
    for (((g, gen), results), fast) in groups.iter().zip(generation).zip(outcomes).zip(fast) {
        let section = match (g.file.starts_with("corpus/"), g.required) {
            (true, _) => 2,
            (false, true) => 0,
            (false, false) => 1,
        };
        let row = rows.entry((section, g.file.clone())).or_default();
        row.groups += 1;
        row.fast += usize::from(*fast);
        match gen {
            Generation::Typed => row.typed += 1,
            Generation::Partial(_) => row.partial += 1,
            Generation::Fallback(_) => row.fallback += 1,
            Generation::Unsupported(m) => {
                row.unsupported += 1;
                match section {
                    0 => failures.push(format!("- `{}` “{}”: unsupported: {}", g.file, g.description, one_line(m))),
                    2 => refused.push(format!("- `{}`: {}", g.file, one_line(m))),
                    _ => {}
                }
            }
            Generation::Rejected(m) => {
                row.rejected += 1;
                totals.rejected += 1;
                failures.push(format!(
                    "- `{}` “{}”: generated code rejected by rustc: {}",
                    g.file,
                    g.description,
                    one_line(m)
                ));
            }
        }
        for (case, result) in g.tests.iter().zip(results) {
            row.total += 1;
            let Some(o) = result else { continue };
            if o.panicked {
                row.panics += 1;
                totals.panics += 1;
            }
            if !o.panicked && !o.paths_agree {
                totals.disagreements += 1;
                failures.push(format!(
                    "- `{}` “{}” / “{}”: the fast and the complete path disagree",
                    g.file, g.description, case.description
                ));
            }
            let pass = !o.panicked && o.accepted == case.valid;
            if pass {
                row.passed += 1;
            } else if section == 2 {
                totals.corpus_failures += 1;
            }
            if o.accepted {
                row.accepted += 1;
                if o.round_trip == Some(true) {
                    row.round_trip += 1;
                } else {
                    totals.round_trip_failures += 1;
                    if section != 1 {
                        failures.push(format!(
                            "- `{}` “{}” / “{}”: accepted, but encodes back to a different payload",
                            g.file, g.description, case.description
                        ));
                    }
                }
                if !case.valid && section != 1 {
                    totals.accepted_invalid += 1;
                }
            }
            if !pass && section != 1 {
                let got = if o.panicked {
                    "panicked".to_string()
                } else if o.accepted {
                    "accepted".to_string()
                } else {
                    format!("refused ({})", one_line(o.error.as_deref().unwrap_or("")))
                };
                failures.push(format!(
                    "- `{}` “{}” / “{}”: expected {}, {got}",
                    g.file,
                    g.description,
                    case.description,
                    if case.valid { "valid" } else { "invalid" }
                ));
            }
        }
        let passed = results
            .iter()
            .zip(&g.tests)
            .filter(|(r, c)| r.as_ref().is_some_and(|o| !o.panicked && o.accepted == c.valid))
            .count();
        let slot = match section {
            0 => &mut totals.required,
            1 => &mut totals.optional,
            _ => &mut totals.corpus,
        };
        slot.0 += passed;
        slot.1 += g.tests.len();
    }
    let mut out = String::new();
    let header = "| file | schemas | typed | partly typed | Value | unsupported | rustc rejected | typed check | validation passed/total | round-trip ok/accepted |\n|---|---|---|---|---|---|---|---|---|---|";
    let titles = ["Required tests", "Optional tests (reported, not required)", "Real-world corpus"];
    let mut summary = String::from(
        "| part | schemas | typed | partly typed | Value | unsupported | rustc rejected | typed check | validation passed/total | round-trip ok/accepted |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let _ = writeln!(out, "# Conformance\n");
    let _ = writeln!(
        out,
        "Produced by `cargo run -p events-conformance` from the JSON-Schema-Test-Suite (drafts 2020-12 and 7) and\n`conformance/corpus/`; do not edit by hand. Each schema becomes an event of a generated registry, the\nregistry is compiled, and each test payload, in a full-form envelope, is decoded through
`AnyEvent::from_json` (and through the complete path alone, which must agree with it). Generation is
*typed* (typify's types throughout), *partly typed* (a validated `serde_json::Value` where typify's
types cannot hold the schema exactly), *Value* (the whole payload), or *unsupported* (refused with a
diagnostic). *Typed check*: schemas whose payload is validated on its typed form, so that full-form
messages decode on the fast path. `format` is\nasserted (the registry's documented choice): the tests of the required `format.json` that expect the\nannotation-only default are counted as passed when the value is refused.\n"
    );
    for (section, title) in titles.iter().enumerate() {
        let mut total = Row::default();
        let lines: Vec<String> = rows
            .iter()
            .filter(|((s, _), _)| *s as usize == section)
            .map(|((_, file), row)| {
                total.add(row);
                row.line(&format!("`{file}`"))
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {title}\n\n{header}");
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out, "{}\n", total.line("**total**"));
        let _ = writeln!(summary, "{}", total.line(title));
    }
    if !refused.is_empty() {
        let _ = writeln!(out, "## Corpus schemas refused with a diagnostic\n");
        for r in &refused {
            let _ = writeln!(out, "{r}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Failures (required tests and corpus)\n");
    if failures.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        for f in &failures {
            let _ = writeln!(out, "{f}");
        }
    }
    (out, summary, totals)
}

fn one_line(text: &str) -> String {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 200 {
        t.chars().take(200).collect::<String>() + "…"
    } else {
        t
    }
}
