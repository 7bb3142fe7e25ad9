//! The broker's side of the registry's access rules: a `nats-server` (2.9) authorization block with
//! one user per service, allowed exactly what the transport does for it and nothing more.
//!
//! What a service may do, and why each permission is shaped as it is:
//! - publish the events and commands it is a publisher of, one exact subject each;
//! - create its durable consumers only through JetStream's filtered create subject,
//!   `$JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter>`, with the filter of one contract it may
//!   read: the server refuses a create whose body asks for another filter, so a consumer can never
//!   be widened to events it may not read. Wildcard filters are never granted: they would also
//!   deliver events added to the registry later. The unfiltered create forms are denied;
//! - pull, acknowledge and look up its own consumers only, and keep its failures, processed ids and
//!   dead letters under keys and subjects named after its consumers;
//! - read its own dead letters through a consumer named after the one that failed them;
//! - receive replies only on an inbox of its own (`_INBOX_<service>`), so that it never sees
//!   another client's pull deliveries;
//! - nothing else: no stream reads by sequence (`MSG.GET`, `DIRECT.GET` on the streams), no
//!   stream or bucket creation, no core subscriptions to `events.>`.
//!
//! Operators have no restrictions: they set up the streams, read everything and replay.

use std::collections::BTreeSet;
use std::fmt::Write;

use events::EventType;

use crate::subject::{
    self, command_subject, event_subject, COMMANDS_STREAM, DEAD_LETTERS_STREAM, EVENTS_STREAM, FAILURES_BUCKET,
    PROCESSED_BUCKET_PREFIX,
};

/// The registry's access rules as data: from the compiled registry (`Policy::from(&events::ACCESS)`)
/// or from a registry folder read by a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Every service.
    pub services: Vec<String>,
    /// Services that may do everything.
    pub operators: Vec<String>,
    /// One rule per contract.
    pub rules: Vec<Rule>,
}

/// Why the access rules refuse a consumer; match on its [`kind`](events::Error::kind).
pub type AccessError = events::Error<AccessErrorKind>;

/// The kinds of [`AccessError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessErrorKind {
    /// The filter is a wildcard: it would also deliver contracts added later.
    Wildcard,
    /// No contract of the registry travels on the filter's subject.
    UnknownSubject,
    /// The service is not among the contract's readers.
    NotAReader,
    /// The consumer is not named after the service (`<service>` or `<service>-<contract>`).
    ConsumerName,
    /// Two registries that share a broker state rules for the same subject.
    Conflict,
}

/// Who may publish and read one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `eventName` or `commandName`.
    pub name: String,
    /// The event's type; `None` for a command.
    pub event_type: Option<EventType>,
    /// Services that may publish it.
    pub publishers: Vec<String>,
    /// Services that may read it.
    pub consumers: Vec<String>,
}

impl Rule {
    /// The subject it travels on.
    pub fn subject(&self) -> String {
        match self.event_type {
            Some(t) => event_subject(t, &self.name),
            None => command_subject(&self.name),
        }
    }

    /// The stream that holds it.
    pub fn stream(&self) -> &'static str {
        if self.event_type.is_some() {
            EVENTS_STREAM
        } else {
            COMMANDS_STREAM
        }
    }
}

