//! The registry as the generator sees it: subjects (schema ids), their versions, and the contract
//! each file declares in `x-event` or `x-command`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde_json::Value;

/// Every subject found under the registry folder, sorted by id.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The registry folder.
    pub root: PathBuf,
    /// Base of every schemaRef URI, without a trailing slash.
    pub base_uri: String,
    /// Subjects sorted by schema id.
    pub subjects: Vec<Subject>,
    /// Who may publish and read what: `[package.metadata.events.access]`.
    pub access: AccessPolicy,
    /// Base URIs the registry had before (`former-base-uris`): accepted when decoding, never written.
    pub former_base_uris: Vec<String>,
    /// Each version's stable schema id and integer version, from the registry's lock file
    /// (`schema-ids.lock`); empty when the registry has none.
    pub schema_ids: Vec<SchemaId>,
}

/// A contract version's stable numbers: its schema id (as the Confluent wire format writes it) and
/// its integer version within its subject (1, 2, 3, as Confluent's clients number them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaId {
    /// The subject (schema id folder).
    pub subject: String,
    /// The file's version.
    pub version: Version,
    /// The registry-wide id, never reused.
    pub id: u32,
    /// The subject's integer version.
    pub integer: u32,
}

impl Registry {
    /// Every schema file of every subject, in a stable order.
    pub fn files(&self) -> impl Iterator<Item = &SchemaFile> {
        self.subjects.iter().flat_map(|s| s.versions.iter())
    }

    /// Every service of the platform: `[package.metadata.events.access] services`, or, when it
    /// lists none, the sources of the registry's events.
    pub fn services(&self) -> std::collections::BTreeSet<&str> {
        if self.access.services.is_empty() {
            self.files().filter_map(|f| f.contract.source.as_deref()).collect()
        } else {
            self.access.services.iter().map(String::as_str).collect()
        }
    }

    /// The newest version of each contract, by name: the one that states its access rules.
    pub fn newest_by_name(&self) -> std::collections::BTreeMap<&str, &SchemaFile> {
        // Versions are oldest first, so the last insert of a name wins.
        self.files().map(|f| (f.contract.name.as_str(), f)).collect()
    }

    /// The `schemaRef.uri`s of `file` under the former base URIs.
    pub fn former_uris(&self, file: &SchemaFile) -> Vec<String> {
        let r = &file.schema_ref;
        self.former_base_uris.iter().map(|b| format!("{}/{}/{}", b.trim_end_matches('/'), r.id, r.version)).collect()
    }

    /// The recorded numbers of `file`, when the registry records them.
    pub fn schema_id(&self, file: &SchemaFile) -> Option<&SchemaId> {
        self.schema_ids.iter().find(|s| s.subject == file.schema_ref.id && s.version == file.schema_ref.version)
    }

    /// The services that may publish `file`'s contract: its `publishers`, else (for an event) its
    /// source; nobody for a command that names none.
    pub fn publishers(&self, file: &SchemaFile) -> Vec<String> {
        match (&file.contract.access.publishers, &file.contract.source) {
            (Some(p), _) => p.clone(),
            (None, Some(source)) if matches!(file.contract.kind, ContractKind::Event(_)) => vec![source.clone()],
            _ => Vec::new(),
        }
    }

    /// The services that may read `file`'s contract, roles expanded: its `consumers`, else the
    /// registry's `default-consumers`, else nobody.
    pub fn consumers(&self, file: &SchemaFile) -> Vec<String> {
        let declared = file.contract.access.consumers.as_ref().unwrap_or(&self.access.default_consumers);
        let mut out = Vec::new();
        for entry in declared {
            let members = match entry.strip_prefix('@') {
                Some(role) => self.access.roles.get(role).cloned().unwrap_or_default(),
                None => vec![entry.clone()],
            };
            for m in members {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out.sort();
        out
    }
}

/// The registry-wide access settings, from `[package.metadata.events.access]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Every service of the platform; names elsewhere must be among them. Empty: the sources.
    pub services: Vec<String>,
    /// Named groups of services, referred to as `@name` in `consumers`.
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
    /// Who reads a contract that names no `consumers`; nobody when empty.
    pub default_consumers: Vec<String>,
    /// Services that read everything, dead letters included, and replay them.
    pub operators: Vec<String>,
}

/// What one contract version says about access (`publishers`, `consumers`), as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Services allowed to publish or send it; `None` when the file names none.
    pub publishers: Option<Vec<String>>,
    /// Services and `@roles` allowed to read it; `None` when the file names none.
    pub consumers: Option<Vec<String>>,
}

/// One schema id (`schemas/<id>/`) and its versions, oldest first.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The schema id, the folder name.
    pub id: String,
    /// Versions sorted from oldest to newest.
    pub versions: Vec<SchemaFile>,
}

/// One `schemas/<id>/<MAJOR.MINOR>.json` file.
#[derive(Debug, Clone)]
pub struct SchemaFile {
    /// Path on disk.
    pub path: PathBuf,
    /// Path shown in messages, relative to the registry folder's parent.
    pub display: String,
    /// The file's text, kept to turn JSON pointers into line numbers.
    pub source: String,
    /// The parsed document.
    pub document: Value,
    /// Where this schema sits in the registry.
    pub schema_ref: SchemaRef,
    /// What the file declares in `x-event` or `x-command`.
    pub contract: Contract,
    /// The mode this version is held to against earlier ones (`x-compatibility`), when it names one.
    pub compatibility: Option<Mode>,
}

