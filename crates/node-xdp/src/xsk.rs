//! AF_XDP sockets: one per interface queue, all over one UMEM, kept in a process-wide registry
//! so that a worker thread can open a socket's data path (`XskPort`) by id.
//!
//! Creation follows the kernel's order (Documentation/networking/af_xdp.rst, libxdp's
//! `xsk_socket__create_shared`): socket, UMEM registration (first socket only), ring sizes,
//! mmap of the rings (only allowed before bind), busy-poll options, bind.

use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use napi_derive::napi;

use crate::error::{self, err, Error, Result};
use crate::ifinfo;
use crate::ring::MappedRing;
use crate::sys;
use crate::umem::{Umem, UmemShared};

const DEFAULT_RING_SIZE: u32 = 2048;
/// Larger rings only cost memory, but a typo like 2^31 would try to allocate gigabytes.
const MAX_RING_SIZE: u32 = 1 << 20;

#[napi(object)]
#[derive(Clone, Default)]
pub struct BusyPollOptions {
    /// SO_PREFER_BUSY_POLL
    pub prefer_busy_poll: Option<bool>,
    /// SO_BUSY_POLL, microseconds
    pub usecs: Option<u32>,
    /// SO_BUSY_POLL_BUDGET, packets per busy-poll round
    pub budget: Option<u32>,
}

/// A socket's busy-poll settings as the kernel reads them back (getsockopt).
#[napi(object)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusyPollSettings {
    /// SO_PREFER_BUSY_POLL
    pub prefer_busy_poll: bool,
    /// SO_BUSY_POLL, microseconds (0: off)
    pub usecs: u32,
    /// SO_BUSY_POLL_BUDGET; absent where the kernel cannot report it (its getsockopt has no
    /// SO_BUSY_POLL_BUDGET: ENOPROTOOPT, as on 6.18), so only what was set is known.
    pub budget: Option<u32>,
    /// SO_INCOMING_NAPI_ID: the NAPI instance busy polling drives, learnt from the first packet
    /// received (zero-copy: at bind). 0 until then, and for good where the driver registers its
    /// XDP RX queue without one (generic XDP): busy polling then has nothing to poll.
    pub napi_id: u32,
}

#[napi(object)]
pub struct XskOptions {
    pub ifname: String,
    pub queue: u32,
    /// auto: zero-copy where the driver supports it, else copy.
    #[napi(ts_type = "'auto' | 'zerocopy' | 'copy'")]
    pub mode: Option<String>,
    /// XDP_USE_NEED_WAKEUP (default true): the kernel says when it needs a syscall to proceed.
    pub need_wakeup: Option<bool>,
    pub rx_size: Option<u32>,
    pub tx_size: Option<u32>,
    pub fill_size: Option<u32>,
    pub comp_size: Option<u32>,
    pub busy_poll: Option<BusyPollOptions>,
    /// XDP_USE_SG (kernel 6.6+): packets larger than one UMEM frame arrive, and may be sent, as
    /// chains of descriptors marked XDP_PKT_CONTD (Documentation/networking/af_xdp.rst,
    /// "Multi-Buffer Support"). Default false: the kernel drops such packets. Sockets sharing a
    /// UMEM take the first socket's setting.
    pub multi_buffer: Option<bool>,
}

#[napi(object)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingSizes {
    pub rx: u32,
    pub tx: u32,
    pub fill: u32,
    pub comp: u32,
}

#[napi(object)]
pub struct XskStats {
    /// Kernel (XDP_STATISTICS): packets dropped for lack of RX ring space or other reasons.
    pub rx_dropped: i64,
    pub rx_invalid_descs: i64,
    pub tx_invalid_descs: i64,
    pub rx_ring_full: i64,
    pub rx_fill_ring_empty_descs: i64,
    pub tx_ring_empty_descs: i64,
    /// Ours, updated once per batch by the port.
    pub rx_packets: i64,
    pub rx_bytes: i64,
    pub tx_packets: i64,
    pub tx_bytes: i64,
    /// Wake-up syscalls (sendto/recvfrom) the port made.
    pub kicks: i64,
    /// rx() calls that found the fill ring empty: the kernel had no frame to receive into.
    pub fill_empty_events: i64,
    /// Descriptors the port refused (outside UMEM or crossing a frame).
    pub invalid_descs: i64,
}

