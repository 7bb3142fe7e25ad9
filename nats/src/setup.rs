//! The streams and the bucket the transport needs, created or checked once at start-up.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};

use crate::subject::{
    COMMANDS_STREAM, COMMANDS_SUBJECTS, DEAD_LETTERS_STREAM, DEAD_LETTERS_SUBJECTS, EVENTS_STREAM, EVENTS_SUBJECTS,
    FAILURES_BUCKET,
};

/// How the streams are kept, and how long publishing may retry. Builder methods, then
/// [`Broker::setup`].
///
/// ```
/// use std::time::Duration;
/// let config = events_nats::BrokerConfig::default()
///     .max_age(Duration::from_secs(7 * 24 * 3600))
///     .max_bytes(10 << 30)
///     .publish_deadline(Duration::from_secs(30));
/// assert!(config.check().is_ok());
///
/// // A publish retried past the duplicate window could be stored twice: refused.
/// let unsafe_config = config.duplicate_window(Duration::from_secs(10));
/// assert!(unsafe_config.check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerConfig {
    pub(crate) max_age: Duration,
    pub(crate) max_bytes: i64,
    pub(crate) duplicate_window: Duration,
    pub(crate) replicas: usize,
    pub(crate) publish_deadline: Duration,
    pub(crate) publish_attempt_timeout: Duration,
    pub(crate) dead_letter_max_age: Duration,
    pub(crate) failures_max_age: Duration,
    pub(crate) service: Option<String>,
}

impl Default for BrokerConfig {
    /// Events and commands kept 7 days, unbounded in bytes; a 2-minute duplicate window (the
    /// server's default); publishes retried for 60 s, each attempt given 5 s; dead letters kept
    /// 30 days; earlier failures kept 7 days.
    fn default() -> Self {
        BrokerConfig {
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: -1,
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
            publish_deadline: Duration::from_secs(60),
            publish_attempt_timeout: Duration::from_secs(5),
            dead_letter_max_age: Duration::from_secs(30 * 24 * 3600),
            failures_max_age: Duration::from_secs(7 * 24 * 3600),
            service: None,
        }
    }
}

impl BrokerConfig {
    /// How long events and commands are kept (`max_age` of both streams).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }
    /// The most bytes each stream keeps (`max_bytes`; -1, the default, for no limit). The oldest
    /// messages go first.
    pub fn max_bytes(mut self, bytes: i64) -> Self {
        self.max_bytes = bytes;
        self
    }
    /// How long a `Nats-Msg-Id` is remembered for de-duplication.
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }
    /// Stream replicas (1 on a single server; 3 on a cluster of three).
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }
    /// How long a publish keeps retrying an unreachable or slow broker before it gives the
    /// message back. Must stay below the duplicate window.
    pub fn publish_deadline(mut self, deadline: Duration) -> Self {
        self.publish_deadline = deadline;
        self
    }
    /// How long one publish attempt waits for the broker's acknowledgement.
    pub fn publish_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.publish_attempt_timeout = timeout;
        self
    }
    /// How long dead-letter records are kept.
    pub fn dead_letter_max_age(mut self, age: Duration) -> Self {
        self.dead_letter_max_age = age;
        self
    }

    /// The service this process runs as, under the access rules of each registry it reads
    /// ([`events::Registry::ACCESS`]): a consumer it starts must read what that registry lets it
    /// read (checked before the broker is asked), and a publish the broker refuses fails at once as
    /// [`PublishErrorKind::Forbidden`](crate::PublishErrorKind::Forbidden). Connect with
    /// [`connect_as`](crate::connect_as) and the service's credentials.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = Some(name.into());
        self
    }

    /// The service set with [`BrokerConfig::service`].
    pub fn service_name(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// How long the broker recognises a `Nats-Msg-Id` it stored (set with
    /// [`BrokerConfig::duplicate_window`]).
    pub fn duplicate_window_length(&self) -> Duration {
        self.duplicate_window
    }

    /// How long a publish retries before it hands the message back (set with
    /// [`BrokerConfig::publish_deadline`]).
    pub fn publish_deadline_length(&self) -> Duration {
        self.publish_deadline
    }

    /// Refuses settings that could lose or double a message.
    pub fn check(&self) -> Result<(), SetupError> {
        if self.publish_deadline >= self.duplicate_window {
            return Err(SetupError::new(
                SetupErrorKind::Config,
                format!(
                "publish_deadline ({:?}) must be shorter than duplicate_window ({:?}): a publish retried after the \
                 window has passed could be stored twice",
                self.publish_deadline, self.duplicate_window
            ),
            ));
        }
        if self.publish_attempt_timeout.is_zero() || self.publish_attempt_timeout > self.publish_deadline {
            return Err(SetupError::new(
                SetupErrorKind::Config,
                format!(
                    "publish_attempt_timeout ({:?}) must be above zero and at most publish_deadline ({:?})",
                    self.publish_attempt_timeout, self.publish_deadline
                ),
            ));
        }
        if self.max_age.is_zero() || self.max_age < self.duplicate_window {
            return Err(SetupError::new(
                SetupErrorKind::Config,
                format!(
                    "max_age ({:?}) must be at least the duplicate window ({:?})",
                    self.max_age, self.duplicate_window
                ),
            ));
        }
        Ok(())
    }

    fn stream(&self, name: &str, subjects: &str, max_age: Duration) -> stream::Config {
        stream::Config {
            name: name.to_string(),
            subjects: vec![subjects.to_string()],
            // Several services read one stream, each at its own pace: never WorkQueue or Interest.
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            max_age,
            max_bytes: self.max_bytes,
            duplicate_window: self.duplicate_window,
            num_replicas: self.replicas,
            ..Default::default()
        }
    }
}

