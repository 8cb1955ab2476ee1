//! Views of the kernel's single-producer/single-consumer AF_XDP rings (fill, completion, RX, TX).
//!
//! Each ring is a power-of-two array of entries plus free-running u32 `producer` and `consumer`
//! indices and a `flags` word, mmap'd from the socket (Documentation/networking/af_xdp.rst).
//! The protocol mirrors libxdp's xsk.h: the side that owns an index publishes it with a release
//! store after writing/reading the entries; the other side's index is read with an acquire load
//! only when the locally cached copy says the ring looks full (producer) or empty (consumer).

use std::io;
use std::marker::PhantomData;
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU32, Ordering};

use crate::sys::Mmap;

/// Where one ring's index words and entry array live.
#[derive(Clone, Copy, Debug)]
pub struct RingPtrs {
    producer: NonNull<AtomicU32>,
    consumer: NonNull<AtomicU32>,
    flags: NonNull<AtomicU32>,
    entries: NonNull<u8>,
    size: u32,
}

// SAFETY: the pointers address shared memory whose lifetime is tied to the owner of the mapping
// (see `MappedRing`); concurrent access goes through atomics and the ring protocol.
unsafe impl Send for RingPtrs {}
unsafe impl Sync for RingPtrs {}

impl RingPtrs {
    /// # Safety
    /// `base + offsets.{producer,consumer,flags}` must be 4-byte aligned u32 words and
    /// `base + offsets.desc` an array of `size` entries, all inside memory that stays mapped for
    /// as long as this value or any ring built from it is used; `size` must be a power of two.
    pub unsafe fn new(base: *mut u8, offsets: &libc::xdp_ring_offset, size: u32) -> RingPtrs {
        debug_assert!(size.is_power_of_two());
        let at = |off: u64| {
            // SAFETY: the caller guarantees `base + off` is inside the mapping, so non-null.
            unsafe { NonNull::new_unchecked(base.add(off as usize)) }
        };
        RingPtrs {
            producer: at(offsets.producer).cast(),
            consumer: at(offsets.consumer).cast(),
            flags: at(offsets.flags).cast(),
            entries: at(offsets.desc),
            size,
        }
    }

    fn word(&self, which: NonNull<AtomicU32>) -> &AtomicU32 {
        // SAFETY: `new`'s contract: an aligned u32 in live shared memory; AtomicU32 has the same
        // layout as u32 and the kernel accesses it with READ_ONCE/smp_load_acquire/store_release.
        unsafe { which.as_ref() }
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    /// The producer index, read with acquire so entries written before it are visible.
    pub fn producer(&self) -> u32 {
        self.word(self.producer).load(Ordering::Acquire)
    }

    /// The consumer index, read with acquire so the consumer's reads of freed slots are done.
    pub fn consumer(&self) -> u32 {
        self.word(self.consumer).load(Ordering::Acquire)
    }

    /// Whether the kernel asks to be woken (`XDP_RING_NEED_WAKEUP`). The full fence orders this
    /// read after our preceding index store, the way the kernel orders its flag store before
    /// re-checking the ring (af_xdp.rst, "XDP_USE_NEED_WAKEUP").
    pub fn needs_wakeup(&self) -> bool {
        fence(Ordering::SeqCst);
        self.word(self.flags).load(Ordering::Relaxed) & libc::XDP_RING_NEED_WAKEUP != 0
    }

    /// Entries in the ring now, as visible from here (cold path).
    pub fn occupancy(&self) -> u32 {
        let consumer = self.consumer();
        self.producer().wrapping_sub(consumer)
    }

    fn publish_producer(&self, value: u32) {
        self.word(self.producer).store(value, Ordering::Release);
    }

    fn publish_consumer(&self, value: u32) {
        self.word(self.consumer).store(value, Ordering::Release);
    }

    /// Pointer to entry `index` (wrapped), typed as `T`.
    fn entry<T>(&self, index: u32) -> *mut T {
        let slot = (index & (self.size - 1)) as usize;
        // SAFETY: `slot < size` and the entry array holds `size` entries of `T` (`new`'s contract).
        unsafe { self.entries.as_ptr().cast::<T>().add(slot) }
    }
}

/// A ring mmap'd from an AF_XDP socket; the mapping lives as long as this value.
#[derive(Debug)]
pub struct MappedRing {
    ptrs: RingPtrs,
    _map: Mmap,
}

impl MappedRing {
    /// Maps the ring at page offset `pgoff` whose layout the kernel reported in `offsets`.
    pub fn map(
        fd: BorrowedFd,
        offsets: &libc::xdp_ring_offset,
        size: u32,
        entry_size: usize,
        pgoff: u64,
    ) -> io::Result<MappedRing> {
        let len = offsets.desc as usize + size as usize * entry_size;
        let map = Mmap::ring(fd, len, pgoff)?;
        let words_fit = [offsets.producer, offsets.consumer, offsets.flags]
            .iter()
            .all(|&off| off % 4 == 0 && off as usize + 4 <= len);
        if !words_fit || !size.is_power_of_two() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: the mapping is `len` bytes, covering the index words (checked above) and
        // `size` entries at `desc`; it lives in `_map` next to `ptrs`, and every ring built from
        // `ptrs` is owned by a holder of this `MappedRing` (via the socket's `Arc`).
        let ptrs = unsafe { RingPtrs::new(map.as_ptr(), offsets, size) };
        Ok(MappedRing { ptrs, _map: map })
    }

