//! The Toeplitz hash of Microsoft's RSS specification ("RSS hashing functions"), the same
//! function as `ts/rss/toeplitz.ts`: for each input bit, left to right, if it is set XOR in the
//! 32 key bits that start at that bit position. Input for TCP/UDP: source address, destination
//! address, source port, destination port, in network byte order as they sit in the packet.
//!
//! The hash is linear over GF(2), so it is the XOR of each input byte's contribution; the
//! table holds the contribution of every byte value at every input position, and a hash is one
//! lookup per input byte (12 for IPv4, 36 for IPv6).

use napi::bindgen_prelude::{Uint32Array, Uint8Array};
use napi_derive::napi;

use crate::error::{err, Result};

/// Bytes of an IPv6 4-tuple, the longest input RSS hashes.
pub const MAX_INPUT: usize = 36;

/// The bit-serial reference, as in the specification's pseudocode. `key` must be at least
/// `input.len() + 4` bytes.
pub fn toeplitz_reference(key: &[u8], input: &[u8]) -> u32 {
    assert!(key.len() >= input.len() + 4, "key too short for the input");
    let mut result = 0u32;
    let mut window = u32::from_be_bytes([key[0], key[1], key[2], key[3]]);
    for (i, &byte) in input.iter().enumerate() {
        let next = key[i + 4];
        for bit in (0..8).rev() {
            if (byte >> bit) & 1 == 1 {
                result ^= window;
            }
            window = (window << 1) | u32::from((next >> bit) & 1);
        }
    }
    result
}

/// Table-driven Toeplitz hash for one key.
#[derive(Clone)]
pub struct Toeplitz {
    /// `table[p][b]`: contribution of byte value `b` at input position `p`.
    table: Box<[[u32; 256]]>,
}

impl Toeplitz {
    /// A hasher for `key` (at least 8 bytes; a 40-byte key hashes IPv6 4-tuples).
    pub fn new(key: &[u8]) -> Result<Toeplitz> {
        if key.len() < 8 {
            return Err(err("EINVAL", "an RSS key needs at least 8 bytes"));
        }
        let positions = (key.len() - 4).min(MAX_INPUT);
        let mut table = vec![[0u32; 256]; positions].into_boxed_slice();
        for (p, row) in table.iter_mut().enumerate() {
            let windows: [u32; 8] = std::array::from_fn(|bit| key_window(key, p * 8 + bit));
            for (b, slot) in row.iter_mut().enumerate() {
                *slot = (0..8)
                    .filter(|bit| b & (0x80 >> bit) != 0)
                    .fold(0, |h, bit| h ^ windows[bit]);
            }
        }
        Ok(Toeplitz { table })
    }

    /// Longest input this key hashes.
    pub fn max_input(&self) -> usize {
        self.table.len()
    }

    /// Contribution of `bytes` placed at input position `pos`; XOR the parts of a tuple together.
    /// Positions past the key's reach would be a caller bug: they panic (bounds check).
    #[inline]
    pub fn part(&self, pos: usize, bytes: &[u8]) -> u32 {
        let rows = &self.table[pos..pos + bytes.len()];
        rows.iter()
            .zip(bytes)
            .fold(0, |h, (row, &b)| h ^ row[usize::from(b)])
    }

    /// Hash of `input` (already in RSS order).
    #[inline]
    pub fn hash(&self, input: &[u8]) -> u32 {
        self.part(0, input)
    }
}

/// The 32 key bits starting at bit `bit`; bits past the key's end read as 0.
fn key_window(key: &[u8], bit: usize) -> u32 {
    let byte = |i: usize| u64::from(key.get(i).copied().unwrap_or(0));
    let i = bit / 8;
    let wide = (0..5).fold(0u64, |w, k| (w << 8) | byte(i + k));
    (wide >> (8 - bit % 8)) as u32
}

