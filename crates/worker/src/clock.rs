//! The time the worker loops wait on. Production waits on tokio's timer;
//! tests substitute a clock they advance themselves, so what they check
//! never depends on how long a sleep lasted on a busy machine.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A wait that completes when the clock says `duration` has passed.
pub type ClockSleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where the worker loops' waits between polls come from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Completes once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> ClockSleep;
}

/// Real time, through tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn sleep(&self, duration: Duration) -> ClockSleep {
        Box::pin(tokio::time::sleep(duration))
    }
}
