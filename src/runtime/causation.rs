//! Causation: what a message hands down to the messages it causes.

use crate::{CausationId, CommandId, CorrelationId, Metadata};

/// The part of a message that its consequences inherit.
#[derive(Debug, Clone, PartialEq)]
pub struct Causation {
    /// The id of the causing command or event.
    pub causation_id: CausationId,
    /// The business process, unchanged along the chain.
    pub correlation_id: CorrelationId,
    /// The command an event relates to: the causing command, or the one its causing event relates to.
    pub command_id: Option<CommandId>,
    /// Who initiated the process and from where; carried down unless replaced.
    pub metadata: Metadata,
}

/// A message that can cause others: any command or event, typed or decoded through `AnyEvent`.
///
/// ```
/// use events::{AnyEvent, Cause, CausationId};
///
/// let wire = std::fs::read("tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
/// let received = AnyEvent::from_json(&wire).unwrap();
/// let passed_on = received.causation();
/// assert_eq!(passed_on.causation_id, CausationId::from(received.event_id()));
/// assert_eq!(passed_on.correlation_id, received.correlation_id());
/// ```
pub trait Cause {
    /// What a message caused by this one inherits.
    fn causation(&self) -> Causation;
}
