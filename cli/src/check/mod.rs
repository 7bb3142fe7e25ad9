//! `events check --against REV`: the working tree's registry (uncommitted edits included) against
//! the registry at a git revision. Published versions are immutable: a version present at REV
//! whose meaning changed, or that is gone, is a finding; new versions go through the compatibility
//! gate; a widened access rule is a finding of its own, for review.

mod diff;
mod git;
mod manifest;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use events_codegen::registry::{ContractKind, Mode, Registry, SchemaFile};
use events_codegen::{Config, Inspection};
use serde_json::json;

use crate::failure::{Failure, FailureKind, Outcome};
use crate::tools;

/// One finding: where, which rule, what.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub rule: String,
    pub message: String,
}

impl Finding {
    fn at(file: &SchemaFile, pointer: &str, rule: &str, message: String) -> Self {
        let position = events_codegen::position_of(&file.source, pointer);
        Finding {
            file: file.display.clone(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
            pointer: Some(pointer.to_string()),
            rule: rule.to_string(),
            message,
        }
    }

    fn whole(file: impl Into<String>, rule: &str, message: String) -> Self {
        Finding { file: file.into(), line: None, column: None, pointer: None, rule: rule.to_string(), message }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(p) = &self.pointer {
            write!(f, ": at {}", if p.is_empty() { "(document root)" } else { p })?;
        }
        write!(f, ": [{}] {}", self.rule, self.message)
    }
}

/// What the command was asked.
pub struct Options<'a> {
    pub against: &'a str,
    pub allow_removal: bool,
    pub json: bool,
    /// The manifest the registry settings come from, for its text at REV.
    pub manifest: Option<&'a Path>,
}

pub fn run(config: &Config, options: &Options<'_>) -> Result<Outcome, Failure> {
    let current = tools::load(config)?;
    let old_tree =
        git::registry_at(config.registry_dir(), options.manifest, options.against).map_err(Failure::usage)?;
    let old_settings = old_tree.manifest.as_deref().map(manifest::settings);
    let mut old_config = Config::new();
    old_config.schema_dir(old_tree.registry_dir()).cargo_directives(false);
    match &old_settings {
        // The build at REV read its manifest: its base URI, else the default.
        Some(s) => {
            old_config.base_uri(s.base_uri.as_deref().unwrap_or(events_codegen::DEFAULT_BASE_URI));
            old_config.access_policy(s.access.clone());
            if let Some(mode) = s.compatibility.as_deref().and_then(|m| m.parse().ok()) {
                old_config.compatibility(mode);
            }
        }
        None => {
            old_config.base_uri(config.registry_base_uri());
            old_config.compatibility(config.default_compatibility());
        }
    }
    for (prefix, dir) in config.vendored_folders() {
        old_config.vendor(prefix, dir);
    }
    // A revision whose registry does not load cannot be compared against: asked wrongly, as git's
    // own errors are.
    let old = if old_tree.has_registry() {
        let loaded = old_config.inspect().map_err(|e| {
            Failure::caused(FailureKind::Usage, format!("the registry at {} does not load", options.against), e)
        })?;
        Some(loaded)
    } else {
        None
    };
    let findings = compare(config, &current, old.as_ref(), &old_config, options);
    let compared = old.as_ref().map_or(0, |o| o.registry().files().filter(|f| find(&current, f).is_some()).count());
    let new = current.registry().files().filter(|f| old.as_ref().is_none_or(|o| find(o, f).is_none())).count();
    if options.json {
        let doc = json!({ "against": options.against, "compared": compared, "new": new, "findings": findings });
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    } else {
        for f in &findings {
            println!("{f}");
        }
        println!(
            "{} finding{} against {}: {compared} published version{} compared, {new} new",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            options.against,
            if compared == 1 { "" } else { "s" }
        );
    }
    Ok(Outcome::found(!findings.is_empty()))
}

/// The same subject and version in `registry`.
fn find<'a>(registry: &'a Inspection, file: &SchemaFile) -> Option<&'a SchemaFile> {
    registry
        .registry()
        .files()
        .find(|f| f.schema_ref.id == file.schema_ref.id && f.schema_ref.version == file.schema_ref.version)
}

