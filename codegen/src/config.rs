//! The one configuration builder, and the pipeline it runs: load → bundle → check → generate → render.

use std::path::{Path, PathBuf};

use crate::bundle::{bundle, Bundle, Documents};
use crate::compat::{self, Mode, Report};
use crate::error::{Diagnostic, Error, Problems};
use crate::generate::isolate::{self, Isolation, Job};
use crate::generate::{self, Generated};
use crate::inspect::Inspection;
use crate::registry::AccessPolicy;
use crate::{check, load};

/// The registry base URI used when `[package.metadata.events]` names none.
pub const DEFAULT_BASE_URI: &str = "https://schema-registry.example.com/schemas";

/// Where the registry is and how its code is generated.
///
/// ```no_run
/// // build.rs
/// fn main() {
///     if let Err(e) = events_codegen::Config::new().schema_dir("schemas").compile() {
///         eprintln!("{e}");
///         std::process::exit(1);
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    schema_dir: PathBuf,
    base_uri: String,
    out_file: Option<PathBuf>,
    cargo_directives: bool,
    compatibility: Mode,
    refined_types: bool,
    vendor: Vec<(String, PathBuf)>,
    access: AccessPolicy,
    former_base_uris: Vec<String>,
}

/// The registry loaded, bundled and checked, before any code is generated.
struct Checked {
    registry: crate::registry::Registry,
    /// The vendored documents by URI.
    vendored: Vec<(String, serde_json::Value)>,
    /// The path shown in messages of each of `vendored`, in the same order.
    vendored_files: Vec<String>,
    /// One per file of the registry, `None` where the file has problems.
    bundles: Vec<Option<Bundle>>,
    problems: Problems,
    /// What the build says without failing: versions with no recorded schema id.
    notes: Vec<Diagnostic>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            schema_dir: PathBuf::from("schemas"),
            base_uri: DEFAULT_BASE_URI.to_string(),
            out_file: None,
            cargo_directives: true,
            compatibility: Mode::default(),
            refined_types: false,
            vendor: Vec::new(),
            access: AccessPolicy::default(),
            former_base_uris: Vec::new(),
        }
    }
}

