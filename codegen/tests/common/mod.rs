//! Helpers shared by the generator's integration tests.
#![allow(dead_code)]

/// A registry at `<tempdir>/reg` holding `files` (paths relative to it), so that diagnostics
/// read `reg/<id>/1.0.json`.
pub fn registry<S: AsRef<str>>(files: &[(&str, S)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join("reg").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.as_ref()).unwrap();
    }
    dir
}
