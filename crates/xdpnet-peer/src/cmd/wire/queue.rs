//! The frames a direction holds: a fixed pool of frame slots and a min-heap of release times.
//! Frames with equal release times leave in arrival order (a sequence number breaks ties), so a
//! wire without impairments never reorders. Nothing here allocates after construction.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct FrameQueue {
    slot_size: usize,
    pool: Box<[u8]>,
    lens: Box<[usize]>,
    /// Free slot indices, used as a stack so the hot slots stay in cache.
    free: Vec<u32>,
    /// (release time ns, arrival sequence, slot).
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    next_seq: u64,
}

impl FrameQueue {
    /// `capacity` slots of `slot_size` bytes. The pool is zeroed lazily by the OS (calloc), so
    /// slots never used cost no memory.
    pub fn new(capacity: usize, slot_size: usize) -> Self {
        assert!(capacity > 0 && capacity <= u32::MAX as usize);
        Self {
            slot_size,
            pool: vec![0u8; capacity * slot_size].into_boxed_slice(),
            lens: vec![0usize; capacity].into_boxed_slice(),
            free: (0..capacity as u32).rev().collect(),
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    pub fn slot_size(&self) -> usize {
        self.slot_size
    }

    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// Moves up to `n` free slots into `out` (cleared first).
    pub fn take_free(&mut self, n: usize, out: &mut Vec<u32>) {
        out.clear();
        let n = n.min(self.free.len());
        out.extend(self.free.drain(self.free.len() - n..));
    }

    pub fn release_slot(&mut self, slot: u32) {
        self.free.push(slot);
    }

    pub fn set_len(&mut self, slot: u32, len: usize) {
        self.lens[slot as usize] = len.min(self.slot_size);
    }

    pub fn len_of(&self, slot: u32) -> usize {
        self.lens[slot as usize]
    }

    /// The whole pool, for the batch I/O that points iovecs into it.
    pub fn pool_mut(&mut self) -> &mut [u8] {
        &mut self.pool
    }

    pub fn pool(&self) -> &[u8] {
        &self.pool
    }

    /// Schedules `slot` to leave at `release_ns`.
    pub fn schedule(&mut self, slot: u32, release_ns: u64) {
        self.heap.push(Reverse((release_ns, self.next_seq, slot)));
        self.next_seq += 1;
    }

    /// A copy of `slot` in a fresh slot (not yet scheduled), or None when the pool is empty.
    pub fn duplicate(&mut self, slot: u32) -> Option<u32> {
        let copy = self.free.pop()?;
        let len = self.lens[slot as usize];
        let from = slot as usize * self.slot_size;
        self.pool
            .copy_within(from..from + len, copy as usize * self.slot_size);
        self.lens[copy as usize] = len;
        Some(copy)
    }

    /// The earliest release time waiting, if any.
    pub fn next_release(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Appends to `out` up to `max` slots due at `now_ns`, in release order.
    pub fn pop_due(&mut self, now_ns: u64, max: usize, out: &mut Vec<u32>) {
        while out.len() < max {
            match self.heap.peek() {
                Some(Reverse((t, _, slot))) if *t <= now_ns => {
                    out.push(*slot);
                    self.heap.pop();
                }
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_by_time_then_arrival() {
        let mut q = FrameQueue::new(8, 64);
        let mut slots = Vec::new();
        q.take_free(4, &mut slots);
        q.schedule(slots[0], 10);
        q.schedule(slots[1], 5);
        q.schedule(slots[2], 10);
        q.schedule(slots[3], 5);
        let mut out = Vec::new();
        q.pop_due(4, 8, &mut out);
        assert!(out.is_empty());
        q.pop_due(10, 8, &mut out);
        assert_eq!(out, vec![slots[1], slots[3], slots[0], slots[2]]);
        assert_eq!(q.next_release(), None);
    }

    #[test]
    fn duplicate_copies_bytes_and_respects_capacity() {
        let mut q = FrameQueue::new(2, 16);
        let mut slots = Vec::new();
        q.take_free(1, &mut slots);
        let s = slots[0];
        q.pool_mut()[s as usize * 16..s as usize * 16 + 3].copy_from_slice(b"abc");
        q.set_len(s, 3);
        let d = q.duplicate(s).unwrap();
        assert_eq!(&q.pool()[d as usize * 16..d as usize * 16 + 3], b"abc");
        assert_eq!(q.len_of(d), 3);
        assert_eq!(q.duplicate(s), None);
        assert_eq!(q.free_count(), 0);
    }
}
