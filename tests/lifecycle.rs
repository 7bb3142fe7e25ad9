//! An event's lifecycle after publication: `eventStatus` transitions, retries with backoff and
//! jitter, dead-letter records, and what a consumer does after each handled delivery.

mod common;

use std::time::Duration;

use chrono::Utc;
use events::inventory_updated_domain_schema::v1_0::{InventoryUpdatedEvent, InventoryUpdatedEventPayload};
use events::order_shipped_schema::v1_0::{OrderShippedNotificationEvent, OrderShippedNotificationEventPayload};
use events::{
    AnyEvent, DeadLetter, DecodeError, Delivery, Disposition, ErrorInfo, EventStatus, Failure, IllegalTransition,
    Jitter, Metadata, Origin, RandomSource, RetryPolicy, SplitMix64,
};
use proptest::prelude::*;
use serde_json::{json, Value};

use EventStatus::{Created, DeadLettered, Failed, Processed};

const ALL: [EventStatus; 4] = [Created, Processed, Failed, DeadLettered];

/// The specification's OrderShippedNotificationEvent, with the given status and retry count.
fn shipped(status: &str, retry_count: u32) -> OrderShippedNotificationEvent {
    let mut v = common::spec_examples().into_iter().find(|(n, _)| n.starts_with("10-")).unwrap().1;
    v["eventStatus"] = json!(status);
    v["retryCount"] = json!(retry_count);
    OrderShippedNotificationEvent::from_json(v.to_string().as_bytes()).unwrap()
}

fn inventory() -> InventoryUpdatedEvent {
    let payload = InventoryUpdatedEventPayload { item_id: "ITEM001".into(), new_quantity: 90 };
    InventoryUpdatedEvent::new(payload, Metadata::new("batchProcessor", "InventoryManagementSystem").with("run", 7))
        .unwrap()
        .with_tag("nightly")
}

fn origin() -> Origin {
    Origin::new("orders.shipped", "notification-service").at(3, 1042).on_host("notify-1")
}

/// An envelope's JSON without the two fields a retry may change.
fn without_lifecycle(json: String) -> Value {
    let mut v: Value = serde_json::from_str(&json).unwrap();
    let m = v.as_object_mut().unwrap();
    m.remove("eventStatus").unwrap();
    m.remove("retryCount").unwrap();
    v
}

// ---- eventStatus -------------------------------------------------------------------------------

#[test]
fn the_allowed_transitions_are_exactly_those_of_the_lifecycle() {
    let allowed = [(Created, Processed), (Created, Failed), (Failed, Created), (Failed, DeadLettered)];
    for from in ALL {
        for to in ALL {
            let legal = allowed.contains(&(from, to));
            assert_eq!(from.transition(to).is_ok(), legal, "{from} -> {to}");
            if !legal {
                assert_eq!(from.transition(to), Err(IllegalTransition { from, to }));
            }
        }
    }
    assert!(Processed.is_final() && DeadLettered.is_final());
    assert!(!Created.is_final() && !Failed.is_final());
}

#[test]
fn an_illegal_transition_names_both_statuses() {
    let err = Created.transition(DeadLettered).unwrap_err();
    assert_eq!(
        err.to_string(),
        "eventStatus cannot go from `created` to `deadLettered`; from `created` it may go to `processed` or `failed`"
    );
    let err = DeadLettered.transition(Created).unwrap_err();
    assert_eq!(err.to_string(), "eventStatus cannot go from `deadLettered` to `created`; `deadLettered` is final");
    // A typed error, usable with `?` in any error type that boxes std errors.
    let _: Box<dyn std::error::Error> = Box::new(err);
}

#[test]
fn an_illegal_transition_leaves_the_envelope_as_it_was() {
    for (status, to) in [("processed", Failed), ("deadLettered", Created), ("created", Created), ("failed", Processed)]
    {
        let mut event = shipped(status, 2);
        let before = event.clone();
        let err = event.transition(to).unwrap_err();
        assert_eq!((err.from.to_string(), err.to), (status.to_string(), to));
        assert_eq!(event, before);
    }
}