/// Our own counters, bumped once per batch.
#[derive(Debug, Default)]
pub struct Counters {
    pub rx_packets: AtomicU64,
    pub rx_bytes: AtomicU64,
    pub tx_packets: AtomicU64,
    pub tx_bytes: AtomicU64,
    pub kicks: AtomicU64,
    pub fill_empty_events: AtomicU64,
    pub invalid_descs: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// A bound socket's state, shared by its `XskSocket`, the registry and its port.
#[derive(Debug)]
pub struct XskShared {
    pub id: u32,
    pub ifname: String,
    pub ifindex: u32,
    pub queue: u32,
    pub zero_copy: bool,
    pub need_wakeup: bool,
    /// Bound with XDP_USE_SG: descriptors may form multi-buffer chains (XDP_PKT_CONTD).
    pub multi_buffer: bool,
    /// SO_BUSY_POLL is set on the socket.
    pub busy_poll: bool,
    /// The data path makes its syscall (recvfrom/sendto) whenever the rings give it nothing to
    /// do, since with busy polling that call is what runs the driver's NAPI poll. On with
    /// `busy_poll`; turned off where the socket turns out to have no NAPI to poll.
    pub idle_syscalls: AtomicBool,
    pub sizes: RingSizes,
    pub rx: MappedRing,
    pub tx: MappedRing,
    pub fill: MappedRing,
    pub comp: MappedRing,
    pub umem: Arc<UmemShared>,
    pub counters: Counters,
    port_open: AtomicBool,
    /// Declared last: the rings above are unmapped before the socket closes.
    fd: OwnedFd,
}

impl XskShared {
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Takes exclusive data-path ownership; false if a port already has it.
    pub fn claim_port(&self) -> bool {
        self.port_open
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub fn release_port(&self) {
        self.port_open.store(false, Ordering::Release);
    }

    /// The busy-poll socket options as the kernel holds them.
    pub fn busy_poll_settings(&self) -> Result<BusyPollSettings> {
        let get = |name: i32, what: &str| {
            sys::getsockopt::<libc::c_int>(self.fd.as_fd(), libc::SOL_SOCKET, name)
                .map(|(v, _)| v.max(0) as u32)
                .map_err(|e| error::os(&e, format!("reading {what} of AF_XDP socket {}", self.id)))
        };
        let budget = match sys::getsockopt::<libc::c_int>(
            self.fd.as_fd(),
            libc::SOL_SOCKET,
            sys::SO_BUSY_POLL_BUDGET,
        ) {
            Ok((v, _)) => Some(v.max(0) as u32),
            Err(e) if error::errno(&e) == libc::ENOPROTOOPT => None,
            Err(e) => {
                return Err(error::os(
                    &e,
                    format!("reading SO_BUSY_POLL_BUDGET of AF_XDP socket {}", self.id),
                ))
            }
        };
        Ok(BusyPollSettings {
            prefer_busy_poll: get(sys::SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL")? != 0,
            usecs: get(sys::SO_BUSY_POLL, "SO_BUSY_POLL")?,
            budget,
            napi_id: get(sys::SO_INCOMING_NAPI_ID, "SO_INCOMING_NAPI_ID")?,
        })
    }

    fn kernel_stats(&self) -> Result<libc::xdp_statistics> {
        sys::getsockopt::<libc::xdp_statistics>(
            self.fd.as_fd(),
            libc::SOL_XDP,
            libc::XDP_STATISTICS,
        )
        .map(|(stats, _)| stats)
        .map_err(|e| {
            error::os(
                &e,
                format!("reading statistics of AF_XDP socket {}", self.id),
            )
        })
    }
}

impl Drop for XskShared {
    fn drop(&mut self) {
        bound_queues().remove(&(self.ifindex, self.queue));
    }
}

/// Open sockets by id; `XskSocket.close()` removes its entry, ports hold their own `Arc`.
static REGISTRY: LazyLock<Mutex<HashMap<u32, Arc<XskShared>>>> = LazyLock::new(Default::default);
static NEXT_ID: AtomicU32 = AtomicU32::new(1);
/// (ifindex, queue) pairs bound by a live socket of this process, closed or not.
static BOUND: LazyLock<Mutex<HashSet<(u32, u32)>>> = LazyLock::new(Default::default);

fn registry() -> MutexGuard<'static, HashMap<u32, Arc<XskShared>>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

fn bound_queues() -> MutexGuard<'static, HashSet<(u32, u32)>> {
    BOUND.lock().unwrap_or_else(|p| p.into_inner())
}

/// The open socket with this id, for a port.
pub fn lookup(id: u32) -> Option<Arc<XskShared>> {
    registry().get(&id).cloned()
}

/// An AF_XDP socket bound to one queue of one interface.
#[napi]
pub struct XskSocket {
    shared: Option<Arc<XskShared>>,
    id: u32,
    ifname: String,
    ifindex: u32,
    queue: u32,
    zero_copy: bool,
    need_wakeup: bool,
    sizes: RingSizes,
}

#[napi]
impl XskSocket {
    /// Creates and binds a socket on `opts.ifname` queue `opts.queue` over `umem`.
    #[napi(factory)]
    pub fn create(umem: &Umem, opts: XskOptions) -> Result<XskSocket> {
        let shared = create_shared(umem.shared()?, &opts)?;
        registry().insert(shared.id, shared.clone());
        Ok(XskSocket {
            id: shared.id,
            ifname: shared.ifname.clone(),
            ifindex: shared.ifindex,
            queue: shared.queue,
            zero_copy: shared.zero_copy,
            need_wakeup: shared.need_wakeup,
            sizes: shared.sizes,
            shared: Some(shared),
        })
    }

