//! What the generated code implements for each payload: the facts its schema states.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{EventType, StaticSchemaRef, Violation};

/// A payload type generated from one registry schema, with what the schema knows about it.
pub trait Contract:
    TypedCheck + Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// The registry the contract belongs to: its crate's `Contracts`.
    type Registry: crate::Registry;
    /// `eventName` (or `commandName`): `OrderCreatedEvent`.
    const NAME: &'static str;
    /// The registry schema the payload follows.
    const SCHEMA_REF: StaticSchemaRef;
    /// The tags every new instance starts with.
    const TAGS: &'static [&'static str];
    /// `schemaRef.uri`s written under the registry's former base URIs (`former-base-uris`):
    /// accepted when decoding, never written.
    const FORMER_URIS: &'static [&'static str] = &[];
    /// The compiled schema of the payload.
    fn payload_schema() -> &'static PayloadSchema;
}

/// Whether a typed payload meets its schema, checked on the typed value itself. The generator
/// implements it where every keyword of the schema has a typed check; elsewhere the default says
/// "not checked" and validation goes through the schema. A `false` is never an error by itself.
pub trait TypedCheck {
    /// `true` only when the payload certainly meets its schema.
    fn typed_valid(&self) -> bool {
        false
    }
}

/// A contract declared with `x-event`.
pub trait EventContract: Contract {
    /// `eventType`.
    const EVENT_TYPE: EventType;
    /// `eventSource`: the component that publishes the event.
    const EVENT_SOURCE: &'static str;
    /// `eventVersion`: the event's own version, by default the schema version.
    const EVENT_VERSION: &'static str;
}

/// A contract declared with `x-command`.
pub trait CommandContract: Contract {}

/// A payload that breaks its schema, refused when an envelope is made from it.
///
/// ```
/// use events::order_created_schema::v1_0::{OrderCreatedEvent, OrderCreatedEventPayload};
///
/// // `items` is an array with at least one entry: the type says array, the schema says the rest.
/// let payload = OrderCreatedEventPayload {
///     order_id: "ORD12345".into(),
///     customer_id: "CUST67890".into(),
///     items: vec![],
///     total_amount: 0.0,
/// };
/// let err = OrderCreatedEvent::new(payload, events::Metadata::new("u", "s")).unwrap_err();
/// assert_eq!(err.violations[0].pointer, "/payload/items");
/// assert_eq!(err.violations[0].keyword, "minItems");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the payload of {contract} violates its schema: {}", violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
pub struct InvalidPayload {
    /// The contract's name.
    pub contract: &'static str,
    /// Every violation, with pointers under `/payload`.
    pub violations: Vec<Violation>,
}

/// Checks a typed payload against its schema: types carry only part of what a schema states
/// (`minItems`, `minimum` on a float, …), and an envelope must never hold what decoding would refuse.
pub(crate) fn check_payload<P: Contract>(payload: &P) -> Result<(), InvalidPayload> {
    if payload.typed_valid() {
        return Ok(());
    }
    let refuse = |violations| InvalidPayload { contract: P::NAME, violations };
    let value = serde_json::to_value(payload).map_err(|e| {
        refuse(vec![Violation { pointer: "/payload".into(), keyword: "type".into(), message: e.to_string() }])
    })?;
    P::payload_schema().validate(&value).map_err(refuse)
}

/// A payload schema compiled into a validator, once per process.
pub struct PayloadSchema {
    validator: jsonschema::Validator,
    schema: Value,
    /// Whether any property is `x-sensitive`: only then are messages checked for values to mask.
    sensitive: bool,
}

impl Debug for PayloadSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadSchema").finish_non_exhaustive()
    }
}

