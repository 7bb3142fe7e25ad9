//! One active relay per outbox: a lease row in `<outbox>_relay`, taken when free or expired and
//! renewed by its holder every third of its lifetime. Expiry is the database's clock; the holder
//! stops publishing on its own clock a fifth of the lifetime before, so that two instances never
//! both believe they hold it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::backend::Backend;
use crate::outbox::Outbox;

pub(crate) struct Lease<DB: Backend> {
    inner: Arc<Inner<DB>>,
}

impl<DB: Backend> Clone for Lease<DB> {
    fn clone(&self) -> Self {
        Lease { inner: self.inner.clone() }
    }
}

struct Inner<DB: Backend> {
    outbox: Outbox<DB>,
    pool: sqlx::Pool<DB>,
    holder: String,
    ttl: Duration,
    /// Until when this instance may publish; `None` while another holds the lease.
    valid_until: watch::Sender<Option<Instant>>,
}

impl<DB: Backend> Inner<DB> {
    /// Receivers hear of a lease taken or lost (or renewed after it had lapsed on this side), not
    /// of each renewal.
    fn set(&self, until: Option<Instant>) {
        let now = Instant::now();
        self.valid_until.send_if_modified(|v| {
            let live = |t: &Option<Instant>| t.is_some_and(|t| now < t);
            let changed = live(v) != live(&until);
            *v = until;
            changed
        });
    }
}

impl<DB: Backend> Lease<DB> {
    pub fn new(outbox: Outbox<DB>, pool: sqlx::Pool<DB>, holder: String, ttl: Duration) -> Self {
        let (valid_until, _) = watch::channel(None);
        Lease { inner: Arc::new(Inner { outbox, pool, holder, ttl, valid_until }) }
    }

    /// Changes whenever the lease is taken, renewed or lost.
    pub fn watch(&self) -> watch::Receiver<Option<Instant>> {
        self.inner.valid_until.subscribe()
    }

    pub fn valid(&self) -> bool {
        self.inner.valid_until.borrow().is_some_and(|until| Instant::now() < until)
    }

    /// Takes or renews the lease every third of its lifetime until `stop`.
    pub async fn keep(self, mut stop: watch::Receiver<bool>) {
        let i = &self.inner;
        let sql = &i.outbox.inner.sql;
        let ttl_ms = i64::try_from(i.ttl.as_millis()).unwrap_or(i64::MAX / 4);
        let mut was_held = false;
        while !*stop.borrow() {
            let asked = Instant::now();
            match DB::ops().lease_acquire(&i.pool, sql, &i.holder, ttl_ms).await {
                Ok(true) => {
                    if !was_held {
                        tracing::info!(outbox = %sql.outbox, holder = %i.holder, "relay active: lease taken");
                    }
                    was_held = true;
                    i.set(Some(asked + i.ttl - i.ttl / 5));
                }
                Ok(false) => {
                    if was_held {
                        tracing::warn!(outbox = %sql.outbox, holder = %i.holder, "relay standby: the lease passed to another instance");
                    }
                    was_held = false;
                    i.set(None);
                }
                // The lease lapses on its own if this goes on; the relay stops publishing then.
                Err(e) => tracing::warn!(outbox = %sql.outbox, holder = %i.holder, error = %e, "cannot renew the relay's lease"),
            }
            // Wake the relay when the local validity ends without a renewal.
            let next = i.ttl / 3;
            tokio::select! {
                _ = tokio::time::sleep(next) => {}
                // The relay's handle is gone (dropped, as in a crash): stop renewing.
                changed = stop.changed() => if changed.is_err() { return },
            }
            if !self.valid() {
                i.set(None);
            }
        }
    }

    /// Gives the lease up, so that a standby takes over at once.
    pub async fn release(&self) {
        let i = &self.inner;
        let sql = &i.outbox.inner.sql;
        if let Err(e) = DB::ops().lease_release(&i.pool, sql, &i.holder).await {
            tracing::warn!(outbox = %sql.outbox, holder = %i.holder, error = %e, "cannot release the relay's lease; it expires by itself");
        }
    }
}
