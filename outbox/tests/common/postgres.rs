//! A throw-away PostgreSQL cluster for integration tests and benches.
//!
//! std only, so tests (`mod postgres;`) and benches (`#[path = ...]`) can include it without extra
//! dev-dependencies. PostgreSQL refuses to run as root, so as root (CI) the server commands run as
//! the `postgres` system user; client tools connect over TCP with trust auth and run as we are.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[allow(dead_code)]
pub const INSTALL_HINT: &str = "PostgreSQL's server is needed: apt-get install postgresql (Debian), or set EVENTS_PG_BIN to the folder holding initdb and pg_ctl";

/// Makes temp dirs unique when several clusters start at once in one test process.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A private cluster in its own temp dir; dropping it kills the server and deletes the dir.
pub struct TestPostgres {
    base: PathBuf,
    bin: PathBuf,
    port: u16,
    /// True when we are root, so server commands must run as the `postgres` user.
    as_postgres: bool,
}

#[allow(dead_code)]
impl TestPostgres {
    /// initdb + start on a free 127.0.0.1 port + `createdb events`.
    pub fn start() -> Result<Self, String> {
        let bin = find_bin_dir()?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("events-outbox-pg-{}-{n}-{nanos}", std::process::id()));
        fs::create_dir_all(base.join("sock")).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        // The owner of a dir we just created is our effective uid: no libc needed to tell root.
        let as_postgres = fs::metadata(&base).map(|m| m.uid() == 0).unwrap_or(false);
        // From here on, Drop cleans up whatever exists if a step fails.
        let mut pg = TestPostgres { base, bin, port: 0, as_postgres };
        let data = pg.data();
        fs::create_dir(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).map_err(|e| format!("chmod 0700 data: {e}"))?;
        if as_postgres {
            pg.check_traversable()?;
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:postgres").arg(&pg.base);
            pg.run(chown)?;
        }
        let d = path_str(&data);
        let initdb_args = ["-D", &d, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"];
        pg.run(pg.server("initdb", &initdb_args))?;
        pg.launch_on_free_port()?;
        let mut createdb = Command::new(pg.bin.join("createdb"));
        createdb.args(["-h", "127.0.0.1", "-p", &pg.port.to_string(), "-U", "postgres", "events"]);
        pg.run(createdb)?;
        Ok(pg)
    }

    /// postgres://postgres@127.0.0.1:PORT/events
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/events", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Fast shutdown (breaks client connections, like a real restart), then start on the same port.
    pub fn restart(&mut self) -> Result<(), String> {
        self.pg_ctl_stop("fast")?;
        self.launch()
    }

    /// Immediate shutdown, as close to a crash as pg_ctl gets; `start_again` brings it back.
    pub fn stop(&mut self) -> Result<(), String> {
        self.pg_ctl_stop("immediate")
    }

    /// Starts the stopped server again with the same port and data.
    pub fn start_again(&mut self) -> Result<(), String> {
        self.launch()
    }

    /// The server log, for failure messages.
    pub fn log(&self) -> String {
        fs::read(self.log_path()).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.base.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.base.join("server.log")
    }

    /// The port may be grabbed by someone else between probing and binding: retry with a new one.
    fn launch_on_free_port(&mut self) -> Result<(), String> {
        for attempt in 0..3 {
            let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("no free port: {e}"))?;
            self.port = probe.local_addr().map_err(|e| format!("no free port: {e}"))?.port();
            drop(probe);
            match self.launch() {
                Err(e) if attempt < 2 && (e.contains("already in use") || e.contains("could not bind")) => continue,
                other => return other,
            }
        }
        unreachable!("the last attempt returns")
    }

    fn launch(&mut self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c shared_buffers=64MB",
            self.port,
            shell_quote(&path_str(&self.base.join("sock")))
        );
        let (d, l) = (path_str(&self.data()), path_str(&self.log_path()));
        self.run(self.server("pg_ctl", &["start", "-w", "-t", "60", "-D", &d, "-l", &l, "-o", &opts]))?;
        // pg_ctl -w checks the unix socket; callers use TCP, so wait for that too.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("server not accepting TCP on {addr} after 60 s\n{}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn pg_ctl_stop(&self, mode: &str) -> Result<(), String> {
        let d = path_str(&self.data());
        self.run(self.server("pg_ctl", &["stop", "-w", "-t", "60", "-m", mode, "-D", &d])).map(drop)
    }

    /// A server command, run as `postgres` when we are root.
    fn server(&self, prog: &str, args: &[&str]) -> Command {
        let exe = path_str(&self.bin.join(prog));
        if !self.as_postgres {
            let mut cmd = Command::new(exe);
            cmd.args(args);
            return cmd;
        }
        if let Some(runuser) = ["/usr/sbin/runuser", "/sbin/runuser"].into_iter().find(|p| Path::new(p).exists()) {
            let mut cmd = Command::new(runuser);
            cmd.args(["-u", "postgres", "--", &exe]).args(args);
            return cmd;
        }
        let line: Vec<String> = std::iter::once(exe.as_str()).chain(args.iter().copied()).map(shell_quote).collect();
        let mut cmd = Command::new("su");
        cmd.args(["postgres", "-s", "/bin/sh", "-c", &line.join(" ")]);
        cmd
    }

    /// Runs `cmd` in the temp dir (root's cwd may be unreadable for `postgres`); errors carry everything.
    fn run(&self, mut cmd: Command) -> Result<String, String> {
        cmd.current_dir(&self.base);
        let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}\n{INSTALL_HINT}"))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Err(format!(
            "{cmd:?} failed ({})\n--- stdout:\n{}--- stderr:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail()
        ))
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        if lines.is_empty() {
            return "--- server.log: (empty)\n".to_string();
        }
        format!("--- server.log (tail):\n{}\n", lines[lines.len().saturating_sub(40)..].join("\n"))
    }

    /// The `postgres` user must be able to reach the temp dir (a TMPDIR under /root would not do).
    fn check_traversable(&self) -> Result<(), String> {
        for dir in self.base.ancestors().skip(1) {
            let mode = fs::metadata(dir).map(|m| m.mode()).unwrap_or(0);
            if mode & 0o001 == 0 {
                return Err(format!("{} is not traversable by the postgres user; set TMPDIR=/tmp", dir.display()));
            }
        }
        Ok(())
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let _ = self.pg_ctl_stop("immediate");
        }
        let _ = fs::remove_dir_all(&self.base);
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `EVENTS_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else `pg_config --bindir`, else PATH.
fn find_bin_dir() -> Result<PathBuf, String> {
    let has_initdb = |d: &Path| d.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("EVENTS_PG_BIN").map(PathBuf::from) {
        return match has_initdb(&dir) {
            true => Ok(dir),
            false => Err(format!("{INSTALL_HINT} (EVENTS_PG_BIN={} holds no initdb)", dir.display())),
        };
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.split('.').map(|p| p.parse().ok()).collect::<Option<Vec<u32>>>()?;
            Some((version, e.path().join("bin"))).filter(|(_, bin)| has_initdb(bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_initdb(&dir) {
            return Ok(dir);
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).find(|d| has_initdb(d)).ok_or_else(|| {
        format!(
            "{INSTALL_HINT} (no initdb in $EVENTS_PG_BIN, /usr/lib/postgresql/*/bin, `pg_config --bindir` or $PATH)"
        )
    })
}