impl Policy {
    /// The rules of several registries on one broker (a service of two registry crates): their
    /// services, operators and rules together. Two registries with a rule for the same subject
    /// are refused, since one broker cannot tell their messages apart.
    ///
    /// ```
    /// use events_broker::authorization::Policy;
    /// let shipped = Policy::from(&events::ACCESS);
    /// assert_eq!(shipped.clone().merge(Policy { services: vec!["BillingService".into()], operators: vec![], rules: vec![] }).unwrap().services.len(), shipped.services.len() + 1);
    /// let err = shipped.clone().merge(shipped).unwrap_err();
    /// assert_eq!(err.kind(), events_broker::authorization::AccessErrorKind::Conflict);
    /// assert!(err.to_string().contains("commands.CreateOrderCommand"), "{err}");
    /// ```
    pub fn merge(mut self, other: Policy) -> Result<Policy, AccessError> {
        for rule in &other.rules {
            if self.rules.iter().any(|r| r.subject() == rule.subject()) {
                return Err(AccessError::new(
                    AccessErrorKind::Conflict,
                    format!("two registries have a contract on {}: rename one of them", rule.subject()),
                ));
            }
        }
        self.rules.extend(other.rules);
        self.rules.sort_by(|a, b| a.name.cmp(&b.name));
        for (mine, theirs) in [(&mut self.services, other.services), (&mut self.operators, other.operators)] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
        }
        Ok(self)
    }

    /// Whether `service` is an operator.
    pub fn is_operator(&self, service: &str) -> bool {
        self.operators.iter().any(|o| o == service)
    }

    /// The rule whose subject is `subject`.
    pub fn rule_for_subject(&self, subject: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.subject() == subject)
    }

    /// Every service and operator, sorted: the users of the broker.
    pub fn users(&self) -> Vec<&str> {
        let all: BTreeSet<&str> = self.services.iter().chain(&self.operators).map(String::as_str).collect();
        all.into_iter().collect()
    }

    /// The consumer names `service` may use for `rule`: its own name, or `<service>-<contract>`
    /// (for a second consumer on the same stream).
    pub fn consumer_names(service: &str, rule: &Rule) -> [String; 2] {
        [service.to_string(), format!("{service}-{}", rule.name)]
    }

    /// Whether `service` may run consumer `consumer` with `filter`, as its permissions allow: the
    /// filter names one contract it may read (no wildcard: that would also deliver contracts added
    /// later), and the consumer is named after the service (`<service>` or `<service>-<contract>`).
    /// Operators may run any consumer. The error says which rule is broken.
    ///
    /// ```
    /// let policy = events_broker::authorization::Policy::from(&events::ACCESS);
    /// let stock = "events.integration.InventoryUpdatedIntegrationEvent";
    /// assert!(policy.may_consume("PaymentService", "PaymentService", stock).is_ok());
    /// let err = policy.may_consume("NotificationService", "NotificationService", stock).unwrap_err();
    /// assert_eq!(err.kind(), events_broker::authorization::AccessErrorKind::NotAReader);
    /// assert!(err.to_string().contains("may not read InventoryUpdatedIntegrationEvent"), "{err}");
    /// assert!(policy.may_consume("PaymentService", "PaymentService", "events.integration.>").is_err());
    /// ```
    pub fn may_consume(&self, service: &str, consumer: &str, filter: &str) -> Result<(), AccessError> {
        if self.is_operator(service) {
            return Ok(());
        }
        if filter.split('.').any(|t| t == "*" || t == ">") {
            return Err(AccessError::new(
                AccessErrorKind::Wildcard,
                format!(
                    "consumer {consumer}: the filter {filter:?} is a wildcard; under the registry's access rules a \
                 consumer reads one contract's subject (`events.<type>.<Name>` or `commands.<Name>`), so that \
                 contracts added later never reach it unasked"
                ),
            ));
        }
        let rule = self.rule_for_subject(filter).ok_or_else(|| {
            AccessError::new(
                AccessErrorKind::UnknownSubject,
                format!("consumer {consumer}: no contract of the registry is published on {filter:?}"),
            )
        })?;
        if !rule.consumers.iter().any(|c| c == service) {
            return Err(AccessError::new(
                AccessErrorKind::NotAReader,
                format!(
                    "service {service} may not read {}: its readers are {} (the registry's `consumers`)",
                    rule.name,
                    if rule.consumers.is_empty() {
                        "nobody but the operators".to_string()
                    } else {
                        rule.consumers.join(", ")
                    }
                ),
            ));
        }
        let names = Self::consumer_names(service, rule);
        if !names.iter().any(|n| n == consumer) {
            return Err(AccessError::new(
                AccessErrorKind::ConsumerName,
                format!(
                    "consumer {consumer}: a consumer of {service} reading {} is named `{}` or `{}`, the names its \
                 broker permissions allow",
                    rule.name, names[0], names[1]
                ),
            ));
        }
        Ok(())
    }

    /// What `service` may publish to and subscribe to; `None` for an operator (no restrictions).
    ///
    /// ```
    /// let policy = events_broker::authorization::Policy::from(&events::ACCESS);
    /// let p = policy.permissions("PaymentService").unwrap();
    /// let create = "$JS.API.CONSUMER.CREATE.EVENTS.PaymentService.events.integration.InventoryUpdatedIntegrationEvent";
    /// assert!(p.publish_allow.iter().any(|s| s == create));
    /// assert!(!p.publish_allow.iter().any(|s| s.contains("OrderCreatedEvent")));
    /// assert_eq!(p.subscribe_allow, ["_INBOX_PaymentService.>"]);
    /// assert!(policy.permissions("Operator").is_none());
    /// ```
    pub fn permissions(&self, service: &str) -> Option<Permissions> {
        if self.is_operator(service) {
            return None;
        }
        let mut allow: Vec<String> = [EVENTS_STREAM, COMMANDS_STREAM, DEAD_LETTERS_STREAM]
            .iter()
            .map(|s| format!("$JS.API.STREAM.INFO.{s}"))
            .chain([format!("$JS.API.STREAM.INFO.KV_{FAILURES_BUCKET}")])
            .collect();
        for rule in self.rules.iter().filter(|r| r.publishers.iter().any(|p| p == service)) {
            allow.push(rule.subject());
        }
        let mut consumers = BTreeSet::new();
        for rule in self.rules.iter().filter(|r| r.consumers.iter().any(|c| c == service)) {
            let (stream, filter) = (rule.stream(), rule.subject());
            for name in Self::consumer_names(service, rule) {
                allow.push(format!("$JS.API.CONSUMER.CREATE.{stream}.{name}.{filter}"));
                allow.push(format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}"));
                allow.push(format!("$JS.API.CONSUMER.INFO.{stream}.{name}"));
                allow.push(format!("$JS.ACK.{stream}.{name}.>"));
                consumers.insert(name);
            }
        }
        for name in &consumers {
            let processed = format!("{PROCESSED_BUCKET_PREFIX}{name}");
            allow.extend([
                format!("$KV.{FAILURES_BUCKET}.{name}.>"),
                format!("$JS.API.DIRECT.GET.KV_{FAILURES_BUCKET}.$KV.{FAILURES_BUCKET}.{name}.>"),
                subject::dead_letter_subject(name, ">"),
                format!("$JS.API.STREAM.INFO.KV_{processed}"),
                format!("$KV.{processed}.>"),
                format!("$JS.API.DIRECT.GET.KV_{processed}.$KV.{processed}.>"),
                // Its own dead letters, through a consumer named after the one that failed them.
                format!(
                    "$JS.API.CONSUMER.CREATE.{DEAD_LETTERS_STREAM}.{name}.{}",
                    subject::dead_letter_subject(name, ">")
                ),
                format!("$JS.API.CONSUMER.MSG.NEXT.{DEAD_LETTERS_STREAM}.{name}"),
                format!("$JS.API.CONSUMER.INFO.{DEAD_LETTERS_STREAM}.{name}"),
                format!("$JS.ACK.{DEAD_LETTERS_STREAM}.{name}.>"),
            ]);
        }
        let mut seen = BTreeSet::new();
        allow.retain(|s| seen.insert(s.clone()));
        Some(Permissions {
            publish_allow: allow,
            publish_deny: DENIED.iter().map(|s| s.to_string()).collect(),
            subscribe_allow: vec![format!("{}.>", subject::inbox_prefix(service))],
        })
    }

    /// The `authorization { users = [...] }` block of a `nats-server` configuration: one user per
    /// service and operator, each with the password hash `hash_of(user)` gives (bcrypt: the
    /// configuration holds no secret).
    pub fn render(&self, hash_of: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        out.push_str("# The registry's access rules, enforced by the broker: one user per service.\n");
        out.push_str("# Generated from the registry (`events nats-config`); edit the registry, not this file.\n");
        out.push_str("authorization {\n  users = [\n");
        for user in self.users() {
            let _ = write!(out, "    {{\n      user: {}\n      password: {}\n", quote(user), quote(&hash_of(user)));
            match self.permissions(user) {
                None => out.push_str("      # an operator: no restrictions\n"),
                Some(p) => {
                    out.push_str("      permissions: {\n        publish: {\n          allow: [\n");
                    for s in &p.publish_allow {
                        let _ = writeln!(out, "            {}", quote(s));
                    }
                    out.push_str("          ]\n          deny: [\n");
                    for s in &p.publish_deny {
                        let _ = writeln!(out, "            {}", quote(s));
                    }
                    out.push_str("          ]\n        }\n        subscribe: {\n          allow: [\n");
                    for s in &p.subscribe_allow {
                        let _ = writeln!(out, "            {}", quote(s));
                    }
                    out.push_str("          ]\n        }\n      }\n");
                }
            }
            out.push_str("    }\n");
        }
        out.push_str("  ]\n}\n");
        out
    }
}