/// Hashes `count` inputs of `stride` bytes laid end to end in `inputs` into `out`; returns
/// `count`. One native call per batch, for cross-checking against the TypeScript hasher and for
/// measuring hashes per second without a per-hash call.
#[napi]
pub fn toeplitz_hash_many(
    key: Uint8Array,
    inputs: Uint8Array,
    stride: u32,
    mut out: Uint32Array,
) -> Result<u32> {
    let hasher = Toeplitz::new(&key)?;
    let stride = stride as usize;
    if stride == 0 || stride > hasher.max_input() {
        return Err(err(
            "EINVAL",
            format!(
                "stride {stride} must be 1..{} for a {}-byte key",
                hasher.max_input(),
                key.len()
            ),
        ));
    }
    let count = (inputs.len() / stride).min(out.len());
    // SAFETY: `out` is a typed array argument of this call; nothing else runs JS on this thread
    // while we write it, and other threads do not write a non-shared buffer.
    let out = unsafe { out.as_mut() };
    for (slot, input) in out.iter_mut().zip(inputs.chunks_exact(stride)) {
        *slot = hasher.hash(input);
    }
    Ok(count as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f,
        0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    fn v4(s: &str) -> Vec<u8> {
        s.parse::<std::net::Ipv4Addr>().unwrap().octets().to_vec()
    }

    fn v6(s: &str) -> Vec<u8> {
        s.parse::<std::net::Ipv6Addr>().unwrap().octets().to_vec()
    }

    fn input(src: &[u8], dst: &[u8], sport: u16, dport: u16) -> Vec<u8> {
        [src, dst, &sport.to_be_bytes(), &dport.to_be_bytes()].concat()
    }

    /// Microsoft, "Verifying the RSS Hash Calculation": (src, sport, dst, dport, ip, tcp).
    const IPV4: [(&str, u16, &str, u16, u32, u32); 5] = [
        (
            "66.9.149.187",
            2794,
            "161.142.100.80",
            1766,
            0x323e8fc2,
            0x51ccc178,
        ),
        (
            "199.92.111.2",
            14230,
            "65.69.140.83",
            4739,
            0xd718262a,
            0xc626b0ea,
        ),
        (
            "24.19.198.95",
            12898,
            "12.22.207.184",
            38024,
            0xd2d0a5de,
            0x5c2b394a,
        ),
        (
            "38.27.205.30",
            48228,
            "209.142.163.6",
            2217,
            0x82989176,
            0xafc7327f,
        ),
        (
            "153.39.163.191",
            44251,
            "202.188.127.2",
            1303,
            0x5d1809c5,
            0x10e828a2,
        ),
    ];

    const IPV6: [(&str, u16, &str, u16, u32, u32); 3] = [
        (
            "3ffe:2501:200:1fff::7",
            2794,
            "3ffe:2501:200:3::1",
            1766,
            0x2cc18cd5,
            0x40207d3d,
        ),
        (
            "3ffe:501:8::260:97ff:fe40:efab",
            14230,
            "ff02::1",
            4739,
            0x0f0c461c,
            0xdde51bbf,
        ),
        (
            "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
            44251,
            "fe80::200:f8ff:fe21:67cf",
            38024,
            0x4b61e985,
            0x02d1feef,
        ),
    ];

    #[test]
    fn matches_microsoft_ipv4_vectors() {
        let h = Toeplitz::new(&KEY).unwrap();
        for (src, sport, dst, dport, ip, tcp) in IPV4 {
            let full = input(&v4(src), &v4(dst), sport, dport);
            assert_eq!(h.hash(&full), tcp, "{src}:{sport} -> {dst}:{dport}");
            assert_eq!(toeplitz_reference(&KEY, &full), tcp);
            assert_eq!(h.hash(&full[..8]), ip, "{src} -> {dst}");
            assert_eq!(h.part(0, &full[..8]) ^ h.part(8, &full[8..]), tcp);
        }
    }

    #[test]
    fn matches_microsoft_ipv6_vectors() {
        let h = Toeplitz::new(&KEY).unwrap();
        for (src, sport, dst, dport, ip, tcp) in IPV6 {
            let full = input(&v6(src), &v6(dst), sport, dport);
            assert_eq!(h.hash(&full), tcp, "{src}.{sport} -> {dst}.{dport}");
            assert_eq!(toeplitz_reference(&KEY, &full), tcp);
            assert_eq!(h.hash(&full[..32]), ip, "{src} -> {dst}");
        }
    }

    #[test]
    fn table_equals_reference_for_random_keys_and_inputs() {
        let mut s = 0x9e37_79b9u32;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        for _ in 0..300 {
            let key: Vec<u8> = (0..8 + next() % 40).map(|_| next() as u8).collect();
            let h = Toeplitz::new(&key).unwrap();
            let len = (next() as usize) % (h.max_input() + 1);
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            assert_eq!(h.hash(&data), toeplitz_reference(&key, &data));
        }
    }

    #[test]
    fn refuses_short_keys() {
        assert!(Toeplitz::new(&[1, 2, 3, 4, 5, 6, 7]).is_err());
    }
}
