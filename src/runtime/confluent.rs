//! The Confluent Schema Registry's wire format for JSON: byte 0 (the magic byte), the schema id as
//! four big-endian bytes, then the message's JSON. The id is the one the registry records for the
//! contract version (`schema-ids.lock`), and names the envelope schema the JSON validates against,
//! so that a validating Confluent deserializer accepts these messages.

use crate::{
    Command, CommandContract, Contract, DecodeError, Envelope, EventContract, Message, Registry, SchemaIdEntry,
    SchemaVersion,
};

/// Why bytes are not a framed message of the registry, or a message cannot be framed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfluentError {
    /// Fewer than the five bytes of the header.
    #[error("a Confluent message starts with 5 bytes (magic byte and schema id); this one has {len}")]
    Truncated {
        /// How many bytes there were.
        len: usize,
    },
    /// The first byte is not 0.
    #[error("the magic byte is {found}, not 0: not the Confluent wire format")]
    MagicByte {
        /// The byte found.
        found: u8,
    },
    /// No contract version of the registry has this id.
    #[error("schema id {id} is not a version of this registry")]
    UnknownId {
        /// The id in the header.
        id: u32,
    },
    /// The header's id names another contract version than the message.
    #[error("schema id {id} is {expected_name} {expected_version}, but the message is {found_name} {found_version}")]
    IdMismatch {
        /// The id in the header.
        id: u32,
        /// The contract the id names.
        expected_name: String,
        /// Its version.
        expected_version: SchemaVersion,
        /// The contract of the message.
        found_name: String,
        /// Its version.
        found_version: SchemaVersion,
    },
    /// The registry records no id for this contract version (run `events ids`).
    #[error("no schema id is recorded for {name} {version}; run `cargo events ids`")]
    NoSchemaId {
        /// The contract.
        name: String,
        /// Its version.
        version: SchemaVersion,
    },
    /// The JSON after the header does not decode.
    #[error("{0}")]
    Decode(#[from] DecodeError),
}

fn frame(id: u32, json: String) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + json.len());
    out.push(0);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(json.as_bytes());
    out
}

/// The header's id and the JSON after it.
fn unframe(bytes: &[u8]) -> Result<(u32, &[u8]), ConfluentError> {
    if bytes.len() < 5 {
        return Err(ConfluentError::Truncated { len: bytes.len() });
    }
    if bytes[0] != 0 {
        return Err(ConfluentError::MagicByte { found: bytes[0] });
    }
    let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Ok((id, &bytes[5..]))
}

/// The JSON, with the version the id names written in where the message names none, so that
/// the id, not "the newest version that accepts it", picks the version.
fn pinned(json: &[u8], version: SchemaVersion) -> Result<Vec<u8>, ConfluentError> {
    let mut value: serde_json::Value = serde_json::from_slice(json).map_err(|e| DecodeError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    if let Some(map) = value.as_object_mut() {
        if !map.contains_key("version") && !map.contains_key("schemaRef") {
            map.insert("version".into(), version.to_string().into());
        }
    }
    Ok(serde_json::to_vec(&value).expect("a JSON value serializes"))
}

fn entry<R: Registry>(id: u32) -> Result<&'static SchemaIdEntry, ConfluentError> {
    R::SCHEMA_IDS.iter().find(|s| s.id == id).ok_or(ConfluentError::UnknownId { id })
}

fn check(id: u32, e: &SchemaIdEntry, name: &str, version: SchemaVersion) -> Result<(), ConfluentError> {
    if e.name == name && e.version == version {
        Ok(())
    } else {
        Err(ConfluentError::IdMismatch {
            id,
            expected_name: e.name.to_string(),
            expected_version: e.version,
            found_name: name.to_string(),
            found_version: version,
        })
    }
}

/// The message of contract `P` framed with its schema id.
fn framed<P: Contract>(json: String) -> Result<Vec<u8>, ConfluentError> {
    let version = P::SCHEMA_REF.version;
    let id = <P::Registry as Registry>::schema_id(P::NAME, version)
        .ok_or(ConfluentError::NoSchemaId { name: P::NAME.into(), version })?;
    Ok(frame(id, json))
}

impl<P: EventContract> Envelope<P> {
    /// The event in the Confluent wire format: `0`, its schema id, its JSON.
    ///
    /// ```
    /// use events::{Contracts, EventSet, Registry};
    /// # let wire = std::fs::read("tests/fixtures/spec/09-InventoryUpdatedIntegrationEvent.json").unwrap();
    /// let event = events::inventory_updated_schema::InventoryUpdatedIntegrationEvent::from_json(&wire).unwrap();
    /// let bytes = event.to_confluent().unwrap();
    /// assert_eq!(bytes[0], 0);
    /// assert_eq!(&bytes[1..5], &Contracts::schema_id("InventoryUpdatedIntegrationEvent", event.version()).unwrap().to_be_bytes());
    /// assert!(matches!(events::AnyEvent::from_confluent(&bytes), Ok(events::AnyEvent::InventoryUpdatedIntegrationEventV1_0(_))));
    /// ```
    pub fn to_confluent(&self) -> Result<Vec<u8>, ConfluentError> {
        framed::<P>(self.to_json())
    }
}

impl<P: CommandContract> Command<P> {
    /// The command in the Confluent wire format.
    pub fn to_confluent(&self) -> Result<Vec<u8>, ConfluentError> {
        framed::<P>(self.to_json())
    }
}

/// Decodes a message of registry `M::Registry` in the Confluent wire format; the header's id
/// chooses the contract version. [`crate::EventSet::from_confluent`] and [`crate::CommandSet::from_confluent`]
/// call it.
pub(crate) fn from_confluent<M: Message>(bytes: &[u8]) -> Result<M, ConfluentError> {
    let (id, json) = unframe(bytes)?;
    let e = entry::<M::Registry>(id)?;
    let message = M::decode(&pinned(json, e.version)?)?;
    check(id, e, message.name(), message.schema_ref().version)?;
    Ok(message)
}
