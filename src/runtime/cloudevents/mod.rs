//! CloudEvents 1.0 in the structured JSON format: an envelope maps to a CloudEvent and back with
//! nothing lost.
//!
//! | envelope | CloudEvent |
//! |---|---|
//! | `eventId` | `id` |
//! | `eventSource` | `source` |
//! | `eventName` | `type` |
//! | `timestamp` | `time` |
//! | `schemaRef` | `dataschema` (its `uri`), `schemaid`, `schemaversion` |
//! | `payload` | `data`, with `datacontenttype` `application/json` |
//! | `correlationId`, `causationId` | `correlationid`, `causationid` (the CloudEvents correlation extension) |
//! | `commandId`, `version`, `eventType`, `eventVersion`, `eventStatus` | `commandid`, `version`, `eventtype`, `eventversion`, `eventstatus`, strings |
//! | `retryCount` | `retrycount`, an integer; its decimal string above 2^31 − 1, past CloudEvents' integers |
//! | `tags`, `metadata` | `tags`, `metadata`: their JSON text, since extension values cannot nest |
//!
//! Reading a CloudEvent back checks it as an incoming envelope is checked, and errors point at
//! the CloudEvent's attributes. An extension with no envelope field, and `subject`, are refused
//! rather than dropped. An envelope whose `eventSource` is empty maps to a CloudEvent with an empty
//! `source`, which CloudEvents forbids and reading refuses.

mod event;
mod mapping;

pub use event::{CloudEvent, ExtensionValue};
pub(crate) use mapping::{of_message, read_with};