    /// Process-wide id: `XskPort.open(id, ...)` from any thread.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The socket's fd (for the XSKMAP), or -1 once closed.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.shared.as_ref().map_or(-1, |s| s.raw_fd())
    }

    #[napi(getter)]
    pub fn ifname(&self) -> String {
        self.ifname.clone()
    }

    #[napi(getter)]
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    #[napi(getter)]
    pub fn queue(&self) -> u32 {
        self.queue
    }

    #[napi(getter)]
    pub fn zero_copy(&self) -> bool {
        self.zero_copy
    }

    #[napi(getter, ts_return_type = "'zerocopy' | 'copy'")]
    pub fn mode(&self) -> String {
        if self.zero_copy { "zerocopy" } else { "copy" }.to_string()
    }

    #[napi(getter)]
    pub fn need_wakeup(&self) -> bool {
        self.need_wakeup
    }

    #[napi(getter)]
    pub fn ring_sizes(&self) -> RingSizes {
        self.sizes
    }

    /// Whether the data path busy-polls (SO_BUSY_POLL was set).
    #[napi(getter)]
    pub fn busy_poll(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.busy_poll)
    }

    /// Whether the data path makes its syscall whenever the rings are idle (busy polling's way of
    /// running the NAPI poll).
    #[napi(getter)]
    pub fn idle_syscalls(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|s| s.idle_syscalls.load(Ordering::Relaxed))
    }

    /// Stops (or restarts) those idle syscalls: where the socket has no NAPI id, busy polling
    /// polls nothing and they only cost CPU. The socket options stay as set.
    #[napi]
    pub fn set_idle_syscalls(&self, on: bool) -> Result<()> {
        let shared = self.shared.as_ref().ok_or_else(|| closed(self.id))?;
        shared.idle_syscalls.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// The busy-poll socket options read back from the kernel, and the socket's NAPI id.
    #[napi]
    pub fn busy_poll_settings(&self) -> Result<BusyPollSettings> {
        let shared = self.shared.as_ref().ok_or_else(|| closed(self.id))?;
        shared.busy_poll_settings()
    }

    /// Kernel statistics (XDP_STATISTICS) and the port's counters.
    #[napi]
    pub fn stats(&self) -> Result<XskStats> {
        let shared = self.shared.as_ref().ok_or_else(|| closed(self.id))?;
        let k = shared.kernel_stats()?;
        let c = &shared.counters;
        let n = |v: u64| v as i64;
        let a = |v: &AtomicU64| v.load(Ordering::Relaxed) as i64;
        Ok(XskStats {
            rx_dropped: n(k.rx_dropped),
            rx_invalid_descs: n(k.rx_invalid_descs),
            tx_invalid_descs: n(k.tx_invalid_descs),
            rx_ring_full: n(k.rx_ring_full),
            rx_fill_ring_empty_descs: n(k.rx_fill_ring_empty_descs),
            tx_ring_empty_descs: n(k.tx_ring_empty_descs),
            rx_packets: a(&c.rx_packets),
            rx_bytes: a(&c.rx_bytes),
            tx_packets: a(&c.tx_packets),
            tx_bytes: a(&c.tx_bytes),
            kicks: a(&c.kicks),
            fill_empty_events: a(&c.fill_empty_events),
            invalid_descs: a(&c.invalid_descs),
        })
    }

    /// Removes the socket from the registry; the fd and rings go when the last port drops.
    #[napi]
    pub fn close(&mut self) {
        if self.shared.take().is_some() {
            registry().remove(&self.id);
        }
    }
}

