//! `wire`: a userspace Ethernet wire between two interfaces that impairs what crosses it the way
//! tc-netem(8) does (loss, delay with jitter, reordering, duplication), for kernels built without
//! the netem qdisc. Frames are read from one interface with AF_PACKET and written, whole and
//! unchanged, to the other; each direction has its own queue, impairments and counters.
//!
//! Runs until SIGINT/SIGTERM, then prints the counters as its JSON line; SIGUSR1 prints the
//! same line at any time without stopping. Prints `wire: ready` on stderr once both sockets are
//! bound, so a caller knows frames are being relayed from then on.

mod impairment;
pub mod packet_socket;
mod queue;
pub mod rng;

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::json::JsonLine;
use crate::sys;
use impairment::Impairment;
use packet_socket::{BatchIo, PacketSocket, Received, BATCH};
use queue::FrameQueue;
use rng::Rng;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub const USAGE: &str = "wire --a IF --b IF [--delay-ms N] [--jitter-ms N] [--loss PCT] \
[--reorder PCT] [--duplicate PCT] [--seed N] [--direction both|a-to-b|b-to-a] [--limit FRAMES]";

/// Frames each direction can hold by default (netem's `limit`); beyond it arrivals are dropped
/// and counted. Jumbo MTUs get fewer, so that a direction's pool stays within POOL_BYTES.
const DEFAULT_LIMIT: usize = 65_536;
const POOL_BYTES: usize = 128 << 20;

/// Longest sleep while idle, so signals and the clock are looked at regularly even if a signal
/// races with the start of the wait.
const MAX_WAIT_NS: u64 = 100_000_000;

struct Config {
    a: String,
    b: String,
    impairment: Impairment,
    a_to_b: bool,
    b_to_a: bool,
    seed: u64,
    /// None: DEFAULT_LIMIT, or fewer for jumbo frames.
    limit: Option<usize>,
}

fn percent(o: &Options, name: &str) -> Result<f64, Failure> {
    let pct: f64 = o.get_or(name, 0.0)?;
    if !(0.0..=100.0).contains(&pct) {
        return Err(Failure::usage(format!("wire: --{name} must be 0..100")));
    }
    Ok(pct / 100.0)
}

fn millis_to_ns(o: &Options, name: &str) -> Result<u64, Failure> {
    let ms: f64 = o.get_or(name, 0.0)?;
    if !(ms.is_finite() && (0.0..=3_600_000.0).contains(&ms)) {
        return Err(Failure::usage(format!("wire: --{name} must be 0..3600000")));
    }
    Ok((ms * 1e6).round() as u64)
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "wire",
        args,
        &[
            "a",
            "b",
            "delay-ms",
            "jitter-ms",
            "loss",
            "reorder",
            "duplicate",
            "seed",
            "direction",
            "limit",
        ],
        &[],
    )?;
    let impairment = Impairment {
        delay_ns: millis_to_ns(&o, "delay-ms")?,
        jitter_ns: millis_to_ns(&o, "jitter-ms")?,
        loss: percent(&o, "loss")?,
        reorder: percent(&o, "reorder")?,
        duplicate: percent(&o, "duplicate")?,
    };
    // tc-netem(8): reordering is some frames skipping the delay, so it needs one.
    if impairment.reorder > 0.0 && impairment.delay_ns == 0 {
        return Err(Failure::usage("wire: --reorder needs --delay-ms > 0"));
    }
    let direction: String = o.get_or("direction", "both".to_string())?;
    let (a_to_b, b_to_a) = match direction.as_str() {
        "both" => (true, true),
        "a-to-b" => (true, false),
        "b-to-a" => (false, true),
        _ => {
            return Err(Failure::usage(
                "wire: --direction must be both, a-to-b or b-to-a",
            ))
        }
    };
    let limit: Option<usize> = o.get("limit")?;
    if limit.is_some_and(|l| l == 0 || l > 1 << 22) {
        return Err(Failure::usage("wire: --limit must be 1..=4194304"));
    }
    Ok(Config {
        a: o.required("a")?,
        b: o.required("b")?,
        impairment,
        a_to_b,
        b_to_a,
        seed: o.get_or("seed", 1)?,
        limit,
    })
}

static REPORT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_report_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    REPORT.store(true, Ordering::Relaxed);
}

