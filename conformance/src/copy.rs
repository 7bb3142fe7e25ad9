//! Copies of this workspace, for the conformance run and the build-cost benchmark.

use std::fs;
use std::path::Path;

/// Copies a folder, recursively.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Copies into `dir` what `list` (a workspace's tests/workspace-copy.txt) names from `workspace`:
/// folders (`…/`, copied whole) and files, except the entries in `skip`.
pub fn copy_listed(list: &str, workspace: &Path, dir: &Path, skip: &[&str]) -> std::io::Result<()> {
    let entries = list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    for entry in entries.filter(|e| !skip.contains(e)) {
        match entry.strip_suffix('/') {
            Some(folder) => {
                let _ = fs::remove_dir_all(dir.join(folder));
                copy_dir(&workspace.join(folder), &dir.join(folder))?;
            }
            None => {
                if let Some(parent) = dir.join(entry).parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::copy(workspace.join(entry), dir.join(entry))?;
            }
        }
    }
    Ok(())
}

/// The manifest without its `[package.metadata.events.access]` tables.
pub fn without_access(manifest: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in manifest.lines() {
        if line.trim_start().starts_with('[') {
            skipping = line.trim().starts_with("[package.metadata.events.access");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