fn compare(
    config: &Config,
    current: &Inspection,
    old: Option<&Inspection>,
    old_config: &Config,
    options: &Options<'_>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(old) = old else { return gate(config, current, None, findings) };
    if old.registry().base_uri != current.registry().base_uri {
        findings.push(Finding::whole(
            options.manifest.map(|m| m.display().to_string()).unwrap_or_else(|| "Cargo.toml".into()),
            "base-uri-changed",
            format!(
                "the base URI changed from {} to {}: every published schemaRef would change",
                old.registry().base_uri,
                current.registry().base_uri
            ),
        ));
    }
    for subject in &old.registry().subjects {
        let Some(now) = current.registry().subjects.iter().find(|s| s.id == subject.id) else {
            if !options.allow_removal {
                findings.push(Finding::whole(
                    subject.versions[0].display.clone(),
                    "subject-removed",
                    format!(
                        "subject `{}` was removed: its published versions must stay (--allow-removal permits it)",
                        subject.id
                    ),
                ));
            }
            continue;
        };
        for old_file in &subject.versions {
            let Some(new_file) = now.versions.iter().find(|f| f.schema_ref.version == old_file.schema_ref.version)
            else {
                if !options.allow_removal {
                    findings.push(Finding::whole(
                        old_file.display.clone(),
                        "version-removed",
                        format!(
                            "version {} of `{}` was removed: published versions must stay (--allow-removal permits it)",
                            old_file.schema_ref.version, subject.id
                        ),
                    ));
                }
                continue;
            };
            findings.extend(version_changes(old, old_file, old_config, current, new_file, config));
        }
    }
    findings.extend(vendored_changes(old, current));
    findings.extend(id_changes(old.registry(), current.registry()));
    findings.extend(access_widened(old.registry(), current.registry()));
    gate(config, current, Some(old), findings)
}

/// A published version, compared: meaning, identity, compatibility mode.
fn version_changes(
    old: &Inspection,
    old_file: &SchemaFile,
    old_config: &Config,
    current: &Inspection,
    new_file: &SchemaFile,
    config: &Config,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let v = new_file.schema_ref.version;
    let (Some(a), Some(b)) = (old.bundled(old_file), current.bundled(new_file)) else { return out };
    for (pointer, what) in diff::differences(&diff::normalized(a), &diff::normalized(b)) {
        out.push(Finding::at(
            new_file,
            &pointer,
            "version-changed",
            format!("published version {v} changed: {what}; publish the change as a new version"),
        ));
    }
    let key = if new_file.document.get("x-event").is_some() { "x-event" } else { "x-command" };
    let (c, d) = (&old_file.contract, &new_file.contract);
    let kind = |k: ContractKind| match k {
        ContractKind::Event(t) => format!("an event ({})", t.name()),
        ContractKind::Command => "a command".to_string(),
    };
    let identity: [(&str, String, String); 5] = [
        ("name", c.name.clone(), d.name.clone()),
        ("type", kind(c.kind), kind(d.kind)),
        ("source", c.source.clone().unwrap_or_default(), d.source.clone().unwrap_or_default()),
        ("eventVersion", c.event_version.clone(), d.event_version.clone()),
        ("tags", c.tags.join(", "), d.tags.join(", ")),
    ];
    for (field, was, is) in identity {
        if was != is {
            out.push(Finding::at(
                new_file,
                &format!("/{key}/{field}"),
                "identity-changed",
                format!("published version {v}: `{field}` changed from `{was}` to `{is}`"),
            ));
        }
    }
    let mode_old = old_file.compatibility.unwrap_or(old_config.default_compatibility());
    let mode_new = new_file.compatibility.unwrap_or(config.default_compatibility());
    if relaxed(mode_old, mode_new) {
        out.push(Finding::at(
            new_file,
            "/x-compatibility",
            "compatibility-relaxed",
            format!("published version {v}: its compatibility mode was relaxed from {mode_old} to {mode_new}"),
        ));
    }
    out
}

/// Whether `new` checks less than `old` did.
fn relaxed(old: Mode, new: Mode) -> bool {
    (old.backward() && !new.backward()) || (old.forward() && !new.forward()) || (old.transitive() && !new.transitive())
}

