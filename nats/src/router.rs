//! Which handler a message goes to: one per contract version, or one for everything of a kind.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use events::{DecodeError, ErrorInfo, Message, Registry, SchemaVersion};
use serde_json::Value;

use crate::message::{Delivered, Ids, Kind};

/// The future a handler returns, boxed.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), ErrorInfo>> + Send>>;

/// Something that handles deliveries of `M`: any `Fn(Delivered<M>) -> impl Future<Output =
/// Result<(), E>>` where `E` converts into an [`ErrorInfo`] (any `Display` does).
pub trait Handler<M>: Send + Sync + 'static {
    /// Handles one delivery.
    fn call(&self, delivered: Delivered<M>) -> HandlerFuture;
}

impl<M, F, Fut, E> Handler<M> for F
where
    F: Fn(Delivered<M>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<ErrorInfo>,
{
    fn call(&self, delivered: Delivered<M>) -> HandlerFuture {
        let fut = self(delivered);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// What a delivery needs to build a [`Delivered`].
pub(crate) struct Context {
    pub attempt: u32,
    pub max_attempts: u32,
    pub origin: events::Origin,
    pub published: chrono::DateTime<chrono::Utc>,
}

/// Calls the handler: kept apart from decoding so that nothing of the handler (not even the
/// synchronous part of a closure) runs before the consumer has decided to run it.
pub(crate) type Call = Box<dyn FnOnce() -> HandlerFuture + Send>;

/// A decoded delivery, ready to run.
pub(crate) struct Dispatch {
    pub ids: Ids,
    /// `None`: the message is valid but no handler wants it; it is acknowledged.
    pub run: Option<Call>,
}

pub(crate) trait Route: Send + Sync {
    /// Decodes the body as it came (the fast path) and readies the handler.
    fn dispatch(&self, bytes: &[u8], cx: Context) -> Result<Dispatch, DecodeError>;
    /// The same, from the body already parsed to route it.
    fn dispatch_value(&self, body: Value, cx: Context) -> Result<Dispatch, DecodeError>;
    /// The message as delivery `attempt` shows it, as JSON, for a dead-letter record.
    fn record(&self, body: Value, attempt: u32) -> Result<(Ids, Value), DecodeError>;
}

struct Typed<M, H> {
    handler: Arc<H>,
    _message: PhantomData<fn() -> M>,
}

impl<M: Message, H: Handler<M>> Typed<M, H> {
    fn ready(&self, message: M, cx: Context) -> Dispatch {
        let message = message.at_attempt(cx.attempt);
        let ids = Ids::of(&message);
        let delivered = Delivered::new(message, cx.attempt, cx.max_attempts, cx.origin, cx.published);
        let handler = self.handler.clone();
        Dispatch { ids, run: Some(Box::new(move || handler.call(delivered))) }
    }
}

impl<M: Message, H: Handler<M>> Route for Typed<M, H> {
    fn dispatch(&self, bytes: &[u8], cx: Context) -> Result<Dispatch, DecodeError> {
        Ok(self.ready(M::decode(bytes)?, cx))
    }
    fn dispatch_value(&self, body: Value, cx: Context) -> Result<Dispatch, DecodeError> {
        Ok(self.ready(M::decode_value(body)?, cx))
    }
    fn record(&self, body: Value, attempt: u32) -> Result<(Ids, Value), DecodeError> {
        record_of::<M>(body, attempt)
    }
}

fn record_of<M: Message>(body: Value, attempt: u32) -> Result<(Ids, Value), DecodeError> {
    let message = M::decode_value(body)?.at_attempt(attempt);
    let value = serde_json::to_value(&message).expect("registry messages always serialize");
    Ok((Ids::of(&message), value))
}

/// Validates a message no handler asked for, so that a broken one is still dead-lettered.
struct Unrouted<M>(PhantomData<fn() -> M>);

impl<M: Message> Route for Unrouted<M> {
    fn dispatch(&self, bytes: &[u8], _cx: Context) -> Result<Dispatch, DecodeError> {
        Ok(Dispatch { ids: Ids::of(&M::decode(bytes)?), run: None })
    }
    fn dispatch_value(&self, body: Value, _cx: Context) -> Result<Dispatch, DecodeError> {
        Ok(Dispatch { ids: Ids::of(&M::decode_value(body)?), run: None })
    }
    fn record(&self, body: Value, attempt: u32) -> Result<(Ids, Value), DecodeError> {
        record_of::<M>(body, attempt)
    }
}

/// Handlers by contract, for one consumer of registry `R` (a registry crate's `Contracts`, which
/// the handlers' message types name: `Router::new().on(…)` needs no annotation).
///
/// `on::<OrderCreatedEvent>(h)` handles that contract version (name and schema version); the
/// message is decoded straight into its type. `on::<AnyEvent>(h)` (or `AnyCommand`) handles every
/// other event (command) of the registry. A valid message with no handler is acknowledged and
/// logged, not handled; one that fails to decode or validate is a poison message and goes to the
/// dead letters at once. Registering a contract twice keeps the last handler.
///
/// ```
/// use events::inventory_updated_schema::InventoryUpdatedIntegrationEvent;
/// use events::AnyEvent;
/// use events_nats::{Delivered, Router};
///
/// let router = Router::new()
///     .on(|e: Delivered<InventoryUpdatedIntegrationEvent>| async move {
///         println!("{} now {} (attempt {})", e.payload().item_id, e.payload().new_quantity, e.attempt());
///         Ok::<_, String>(())
///     })
///     .on(|e: Delivered<AnyEvent>| async move {
///         println!("something else: {}", e.event_name());
///         Ok::<_, String>(())
///     });
/// assert_eq!(router.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Router<R: Registry> {
    routes: HashMap<(&'static str, SchemaVersion), Arc<dyn Route>>,
    versions: HashMap<&'static str, Vec<SchemaVersion>>,
    any_event: Option<Arc<dyn Route>>,
    any_command: Option<Arc<dyn Route>>,
    _registry: PhantomData<fn() -> R>,
}

impl<R: Registry> std::fmt::Debug for Router<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut contracts: Vec<String> = self.routes.keys().map(|(n, v)| format!("{n}@{v}")).collect();
        contracts.sort();
        f.debug_struct("Router")
            .field("contracts", &contracts)
            .field("any_event", &self.any_event.is_some())
            .field("any_command", &self.any_command.is_some())
            .finish()
    }
}

impl<R: Registry> Router<R> {
    /// A router with no handlers: every valid message is acknowledged unhandled.
    pub fn new() -> Self {
        Router::default()
    }

    /// Handles `M`: a contract version, or every event (`AnyEvent`) or command (`AnyCommand`)
    /// that no contract handler takes.
    pub fn on<M: Message<Registry = R>, H: Handler<M>>(mut self, handler: H) -> Self {
        let route: Arc<dyn Route> = Arc::new(Typed::<M, H> { handler: Arc::new(handler), _message: PhantomData });
        match (M::CONTRACT, M::KIND) {
            (Some((name, version)), _) => {
                if self.routes.insert((name, version), route).is_none() {
                    self.versions.entry(name).or_default().push(version);
                }
            }
            (None, Kind::Event) => self.any_event = Some(route),
            (None, Kind::Command) => self.any_command = Some(route),
        }
        self
    }

    /// How many handlers it has.
    pub fn len(&self) -> usize {
        self.routes.len() + usize::from(self.any_event.is_some()) + usize::from(self.any_command.is_some())
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The route for a message body guessed from its first members, when they are as the encoder
    /// writes them: no parse, only a look at the text. A failed decode should check the guess
    /// with [`Self::route`].
    pub(crate) fn route_fast(&self, bytes: &[u8], kind: Kind) -> Option<Arc<dyn Route>> {
        if kind != Kind::Event {
            return None;
        }
        events::leading_identity(bytes).and_then(|(name, version)| self.lookup(name, version))
    }

    /// The route for a parsed message body; `kind` is what the stream holds, used when the body
    /// says neither `eventName` nor `commandName` (or is no JSON object at all).
    pub(crate) fn route(&self, body: &Value, kind: Kind) -> Arc<dyn Route> {
        let text = |key: &str| body.get(key).and_then(Value::as_str);
        let (name, kind) = match (text("eventName"), text("commandName")) {
            (Some(n), None) => (Some(n), Kind::Event),
            (None, Some(n)) => (Some(n), Kind::Command),
            _ => (None, kind),
        };
        let version = body
            .get("schemaRef")
            .and_then(|r| r.get("version"))
            .and_then(Value::as_str)
            .or_else(|| text("version"))
            .and_then(|v| v.parse::<SchemaVersion>().ok());
        if let Some(route) = name.and_then(|name| self.lookup(name, version)) {
            return route;
        }
        let fallback = match kind {
            Kind::Event => &self.any_event,
            Kind::Command => &self.any_command,
        };
        match (fallback, kind) {
            (Some(route), _) => route.clone(),
            (None, Kind::Event) => Arc::new(Unrouted::<R::Event>(PhantomData)),
            (None, Kind::Command) => Arc::new(Unrouted::<R::Command>(PhantomData)),
        }
    }

    fn lookup(&self, name: &str, version: Option<SchemaVersion>) -> Option<Arc<dyn Route>> {
        // A message without `version` (an early form of the spec) goes to the one version routed.
        let version = match version {
            Some(v) => v,
            None => match self.versions.get(name)?.as_slice() {
                [only] => *only,
                _ => return None,
            },
        };
        // The map is covariant in its key: looked up with a borrowed name.
        let routes: &HashMap<(&str, SchemaVersion), Arc<dyn Route>> = &self.routes;
        routes.get(&(name, version)).cloned()
    }
}
