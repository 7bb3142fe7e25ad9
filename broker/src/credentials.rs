//! A service's credentials for the broker: a user name (the service's) and a password that lives
//! only in a credentials file, never in the registry, the broker's configuration (which holds its
//! bcrypt hash) or a log.

use std::path::{Path, PathBuf};

/// A user and its password. `Debug` shows the user only.
///
/// ```
/// let c = events_broker::Credentials::generate("PaymentService");
/// assert_eq!(c.user(), "PaymentService");
/// assert!(!format!("{c:?}").contains(c.password()));
/// assert!(c.verify_hash(&c.hash()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"<secret>").finish()
    }
}

/// bcrypt's work factor for the configuration's hashes: the server checks one per connection.
const BCRYPT_COST: u32 = 10;

impl Credentials {
    /// Credentials with a given password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials { user: user.into(), password: password.into() }
    }

    /// Credentials with a fresh random password (256 bits).
    pub fn generate(user: impl Into<String>) -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
        use base64::Engine as _;
        Credentials { user: user.into(), password: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes) }
    }

    /// The user: the service's name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The password's bcrypt hash, as the broker's configuration holds it.
    pub fn hash(&self) -> String {
        bcrypt::hash(&self.password, BCRYPT_COST).expect("bcrypt hashes any password")
    }

    /// Whether `hash` is this password's.
    pub fn verify_hash(&self, hash: &str) -> bool {
        bcrypt::verify(&self.password, hash).unwrap_or(false)
    }

    /// Reads a credentials file: `{"user": "...", "password": "..."}`.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let fail = |why: String| CredentialsError { path: path.to_path_buf(), why };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| fail(format!("not JSON: {e}")))?;
        let field = |key: &str| {
            value.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(|| {
                fail(format!("`{key}` is missing; a credentials file is {{\"user\": \"...\", \"password\": \"...\"}}"))
            })
        };
        Ok(Credentials { user: field("user")?, password: field("password")? })
    }

    /// Writes the credentials file, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), CredentialsError> {
        let fail = |why: String| CredentialsError { path: path.to_path_buf(), why };
        let text = serde_json::json!({ "user": self.user, "password": self.password }).to_string();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        use std::io::Write as _;
        let mut file = options.open(path).map_err(|e| fail(e.to_string()))?;
        file.write_all(text.as_bytes()).map_err(|e| fail(e.to_string()))
    }
}

/// A folder of credentials files, `<user>.json` each, kept outside the repository (a secrets
/// mount, say): the configuration is written from it, and each service is given its own file.
#[derive(Debug, Clone)]
pub struct Secrets {
    dir: PathBuf,
}

impl Secrets {
    /// The folder (created when missing, readable by its owner only).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CredentialsError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| CredentialsError { path: dir.clone(), why: e.to_string() })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        Ok(Secrets { dir })
    }

    /// Where `user`'s file is.
    pub fn path_of(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.json"))
    }

    /// `user`'s credentials, made (and saved) when the folder has none yet: running again keeps
    /// every password that exists.
    pub fn ensure(&self, user: &str) -> Result<Credentials, CredentialsError> {
        let path = self.path_of(user);
        if path.exists() {
            let found = Credentials::load(&path)?;
            if found.user != user {
                return Err(CredentialsError { path, why: format!("holds the user `{}`, not `{user}`", found.user) });
            }
            return Ok(found);
        }
        let made = Credentials::generate(user);
        made.save(&path)?;
        Ok(made)
    }

    /// `user`'s credentials, which must exist.
    pub fn get(&self, user: &str) -> Result<Credentials, CredentialsError> {
        Credentials::load(&self.path_of(user))
    }
}

/// A credentials file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("credentials {}: {why}", path.display())]
pub struct CredentialsError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub why: String,
}
