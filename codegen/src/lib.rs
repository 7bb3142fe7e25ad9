//! Generates typed event contracts from a folder of JSON Schemas.
//!
//! The pipeline, one module per step:
//! [`load`] the registry folder → [`bundle`] each schema with the files it `$ref`s →
//! [`check`] it (meta-schema, references, names, recursion) → hold each version to its [`compat`]ibility
//! mode → generate payload types with typify, the envelope glue and upcasts → render with prettyplease.
//! Each step imports only the steps before it (`tests/layers.rs` holds them to that), and every
//! step takes its naming rules from [`ident`].
//!
//! A build script of a few lines drives it:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     let result = events_codegen::Config::from_cargo_metadata().and_then(|c| c.compile());
//!     if let Err(e) = result {
//!         eprintln!("{e}");
//!         std::process::exit(1);
//!     }
//! }
//! ```
//!
//! The generated code expects to be included into a crate that provides the runtime (`Envelope`,
//! `Command`, `Contract`, …): the `events` crate of this workspace.
//!
//! Problems never panic: every one becomes a [`Diagnostic`] naming the file, and the line and
//! JSON pointer where they apply, and [`Config::generate`] reports all of them at once.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir(dir.path().join("pingSchema")).unwrap();
//! std::fs::write(dir.path().join("pingSchema/1.0.json"), r#"{
//!   "x-event": { "name": "PingEvent", "type": "notification", "source": "Pinger" },
//!   "type": "object",
//!   "properties": { "at": { "type": "integer", "minimum": "soon" } }
//! }"#).unwrap();
//! let err = events_codegen::Config::new().schema_dir(dir.path()).generate().unwrap_err();
//! let d = &err.diagnostics()[0];
//! assert!(d.file.ends_with("pingSchema/1.0.json"));
//! assert_eq!(d.pointer.as_deref(), Some("/properties/at/minimum"));
//! assert_eq!(d.position, Some((4, 57)));
//! ```

#![warn(missing_docs)]
// The examples show build scripts, whose `main` is the point.
#![allow(clippy::needless_doctest_main)]

pub mod bundle;
pub mod check;
pub mod compat;
mod config;
pub mod embedded;
pub mod envelope;
mod error;
mod generate;
pub mod ident;
pub mod ids;
mod inspect;
mod keywords;
pub mod load;
mod locate;
pub mod registry;
mod render;

pub use config::{Config, DEFAULT_BASE_URI};
pub use error::{Diagnostic, Error};
pub use generate::Generated;
pub use ident::{module_name, payload_name};
pub use inspect::Inspection;
pub use locate::position_of;

/// For tools other than build scripts that call [`Config::compile`]: `compile` runs typify in
/// child processes that re-execute the current program, and such a child must serve its job before
/// the program does anything else. Call this first thing in `main`; it returns at once otherwise.
pub use generate::isolate::serve_if_asked as serve_typify_jobs;