/// What went wrong in setting up; match on its [`kind`](events::Error::kind), the broker's own
/// error is its source.
pub type SetupError = events::Error<SetupErrorKind>;

/// The kinds of [`SetupError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupErrorKind {
    /// The configuration is refused before the broker is asked anything.
    Config,
    /// A stream exists with settings the transport cannot work with (retention, subjects).
    Conflict,
    /// The broker refused or did not answer.
    Broker,
}

/// The transport's handle on a broker: cheap to clone, shared by publishers and consumers.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = events_nats::connect("nats://127.0.0.1:4222").await?;
/// let broker = events_nats::Broker::setup(client, events_nats::BrokerConfig::default()).await?;
/// let publisher = broker.publisher();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Broker(pub(crate) Arc<Shared>);

/// What every clone of a [`Broker`] shares: cloning one (into each task, say) costs a count.
#[derive(Debug)]
pub(crate) struct Shared {
    pub client: async_nats::Client,
    pub jetstream: jetstream::Context,
    pub failures: kv::Store,
    pub config: BrokerConfig,
}

impl Broker {
    /// Checks `config`, then creates the events, commands and dead-letter streams (file storage,
    /// Limits retention) and the failures bucket, or checks the ones already there and brings
    /// their limits (`max_age`, `max_bytes`, duplicate window) to `config`. A stream of the same
    /// name with another retention or other subjects is an error, never changed.
    pub async fn setup(client: async_nats::Client, config: BrokerConfig) -> Result<Self, SetupError> {
        config.check()?;
        let jetstream = jetstream::ContextBuilder::new().timeout(config.publish_attempt_timeout).build(client.clone());
        for (name, subjects, age) in [
            (EVENTS_STREAM, EVENTS_SUBJECTS, config.max_age),
            (COMMANDS_STREAM, COMMANDS_SUBJECTS, config.max_age),
            (DEAD_LETTERS_STREAM, DEAD_LETTERS_SUBJECTS, config.dead_letter_max_age),
        ] {
            ensure_stream(&jetstream, config.stream(name, subjects, age)).await?;
        }
        let failures = ensure_bucket(&jetstream, &config).await?;
        Ok(Broker(Arc::new(Shared { client, jetstream, failures, config })))
    }

