//! Flow ownership inside the dispatcher thread: the RETA and the pins that keep open flows of a
//! moved bucket on their old owner (the same rules as `ts/rss/flow-steering.ts`, which decides
//! them; this is the copy the hot path reads, changed only between bursts by `Update`s).
//!
//! A per-bucket pin count is checked first, so a bucket without pins costs one extra load.

use std::collections::HashMap;

use super::classify::{classify, Steer};
use crate::rss::{Toeplitz, MAX_INPUT};

/// A flow's tuple bytes in RSS order: 12 (IPv4) or 36 (IPv6) bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FlowKey {
    len: u8,
    bytes: [u8; MAX_INPUT],
}

impl FlowKey {
    /// The key of a 4-tuple given as RSS-order bytes; `None` unless 12 or 36 bytes.
    pub fn from_tuple(tuple: &[u8]) -> Option<FlowKey> {
        if tuple.len() != 12 && tuple.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; MAX_INPUT];
        bytes[..tuple.len()].copy_from_slice(tuple);
        Some(FlowKey {
            len: tuple.len() as u8,
            bytes,
        })
    }

    fn from_parts(addrs: &[u8], ports: &[u8]) -> FlowKey {
        let mut bytes = [0u8; MAX_INPUT];
        bytes[..addrs.len()].copy_from_slice(addrs);
        bytes[addrs.len()..addrs.len() + 4].copy_from_slice(ports);
        FlowKey {
            len: (addrs.len() + 4) as u8,
            bytes,
        }
    }

    fn tuple(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// A change the JS side asks for; a batch of them is applied between two bursts.
pub enum Command {
    SetReta(Vec<u8>),
    Pin(FlowKey, u8),
    Unpin(FlowKey),
}

/// Where a frame goes and why.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Control,
    Reta(u8),
    Pinned(u8),
}

impl Decision {
    pub fn worker(&self) -> usize {
        match *self {
            Decision::Control => 0,
            Decision::Reta(w) | Decision::Pinned(w) => usize::from(w),
        }
    }
}

pub struct Steering {
    hasher: Toeplitz,
    reta: Vec<u8>,
    mask: u32,
    pins: HashMap<FlowKey, u8>,
    pins_in_bucket: Vec<u32>,
}

impl Steering {
    /// `reta` is a power of two long; the hasher's key covers 36 bytes (checked by the caller).
    pub fn new(hasher: Toeplitz, reta: Vec<u8>) -> Steering {
        let size = reta.len();
        Steering {
            hasher,
            mask: size as u32 - 1,
            pins_in_bucket: vec![0; size],
            reta,
            pins: HashMap::new(),
        }
    }

    /// The owner of the flow in `frame`.
    #[inline]
    pub fn decide(&self, frame: &[u8]) -> Decision {
        let Steer::Flow { addrs, ports } = classify(frame) else {
            return Decision::Control;
        };
        let mut hash = self.hasher.part(0, addrs);
        if let Some(p) = ports {
            hash ^= self.hasher.part(addrs.len(), p);
        }
        let bucket = (hash & self.mask) as usize;
        if self.pins_in_bucket[bucket] != 0 {
            if let Some(&w) = ports.and_then(|p| self.pins.get(&FlowKey::from_parts(addrs, p))) {
                return Decision::Pinned(w);
            }
        }
        Decision::Reta(self.reta[bucket])
    }

    fn bucket_of(&self, key: &FlowKey) -> usize {
        (self.hasher.hash(key.tuple()) & self.mask) as usize
    }

    pub fn apply(&mut self, command: Command) {
        match command {
            Command::SetReta(reta) => {
                debug_assert_eq!(reta.len(), self.reta.len());
                self.reta = reta;
            }
            Command::Pin(key, owner) => {
                if self.pins.insert(key, owner).is_none() {
                    let b = self.bucket_of(&key);
                    self.pins_in_bucket[b] += 1;
                }
            }
            Command::Unpin(key) => {
                if self.pins.remove(&key).is_some() {
                    let b = self.bucket_of(&key);
                    self.pins_in_bucket[b] -= 1;
                }
            }
        }
    }

    #[cfg(test)]
    pub fn pinned(&self) -> usize {
        self.pins.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f,
        0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    fn frame(sport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 42];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[23] = 17;
        f[26..34].copy_from_slice(&[198, 18, 0, 2, 198, 18, 0, 1]);
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f[36..38].copy_from_slice(&9u16.to_be_bytes());
        f
    }

    fn tuple(sport: u16) -> Vec<u8> {
        frame(sport)[26..38].to_vec()
    }

    #[test]
    fn reta_decides_and_a_pin_overrides_only_its_flow() {
        let hasher = Toeplitz::new(&KEY).unwrap();
        let reta: Vec<u8> = (0..128).map(|b| (b % 2) as u8).collect();
        let mut s = Steering::new(hasher.clone(), reta.clone());
        for port in 20000..20100u16 {
            let want = reta[(hasher.hash(&tuple(port)) & 127) as usize];
            assert_eq!(s.decide(&frame(port)), Decision::Reta(want));
        }
        // Move everything to worker 0 but pin port 20001's flow to worker 1.
        s.apply(Command::Pin(FlowKey::from_tuple(&tuple(20001)).unwrap(), 1));
        s.apply(Command::SetReta(vec![0; 128]));
        assert_eq!(s.decide(&frame(20001)), Decision::Pinned(1));
        assert_eq!(s.decide(&frame(20002)), Decision::Reta(0));
        assert_eq!(s.pinned(), 1);
        s.apply(Command::Unpin(FlowKey::from_tuple(&tuple(20001)).unwrap()));
        assert_eq!(s.decide(&frame(20001)), Decision::Reta(0));
        assert_eq!(s.pinned(), 0);
        assert!(s.pins_in_bucket.iter().all(|&n| n == 0));
    }

    #[test]
    fn control_frames_go_to_worker_zero() {
        let s = Steering::new(Toeplitz::new(&KEY).unwrap(), vec![1; 128]);
        let mut arp = frame(1);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(s.decide(&arp), Decision::Control);
        assert_eq!(Decision::Control.worker(), 0);
    }
}
