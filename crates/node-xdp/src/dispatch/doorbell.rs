//! Native wake-ups for rings whose producer is a native thread (the dispatcher).
//!
//! V8 keeps its own wait lists for `Atomics.wait`, so the dispatcher cannot wake a worker parked
//! there (docs/architecture.md#verified-platform-facts). Instead the worker parks in a native
//! call, `RingWaiter.wait`, which blocks on a Linux futex; the dispatcher wakes it with
//! `FUTEX_WAKE`. The futex word is the rx ring's consumer need-wakeup word (rings/README.md,
//! "Native wake-ups"):
//!
//! - waiter: store `NEED_WAKEUP` (seq-cst); re-check its rings; if empty, `FUTEX_WAIT` while the
//!   word is still `NEED_WAKEUP`; on return store 0;
//! - producer, after publishing (release) in a pass: fence (seq-cst), load the word; only if it
//!   is set, swap it to 0 and `FUTEX_WAKE`.
//!
//! Either the waiter sees the new producer index or the producer sees the flag (a Dekker
//! handshake, like `smp_mb()` in the kernel's AF_XDP rings). Clearing the word before the wake
//! makes a waiter that has not yet slept return at once (`EAGAIN`: the word changed), and makes
//! the next pass skip the syscall while the woken worker runs. A busy worker never sets the
//! word, so it costs the producer one load of a line nobody writes.

use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Duration;

use napi::bindgen_prelude::Uint8Array;
use napi::Unknown;
use napi_derive::napi;

use super::shm_ring::{ShmRing, ADDR_ENTRY_SIZE, DESC_ENTRY_SIZE};
use crate::error::{err, Result};
use crate::umem::shared_array;

/// Bit 0 of a need-wakeup word (rings/layout.ts `NEED_WAKEUP`).
const NEED_WAKEUP: u32 = 1;

/// Blocks while `*word == expected`, at most `timeout`. Returns early on a wake, a signal, or if
/// the word differs already; callers re-check their condition either way.
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a live, aligned u32 (a reference); FUTEX_WAIT only reads it and `ts`,
    // which outlives the call. The memory is private to this process (a SharedArrayBuffer or
    // heap), so the private futex namespace is right. Errors (EAGAIN, EINTR, ETIMEDOUT) all
    // mean "re-check", which every caller does.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

/// Wakes every thread blocked in `futex_wait` on `word`.
fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key; it does not touch the memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

/// Producer side: call after publishing entries into `ring`. Returns true if it woke a waiter.
#[inline]
pub fn wake_consumer(ring: &ShmRing) -> bool {
    // Orders our release store of the producer index before the flag load (Dekker, see above).
    fence(Ordering::SeqCst);
    let flag = ring.consumer_wakeup();
    if flag.load(Ordering::Relaxed) & NEED_WAKEUP == 0 {
        return false;
    }
    if flag.swap(0, Ordering::SeqCst) & NEED_WAKEUP == 0 {
        return false;
    }
    futex_wake(flag);
    true
}

/// Consumer side: parks until `rings` has an entry or `timeout` passes; returns the entries
/// waiting in all of them. The futex word is the first ring's consumer need-wakeup word, so a
/// producer of any of the rings wakes it with `wake_consumer(first ring)`.
pub fn wait_for_entries(rings: &[ShmRing], timeout: Duration) -> u32 {
    let Some(first) = rings.first() else {
        return 0;
    };
    let flag = first.consumer_wakeup();
    let waiting = || rings.iter().map(ShmRing::occupancy).sum::<u32>();
    flag.store(NEED_WAKEUP, Ordering::SeqCst);
    fence(Ordering::SeqCst);
    let mut n = waiting();
    if n == 0 {
        futex_wait(flag, NEED_WAKEUP, timeout);
        n = waiting();
    }
    flag.store(0, Ordering::Relaxed);
    n
}

fn attach_ring(rings: &Uint8Array, offset: u32, entry_size: u32, name: &str) -> Result<ShmRing> {
    let ptr =
        NonNull::new(rings.as_ptr().cast_mut()).ok_or_else(|| err("EINVAL", "rings is empty"))?;
    // SAFETY: `ptr..ptr + len` is the data of a Uint8Array over a SharedArrayBuffer that the
    // returned handle keeps referenced for as long as it uses the ring.
    unsafe { ShmRing::attach(ptr, rings.len(), offset as usize, entry_size) }
        .map_err(|m| err("EINVAL", format!("{name} ring: {m}")))
}

