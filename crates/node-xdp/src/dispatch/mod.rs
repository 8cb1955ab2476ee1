//! Software RSS for queues < workers (veth, small NICs): one dispatcher thread per AF_XDP socket
//! reads the socket's RX ring, hashes each frame's flow (Toeplitz, as a NIC would), looks up the
//! RETA (and the pins of open flows in moved buckets) and pushes the descriptor to the owning
//! worker's ring; it drains each worker's TX ring into the socket and returns completed frames to
//! their owners. Only `(addr, len)` moves; packet bytes stay where the kernel put them.
//!
//! Per worker there are four rings (rings/README.md layout) in one SharedArrayBuffer that the JS
//! side creates: `rx` (dispatcher -> worker, `[addr, len]`), `free` (worker -> dispatcher, RX
//! frames it is done with), `tx` (worker -> dispatcher, `[addr, len]`) and `comp` (dispatcher ->
//! worker, its completed TX frames).
//!
//! Module map: `shm_ring` (the rings/ layout in Rust), `classify` (what to hash in a frame),
//! `steering` (RETA + pins), `engine` (the thread's loop and frame ledger).

mod classify;
mod doorbell;
mod engine;
mod shm_ring;
mod steering;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use napi::bindgen_prelude::Uint8Array;
use napi::Unknown;
use napi_derive::napi;

pub use doorbell::{RingDoorbell, RingWaiter};

use crate::error::{err, Result};
use crate::ring::{Consumer, Producer};
use crate::rss::{Toeplitz, MAX_INPUT};
use crate::umem::shared_array;
use crate::xsk;
use engine::{Engine, KernelRings, Partitions, Place, Shared, Stats, UmemView, Update, WorkerEnds};
use shm_ring::{ShmConsumer, ShmProducer, ShmRing, ADDR_ENTRY_SIZE, DESC_ENTRY_SIZE};
use steering::{Command, FlowKey, Steering};

/// RETA entries are u8 worker indices.
const MAX_WORKERS: u32 = 255;

#[napi(object)]
pub struct DispatcherOptions {
    pub socket_id: u32,
    pub workers: u32,
    /// Byte offsets in `rings` of each worker's rings: `[rx, free, tx, comp]` per worker.
    pub ring_offsets: Vec<u32>,
    pub rx_first_frame: u32,
    pub rx_frame_count: u32,
    pub tx_first_frame: u32,
    pub tx_frames_per_worker: u32,
    /// The RSS key bytes (at least 40, so IPv6 4-tuples hash).
    pub key: Vec<u32>,
    /// bucket -> worker; a power of two long.
    pub reta: Vec<u32>,
    /// Descriptors per burst (default 64).
    pub batch: Option<u32>,
}

#[napi(object)]
pub struct FlowPin {
    /// The flow's tuple in RSS order (12 or 36 bytes).
    pub tuple: Vec<u32>,
    pub owner: u32,
}

#[napi(object)]
pub struct DispatcherStats {
    pub rx_packets: i64,
    pub rx_bytes: i64,
    pub tx_packets: i64,
    pub tx_bytes: i64,
    pub control: i64,
    pub pinned: i64,
    pub invalid_descs: i64,
    pub violations: i64,
    pub kicks: i64,
    pub naps: i64,
    pub parks: i64,
    /// Futex wakes of parked workers (doorbell.rs).
    pub wakes: i64,
    /// Per worker: descriptors pushed into its RX ring.
    pub delivered: Vec<i64>,
    /// Per worker: packets dropped because its RX ring was full.
    pub dropped: Vec<i64>,
    pub applied_generation: i64,
    pub last_error: Option<String>,
}

#[napi(object)]
pub struct DispatcherAudit {
    /// Place of every UMEM frame: 0 dispatcher free stack, 1 kernel fill/RX, 2 kernel TX/comp,
    /// 3 with the workers (their rings or held), 4 outside every partition.
    pub places: Vec<u32>,
    pub free_stack: u32,
    pub kernel_fill: u32,
    pub kernel_rx: u32,
    pub kernel_tx: u32,
    pub kernel_comp: u32,
    pub violations: i64,
    pub problems: Vec<String>,
    pub ok: bool,
}