/// Recorded schema ids are immutable: changed or dropped entries are findings, and so is a version
/// with none once the registry records them.
fn id_changes(old: &Registry, current: &Registry) -> Vec<Finding> {
    let file = events_codegen::load::display_path(&current.root, &current.root.join(events_codegen::ids::IDS_FILE));
    let mut out = Vec::new();
    for was in &old.schema_ids {
        match current.schema_ids.iter().find(|s| s.subject == was.subject && s.version == was.version) {
            Some(is) if is.id == was.id && is.integer == was.integer => {}
            Some(is) => out.push(Finding::whole(
                file.clone(),
                "id-changed",
                format!(
                    "{} {}: recorded as id {} version {}, now id {} version {}; recorded numbers never change",
                    was.subject, was.version, was.id, was.integer, is.id, is.integer
                ),
            )),
            None => out.push(Finding::whole(
                file.clone(),
                "id-removed",
                format!(
                    "{} {}: its recorded id {} was dropped; ids stay reserved, even for removed versions",
                    was.subject, was.version, was.id
                ),
            )),
        }
    }
    if !current.schema_ids.is_empty() || !old.schema_ids.is_empty() {
        for f in current.files().filter(|f| current.schema_id(f).is_none()) {
            out.push(Finding::whole(
                f.display.clone(),
                "id-missing",
                format!(
                    "{} {} has no recorded schema id; run `cargo events ids` and commit {}",
                    f.schema_ref.id,
                    f.schema_ref.version,
                    events_codegen::ids::IDS_FILE
                ),
            ));
        }
    }
    out
}

/// A vendored document changed or removed changes every version that uses it.
fn vendored_changes(old: &Inspection, current: &Inspection) -> Vec<Finding> {
    let now: BTreeMap<&str, &serde_json::Value> = current.vendored().iter().map(|(u, v)| (u.as_str(), v)).collect();
    old.vendored()
        .iter()
        .filter_map(|(uri, doc)| match now.get(uri.as_str()) {
            Some(d) if diff::normalized(d) == diff::normalized(doc) => None,
            Some(_) => Some(Finding::whole(
                uri.clone(),
                "vendored-changed",
                "a vendored document changed: the versions that refer to it changed meaning".into(),
            )),
            None => Some(Finding::whole(uri.clone(), "vendored-removed", "a vendored document was removed".into())),
        })
        .collect()
}

/// Who may read or publish a contract, widened since REV: a change for review, never silent.
fn access_widened(old: &Registry, current: &Registry) -> Vec<Finding> {
    let was = old.newest_by_name();
    let mut out = Vec::new();
    for (name, file) in current.newest_by_name() {
        let key = if file.document.get("x-event").is_some() { "x-event" } else { "x-command" };
        // A contract new since REV has nothing to widen; its rules are reviewed with it.
        let Some(f) = was.get(name) else { continue };
        let before_readers: BTreeSet<String> = old.consumers(f).into_iter().collect();
        let before_publishers: BTreeSet<String> = old.publishers(f).into_iter().collect();
        let added: Vec<String> = current.consumers(file).into_iter().filter(|c| !before_readers.contains(c)).collect();
        if !added.is_empty() {
            out.push(Finding::at(
                file,
                &format!("/{key}/consumers"),
                "access-widened",
                format!("`{name}` is now also read by {}: widened access needs review", added.join(", ")),
            ));
        }
        let added: Vec<String> =
            current.publishers(file).into_iter().filter(|p| !before_publishers.contains(p)).collect();
        if !added.is_empty() {
            out.push(Finding::at(
                file,
                &format!("/{key}/publishers"),
                "access-widened",
                format!("`{name}` may now also be published by {}: widened access needs review", added.join(", ")),
            ));
        }
    }
    out
}

/// New versions go through the compatibility gate, as in the build.
fn gate(config: &Config, current: &Inspection, old: Option<&Inspection>, mut findings: Vec<Finding>) -> Vec<Finding> {
    let new: BTreeSet<&str> = current
        .registry()
        .files()
        .filter(|f| old.is_none_or(|o| find(o, f).is_none()))
        .map(|f| f.display.as_str())
        .collect();
    if new.is_empty() {
        return findings;
    }
    match config.compatibility_report() {
        Ok(report) => {
            for d in report.errors().into_iter().filter(|d| new.contains(d.file.as_str())) {
                let rule = d
                    .message
                    .rsplit_once('[')
                    .map(|(_, r)| r.trim_end_matches(']').to_string())
                    .unwrap_or_else(|| "incompatible".into());
                findings.push(Finding {
                    file: d.file.clone(),
                    line: d.position.map(|p| p.0),
                    column: d.position.map(|p| p.1),
                    pointer: d.pointer.clone(),
                    rule,
                    message: d.message.clone(),
                });
            }
        }
        Err(e) => findings.push(Finding::whole("registry", "registry", e.to_string())),
    }
    findings
}
