//! The Rust ends of the shared-memory SPSC rings of `rings/` (the byte layout and memory
//! ordering contract is rings/README.md; `rings/layout.ts` is the TypeScript side).
//!
//! Indices are free-running u32; each side keeps its own index locally and a cached copy of the
//! other side's, re-read with an acquire load only when the cache shows too little. Entries are
//! read and written as relaxed atomics (JS writes them with plain typed-array stores), ordered by
//! the acquire/release of the indices.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

pub const PRODUCER_OFFSET: usize = 0;
pub const CONSUMER_OFFSET: usize = 64;
pub const CONSUMER_WAKEUP_OFFSET: usize = 128;
pub const MAGIC_OFFSET: usize = 192;
pub const VERSION_OFFSET: usize = 196;
pub const CAPACITY_OFFSET: usize = 200;
pub const ENTRY_SIZE_OFFSET: usize = 204;
pub const ENTRIES_OFFSET: usize = 256;
pub const RING_MAGIC: u32 = 0x5250_4458;
pub const RING_VERSION: u32 = 1;
pub const MAX_CAPACITY: u32 = 1 << 24;
/// `[addr u32, len u32]`
pub const DESC_ENTRY_SIZE: u32 = 8;
/// `[addr u32]`
pub const ADDR_ENTRY_SIZE: u32 = 4;

/// Where one ring lives; the memory is owned elsewhere (see `attach`).
#[derive(Clone, Copy, Debug)]
pub struct ShmRing {
    base: NonNull<u8>,
    capacity: u32,
    /// u32 words per entry: 2 for descriptors, 1 for addresses.
    words: u32,
}

// SAFETY: the pointer addresses shared memory that `attach`'s caller keeps alive for as long as
// the ring is used; every access goes through atomics and the SPSC protocol.
unsafe impl Send for ShmRing {}

impl ShmRing {
    /// Validates the header at `offset` inside `len` bytes at `mem` and returns the ring.
    ///
    /// # Safety
    /// `mem..mem + len` must be valid, 4-byte aligned shared memory that stays allocated while
    /// the ring (or any end built from it) is used.
    pub unsafe fn attach(
        mem: NonNull<u8>,
        len: usize,
        offset: usize,
        entry_size: u32,
    ) -> Result<ShmRing, String> {
        if !offset.is_multiple_of(64) || offset + ENTRIES_OFFSET > len {
            return Err(format!(
                "ring offset {offset} must be a multiple of 64 inside the {len}-byte buffer"
            ));
        }
        // SAFETY: `offset + ENTRIES_OFFSET <= len` (checked), so the header is inside `mem`.
        let base = unsafe { mem.add(offset) };
        let header = ShmRing {
            base,
            capacity: 0,
            words: 0,
        };
        let magic = header.word(MAGIC_OFFSET).load(Ordering::Acquire);
        let version = header.word(VERSION_OFFSET).load(Ordering::Relaxed);
        let capacity = header.word(CAPACITY_OFFSET).load(Ordering::Relaxed);
        let size = header.word(ENTRY_SIZE_OFFSET).load(Ordering::Relaxed);
        if magic != RING_MAGIC || version != RING_VERSION {
            return Err(format!(
                "no version-{RING_VERSION} ring at byte {offset}: call initRing() there first"
            ));
        }
        if size != entry_size {
            return Err(format!(
                "ring at byte {offset} has {size}-byte entries, expected {entry_size}"
            ));
        }
        if !capacity.is_power_of_two() || capacity > MAX_CAPACITY {
            return Err(format!(
                "ring at byte {offset} has a bad capacity {capacity}"
            ));
        }
        if offset + ENTRIES_OFFSET + (capacity * size) as usize > len {
            return Err(format!("ring at byte {offset} runs past the buffer's end"));
        }
        Ok(ShmRing {
            base,
            capacity,
            words: size / 4,
        })
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    fn word(&self, byte: usize) -> &AtomicU32 {
        // SAFETY: `byte` is a header offset below ENTRIES_OFFSET or an entry offset below
        // capacity * entry size (callers), both inside the region `attach` validated; the region
        // is 4-byte aligned and alive (`attach`'s contract); AtomicU32 has u32's layout.
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(byte).cast()) }
    }

    /// Word `w` of entry `index` (wrapped to a slot).
    fn entry(&self, index: u32, w: u32) -> &AtomicU32 {
        let slot = (index & (self.capacity - 1)) * self.words + w;
        self.word(ENTRIES_OFFSET + 4 * slot as usize)
    }

    fn producer(&self) -> u32 {
        self.word(PRODUCER_OFFSET).load(Ordering::Acquire)
    }

    fn consumer(&self) -> u32 {
        self.word(CONSUMER_OFFSET).load(Ordering::Acquire)
    }

    /// The consumer's need-wakeup word (rings/README.md "Native wake-ups": also the futex word).
    pub fn consumer_wakeup(&self) -> &AtomicU32 {
        self.word(CONSUMER_WAKEUP_OFFSET)
    }

    /// Entries in the ring now.
    pub fn occupancy(&self) -> u32 {
        let cons = self.consumer();
        self.producer().wrapping_sub(cons)
    }

    /// Every entry between consumer and producer, first word of each.
    #[cfg(test)]
    pub fn addresses(&self) -> Vec<u32> {
        let cons = self.consumer();
        let n = self.producer().wrapping_sub(cons);
        (0..n)
            .map(|i| self.entry(cons.wrapping_add(i), 0).load(Ordering::Relaxed))
            .collect()
    }
}