impl From<&events::AccessPolicy> for Policy {
    fn from(p: &events::AccessPolicy) -> Self {
        let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Policy {
            services: strings(p.services),
            operators: strings(p.operators),
            rules: p
                .rules
                .iter()
                .map(|r| Rule {
                    name: r.name.to_string(),
                    event_type: r.event_type,
                    publishers: strings(r.publishers),
                    consumers: strings(r.consumers),
                })
                .collect(),
        }
    }
}

/// One service's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    /// Subjects it may publish to.
    pub publish_allow: Vec<String>,
    /// Subjects it may never publish to, whatever the allow list says (deny wins).
    pub publish_deny: Vec<String>,
    /// Subjects it may subscribe to.
    pub subscribe_allow: Vec<String>,
}

/// Denied to every service, as a second line behind the allow list: the create forms whose
/// filter the server does not check (2.9 checks only filters of two tokens or more), direct and
/// by-sequence reads of the streams, and changes to streams.
const DENIED: [&str; 16] = [
    "$JS.API.CONSUMER.CREATE.*",
    "$JS.API.CONSUMER.CREATE.*.*",
    "$JS.API.CONSUMER.CREATE.*.*.*",
    "$JS.API.CONSUMER.DURABLE.CREATE.>",
    "$JS.API.STREAM.CREATE.>",
    "$JS.API.STREAM.UPDATE.>",
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.MSG.GET.>",
    "$JS.API.STREAM.MSG.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.DIRECT.GET.EVENTS",
    "$JS.API.DIRECT.GET.EVENTS.>",
    "$JS.API.DIRECT.GET.COMMANDS",
    "$JS.API.DIRECT.GET.COMMANDS.>",
    "$JS.API.DIRECT.GET.DEAD_LETTERS",
    "$JS.API.DIRECT.GET.DEAD_LETTERS.>",
];

/// A string of the configuration format; subjects with `$` must be quoted, or they read as variables.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