#[test]
fn only_a_retry_counts_in_retry_count() {
    let mut event = inventory();
    event.transition(Failed).unwrap();
    assert_eq!((event.event_status(), event.retry_count()), (Failed, 0));
    event.transition(Created).unwrap();
    assert_eq!((event.event_status(), event.retry_count()), (Created, 1));
    event.transition(Failed).unwrap();
    event.transition(Created).unwrap();
    event.transition(Processed).unwrap();
    assert_eq!((event.event_status(), event.retry_count()), (Processed, 2));

    let mut gave_up = inventory();
    gave_up.transition(Failed).unwrap();
    gave_up.transition(DeadLettered).unwrap();
    assert_eq!((gave_up.event_status(), gave_up.retry_count()), (DeadLettered, 0));
}

#[test]
fn a_retried_event_keeps_everything_but_its_status_and_retry_count() {
    let first = shipped("created", 0);
    let mut retried = first.clone();
    retried.transition(Failed).unwrap();
    retried.transition(Created).unwrap();
    assert_eq!(retried.event_id(), first.event_id());
    assert_eq!(retried.correlation_id(), first.correlation_id());
    assert_eq!(retried.causation_id(), first.causation_id());
    assert_eq!(retried.command_id(), first.command_id());
    assert_eq!(retried.timestamp(), first.timestamp());
    assert_eq!(without_lifecycle(retried.to_json()), without_lifecycle(first.to_json()));
    assert_eq!(retried.retry_count(), 1);
}

#[test]
fn retry_count_stops_at_its_maximum() {
    let mut event = shipped("failed", u32::MAX);
    event.transition(Created).unwrap();
    assert_eq!(event.retry_count(), u32::MAX);
}

#[test]
fn every_status_is_read_and_written_by_its_wire_name() {
    for (status, wire) in
        [(Created, "created"), (Processed, "processed"), (Failed, "failed"), (DeadLettered, "deadLettered")]
    {
        let event = shipped(wire, 1);
        assert_eq!(event.event_status(), status);
        assert_eq!(status.to_string(), wire);
        let json: Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(json["eventStatus"], wire);
    }
}

#[test]
fn an_unknown_status_is_refused_at_its_pointer() {
    for wire in ["dead_lettered", "deadlettered", "retrying", "Created"] {
        let mut v = common::order_created();
        v["eventStatus"] = json!(wire);
        let err = AnyEvent::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, DecodeError::Invalid { .. }), "{wire}: {err}");
        assert_eq!(err.pointer(), Some("/eventStatus"), "{wire}");
    }
}

// ---- retry policy ------------------------------------------------------------------------------

#[test]
fn split_mix_64_gives_the_reference_sequence() {
    // The first outputs of the reference implementation for seed 1234567.
    let mut rng = SplitMix64::new(1234567);
    let first: Vec<u64> = (0..5).map(|_| rng.next_u64()).collect();
    assert_eq!(
        first,
        [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821]
    );
}

