//! Which registry the tool reads: `[package.metadata.events]` of the package it stands in (as the
//! build does), with flags on top.

use std::path::{Path, PathBuf};

use clap::Args;
use events_codegen::Config;

use crate::failure::Failure;

/// Where the registry is; every flag overrides what the manifest says.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The `Cargo.toml` whose `[package.metadata.events]` describes the registry; by default the
    /// nearest one above the current folder that has such a table, else the workspace's.
    #[arg(long, global = true, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// The registry folder.
    #[arg(long, global = true, value_name = "DIR")]
    schemas: Option<PathBuf>,
    /// The base of every schemaRef URI.
    #[arg(long, global = true, value_name = "URI")]
    base_uri: Option<String>,
    /// The compatibility mode of versions whose file names none (BACKWARD, FULL_TRANSITIVE, …).
    #[arg(long, global = true, value_name = "MODE")]
    compatibility: Option<events_codegen::compat::Mode>,
    /// Serve references under a URI prefix from a folder of the registry: `PREFIX=DIR`; repeatable.
    #[arg(long, global = true, value_name = "PREFIX=DIR", value_parser = vendor_pair)]
    vendor: Vec<(String, PathBuf)>,
}

fn vendor_pair(s: &str) -> Result<(String, PathBuf), String> {
    let (prefix, dir) = s.split_once('=').ok_or("expected PREFIX=DIR")?;
    if prefix.is_empty() || dir.is_empty() {
        return Err("expected PREFIX=DIR, both non-empty".into());
    }
    Ok((prefix.to_string(), PathBuf::from(dir)))
}

impl RegistryArgs {
    /// The configuration the build would use, with the flags applied.
    pub fn config(&self) -> Result<Config, Failure> {
        let manifest = match &self.manifest_path {
            Some(path) if !path.is_file() => {
                return Err(Failure::usage(format!("--manifest-path {}: no such file", path.display())))
            }
            Some(path) => Some(path.clone()),
            None => std::env::current_dir().ok().and_then(|dir| find_manifest(&dir)),
        };
        let mut config = match &manifest {
            Some(manifest) => Config::from_manifest(manifest)?,
            None => Config::new(),
        };
        config.cargo_directives(false);
        if let Some(dir) = &self.schemas {
            if !dir.is_dir() {
                return Err(Failure::usage(format!("--schemas {}: no such folder", dir.display())));
            }
            config.schema_dir(dir);
        }
        if let Some(uri) = &self.base_uri {
            config.base_uri(uri.trim_end_matches('/'));
        }
        if let Some(mode) = self.compatibility {
            config.compatibility(mode);
        }
        for (prefix, dir) in &self.vendor {
            config.vendor(prefix, dir);
        }
        Ok(config)
    }
}

/// What the manifest says of its package: name, version, description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
}

impl RegistryArgs {
    /// The manifest the registry settings are read from, when there is one.
    pub fn manifest(&self) -> Option<PathBuf> {
        self.manifest_path.clone().or_else(|| std::env::current_dir().ok().and_then(|d| find_manifest(&d)))
    }

    /// The package of the manifest the registry is read from (`events 0.0.0` without one).
    pub fn package(&self) -> Package {
        let manifest =
            self.manifest_path.clone().or_else(|| std::env::current_dir().ok().and_then(|d| find_manifest(&d)));
        let text = manifest.and_then(|m| std::fs::read_to_string(m).ok()).unwrap_or_default();
        let mut in_package = false;
        let mut found = std::collections::BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_package = line == "[package]";
                continue;
            }
            if let (true, Some((key, value))) = (in_package, line.split_once('=')) {
                let value = value.trim();
                if let Some(v) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    found.insert(key.trim().to_string(), v.to_string());
                }
            }
        }
        Package {
            name: found.remove("name").unwrap_or_else(|| "events".into()),
            version: found.remove("version").unwrap_or_else(|| "0.0.0".into()),
            description: found.remove("description"),
        }
    }
}

/// The nearest `Cargo.toml` above `dir` with `[package.metadata.events]`, else the outermost one
/// (the workspace's).
fn find_manifest(dir: &Path) -> Option<PathBuf> {
    let mut outermost = None;
    for folder in dir.ancestors() {
        let manifest = folder.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        if text
            .lines()
            .any(|l| l.trim() == "[package.metadata.events]" || l.trim().starts_with("[package.metadata.events."))
        {
            return Some(manifest);
        }
        outermost = Some(manifest);
    }
    outermost
}
