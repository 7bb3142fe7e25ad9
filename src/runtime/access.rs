//! Who may publish and who may read each contract: the registry's access rules, generated into
//! [`ACCESS`](crate::ACCESS) so that transports can enforce them and write a broker's
//! authorization from them.

use crate::EventType;

/// The registry's access rules: its services, operators, and one rule per contract.
///
/// ```
/// let access = &events::ACCESS;
/// assert!(access.may_read("PaymentService", "InventoryUpdatedIntegrationEvent"));
/// assert!(!access.may_read("NotificationService", "InventoryUpdatedIntegrationEvent"));
/// assert!(access.may_publish("InventoryService", "InventoryUpdatedIntegrationEvent"));
/// assert!(!access.may_publish("PaymentService", "InventoryUpdatedIntegrationEvent"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Every service of the platform, sorted.
    pub services: &'static [&'static str],
    /// Services that read everything, dead letters included.
    pub operators: &'static [&'static str],
    /// One rule per contract name (its newest version states it), sorted by name.
    pub rules: &'static [AccessRule],
}

/// Who may publish and read one contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRule {
    /// `eventName` or `commandName`.
    pub name: &'static str,
    /// The event's type, `None` for a command.
    pub event_type: Option<EventType>,
    /// Services that may publish (send) it.
    pub publishers: &'static [&'static str],
    /// Services that may read it, roles expanded; empty: nobody but operators.
    pub consumers: &'static [&'static str],
}

impl AccessPolicy {
    /// The rule of contract `name`.
    pub fn rule(&self, name: &str) -> Option<&'static AccessRule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Whether `service` may read contract `name` (operators read everything).
    pub fn may_read(&self, service: &str, name: &str) -> bool {
        self.is_operator(service) || self.rule(name).is_some_and(|r| r.consumers.contains(&service))
    }

    /// Whether `service` may publish contract `name`.
    pub fn may_publish(&self, service: &str, name: &str) -> bool {
        self.is_operator(service) || self.rule(name).is_some_and(|r| r.publishers.contains(&service))
    }

    /// Whether `service` is one of the registry's operators.
    pub fn is_operator(&self, service: &str) -> bool {
        self.operators.contains(&service)
    }

    /// Whether `service` is a service of the registry at all.
    pub fn knows(&self, service: &str) -> bool {
        self.services.contains(&service) || self.is_operator(service)
    }
}

/// A contract version's stable numbers, as the registry's `schema-ids.lock` records them.
///
/// ```
/// // The shipped registry records every version.
/// let order = events::SCHEMA_IDS.iter().find(|s| s.name == "OrderCreatedEvent" && s.integer == 2).unwrap();
/// assert_eq!(order.version, events::SchemaVersion::new(1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaIdEntry {
    /// The registry-wide schema id (the Confluent wire format's).
    pub id: u32,
    /// The subject's integer version: 1, 2, 3.
    pub integer: u32,
    /// `eventName` or `commandName`.
    pub name: &'static str,
    /// The contract version.
    pub version: crate::SchemaVersion,
}