impl Drop for XskSocket {
    /// A socket object the program dropped without `close()` is closed when collected.
    fn drop(&mut self) {
        self.close();
    }
}

fn closed(id: u32) -> Error {
    err("EBADF", format!("AF_XDP socket {id} is closed"))
}

/// Mode and wake-up settings as asked for.
struct Wanted {
    zero_copy: Option<bool>,
    need_wakeup: Option<bool>,
    multi_buffer: bool,
}

fn wanted(opts: &XskOptions) -> Result<Wanted> {
    let zero_copy = match opts.mode.as_deref().unwrap_or("auto") {
        "auto" => None,
        "zerocopy" => Some(true),
        "copy" => Some(false),
        other => {
            return Err(err(
                "EINVAL",
                format!("mode must be 'auto', 'zerocopy' or 'copy' (got '{other}')"),
            ))
        }
    };
    Ok(Wanted {
        zero_copy,
        need_wakeup: opts.need_wakeup,
        multi_buffer: opts.multi_buffer.unwrap_or(false),
    })
}

fn ring_sizes(opts: &XskOptions) -> Result<RingSizes> {
    let pick = |name: &str, v: Option<u32>| -> Result<u32> {
        let v = v.unwrap_or(DEFAULT_RING_SIZE);
        if !v.is_power_of_two() || v > MAX_RING_SIZE {
            return Err(err(
                "EINVAL",
                format!("{name} must be a power of two between 1 and {MAX_RING_SIZE} (got {v})"),
            ));
        }
        Ok(v)
    };
    Ok(RingSizes {
        rx: pick("rxSize", opts.rx_size)?,
        tx: pick("txSize", opts.tx_size)?,
        fill: pick("fillSize", opts.fill_size)?,
        comp: pick("compSize", opts.comp_size)?,
    })
}

/// Holds an (ifindex, queue) reservation until the socket owns it or creation fails.
struct QueueClaim {
    key: Option<(u32, u32)>,
}

impl QueueClaim {
    fn take(ifname: &str, ifindex: u32, queue: u32) -> Result<QueueClaim> {
        if !bound_queues().insert((ifindex, queue)) {
            return Err(err(
                "EBUSY",
                format!(
                    "queue {queue} of {ifname} is already bound by an AF_XDP socket of this process: \
                     close it (and its port) first"
                ),
            ));
        }
        Ok(QueueClaim {
            key: Some((ifindex, queue)),
        })
    }

    /// The socket now releases the queue in its own Drop.
    fn keep(mut self) {
        self.key = None;
    }
}

impl Drop for QueueClaim {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            bound_queues().remove(&key);
        }
    }
}

