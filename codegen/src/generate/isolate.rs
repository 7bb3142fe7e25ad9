//! Runs typify out of harm's way. A panic is caught in-process, but typify also overflows its
//! stack on some recursive schemas, which aborts the whole process; no `catch_unwind` stops that.
//! So the build script runs typify in a child process: itself, re-executed with a job folder in
//! the environment. `Config::compile` and `Config::from_cargo_metadata` serve such a job and exit
//! before doing anything else. A child that dies marks its current schema as crashed, and a new
//! child takes the remaining ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::payload::typify_text;
use super::{NoType, Typified};

const JOBS_VAR: &str = "EVENTS_CODEGEN_TYPIFY_JOBS";
const FROM_VAR: &str = "EVENTS_CODEGEN_TYPIFY_FROM";
/// The payload whose typify job aborts the worker: the isolation's own tests set it, since the
/// schemas that used to crash typify no longer reach it.
const ABORT_VAR: &str = "EVENTS_CODEGEN_TEST_ABORT_ON";

/// One schema to give to typify.
pub(crate) struct Job {
    pub schema: Value,
    pub payload: String,
}

/// Where typify runs.
pub(crate) enum Isolation {
    /// In a thread of this process: panics are caught, a stack overflow is not.
    InProcess,
    /// In child processes running `exe`, exchanging files through `dir`.
    Process { exe: PathBuf, dir: PathBuf },
}

/// typify's output (as text) for each job, in order.
pub(crate) fn run(jobs: &[Job], isolation: &Isolation) -> Vec<Typified> {
    match isolation {
        Isolation::InProcess => jobs.iter().map(|j| typify_text(&j.schema, &j.payload)).collect(),
        Isolation::Process { exe, dir } => in_children(jobs, exe, dir).unwrap_or_else(|e| {
            let message = format!("cannot run typify in a child process: {e}");
            jobs.iter().map(|_| Err(NoType::Refused(message.clone()))).collect()
        }),
    }
}

fn job_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("job-{i}.json"))
}

fn out_path(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("job-{i}.out.json"))
}

/// Removes the job folder however the run ends.
struct JobDir<'a>(&'a Path);

impl Drop for JobDir<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0);
    }
}

fn in_children(jobs: &[Job], exe: &Path, dir: &Path) -> std::io::Result<Vec<Typified>> {
    // One folder per run: two runs writing the same output never share jobs.
    let dir = &dir.with_file_name(format!(
        "{}-{}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let _cleanup = JobDir(dir);
    for (i, job) in jobs.iter().enumerate() {
        std::fs::write(job_path(dir, i), json!({ "payload": job.payload, "schema": job.schema }).to_string())?;
    }
    let mut results: Vec<Option<Typified>> = (0..jobs.len()).map(|_| None).collect();
    let mut from = 0;
    while from < jobs.len() {
        // The same arguments, so that the child takes the same path to `compile` as this process.
        let status = Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(JOBS_VAR, dir)
            .env(FROM_VAR, from.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let start = from;
        while from < jobs.len() {
            let Ok(text) = std::fs::read_to_string(out_path(dir, from)) else { break };
            let out: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            results[from] = Some(match (out["ok"].as_str(), out["unsupported"].as_str(), out["refused"].as_str()) {
                (Some(code), ..) => Ok(code.to_string()),
                (_, Some(e), _) => Err(NoType::Unsupported(e.to_string())),
                (.., Some(e)) => Err(NoType::Refused(e.to_string())),
                _ => Err(NoType::Refused("typify's worker wrote no result".into())),
            });
            from += 1;
        }
        if from < jobs.len() {
            if status.success() && from == start {
                // The child never served the jobs: its build script does not reach the hook.
                return Err(std::io::Error::other(
                    "the child did not serve the jobs; call Config::compile first thing in build.rs",
                ));
            }
            results[from] = Some(Err(NoType::Unsupported(format!(
                "typify crashed on this schema ({}); this happens on recursive definitions it cannot resolve",
                describe(status)
            ))));
            from += 1;
        }
    }
    Ok(results.into_iter().map(|r| r.expect("every job has a result")).collect())
}

fn describe(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}, typically a stack overflow");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// When this process was started as a typify worker, serves the jobs and exits.
pub fn serve_if_asked() {
    let Some(dir) = std::env::var_os(JOBS_VAR).map(PathBuf::from) else { return };
    let from: usize = std::env::var(FROM_VAR).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    for i in from.. {
        let Ok(text) = std::fs::read_to_string(job_path(&dir, i)) else { break };
        let job: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let result = match job["payload"].as_str() {
            // Lets tests crash a worker the way a stack overflow in typify does.
            Some(payload) if std::env::var(ABORT_VAR).ok().as_deref() == Some(payload) => std::process::abort(),
            Some(payload) => typify_text(&job["schema"], payload),
            None => Err(NoType::Refused("malformed typify job".to_string())),
        };
        let out = match result {
            Ok(code) => json!({ "ok": code }),
            Err(NoType::Unsupported(e)) => json!({ "unsupported": e }),
            Err(NoType::Refused(e)) => json!({ "refused": e }),
        };
        // Written whole, then renamed: the parent never reads half a result.
        let tmp = dir.join(format!("job-{i}.tmp"));
        if std::fs::write(&tmp, out.to_string()).and_then(|_| std::fs::rename(&tmp, out_path(&dir, i))).is_err() {
            std::process::exit(2);
        }
    }
    std::process::exit(0);
}