/// Our end of a ring we produce into.
pub struct ShmProducer {
    ring: ShmRing,
    prod: u32,
    cached_cons: u32,
}

impl ShmProducer {
    /// The single producer of `ring`; nobody else may produce into it.
    pub fn new(ring: ShmRing) -> ShmProducer {
        ShmProducer {
            prod: ring.word(PRODUCER_OFFSET).load(Ordering::Relaxed),
            cached_cons: ring.consumer(),
            ring,
        }
    }

    /// Free slots, re-reading the consumer index only if the cache shows fewer than `wanted`.
    #[inline]
    pub fn free(&mut self, wanted: u32) -> u32 {
        let free = self.ring.capacity - self.prod.wrapping_sub(self.cached_cons);
        if free >= wanted {
            return free;
        }
        self.cached_cons = self.ring.consumer();
        self.ring.capacity - self.prod.wrapping_sub(self.cached_cons)
    }

    /// Writes reserved slot `i` of a descriptor ring (call `free` first; `i` < free).
    #[inline]
    pub fn write_desc(&self, i: u32, addr: u32, len: u32) {
        let index = self.prod.wrapping_add(i);
        self.ring.entry(index, 0).store(addr, Ordering::Relaxed);
        self.ring.entry(index, 1).store(len, Ordering::Relaxed);
    }

    /// Writes reserved slot `i` of an address ring.
    #[inline]
    pub fn write_addr(&self, i: u32, addr: u32) {
        self.ring
            .entry(self.prod.wrapping_add(i), 0)
            .store(addr, Ordering::Relaxed);
    }

    pub fn ring(&self) -> ShmRing {
        self.ring
    }

    /// Publishes `n` written slots (release: the entries are visible before the index).
    #[inline]
    pub fn submit(&mut self, n: u32) {
        if n > 0 {
            self.prod = self.prod.wrapping_add(n);
            self.ring
                .word(PRODUCER_OFFSET)
                .store(self.prod, Ordering::Release);
        }
    }
}

/// Our end of a ring we consume from.
pub struct ShmConsumer {
    ring: ShmRing,
    cons: u32,
    cached_prod: u32,
}

impl ShmConsumer {
    /// The single consumer of `ring`; nobody else may consume from it.
    pub fn new(ring: ShmRing) -> ShmConsumer {
        ShmConsumer {
            cons: ring.word(CONSUMER_OFFSET).load(Ordering::Relaxed),
            cached_prod: ring.producer(),
            ring,
        }
    }

    /// Entries ready (at most `wanted`), re-reading the producer index (acquire) only when the
    /// cache shows fewer than `wanted`.
    #[inline]
    pub fn peek(&mut self, wanted: u32) -> u32 {
        let mut ready = self.cached_prod.wrapping_sub(self.cons);
        if ready < wanted {
            self.cached_prod = self.ring.producer();
            ready = self.cached_prod.wrapping_sub(self.cons);
        }
        ready.min(wanted)
    }

    /// `[addr, len]` of peeked descriptor `i`.
    #[inline]
    pub fn desc(&self, i: u32) -> (u32, u32) {
        let index = self.cons.wrapping_add(i);
        (
            self.ring.entry(index, 0).load(Ordering::Relaxed),
            self.ring.entry(index, 1).load(Ordering::Relaxed),
        )
    }

    /// Peeked address `i`.
    #[inline]
    pub fn addr(&self, i: u32) -> u32 {
        self.ring
            .entry(self.cons.wrapping_add(i), 0)
            .load(Ordering::Relaxed)
    }

