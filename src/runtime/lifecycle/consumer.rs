//! The consumer's side: from a handler's result to what happens to the delivery.

use std::time::Duration;

use crate::runtime::envelope::now;
use crate::{
    DeadLetter, Envelope, ErrorInfo, EventContract, EventStatus, Failure, IllegalTransition, Origin, RandomSource,
    RetryPolicy,
};

/// One delivery of an event to a consumer: the event, where it was read from, and the failures of
/// its earlier deliveries (which the transport carries beside the event, as headers for instance).
///
/// ```
/// use events::order_shipped_schema::v1_0::OrderShippedNotificationEvent;
/// use events::{Delivery, ErrorInfo, Failure, Origin};
///
/// let wire = std::fs::read("tests/fixtures/spec/11-OrderShippedNotificationEvent.json").unwrap();
/// let event = OrderShippedNotificationEvent::from_json(&wire).unwrap(); // retryCount 2
/// // The failures of the first two deliveries, as the transport kept them (JSON in a header, say).
/// let header = r#"[
///   {"attempt": 1, "failedAt": "2025-02-25T20:30:01Z", "error": {"type": "&str", "message": "timeout"}},
///   {"attempt": 2, "failedAt": "2025-02-25T20:30:03Z", "error": {"type": "&str", "message": "timeout"}}
/// ]"#;
/// let failures: Vec<Failure> = serde_json::from_str(header).unwrap();
/// let delivery = Delivery::new(event, Origin::new("orders.shipped", "notifications")).with_failures(failures);
/// assert_eq!(delivery.failures[1].error, ErrorInfo::from("timeout"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<P: EventContract> {
    /// The event as delivered.
    pub envelope: Envelope<P>,
    /// Where it was read from.
    pub origin: Origin,
    /// The failures of earlier deliveries, oldest first.
    pub failures: Vec<Failure>,
}

/// What to do with a delivery once handled, with the event as it now stands.
///
/// ```
/// use events::inventory_updated_domain_schema::v1_0::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
/// use events::{Delivery, Disposition, EventStatus, Metadata, Origin, RetryPolicy, SplitMix64};
///
/// let payload = InventoryUpdatedEventPayload { item_id: "ITEM001".into(), new_quantity: 90 };
/// let event = InventoryUpdatedEvent::new(payload, Metadata::new("batchProcessor", "Inventory")).unwrap();
/// let delivery = Delivery::new(event, Origin::new("inventory", "reporting"));
/// let handled: Result<u64, std::io::Error> = Ok(90);
/// match delivery.settle(handled, &RetryPolicy::default(), &mut SplitMix64::from_entropy()).unwrap() {
///     Disposition::Ack(event) => assert_eq!(event.event_status(), EventStatus::Processed),
///     Disposition::Retry { after, envelope, failures } => unreachable!("{after:?} {envelope:?} {failures:?}"),
///     Disposition::DeadLetter(record) => unreachable!("{record:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Disposition<P: EventContract> {
    /// Handled: acknowledge the delivery. The event is `processed`.
    Ack(Envelope<P>),
    /// Failed, and allowed another attempt: publish `envelope` again once `after` has passed, with
    /// `failures` beside it. The event keeps its ids and payload; it is `created` again, with
    /// `retryCount` one higher.
    Retry {
        /// The backoff drawn from the retry policy.
        after: Duration,
        /// The event to deliver again.
        envelope: Envelope<P>,
        /// Every failure so far, this one last.
        failures: Vec<Failure>,
    },
    /// Failed on its last allowed attempt: publish the record to the dead-letter queue. The event
    /// in it is the one delivered, unchanged.
    DeadLetter(DeadLetter<P>),
}

impl<P: EventContract> Disposition<P> {
    /// Where this delivery left the event's lifecycle: `processed`, `failed` (to be retried) or
    /// `deadLettered`; what a store of event statuses would record for it.
    ///
    /// ```
    /// # use events::inventory_updated_domain_schema::v1_0::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
    /// # use events::{Delivery, EventStatus, Metadata, Origin, RetryPolicy, SplitMix64};
    /// # let payload = InventoryUpdatedEventPayload { item_id: "ITEM001".into(), new_quantity: 90 };
    /// # let event = InventoryUpdatedEvent::new(payload, Metadata::new("batchProcessor", "Inventory")).unwrap();
    /// let once = RetryPolicy::new(1, std::time::Duration::ZERO, std::time::Duration::ZERO);
    /// let delivery = Delivery::new(event, Origin::new("inventory", "reporting"));
    /// let next = delivery.settle(Err::<(), _>("disk full"), &once, &mut SplitMix64::new(0)).unwrap();
    /// assert_eq!(next.status(), EventStatus::DeadLettered);
    /// ```
    pub fn status(&self) -> EventStatus {
        match self {
            Disposition::Ack(_) => EventStatus::Processed,
            Disposition::Retry { .. } => EventStatus::Failed,
            Disposition::DeadLetter(_) => EventStatus::DeadLettered,
        }
    }
}

