//! The dispatcher thread's loop: kernel RX ring -> Toeplitz + RETA -> per-worker RX rings;
//! per-worker free rings -> kernel fill ring; per-worker TX rings -> kernel TX ring; kernel
//! completion ring -> the dispatcher's free stack or the owning worker's completion ring.
//!
//! Frames are owned by address range: the RX partition is the dispatcher's (it keeps the fill
//! ring supplied from it), each worker owns a TX partition. A frame's place is kept in a ledger
//! (one byte per frame), so a double return or a send of a frame nobody handed out is counted
//! as a violation instead of corrupting the rings.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::doorbell::wake_consumer;
use super::shm_ring::{ShmConsumer, ShmProducer};
use super::steering::{Command, Decision, Steering};
use crate::error;
use crate::ring::{Consumer, Producer};
use crate::sys;
use crate::xsk::{Counters, XskShared};

/// Where a frame is, as the dispatcher sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Place {
    /// In the dispatcher's free stack (RX partition only).
    Free = 0,
    /// Given to the kernel to receive into: fill ring or RX ring.
    Kernel = 1,
    /// Given to the kernel to send: TX ring or completion ring.
    KernelTx = 2,
    /// With the workers: in a ring between us and them, or held by one.
    Worker = 3,
    /// Outside every partition.
    Unused = 4,
}

/// A batch of commands from one `update()` call, applied together between two bursts.
pub struct Update {
    pub generation: u64,
    pub commands: Vec<Command>,
}

/// Counters read from JS while the thread runs.
pub struct Stats {
    pub rx_packets: AtomicU64,
    pub rx_bytes: AtomicU64,
    pub tx_packets: AtomicU64,
    pub tx_bytes: AtomicU64,
    /// Frames for ARP/ND/non-IP, given to worker 0.
    pub control: AtomicU64,
    /// Frames steered by a pin rather than the RETA.
    pub pinned: AtomicU64,
    pub invalid_descs: AtomicU64,
    pub violations: AtomicU64,
    pub kicks: AtomicU64,
    pub naps: AtomicU64,
    pub parks: AtomicU64,
    pub wakes: AtomicU64,
    pub delivered: Vec<AtomicU64>,
    /// Dropped because the worker's RX ring was full.
    pub dropped: Vec<AtomicU64>,
    pub last_error: Mutex<Option<String>>,
}

impl Stats {
    pub fn new(workers: usize) -> Stats {
        let zeros = || (0..workers).map(|_| AtomicU64::new(0)).collect();
        Stats {
            rx_packets: AtomicU64::new(0),
            rx_bytes: AtomicU64::new(0),
            tx_packets: AtomicU64::new(0),
            tx_bytes: AtomicU64::new(0),
            control: AtomicU64::new(0),
            pinned: AtomicU64::new(0),
            invalid_descs: AtomicU64::new(0),
            violations: AtomicU64::new(0),
            kicks: AtomicU64::new(0),
            naps: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            wakes: AtomicU64::new(0),
            delivered: zeros(),
            dropped: zeros(),
            last_error: Mutex::new(None),
        }
    }
}

/// What the JS object and the thread share.
pub struct Shared {
    pub stop: AtomicBool,
    pub pending: AtomicBool,
    pub updates: Mutex<Vec<Update>>,
    pub applied: AtomicU64,
    pub stats: Stats,
}

/// Frame ranges, in frame indices.
#[derive(Clone, Copy, Debug)]
pub struct Partitions {
    pub shift: u32,
    pub frames: u32,
    pub rx_first: u32,
    pub rx_count: u32,
    pub tx_first: u32,
    pub tx_per_worker: u32,
    pub workers: u32,
}

impl Partitions {
    fn frame_of(&self, addr: u32) -> Option<u32> {
        let f = addr >> self.shift;
        (f < self.frames).then_some(f)
    }

    fn is_rx(&self, frame: u32) -> bool {
        frame.wrapping_sub(self.rx_first) < self.rx_count
    }

    fn tx_owner(&self, frame: u32) -> Option<usize> {
        let i = frame.wrapping_sub(self.tx_first);
        (i < self.tx_per_worker * self.workers).then(|| (i / self.tx_per_worker) as usize)
    }

