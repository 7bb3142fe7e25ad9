//! The registry settings of a `Cargo.toml` as it was at a git revision, read from its text: the
//! old manifest cannot be handed to Cargo (its workspace members are not there), and only a few
//! keys of `[package.metadata.events]` matter to the comparison.

use events_codegen::registry::AccessPolicy;

/// What the old manifest said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub base_uri: Option<String>,
    pub compatibility: Option<String>,
    pub access: AccessPolicy,
}

/// Reads `[package.metadata.events]` and its `access` tables from `text`.
pub fn settings(text: &str) -> Settings {
    let mut out = Settings::default();
    let mut section = String::new();
    // Arrays may span lines: gather `key = [ … ]` until its closing bracket.
    let mut pending: Option<(String, String)> = None;
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if let Some((key, mut acc)) = pending.take() {
            acc.push_str(line);
            if line.contains(']') {
                apply(&mut out, &section, &key, &acc);
            } else {
                pending = Some((key, acc));
            }
            continue;
        }
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let (key, value) = (key.trim().trim_matches('"').to_string(), value.trim().to_string());
        if value.starts_with('[') && !value.contains(']') {
            pending = Some((key, value));
        } else {
            apply(&mut out, &section, &key, &value);
        }
    }
    out
}

fn apply(out: &mut Settings, section: &str, key: &str, value: &str) {
    match (section, key) {
        ("package.metadata.events", "base-uri") => out.base_uri = string(value),
        ("package.metadata.events", "compatibility") => out.compatibility = string(value),
        ("package.metadata.events.access", "services") => out.access.services = strings(value),
        ("package.metadata.events.access", "operators") => out.access.operators = strings(value),
        ("package.metadata.events.access", "default-consumers") => out.access.default_consumers = strings(value),
        ("package.metadata.events.access.roles", role) => {
            out.access.roles.insert(role.to_string(), strings(value));
        }
        _ => {}
    }
}

fn string(value: &str) -> Option<String> {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_string)
}

fn strings(value: &str) -> Vec<String> {
    value.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::settings;

    #[test]
    fn the_registry_keys_are_read_from_the_text() {
        let s = settings(
            r#"
[package]
name = "x"

[package.metadata.events]
base-uri = "https://r.example/s"   # the base
compatibility = "FULL"

[package.metadata.events.access]
services = [
  "A", "B",
  "C",
]
operators = ["Ops"]

[package.metadata.events.access.roles]
team = ["A", "B"]
"#,
        );
        assert_eq!(s.base_uri.as_deref(), Some("https://r.example/s"));
        assert_eq!(s.compatibility.as_deref(), Some("FULL"));
        assert_eq!(s.access.services, ["A", "B", "C"]);
        assert_eq!(s.access.operators, ["Ops"]);
        assert_eq!(s.access.roles["team"], ["A", "B"]);
    }
}
