//! Identifiers: four UUIDs with four meanings, as four types that cannot be swapped by mistake.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (version 4) id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies one event (`eventId`).
    ///
    /// ```
    /// let id: events::EventId = "c4f7d8e6-4a9b-4579-8d4e-6f3d8f5b9c0e".parse().unwrap();
    /// assert_eq!(id.to_string(), "c4f7d8e6-4a9b-4579-8d4e-6f3d8f5b9c0e");
    /// ```
    EventId
);
id_type!(
    /// Ties together every command and event of one business process (`correlationId`).
    ///
    /// ```
    /// assert_ne!(events::CorrelationId::new(), events::CorrelationId::new());
    /// ```
    CorrelationId
);
id_type!(
    /// Identifies one command (`commandId`).
    ///
    /// ```
    /// let id = events::CommandId::new();
    /// assert_eq!(id.as_uuid().get_version_num(), 4);
    /// ```
    CommandId
);
id_type!(
    /// Points at the command or event that directly caused this message (`causationId`).
    ///
    /// Made only from a [`CommandId`] or an [`EventId`]:
    /// ```
    /// use events::{CausationId, CommandId};
    /// let command = CommandId::new();
    /// assert_eq!(CausationId::from(command).as_uuid(), command.as_uuid());
    /// ```
    /// and never from a correlation id, nor one id in the place of another:
    /// ```compile_fail
    /// let wrong: events::CausationId = events::CorrelationId::new().into();
    /// ```
    /// ```compile_fail
    /// let wrong: events::CommandId = events::EventId::new();
    /// ```
    CausationId
);

impl From<CommandId> for CausationId {
    fn from(id: CommandId) -> Self {
        Self(id.0)
    }
}

impl From<EventId> for CausationId {
    fn from(id: EventId) -> Self {
        Self(id.0)
    }
}