/// `MAJOR.MINOR`, the file name of a schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Incremented for changes that may break readers.
    pub major: u32,
    /// Incremented for changes that old readers and writers tolerate.
    pub minor: u32,
}

impl Version {
    /// Parses `"1.0"`; anything else, leading zeros included, is refused.
    pub fn parse(s: &str) -> Option<Version> {
        let (major, minor) = s.split_once('.')?;
        let num = |p: &str| -> Option<u32> {
            let ok = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
            if ok {
                p.parse().ok()
            } else {
                None
            }
        };
        Some(Version { major: num(major)?, minor: num(minor)? })
    }

    /// The module name of this version, `v1_0`.
    pub fn module(&self) -> String {
        format!("v{}_{}", self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The spec's `schemaRef`: id, version, and the URI under the registry base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRef {
    /// The schema id (the subject).
    pub id: String,
    /// The schema version.
    pub version: Version,
    /// `<base>/<id>/<version>`.
    pub uri: String,
}

/// What a schema file describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// Event or command name, an UpperCamelCase Rust identifier.
    pub name: String,
    /// Event (with its type) or command.
    pub kind: ContractKind,
    /// The service that emits it (`eventSource`).
    pub source: Option<String>,
    /// Default tags of every instance.
    pub tags: Vec<String>,
    /// `eventVersion`: defaults to the file's version.
    pub event_version: String,
    /// Shown in the generated docs.
    pub description: Option<String>,
    /// `"deprecated": true` or `"deprecated": "use …"`: producers get a compiler warning.
    pub deprecated: Option<Deprecation>,
    /// Who may publish and read it.
    pub access: Access,
}

/// A contract version its owners want producers to move away from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprecation {
    /// What to use instead, when the schema says.
    pub note: Option<String>,
}

impl Deprecation {
    /// The text shown by `events list` and the generated `#[deprecated]` note.
    pub fn describe(&self) -> String {
        self.note.clone().unwrap_or_else(|| "deprecated".to_string())
    }
}

/// Events are published facts; commands ask for something to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractKind {
    /// Declared with `x-event`.
    Event(EventType),
    /// Declared with `x-command`.
    Command,
}

/// The spec's `eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Something happened inside one bounded context.
    Domain,
    /// Keeps other services in sync.
    Integration,
    /// Informs people or external systems.
    Notification,
}

impl EventType {
    /// Every type, as written in `x-event.type`.
    pub const ALL: [(&'static str, EventType); 3] = [
        ("domain", EventType::Domain),
        ("integration", EventType::Integration),
        ("notification", EventType::Notification),
    ];

    /// As written in `x-event.type` and `eventType`: `domain`.
    pub fn name(self) -> &'static str {
        EventType::ALL.iter().find(|(_, t)| *t == self).map(|(n, _)| *n).expect("every type is listed")
    }

    /// The runtime enum variant's name.
    pub fn variant(self) -> &'static str {
        match self {
            EventType::Domain => "Domain",
            EventType::Integration => "Integration",
            EventType::Notification => "Notification",
        }
    }
}

/// Which earlier versions a version is compared with, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// The new schema reads data written with the previous one.
    #[default]
    Backward,
    /// The new schema reads data written with every earlier one.
    BackwardTransitive,
    /// The previous schema reads data written with the new one.
    Forward,
    /// Every earlier schema reads data written with the new one.
    ForwardTransitive,
    /// Backward and forward with the previous version.
    Full,
    /// Backward and forward with every earlier version.
    FullTransitive,
    /// No check.
    None,
}

impl Mode {
    /// Every mode, as written.
    pub const ALL: [Mode; 7] = [
        Mode::Backward,
        Mode::BackwardTransitive,
        Mode::Forward,
        Mode::ForwardTransitive,
        Mode::Full,
        Mode::FullTransitive,
        Mode::None,
    ];

    /// The mode's name, as in Confluent's API: `BACKWARD_TRANSITIVE`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Backward => "BACKWARD",
            Mode::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Mode::Forward => "FORWARD",
            Mode::ForwardTransitive => "FORWARD_TRANSITIVE",
            Mode::Full => "FULL",
            Mode::FullTransitive => "FULL_TRANSITIVE",
            Mode::None => "NONE",
        }
    }

    /// Compared with every earlier version, not only the previous one.
    pub fn transitive(self) -> bool {
        matches!(self, Mode::BackwardTransitive | Mode::ForwardTransitive | Mode::FullTransitive)
    }

    /// The new version must read the old one's data.
    pub fn backward(self) -> bool {
        matches!(self, Mode::Backward | Mode::BackwardTransitive | Mode::Full | Mode::FullTransitive)
    }

    /// The old version must read the new one's data.
    pub fn forward(self) -> bool {
        matches!(self, Mode::Forward | Mode::ForwardTransitive | Mode::Full | Mode::FullTransitive)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
            format!("unknown compatibility mode `{s}`: expected one of {}", names.join(", "))
        })
    }
}