fn create_shared(umem: &Arc<UmemShared>, opts: &XskOptions) -> Result<Arc<XskShared>> {
    let want = wanted(opts)?;
    let sizes = ring_sizes(opts)?;
    let ifname = opts.ifname.as_str();
    let queue = opts.queue;
    let ifindex = ifinfo::ifindex(ifname)?;
    let queues = ifinfo::rx_queue_count(ifname);
    if queue >= queues {
        return Err(err(
            "EINVAL",
            format!(
                "queue {queue} out of range: {ifname} has {queues} RX queue{}",
                if queues == 1 { "" } else { "s" }
            ),
        ));
    }
    let claim = QueueClaim::take(ifname, ifindex, queue)?;
    let fd = sys::xsk_socket().map_err(|e| socket_error(&e))?;
    let sharer = umem.live_socket();
    match &sharer {
        None => register_umem(&fd, umem)?,
        Some(first) => check_same_mode(first, &want)?,
    }
    let opt = |name: i32, entries: u32, what: &str| {
        sys::setsockopt(fd.as_fd(), libc::SOL_XDP, name, &(entries as libc::c_int))
            .map_err(|e| error::os(&e, format!("setting the {what} ring size to {entries}")))
    };
    opt(libc::XDP_UMEM_FILL_RING, sizes.fill, "fill")?;
    opt(libc::XDP_UMEM_COMPLETION_RING, sizes.comp, "completion")?;
    opt(libc::XDP_RX_RING, sizes.rx, "RX")?;
    opt(libc::XDP_TX_RING, sizes.tx, "TX")?;
    let rings = map_rings(&fd, &sizes)?;
    let busy_poll = match &opts.busy_poll {
        Some(busy) => set_busy_poll(&fd, busy)?,
        None => false,
    };
    let (zero_copy, need_wakeup) = bind(&fd, ifname, ifindex, queue, &want, sharer.as_deref())?;
    // The kernel keeps the first socket's XDP_USE_SG in the UMEM for every socket sharing it
    // (net/xdp/xsk.c `xsk_bind`: XDP_UMEM_SG_FLAG), which refuses the flag on the others.
    let multi_buffer = sharer
        .as_deref()
        .map_or(want.multi_buffer, |f| f.multi_buffer);
    let shared = Arc::new(XskShared {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        ifname: ifname.to_string(),
        ifindex,
        queue,
        zero_copy,
        need_wakeup,
        multi_buffer,
        busy_poll,
        idle_syscalls: AtomicBool::new(busy_poll),
        sizes,
        rx: rings.rx,
        tx: rings.tx,
        fill: rings.fill,
        comp: rings.comp,
        umem: umem.clone(),
        counters: Counters::default(),
        port_open: AtomicBool::new(false),
        fd,
    });
    claim.keep();
    umem.add_socket(&shared);
    Ok(shared)
}

fn socket_error(e: &std::io::Error) -> Error {
    match error::errno(e) {
        libc::EPERM | libc::EACCES => err(
            "EPERM",
            "creating an AF_XDP socket needs root or CAP_NET_RAW (and CAP_BPF + CAP_NET_ADMIN for \
             the XDP program, CAP_IPC_LOCK or a memlock limit for UMEM)",
        ),
        libc::EAFNOSUPPORT => err("EAFNOSUPPORT", "kernel has no AF_XDP (CONFIG_XDP_SOCKETS)"),
        _ => error::os(e, "creating an AF_XDP socket"),
    }
}

fn register_umem(fd: &OwnedFd, umem: &UmemShared) -> Result<()> {
    let reg = umem.registration();
    sys::setsockopt(fd.as_fd(), libc::SOL_XDP, libc::XDP_UMEM_REG, &reg).map_err(|e| {
        match error::errno(&e) {
            libc::ENOBUFS | libc::ENOMEM | libc::EPERM => err(
                error::errno_name(error::errno(&e)).unwrap_or("ENOBUFS"),
                format!(
                    "registering {} bytes of UMEM exceeds the locked-memory limit: raise it \
                 (`ulimit -l`, LimitMEMLOCK=) or grant CAP_IPC_LOCK",
                    reg.len
                ),
            ),
            _ => error::os(
                &e,
                format!(
                    "registering UMEM ({} frames of {}, headroom {})",
                    umem.frame_count, umem.frame_size, umem.headroom
                ),
            ),
        }
    })
}

/// Sockets sharing a UMEM inherit its first socket's mode and wake-up setting: the kernel
/// refuses bind flags with XDP_SHARED_UMEM (net/xdp/xsk.c `xsk_bind`).
fn check_same_mode(first: &XskShared, want: &Wanted) -> Result<()> {
    let mode = |zc: bool| if zc { "zerocopy" } else { "copy" };
    if let Some(zc) = want.zero_copy {
        if zc != first.zero_copy {
            return Err(err(
                "EINVAL",
                format!(
                    "mode '{}' differs from this Umem's: it is in {} mode, set by its first socket \
                     (on {} queue {}); sockets sharing a Umem share its mode",
                    mode(zc),
                    mode(first.zero_copy),
                    first.ifname,
                    first.queue
                ),
            ));
        }
    }
    if let Some(nw) = want.need_wakeup {
        if nw != first.need_wakeup {
            return Err(err(
                "EINVAL",
                format!(
                    "needWakeup {nw} differs from this Umem's first socket (on {} queue {}); \
                     sockets sharing a Umem share it",
                    first.ifname, first.queue
                ),
            ));
        }
    }
    Ok(())
}