#[test]
fn attempts_count_the_first_delivery() {
    let policy = RetryPolicy::new(3, Duration::from_secs(1), Duration::from_secs(10));
    assert_eq!(policy.max_attempts(), 3);
    assert!(policy.allows_retry(0) && policy.allows_retry(1));
    assert!(!policy.allows_retry(2) && !policy.allows_retry(u32::MAX));
    // No retries at all: the first delivery is the only one, and 0 attempts means that too.
    for n in [0, 1] {
        let once = RetryPolicy::new(n, Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(once.max_attempts(), 1);
        assert!(!once.allows_retry(0));
    }
    assert!(RetryPolicy::new(u32::MAX, Duration::ZERO, Duration::ZERO).allows_retry(u32::MAX - 2));
}

#[test]
fn backoff_doubles_from_the_base_up_to_the_cap() {
    let policy = RetryPolicy::new(20, Duration::from_millis(100), Duration::from_secs(5)).with_jitter(Jitter::None);
    let ms: Vec<u128> = (0..=8).map(|n| policy.backoff(n).as_millis()).collect();
    assert_eq!(ms, [0, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    let mut rng = SplitMix64::new(0);
    assert!((0..=8).all(|n| policy.delay(n, &mut rng) == policy.backoff(n)));
}

#[test]
fn extreme_policies_neither_overflow_nor_panic() {
    let mut rng = SplitMix64::new(9);
    let huge = RetryPolicy::new(u32::MAX, Duration::MAX, Duration::MAX);
    assert_eq!(huge.backoff(1), Duration::from_nanos(u64::MAX));
    assert_eq!(huge.backoff(u32::MAX), Duration::from_nanos(u64::MAX));
    assert!(huge.delay(u32::MAX, &mut rng) <= Duration::from_nanos(u64::MAX));
    let zero = RetryPolicy::new(5, Duration::ZERO, Duration::from_secs(1));
    assert_eq!(zero.backoff(200), Duration::ZERO);
    let capped_low = RetryPolicy::new(5, Duration::from_secs(10), Duration::from_secs(1));
    assert_eq!(capped_low.backoff(1), Duration::from_secs(1));
}

#[test]
fn the_same_seed_gives_the_same_delays() {
    let policy = RetryPolicy::default();
    let delays = |seed| {
        let mut rng = SplitMix64::new(seed);
        (1..=5).map(|n| policy.delay(n, &mut rng)).collect::<Vec<_>>()
    };
    assert_eq!(delays(42), delays(42));
    assert_ne!(delays(42), delays(43));
}

#[test]
fn full_jitter_spreads_over_the_whole_range() {
    // Statistics on a fixed seed: a check that the draw is uniform-ish, not a flaky test.
    let policy = RetryPolicy::new(5, Duration::from_secs(1), Duration::from_secs(60));
    let mut rng = SplitMix64::new(2024);
    let d = policy.backoff(4).as_secs_f64();
    let samples: Vec<f64> = (0..10_000).map(|_| policy.delay(4, &mut rng).as_secs_f64() / d).collect();
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    for decile in 0..10 {
        let lo = decile as f64 / 10.0;
        let n = samples.iter().filter(|&&x| x >= lo && x < lo + 0.1).count();
        assert!((800..1200).contains(&n), "decile {decile}: {n}");
    }
}

fn policies() -> impl Strategy<Value = RetryPolicy> {
    (
        0u32..20,
        0u64..=5_000_000_000,
        0u64..=600_000_000_000,
        prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)],
    )
        .prop_map(|(attempts, base, cap, jitter)| {
            RetryPolicy::new(attempts, Duration::from_nanos(base), Duration::from_nanos(cap)).with_jitter(jitter)
        })
}

proptest! {
    #[test]
    fn every_delay_is_within_zero_and_the_cap(policy in policies(), retry in 0u32..100, seed: u64) {
        let delay = policy.delay(retry, &mut SplitMix64::new(seed));
        prop_assert!(delay <= policy.backoff(retry));
        prop_assert!(policy.backoff(retry) <= policy.cap());
    }

    #[test]
    fn full_jitter_is_within_zero_and_the_backoff(policy in policies(), retry in 1u32..100, seed: u64) {
        let policy = policy.with_jitter(Jitter::Full);
        let delay = policy.delay(retry, &mut SplitMix64::new(seed));
        prop_assert!(delay <= policy.backoff(retry));
    }

    #[test]
    fn equal_jitter_keeps_at_least_half_the_backoff(policy in policies(), retry in 1u32..100, seed: u64) {
        let policy = policy.with_jitter(Jitter::Equal);
        let (delay, d) = (policy.delay(retry, &mut SplitMix64::new(seed)), policy.backoff(retry));
        prop_assert!(delay >= d / 2 && delay <= d, "{delay:?} outside [{:?}, {d:?}]", d / 2);
    }

    #[test]
    fn without_jitter_the_delay_is_the_backoff(policy in policies(), retry in 0u32..100, seed: u64) {
        let policy = policy.with_jitter(Jitter::None);
        prop_assert_eq!(policy.delay(retry, &mut SplitMix64::new(seed)), policy.backoff(retry));
    }

    #[test]
    fn backoff_never_shrinks_and_doubles_below_the_cap(policy in policies(), retry in 1u32..100) {
        let (d, next) = (policy.backoff(retry), policy.backoff(retry + 1));
        prop_assert!(next >= d);
        prop_assert_eq!(next, (d * 2).min(policy.cap()));
        prop_assert_eq!(policy.backoff(1), policy.base().min(policy.cap()));
    }

    #[test]
    fn a_seed_replays_its_delays(policy in policies(), seed: u64) {
        let run = || {
            let mut rng = SplitMix64::new(seed);
            (1..10).map(|n| policy.delay(n, &mut rng)).collect::<Vec<_>>()
        };
        prop_assert_eq!(run(), run());
    }

    #[test]
    fn below_or_at_stays_in_range(max: u64, seed: u64) {
        prop_assert!(SplitMix64::new(seed).below_or_at(max) <= max);
    }
}

// ---- dead letters ------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
#[error("could not send the shipping notification")]
struct Notify(#[source] std::io::Error);

fn notify_error() -> Notify {
    Notify(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "smtp relay refused the connection"))
}

#[test]
fn error_info_keeps_type_message_and_sources() {
    let info = ErrorInfo::from_error(&notify_error());
    assert_eq!(info.error_type, "lifecycle::Notify");
    assert_eq!(info.message, "could not send the shipping notification");
    assert_eq!(info.causes, ["smtp relay refused the connection"]);

    let plain: ErrorInfo = notify_error().into();
    assert_eq!((plain.error_type.as_str(), plain.causes.len()), ("lifecycle::Notify", 0));
    let text: ErrorInfo = "carrier API down".into();
    assert_eq!((text.error_type.as_str(), text.message.as_str()), ("&str", "carrier API down"));
}

#[test]
fn a_dead_letter_holds_the_event_unchanged_and_every_failure() {
    let event = shipped("created", 2);
    let t = |s: &str| s.parse().unwrap();
    let earlier = vec![
        Failure::new(1, t("2025-02-25T20:30:01Z"), "timeout".into()),
        Failure::new(2, t("2025-02-25T20:30:03Z"), "timeout".into()),
    ];
    let last = Failure::new(3, t("2025-02-25T20:30:07Z"), ErrorInfo::from_error(&notify_error()));
    let before = Utc::now();
    let record = DeadLetter::new(event.clone(), origin(), earlier, last.clone());

    assert_eq!(record.event, event);
    assert_eq!(record.reason, last.error);
    assert_eq!(record.attempts, 3);
    assert_eq!(record.failures.iter().map(|f| f.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(record.failures.last(), Some(&last));
    assert_eq!(record.origin, origin());
    assert!(record.dead_lettered_at >= before && record.dead_lettered_at <= Utc::now());
}

#[test]
fn a_dead_letter_is_json_and_reads_back() {
    let event = shipped("created", 0);
    let failure = Failure::new(1, "2025-02-25T20:30:01.250Z".parse().unwrap(), ErrorInfo::from_error(&notify_error()));
    let record = DeadLetter::new(event.clone(), origin(), vec![], failure);
    let json = serde_json::to_value(&record).unwrap();

    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    for key in ["event", "reason", "attempts", "failures", "origin", "deadLetteredAt"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(json["event"], serde_json::from_str::<Value>(&event.to_json()).unwrap());
    assert_eq!(
        json["reason"],
        json!({
            "type": "lifecycle::Notify",
            "message": "could not send the shipping notification",
            "causes": ["smtp relay refused the connection"]
        })
    );
    assert_eq!(json["failures"][0]["failedAt"], "2025-02-25T20:30:01.250Z");
    assert_eq!(
        json["origin"],
        json!({ "queue": "orders.shipped", "partition": 3, "offset": 1042, "endpoint": "notification-service", "host": "notify-1" })
    );

    let back: DeadLetter<_> = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, record);
    let text = serde_json::to_string_pretty(&record).unwrap();
    assert_eq!(serde_json::from_str::<DeadLetter<_>>(&text).unwrap(), record);
}

#[test]
fn a_dead_letter_is_read_as_strictly_as_its_event() {
    let failure = Failure::new(1, Utc::now(), "timeout".into());
    let record = DeadLetter::new(shipped("created", 0), origin(), vec![], failure);
    let good = serde_json::to_value(&record).unwrap();

    let mut bad_event = good.clone();
    bad_event["event"]["payload"]["carrier"] = json!("");
    let err = serde_json::from_value::<DeadLetter<OrderShippedNotificationEventPayload>>(bad_event).unwrap_err();
    assert!(err.to_string().contains("/payload/carrier"), "{err}");

    let mut unknown = good.clone();
    unknown["retries"] = json!(3);
    assert!(serde_json::from_value::<DeadLetter<OrderShippedNotificationEventPayload>>(unknown).is_err());

    let mut minimal_origin = good;
    minimal_origin["origin"] = json!({ "queue": "q", "endpoint": "e" });
    let back: DeadLetter<OrderShippedNotificationEventPayload> = serde_json::from_value(minimal_origin).unwrap();
    assert_eq!(back.origin, Origin::new("q", "e"));
}

// ---- consumer ----------------------------------------------------------------------------------

/// A handler's failure; a real handler's result names its success type.
fn failed<E>(error: E) -> Result<(), E> {
    Err(error)
}

fn policy(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(attempts, Duration::from_millis(100), Duration::from_secs(2))
}

#[test]
fn success_acknowledges_a_processed_event() {
    let event = shipped("created", 1);
    let next = Delivery::new(event.clone(), origin()).settle(Ok::<_, String>(()), &policy(3), &mut SplitMix64::new(1));
    let Ok(Disposition::Ack(done)) = next else { panic!("{next:?}") };
    assert_eq!(done.event_status(), Processed);
    assert_eq!(done.retry_count(), 1);
    assert_eq!(without_lifecycle(done.to_json()), without_lifecycle(event.to_json()));
}

#[test]
fn a_failure_with_attempts_left_is_retried_after_a_backoff() {
    let event = shipped("created", 1);
    let policy = policy(5).with_jitter(Jitter::Equal);
    let earlier = vec![Failure::new(1, Utc::now(), "timeout".into())];
    let before = Utc::now();
    let next = Delivery::new(event.clone(), origin())
        .with_failures(earlier.clone())
        .settle(failed("timeout again"), &policy, &mut SplitMix64::new(7))
        .unwrap();
    assert_eq!(next.status(), Failed);
    let Disposition::Retry { after, envelope, failures } = next else { panic!("expected a retry") };

    assert_eq!((envelope.event_status(), envelope.retry_count()), (Created, 2));
    assert_eq!(envelope.event_id(), event.event_id());
    assert_eq!(envelope.correlation_id(), event.correlation_id());
    assert_eq!(envelope.causation_id(), event.causation_id());
    assert_eq!(without_lifecycle(envelope.to_json()), without_lifecycle(event.to_json()));

    assert_eq!(after, policy.delay(2, &mut SplitMix64::new(7)));
    assert!(after >= policy.backoff(2) / 2 && after <= policy.backoff(2));
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0], earlier[0]);
    assert_eq!((failures[1].attempt, failures[1].error.message.as_str()), (2, "timeout again"));
    assert!(failures[1].failed_at >= before && failures[1].failed_at <= Utc::now());
}

#[test]
fn the_last_failure_makes_a_dead_letter_of_the_delivered_event() {
    let event = shipped("created", 2);
    let next = Delivery::new(event.clone(), origin())
        .settle(failed(notify_error()), &policy(3), &mut SplitMix64::new(1))
        .unwrap();
    assert_eq!(next.status(), DeadLettered);
    let Disposition::DeadLetter(record) = next else { panic!("expected a dead letter") };
    assert_eq!(record.event, event);
    assert_eq!(record.attempts, 3);
    assert_eq!(record.reason.message, "could not send the shipping notification");
    assert_eq!(record.failures.len(), 1); // earlier failures were not passed on
    assert_eq!(record.failures[0].attempt, 3);
    assert_eq!(record.origin, origin());
}

#[test]
fn one_attempt_only_dead_letters_the_first_failure() {
    let next = Delivery::new(inventory(), origin()).settle(failed("no"), &policy(1), &mut SplitMix64::new(1)).unwrap();
    assert!(matches!(next, Disposition::DeadLetter(ref r) if r.attempts == 1));
}

#[test]
fn only_a_created_event_can_be_settled() {
    let mut rng = SplitMix64::new(1);
    for status in ["processed", "failed", "deadLettered"] {
        let ok = Delivery::new(shipped(status, 0), origin()).settle(Ok::<_, String>(()), &policy(3), &mut rng);
        assert_eq!(ok.unwrap_err().to, Processed, "{status}");
        let err = Delivery::new(shipped(status, 0), origin()).settle(failed("x"), &policy(3), &mut rng);
        assert_eq!(err.unwrap_err().to, Failed, "{status}");
    }
}

/// Delivers `event` until it is acknowledged or dead-lettered, failing the first `failing` attempts;
/// returns the outcome and the delays waited.
fn run(
    event: OrderShippedNotificationEvent,
    failing: u32,
    policy: &RetryPolicy,
    seed: u64,
) -> (Disposition<OrderShippedNotificationEventPayload>, Vec<Duration>) {
    let mut rng = SplitMix64::new(seed);
    let (mut delivery, mut waits) = (Delivery::new(event, origin()), vec![]);
    loop {
        let result = if delivery.envelope.retry_count() < failing { Err("carrier API down") } else { Ok(()) };
        match delivery.settle(result, policy, &mut rng).unwrap() {
            Disposition::Retry { after, envelope, failures } => {
                waits.push(after);
                delivery = Delivery::new(envelope, origin()).with_failures(failures);
            }
            done => return (done, waits),
        }
    }
}

#[test]
fn a_retry_loop_ends_in_an_ack_once_the_handler_recovers() {
    let event = shipped("created", 0);
    let (done, waits) = run(event.clone(), 2, &policy(5), 3);
    let Disposition::Ack(done) = done else { panic!("expected an ack") };
    assert_eq!((done.event_status(), done.retry_count(), done.event_id()), (Processed, 2, event.event_id()));
    assert_eq!(waits.len(), 2);
}

#[test]
fn a_retry_loop_dead_letters_after_max_attempts_with_each_failure_time() {
    let event = shipped("created", 0);
    let policy = policy(4);
    let (done, waits) = run(event.clone(), u32::MAX, &policy, 11);
    let Disposition::DeadLetter(record) = done else { panic!("expected a dead letter") };
    assert_eq!(record.attempts, 4);
    assert_eq!(record.failures.iter().map(|f| f.attempt).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(record.failures.windows(2).all(|w| w[0].failed_at <= w[1].failed_at));
    assert_eq!(record.event.retry_count(), 3);
    assert_eq!(without_lifecycle(record.event.to_json()), without_lifecycle(event.to_json()));
    // The waits are the policy's, drawn in order from the same seed.
    let mut rng = SplitMix64::new(11);
    assert_eq!(waits, (1..=3).map(|n| policy.delay(n, &mut rng)).collect::<Vec<_>>());
    assert_eq!(run(event, u32::MAX, &policy, 11).1, waits);
}

proptest! {
    #[test]
    fn a_failure_is_retried_exactly_while_attempts_remain(attempts in 0u32..8, retry_count in 0u32..10, seed: u64) {
        let policy = policy(attempts);
        let next = Delivery::new(shipped("created", retry_count), origin())
            .settle(failed("down"), &policy, &mut SplitMix64::new(seed))
            .unwrap();
        match next {
            Disposition::Retry { envelope, after, .. } => {
                prop_assert!(retry_count + 1 < policy.max_attempts());
                prop_assert_eq!(envelope.retry_count(), retry_count + 1);
                prop_assert!(after <= policy.backoff(retry_count + 1));
            }
            Disposition::DeadLetter(record) => {
                prop_assert!(retry_count + 1 >= policy.max_attempts());
                prop_assert_eq!(record.attempts, retry_count + 1);
            }
            Disposition::Ack(_) => prop_assert!(false, "a failure is never acknowledged"),
        }
    }
}