/// The software-RSS dispatcher of one AF_XDP socket.
#[napi]
pub struct Dispatcher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Engine>>,
    stopped: Option<Engine>,
    workers: u32,
    reta_len: usize,
    next_generation: u64,
    /// Keep the UMEM and ring memory referenced while the thread reads them; the thread is
    /// joined (in `halt`, also from Drop) before these are released.
    _umem: Uint8Array,
    _rings: Uint8Array,
}

fn bytes(name: &str, values: &[u32]) -> Result<Vec<u8>> {
    values
        .iter()
        .map(|&v| u8::try_from(v).map_err(|_| err("EINVAL", format!("{name}: {v} is not a byte"))))
        .collect()
}

/// `value` as a Uint8Array over a SharedArrayBuffer, and its data pointer and length.
fn shared_bytes(value: &Unknown<'_>, what: &str) -> Result<(Uint8Array, NonNull<u8>, usize)> {
    let (held, _) = shared_array::<Uint8Array>(
        value,
        napi::sys::TypedarrayType::uint8_array,
        &format!("{what} must be a Uint8Array over a SharedArrayBuffer"),
    )?;
    let ptr = NonNull::new(held.as_ptr().cast_mut())
        .ok_or_else(|| err("EINVAL", format!("{what} is empty")))?;
    let len = held.len();
    Ok((held, ptr, len))
}

fn check_reta(reta: &[u8], workers: u32) -> Result<()> {
    if !reta.len().is_power_of_two() || reta.len() > 4096 {
        return Err(err(
            "EINVAL",
            format!(
                "the RETA has {} entries: use a power of two up to 4096",
                reta.len()
            ),
        ));
    }
    if let Some(w) = reta.iter().find(|&&w| u32::from(w) >= workers) {
        return Err(err(
            "EINVAL",
            format!("the RETA names worker {w}, but there are {workers} workers"),
        ));
    }
    Ok(())
}

fn partitions(opts: &DispatcherOptions, frame_size: u32, frames: u32) -> Result<Partitions> {
    let p = Partitions {
        shift: frame_size.trailing_zeros(),
        frames,
        rx_first: opts.rx_first_frame,
        rx_count: opts.rx_frame_count,
        tx_first: opts.tx_first_frame,
        tx_per_worker: opts.tx_frames_per_worker,
        workers: opts.workers,
    };
    let rx_end = u64::from(p.rx_first) + u64::from(p.rx_count);
    let tx_end = u64::from(p.tx_first) + u64::from(p.tx_per_worker) * u64::from(p.workers);
    let disjoint = rx_end <= u64::from(p.tx_first) || tx_end <= u64::from(p.rx_first);
    if p.rx_count == 0 || rx_end > u64::from(frames) || tx_end > u64::from(frames) || !disjoint {
        return Err(err(
            "EINVAL",
            format!(
                "frame partitions must be disjoint and inside the UMEM's {frames} frames: RX \
                 {}..{rx_end}, TX {}..{tx_end}",
                p.rx_first, p.tx_first
            ),
        ));
    }
    Ok(p)
}

fn attach(mem: NonNull<u8>, len: usize, offset: u32, entry: u32, name: &str) -> Result<ShmRing> {
    // SAFETY: `mem..mem + len` is the data of a Uint8Array over a SharedArrayBuffer that the
    // Dispatcher keeps referenced (`_rings`) until its thread has been joined.
    unsafe { ShmRing::attach(mem, len, offset as usize, entry) }
        .map_err(|m| err("EINVAL", format!("{name} ring: {m}")))
}

