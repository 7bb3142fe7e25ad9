//! The registry folder as it was at a git revision, through the `git` command, copied into a
//! temporary folder so that the same loader reads it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The registry at a revision, in a temporary folder.
pub struct OldTree {
    dir: tempfile::TempDir,
    rel: PathBuf,
    files: usize,
    /// The manifest's text at the revision, when it had one.
    pub manifest: Option<String>,
}

impl OldTree {
    /// The registry folder inside the temporary copy.
    pub fn registry_dir(&self) -> PathBuf {
        self.dir.path().join(&self.rel)
    }

    /// Whether the revision had the registry folder at all.
    pub fn has_registry(&self) -> bool {
        self.files > 0
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// Copies the registry folder `registry` (of the working tree) as it was at `rev`.
pub fn registry_at(registry: &Path, manifest: Option<&Path>, rev: &str) -> Result<OldTree, String> {
    let registry = registry.canonicalize().map_err(|e| format!("{}: {e}", registry.display()))?;
    let top = git(&registry, &["rev-parse", "--show-toplevel"])
        .map(text)
        .map_err(|e| format!("{} is not inside a git repository: {e}", registry.display()))?;
    let top = PathBuf::from(top).canonicalize().map_err(|e| e.to_string())?;
    let commit = format!("{rev}^{{commit}}");
    if git(&top, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
        let shallow = git(&top, &["rev-parse", "--is-shallow-repository"]).map(text).unwrap_or_default() == "true";
        return Err(if shallow {
            format!("revision `{rev}` is not in this shallow clone; fetch it first: git fetch --depth=1 origin {rev}")
        } else {
            format!("unknown revision `{rev}` (a branch, tag or commit of this repository)")
        });
    }
    let rel = registry
        .strip_prefix(&top)
        .map_err(|_| "the registry folder is outside the repository".to_string())?
        .to_path_buf();
    let rel_text = rel.to_string_lossy().replace('\\', "/");
    let listing = git(
        &top,
        &["ls-tree", "-r", "-z", "--name-only", rev, "--", if rel_text.is_empty() { "." } else { &rel_text }],
    )?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let mut files = 0;
    for path in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path).into_owned();
        let bytes = git(&top, &["cat-file", "blob", &format!("{rev}:{path}")])?;
        let target = dir.path().join(&path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&target, bytes).map_err(|e| e.to_string())?;
        files += 1;
    }
    std::fs::create_dir_all(dir.path().join(&rel)).map_err(|e| e.to_string())?;
    let manifest = match manifest.and_then(|m| m.canonicalize().ok()) {
        Some(m) => match m.strip_prefix(&top) {
            Ok(rel) => git(&top, &["cat-file", "blob", &format!("{rev}:{}", rel.to_string_lossy().replace('\\', "/"))])
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            Err(_) => None,
        },
        None => None,
    };
    Ok(OldTree { dir, rel, files, manifest })
}
