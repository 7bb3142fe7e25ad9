//! The registry as tools see it: loaded, bundled and checked, each contract version with the
//! self-contained schema its payloads are validated against, without generating code.

use serde_json::Value;

use crate::bundle::Bundle;
use crate::registry::{Registry, SchemaFile, Version};

/// A checked registry, for tools that answer questions about it (list, validate, example).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
/// std::fs::write(dir.path().join("pingSchema/1.0.json"), r#"{
///   "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" },
///   "type": "object", "required": ["at"], "properties": { "at": { "type": "integer" } }
/// }"#).unwrap();
/// let registry = events_codegen::Config::new().schema_dir(dir.path()).inspect().unwrap();
/// let file = registry.contract("PingEvent", None).unwrap();
/// assert_eq!(file.schema_ref.version.to_string(), "1.0");
/// assert_eq!(registry.bundled(file).unwrap()["required"][0], "at");
/// ```
#[derive(Debug, Clone)]
pub struct Inspection {
    pub(crate) registry: Registry,
    /// One per file of the registry, in [`Registry::files`] order.
    pub(crate) bundles: Vec<Bundle>,
    pub(crate) vendored: Vec<(String, Value)>,
    /// The path shown in messages of each of `vendored`, in the same order.
    pub(crate) vendored_files: Vec<String>,
}

impl Inspection {
    /// The registry model: subjects, versions, contracts.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The bundled schema of a file of this registry: every `$ref` points inside it (or, for a
    /// document left to the validator, to a vendored document).
    pub fn bundled(&self, file: &SchemaFile) -> Option<&Value> {
        self.bundle(file).map(|b| &b.schema)
    }

    /// The whole bundle of a file of this registry: its schema ([`Inspection::bundled`]) and where
    /// each of its definitions was written ([`Bundle::origins`]).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir_all(dir.path().join("_shared")).unwrap();
    /// std::fs::write(dir.path().join("_shared/units.json"), r#"{"$defs": {"Count": {"type": "integer"}}}"#).unwrap();
    /// std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
    /// std::fs::write(dir.path().join("pingSchema/1.0.json"), r#"{
    ///   "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" },
    ///   "type": "object", "properties": { "n": { "$ref": "../_shared/units.json#/$defs/Count" } }
    /// }"#).unwrap();
    /// let registry = events_codegen::Config::new().schema_dir(dir.path()).inspect().unwrap();
    /// let bundle = registry.bundle(registry.contract("PingEvent", None).unwrap()).unwrap();
    /// assert_eq!(bundle.schema["properties"]["n"]["$ref"], "#/definitions/Count");
    /// let origin = &bundle.origins["Count"];
    /// assert!(origin.display.ends_with("/_shared/units.json"), "{}", origin.display);
    /// assert_eq!(origin.pointer, "/$defs/Count");
    /// ```
    pub fn bundle(&self, file: &SchemaFile) -> Option<&Bundle> {
        self.registry.files().position(|f| std::ptr::eq(f, file)).map(|i| &self.bundles[i])
    }

    /// The registry's vendored documents by URI, to serve to validators.
    pub fn vendored(&self) -> &[(String, Value)] {
        &self.vendored
    }

    /// The URI the vendored document shown as `display` stands for (as in [`Origin::display`]),
    /// `None` for a file outside the vendored folders.
    ///
    /// [`Origin::display`]: crate::bundle::Origin::display
    pub fn vendored_uri(&self, display: &str) -> Option<&str> {
        let i = self.vendored_files.iter().position(|d| d == display)?;
        Some(&self.vendored[i].0)
    }

    /// The file of contract `name` at `version`, or its newest version when `None`.
    pub fn contract(&self, name: &str, version: Option<Version>) -> Option<&SchemaFile> {
        self.versions_of(name).into_iter().rev().find(|f| version.is_none_or(|v| f.schema_ref.version == v))
    }

    /// The JSON Schema of a whole message of `file`'s contract: the envelope's fields, with the
    /// values the contract fixes, and the payload under `payload` (see [`crate::envelope`]).
    pub fn envelope_schema(&self, file: &SchemaFile) -> Option<Value> {
        Some(crate::envelope::schema(file, self.bundled(file)?, &self.registry.base_uri))
    }

    /// Every version of contract `name`, oldest first.
    pub fn versions_of(&self, name: &str) -> Vec<&SchemaFile> {
        self.registry.files().filter(|f| f.contract.name == name).collect()
    }
}
