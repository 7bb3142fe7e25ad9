//! What the subcommands share: exit statuses, failures, and the two commands that come from the
//! generator as they are (`generate`, `compat`).

use std::io::Write;
use std::path::Path;

use events_codegen::Config;

/// Exit status of a usage error (unknown flag, missing file), as clap's own.
pub const USAGE: u8 = 2;
/// Exit status when the tool found problems: invalid messages, a bad registry, a break.
pub const FINDINGS: u8 = 1;

/// Why a command stopped, and with which exit status.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub status: u8,
}

impl Failure {
    pub fn new(status: u8, message: impl Into<String>) -> Self {
        Failure { message: message.into(), status }
    }
}

/// The registry checked, or its problems printed (status 1).
pub fn inspect(config: &Config) -> Result<events_codegen::Inspection, u8> {
    config.inspect().map_err(|e| {
        eprint!("{e}");
        FINDINGS
    })
}

/// `events generate`: the code the build would generate.
pub fn generate(config: &Config, out: Option<&Path>) -> u8 {
    let generated = match config.generate_isolated() {
        Ok(g) => g,
        Err(e) => {
            eprint!("{e}");
            return FINDINGS;
        }
    };
    for w in generated.warnings().iter().chain(generated.fallbacks()) {
        eprintln!("warning: {w}");
    }
    let code = match generated.render() {
        Ok(code) => code,
        Err(e) => {
            eprint!("{e}");
            return FINDINGS;
        }
    };
    let written = match out {
        Some(path) => std::fs::write(path, code).map_err(|e| format!("{}: {e}", path.display())),
        None => std::io::stdout().write_all(code.as_bytes()).map_err(|e| format!("standard output: {e}")),
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write the generated code to {e}");
            FINDINGS
        }
    }
}

/// `events compat`: every version pair under its mode.
pub fn compat(config: &Config) -> u8 {
    match config.compatibility_report() {
        Ok(report) => {
            print!("{report}");
            if report.passed() {
                0
            } else {
                FINDINGS
            }
        }
        Err(e) => {
            eprint!("{e}");
            FINDINGS
        }
    }
}
