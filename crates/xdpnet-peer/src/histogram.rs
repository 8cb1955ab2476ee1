//! Latency samples as an HdrHistogram (nanoseconds, 3 significant digits) in HdrHistogram's own
//! interchange encoding: V2 compressed, then base64, as HdrHistogram's log writers store one. The
//! perf harness decodes it with hdr-histogram-js and writes the percentile distribution text.

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

/// The longest latency told apart; a longer one counts as this (a stall that long fails a run).
const HIGHEST_NS: u64 = 60_000_000_000;

/// `samples_ns` recorded into a histogram, encoded (an empty histogram for no samples).
pub fn encode_ns(samples_ns: &[u64]) -> String {
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, HIGHEST_NS, 3).expect("the bounds are valid");
    for &ns in samples_ns {
        histogram.saturating_record(ns);
    }
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&histogram, &mut bytes)
        .expect("serializing into memory does not fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;

    fn decode(text: &str) -> Histogram<u64> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap();
        Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .unwrap()
    }

    #[test]
    fn round_trips_counts_and_percentiles() {
        let samples: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let h = decode(&encode_ns(&samples));
        assert_eq!(h.len(), 1000);
        // Three significant digits: within 0.1% of the exact nearest-rank value.
        let p50 = h.value_at_quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() <= 500.0, "{p50}");
        assert_eq!(h.max(), h.highest_equivalent(1_000_000));
    }

    #[test]
    fn empty_and_overlong_samples() {
        assert_eq!(decode(&encode_ns(&[])).len(), 0);
        let h = decode(&encode_ns(&[HIGHEST_NS * 10]));
        assert_eq!(h.len(), 1);
        assert!(h.max() >= HIGHEST_NS);
    }
}
