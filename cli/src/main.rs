//! `events`: the registry's command-line tool.
//!
//! ```text
//! events list [--json]                      every subject and version, and what its payload became
//! events validate [FILE…|-] [--json]        messages decoded through the registry, one result each
//! events example NAME[@VERSION] | --all     a valid full-form envelope for a contract
//! events generate [--out FILE]              the generated Rust, without a Cargo build
//! events schema NAME[@VERSION] [--envelope]  a contract's JSON Schema, payload or whole message
//! events asyncapi [--service NAME]      an AsyncAPI 3.0.0 document of the registry
//! events check --against REV              published versions unchanged, new ones compatible
//! events catalog --out DIR                 a static, browsable catalog of the registry
//! events ids [--check]                    stable schema ids, recorded in schema-ids.lock
//! events serve [--addr 127.0.0.1:8081]    the registry over HTTP: schemaRef URIs resolve
//! events compat                             the compatibility report of every version pair
//! events nats-config --secrets DIR          the broker's authorization for the access rules
//! ```
//!
//! It reads `[package.metadata.events]` of the workspace it stands in, like the build; flags
//! override. Exit status: 0 good, 1 findings (invalid messages, a bad registry, a break), 2 usage.

mod access;
mod asyncapi;
mod catalog;
mod check;
mod decode;
mod example;
mod failure;
mod list;
mod progress;
mod registry_args;
mod serve;
mod stream;
mod tools;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use failure::Failure;
use registry_args::RegistryArgs;