impl Config {
    /// `schemas/` and the default base URI.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `[package.metadata.events]` of the package being built (keys `schemas`,
    /// `base-uri` and `compatibility`, all optional), with paths relative to its manifest. For build scripts.
    pub fn from_cargo_metadata() -> Result<Self, Error> {
        isolate::serve_if_asked();
        let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
            Diagnostic::file(
                "Cargo.toml",
                "CARGO_MANIFEST_DIR is not set: from_cargo_metadata is meant for build scripts",
            )
        })?;
        Self::from_manifest(&dir.join("Cargo.toml"))
    }

    /// Like [`Config::from_cargo_metadata`], for the package of the given `Cargo.toml`.
    pub fn from_manifest(manifest: &Path) -> Result<Self, Error> {
        let fail = |m: String| Error::from(Diagnostic::file("Cargo.toml", m));
        let metadata = cargo_metadata::MetadataCommand::new()
            .manifest_path(manifest)
            .no_deps()
            .other_options(vec!["--offline".to_string()])
            .exec()
            .map_err(|e| fail(format!("cannot read the package metadata: {e}")))?;
        let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
        let package = metadata
            .packages
            .iter()
            .find(|p| p.manifest_path.as_std_path().canonicalize().ok().as_deref() == Some(manifest.as_path()))
            .ok_or_else(|| fail("cannot find this package in `cargo metadata`".into()))?;
        let dir = manifest.parent().unwrap_or(Path::new("."));
        let mut config = Config::new();
        config.schema_dir(dir.join("schemas"));
        let Some(events) = package.metadata.get("events") else { return Ok(config) };
        let Some(table) = events.as_object() else {
            return Err(fail("[package.metadata.events] must be a table".into()));
        };
        for (key, value) in table {
            if key == "vendor" {
                let Some(map) = value.as_object() else {
                    return Err(fail("[package.metadata.events.vendor] must be a table of URI prefix = folder".into()));
                };
                for (prefix, dir) in map {
                    let dir = dir.as_str().ok_or_else(|| {
                        fail(format!("[package.metadata.events.vendor] `{prefix}` must name a folder of the registry"))
                    })?;
                    config.vendor(prefix, dir);
                }
                continue;
            }
            if key == "access" {
                config.access_policy(read_access(value).map_err(fail)?);
                continue;
            }
            if key == "former-base-uris" {
                let uris = value
                    .as_array()
                    .and_then(|a| a.iter().map(|u| u.as_str().map(str::to_string)).collect::<Option<Vec<_>>>());
                let uris = uris.ok_or_else(|| {
                    fail("[package.metadata.events] former-base-uris must be an array of URIs".into())
                })?;
                for uri in uris {
                    config.former_base_uri(uri);
                }
                continue;
            }
            if key == "refined-types" {
                let on = value
                    .as_bool()
                    .ok_or_else(|| fail("[package.metadata.events] refined-types must be `true` or `false`".into()))?;
                config.refined_types(on);
                continue;
            }
            let text =
                value.as_str().ok_or_else(|| fail(format!("[package.metadata.events] {key} must be a string")))?;
            match key.as_str() {
                "schemas" => config.schema_dir(dir.join(text)),
                "base-uri" => config.base_uri(text),
                "compatibility" => config.compatibility(
                    text.parse().map_err(|e| fail(format!("[package.metadata.events] compatibility: {e}")))?,
                ),
                _ => {
                    return Err(fail(format!(
                        "unknown key `{key}` in [package.metadata.events]; expected `schemas`, `base-uri`, `former-base-uris`, `compatibility`, `refined-types`, `vendor` or `access`"
                    )))
                }
            };
        }
        Ok(config)
    }

    /// Refined payload types, off by default: typify's newtypes for bounded strings and numbers
    /// (`OrderItemItemId`, built with `"ITEM001".try_into()?`; `NonZeroU64` for `minimum: 1`;
    /// `u8` for `maximum: 255`), and a newtype of its own for each sensitive string. Off, fields are
    /// plain (`String`, `i64`/`u64`, `f64`, `crate::Sensitive<String>`), payloads are written as
    /// struct literals, and the bounds are checked all the same: by the constructors and on every
    /// decode. In the manifest: `refined-types = true` under `[package.metadata.events]`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
    /// std::fs::write(dir.path().join("pingSchema/1.0.json"), r#"{
    ///   "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" },
    ///   "type": "object", "required": ["id"],
    ///   "properties": { "id": { "type": "string", "minLength": 1 } }
    /// }"#).unwrap();
    /// let code = |refined| {
    ///     events_codegen::Config::new().schema_dir(dir.path()).refined_types(refined).generate().unwrap().render().unwrap()
    /// };
    /// assert!(code(false).contains("pub id: ::std::string::String"));
    /// assert!(code(true).contains("pub id: PingEventPayloadId"));
    /// ```
    pub fn refined_types(&mut self, on: bool) -> &mut Self {
        self.refined_types = on;
        self
    }

    /// Who may publish and read what, registry-wide: the services, roles, default consumers and
    /// operators of `[package.metadata.events.access]`.
    pub fn access_policy(&mut self, policy: AccessPolicy) -> &mut Self {
        self.access = policy;
        self
    }

    /// A base URI the registry had before: `schemaRef.uri`s under it, in messages already written
    /// (retained in streams, dead letters, archives), still decode; encoding never writes them.
    pub fn former_base_uri(&mut self, uri: impl Into<String>) -> &mut Self {
        self.former_base_uris.push(uri.into().trim_end_matches('/').to_string());
        self
    }

    /// The registry folder set, as given.
    pub fn registry_dir(&self) -> &Path {
        &self.schema_dir
    }

    /// The base URI set.
    pub fn registry_base_uri(&self) -> &str {
        &self.base_uri
    }

    /// The default compatibility mode set.
    pub fn default_compatibility(&self) -> Mode {
        self.compatibility
    }

    /// The vendored folders set, by URI prefix.
    pub fn vendored_folders(&self) -> &[(String, PathBuf)] {
        &self.vendor
    }

    /// The registry folder.
    pub fn schema_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.schema_dir = dir.into();
        self
    }

    /// The base of every schemaRef URI: `<base>/<schemaId>/<version>`.
    pub fn base_uri(&mut self, uri: impl Into<String>) -> &mut Self {
        self.base_uri = uri.into();
        self
    }

    /// Where [`Config::compile`] writes; `$OUT_DIR/events.rs` by default.
    pub fn out_file(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.out_file = Some(path.into());
        self
    }

    /// Whether [`Config::compile`] prints `cargo:rerun-if-changed` (yes by default; tools that are
    /// not build scripts turn it off).
    pub fn cargo_directives(&mut self, on: bool) -> &mut Self {
        self.cargo_directives = on;
        self
    }

    /// Serves references under the URI `prefix` from `dir`, a folder of the registry (its name
    /// starting with `_`) holding copies of those remote documents: remote schemas are never
    /// fetched, but a vendored copy can be referred to by its own URI.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir_all(dir.path().join("_vendor/geo")).unwrap();
    /// std::fs::write(dir.path().join("_vendor/geo/point.json"), r#"{"type": "object",
    ///   "required": ["lat", "lon"], "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}"#).unwrap();
    /// std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
    /// std::fs::write(dir.path().join("pingSchema/1.0.json"), r#"{
    ///   "x-event": {"name": "PingEvent", "type": "notification", "source": "Pinger"},
    ///   "type": "object", "properties": {"at": {"$ref": "https://geo.example.org/schemas/point.json"}}}"#).unwrap();
    /// let generated = events_codegen::Config::new()
    ///     .schema_dir(dir.path())
    ///     .vendor("https://geo.example.org/schemas/", "_vendor/geo")
    ///     .generate()
    ///     .unwrap();
    /// assert!(generated.render().unwrap().contains("pub lat: f64"));
    /// ```
    pub fn vendor(&mut self, prefix: impl Into<String>, dir: impl Into<PathBuf>) -> &mut Self {
        self.vendor.push((prefix.into(), dir.into()));
        self
    }

    /// The compatibility mode of versions whose file sets no `x-compatibility`; BACKWARD by default.
    pub fn compatibility(&mut self, mode: Mode) -> &mut Self {
        self.compatibility = mode;
        self
    }

    /// Loads, bundles and checks the registry, and compares every subject's versions under their
    /// modes, without generating code. Fails when the registry itself has problems; breaks of
    /// compatibility are in the report.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
    /// let v1_0 = r#"{"x-event": {"name": "PingEvent", "type": "notification", "source": "Pinger"},
    ///   "type": "object", "properties": {"at": {"type": "integer"}}}"#;
    /// std::fs::write(dir.path().join("pingSchema/1.0.json"), v1_0).unwrap();
    /// std::fs::write(dir.path().join("pingSchema/1.1.json"), v1_0.replace("integer", "string")).unwrap();
    /// let report = events_codegen::Config::new().schema_dir(dir.path()).compatibility_report().unwrap();
    /// assert!(!report.passed());
    /// let broken = &report.errors()[0];
    /// assert_eq!(broken.pointer.as_deref(), Some("/properties/at/type"));
    /// assert!(broken.message.contains("[type-changed]"), "{}", broken.message);
    /// ```
    pub fn compatibility_report(&self) -> Result<Report, Error> {
        let checked = self.check()?;
        let report = self.report(&checked);
        checked.problems.into_result(report)
    }

    /// Loads, bundles and checks the registry, for tools that read it without generating code.
    /// Fails when any file has problems.
    pub fn inspect(&self) -> Result<Inspection, Error> {
        let Checked { registry, vendored, vendored_files, bundles, problems, .. } = self.check()?;
        let bundles = problems.into_result(bundles)?;
        let bundles = bundles.into_iter().map(|b| b.expect("a file without problems is bundled")).collect();
        Ok(Inspection { registry, bundles, vendored, vendored_files })
    }

    /// Like [`Config::generate`], with typify in child processes that re-execute the current
    /// program, which must call [`serve_typify_jobs`](crate::serve_typify_jobs) first thing in
    /// `main`: a schema that overflows typify's stack is then reported, not fatal.
    pub fn generate_isolated(&self) -> Result<Generated, Error> {
        isolate::serve_if_asked();
        let isolation = match std::env::current_exe() {
            Ok(exe) => Isolation::Process { exe, dir: std::env::temp_dir().join("events-typify-jobs") },
            Err(_) => Isolation::InProcess,
        };
        self.run(&isolation)
    }

    fn report(&self, checked: &Checked) -> Report {
        let bundles: Vec<Option<&Bundle>> = checked.bundles.iter().map(Option::as_ref).collect();
        compat::report(&checked.registry, &bundles, self.compatibility)
    }

    /// Runs the pipeline and returns the generated code, writing nothing. typify runs in this
    /// process: a schema that overflows its stack aborts it. [`Config::compile`] runs it apart.
    pub fn generate(&self) -> Result<Generated, Error> {
        self.run(&Isolation::InProcess)
    }

    fn check(&self) -> Result<Checked, Error> {
        let root = crate::bundle::normalize(
            &std::path::absolute(&self.schema_dir).unwrap_or_else(|_| self.schema_dir.clone()),
        );
        let (mut registry, loading) = load::load(&root, &self.base_uri)?;
        registry.access = self.access.clone();
        registry.former_base_uris = self.former_base_uris.clone();
        let mut problems = Problems(loading);
        let mut notes = Vec::new();
        match crate::ids::read(&root) {
            Ok(Some(ids)) => {
                registry.schema_ids = ids;
                notes = crate::ids::check(&registry);
            }
            Ok(None) => {}
            Err(ds) => problems.0.extend(ds),
        }
        let (vendored, vendored_files) = self.vendored_documents(&root, &mut problems);
        let mut docs = Documents::default();
        let mut shared = check::SharedFiles::default();
        let mut bundles = Vec::new();
        for file in registry.files() {
            let meta = check::meta_schema(&file.display, &file.source, &file.document);
            let meta_ok = meta.is_empty();
            problems.0.extend(meta);
            // References are checked even when keywords are wrong, so one build shows both.
            let bundled = match bundle(file, &root, &registry.base_uri, &self.vendor, &mut docs) {
                Ok(b) if meta_ok => b,
                Ok(_) => {
                    bundles.push(None);
                    continue;
                }
                Err(ds) => {
                    problems.0.extend(ds);
                    bundles.push(None);
                    continue;
                }
            };
            // A broken shared file is reported once, on itself, not again on each user.
            if !shared.passed(&docs, &bundled.uses, &mut problems.0) {
                bundles.push(None);
                continue;
            }
            let found: Vec<Diagnostic> =
                [check::reserved_names(file, &bundled.schema), check::validator(file, &bundled.schema, &vendored)]
                    .into_iter()
                    .flatten()
                    .collect();
            if !found.is_empty() {
                problems.0.extend(found);
                bundles.push(None);
                continue;
            }
            bundles.push(Some(bundled));
        }
        problems.0.extend(check::names(&registry));
        problems.0.extend(check::access(&registry));
        Ok(Checked { registry, vendored, vendored_files, bundles, problems, notes })
    }

    /// Every JSON file under the vendored folders, by the URI it stands for; and the path each is
    /// shown by, the bundler's (so that [`Inspection::vendored_uri`] finds a bundle's origins).
    fn vendored_documents(
        &self,
        root: &Path,
        problems: &mut Problems,
    ) -> (Vec<(String, serde_json::Value)>, Vec<String>) {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "json") {
                    out.push(p);
                }
            }
        }
        let (mut out, mut displays) = (Vec::new(), Vec::new());
        for (prefix, dir) in &self.vendor {
            let mut files = Vec::new();
            walk(&root.join(dir), &mut files);
            for path in files {
                let rel = path.strip_prefix(root.join(dir)).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                // Normalized as the bundler's paths are: a folder given as `./_vendor` shows the same.
                let display = load::display_path(root, &crate::bundle::normalize(&path));
                match load::read_json(&path, &display) {
                    Ok((_, value)) => {
                        out.push((format!("{prefix}{rel}"), value));
                        displays.push(display);
                    }
                    Err(d) => problems.push(d),
                }
            }
        }
        (out, displays)
    }

    fn run(&self, isolation: &Isolation) -> Result<Generated, Error> {
        let checked = self.check()?;
        let report = self.report(&checked);
        let Checked { registry, vendored, bundles, mut problems, notes, .. } = checked;
        problems.0.extend(report.errors());
        let ready: Vec<(&crate::registry::SchemaFile, &Bundle)> =
            registry.files().zip(&bundles).filter_map(|(f, b)| Some((f, b.as_ref()?))).collect();
        // A definition that contains itself overflows typify's stack, and some schemas allow
        // values typify's types cannot hold: such a payload is not given to typify at all. The
        // others go to typify narrowed to what its types hold exactly.
        let inputs: Vec<Result<(serde_json::Value, Vec<String>), String>> = ready
            .iter()
            .map(|(f, b)| match (&b.validator_only, check::cycles(f, &b.schema)) {
                (Some(why), _) => {
                    Err(format!("its references are resolved by the validator inside the document ({why})"))
                }
                (None, Some(why)) => Err(why),
                (None, None) => generate::typify_input(&b.schema, self.refined_types),
            })
            .collect();
        let jobs: Vec<Job> = ready
            .iter()
            .zip(&inputs)
            .filter_map(|((f, _), input)| {
                let (schema, _) = input.as_ref().ok()?;
                Some(Job { schema: schema.clone(), payload: crate::ident::payload_name(&f.contract.name) })
            })
            .collect();
        let mut typified = isolate::run(&jobs, isolation).into_iter();
        let mut modules = Vec::new();
        let mut fallbacks = Vec::new();
        let mut partial = Vec::new();
        let mut seen = generate::Seen::default();
        for ((file, bundled), input) in ready.iter().zip(inputs) {
            let result = match &input {
                Err(reason) => Err(generate::NoType::Unsupported(reason.clone())),
                Ok(_) => typified.next().expect("one result per job"),
            };
            // A document left to the validator may refer to vendored documents it must be served.
            let serve = bundled.validator_only.is_some() && !vendored.is_empty();
            let schema = (&bundled.schema, &bundled.origins);
            match generate::schema_module(file, schema, result, serve, &registry.former_uris(file), &mut seen) {
                Ok((tokens, fallback)) => {
                    modules.push(tokens);
                    match (fallback, input) {
                        (Some(reason), _) => {
                            let message = format!("the payload is kept as a validated serde_json::Value: {reason}");
                            fallbacks.push(Diagnostic::file(file.display.clone(), message));
                        }
                        (None, Ok((_, untyped))) if !untyped.is_empty() => {
                            let message = format!("parts kept as validated serde_json::Value: {}", untyped.join("; "));
                            partial.push(Diagnostic::file(file.display.clone(), message));
                        }
                        _ => {}
                    }
                }
                Err(d) => problems.push(d),
            }
        }
        problems.into_result(())?;
        let upcasts = compat::upcasts(&registry, &bundles);
        let mut warnings = report.warnings();
        warnings.extend(notes);
        let mut generated = generate::registry(&registry, modules, &seen.shared, &upcasts, warnings, fallbacks);
        generated.dispatch.extend(generate::vendored_tokens(&vendored));
        generated.partial = partial;
        Ok(generated)
    }

    /// Generates and writes the code, and tells Cargo to rerun only when the registry changes.
    ///
    /// typify runs in child processes (this executable, re-executed), so that a schema that
    /// crashes it fails the build with a message rather than killing the build script.
    pub fn compile(&self) -> Result<Generated, Error> {
        isolate::serve_if_asked();
        if self.cargo_directives {
            println!("cargo:rerun-if-changed={}", self.schema_dir.display());
        }
        let out = match &self.out_file {
            Some(p) => p.clone(),
            None => PathBuf::from(std::env::var_os("OUT_DIR").ok_or_else(|| {
                Diagnostic::file("build.rs", "OUT_DIR is not set: call compile() from a build script or set out_file")
            })?)
            .join("events.rs"),
        };
        let isolation = match std::env::current_exe() {
            Ok(exe) => Isolation::Process { exe, dir: out.with_extension("typify-jobs") },
            Err(_) => Isolation::InProcess,
        };
        let generated = self.run(&isolation)?;
        for w in generated.warnings().iter().chain(generated.fallbacks()) {
            if self.cargo_directives {
                println!("cargo:warning={w}");
            } else {
                eprintln!("warning: {w}");
            }
        }
        let code = generated.render()?;
        // Leave the file untouched when nothing changed, so that dependents stay fresh.
        if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
            std::fs::write(&out, code).map_err(|e| {
                Diagnostic::file(out.display().to_string(), format!("cannot write the generated code: {e}"))
            })?;
        }
        Ok(generated)
    }
}