    pub fn ptrs(&self) -> RingPtrs {
        self.ptrs
    }
}

/// Our side of a ring we produce into (fill, TX).
pub struct Producer<T> {
    ptrs: RingPtrs,
    cached_prod: u32,
    /// The consumer index plus the ring size: the first index we may not write yet.
    cached_limit: u32,
    _entry: PhantomData<T>,
}

impl<T: Copy> Producer<T> {
    /// # Safety
    /// `ptrs` must stay valid while this value is used, its entries must be `T`, and no other
    /// producer may write the ring concurrently.
    pub unsafe fn new(ptrs: RingPtrs) -> Producer<T> {
        let cached_prod = ptrs.word(ptrs.producer).load(Ordering::Relaxed);
        let cached_limit = ptrs.consumer().wrapping_add(ptrs.size);
        Producer {
            ptrs,
            cached_prod,
            cached_limit,
            _entry: PhantomData,
        }
    }

    /// Free slots, refreshing the consumer index only if the cache shows fewer than `wanted`.
    pub fn free(&mut self, wanted: u32) -> u32 {
        let free = self.cached_limit.wrapping_sub(self.cached_prod);
        if free >= wanted {
            return free;
        }
        self.cached_limit = self.ptrs.consumer().wrapping_add(self.ptrs.size);
        self.cached_limit.wrapping_sub(self.cached_prod)
    }

    /// Writes up to `n` entries produced by `entry(i)` and publishes them; returns how many.
    pub fn push_with(&mut self, n: u32, mut entry: impl FnMut(u32) -> T) -> u32 {
        let n = n.min(self.free(n));
        for i in 0..n {
            let slot = self.ptrs.entry::<T>(self.cached_prod.wrapping_add(i));
            // SAFETY: the slot is between the published producer and consumer + size, so the
            // kernel does not read it until we publish; it is a valid `T` slot (`new`).
            unsafe { slot.write(entry(i)) };
        }
        if n > 0 {
            self.cached_prod = self.cached_prod.wrapping_add(n);
            self.ptrs.publish_producer(self.cached_prod);
        }
        n
    }

    /// Entries we published that the kernel has not consumed yet.
    pub fn pending(&self) -> u32 {
        self.cached_prod.wrapping_sub(self.ptrs.consumer())
    }

    pub fn needs_wakeup(&self) -> bool {
        self.ptrs.needs_wakeup()
    }

    pub fn ptrs(&self) -> RingPtrs {
        self.ptrs
    }
}

/// Our side of a ring we consume from (RX, completion).
pub struct Consumer<T> {
    ptrs: RingPtrs,
    cached_prod: u32,
    cached_cons: u32,
    _entry: PhantomData<T>,
}

impl<T: Copy> Consumer<T> {
    /// # Safety
    /// `ptrs` must stay valid while this value is used, its entries must be `T`, and no other
    /// consumer may read the ring concurrently.
    pub unsafe fn new(ptrs: RingPtrs) -> Consumer<T> {
        let cached_cons = ptrs.word(ptrs.consumer).load(Ordering::Relaxed);
        Consumer {
            ptrs,
            cached_prod: ptrs.producer(),
            cached_cons,
            _entry: PhantomData,
        }
    }

    /// Entries ready, refreshing the producer index only when the cache shows fewer than
    /// `wanted` (libxdp refreshes only on empty; a batch call wants everything there is).
    pub fn available(&mut self, wanted: u32) -> u32 {
        let mut ready = self.cached_prod.wrapping_sub(self.cached_cons);
        if ready < wanted {
            self.cached_prod = self.ptrs.producer();
            ready = self.cached_prod.wrapping_sub(self.cached_cons);
        }
        ready.min(wanted)
    }