    pub fn initial_place(&self, frame: u32) -> Place {
        if self.is_rx(frame) {
            Place::Free
        } else if self.tx_owner(frame).is_some() {
            Place::Worker
        } else {
            Place::Unused
        }
    }
}

/// Read access to the UMEM bytes of received frames.
pub struct UmemView {
    pub base: NonNull<u8>,
    pub size: u64,
}

// SAFETY: the view points into a SharedArrayBuffer the `Dispatcher` keeps referenced until the
// thread has been joined; it only reads frames the ring protocol has handed to this thread.
unsafe impl Send for UmemView {}

impl UmemView {
    /// The bytes of a received packet.
    fn packet(&self, addr: u64, len: u32) -> &[u8] {
        let len = u64::from(len).min(self.size.saturating_sub(addr));
        // SAFETY: `addr..addr + len` lies inside the UMEM (clamped above), which is alive (see
        // the Send impl). The frame came out of the kernel's RX ring and has not been passed on,
        // so neither the kernel nor a worker writes it while this borrow lives.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(addr as usize), len as usize) }
    }
}

/// The four ring ends between the dispatcher and one worker.
pub struct WorkerEnds {
    pub rx: ShmProducer,
    pub free: ShmConsumer,
    pub tx: ShmConsumer,
    pub comp: ShmProducer,
}

/// The kernel rings of the socket, claimed for this dispatcher.
pub struct KernelRings {
    pub rx: Consumer<libc::xdp_desc>,
    pub tx: Producer<libc::xdp_desc>,
    pub fill: Producer<u64>,
    pub comp: Consumer<u64>,
    /// Keeps the mappings and fd alive; its port claim is released when the engine drops.
    pub socket: Arc<XskShared>,
}

pub struct Engine {
    pub shared: Arc<Shared>,
    pub kernel: KernelRings,
    pub umem: UmemView,
    pub parts: Partitions,
    pub workers: Vec<WorkerEnds>,
    pub steering: Steering,
    pub free: Vec<u32>,
    pub place: Vec<Place>,
    pub batch: u32,
    /// Per worker: descriptors of this burst waiting to be pushed.
    stage: Vec<Vec<(u32, u32)>>,
    scratch: Vec<u32>,
    tx_stage: Vec<libc::xdp_desc>,
    /// Per worker: we published into its rx or comp ring in this pass (wake it if parked).
    pushed: Vec<bool>,
    backoff: Backoff,
    /// Most packets received in one pass: a batch per worker, so a woken worker finds about a
    /// batch (`Backoff` naps to collect it under a steady stream).
    burst: u32,
}

impl Drop for KernelRings {
    fn drop(&mut self) {
        self.socket.release_port();
    }
}

/// How long a final drain may wait for the kernel to finish sending.
const STOP_DRAIN: Duration = Duration::from_millis(500);

impl Engine {
    pub fn new(
        shared: Arc<Shared>,
        kernel: KernelRings,
        umem: UmemView,
        parts: Partitions,
        workers: Vec<WorkerEnds>,
        steering: Steering,
        batch: u32,
    ) -> Engine {
        let place: Vec<Place> = (0..parts.frames).map(|f| parts.initial_place(f)).collect();
        let free = (parts.rx_first..parts.rx_first + parts.rx_count)
            .rev()
            .map(|f| f << parts.shift)
            .collect();
        let n = workers.len();
        let burst = (batch as usize * n).min(MAX_BURST) as u32;
        Engine {
            shared,
            kernel,
            umem,
            parts,
            workers,
            steering,
            free,
            place,
            batch,
            stage: (0..n).map(|_| Vec::with_capacity(batch as usize)).collect(),
            scratch: Vec::with_capacity(batch as usize),
            tx_stage: Vec::with_capacity(batch as usize),
            pushed: vec![false; n],
            backoff: Backoff::new(burst, MAX_NAP_US),
            burst,
        }
    }

