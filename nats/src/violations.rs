//! Permission violations the broker reports. A refused publish is never answered: the server
//! sends `-ERR 'Permissions Violation for Publish to "<subject>"'` to the connection, which the
//! client hands to its event callback only. Connections made with [`connect_as`](crate::connect_as)
//! record them here, so that the publisher waiting for that subject's acknowledgement can stop
//! at once and say why, instead of retrying until its deadline.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

/// The most recent violations kept; older ones are no longer waited on by anybody.
const KEPT: usize = 256;

struct State {
    list: Mutex<(u64, VecDeque<Violation>)>,
    notify: Notify,
}

#[derive(Debug, Clone)]
struct Violation {
    seq: u64,
    user: String,
    subject: String,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| State { list: Mutex::new((0, VecDeque::new())), notify: Notify::new() })
}

/// Records what the server said to `user`'s connection, when it is a publish violation.
pub(crate) fn record(user: &str, text: &str) {
    let Some(subject) = publish_violation(text) else { return };
    tracing::warn!(user, subject, "the broker refused a publish: permissions violation");
    let s = state();
    let mut guard = s.list.lock().unwrap_or_else(|e| e.into_inner());
    guard.0 += 1;
    let seq = guard.0;
    guard.1.push_back(Violation { seq, user: user.to_string(), subject: subject.to_string() });
    if guard.1.len() > KEPT {
        guard.1.pop_front();
    }
    drop(guard);
    s.notify.notify_waiters();
}

/// The sequence of the newest violation: a publish starting now waits for later ones only.
pub(crate) fn mark() -> u64 {
    state().list.lock().unwrap_or_else(|e| e.into_inner()).0
}

/// Resolves once a violation newer than `since` names `subject` (for `user`, when known).
pub(crate) async fn refused(user: Option<&str>, subject: &str, since: u64) {
    let s = state();
    loop {
        let notified = s.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let found = s
            .list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .iter()
            .any(|v| v.seq > since && v.subject == subject && user.is_none_or(|u| u == v.user));
        if found {
            return;
        }
        notified.await;
    }
}

/// `Permissions Violation for Publish to "events.domain.X"` → `events.domain.X`.
fn publish_violation(text: &str) -> Option<&str> {
    let rest = text.trim().trim_matches('\'').strip_prefix("Permissions Violation for Publish to ")?;
    let rest = rest.trim().trim_matches('\'');
    Some(rest.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::publish_violation;

    #[test]
    fn the_subject_is_read_from_the_server_message() {
        assert_eq!(
            publish_violation("Permissions Violation for Publish to \"events.domain.X\""),
            Some("events.domain.X")
        );
        assert_eq!(publish_violation("'Permissions Violation for Publish to \"a.b\"'"), Some("a.b"));
        assert_eq!(publish_violation("Permissions Violation for Subscription to \"events.>\""), None);
        assert_eq!(publish_violation("Authorization Violation"), None);
    }
}
