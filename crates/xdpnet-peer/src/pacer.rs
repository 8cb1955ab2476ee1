//! Rate limiting for the flood: packets due by now = rate x elapsed, so bursts after a late
//! wake-up catch up instead of drifting, and the long-run rate is exact.

use std::time::{Duration, Instant};

pub struct Pacer {
    start: Instant,
    /// Packets per second; 0 = as fast as possible.
    rate: u64,
}

impl Pacer {
    pub fn new(start: Instant, rate: u64) -> Self {
        Self { start, rate }
    }

    /// How many more packets may go at `now`, given `sent` so far.
    pub fn allowance(&self, now: Instant, sent: u64) -> u64 {
        if self.rate == 0 {
            return u64::MAX;
        }
        let elapsed_ns = now.saturating_duration_since(self.start).as_nanos();
        // +1: the packet due at t = 0 may go at once.
        let due = elapsed_ns * u128::from(self.rate) / 1_000_000_000 + 1;
        u64::try_from(due).unwrap_or(u64::MAX).saturating_sub(sent)
    }

    /// Time from `now` until the next packet after `sent` is due.
    pub fn until_next(&self, now: Instant, sent: u64) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let due_ns = u128::from(sent) * 1_000_000_000 / u128::from(self.rate);
        let due = self.start + Duration::from_nanos(u64::try_from(due_ns).unwrap_or(u64::MAX));
        due.saturating_duration_since(now)
    }

    /// Sleeps until the next packet is due, or `deadline`, whichever is first. Always a sleep,
    /// never a spin: on a 2-core box spinning steals the receiver's core, and since `allowance`
    /// counts from the start, oversleeping only turns into a slightly larger next batch.
    pub fn wait(&self, now: Instant, sent: u64, deadline: Instant) {
        let wait = self
            .until_next(now, sent)
            .min(deadline.saturating_duration_since(now));
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_follows_rate_times_elapsed() {
        let t0 = Instant::now();
        let pacer = Pacer::new(t0, 1000);
        assert_eq!(pacer.allowance(t0, 0), 1);
        assert_eq!(pacer.allowance(t0, 1), 0);
        assert_eq!(pacer.allowance(t0 + Duration::from_millis(10), 1), 10);
        assert_eq!(pacer.allowance(t0 + Duration::from_secs(1), 500), 501);
        assert_eq!(pacer.until_next(t0, 5), Duration::from_millis(5));
        assert_eq!(Pacer::new(t0, 0).allowance(t0, 1 << 40), u64::MAX);
    }
}
