//! What a direction does to each frame, as tc-netem(8) does it: loss drops it; the rest wait
//! delay ± jitter (uniform); with a delay, reorder% of them go at once instead (so they overtake
//! the delayed ones); duplicate% are sent twice, the copy with a delay of its own.

use super::rng::Rng;

#[derive(Clone, Copy, Default)]
pub struct Impairment {
    pub delay_ns: u64,
    pub jitter_ns: u64,
    /// Probabilities 0..=1.
    pub loss: f64,
    pub reorder: f64,
    pub duplicate: f64,
}

/// The fate of one arriving frame.
pub struct Fate {
    pub dropped: bool,
    /// When to send it (ns on the relay's clock).
    pub release_ns: u64,
    /// Sent at once, ahead of delayed frames.
    pub reordered: bool,
    /// When to send a copy, if it is duplicated.
    pub duplicate_ns: Option<u64>,
}

impl Impairment {
    pub fn is_clean(&self) -> bool {
        self.delay_ns == 0
            && self.jitter_ns == 0
            && self.loss == 0.0
            && self.reorder == 0.0
            && self.duplicate == 0.0
    }

    fn delayed(&self, now_ns: u64, rng: &mut Rng) -> u64 {
        let offset = rng.symmetric(self.jitter_ns);
        now_ns
            .saturating_add_signed(self.delay_ns as i64 + offset)
            .max(now_ns)
    }

    pub fn decide(&self, now_ns: u64, rng: &mut Rng) -> Fate {
        if self.is_clean() {
            return Fate {
                dropped: false,
                release_ns: now_ns,
                reordered: false,
                duplicate_ns: None,
            };
        }
        if rng.chance(self.loss) {
            return Fate {
                dropped: true,
                release_ns: now_ns,
                reordered: false,
                duplicate_ns: None,
            };
        }
        let reordered = self.delay_ns > 0 && rng.chance(self.reorder);
        let release_ns = if reordered {
            now_ns
        } else {
            self.delayed(now_ns, rng)
        };
        let duplicate_ns = rng
            .chance(self.duplicate)
            .then(|| self.delayed(now_ns, rng));
        Fate {
            dropped: false,
            release_ns,
            reordered,
            duplicate_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_passes_at_once() {
        let fate = Impairment::default().decide(100, &mut Rng::new(1));
        assert!(!fate.dropped && !fate.reordered && fate.duplicate_ns.is_none());
        assert_eq!(fate.release_ns, 100);
    }

    #[test]
    fn delay_jitter_bounds_and_reorder_share() {
        let imp = Impairment {
            delay_ns: 1000,
            jitter_ns: 100,
            reorder: 0.25,
            ..Impairment::default()
        };
        let mut rng = Rng::new(9);
        let mut reordered = 0;
        for _ in 0..10_000 {
            let fate = imp.decide(0, &mut rng);
            if fate.reordered {
                reordered += 1;
                assert_eq!(fate.release_ns, 0);
            } else {
                assert!((900..=1100).contains(&fate.release_ns));
            }
        }
        assert!((2200..2800).contains(&reordered), "{reordered}");
    }

    #[test]
    fn loss_and_duplicate_shares() {
        let imp = Impairment {
            loss: 0.1,
            duplicate: 0.5,
            ..Impairment::default()
        };
        let mut rng = Rng::new(5);
        let fates: Vec<Fate> = (0..10_000).map(|_| imp.decide(0, &mut rng)).collect();
        let lost = fates.iter().filter(|f| f.dropped).count();
        let dups = fates.iter().filter(|f| f.duplicate_ns.is_some()).count();
        assert!((800..1200).contains(&lost), "{lost}");
        assert!((4200..4800).contains(&dups), "{dups}");
    }
}