struct Rings {
    rx: MappedRing,
    tx: MappedRing,
    fill: MappedRing,
    comp: MappedRing,
}

fn map_rings(fd: &OwnedFd, sizes: &RingSizes) -> Result<Rings> {
    let (off, _) = sys::getsockopt::<libc::xdp_mmap_offsets>(
        fd.as_fd(),
        libc::SOL_XDP,
        libc::XDP_MMAP_OFFSETS,
    )
    .map_err(|e| error::os(&e, "reading the AF_XDP ring offsets (XDP_MMAP_OFFSETS)"))?;
    let desc = std::mem::size_of::<libc::xdp_desc>();
    let addr = std::mem::size_of::<u64>();
    let map = |o: &libc::xdp_ring_offset, size: u32, entry: usize, pgoff: u64, what: &str| {
        MappedRing::map(fd.as_fd(), o, size, entry, pgoff)
            .map_err(|e| error::os(&e, format!("mapping the {what} ring of {size} entries")))
    };
    Ok(Rings {
        rx: map(
            &off.rx,
            sizes.rx,
            desc,
            libc::XDP_PGOFF_RX_RING as u64,
            "RX",
        )?,
        tx: map(
            &off.tx,
            sizes.tx,
            desc,
            libc::XDP_PGOFF_TX_RING as u64,
            "TX",
        )?,
        fill: map(
            &off.fr,
            sizes.fill,
            addr,
            libc::XDP_UMEM_PGOFF_FILL_RING,
            "fill",
        )?,
        comp: map(
            &off.cr,
            sizes.comp,
            addr,
            libc::XDP_UMEM_PGOFF_COMPLETION_RING,
            "completion",
        )?,
    })
}

/// Sets the busy-poll options given; true when SO_BUSY_POLL is on. ENOPROTOOPT: the kernel was
/// built without CONFIG_NET_RX_BUSY_POLL.
fn set_busy_poll(fd: &OwnedFd, busy: &BusyPollOptions) -> Result<bool> {
    let set = |name: i32, value: u32, what: &str| {
        sys::setsockopt(
            fd.as_fd(),
            libc::SOL_SOCKET,
            name,
            &(value.min(i32::MAX as u32) as libc::c_int),
        )
        .map_err(|e| match error::errno(&e) {
            libc::EPERM => err(
                "EPERM",
                format!("setting {what} to {value} above the system default needs CAP_NET_ADMIN"),
            ),
            libc::ENOPROTOOPT => err(
                "ENOPROTOOPT",
                format!(
                    "setting {what}: this kernel has no socket busy polling \
                     (built without CONFIG_NET_RX_BUSY_POLL)"
                ),
            ),
            _ => error::os(&e, format!("setting {what} to {value}")),
        })
    };
    if let Some(prefer) = busy.prefer_busy_poll {
        set(
            sys::SO_PREFER_BUSY_POLL,
            u32::from(prefer),
            "SO_PREFER_BUSY_POLL",
        )?;
    }
    if let Some(usecs) = busy.usecs {
        set(sys::SO_BUSY_POLL, usecs, "SO_BUSY_POLL")?;
    }
    if let Some(budget) = busy.budget {
        set(sys::SO_BUSY_POLL_BUDGET, budget, "SO_BUSY_POLL_BUDGET")?;
    }
    Ok(busy.usecs.is_some_and(|usecs| usecs > 0))
}