fn shared_rings(rings: &Unknown<'_>) -> Result<Uint8Array> {
    Ok(shared_array::<Uint8Array>(
        rings,
        napi::sys::TypedarrayType::uint8_array,
        "rings must be a Uint8Array over a SharedArrayBuffer",
    )?
    .0)
}

/// A worker's native park on the rings a native thread fills (its rx and comp rings).
#[napi]
pub struct RingWaiter {
    rings: [ShmRing; 2],
    parks: i64,
    _held: Uint8Array,
}

#[napi]
impl RingWaiter {
    /// `rxOffset`: the descriptor ring whose consumer need-wakeup word is the futex word;
    /// `compOffset`: an address ring (same producer) that also ends the wait.
    #[napi(
        factory,
        ts_args_type = "rings: Uint8Array, rxOffset: number, compOffset: number"
    )]
    pub fn attach(rings: Unknown<'_>, rx_offset: u32, comp_offset: u32) -> Result<RingWaiter> {
        let held = shared_rings(&rings)?;
        let rx = attach_ring(&held, rx_offset, DESC_ENTRY_SIZE, "rx")?;
        let comp = attach_ring(&held, comp_offset, ADDR_ENTRY_SIZE, "comp")?;
        Ok(RingWaiter {
            rings: [rx, comp],
            parks: 0,
            _held: held,
        })
    }

    /// Blocks this thread until the producer publishes into either ring or `timeoutMs` passes
    /// (fractions allowed); returns the entries waiting in both.
    #[napi]
    pub fn wait(&mut self, timeout_ms: f64) -> u32 {
        self.parks += 1;
        let timeout = Duration::from_secs_f64(timeout_ms.clamp(0.0, 60_000.0) / 1000.0);
        wait_for_entries(&self.rings, timeout)
    }

    /// Calls to `wait`.
    #[napi(getter)]
    pub fn parks(&self) -> i64 {
        self.parks
    }
}

/// For a JavaScript producer into a ring whose consumer parks in `RingWaiter.wait`: call after
/// `submit()` (an `Atomics.notify` does not reach a native waiter).
#[napi]
pub struct RingDoorbell {
    ring: ShmRing,
    _held: Uint8Array,
}

#[napi]
impl RingDoorbell {
    #[napi(
        factory,
        ts_args_type = "rings: Uint8Array, offset: number, entrySize: number"
    )]
    pub fn attach(rings: Unknown<'_>, offset: u32, entry_size: u32) -> Result<RingDoorbell> {
        let held = shared_rings(&rings)?;
        let ring = attach_ring(&held, offset, entry_size, "doorbell")?;
        Ok(RingDoorbell { ring, _held: held })
    }

    /// Wakes the ring's consumer if it is parked; true if it was.
    #[napi]
    pub fn ring(&self) -> bool {
        wake_consumer(&self.ring)
    }
}

#[cfg(test)]
mod tests {
    use super::super::shm_ring::tests::HeapRings;
    use super::super::shm_ring::{ShmConsumer, ShmProducer};
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_parked_consumer_wakes_on_a_push_and_times_out_without_one() {
        let mut mem = HeapRings::new(8192);
        mem.init(0, 8, DESC_ENTRY_SIZE, 0);
        mem.init(1024, 8, ADDR_ENTRY_SIZE, 0);
        let rx = mem.ring(0, DESC_ENTRY_SIZE);
        let comp = mem.ring(1024, ADDR_ENTRY_SIZE);
        let started = Instant::now();
        assert_eq!(wait_for_entries(&[rx, comp], Duration::from_millis(20)), 0);
        assert!(started.elapsed() >= Duration::from_millis(15));
        assert!(!wake_consumer(&rx), "nobody parked: no wake");
        let parked = std::thread::spawn(move || {
            let t = Instant::now();
            (
                wait_for_entries(&[rx, comp], Duration::from_secs(10)),
                t.elapsed(),
            )
        });
        let mut p = ShmProducer::new(comp);
        // Until the waiter has set its flag, a push could be seen without a wake; wait for it.
        while rx.consumer_wakeup().load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        p.write_addr(0, 4096);
        p.submit(1);
        // False only if the waiter saw the entry first and cleared its flag itself.
        wake_consumer(&rx);
        let (n, took) = parked.join().unwrap();
        assert_eq!(n, 1);
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(rx.consumer_wakeup().load(Ordering::SeqCst), 0);
        let mut c = ShmConsumer::new(comp);
        assert_eq!(c.peek(8), 1);
        c.release(1);
    }
}