impl PayloadSchema {
    /// Compiles a bundled schema. The generator compiled the same schema with the same options at
    /// build time, so failure here means the generated code was edited by hand.
    #[doc(hidden)]
    pub fn compile(schema_json: &str) -> Self {
        let schema: Value = serde_json::from_str(schema_json).expect("generated schema text is JSON");
        // The same options as the generator's build-time check (`events_codegen::check::runtime_options`).
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the generator compiled this schema at build time");
        let sensitive = schema_json.contains("\"x-sensitive\"");
        PayloadSchema { validator, schema, sensitive }
    }

    /// Compiles a bundled schema read at run time (a tool that loads a registry folder), serving
    /// `vendored` documents by URI; the error says why the schema cannot be compiled.
    ///
    /// ```
    /// let schema = serde_json::json!({"type": "object", "required": ["n"]});
    /// let check = events::PayloadSchema::from_bundled(schema, &[]).unwrap();
    /// let broken = check.validate(&serde_json::json!({})).unwrap_err();
    /// assert_eq!(broken[0].pointer, "/payload");
    /// assert_eq!(broken[0].keyword, "required");
    /// ```
    pub fn from_bundled(schema: Value, vendored: &[(String, Value)]) -> Result<Self, String> {
        let mut options = jsonschema::options().should_validate_formats(true);
        if !vendored.is_empty() {
            options = options.with_retriever(Vendored(vendored.iter().cloned().collect()));
        }
        let validator = options.build(&schema).map_err(|e| e.to_string())?;
        let sensitive = schema.to_string().contains("\"x-sensitive\"");
        Ok(PayloadSchema { validator, schema, sensitive })
    }

    /// Like [`PayloadSchema::compile`], for a document left to the validator that refers to the
    /// registry's vendored documents: they are served by URI, never fetched.
    #[doc(hidden)]
    pub fn compile_vendored(schema_json: &str, vendored: &'static [(&'static str, &'static str)]) -> Self {
        let schema: Value = serde_json::from_str(schema_json).expect("generated schema text is JSON");
        let documents = vendored
            .iter()
            .map(|(uri, text)| (uri.to_string(), serde_json::from_str(text).expect("generated document text is JSON")))
            .collect();
        // The same options as the generator's build-time check, which served the same documents.
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .with_retriever(Vendored(documents))
            .build(&schema)
            .expect("the generator compiled this schema at build time");
        let sensitive = schema_json.contains("\"x-sensitive\"");
        PayloadSchema { validator, schema, sensitive }
    }

    /// Whether a string meets this schema (for the one-keyword schemas of typed checks).
    #[doc(hidden)]
    pub fn accepts_str(&self, text: &str) -> bool {
        self.validator.is_valid(&Value::String(text.to_string()))
    }

    /// The bundled schema, every `$ref` pointing into it.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Every violation of the schema by `payload`, with pointers under `/payload`.
    pub fn validate(&self, payload: &Value) -> Result<(), Vec<Violation>> {
        if self.validator.is_valid(payload) {
            return Ok(());
        }
        // The validator's messages quote the value; a sensitive one must not reach a log that way.
        let hidden =
            if self.sensitive { crate::runtime::redact::sensitive_pointers(payload, &self.schema) } else { Vec::new() };
        Err(self
            .validator
            .iter_errors(payload)
            .map(|e| {
                let inner = e.instance_path().to_string();
                let keyword = e.kind().keyword().to_string();
                // Inside a sensitive value, or around one: a message about an enclosing array or
                // object quotes it whole.
                let touches =
                    |p: &String| crate::runtime::redact::within(&inner, p) || crate::runtime::redact::within(p, &inner);
                let message = if hidden.iter().any(touches) {
                    format!("the value breaks `{keyword}` (not shown: the schema marks it x-sensitive)")
                } else {
                    e.to_string()
                };
                Violation { pointer: format!("/payload{inner}"), keyword, message }
            })
            .collect())
    }
}

/// Serves vendored documents to the validator by their URI.
struct Vendored(std::collections::HashMap<String, Value>);

impl jsonschema::Retrieve for Vendored {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0.get(uri.as_str()).cloned().ok_or_else(|| format!("`{uri}` is not a vendored document").into())
    }
}
