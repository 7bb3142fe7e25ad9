//! Runs the `events` binary the way people do: in a folder, with arguments and standard input.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace this tool ships in: its registry is the one the build reads.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// What one run printed, and its exit status.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// `--json` output of `validate`: one object per line.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }
}

pub fn events_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_events"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// In the workspace, on its shipped registry.
pub fn events(args: &[&str]) -> Run {
    events_in(&workspace(), args, None)
}

/// A registry folder of its own (`schemas/` inside a temporary folder with no Cargo.toml).
pub struct Registry {
    pub dir: tempfile::TempDir,
}

impl Registry {
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("schemas").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Registry { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut all = vec!["--schemas", "schemas"];
        all.extend_from_slice(args);
        events_in(self.dir.path(), &all, stdin)
    }
}

pub const PING: &str = r#"{
  "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger", "tags": ["ping"] },
  "type": "object",
  "additionalProperties": false,
  "required": ["at", "code"],
  "properties": {
    "at": { "type": "string", "format": "date-time" },
    "code": { "type": "string", "pattern": "^P-[0-9]{4}$" },
    "count": { "type": "integer", "minimum": 1, "maximum": 9 }
  }
}"#;
