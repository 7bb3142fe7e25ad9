//! Serde support the generated payloads use.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads an optional property kept as JSON: present is `Some`, even when it is `null`, and absent
/// is `None` (through `#[serde(default)]`), so that a payload encodes back as it came.
#[doc(hidden)]
pub fn deserialize_present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}
