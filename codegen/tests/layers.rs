//! The pipeline's imports point one way: each step of `src/` uses only the steps before it, and
//! naming rules come from `ident`. A module reaching into a later step fails here, naming both.

use std::path::Path;

/// The modules of `src/`, lowest first.
const ORDER: [&str; 16] = [
    "ident", "keywords", "locate", "error", "registry", "load", "ids", "embedded", "bundle", "check", "compat",
    "generate", "render", "envelope", "inspect", "config",
];

/// The `crate::<module>` references in `text`, with their line numbers, including `use crate::{a, b}`.
fn references(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for name in names {
                let ident: String =
                    name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if ORDER.contains(&ident.as_str()) {
                    out.push((n + 1, ident));
                }
            }
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn each_step_imports_only_earlier_steps() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        // The crate root and the binaries stand above every step.
        let Some(rank) = ORDER.iter().position(|m| *m == top) else { continue };
        for (line, used) in references(&std::fs::read_to_string(file).unwrap()) {
            seen += 1;
            let used_rank = ORDER.iter().position(|m| *m == used).unwrap();
            if used_rank > rank || (used_rank == rank && used != top) {
                wrong.push(format!("src/{}:{line}: `{top}` uses the later step `{used}`", rel.display()));
            }
        }
    }
    assert!(seen > 20, "found only {seen} references: has the layout changed?");
    assert!(wrong.is_empty(), "imports pointing back up the pipeline:\n{}", wrong.join("\n"));
}

#[test]
fn every_module_is_placed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        let Some(name) = line.trim().strip_prefix("pub mod ").or_else(|| line.trim().strip_prefix("mod ")) else {
            continue;
        };
        let name = name.trim_end_matches(';');
        assert!(ORDER.contains(&name), "module `{name}` has no place in the pipeline order of tests/layers.rs");
    }
}
