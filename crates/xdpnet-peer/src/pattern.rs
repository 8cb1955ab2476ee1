//! The payload pattern every datagram carries, so a receiver can check every byte.
//!
//! Bytes 0..8 hold the sequence number (u64, big endian, global across flows); byte `i >= 8`
//! holds `(seq + i) & 0xff`. A datagram shorter than 8 bytes holds only the low `len` bytes of the
//! big-endian sequence number, so its sequence number is known only modulo `256^len`.

/// Length of the sequence-number field.
pub const SEQ_LEN: usize = 8;

/// Writes the pattern for `seq` over the whole of `buf`.
pub fn fill(buf: &mut [u8], seq: u64) {
    let seq_bytes = seq.to_be_bytes();
    if buf.len() < SEQ_LEN {
        let len = buf.len();
        buf.copy_from_slice(&seq_bytes[SEQ_LEN - len..]);
        return;
    }
    buf[..SEQ_LEN].copy_from_slice(&seq_bytes);
    // Only the low byte of seq matters for the body; a u8 counter lets the loop vectorise.
    let mut value = (seq as u8).wrapping_add(SEQ_LEN as u8);
    for byte in &mut buf[SEQ_LEN..] {
        *byte = value;
        value = value.wrapping_add(1);
    }
}

/// What a received datagram says about its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seq {
    /// A full 8-byte sequence number.
    Full(u64),
    /// The low `bytes` bytes only (datagram shorter than 8 bytes, `bytes` may be 0).
    Partial { low: u64, bytes: usize },
}

/// Reads the sequence number field of a datagram.
pub fn read_seq(buf: &[u8]) -> Seq {
    if buf.len() >= SEQ_LEN {
        let mut seq_bytes = [0u8; SEQ_LEN];
        seq_bytes.copy_from_slice(&buf[..SEQ_LEN]);
        return Seq::Full(u64::from_be_bytes(seq_bytes));
    }
    let low = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    Seq::Partial {
        low,
        bytes: buf.len(),
    }
}

/// True when every byte after the sequence number matches the pattern for `seq`.
/// Datagrams shorter than 9 bytes carry no redundancy, so they always pass.
pub fn body_matches(buf: &[u8], seq: u64) -> bool {
    if buf.len() <= SEQ_LEN {
        return true;
    }
    let mut expected = (seq as u8).wrapping_add(SEQ_LEN as u8);
    let mut mismatch = 0u8;
    // OR of differences instead of an early exit: branch-free and vectorisable.
    for &byte in &buf[SEQ_LEN..] {
        mismatch |= byte ^ expected;
        expected = expected.wrapping_add(1);
    }
    mismatch == 0
}

/// Turns a partial sequence number into the full value nearest to `reference`
/// (the highest sequence number seen so far), the way TCP widens timestamps.
pub fn widen(low: u64, bytes: usize, reference: u64) -> u64 {
    if bytes >= SEQ_LEN {
        return low;
    }
    let modulus = 1u64 << (8 * bytes);
    let mask = modulus - 1;
    let base = reference & !mask;
    let candidate = base | (low & mask);
    // Pick among candidate - modulus, candidate, candidate + modulus the one closest to reference.
    let below = candidate.checked_sub(modulus);
    let above = candidate.checked_add(modulus);
    let distance = |value: u64| value.abs_diff(reference);
    let mut best = candidate;
    for option in [below, above].into_iter().flatten() {
        if distance(option) < distance(best) {
            best = option;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_writes_big_endian_seq_then_counting_bytes() {
        let mut buf = [0u8; 12];
        fill(&mut buf, 0x0102_0304_0506_07fe);
        assert_eq!(&buf[..8], &[1, 2, 3, 4, 5, 6, 7, 0xfe]);
        // (0xfe + 8) & 0xff = 6, then 7, 8, 9
        assert_eq!(&buf[8..], &[6, 7, 8, 9]);
    }

    #[test]
    fn fill_wraps_body_bytes_past_255() {
        let mut buf = vec![0u8; 1472];
        fill(&mut buf, 300);
        for (i, &b) in buf.iter().enumerate().skip(8) {
            assert_eq!(b, ((300 + i) & 0xff) as u8, "byte {i}");
        }
        assert!(body_matches(&buf, 300));
        assert_eq!(read_seq(&buf), Seq::Full(300));
    }

    #[test]
    fn short_datagrams_carry_low_seq_bytes() {
        let mut buf = [0u8; 3];
        fill(&mut buf, 0x00aa_bbcc_ddee);
        assert_eq!(buf, [0xcc, 0xdd, 0xee]);
        assert_eq!(
            read_seq(&buf),
            Seq::Partial {
                low: 0xcc_ddee,
                bytes: 3
            }
        );
        let mut empty = [0u8; 0];
        fill(&mut empty, 7);
        assert_eq!(read_seq(&empty), Seq::Partial { low: 0, bytes: 0 });
    }

    #[test]
    fn verify_detects_a_single_flipped_bit_anywhere_in_the_body() {
        let mut buf = vec![0u8; 200];
        fill(&mut buf, 12345);
        for i in 8..buf.len() {
            buf[i] ^= 0x10;
            assert!(!body_matches(&buf, 12345), "flip at {i} not caught");
            buf[i] ^= 0x10;
        }
        assert!(body_matches(&buf, 12345));
        // A wrong seq with an intact body is caught too (the body depends on seq).
        assert!(!body_matches(&buf, 12346));
    }

    #[test]
    fn widen_picks_the_value_nearest_the_reference() {
        assert_eq!(widen(0x05, 1, 0x1ff), 0x205);
        assert_eq!(widen(0xfe, 1, 0x201), 0x1fe);
        assert_eq!(widen(0x34, 1, 0x1234), 0x1234);
        assert_eq!(widen(3, 1, 0), 3);
        assert_eq!(widen(0xff, 1, 0), 0xff);
        assert_eq!(widen(9, 0, 77), 77);
        assert_eq!(widen(42, 8, 1_000_000), 42);
    }
}
