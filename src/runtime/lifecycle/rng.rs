//! The randomness behind backoff jitter: a small seedable generator, so that tests can replay it.

/// Where jitter draws its random numbers from.
///
/// ```
/// use events::RandomSource;
///
/// // A fixed source, for a test that wants one exact delay.
/// struct Always(u64);
/// impl RandomSource for Always {
///     fn next_u64(&mut self) -> u64 {
///         self.0
///     }
/// }
/// assert_eq!(Always(7).below_or_at(10), 0);
/// assert_eq!(Always(u64::MAX).below_or_at(10), 10);
/// ```
pub trait RandomSource {
    /// 64 uniformly distributed random bits.
    fn next_u64(&mut self) -> u64;

    /// A number uniformly distributed in `0..=max`.
    fn below_or_at(&mut self, max: u64) -> u64 {
        // Scaling the 64 bits to the range (multiply, keep the high half) rather than taking a
        // remainder: no division, and a bias of at most one part in 2^64 / (max + 1).
        ((u128::from(self.next_u64()) * (u128::from(max) + 1)) >> 64) as u64
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state and a few arithmetic steps per
/// number. Plenty for spreading retries apart; not for secrets.
///
/// ```
/// use events::{RandomSource, SplitMix64};
///
/// let mut a = SplitMix64::new(42);
/// let mut b = SplitMix64::new(42);
/// assert_eq!(a.next_u64(), b.next_u64()); // the same seed gives the same numbers
/// assert_ne!(SplitMix64::from_entropy().next_u64(), SplitMix64::from_entropy().next_u64());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator that replays the same numbers for the same seed.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator seeded from the operating system's randomness, so that consumers started
    /// together do not retry in step.
    pub fn from_entropy() -> Self {
        // A v4 UUID is 122 random bits from the OS, through a dependency the crate already has.
        // Its fixed version and variant bits sit at different places in the two halves, so the
        // exclusive or of the halves is 64 random bits.
        let (high, low) = uuid::Uuid::new_v4().as_u64_pair();
        SplitMix64::new(high ^ low)
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}