    /// The thread's body; returns the engine for the audit.
    pub fn run(mut self) -> Engine {
        set_timer_slack_ns(1000);
        while !self.shared.stop.load(Ordering::Acquire) {
            self.apply_updates();
            let mut work = self.reclaim();
            self.refill();
            let packets = self.receive() + self.transmit();
            work += packets + self.complete();
            self.ring_doorbells();
            self.idle(packets, work);
        }
        self.drain();
        self
    }

    /// Moves what workers already handed over, and waits for the kernel to finish sending.
    fn drain(&mut self) {
        let deadline = Instant::now() + STOP_DRAIN;
        loop {
            self.apply_updates();
            self.reclaim();
            self.refill();
            self.transmit();
            self.complete();
            let waiting = self.kernel.tx.pending() > 0
                || self.kernel.comp.ptrs().occupancy() > 0
                || self.workers.iter().any(|w| w.tx.ring().occupancy() > 0);
            if !waiting || Instant::now() >= deadline {
                break;
            }
            self.kick_tx();
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    fn apply_updates(&mut self) {
        if !self.shared.pending.swap(false, Ordering::Acquire) {
            return;
        }
        let updates = std::mem::take(
            &mut *self
                .shared
                .updates
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let mut last = None;
        for update in updates {
            for command in update.commands {
                self.steering.apply(command);
            }
            last = Some(update.generation);
        }
        if let Some(generation) = last {
            self.shared.applied.store(generation, Ordering::Release);
        }
    }

    fn violation(&self) {
        self.shared.stats.violations.fetch_add(1, Ordering::Relaxed);
    }

    /// Moves a frame between places, counting a violation (and refusing) if it was elsewhere.
    fn moved(&mut self, frame: u32, from: Place, to: Place) -> bool {
        let slot = &mut self.place[frame as usize];
        if *slot != from {
            self.violation();
            return false;
        }
        *slot = to;
        true
    }

    /// Free rings -> free stack.
    fn reclaim(&mut self) -> u32 {
        let mut total = 0;
        for w in 0..self.workers.len() {
            let n = self.workers[w].free.peek(self.parts.rx_count);
            for i in 0..n {
                let addr = self.workers[w].free.addr(i);
                match self.parts.frame_of(addr) {
                    Some(f) if self.parts.is_rx(f) => {
                        if self.moved(f, Place::Worker, Place::Free) {
                            self.free.push(f << self.parts.shift);
                        }
                    }
                    _ => self.violation(),
                }
            }
            self.workers[w].free.release(n);
            total += n;
        }
        total
    }

    /// Free stack -> kernel fill ring.
    fn refill(&mut self) {
        let have = self.free.len() as u32;
        if have == 0 {
            return;
        }
        let n = have.min(self.kernel.fill.free(have));
        let free = &self.free;
        let pushed = self
            .kernel
            .fill
            .push_with(n, |i| u64::from(free[free.len() - 1 - i as usize]));
        for _ in 0..pushed {
            if let Some(addr) = self.free.pop() {
                let f = addr >> self.parts.shift;
                self.moved(f, Place::Free, Place::Kernel);
            }
        }
    }

    /// Kernel RX ring -> the owning workers' RX rings.
    fn receive(&mut self) -> u32 {
        let steering = &self.steering;
        let umem = &self.umem;
        let stage = &mut self.stage;
        let stats = &self.shared.stats;
        let mut bytes = 0u64;
        let (mut control, mut pinned) = (0u64, 0u64);
        let n = self.kernel.rx.pop_with(self.burst, |_, desc| {
            let decision = steering.decide(umem.packet(desc.addr, desc.len));
            match decision {
                Decision::Control => control += 1,
                Decision::Pinned(_) => pinned += 1,
                Decision::Reta(_) => {}
            }
            // A RETA entry names a worker below the count (checked when it is set).
            let w = decision.worker().min(stage.len() - 1);
            stage[w].push((desc.addr as u32, desc.len));
            bytes += u64::from(desc.len);
        });
        if n == 0 {
            // Busy polling: recvfrom runs the NAPI poll (see port.rs).
            let idle_syscalls = self.kernel.socket.idle_syscalls.load(Ordering::Relaxed);
            if idle_syscalls || self.kernel.fill.needs_wakeup() {
                self.wake(sys::kick_rx(self.kernel.socket.raw_fd()), "waking RX");
            }
            return 0;
        }
        Counters::add(&self.kernel.socket.counters.rx_packets, u64::from(n));
        Counters::add(&self.kernel.socket.counters.rx_bytes, bytes);
        Counters::add(&stats.rx_packets, u64::from(n));
        Counters::add(&stats.rx_bytes, bytes);
        Counters::add(&stats.control, control);
        Counters::add(&stats.pinned, pinned);
        for w in 0..self.workers.len() {
            self.deliver(w);
        }
        n
    }

    /// Pushes worker `w`'s staged descriptors; what does not fit is dropped back to the free
    /// stack (the worker is behind; the kernel's own RX ring would drop them otherwise).
    fn deliver(&mut self, w: usize) {
        let staged = std::mem::take(&mut self.stage[w]);
        if staged.is_empty() {
            self.stage[w] = staged;
            return;
        }
        let k = staged.len() as u32;
        let room = self.workers[w].rx.free(k).min(k);
        for (i, &(addr, len)) in staged.iter().enumerate() {
            let f = addr >> self.parts.shift;
            if (i as u32) < room {
                self.moved(f, Place::Kernel, Place::Worker);
                self.workers[w].rx.write_desc(i as u32, addr, len);
            } else if self.moved(f, Place::Kernel, Place::Free) {
                self.free.push(f << self.parts.shift);
            }
        }
        self.workers[w].rx.submit(room);
        self.pushed[w] |= room > 0;
        let stats = &self.shared.stats;
        Counters::add(&stats.delivered[w], u64::from(room));
        Counters::add(&stats.dropped[w], u64::from(k - room));
        self.stage[w] = staged;
        self.stage[w].clear();
    }

    /// Worker TX rings -> kernel TX ring.
    fn transmit(&mut self) -> u32 {
        let mut total = 0;
        let mut bytes = 0u64;
        for w in 0..self.workers.len() {
            let wanted = self.workers[w].tx.peek(self.batch);
            if wanted == 0 {
                continue;
            }
            let room = self.kernel.tx.free(wanted);
            self.tx_stage.clear();
            let mut taken = 0;
            while taken < wanted && (self.tx_stage.len() as u32) < room {
                let (addr, len) = self.workers[w].tx.desc(taken);
                taken += 1;
                if self.valid_tx(addr, len) {
                    bytes += u64::from(len);
                    self.tx_stage.push(libc::xdp_desc {
                        addr: u64::from(addr),
                        len,
                        options: 0,
                    });
                }
            }
            let stage = &self.tx_stage;
            let pushed = self
                .kernel
                .tx
                .push_with(stage.len() as u32, |i| stage[i as usize]);
            debug_assert_eq!(pushed as usize, stage.len());
            self.workers[w].tx.release(taken);
            total += pushed;
        }
        if total > 0 {
            let stats = &self.shared.stats;
            Counters::add(&stats.tx_packets, u64::from(total));
            Counters::add(&stats.tx_bytes, bytes);
            Counters::add(&self.kernel.socket.counters.tx_packets, u64::from(total));
            Counters::add(&self.kernel.socket.counters.tx_bytes, bytes);
        }
        if self.kernel.tx.pending() > 0
            && (!self.kernel.socket.need_wakeup
                || self.kernel.socket.idle_syscalls.load(Ordering::Relaxed)
                || self.kernel.tx.needs_wakeup())
        {
            self.kick_tx();
        }
        total
    }

    /// Checks a worker's TX descriptor. A bad one is not sent: its frame (if it is a frame
    /// workers hold) goes straight back as if completed, so nothing is lost.
    fn valid_tx(&mut self, addr: u32, len: u32) -> bool {
        let size = 1u32 << self.parts.shift;
        let Some(f) = self.parts.frame_of(addr) else {
            self.shared
                .stats
                .invalid_descs
                .fetch_add(1, Ordering::Relaxed);
            return false;
        };
        // Aligned mode: a descriptor must sit inside one frame (xp_aligned_validate_desc).
        let fits = len > 0 && (addr & (size - 1)) + len <= size;
        if !fits {
            self.shared
                .stats
                .invalid_descs
                .fetch_add(1, Ordering::Relaxed);
            if self.moved(f, Place::Worker, Place::KernelTx) {
                self.completed(f);
            }
            return false;
        }
        self.moved(f, Place::Worker, Place::KernelTx)
    }

    /// Kernel completion ring -> free stack (RX partition) or the owner's completion ring.
    fn complete(&mut self) -> u32 {
        let scratch = &mut self.scratch;
        scratch.clear();
        let n = self
            .kernel
            .comp
            .pop_with(self.batch, |_, addr| scratch.push(addr as u32));
        for i in 0..n as usize {
            let addr = self.scratch[i];
            match self.parts.frame_of(addr) {
                Some(f) => self.completed(f),
                None => self.violation(),
            }
        }
        n
    }

    /// A frame whose sending finished (or was refused): back to its partition's owner.
    fn completed(&mut self, f: u32) {
        let base = f << self.parts.shift;
        if self.parts.is_rx(f) {
            if self.moved(f, Place::KernelTx, Place::Free) {
                self.free.push(base);
            }
            return;
        }
        let Some(w) = self.parts.tx_owner(f) else {
            return self.violation();
        };
        if !self.moved(f, Place::KernelTx, Place::Worker) {
            return;
        }
        // The ring holds a whole TX partition (checked at start), so it has room unless a frame
        // was sent twice, which the ledger refused above.
        let comp = &mut self.workers[w].comp;
        if comp.free(1) == 0 {
            return self.violation();
        }
        comp.write_addr(0, base);
        comp.submit(1);
        self.pushed[w] = true;
    }

    /// Wakes the workers parked in `RingWaiter.wait` that we published to in this pass: one
    /// check per worker per pass, so pushes are coalesced into at most one wake.
    fn ring_doorbells(&mut self) {
        let mut woken = 0;
        for w in 0..self.workers.len() {
            if std::mem::take(&mut self.pushed[w]) && wake_consumer(&self.workers[w].rx.ring()) {
                woken += 1;
            }
        }
        Counters::add(&self.shared.stats.wakes, woken);
    }

    fn kick_tx(&self) {
        self.wake(sys::kick_tx(self.kernel.socket.raw_fd()), "waking TX");
    }

    /// Counts a wake-up syscall; "busy, try later" answers are not errors, others are kept for
    /// `stats().lastError` (the thread has no caller to throw to).
    fn wake(&self, result: std::io::Result<()>, what: &str) {
        Counters::add(&self.shared.stats.kicks, 1);
        Counters::add(&self.kernel.socket.counters.kicks, 1);
        if let Err(e) = result {
            match error::errno(&e) {
                libc::EAGAIN | libc::EBUSY | libc::ENOBUFS | libc::EINTR => {}
                _ => {
                    let text = format!("{what} on {}: {e}", self.kernel.socket.ifname);
                    *self
                        .shared
                        .stats
                        .last_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(text);
                }
            }
        }
    }

    fn idle(&mut self, packets: u32, work: u32) {
        match self.backoff.next(packets, work) {
            Idle::Continue => {}
            Idle::Nap(d) => {
                Counters::add(&self.shared.stats.naps, 1);
                std::thread::sleep(d);
            }
            Idle::Park => {
                Counters::add(&self.shared.stats.parks, 1);
                // Wakes at once on a received packet; worker TX rings wait out the timeout.
                let _ = sys::poll_readable(self.kernel.socket.raw_fd(), PARK_MS);
            }
        }
    }

    /// Frames in each place (cold path).
    pub fn census(&self) -> [u32; 5] {
        let mut counts = [0u32; 5];
        for p in &self.place {
            counts[*p as usize] += 1;
        }
        counts
    }
}

/// How long an idle dispatcher sleeps in poll(2): bounds the TX latency of an idle engine.
const PARK_MS: i32 = 1;

enum Idle {
    Continue,
    Nap(Duration),
    Park,
}

/// The policy of `ts/worker/idle-backoff.ts`: under a steady stream, a pass that finds less than
/// a burst naps for about a burst's arrival time (at most `max_nap`), so wake-ups are paid per
/// burst; with no work at all, spin a little, then park. Only packets (received, sent) set the
/// rate: frames coming back from workers would count each packet twice.
struct Backoff {
    idle_passes: u32,
    window_start: Instant,
    window_work: u64,
    /// Smoothed packets per microsecond.
    rate_per_us: f64,
    burst: u32,
    max_nap_us: f64,
}

const SPIN_PASSES: u32 = 64;
/// The longest nap under a stream: bounds the latency it adds. 800 us did not cut the CPU per
/// packet measurably more on this VM (perf rss-rxdrop, noisy), so the latency is not worth it.
const MAX_NAP_US: f64 = 400.0;
/// Most packets one pass takes from the kernel's RX ring.
const MAX_BURST: usize = 1024;
const NAP_ABOVE_PER_US: f64 = 0.05; // 50,000 per second
const WINDOW: Duration = Duration::from_millis(2);

impl Backoff {
    fn new(burst: u32, max_nap_us: f64) -> Backoff {
        Backoff {
            idle_passes: 0,
            window_start: Instant::now(),
            window_work: 0,
            rate_per_us: 0.0,
            burst,
            max_nap_us,
        }
    }

    /// What to do after a pass that moved `packets` packets and `work` items in all.
    fn next(&mut self, packets: u32, work: u32) -> Idle {
        self.track(packets);
        if packets >= self.burst {
            self.idle_passes = 0;
            return Idle::Continue;
        }
        if self.rate_per_us >= NAP_ABOVE_PER_US {
            self.idle_passes = 0;
            let us = (f64::from(self.burst) / self.rate_per_us).min(self.max_nap_us);
            return Idle::Nap(Duration::from_nanos((us * 1000.0) as u64));
        }
        if work > 0 {
            self.idle_passes = 0;
            return Idle::Continue;
        }
        self.idle_passes += 1;
        if self.idle_passes <= SPIN_PASSES {
            std::hint::spin_loop();
            return Idle::Continue;
        }
        Idle::Park
    }

    fn track(&mut self, work: u32) {
        self.window_work += u64::from(work);
        let elapsed = self.window_start.elapsed();
        if elapsed < WINDOW {
            return;
        }
        let rate = self.window_work as f64 / elapsed.as_micros().max(1) as f64;
        self.rate_per_us = (self.rate_per_us + rate) / 2.0;
        self.window_work = 0;
        self.window_start = Instant::now();
    }
}

/// Lets short sleeps (naps of tens of microseconds) end close to when they were asked to; the
/// default slack of 50 us would double them. Only this thread is affected.
fn set_timer_slack_ns(ns: libc::c_ulong) {
    // SAFETY: PR_SET_TIMERSLACK takes an integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, ns, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_route_by_address_range() {
        let p = Partitions {
            shift: 11,
            frames: 64,
            rx_first: 0,
            rx_count: 32,
            tx_first: 32,
            tx_per_worker: 16,
            workers: 2,
        };
        assert!(p.is_rx(31) && !p.is_rx(32));
        assert_eq!(p.tx_owner(32), Some(0));
        assert_eq!(p.tx_owner(48), Some(1));
        assert_eq!(p.tx_owner(31), None);
        assert_eq!(p.frame_of(2048 * 64), None);
        assert_eq!(p.frame_of(2048 * 3 + 300), Some(3));
        assert_eq!(p.initial_place(5), Place::Free);
        assert_eq!(p.initial_place(40), Place::Worker);
    }

    #[test]
    fn backoff_naps_under_a_stream_and_parks_when_idle() {
        let mut b = Backoff::new(64, 400.0);
        for _ in 0..SPIN_PASSES {
            assert!(matches!(b.next(0, 0), Idle::Continue));
        }
        assert!(matches!(b.next(0, 0), Idle::Park));
        b.rate_per_us = 0.3; // 300 kpps
        match b.next(3, 6) {
            Idle::Nap(d) => assert!(d.as_micros() > 100 && d.as_micros() <= 400, "{d:?}"),
            _ => panic!("expected a nap"),
        }
        assert!(matches!(b.next(64, 128), Idle::Continue));
        b.rate_per_us = 0.0;
        assert!(
            matches!(b.next(0, 5), Idle::Continue),
            "returned frames are work"
        );
    }
}