fn worker_ends(
    mem: NonNull<u8>,
    len: usize,
    offsets: &[u32],
    parts: &Partitions,
) -> Result<Vec<WorkerEnds>> {
    offsets
        .chunks_exact(4)
        .enumerate()
        .map(|(w, o)| {
            let comp = attach(mem, len, o[3], ADDR_ENTRY_SIZE, &format!("worker {w} comp"))?;
            if comp.capacity() < parts.tx_per_worker {
                return Err(err(
                    "EINVAL",
                    format!(
                        "worker {w}'s comp ring holds {} entries, fewer than its {} TX frames",
                        comp.capacity(),
                        parts.tx_per_worker
                    ),
                ));
            }
            Ok(WorkerEnds {
                rx: ShmProducer::new(attach(mem, len, o[0], DESC_ENTRY_SIZE, "rx")?),
                free: ShmConsumer::new(attach(mem, len, o[1], ADDR_ENTRY_SIZE, "free")?),
                tx: ShmConsumer::new(attach(mem, len, o[2], DESC_ENTRY_SIZE, "tx")?),
                comp: ShmProducer::new(comp),
            })
        })
        .collect()
}

fn kernel_rings(socket_id: u32) -> Result<KernelRings> {
    let socket = xsk::lookup(socket_id).ok_or_else(|| {
        err(
            "ENOENT",
            format!("no open AF_XDP socket with id {socket_id}: it was closed or never created"),
        )
    })?;
    if !socket.claim_port() {
        return Err(err(
            "EBUSY",
            format!(
                "AF_XDP socket {socket_id} already has an open port or dispatcher: close it first"
            ),
        ));
    }
    let busy = [&socket.rx, &socket.tx, &socket.fill, &socket.comp]
        .iter()
        .any(|r| r.ptrs().occupancy() != 0);
    if busy {
        socket.release_port();
        return Err(err(
            "EBUSY",
            format!(
                "AF_XDP socket {socket_id} still has frames in its rings from an earlier port: \
                 use a fresh socket"
            ),
        ));
    }
    // SAFETY: the rings live in mappings owned by `socket`, which KernelRings holds for as long
    // as these ends exist; the claim above makes this the only user-space producer/consumer.
    let (rx, tx, fill, comp) = unsafe {
        (
            Consumer::new(socket.rx.ptrs()),
            Producer::new(socket.tx.ptrs()),
            Producer::new(socket.fill.ptrs()),
            Consumer::new(socket.comp.ptrs()),
        )
    };
    Ok(KernelRings {
        rx,
        tx,
        fill,
        comp,
        socket,
    })
}

/// Checks that `umem` (a view of the UMEM's SharedArrayBuffer) covers the registered UMEM and
/// returns a view of UMEM address 0.
fn umem_view(socket: &xsk::XskShared, ptr: NonNull<u8>, len: usize) -> Result<UmemView> {
    let reg = socket.umem.registration();
    let start = ptr.as_ptr() as u64;
    if reg.addr < start || reg.addr + reg.len > start + len as u64 {
        return Err(err(
            "EINVAL",
            "umem must be a Uint8Array over the whole SharedArrayBuffer the UMEM was created on",
        ));
    }
    // SAFETY: `reg.addr` lies inside the checked range, so it is non-null and in the buffer.
    let base = unsafe { ptr.add((reg.addr - start) as usize) };
    Ok(UmemView {
        base,
        size: reg.len,
    })
}

