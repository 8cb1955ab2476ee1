//! Bookkeeping of received sequence numbers: distinct, duplicates, out of order.

/// Sequence numbers at or above this are counted but not remembered (a bitmap this size is
/// 128 MiB; a flood sending more than 2^30 packets in one run would take an hour on this bed).
pub const TRACK_LIMIT: u64 = 1 << 30;

/// Remembers which sequence numbers arrived in a bitmap that grows as needed.
#[derive(Debug, Default)]
pub struct SeqTracker {
    seen: Vec<u64>,
    pub first: Option<u64>,
    pub last: Option<u64>,
    pub highest: Option<u64>,
    pub distinct: u64,
    pub duplicates: u64,
    /// Arrived after a higher sequence number had already arrived (and were not duplicates).
    pub out_of_order: u64,
    /// At or above `TRACK_LIMIT`, so not checked for duplicates.
    pub untracked: u64,
}

impl SeqTracker {
    /// Records one arrival.
    pub fn record(&mut self, seq: u64) {
        self.first.get_or_insert(seq);
        self.last = Some(seq);
        if seq >= TRACK_LIMIT {
            self.untracked += 1;
            self.note_order(seq);
            return;
        }
        let word = (seq / 64) as usize;
        let bit = 1u64 << (seq % 64);
        if word >= self.seen.len() {
            // Grow geometrically so a steady stream costs amortised O(1).
            let wanted = (word + 1).max(self.seen.len() * 2).max(1024);
            self.seen.resize(wanted, 0);
        }
        if self.seen[word] & bit != 0 {
            self.duplicates += 1;
            return;
        }
        self.seen[word] |= bit;
        self.distinct += 1;
        self.note_order(seq);
    }

    fn note_order(&mut self, seq: u64) {
        match self.highest {
            Some(highest) if seq < highest => self.out_of_order += 1,
            _ => self.highest = Some(seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_duplicates_and_reordering() {
        let mut t = SeqTracker::default();
        for seq in [0, 1, 3, 2, 3, 4, 100_000, 5] {
            t.record(seq);
        }
        assert_eq!(t.first, Some(0));
        assert_eq!(t.last, Some(5));
        assert_eq!(t.highest, Some(100_000));
        assert_eq!(t.distinct, 7);
        assert_eq!(t.duplicates, 1);
        assert_eq!(t.out_of_order, 2); // 2 after 3, 5 after 100000
    }

    #[test]
    fn huge_sequence_numbers_are_counted_not_stored() {
        let mut t = SeqTracker::default();
        t.record(u64::MAX);
        t.record(u64::MAX);
        assert_eq!(t.untracked, 2);
        assert!(t.seen.is_empty());
    }
}