/// Binds and returns (zero-copy, need-wakeup) as the kernel settled them.
fn bind(
    fd: &OwnedFd,
    ifname: &str,
    ifindex: u32,
    queue: u32,
    want: &Wanted,
    sharer: Option<&XskShared>,
) -> Result<(bool, bool)> {
    let (flags, shared_fd) = match sharer {
        Some(first) => (libc::XDP_SHARED_UMEM, first.raw_fd() as u32),
        None => {
            let mut flags = match want.zero_copy {
                Some(true) => libc::XDP_ZEROCOPY,
                Some(false) => libc::XDP_COPY,
                // No mode flag: the kernel tries zero-copy and falls back to copy.
                None => 0,
            };
            if want.need_wakeup.unwrap_or(true) {
                flags |= libc::XDP_USE_NEED_WAKEUP;
            }
            if want.multi_buffer {
                flags |= libc::XDP_USE_SG;
            }
            (flags, 0)
        }
    };
    let addr = libc::sockaddr_xdp {
        sxdp_family: libc::AF_XDP as u16,
        sxdp_flags: flags,
        sxdp_ifindex: ifindex,
        sxdp_queue_id: queue,
        sxdp_shared_umem_fd: shared_fd,
    };
    bind_retrying_busy(fd, &addr).map_err(|e| bind_error(&e, ifname, queue))?;
    let (options, _) =
        sys::getsockopt::<libc::xdp_options>(fd.as_fd(), libc::SOL_XDP, libc::XDP_OPTIONS)
            .map_err(|e| error::os(&e, "reading the AF_XDP socket options (XDP_OPTIONS)"))?;
    let zero_copy = options.flags & libc::XDP_OPTIONS_ZEROCOPY != 0;
    let need_wakeup = match sharer {
        Some(first) => first.need_wakeup,
        None => flags & libc::XDP_USE_NEED_WAKEUP != 0,
    };
    Ok((zero_copy, need_wakeup))
}

/// The kernel releases a closed socket's hold on its queue from a workqueue
/// (net/xdp/xsk_buff_pool.c `xp_release_deferred`), so a queue closed a moment ago can still
/// read EBUSY; retry briefly before reporting that someone else holds it.
fn bind_retrying_busy(fd: &OwnedFd, addr: &libc::sockaddr_xdp) -> std::io::Result<()> {
    const ATTEMPTS: u32 = 20;
    let mut attempt = 1;
    loop {
        match sys::bind_xdp(fd.as_fd(), addr) {
            Err(e) if error::errno(&e) == libc::EBUSY && attempt < ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

fn bind_error(e: &std::io::Error, ifname: &str, queue: u32) -> Error {
    match error::errno(e) {
        libc::EBUSY => err(
            "EBUSY",
            format!("queue {queue} of {ifname} is already bound by another AF_XDP socket (another xdpnet engine?)"),
        ),
        libc::EOPNOTSUPP => err(
            "EOPNOTSUPP",
            format!(
                "zero-copy required but driver '{}' does not support it; use mode 'copy' or 'auto'",
                ifinfo::driver(ifname)
            ),
        ),
        libc::ENODEV | libc::ENXIO => err(
            "ENODEV",
            format!("interface '{ifname}' disappeared while binding: check it with `ip link`"),
        ),
        libc::ENETDOWN => err("ENETDOWN", format!("interface '{ifname}' is down: `ip link set {ifname} up`")),
        _ => error::os(e, format!("binding the AF_XDP socket to {ifname} queue {queue}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> XskOptions {
        XskOptions {
            ifname: "lo".into(),
            queue: 0,
            mode: None,
            need_wakeup: None,
            rx_size: None,
            tx_size: Some(512),
            fill_size: None,
            comp_size: None,
            busy_poll: None,
            multi_buffer: None,
        }
    }

    #[test]
    fn ring_sizes_default_and_validate() {
        let sizes = ring_sizes(&opts()).unwrap();
        assert_eq!(
            sizes,
            RingSizes {
                rx: 2048,
                tx: 512,
                fill: 2048,
                comp: 2048
            }
        );
        let bad = XskOptions {
            rx_size: Some(1000),
            ..opts()
        };
        let e = ring_sizes(&bad).err().unwrap();
        assert_eq!(e.status.as_ref(), "EINVAL");
        assert!(e.reason.contains("rxSize must be a power of two"));
    }

    #[test]
    fn mode_names() {
        assert_eq!(wanted(&opts()).unwrap().zero_copy, None);
        let copy = XskOptions {
            mode: Some("copy".into()),
            ..opts()
        };
        assert_eq!(wanted(&copy).unwrap().zero_copy, Some(false));
        let bad = XskOptions {
            mode: Some("fast".into()),
            ..opts()
        };
        assert!(wanted(&bad).is_err());
    }
}
