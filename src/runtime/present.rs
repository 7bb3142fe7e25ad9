//! Serde support the generated payloads use.

use serde::{Deserialize, Deserializer};

/// Reads an optional property: present is `Some` and absent is `None` (through `#[serde(default)]`).
/// serde alone also reads `null` as `None`, which would accept a `null` the schema refuses and
/// drop it on encoding; here `null` is read as a value of the type: `Some(Value::Null)` for a
/// property kept as JSON, an error for any other type.
#[doc(hidden)]
pub fn deserialize_present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}