    /// Hands up to `max` entries to `take(i, entry)` and releases their slots; returns how many.
    pub fn pop_with(&mut self, max: u32, mut take: impl FnMut(u32, T)) -> u32 {
        let n = self.available(max);
        for i in 0..n {
            let slot = self.ptrs.entry::<T>(self.cached_cons.wrapping_add(i));
            // SAFETY: the slot is between our consumer and the producer we loaded with acquire,
            // so the kernel finished writing it and does not reuse it until we release it.
            take(i, unsafe { slot.read() });
        }
        if n > 0 {
            self.cached_cons = self.cached_cons.wrapping_add(n);
            self.ptrs.publish_consumer(self.cached_cons);
        }
        n
    }

    pub fn ptrs(&self) -> RingPtrs {
        self.ptrs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring in ordinary memory laid out like the kernel's: three index words, then entries.
    struct HeapRing {
        words: Box<[u64]>,
        offsets: libc::xdp_ring_offset,
    }

    impl HeapRing {
        fn new(size: u32) -> HeapRing {
            HeapRing {
                words: vec![0u64; 8 + size as usize * 2].into_boxed_slice(),
                offsets: libc::xdp_ring_offset {
                    producer: 0,
                    consumer: 8,
                    flags: 16,
                    desc: 64,
                },
            }
        }

        fn ptrs(&mut self, size: u32) -> RingPtrs {
            // SAFETY: the boxed slice holds the words at 0/8/16 and `size` 16-byte entries at
            // 64, and outlives every use in the test.
            unsafe { RingPtrs::new(self.words.as_mut_ptr().cast(), &self.offsets, size) }
        }
    }

    #[test]
    fn producer_stops_at_capacity_and_resumes_after_release() {
        let mut mem = HeapRing::new(4);
        let ptrs = mem.ptrs(4);
        // SAFETY: `mem` outlives both sides; one producer, one consumer.
        let (mut prod, mut cons) =
            unsafe { (Producer::<u64>::new(ptrs), Consumer::<u64>::new(ptrs)) };
        assert_eq!(prod.push_with(6, |i| 100 + u64::from(i)), 4);
        assert_eq!(prod.push_with(1, |_| 0), 0);
        assert_eq!(ptrs.occupancy(), 4);
        let mut got = Vec::new();
        assert_eq!(cons.pop_with(3, |_, v| got.push(v)), 3);
        assert_eq!(got, [100, 101, 102]);
        assert_eq!(prod.pending(), 1);
        assert_eq!(prod.push_with(5, |i| 200 + u64::from(i)), 3);
        got.clear();
        assert_eq!(cons.pop_with(10, |_, v| got.push(v)), 4);
        assert_eq!(got, [103, 200, 201, 202]);
        assert_eq!(ptrs.occupancy(), 0);
    }

    #[test]
    fn indices_wrap_around_u32() {
        let mut mem = HeapRing::new(8);
        let ptrs = mem.ptrs(8);
        let start = u32::MAX - 2;
        ptrs.publish_producer(start);
        ptrs.publish_consumer(start);
        // SAFETY: as above.
        let (mut prod, mut cons) =
            unsafe { (Producer::<u64>::new(ptrs), Consumer::<u64>::new(ptrs)) };
        for round in 0..5u64 {
            assert_eq!(prod.push_with(6, |i| round * 10 + u64::from(i)), 6);
            assert_eq!(ptrs.occupancy(), 6);
            let mut sum = 0;
            assert_eq!(cons.pop_with(8, |_, v| sum += v), 6);
            assert_eq!(sum, round * 60 + 15);
        }
        assert_eq!(ptrs.producer(), start.wrapping_add(30));
    }

    #[test]
    fn descriptor_entries_keep_addr_and_len() {
        let mut mem = HeapRing::new(2);
        let ptrs = mem.ptrs(2);
        // SAFETY: as above.
        let (mut prod, mut cons) = unsafe {
            (
                Producer::<libc::xdp_desc>::new(ptrs),
                Consumer::<libc::xdp_desc>::new(ptrs),
            )
        };
        let pushed = prod.push_with(2, |i| libc::xdp_desc {
            addr: 4096 * u64::from(i) + 256,
            len: 60 + i,
            options: 0,
        });
        assert_eq!(pushed, 2);
        let mut got = Vec::new();
        cons.pop_with(2, |_, d| got.push((d.addr, d.len)));
        assert_eq!(got, [(256, 60), (4352, 61)]);
    }

    #[test]
    fn needs_wakeup_reads_the_flag_word() {
        let mut mem = HeapRing::new(2);
        let ptrs = mem.ptrs(2);
        assert!(!ptrs.needs_wakeup());
        ptrs.word(ptrs.flags)
            .store(libc::XDP_RING_NEED_WAKEUP, Ordering::Relaxed);
        assert!(ptrs.needs_wakeup());
    }
}
