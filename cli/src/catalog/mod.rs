//! `events catalog --out DIR`: a static, browsable site of the registry, generated from the
//! schemas' own descriptions. It opens from the file system and needs no network: every page is
//! complete HTML (all schema text escaped), with a little plain JavaScript for search, filters and
//! the version selector. Deterministic: the same registry writes the same bytes.

mod fields;
mod page;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use events_codegen::compat::Report;
use events_codegen::registry::{ContractKind, SchemaFile};
use events_codegen::{Config, Inspection};

use crate::failure::{Failure, FailureKind, Outcome};
use crate::registry_args::Package;
use crate::tools;

pub use fields::{diff, fields, Field};

const CSS: &str = include_str!("assets/catalog.css");
const JS: &str = include_str!("assets/catalog.js");

pub fn run(config: &Config, package: &Package, out: &Path) -> Result<Outcome, Failure> {
    let registry = tools::load(config)?;
    let report = config.compatibility_report()?;
    let site = site(&registry, &report, package);
    let written = (|| -> std::io::Result<usize> {
        std::fs::create_dir_all(out.join("contracts"))?;
        for (path, text) in &site {
            std::fs::write(out.join(path), text)?;
        }
        Ok(site.len())
    })();
    let n = written
        .map_err(|e| Failure::caused(FailureKind::Io, format!("cannot write the catalog to {}", out.display()), e))?;
    eprintln!("catalog: {n} files in {} (open {})", out.display(), out.join("index.html").display());
    Ok(Outcome::Clean)
}

/// One contract: its versions, oldest first.
pub struct Contract<'a> {
    pub name: &'a str,
    pub versions: Vec<&'a SchemaFile>,
}

impl Contract<'_> {
    pub fn newest(&self) -> &SchemaFile {
        self.versions.last().expect("a contract has a version")
    }

    pub fn kind(&self) -> (&'static str, Option<&'static str>) {
        match self.newest().contract.kind {
            ContractKind::Event(t) => ("event", Some(t.name())),
            ContractKind::Command => ("command", None),
        }
    }
}

/// Every file of the site, by path under the output folder.
pub fn site(registry: &Inspection, report: &Report, package: &Package) -> BTreeMap<String, String> {
    let mut by_name: BTreeMap<&str, Vec<&SchemaFile>> = BTreeMap::new();
    for f in registry.registry().files() {
        by_name.entry(&f.contract.name).or_default().push(f);
    }
    let contracts: Vec<Contract> = by_name.into_iter().map(|(name, versions)| Contract { name, versions }).collect();
    let mut files = BTreeMap::new();
    files.insert("catalog.css".to_string(), CSS.to_string());
    files.insert("catalog.js".to_string(), JS.to_string());
    files.insert("index.html".to_string(), page::index(registry, &contracts, package));
    for c in &contracts {
        let related = family(c, &contracts);
        files.insert(format!("contracts/{}.html", c.name), page::contract(registry, report, c, &related, package));
    }
    files
}

/// Words of a contract name that say what happened or what kind it is, not what it is about.
const NOT_SUBJECTS: [&str; 16] = [
    "Event",
    "Command",
    "Integration",
    "Notification",
    "Domain",
    "Create",
    "Created",
    "Update",
    "Updated",
    "Send",
    "Sent",
    "Delete",
    "Deleted",
    "Register",
    "Registered",
    "Shipped",
];

/// The subject words of a name: `CreateOrderCommand` → `Order`.
fn subject_words(name: &str) -> BTreeSet<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    words.push(current);
    words.into_iter().filter(|w| !NOT_SUBJECTS.contains(&w.as_str())).collect()
}

/// The contracts of the same subject family (sharing a subject word): the commands that may
/// cause this one and the events it may cause, as far as the registry's names tell.
fn family<'a>(c: &Contract<'_>, all: &'a [Contract<'a>]) -> Vec<&'a Contract<'a>> {
    let mine = subject_words(c.name);
    all.iter().filter(|o| o.name != c.name && !subject_words(o.name).is_disjoint(&mine)).collect()
}

#[cfg(test)]
mod tests {
    use super::subject_words;

    #[test]
    fn subject_words_leave_out_verbs_and_kinds() {
        assert_eq!(subject_words("CreateOrderCommand").into_iter().collect::<Vec<_>>(), ["Order"]);
        assert_eq!(
            subject_words("SendOrderConfirmationCommand").into_iter().collect::<Vec<_>>(),
            ["Confirmation", "Order"]
        );
        assert_eq!(subject_words("InventoryUpdatedIntegrationEvent").into_iter().collect::<Vec<_>>(), ["Inventory"]);
    }
}