    /// The connection this broker uses.
    pub fn client(&self) -> &async_nats::Client {
        &self.0.client
    }

    /// The JetStream context, for what the transport does not cover.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.0.jetstream
    }

    /// The configuration it was set up with.
    pub fn config(&self) -> &BrokerConfig {
        &self.0.config
    }
}

async fn ensure_stream(js: &jetstream::Context, wanted: stream::Config) -> Result<(), SetupError> {
    let name = wanted.name.clone();
    let existing = match js.get_stream(&name).await {
        Ok(mut s) => Some(
            s.info()
                .await
                .map_err(|e| SetupError::with_source(SetupErrorKind::Broker, format!("reading stream {name}"), e))?
                .config
                .clone(),
        ),
        Err(e)
            if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(ref j)
            if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            None
        }
        Err(e) => return Err(SetupError::with_source(SetupErrorKind::Broker, format!("looking up stream {name}"), e)),
    };
    let Some(found) = existing else {
        js.create_stream(wanted)
            .await
            .map_err(|e| SetupError::with_source(SetupErrorKind::Broker, format!("creating stream {name}"), e))?;
        return Ok(());
    };
    if found.retention != stream::RetentionPolicy::Limits {
        return Err(SetupError::new(
            SetupErrorKind::Conflict,
            format!(
                "stream {name} exists with retention {:?}; the transport needs Limits (several services read one \
             stream, and WorkQueue or Interest retention would delete a message once one of them has it)",
                found.retention
            ),
        ));
    }
    if found.subjects != wanted.subjects {
        return Err(SetupError::new(
            SetupErrorKind::Conflict,
            format!(
                "stream {name} exists with subjects {:?}; the transport needs {:?}",
                found.subjects, wanted.subjects
            ),
        ));
    }
    if found.storage != wanted.storage {
        return Err(SetupError::new(
            SetupErrorKind::Conflict,
            format!("stream {name} exists with {:?} storage; the transport needs file storage", found.storage),
        ));
    }
    let drifted = found.max_age != wanted.max_age
        || found.max_bytes != wanted.max_bytes
        || found.duplicate_window != wanted.duplicate_window;
    if drifted {
        let updated = stream::Config {
            max_age: wanted.max_age,
            max_bytes: wanted.max_bytes,
            duplicate_window: wanted.duplicate_window,
            ..found
        };
        js.update_stream(updated).await.map_err(|e| {
            SetupError::with_source(SetupErrorKind::Broker, format!("updating the limits of stream {name}"), e)
        })?;
    }
    Ok(())
}

/// The failures bucket, made with [`bucket_stream`].
async fn ensure_bucket(js: &jetstream::Context, config: &BrokerConfig) -> Result<kv::Store, SetupError> {
    let description = "Failures of earlier deliveries, per consumer and stream sequence";
    let wanted = bucket_stream(FAILURES_BUCKET, description, config.failures_max_age, config.replicas);
    js.get_or_create_stream(wanted).await.map_err(|e| {
        SetupError::with_source(SetupErrorKind::Broker, format!("creating the key-value bucket {FAILURES_BUCKET}"), e)
    })?;
    js.get_key_value(FAILURES_BUCKET).await.map_err(|e| {
        SetupError::with_source(SetupErrorKind::Broker, format!("opening the key-value bucket {FAILURES_BUCKET}"), e)
    })
}

/// The stream behind key-value bucket `bucket` (`KV_<bucket>` over `$KV.<bucket>.>`, one value per
/// key, kept `max_age`), for `get_or_create_stream`. Buckets are made this way rather than
/// through the client's `create_key_value`: that call first reads the account's limits, and this
/// client cannot parse a 2.9 server's answer (it requires `reserved_memory`, which 2.9 does not
/// send).
pub(crate) fn bucket_stream(bucket: &str, description: &str, max_age: Duration, replicas: usize) -> stream::Config {
    stream::Config {
        name: format!("KV_{bucket}"),
        description: Some(description.to_string()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: replicas,
        ..Default::default()
    }
}
