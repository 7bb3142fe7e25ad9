//! An event's life after publication: its status, its retries with backoff, and the dead-letter
//! record kept when it runs out of attempts.

mod consumer;
mod dead_letter;
mod retry;
mod rng;
mod status;

pub use consumer::{Delivery, Disposition};
pub use dead_letter::{CommandDeadLetter, DeadLetter, ErrorInfo, Failure, Origin};
pub use retry::{Jitter, RetryPolicy};
pub use rng::{RandomSource, SplitMix64};
pub use status::IllegalTransition;