#[napi]
impl Dispatcher {
    /// Starts the dispatcher thread of socket `opts.socketId` (claiming its data path: EBUSY if
    /// a port has it). `umem` is a Uint8Array over the UMEM's SharedArrayBuffer, `rings` one over
    /// the SharedArrayBuffer holding every worker's four rings (initialised by `initRing`).
    #[napi(
        factory,
        ts_args_type = "umem: Uint8Array, rings: Uint8Array, opts: DispatcherOptions"
    )]
    pub fn start(
        umem: Unknown<'_>,
        rings: Unknown<'_>,
        opts: DispatcherOptions,
    ) -> Result<Dispatcher> {
        if opts.workers == 0 || opts.workers > MAX_WORKERS {
            return Err(err("EINVAL", format!("workers must be 1..{MAX_WORKERS}")));
        }
        if opts.ring_offsets.len() != 4 * opts.workers as usize {
            return Err(err(
                "EINVAL",
                "ringOffsets needs [rx, free, tx, comp] per worker",
            ));
        }
        let key = bytes("key", &opts.key)?;
        if key.len() < MAX_INPUT + 4 {
            return Err(err("EINVAL", "the RSS key must be at least 40 bytes"));
        }
        let reta = bytes("reta", &opts.reta)?;
        check_reta(&reta, opts.workers)?;
        let batch = opts.batch.unwrap_or(64).clamp(1, 1024);
        let (umem_held, umem_ptr, umem_len) = shared_bytes(&umem, "umem")?;
        let (rings_held, rings_ptr, rings_len) = shared_bytes(&rings, "rings")?;
        let kernel = kernel_rings(opts.socket_id)?;
        // From here on an error drops `kernel`, which releases the claim.
        let shared_umem = &kernel.socket.umem;
        let frames = (shared_umem.size / u64::from(shared_umem.frame_size)) as u32;
        let parts = partitions(&opts, shared_umem.frame_size, frames)?;
        let view = umem_view(&kernel.socket, umem_ptr, umem_len)?;
        let ends = worker_ends(rings_ptr, rings_len, &opts.ring_offsets, &parts)?;
        let steering = Steering::new(Toeplitz::new(&key)?, reta.clone());
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            pending: AtomicBool::new(false),
            updates: Mutex::new(Vec::new()),
            applied: AtomicU64::new(0),
            stats: Stats::new(opts.workers as usize),
        });
        let engine = Engine::new(shared.clone(), kernel, view, parts, ends, steering, batch);
        let thread = std::thread::Builder::new()
            .name(format!("xdp-dispatch-{}", opts.socket_id))
            .spawn(move || engine.run())
            .map_err(|e| crate::error::os(&e, "starting the dispatcher thread"))?;
        Ok(Dispatcher {
            shared,
            thread: Some(thread),
            stopped: None,
            workers: opts.workers,
            reta_len: reta.len(),
            next_generation: 1,
            _umem: umem_held,
            _rings: rings_held,
        })
    }

    /// Queues a change for the thread, applied as one step between two bursts: pins first,
    /// then unpins, then the new RETA (if given). Returns its generation; `appliedGeneration`
    /// reaches it once every packet after that is steered by the new state.
    #[napi]
    pub fn update(
        &mut self,
        reta: Option<Vec<u32>>,
        pins: Option<Vec<FlowPin>>,
        unpins: Option<Vec<Vec<u32>>>,
    ) -> Result<i64> {
        let mut commands = Vec::new();
        for pin in pins.unwrap_or_default() {
            if pin.owner >= self.workers {
                return Err(err(
                    "EINVAL",
                    format!("pin owner {} is not a worker", pin.owner),
                ));
            }
            commands.push(Command::Pin(flow_key(&pin.tuple)?, pin.owner as u8));
        }
        for tuple in unpins.unwrap_or_default() {
            commands.push(Command::Unpin(flow_key(&tuple)?));
        }
        if let Some(reta) = reta {
            let reta = bytes("reta", &reta)?;
            if reta.len() != self.reta_len {
                return Err(err(
                    "EINVAL",
                    format!("the RETA must keep its {} entries", self.reta_len),
                ));
            }
            check_reta(&reta, self.workers)?;
            commands.push(Command::SetReta(reta));
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.shared
            .updates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Update {
                generation,
                commands,
            });
        self.shared.pending.store(true, Ordering::Release);
        Ok(generation as i64)
    }

    /// The last update generation the thread has applied.
    #[napi(getter)]
    pub fn applied_generation(&self) -> i64 {
        self.shared.applied.load(Ordering::Acquire) as i64
    }

    /// True while the thread runs.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.thread.is_some()
    }

    #[napi]
    pub fn stats(&self) -> DispatcherStats {
        let s = &self.shared.stats;
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed) as i64;
        DispatcherStats {
            rx_packets: n(&s.rx_packets),
            rx_bytes: n(&s.rx_bytes),
            tx_packets: n(&s.tx_packets),
            tx_bytes: n(&s.tx_bytes),
            control: n(&s.control),
            pinned: n(&s.pinned),
            invalid_descs: n(&s.invalid_descs),
            violations: n(&s.violations),
            kicks: n(&s.kicks),
            naps: n(&s.naps),
            parks: n(&s.parks),
            wakes: n(&s.wakes),
            delivered: s.delivered.iter().map(n).collect(),
            dropped: s.dropped.iter().map(n).collect(),
            applied_generation: self.applied_generation(),
            last_error: s
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Stops the thread after it has moved what the workers handed over and the kernel has sent
    /// what it was given. Stop the workers' loops first. Idempotent.
    #[napi]
    pub fn stop(&mut self) -> Result<()> {
        self.halt()
    }

    /// Frame accounting after `stop()`: where every frame is, with the ring counts to match.
    #[napi]
    pub fn audit(&self) -> Result<DispatcherAudit> {
        let engine = self
            .stopped
            .as_ref()
            .ok_or_else(|| err("EBUSY", "stop() the dispatcher before an audit"))?;
        Ok(audit(engine))
    }

    /// Stops the thread and gives the socket's data path back. Idempotent.
    #[napi]
    pub fn close(&mut self) -> Result<()> {
        let result = self.halt();
        self.stopped = None;
        result
    }
}

