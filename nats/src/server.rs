//! A `nats-server` of one's own, on 127.0.0.1: for examples, tests and a first try, never for
//! production (start the real one with its own configuration there).

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to get the server when it is missing, said by every error that cannot find it.
pub const INSTALL_HINT: &str = "install it with `apt-get install -y nats-server` (Debian, 2.9 or later), \
or set NATS_SERVER_BIN to the binary, or set NATS_URL to a running server with JetStream";

/// Why a local server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The binary is not there.
    #[error("cannot run `{binary}`: {source}; {INSTALL_HINT}")]
    NotInstalled {
        /// What was run.
        binary: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// It started but never answered, or exited.
    #[error("nats-server on 127.0.0.1:{port} did not become ready within {waited:?}: {output}")]
    NotReady {
        /// Its port.
        port: u16,
        /// How long it was given.
        waited: Duration,
        /// What it printed, or how it exited.
        output: String,
    },
    /// The store folder or a port could not be had.
    #[error("could not prepare the server: {0}")]
    Io(#[from] std::io::Error),
}

/// A `nats-server` with JetStream, on 127.0.0.1 and a free port, its store in a folder of its own
/// that is removed with it. The binary comes from `NATS_SERVER_BIN`, or `nats-server` on `PATH`.
///
/// ```no_run
/// let server = events_nats::LocalServer::start().unwrap();
/// println!("connect to {}", server.url());
/// // stopped, and its store removed, when dropped
/// ```
#[derive(Debug)]
pub struct LocalServer {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
    binary: String,
    log: PathBuf,
    /// A configuration file (the authorization block), when one was given.
    config: Option<PathBuf>,
}

impl LocalServer {
    /// Starts a server and waits until it accepts clients.
    pub fn start() -> Result<Self, ServerError> {
        Self::start_with_config(None)
    }

    /// Starts a server whose clients must authenticate, with `authorization` (an
    /// `authorization { … }` block, as [`Policy::render`](crate::authorization::Policy::render)
    /// writes it) as its configuration.
    pub fn start_with_authorization(authorization: &str) -> Result<Self, ServerError> {
        Self::start_with_config(Some(authorization))
    }

    fn start_with_config(config: Option<&str>) -> Result<Self, ServerError> {
        let binary = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_string());
        let store = std::env::temp_dir().join(format!("events-nats-{}", uuid_like()));
        std::fs::create_dir_all(&store)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = store.join("server.log");
        let config = match config {
            Some(text) => {
                let path = store.join("server.conf");
                std::fs::write(&path, text)?;
                Some(path)
            }
            None => None,
        };
        let mut server = LocalServer { child: None, port, store, binary, log, config };
        server.spawn()?;
        Ok(server)
    }

    /// What the server logged so far (permission violations, for one).
    pub fn log(&self) -> String {
        self.log_text()
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port it listens on, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where JetStream keeps its data, the same across restarts.
    pub fn store_dir(&self) -> &Path {
        &self.store
    }

    /// Kills the server at once (SIGKILL: no flush, no goodbye), keeping its store.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Starts it again on the same port and store (after [`kill`](Self::kill)); waits until ready.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), ServerError> {
        let log = std::fs::File::create(&self.log)?;
        let mut command = Command::new(&self.binary);
        if let Some(config) = &self.config {
            command.arg("-c").arg(config);
        }
        let child = command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(&self.store)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|source| ServerError::NotInstalled { binary: self.binary.clone(), source })?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(20))
    }

    /// Ready means: the port answers with the server's INFO line and the log says JetStream is up.
    fn wait_ready(&mut self, limit: Duration) -> Result<(), ServerError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(5);
        loop {
            if !self.is_running() {
                return Err(self.not_ready(limit, "the process exited"));
            }
            if answers(self.port) && self.log_text().contains("Server is ready") {
                return Ok(());
            }
            if started.elapsed() > limit {
                self.kill();
                return Err(self.not_ready(limit, "no answer"));
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    fn not_ready(&self, waited: Duration, why: &str) -> ServerError {
        let output = format!("{why}; its log: {}", self.log_text().trim());
        ServerError::NotReady { port: self.port, waited, output }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn answers(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("INFO ")
}

/// A name unique to this process and moment, for the store folder.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