    /// Gives `n` peeked slots back (release: our reads happen before the producer reuses them).
    #[inline]
    pub fn release(&mut self, n: u32) {
        if n > 0 {
            self.cons = self.cons.wrapping_add(n);
            self.ring
                .word(CONSUMER_OFFSET)
                .store(self.cons, Ordering::Release);
        }
    }

    pub fn ring(&self) -> ShmRing {
        self.ring
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ring region in ordinary memory with a header written the way `initRing` writes it.
    pub(crate) struct HeapRings {
        words: Box<[u32]>,
    }

    impl HeapRings {
        pub(crate) fn new(bytes: usize) -> HeapRings {
            HeapRings {
                words: vec![0u32; bytes / 4].into_boxed_slice(),
            }
        }

        pub(crate) fn init(&mut self, offset: usize, capacity: u32, entry_size: u32, start: u32) {
            let w = &mut self.words[offset / 4..];
            w[MAGIC_OFFSET / 4] = RING_MAGIC;
            w[VERSION_OFFSET / 4] = RING_VERSION;
            w[CAPACITY_OFFSET / 4] = capacity;
            w[ENTRY_SIZE_OFFSET / 4] = entry_size;
            w[PRODUCER_OFFSET / 4] = start;
            w[CONSUMER_OFFSET / 4] = start;
        }

        pub(crate) fn ring(&mut self, offset: usize, entry_size: u32) -> ShmRing {
            let len = self.words.len() * 4;
            let mem = NonNull::new(self.words.as_mut_ptr().cast::<u8>()).unwrap();
            // SAFETY: the boxed slice is `len` bytes, aligned, and outlives the test's rings.
            unsafe { ShmRing::attach(mem, len, offset, entry_size) }.unwrap()
        }
    }

    #[test]
    fn descriptors_round_trip_across_the_u32_wrap() {
        let mut mem = HeapRings::new(4096);
        mem.init(0, 8, DESC_ENTRY_SIZE, u32::MAX - 3);
        let ring = mem.ring(0, DESC_ENTRY_SIZE);
        let (mut p, mut c) = (ShmProducer::new(ring), ShmConsumer::new(ring));
        for round in 0..10u32 {
            let n = p.free(6).min(6);
            assert_eq!(n, 6);
            for i in 0..n {
                p.write_desc(i, round * 100 + i, 60 + i);
            }
            p.submit(n);
            assert_eq!(ring.occupancy(), 6);
            assert_eq!(c.peek(64), 6);
            for i in 0..6 {
                assert_eq!(c.desc(i), (round * 100 + i, 60 + i));
            }
            c.release(6);
        }
        assert_eq!(p.free(8), 8);
    }

    #[test]
    fn producer_stops_when_full_and_addresses_lists_unread_entries() {
        let mut mem = HeapRings::new(4096);
        mem.init(512, 4, ADDR_ENTRY_SIZE, 0);
        let ring = mem.ring(512, ADDR_ENTRY_SIZE);
        let (mut p, mut c) = (ShmProducer::new(ring), ShmConsumer::new(ring));
        assert_eq!(p.free(10), 4);
        for i in 0..4 {
            p.write_addr(i, 2048 * i);
        }
        p.submit(4);
        assert_eq!(p.free(1), 0);
        assert_eq!(c.peek(1), 1);
        c.release(1);
        assert_eq!(ring.addresses(), vec![2048, 4096, 6144]);
        assert_eq!(p.free(1), 1);
    }

    #[test]
    fn attach_refuses_a_wrong_header() {
        let mut mem = HeapRings::new(4096);
        mem.init(0, 8, ADDR_ENTRY_SIZE, 0);
        let len = 4096;
        let ptr = NonNull::new(mem.words.as_mut_ptr().cast::<u8>()).unwrap();
        // SAFETY: as in `HeapRings::ring`.
        let wrong_size = unsafe { ShmRing::attach(ptr, len, 0, DESC_ENTRY_SIZE) };
        assert!(wrong_size.unwrap_err().contains("4-byte entries"));
        // SAFETY: as above.
        let no_ring = unsafe { ShmRing::attach(ptr, len, 1024, ADDR_ENTRY_SIZE) };
        assert!(no_ring.unwrap_err().contains("initRing"));
        // SAFETY: as above.
        let misaligned = unsafe { ShmRing::attach(ptr, len, 32, ADDR_ENTRY_SIZE) };
        assert!(misaligned.is_err());
    }
}