/// `[package.metadata.events.access]`: `services`, `roles`, `default-consumers`, `operators`.
fn read_access(value: &serde_json::Value) -> Result<AccessPolicy, String> {
    let at = "[package.metadata.events.access]";
    let table = value.as_object().ok_or_else(|| format!("{at} must be a table"))?;
    let names = |key: &str, v: &serde_json::Value| -> Result<Vec<String>, String> {
        let items = v.as_array().ok_or_else(|| format!("{at} {key} must be an array of service names"))?;
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| format!("{at} {key}: a service name must be a non-empty string"))
            })
            .collect()
    };
    let mut policy = AccessPolicy::default();
    for (key, v) in table {
        match key.as_str() {
            "services" => policy.services = names(key, v)?,
            "default-consumers" => policy.default_consumers = names(key, v)?,
            "operators" => policy.operators = names(key, v)?,
            "roles" => {
                let roles = v.as_object().ok_or_else(|| format!("{at} roles must be a table of role = [services]"))?;
                for (role, members) in roles {
                    policy.roles.insert(role.clone(), names(&format!("roles.{role}"), members)?);
                }
            }
            _ => {
                return Err(format!(
                    "unknown key `{key}` in {at}; expected `services`, `roles`, `default-consumers` or `operators`"
                ))
            }
        }
    }
    Ok(policy)
}
