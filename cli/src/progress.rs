//! Progress on standard error for long work, only when it is a terminal: scripts and CI logs get
//! results, not redraws.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A one-line status, redrawn at most ten times a second and cleared when dropped.
pub struct Progress {
    on: bool,
    last: Option<Instant>,
    shown: bool,
}

impl Progress {
    pub fn new() -> Self {
        Progress { on: std::io::stderr().is_terminal(), last: None, shown: false }
    }

    /// Shows `status` now.
    pub fn stage(&mut self, status: &str) {
        if self.on {
            eprint!("\r\x1b[2K{status}");
            let _ = std::io::stderr().flush();
            self.shown = true;
            self.last = Some(Instant::now());
        }
    }

    /// Shows `status()` unless the line was redrawn in the last tenth of a second.
    pub fn tick(&mut self, status: impl FnOnce() -> String) {
        if self.on && self.last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
            self.stage(&status());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}