/// Routes SIGUSR1 to the report flag (its default action would kill the relay).
fn install_report_handler() -> io::Result<()> {
    // SAFETY: sigaction is a plain C struct; all-zero is a valid "no flags, empty mask" value.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_report_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: `action` is initialised, the handler only touches an atomic, and a null old-action
    // pointer is allowed.
    let rc = unsafe { libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The interface's MTU from sysfs (of the namespace the relay runs in); 1500 if unreadable.
fn mtu_of(name: &str) -> usize {
    std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1500)
}

#[derive(Default)]
struct Counters {
    received: u64,
    forwarded: u64,
    dropped: u64,
    duplicated: u64,
    reordered: u64,
    /// Arrivals dropped because the queue held `limit` frames.
    overflow: u64,
    /// Frames longer than the slot (MTU + headers): AF_PACKET cannot send them whole.
    oversize: u64,
    /// Frames the output interface refused (EMSGSIZE, ENOBUFS, ...).
    tx_errors: u64,
    /// Frames the kernel dropped before the relay read them (its socket buffer was full).
    kernel_drops: u64,
}

/// One direction of the wire: frames read from `from`, impaired, written to the other socket.
struct Direction {
    impairment: Impairment,
    rng: Rng,
    queue: FrameQueue,
    counters: Counters,
    io: BatchIo,
    received: [Received; BATCH],
    rx_slots: Vec<u32>,
    /// Frames due and taken from the queue but not yet sent (tx[tx_head..]).
    tx: Vec<u32>,
    tx_head: usize,
    tx_lens: Vec<usize>,
    /// The output socket said EAGAIN: wait for POLLOUT.
    blocked: bool,
    /// Where arrivals go when the queue is full, to be counted and dropped.
    overflow_pool: Box<[u8]>,
    overflow_slots: Vec<u32>,
}

impl Direction {
    fn new(impairment: Impairment, seed: u64, limit: usize, slot_size: usize) -> Self {
        Self {
            impairment,
            rng: Rng::new(seed),
            queue: FrameQueue::new(limit, slot_size),
            counters: Counters::default(),
            io: BatchIo::new(),
            received: [Received::default(); BATCH],
            rx_slots: Vec::with_capacity(BATCH),
            tx: Vec::with_capacity(BATCH),
            tx_head: 0,
            tx_lens: Vec::with_capacity(BATCH),
            blocked: false,
            overflow_pool: vec![0u8; BATCH * slot_size].into_boxed_slice(),
            overflow_slots: (0..BATCH as u32).collect(),
        }
    }

    /// Reads one batch from `from` and schedules it; returns how many frames arrived.
    fn receive(&mut self, from: &PacketSocket, now_ns: u64) -> io::Result<usize> {
        let slot_size = self.queue.slot_size();
        let want = BATCH.min(self.queue.free_count());
        if want == 0 {
            let n = self.io.recv(
                from,
                &mut self.overflow_pool,
                slot_size,
                &self.overflow_slots,
                &mut self.received,
            )?;
            self.counters.received += n as u64;
            self.counters.overflow += n as u64;
            return Ok(n);
        }
        self.queue.take_free(want, &mut self.rx_slots);
        let n = self.io.recv(
            from,
            self.queue.pool_mut(),
            slot_size,
            &self.rx_slots,
            &mut self.received,
        )?;
        for &slot in &self.rx_slots[n..] {
            self.queue.release_slot(slot);
        }
        for i in 0..n {
            self.admit(self.rx_slots[i], self.received[i], now_ns);
        }
        Ok(n)
    }

    fn admit(&mut self, slot: u32, frame: Received, now_ns: u64) {
        let c = &mut self.counters;
        c.received += 1;
        if frame.truncated {
            c.oversize += 1;
            self.queue.release_slot(slot);
            return;
        }
        self.queue.set_len(slot, frame.len);
        let fate = self.impairment.decide(now_ns, &mut self.rng);
        if fate.dropped {
            c.dropped += 1;
            self.queue.release_slot(slot);
            return;
        }
        c.reordered += u64::from(fate.reordered);
        self.queue.schedule(slot, fate.release_ns);
        if let Some(at) = fate.duplicate_ns {
            match self.queue.duplicate(slot) {
                Some(copy) => {
                    c.duplicated += 1;
                    self.queue.schedule(copy, at);
                }
                None => c.overflow += 1,
            }
        }
    }

    /// Sends what is due at `now_ns` out of `to` until nothing is due or the socket is full.
    fn drain(&mut self, to: &PacketSocket, now_ns: u64) {
        let slot_size = self.queue.slot_size();
        while !self.blocked {
            if self.tx_head == self.tx.len() {
                self.tx.clear();
                self.tx_head = 0;
                self.queue.pop_due(now_ns, BATCH, &mut self.tx);
                if self.tx.is_empty() {
                    return;
                }
            }
            let pending = &self.tx[self.tx_head..];
            self.tx_lens.clear();
            self.tx_lens
                .extend(pending.iter().map(|&s| self.queue.len_of(s)));
            match self
                .io
                .send(to, self.queue.pool(), slot_size, pending, &self.tx_lens)
            {
                Ok(sent) => {
                    self.counters.forwarded += sent as u64;
                    self.release_sent(sent);
                }
                Err(err) if err.raw_os_error() == Some(libc::EAGAIN) => self.blocked = true,
                Err(_) => {
                    // A frame the interface will not take (too long, no buffer): a lossy wire
                    // drops it; go on with the next.
                    self.counters.tx_errors += 1;
                    self.release_sent(1);
                }
            }
        }
    }

    fn release_sent(&mut self, count: usize) {
        for i in self.tx_head..self.tx_head + count {
            self.queue.release_slot(self.tx[i]);
        }
        self.tx_head += count;
    }

    /// True when frames are due now and the output can take them: no sleeping.
    fn has_due(&self, now_ns: u64) -> bool {
        !self.blocked
            && (self.tx_head < self.tx.len()
                || self.queue.next_release().is_some_and(|t| t <= now_ns))
    }

    /// Nanoseconds until the next frame is due (None: nothing queued, or waiting for POLLOUT).
    fn until_due(&self, now_ns: u64) -> Option<u64> {
        if self.blocked {
            return None;
        }
        self.queue.next_release().map(|t| t.saturating_sub(now_ns))
    }

    fn json(&self) -> String {
        let c = &self.counters;
        JsonLine::new()
            .int("received", c.received)
            .int("forwarded", c.forwarded)
            .int("dropped", c.dropped)
            .int("duplicated", c.duplicated)
            .int("reordered", c.reordered)
            .int("overflow", c.overflow)
            .int("oversize", c.oversize)
            .int("txErrors", c.tx_errors)
            .int("kernelDrops", c.kernel_drops)
            .int(
                "queued",
                (self.queue_capacity() - self.queue.free_count()) as u64,
            )
            .finish()
    }

    fn queue_capacity(&self) -> usize {
        self.queue.pool().len() / self.queue.slot_size()
    }
}

struct Wire {
    sockets: [PacketSocket; 2],
    /// [a -> b, b -> a].
    directions: [Direction; 2],
    start: Instant,
}

impl Wire {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn report(&mut self) -> String {
        for (d, dir) in self.directions.iter_mut().enumerate() {
            dir.counters.kernel_drops += self.sockets[d].take_kernel_drops();
        }
        format!(
            "{{\"a\":\"{}\",\"b\":\"{}\",\"seconds\":{:.3},\"cpuSeconds\":{:.3},\
             \"aToB\":{},\"bToA\":{}}}",
            self.sockets[0].name,
            self.sockets[1].name,
            self.start.elapsed().as_secs_f64(),
            sys::cpu_seconds(),
            self.directions[0].json(),
            self.directions[1].json()
        )
    }

    /// One pass: read a batch from each side, send what is due. Returns true when there may be
    /// more to do at once (a full batch arrived, or frames are due).
    fn step(&mut self) -> Result<bool, Failure> {
        let mut busy = false;
        let now = self.now_ns();
        for (d, dir) in self.directions.iter_mut().enumerate() {
            let from = &self.sockets[d];
            let n = dir
                .receive(from, now)
                .doing(|| format!("recvmmsg on {}", from.name))?;
            busy |= n == BATCH;
        }
        let now = self.now_ns();
        for (d, dir) in self.directions.iter_mut().enumerate() {
            dir.drain(&self.sockets[1 - d], now);
            busy |= dir.has_due(now);
        }
        Ok(busy)
    }

    /// Sleeps until a frame arrives, one is due, a blocked output drains, or a signal comes.
    fn sleep(&mut self) -> Result<(), Failure> {
        let now = self.now_ns();
        let timeout = self
            .directions
            .iter()
            .filter_map(|d| d.until_due(now))
            .min()
            .unwrap_or(MAX_WAIT_NS)
            .min(MAX_WAIT_NS);
        let mut fds = [0, 1].map(|s| libc::pollfd {
            fd: self.sockets[s].raw_fd(),
            // Socket s is the input of direction s and the output of direction 1 - s.
            events: libc::POLLIN
                | if self.directions[1 - s].blocked {
                    libc::POLLOUT
                } else {
                    0
                },
            revents: 0,
        });
        packet_socket::wait(&mut fds, timeout).doing(|| "ppoll".to_string())?;
        for (s, fd) in fds.iter().enumerate() {
            if fd.revents & libc::POLLOUT != 0 {
                self.directions[1 - s].blocked = false;
            }
        }
        Ok(())
    }
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    install_report_handler().doing(|| "install the SIGUSR1 handler".to_string())?;
    // Room for the largest frame either MTU allows plus two VLAN tags; longer ones are cut and
    // counted as oversize.
    let slot_size = (mtu_of(&cfg.a).max(mtu_of(&cfg.b)) + 14 + 8).next_multiple_of(64);
    let limit = cfg
        .limit
        .unwrap_or(DEFAULT_LIMIT.min(POOL_BYTES / slot_size));
    let clean = Impairment::default();
    let pick = |on: bool| if on { cfg.impairment } else { clean };
    let mut wire = Wire {
        sockets: [PacketSocket::open(&cfg.a)?, PacketSocket::open(&cfg.b)?],
        directions: [
            Direction::new(pick(cfg.a_to_b), cfg.seed, limit, slot_size),
            Direction::new(pick(cfg.b_to_a), cfg.seed ^ 0x5bd1_e995, limit, slot_size),
        ],
        start: Instant::now(),
    };
    eprintln!("wire: ready {} <-> {}", cfg.a, cfg.b);
    let mut busy = true;
    while !sys::stop_requested() {
        if REPORT.swap(false, Ordering::Relaxed) {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{}", wire.report());
            let _ = out.flush();
        }
        if !busy {
            wire.sleep()?;
        }
        busy = wire.step()?;
    }
    Ok(wire.report())
}