impl<P: EventContract> Delivery<P> {
    /// A first delivery, or one whose earlier failures are not known.
    pub fn new(envelope: Envelope<P>, origin: Origin) -> Self {
        Delivery { envelope, origin, failures: Vec::new() }
    }

    /// The same delivery, after these earlier failures (oldest first).
    pub fn with_failures(mut self, failures: Vec<Failure>) -> Self {
        self.failures = failures;
        self
    }

    /// Decides what follows the handler's `result`:
    ///
    /// - `Ok`: the event moves `created` → `processed`, [`Disposition::Ack`];
    /// - `Err` while the policy allows another attempt: `created` → `failed` → `created` with
    ///   `retryCount` + 1, [`Disposition::Retry`] after a backoff drawn with `rng`;
    /// - `Err` on the last attempt: `created` → `failed` → `deadLettered`,
    ///   [`Disposition::DeadLetter`] with the event as delivered.
    ///
    /// Only a `created` event can be handled; another status is an [`IllegalTransition`], and the
    /// delivery is gone with it: look at `envelope.event_status()` first to keep it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use events::order_created_schema::v1_0::OrderCreatedEvent;
    /// use events::{Delivery, Disposition, EventStatus, Origin, RetryPolicy, SplitMix64};
    ///
    /// fn handle(_event: &OrderCreatedEvent) -> Result<(), String> {
    ///     Err("payment service timed out".into())
    /// }
    ///
    /// let wire = std::fs::read("tests/fixtures/spec/05-OrderCreatedEvent.json").unwrap();
    /// let event = OrderCreatedEvent::from_json(&wire).unwrap();
    /// let policy = RetryPolicy::new(2, Duration::from_millis(10), Duration::from_secs(1));
    /// let mut rng = SplitMix64::new(1);
    ///
    /// let first = Delivery::new(event.clone(), Origin::new("orders", "billing"));
    /// let result = handle(&first.envelope);
    /// let Disposition::Retry { envelope, failures, .. } = first.settle(result, &policy, &mut rng).unwrap() else {
    ///     panic!("one retry is allowed");
    /// };
    /// assert_eq!((envelope.event_id(), envelope.retry_count()), (event.event_id(), 1));
    ///
    /// let second = Delivery::new(envelope, Origin::new("orders", "billing")).with_failures(failures);
    /// let result = handle(&second.envelope);
    /// let Disposition::DeadLetter(record) = second.settle(result, &policy, &mut rng).unwrap() else {
    ///     panic!("two attempts, then a dead letter");
    /// };
    /// assert_eq!((record.attempts, record.failures.len()), (2, 2));
    /// assert_eq!(record.event.event_status(), EventStatus::Created); // as delivered
    /// ```
    pub fn settle<T, E: Into<ErrorInfo>>(
        self,
        result: Result<T, E>,
        policy: &RetryPolicy,
        rng: &mut impl RandomSource,
    ) -> Result<Disposition<P>, IllegalTransition> {
        let Delivery { mut envelope, origin, mut failures } = self;
        let error = match result {
            Ok(_) => {
                envelope.transition(EventStatus::Processed)?;
                return Ok(Disposition::Ack(envelope));
            }
            Err(error) => error.into(),
        };
        let failed = envelope.event_status().transition(EventStatus::Failed)?;
        let failure = Failure::new(envelope.retry_count().saturating_add(1), now(), error);
        if policy.allows_retry(envelope.retry_count()) {
            envelope.transition(EventStatus::Failed)?;
            envelope.transition(EventStatus::Created)?;
            failures.push(failure);
            Ok(Disposition::Retry { after: policy.delay(envelope.retry_count(), rng), envelope, failures })
        } else {
            // The record keeps the event as delivered; the lifecycle check is on its status alone.
            failed.transition(EventStatus::DeadLettered)?;
            Ok(Disposition::DeadLetter(DeadLetter::new(envelope, origin, failures, failure)))
        }
    }
}
