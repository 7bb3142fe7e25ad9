//! The registry's compatibility report: every subject, every version pair its mode compares,
//! with a verdict and the reasons.

use std::fmt;

use super::{Direction, Finding, Mode, Rule};
use crate::bundle::Bundle;
use crate::error::Diagnostic;
use crate::registry::{Registry, SchemaFile, Version};

/// The verdict of every subject of a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Subjects in registry order.
    pub subjects: Vec<SubjectReport>,
}

/// One subject's versions and the pairs compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectReport {
    /// The schema id.
    pub id: String,
    /// Every version, oldest first.
    pub versions: Vec<Version>,
    /// The pairs compared, in the order of their newer version.
    pub pairs: Vec<PairReport>,
}

/// One comparison of an older and a newer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairReport {
    /// The earlier version.
    pub older: Version,
    /// The version being checked.
    pub newer: Version,
    /// The mode the newer version is held to.
    pub mode: Mode,
    /// What the comparison concluded.
    pub verdict: Verdict,
    /// Every break found.
    pub incompatibilities: Vec<Incompatibility>,
}

/// What one comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The pair passes its mode.
    Compatible,
    /// A minor version breaks its mode: the build fails.
    Incompatible,
    /// A major version breaks its mode, as major versions may: reported as warnings.
    BreakAllowed,
}

/// One break, placed in the newer version's source (or the shared file it draws on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Which reading fails.
    pub direction: Direction,
    /// The rule broken.
    pub rule: Rule,
    /// File, line and pointer, and the message.
    pub diagnostic: Diagnostic,
}

/// Compares the versions of every subject. `bundles` holds one entry per file of
/// [`Registry::files`], `None` for a file that could not be bundled (it is left out).
pub fn report(registry: &Registry, bundles: &[Option<&Bundle>], default: Mode) -> Report {
    let mut next = bundles.iter();
    let subjects = registry
        .subjects
        .iter()
        .map(|s| {
            let versions: Vec<(&SchemaFile, Option<&Bundle>)> =
                s.versions.iter().map(|f| (f, next.next().copied().flatten())).collect();
            let mut pairs = Vec::new();
            for (i, (newer, newer_bundle)) in versions.iter().enumerate() {
                let Some(newer_bundle) = newer_bundle else { continue };
                let mode = newer.compatibility.unwrap_or(default);
                let earlier = if mode.transitive() { 0..i } else { i.saturating_sub(1)..i };
                if mode == Mode::None {
                    continue;
                }
                for (older, older_bundle) in &versions[earlier] {
                    let Some(older_bundle) = older_bundle else { continue };
                    pairs.push(pair(older, older_bundle, newer, newer_bundle, mode));
                }
            }
            SubjectReport {
                id: s.id.clone(),
                versions: s.versions.iter().map(|f| f.schema_ref.version).collect(),
                pairs,
            }
        })
        .collect();
    Report { subjects }
}

fn pair(
    older: &SchemaFile,
    older_bundle: &Bundle,
    newer: &SchemaFile,
    newer_bundle: &Bundle,
    mode: Mode,
) -> PairReport {
    let (o, n) = (older.schema_ref.version, newer.schema_ref.version);
    let mut incompatibilities = Vec::new();
    let contract_key = if newer.document.get("x-command").is_some() { "/x-command" } else { "/x-event" };
    let mut contract_change = |what: &str, pointer: &str, message: String| {
        let at = format!("{contract_key}/{pointer}");
        let d = Diagnostic::at(newer.display.clone(), Some(&newer.source), at, String::new());
        incompatibilities.push(place(
            d,
            mode,
            o,
            n,
            Direction::Backward,
            Rule::ContractChanged,
            &format!("{what} {message}"),
        ));
    };
    if older.contract.name != newer.contract.name {
        contract_change(
            "the name",
            "name",
            format!("changed from `{}` to `{}`", older.contract.name, newer.contract.name),
        );
    }
    if older.contract.kind != newer.contract.kind {
        contract_change("the kind", "type", "changed (event type, or event ↔ command)".into());
    }
    for (direction, f) in mode.check(&older_bundle.schema, &newer_bundle.schema) {
        let Finding { rule, reader, writer, message } = f;
        let in_newer = match direction {
            Direction::Backward => reader,
            Direction::Forward => writer,
        };
        let d = newer_bundle.locate(newer, &in_newer);
        incompatibilities.push(place(d, mode, o, n, direction, rule, &message));
    }
    let verdict = match (incompatibilities.is_empty(), o.major == n.major) {
        (true, _) => Verdict::Compatible,
        (false, true) => Verdict::Incompatible,
        (false, false) => Verdict::BreakAllowed,
    };
    PairReport { older: o, newer: n, mode, verdict, incompatibilities }
}

fn place(
    mut d: Diagnostic,
    mode: Mode,
    o: Version,
    n: Version,
    direction: Direction,
    rule: Rule,
    message: &str,
) -> Incompatibility {
    let reading = match direction {
        Direction::Backward => format!("{n} cannot read data written with {o}"),
        Direction::Forward => format!("{o} cannot read data written with {n}"),
    };
    d.message = format!("{mode} {o} → {n}: {reading}: {message} [{rule}]");
    Incompatibility { direction, rule, diagnostic: d }
}

impl Report {
    /// Whether every minor version passes its mode.
    pub fn passed(&self) -> bool {
        self.pairs().all(|p| p.verdict != Verdict::Incompatible)
    }

    /// The breaks that fail the build.
    pub fn errors(&self) -> Vec<Diagnostic> {
        self.breaks(Verdict::Incompatible)
    }

    /// The breaks of major versions, printed as warnings.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        self.breaks(Verdict::BreakAllowed)
    }

    fn pairs(&self) -> impl Iterator<Item = &PairReport> {
        self.subjects.iter().flat_map(|s| s.pairs.iter())
    }

    fn breaks(&self, verdict: Verdict) -> Vec<Diagnostic> {
        self.pairs()
            .filter(|p| p.verdict == verdict)
            .flat_map(|p| p.incompatibilities.iter().map(|i| i.diagnostic.clone()))
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut failed = 0;
        for s in &self.subjects {
            let versions: Vec<String> = s.versions.iter().map(|v| v.to_string()).collect();
            writeln!(f, "{} ({})", s.id, versions.join(", "))?;
            if s.pairs.is_empty() {
                let why = if s.versions.len() == 1 {
                    "one version, nothing to compare"
                } else {
                    "no pair checked (mode NONE)"
                };
                writeln!(f, "  {why}")?;
            }
            for p in &s.pairs {
                let verdict = match p.verdict {
                    Verdict::Compatible => "compatible".to_string(),
                    Verdict::Incompatible => {
                        failed += 1;
                        "INCOMPATIBLE".to_string()
                    }
                    Verdict::BreakAllowed => "breaks (allowed: major version)".to_string(),
                };
                writeln!(f, "  {} → {}  {}  {verdict}", p.older, p.newer, p.mode)?;
                for i in &p.incompatibilities {
                    writeln!(f, "    {}", i.diagnostic)?;
                }
            }
        }
        match failed {
            0 => writeln!(f, "result: every version passes its compatibility mode"),
            n => writeln!(
                f,
                "result: {n} version pair{} break{} compatibility",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ),
        }
    }
}