impl Dispatcher {
    fn halt(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.shared.stop.store(true, Ordering::Release);
        match thread.join() {
            Ok(engine) => {
                self.stopped = Some(engine);
                Ok(())
            }
            Err(_) => Err(err("EIO", "the dispatcher thread panicked")),
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        // The thread reads memory `_umem`/`_rings` keep alive: join it before they go.
        let _ = self.halt();
    }
}

fn flow_key(tuple: &[u32]) -> Result<FlowKey> {
    FlowKey::from_tuple(&bytes("tuple", tuple)?).ok_or_else(|| {
        err(
            "EINVAL",
            "a flow tuple is 12 (IPv4) or 36 (IPv6) bytes in RSS order",
        )
    })
}

fn audit(engine: &Engine) -> DispatcherAudit {
    let census = engine.census();
    let k = &engine.kernel;
    let fill = k.fill.ptrs().occupancy();
    let rx = k.rx.ptrs().occupancy();
    let tx = k.tx.ptrs().occupancy();
    let comp = k.comp.ptrs().occupancy();
    let violations = engine.shared.stats.violations.load(Ordering::Relaxed) as i64;
    let mut problems = Vec::new();
    if violations > 0 {
        problems.push(format!(
            "{violations} frame moves started from the wrong place"
        ));
    }
    if census[Place::Free as usize] as usize != engine.free.len() {
        problems.push(format!(
            "ledger has {} free frames, the free stack {}",
            census[Place::Free as usize],
            engine.free.len()
        ));
    }
    let mut in_stack = engine.free.clone();
    in_stack.sort_unstable();
    in_stack.dedup();
    if in_stack.len() != engine.free.len() {
        problems.push("the free stack holds a frame twice".to_string());
    }
    if census[Place::Kernel as usize] != fill + rx {
        problems.push(format!(
            "{} frames given to the fill ring, kernel shows fill {fill} + rx {rx}",
            census[Place::Kernel as usize]
        ));
    }
    if census[Place::KernelTx as usize] != tx + comp {
        problems.push(format!(
            "{} frames sent, kernel shows tx {tx} + completion {comp}",
            census[Place::KernelTx as usize]
        ));
    }
    DispatcherAudit {
        places: engine.place.iter().map(|&p| p as u32).collect(),
        free_stack: engine.free.len() as u32,
        kernel_fill: fill,
        kernel_rx: rx,
        kernel_tx: tx,
        kernel_comp: comp,
        violations,
        ok: problems.is_empty(),
        problems,
    }
}