/// The registry's command-line tool.
#[derive(Debug, Parser)]
#[command(name = "events", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every subject and version: contract, kind, event type, source, tags, deprecation, and
    /// whether its payload is typed, partly typed or a validated JSON value.
    List {
        /// One JSON document for scripts.
        #[arg(long)]
        json: bool,
        /// Skip generating the types: faster, without the payload column.
        #[arg(long)]
        no_types: bool,
    },
    /// Decodes messages through the registry as a consumer would: one result per message, with
    /// FILE:LINE, valid with its contract and version, or every violation with its JSON pointer.
    ///
    /// Input is a stream of JSON values: pretty-printed, concatenated, or JSON lines. No FILE, or
    /// `-`, reads standard input.
    Validate {
        /// Files of messages; `-` is standard input.
        files: Vec<std::path::PathBuf>,
        /// One JSON object per message, one per line.
        #[arg(long)]
        json: bool,
        /// Print only the invalid messages (and the summary).
        #[arg(long, short)]
        quiet: bool,
    },
    /// A valid full-form envelope for a contract: from the schema's `examples` when it has one,
    /// otherwise made from the schema; always validated before it is printed.
    Example {
        /// `OrderCreatedEvent` or `OrderCreatedEvent@1.0`; the newest version when none is given.
        contract: Option<String>,
        /// Try every contract of the registry and report for which an example can be made.
        #[arg(long, conflicts_with = "contract")]
        all: bool,
        /// With `--all`: one JSON document.
        #[arg(long, requires = "all")]
        json: bool,
    },
    /// Compares the working tree's registry (uncommitted edits included) with the registry at a
    /// git revision: a published version whose meaning changed, or that was removed, is a finding;
    /// new versions go through the compatibility gate; widened access rules need review.
    Check {
        /// A branch, tag or commit (`origin/main`, `v1.4.0`, `HEAD~1`).
        #[arg(long, value_name = "REV")]
        against: String,
        /// Allow versions and subjects present at REV to be gone.
        #[arg(long)]
        allow_removal: bool,
        /// One JSON document for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Writes a static, browsable catalog of the registry to DIR: an index with search and
    /// filters, and a page per contract (fields, envelope, example, schemas, changes between
    /// versions). It opens from the file system and needs no network.
    Catalog {
        /// The folder to write (created when missing).
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    /// Records a stable schema id and integer version for every contract version that has none,
    /// in `schema-ids.lock` at the root of the registry folder (commit it). Recorded numbers never
    /// change; those of removed versions stay reserved.
    Ids {
        /// Change nothing: exit 1 when a version has no recorded id (for CI).
        #[arg(long)]
        check: bool,
    },
    /// Serves the registry over HTTP: every version's schema as written at the path of its
    /// `schemaRef.uri` (`?envelope` for the whole message's schema), the catalog at `/catalog/`,
    /// the AsyncAPI document at `/asyncapi.json`. Reloads when the registry folder changes; a
    /// reload that fails the checks keeps serving the last good registry.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        addr: std::net::SocketAddr,
        /// Seconds a client may take to send a request's headers.
        #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
        header_timeout: f64,
        /// Seconds a client may take to send a request's body.
        #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
        body_timeout: f64,
    },
    /// The JSON Schema of a contract version: its payload's, bundled (every `$ref` inside it), or
    /// with `--envelope` the whole message's (the envelope's fields and the payload).
    Schema {
        /// `OrderCreatedEvent` or `OrderCreatedEvent@1.0`; the newest version when none is given.
        contract: String,
        /// The whole message's schema.
        #[arg(long)]
        envelope: bool,
    },
    /// The registry as an AsyncAPI 3.0.0 document (JSON): one channel per contract at its NATS
    /// subject, one message per version whose payload is the whole message's schema; with
    /// `--service`, that service's operations (`send` what it publishes, `receive` what it reads).
    Asyncapi {
        /// Write the document here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// The application the document describes: its operations are included.
        #[arg(long, value_name = "NAME")]
        service: Option<String>,
    },
    /// Checks the registry and prints the generated Rust, without a Cargo build.
    Generate {
        /// Write the code here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// The compatibility report of every subject's version pairs, without generating code.
    Compat,
    /// Writes the `nats-server` authorization for the registry's access rules: one user per
    /// service (and operator), allowed exactly what the transport does for it. The configuration
    /// holds bcrypt hashes only; each service's password is in its credentials file in SECRETS
    /// (`<service>.json`, readable by its owner), made when missing and kept when present.
    NatsConfig {
        /// The folder of credentials files, outside the repository (a secrets mount).
        #[arg(long, value_name = "DIR")]
        secrets: std::path::PathBuf,
        /// Write the configuration here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    // A typify worker re-executes this program; it serves its job and exits here.
    events_codegen::serve_typify_jobs();
    let cli = Cli::parse();
    let config = match cli.registry.config() {
        Ok(config) => config,
        Err(failure) => return report(&failure),
    };
    let ended = match cli.command {
        Command::List { json, no_types } => list::run(&config, json, !no_types),
        Command::Validate { files, json, quiet } => validate::run(&config, &files, json, quiet),
        Command::Example { contract, all: true, json, .. } => example::run_all(&config, contract.as_deref(), json),
        Command::Example { contract: Some(contract), .. } => example::run(&config, &contract),
        Command::Example { contract: None, .. } => Err(Failure::usage(
            "name a contract (NAME or NAME@VERSION), or pass --all\n\nUsage: events example <CONTRACT>",
        )),
        Command::Generate { out } => tools::generate(&config, out.as_deref()),
        Command::Compat => tools::compat(&config),
        Command::Serve { addr, header_timeout, body_timeout } => {
            let limits = serve::Limits {
                header_timeout: std::time::Duration::from_secs_f64(header_timeout.max(0.05)),
                body_timeout: std::time::Duration::from_secs_f64(body_timeout.max(0.05)),
            };
            serve::run(config, cli.registry.package(), addr, limits)
        }
        Command::Ids { check } => tools::ids(&config, check),
        Command::Catalog { out } => catalog::run(&config, &cli.registry.package(), &out),
        Command::Check { against, allow_removal, json } => {
            let manifest = cli.registry.manifest();
            let options = check::Options { against: &against, allow_removal, json, manifest: manifest.as_deref() };
            check::run(&config, &options)
        }
        // It prints its own errors: its exit status is passed on as it is.
        Command::Asyncapi { out, service } => {
            let status = asyncapi::run(&config, &cli.registry.package(), service.as_deref(), out.as_deref());
            return ExitCode::from(status);
        }
        Command::Schema { contract, envelope } => tools::schema(&config, &contract, envelope),
        Command::NatsConfig { secrets, out } => access::nats_config(&config, &secrets, out.as_deref()),
    };
    match ended {
        Ok(outcome) => ExitCode::from(outcome.status()),
        Err(failure) => report(&failure),
    }
}

/// A failure, printed once, and its exit status.
fn report(failure: &Failure) -> ExitCode {
    eprintln!("error: {}", failure.to_string().trim_end());
    ExitCode::from(failure.kind().status())
}
