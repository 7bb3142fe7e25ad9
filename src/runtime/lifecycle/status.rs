//! `eventStatus` as a state machine: which statuses may follow which.

use std::fmt;

use crate::EventStatus;

/// A move of `eventStatus` that its lifecycle does not allow, refused rather than written over.
///
/// ```
/// use events::{EventStatus, IllegalTransition};
///
/// let err = EventStatus::Processed.transition(EventStatus::Failed).unwrap_err();
/// assert_eq!(err, IllegalTransition { from: EventStatus::Processed, to: EventStatus::Failed });
/// assert_eq!(err.to_string(), "eventStatus cannot go from `processed` to `failed`; `processed` is final");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("eventStatus cannot go from `{from}` to `{to}`; {}", allowed(*from))]
pub struct IllegalTransition {
    /// The status the event is in.
    pub from: EventStatus,
    /// The status asked for.
    pub to: EventStatus,
}

/// The status as written in `eventStatus`.
fn wire_name(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Created => "created",
        EventStatus::Processed => "processed",
        EventStatus::Failed => "failed",
        EventStatus::DeadLettered => "deadLettered",
    }
}

fn allowed(from: EventStatus) -> String {
    match from.successors() {
        [] => format!("`{from}` is final"),
        next => {
            let names: Vec<_> = next.iter().map(|s| format!("`{s}`")).collect();
            format!("from `{from}` it may go to {}", names.join(" or "))
        }
    }
}

impl EventStatus {
    /// The statuses this one may move to:
    ///
    /// ```text
    /// created ──▶ processed
    ///    │ ▲
    ///    ▼ │ retry (retryCount + 1)
    ///  failed ──▶ deadLettered
    /// ```
    ///
    /// A retry takes a failed event back to `created`, as the specification's example of an event
    /// delivered again shows (`"eventStatus": "created", "retryCount": 2`). `processed` and
    /// `deadLettered` are final.
    ///
    /// ```
    /// use events::EventStatus::*;
    /// assert_eq!(Created.successors(), [Processed, Failed]);
    /// assert_eq!(Failed.successors(), [Created, DeadLettered]);
    /// assert!(DeadLettered.successors().is_empty());
    /// ```
    pub fn successors(self) -> &'static [EventStatus] {
        use EventStatus::*;
        match self {
            Created => &[Processed, Failed],
            Failed => &[Created, DeadLettered],
            Processed | DeadLettered => &[],
        }
    }

    /// Whether nothing may follow this status.
    ///
    /// ```
    /// assert!(events::EventStatus::Processed.is_final());
    /// assert!(!events::EventStatus::Failed.is_final());
    /// ```
    pub fn is_final(self) -> bool {
        self.successors().is_empty()
    }

    /// The status `to`, if this one may move to it.
    ///
    /// ```
    /// use events::EventStatus;
    /// assert_eq!(EventStatus::Created.transition(EventStatus::Failed), Ok(EventStatus::Failed));
    /// assert!(EventStatus::Created.transition(EventStatus::DeadLettered).is_err());
    /// ```
    pub fn transition(self, to: EventStatus) -> Result<EventStatus, IllegalTransition> {
        if self.successors().contains(&to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for EventStatus {
    /// The wire name: `created`, `processed`, `failed`, `deadLettered`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(wire_name(*self))
    }
}
