//! `events-codegen generate [--schemas DIR] [--base-uri URI] [--compatibility MODE] [--out FILE]`
//! `events-codegen compat [--schemas DIR] [--compatibility MODE]`
//!
//! `generate` checks a registry folder and generates its code without a Cargo build: the Rust goes
//! to FILE, or to standard output. `compat` prints the compatibility report of every subject and
//! version pair, without generating code. Both exit with status 1 when the registry is bad or a
//! minor version breaks its compatibility mode.

use std::process::ExitCode;

const USAGE: &str =
    "usage: events-codegen generate [--schemas DIR] [--base-uri URI] [--compatibility MODE] [--out FILE]
       events-codegen compat [--schemas DIR] [--compatibility MODE]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    if !matches!(command.as_deref(), Some("generate" | "compat")) {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut config = events_codegen::Config::new();
    config.cargo_directives(false);
    let mut out = None;
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{flag} needs a value\n{USAGE}");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--schemas" => config.schema_dir(value),
            "--base-uri" => config.base_uri(value),
            "--compatibility" => match value.parse() {
                Ok(mode) => config.compatibility(mode),
                Err(e) => {
                    eprintln!("{e}\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--out" if command.as_deref() == Some("generate") => {
                out = Some(std::path::PathBuf::from(value));
                continue;
            }
            _ => {
                eprintln!("unknown option {flag}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
    }
    if command.as_deref() == Some("compat") {
        return match config.compatibility_report() {
            Ok(report) => {
                print!("{report}");
                if report.passed() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let target =
        out.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("events-codegen-{}.rs", std::process::id())));
    config.out_file(&target);
    if let Err(e) = config.compile() {
        eprint!("{e}");
        return ExitCode::FAILURE;
    }
    if out.is_none() {
        match std::fs::read_to_string(&target) {
            Ok(code) => print!("{code}"),
            Err(e) => {
                eprintln!("cannot read back the generated code: {e}");
                return ExitCode::FAILURE;
            }
        }
        let _ = std::fs::remove_file(&target);
    }
    ExitCode::SUCCESS
}
