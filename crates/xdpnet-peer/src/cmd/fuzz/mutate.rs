//! Random mutation of a well-formed (or deliberately broken) frame: bit flips and interesting
//! values mostly in the headers, truncation, growth, bytes inserted or removed, and length fields
//! that lie; then, more often than not, fresh checksums, so that the mutation is seen by the
//! parsers behind the checksum checks instead of stopping at them.

use super::gen::Draw;
use super::packet::{Frame, L3, PROTO_TCP, PROTO_UDP};
use crate::cmd::wire::rng::Rng;

/// Bytes at the front where headers live: Ethernet + IPv6 + a TCP header with options.
const HEADER_BYTES: usize = 14 + 40 + 60;

fn offset(r: &mut Rng, len: usize) -> usize {
    if r.chance(0.75) {
        r.below(len.min(HEADER_BYTES) as u64) as usize
    } else {
        r.below(len as u64) as usize
    }
}

/// A value a length field might lie with, near or far from the truth.
fn lie(r: &mut Rng, truth: u16) -> u16 {
    match r.below(7) {
        0 => 0,
        1 => truth.wrapping_sub(1),
        2 => truth.wrapping_add(1),
        3 => truth.wrapping_add(r.range(2, 1500) as u16),
        4 => 0xffff,
        5 => truth / 2,
        _ => r.u16(),
    }
}

/// Mutates `f` in place, keeping it at most `max_len` and at least one byte long.
pub fn mutate(r: &mut Rng, f: &mut Frame, max_len: usize) {
    f.expect = None;
    for _ in 0..r.range(1, 3) {
        let len = f.len();
        if len == 0 {
            break;
        }
        match r.below(12) {
            0..=3 => {
                let at = offset(r, len);
                f.flip(at, 1 << r.below(8));
            }
            4 => {
                let at = offset(r, len);
                let any = r.byte();
                f.bytes[at] = r.pick(&[0, 0xff, 0x7f, 0x80, 1, any]);
            }
            5 => {
                let at = offset(r, len);
                let any = r.u16();
                let v = r.pick(&[0, 0xffff, 0x8000, 0x7fff, len as u16, any]);
                f.put16(at, v);
            }
            6 => {
                let keep = if r.chance(0.8) && len > 14 {
                    r.range(14, len - 1)
                } else {
                    r.range(1, len.saturating_sub(1).max(1))
                };
                f.bytes.truncate(keep);
            }
            7 => {
                let n = r.range(1, 64).min(max_len.saturating_sub(len));
                f.bytes.extend(r.bytes(n));
            }
            8 => {
                let at = r.below(len as u64 + 1) as usize;
                let n = r.range(1, 8).min(max_len.saturating_sub(len));
                let bytes = r.bytes(n);
                f.bytes.splice(at..at, bytes);
            }
            9 if len > 1 => {
                let at = r.below(len as u64 - 1) as usize;
                let n = r.range(1, 8).min(len - at - 1);
                f.bytes.drain(at..at + n);
            }
            _ => lie_about_a_length(r, f),
        }
    }
    if f.bytes.is_empty() {
        f.bytes.push(r.byte());
    }
    if r.chance(0.6) {
        f.fix_checksums();
    }
}

/// Rewrites one length field of the frame's headers with a lie: IPv4 total length, IPv6
/// payload length, UDP length or TCP data offset.
fn lie_about_a_length(r: &mut Rng, f: &mut Frame) {
    let l4 = f.l4;
    match (r.below(2), f.l3, l4) {
        (0, _, Some(l4)) if l4.proto == PROTO_UDP => {
            let v = f.get16(l4.off + 4);
            f.put16(l4.off + 4, lie(r, v));
        }
        (0, _, Some(l4)) if l4.proto == PROTO_TCP && l4.off + 12 < f.len() => {
            let b = f.bytes[l4.off + 12];
            f.bytes[l4.off + 12] = ((r.below(16) as u8) << 4) | (b & 0x0f);
        }
        (_, Some(L3::V4(off)), _) => {
            let v = f.get16(off + 2);
            f.put16(off + 2, lie(r, v));
        }
        (_, Some(L3::V6(off)), _) => {
            let v = f.get16(off + 4);
            f.put16(off + 4, lie(r, v));
        }
        _ => {
            let at = offset(r, f.len());
            f.flip(at, 0xff);
        }
    }
}
