//! Latency percentiles by the nearest-rank method (the one sockperf and HdrHistogram report).

/// The value at percentile `p` (0 < p <= 100) of `sorted` (ascending): the smallest sample such
/// that at least p% of all samples are <= it. `None` for an empty slice.
pub fn nearest_rank(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // rank = ceil(p/100 * n), 1-based, clamped to [1, n]. Work in integers of parts per million
    // so 99.9% of 1000 is exactly rank 999, not 999.0000000001 -> 1000.
    let ppm = (p.clamp(0.0, 100.0) * 10_000.0).round() as u128;
    let rank = (ppm * n as u128).div_ceil(1_000_000) as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Summary of a set of samples in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub min: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: u64,
}

/// Sorts `samples` in place and summarises them; `None` when there are none.
pub fn summarise(samples: &mut [u64]) -> Option<Summary> {
    samples.sort_unstable();
    let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
    Some(Summary {
        min: *samples.first()?,
        p50: nearest_rank(samples, 50.0)?,
        p99: nearest_rank(samples, 99.0)?,
        p999: nearest_rank(samples, 99.9)?,
        max: *samples.last()?,
        mean: (sum / samples.len() as u128) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_to_a_thousand() {
        let samples: Vec<u64> = (1..=1000).collect();
        assert_eq!(nearest_rank(&samples, 50.0), Some(500));
        assert_eq!(nearest_rank(&samples, 99.0), Some(990));
        assert_eq!(nearest_rank(&samples, 99.9), Some(999));
        assert_eq!(nearest_rank(&samples, 100.0), Some(1000));
        assert_eq!(nearest_rank(&samples, 0.0), Some(1));
    }

    #[test]
    fn nearest_rank_small_sets_round_up() {
        assert_eq!(nearest_rank(&[10, 20, 30, 40], 50.0), Some(20));
        assert_eq!(nearest_rank(&[10, 20, 30, 40], 51.0), Some(30));
        assert_eq!(nearest_rank(&[10, 20, 30], 99.9), Some(30));
        assert_eq!(nearest_rank(&[7], 50.0), Some(7));
        assert_eq!(nearest_rank(&[], 50.0), None);
    }

    #[test]
    fn summarise_sorts_and_reports_extremes() {
        let mut samples = vec![5, 1, 9, 3, 7];
        let s = summarise(&mut samples).unwrap();
        assert_eq!((s.min, s.p50, s.max, s.mean), (1, 5, 9, 5));
        assert_eq!((s.p99, s.p999), (9, 9));
        assert_eq!(summarise(&mut []), None);
    }
}
