//! How many times an event is tried, and how long to wait before each retry.

use std::time::Duration;

use crate::RandomSource;

/// How a backoff delay is spread out, so that consumers that failed together do not retry together.
///
/// For a backoff ceiling `d` (see [`RetryPolicy::backoff`]), the delay drawn is:
///
/// | jitter | delay |
/// |---|---|
/// | `None` | exactly `d` |
/// | `Full` | uniform in `[0, d]`: spreads retries the most; the usual choice |
/// | `Equal` | uniform in `[d/2, d]`: keeps at least half the backoff |
///
/// ```
/// use std::time::Duration;
/// use events::{Jitter, RetryPolicy, SplitMix64};
///
/// let policy = RetryPolicy::new(5, Duration::from_secs(1), Duration::from_secs(60)).with_jitter(Jitter::Equal);
/// let delay = policy.delay(3, &mut SplitMix64::new(7));
/// assert!(delay >= Duration::from_secs(2) && delay <= Duration::from_secs(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// No randomness: the delay is the backoff itself.
    None,
    /// Anywhere between no wait and the backoff.
    #[default]
    Full,
    /// Half the backoff, plus up to the other half.
    Equal,
}

/// A retry policy: at most `max_attempts` deliveries of an event (the first one and
/// `max_attempts - 1` retries), with exponential backoff between them.
///
/// `retryCount` counts retries, so the delivery with `retryCount` r is attempt r + 1. Before retry n
/// (the delivery with `retryCount` n, n ≥ 1) the backoff is `min(cap, base × 2^(n-1))`, and the
/// delay drawn from it follows the [`Jitter`].
///
/// ```
/// use std::time::Duration;
/// use events::{Jitter, RetryPolicy};
///
/// // The specification's example threshold: alert after 5 retries, so 6 attempts in all.
/// let policy = RetryPolicy::new(6, Duration::from_millis(200), Duration::from_secs(5)).with_jitter(Jitter::None);
/// assert!(policy.allows_retry(4)); // the delivery with retryCount 4 failed: retry it a fifth time
/// assert!(!policy.allows_retry(5)); // the fifth retry failed too: dead-letter it
///
/// let ceilings: Vec<_> = (1..=6).map(|n| policy.backoff(n).as_millis()).collect();
/// assert_eq!(ceilings, [200, 400, 800, 1600, 3200, 5000]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    cap: Duration,
    jitter: Jitter,
}

impl Default for RetryPolicy {
    /// 6 attempts (the specification's example threshold of 5 retries), backoff from 1 s doubling
    /// up to 1 min, full jitter.
    ///
    /// ```
    /// let policy = events::RetryPolicy::default();
    /// assert_eq!(policy.max_attempts(), 6);
    /// assert_eq!(policy.jitter(), events::Jitter::Full);
    /// ```
    fn default() -> Self {
        RetryPolicy::new(6, Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl RetryPolicy {
    /// At most `max_attempts` deliveries, with backoff doubling from `base` up to `cap`, full
    /// jitter. The first delivery always happens, so `0` counts as `1`; a `cap` below `base` caps
    /// every delay at `cap`. Delays beyond `u64::MAX` nanoseconds (about 584 years) are cut there.
    pub fn new(max_attempts: u32, base: Duration, cap: Duration) -> Self {
        RetryPolicy { max_attempts: max_attempts.max(1), base, cap, jitter: Jitter::Full }
    }

    /// The same policy with another jitter.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The most deliveries of one event, retries included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff before the first retry.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The longest backoff.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// How delays are spread.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// Whether the delivery with this `retryCount`, having failed, may be tried again.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = events::RetryPolicy::new(3, Duration::from_secs(1), Duration::from_secs(8));
    /// assert_eq!((0..4).map(|n| policy.allows_retry(n)).collect::<Vec<_>>(), [true, true, false, false]);
    /// ```
    pub fn allows_retry(&self, retry_count: u32) -> bool {
        // Attempt retry_count + 1 has just failed; u64 so that retryCount u32::MAX does not overflow.
        u64::from(retry_count) + 1 < u64::from(self.max_attempts)
    }

    /// The backoff ceiling before retry `retry` (the delivery whose `retryCount` is `retry`):
    /// `min(cap, base × 2^(retry-1))`, never decreasing in `retry`. Retry 0 is the first delivery,
    /// which does not wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = events::RetryPolicy::new(10, Duration::from_secs(1), Duration::from_secs(30));
    /// assert_eq!(policy.backoff(0), Duration::ZERO);
    /// assert_eq!(policy.backoff(3), Duration::from_secs(4));
    /// assert_eq!(policy.backoff(9), Duration::from_secs(30));
    /// assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(30));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        if retry == 0 {
            return Duration::ZERO;
        }
        let cap = nanos(self.cap);
        // Doubling a non-zero base more than 63 times passes any u64 cap; stop doubling there.
        let doubled = match retry - 1 {
            shift @ 0..=63 => nanos(self.base).saturating_mul(1 << shift),
            _ if self.base.is_zero() => 0,
            _ => u64::MAX,
        };
        Duration::from_nanos(doubled.min(cap))
    }

    /// The delay before retry `retry`: its [`backoff`](Self::backoff) spread by the jitter, with
    /// random numbers from `rng` (seed it, and the delays repeat).
    ///
    /// ```
    /// use std::time::Duration;
    /// use events::{RetryPolicy, SplitMix64};
    ///
    /// let policy = RetryPolicy::new(5, Duration::from_millis(100), Duration::from_secs(10));
    /// let delays = |seed| (1..5).map(|n| policy.delay(n, &mut SplitMix64::new(seed))).collect::<Vec<_>>();
    /// assert_eq!(delays(1), delays(1));
    /// assert!(delays(1).iter().zip(1..).all(|(d, n)| *d <= policy.backoff(n)));
    /// ```
    pub fn delay(&self, retry: u32, rng: &mut impl RandomSource) -> Duration {
        let ceiling = nanos(self.backoff(retry));
        let nanos = match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => rng.below_or_at(ceiling),
            Jitter::Equal => {
                // ceiling - half is the upper half, rounded up, so the sum reaches ceiling exactly.
                let half = ceiling / 2;
                half + rng.below_or_at(ceiling - half)
            }
        };
        Duration::from_nanos(nanos)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
