//! The data path: batched moves between a socket's kernel rings and the caller's typed arrays,
//! from whichever thread runs the loop. One native call per batch; arguments and results are
//! plain numbers; the socket's counters are updated once per batch.
//!
//! Descriptors cross into JS as u32 pairs `[addr, len]` (UMEM is at most 4 GiB); fill and
//! completion entries as single u32 addresses.

use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Bit 31 of `tx()`'s result: descriptors still wait in the TX ring (a ring holds far fewer than
/// 2^31 entries, so the count never reaches it).
pub const TX_STILL_PENDING: u32 = 1 << 31;

/// Bit 30 of an RX descriptor's length word: the packet continues in the next descriptor
/// (XDP_PKT_CONTD in the kernel descriptor's `options`; Documentation/networking/af_xdp.rst,
/// "Multi-Buffer Support"). Only sockets bound with multiBuffer see it. A frame is at most 4 KiB,
/// so lengths never reach this bit.
pub const RX_CONTINUED: u32 = 1 << 30;

use napi::bindgen_prelude::{Object, Uint32Array, Uint8Array};
use napi::Unknown;
use napi_derive::napi;

use crate::error::{self, err, Result};
use crate::l4sum;
use crate::ring::{Consumer, Producer};
use crate::sys;
use crate::umem::shared_array;
use crate::xsk::{self, Counters, XskShared};

#[napi(object)]
pub struct RingOccupancy {
    pub fill: u32,
    pub rx: u32,
    pub tx: u32,
    pub comp: u32,
}

/// A JS Uint32Array we read and write by index from native code.
struct Words {
    ptr: NonNull<u32>,
    len: usize,
    /// Keeps the array (and so its memory) alive; dropped on the owning JS thread by napi-rs.
    _held: Uint32Array,
}

impl Words {
    fn new(mut held: Uint32Array) -> Words {
        // SAFETY: we only take the data pointer; all later accesses go through atomics below.
        let slice = unsafe { held.as_mut() };
        let len = slice.len();
        let ptr = NonNull::new(slice.as_mut_ptr()).unwrap_or(NonNull::dangling());
        Words {
            ptr,
            len,
            _held: held,
        }
    }

    fn word(&self, i: usize) -> &AtomicU32 {
        assert!(
            i < self.len,
            "index {i} outside a Uint32Array of {}",
            self.len
        );
        // SAFETY: `i < len` and the array stays alive in `_held`; the memory may be shared with
        // other JS threads, so it is accessed as atomics (relaxed: plain loads/stores on x86),
        // which is what JS Atomics on the same SharedArrayBuffer would see.
        unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(i)) }
    }

    fn get(&self, i: usize) -> u32 {
        self.word(i).load(Ordering::Relaxed)
    }

    fn set(&self, i: usize, value: u32) {
        self.word(i).store(value, Ordering::Relaxed);
    }
}

/// The UMEM's frames as this port reads them: the JS Uint8Array over the whole SharedArrayBuffer,
/// held so that the memory outlives the port, and where UMEM address 0 is inside it.
struct Frames {
    base: NonNull<u8>,
    size: usize,
    _held: Uint8Array,
}

impl Frames {
    /// `held` must cover the UMEM: `umem_addr .. umem_addr + umem_size` in this process.
    fn new(mut held: Uint8Array, umem_addr: u64, umem_size: u64) -> Result<Frames> {
        // SAFETY: we only take the data pointer and length; frames are read through `frame`.
        let slice = unsafe { held.as_mut() };
        let start = slice.as_ptr() as u64;
        let end = start + slice.len() as u64;
        if umem_addr < start || umem_addr + umem_size > end {
            return Err(err(
                "EINVAL",
                "buffers.umem must be a view of the whole SharedArrayBuffer the UMEM was registered over",
            ));
        }
        let base = slice[(umem_addr - start) as usize..].as_mut_ptr();
        Ok(Frames {
            base: NonNull::new(base).unwrap_or(NonNull::dangling()),
            size: umem_size as usize,
            _held: held,
        })
    }

    /// The `len` bytes at UMEM address `addr`, to fill in before the frame goes to the kernel.
    fn frame_mut(&mut self, addr: u64, len: u32) -> &mut [u8] {
        let (at, len) = (addr as usize, len as usize);
        assert!(
            at + len <= self.size,
            "frame [{at}, +{len}] outside the UMEM"
        );
        // SAFETY: inside the UMEM (checked), kept alive by `_held`. The frame is one the caller
        // queued for tx(): it is this thread's until tx() puts it on the kernel's TX ring, so no
        // other thread reads or writes it while the slice lives (the device layer's frame
        // accounting), and `&mut self` keeps this port from lending out another view meanwhile.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(at), len) }
    }

    /// The `len` bytes at UMEM address `addr`.
    fn frame(&self, addr: u64, len: u32) -> &[u8] {
        let (at, len) = (addr as usize, len as usize);
        assert!(
            at + len <= self.size,
            "frame [{at}, +{len}] outside the UMEM"
        );
        // SAFETY: inside the UMEM (checked), whose memory `_held` keeps alive. The frame is one
        // the kernel just handed to this port's RX ring: until rx() returns it to the caller no
        // other thread writes it (the frame accounting of the device layer), so reading it as a
        // plain slice for the duration of the call is sound.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(at), len) }
    }
}

/// Our ends of the four kernel rings plus what validating descriptors needs.
struct Inner {
    rx: Consumer<libc::xdp_desc>,
    tx: Producer<libc::xdp_desc>,
    fill: Producer<u64>,
    comp: Consumer<u64>,
    rx_words: Words,
    tx_words: Words,
    fill_words: Words,
    comp_words: Words,
    fd: RawFd,
    need_wakeup: bool,
    umem_size: u64,
    frame_size: u64,
    /// Bound with XDP_USE_SG: RX chains pass through, and a TX packet longer than its frame is
    /// sent as a chain of frame-sized descriptors.
    multi_buffer: bool,
    /// The descriptors of one multi-buffer tx() call (reused; empty between calls).
    tx_chain: Vec<libc::xdp_desc>,
    /// Given when the caller wants RX checksums verified here (see l4sum.rs).
    frames: Option<Frames>,
    /// Keeps the fd and ring mappings alive; declared after the rings that point into them.
    socket: Arc<XskShared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.socket.release_port();
    }
}

/// Exclusive data-path access to one AF_XDP socket.
#[napi]
pub struct XskPort {
    /// Boxed so that its address, which this thread's port table holds, stays put.
    inner: Option<Box<Inner>>,
    /// The port's id in this thread's table (`handle`), for the data-path functions.
    id: u32,
}

thread_local! {
    /// This thread's open ports by id, for the data-path functions of data_path.rs. Ids are
    /// never reused, so a stale id finds nothing rather than another port.
    static PORTS: RefCell<Vec<(u32, NonNull<Inner>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_PORT_ID: Cell<u32> = const { Cell::new(1) };
}

fn register_port(inner: &mut Inner) -> u32 {
    let id = NEXT_PORT_ID.with(|next| {
        let id = next.get();
        next.set(id.wrapping_add(1).max(1));
        id
    });
    PORTS.with(|ports| ports.borrow_mut().push((id, NonNull::from(inner))));
    id
}

fn unregister_port(id: u32) {
    // try_with: a port finalized while its thread exits may outlive the table; nothing to do then.
    let _ = PORTS.try_with(|ports| ports.borrow_mut().retain(|&(i, _)| i != id));
}

/// Runs `f` on the open port `id` of this thread; EBADF when there is none.
fn with_port<R>(id: u32, f: impl FnOnce(&mut Inner) -> Result<R>) -> Result<R> {
    let found = PORTS.with(|ports| {
        ports
            .borrow()
            .iter()
            .find(|&&(i, _)| i == id)
            .map(|&(_, p)| p)
    });
    let mut ptr = found.ok_or_else(|| err("EBADF", "this XskPort is closed"))?;
    // SAFETY: the pointer is the boxed Inner of a live XskPort of this thread: close() and Drop
    // take it out of the table before the box is freed, and the table is thread-local, so no
    // other thread sees it. JS makes one native call at a time on this thread and none of these
    // calls re-enters JS, so no other reference to this Inner exists while `f` runs.
    f(unsafe { ptr.as_mut() })
}

impl Drop for XskPort {
    fn drop(&mut self) {
        if self.inner.is_some() {
            unregister_port(self.id);
        }
    }
}

/// `port.rx(max)` of the port with this `handle` (data_path.rs exports it as `xskRx`).
pub(crate) fn rx_by_handle(handle: u32, max: u32) -> Result<u32> {
    with_port(handle, |p| p.rx(max))
}

/// `port.fill(count)` of the port with this `handle` (`xskFill`).
pub(crate) fn fill_by_handle(handle: u32, count: u32) -> Result<u32> {
    with_port(handle, |p| p.fill(count))
}

/// `port.tx(count)` of the port with this `handle` (`xskTx`).
pub(crate) fn tx_by_handle(handle: u32, count: u32) -> Result<u32> {
    with_port(handle, |p| p.tx(count))
}

/// `port.complete(max)` of the port with this `handle` (`xskComplete`).
pub(crate) fn complete_by_handle(handle: u32, max: u32) -> Result<u32> {
    with_port(handle, |p| Ok(p.complete(max)))
}

#[napi]
impl XskPort {
    /// Claims the data path of socket `socketId` (EBUSY if another port has it). `buffers` are
    /// Uint32Arrays over SharedArrayBuffers: rx/tx hold `[addr, len]` pairs, fill/comp addresses.
    /// With `umem` (a Uint8Array over the UMEM's whole SharedArrayBuffer), `rx()` verifies the
    /// TCP/UDP checksum of each frame and sets `L4_CHECKSUM_OK` (bit 31) in the length words of
    /// the good ones, and `tx()` fills the checksum of every TCP segment it sends.
    #[napi(
        factory,
        ts_args_type = "socketId: number, buffers: { rx: Uint32Array; tx: Uint32Array; fill: Uint32Array; comp: Uint32Array; umem?: Uint8Array }"
    )]
    pub fn open(socket_id: u32, buffers: Object<'_>) -> Result<XskPort> {
        let words = |name: &str| -> Result<Words> {
            let value: Unknown = buffers
                .get(name)
                .map_err(error::from_napi)?
                .ok_or_else(|| err("EINVAL", format!("buffers.{name} is missing")))?;
            let requirement =
                format!("buffers.{name} must be a Uint32Array over a SharedArrayBuffer");
            let (held, _) = shared_array::<Uint32Array>(
                &value,
                napi::sys::TypedarrayType::uint32_array,
                &requirement,
            )?;
            Ok(Words::new(held))
        };
        let (rx_words, tx_words) = (words("rx")?, words("tx")?);
        let (fill_words, comp_words) = (words("fill")?, words("comp")?);
        let socket = xsk::lookup(socket_id).ok_or_else(|| {
            err(
                "ENOENT",
                format!(
                    "no open AF_XDP socket with id {socket_id}: it was closed or never created"
                ),
            )
        })?;
        let umem: Option<Unknown> = buffers.get("umem").map_err(error::from_napi)?;
        let frames = match umem {
            None => None,
            Some(value) => {
                let (held, _) = shared_array::<Uint8Array>(
                    &value,
                    napi::sys::TypedarrayType::uint8_array,
                    "buffers.umem must be a Uint8Array over a SharedArrayBuffer",
                )?;
                Some(Frames::new(held, socket.umem.addr(), socket.umem.size)?)
            }
        };
        if !socket.claim_port() {
            return Err(err(
                "EBUSY",
                format!(
                    "AF_XDP socket {socket_id} already has an open port (in this or another thread): \
                     close that port first"
                ),
            ));
        }
        // SAFETY: the rings live in mappings owned by `socket`, which `Inner` holds for as long
        // as these ends exist; the claim above makes this the only user-space producer/consumer.
        let (rx, tx, fill, comp) = unsafe {
            (
                Consumer::new(socket.rx.ptrs()),
                Producer::new(socket.tx.ptrs()),
                Producer::new(socket.fill.ptrs()),
                Consumer::new(socket.comp.ptrs()),
            )
        };
        let mut inner = Box::new(Inner {
            rx,
            tx,
            fill,
            comp,
            rx_words,
            tx_words,
            fill_words,
            comp_words,
            fd: socket.raw_fd(),
            need_wakeup: socket.need_wakeup,
            umem_size: socket.umem.size,
            frame_size: u64::from(socket.umem.frame_size),
            multi_buffer: socket.multi_buffer,
            tx_chain: Vec::new(),
            frames,
            socket,
        });
        let id = register_port(&mut inner);
        Ok(XskPort {
            inner: Some(inner),
            id,
        })
    }

    /// The id the data-path functions take (`xskRx`, `xskFill`, `xskTx`, `xskComplete`; data_path.rs).
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.id
    }

    /// Moves up to `max` received descriptors into `rx` as `[addr, len]` pairs; returns how many.
    #[napi]
    pub fn rx(&mut self, max: u32) -> Result<u32> {
        self.inner()?.rx(max)
    }

    /// Gives the first `count` addresses of `fill` to the kernel; returns how many fit.
    #[napi]
    pub fn fill(&mut self, count: u32) -> Result<u32> {
        self.inner()?.fill(count)
    }

    /// Queues the first `count` `[addr, len]` pairs of `tx`; returns how many fit, with
    /// TX_STILL_PENDING set when descriptors are still waiting for the kernel after the kick (copy
    /// mode sends a bounded batch per wake-up), so the caller knows another `tx(0)` is needed.
    /// `tx(0)` just kicks the kernel if earlier descriptors are still waiting.
    #[napi]
    pub fn tx(&mut self, count: u32) -> Result<u32> {
        self.inner()?.tx(count)
    }

    /// Reaps up to `max` completed TX addresses into `comp`; returns how many.
    #[napi]
    pub fn complete(&mut self, max: u32) -> Result<u32> {
        Ok(self.inner()?.complete(max))
    }

    /// Wakes the kernel to transmit.
    #[napi]
    pub fn kick(&mut self) -> Result<()> {
        self.inner()?.kick_tx()
    }

    /// Blocks up to `timeoutMs` for received packets (to park an idle worker).
    #[napi]
    pub fn wait_readable(&mut self, timeout_ms: u32) -> Result<bool> {
        let fd = self.inner()?.fd;
        match sys::poll_readable(fd, timeout_ms.min(i32::MAX as u32) as i32) {
            Ok(ready) => Ok(ready),
            Err(e) if error::errno(&e) == libc::EINTR => Ok(false),
            Err(e) => Err(error::os(&e, "polling the AF_XDP socket")),
        }
    }

    /// Entries in each kernel ring now (cold path, for diagnostics and frame accounting).
    #[napi]
    pub fn occupancy(&mut self) -> Result<RingOccupancy> {
        let inner = self.inner()?;
        Ok(RingOccupancy {
            fill: inner.fill.ptrs().occupancy(),
            rx: inner.rx.ptrs().occupancy(),
            tx: inner.tx.ptrs().occupancy(),
            comp: inner.comp.ptrs().occupancy(),
        })
    }

    /// Gives up the data path; the socket can be opened by another port.
    #[napi]
    pub fn close(&mut self) {
        if self.inner.is_some() {
            unregister_port(self.id);
        }
        self.inner = None;
    }
}

impl XskPort {
    fn inner(&mut self) -> Result<&mut Inner> {
        self.inner
            .as_deref_mut()
            .ok_or_else(|| err("EBADF", "this XskPort is closed"))
    }
}

/// Appends the descriptors of the packet `[addr, len]`, which may run over several frames of
/// `frame_size` bytes: one per frame it touches, each inside its frame, with XDP_PKT_CONTD on all
/// but the last (af_xdp.rst, "Multi-Buffer Support").
fn split_into_frames(addr: u64, len: u64, frame_size: u64, out: &mut Vec<libc::xdp_desc>) {
    let (mut at, mut left) = (addr, len);
    while left > 0 {
        let piece = left.min(frame_size - at % frame_size);
        left -= piece;
        out.push(libc::xdp_desc {
            addr: at,
            len: piece as u32,
            options: if left > 0 { libc::XDP_PKT_CONTD } else { 0 },
        });
        at += piece;
    }
}

impl Inner {
    fn counters(&self) -> &Counters {
        &self.socket.counters
    }

    fn rx(&mut self, max: u32) -> Result<u32> {
        let cap = (self.rx_words.len / 2) as u32;
        let max = max.min(cap);
        let words = &self.rx_words;
        let mut bytes = 0u64;
        let mut take = |i: u32, desc: libc::xdp_desc| {
            let at = 2 * i as usize;
            let continued = desc.options & libc::XDP_PKT_CONTD != 0;
            words.set(at, desc.addr as u32);
            words.set(at + 1, desc.len | if continued { RX_CONTINUED } else { 0 });
            bytes += u64::from(desc.len);
        };
        let mut n = self.rx.pop_with(max, &mut take);
        // Whole packets only: the kernel publishes every descriptor of a packet together (it
        // reserves them all or drops the packet, net/xdp/xsk.c `__xsk_rcv`), so the rest of a
        // chain that `max` cut is in the ring already; the caller sizes `rx` for it.
        while n > 0 && n < cap && words.get(2 * n as usize - 1) & RX_CONTINUED != 0 {
            if self.rx.pop_with(1, |_, desc| take(n, desc)) == 0 {
                break;
            }
            n += 1;
        }
        if let Some(frames) = &self.frames {
            let mut i = 0usize;
            while i < n as usize {
                let word = words.get(2 * i + 1);
                if word & RX_CONTINUED == 0 {
                    let frame = frames.frame(u64::from(words.get(2 * i)), word);
                    if l4sum::verify(frame) {
                        words.set(2 * i + 1, word | l4sum::L4_CHECKSUM_OK);
                    }
                    i += 1;
                    continue;
                }
                // A chain: verified over all its buffers, marked on its first descriptor.
                let mut parts: [&[u8]; l4sum::MAX_CHAIN] = [&[]; l4sum::MAX_CHAIN];
                let mut k = 0usize;
                let mut j = i;
                while j < n as usize {
                    let w = words.get(2 * j + 1);
                    if k < l4sum::MAX_CHAIN {
                        let len = w & !RX_CONTINUED;
                        parts[k] = frames.frame(u64::from(words.get(2 * j)), len);
                    }
                    k += 1;
                    j += 1;
                    if w & RX_CONTINUED == 0 {
                        break;
                    }
                }
                if k <= l4sum::MAX_CHAIN && l4sum::verify_chain(&parts[..k]) {
                    words.set(2 * i + 1, word | l4sum::L4_CHECKSUM_OK);
                }
                i = j;
            }
        }
        if self.fill.pending() == 0 {
            Counters::add(&self.counters().fill_empty_events, 1);
        }
        // With busy polling, recvfrom runs the driver's NAPI poll in this thread (net/xdp/xsk.c
        // `__xsk_recvmsg`: sk_busy_loop), which is how packets arrive while interrupts stay off.
        if n == 0 && (self.idle_syscalls() || self.fill.needs_wakeup()) {
            self.kick(sys::kick_rx(self.fd), "waking RX")?;
        }
        Counters::add(&self.counters().rx_packets, u64::from(n));
        Counters::add(&self.counters().rx_bytes, bytes);
        Ok(n)
    }

    fn fill(&mut self, count: u32) -> Result<u32> {
        let count = count.min(self.fill_words.len as u32);
        let n = count.min(self.fill.free(count));
        for i in 0..n as usize {
            let addr = u64::from(self.fill_words.get(i));
            if addr >= self.umem_size {
                return Err(self.invalid(format!(
                    "fill[{i}] = {addr} is outside the UMEM ({} bytes)",
                    self.umem_size
                )));
            }
        }
        let words = &self.fill_words;
        Ok(self.fill.push_with(n, |i| u64::from(words.get(i as usize))))
    }

    fn tx(&mut self, count: u32) -> Result<u32> {
        let count = count.min((self.tx_words.len / 2) as u32);
        if self.multi_buffer {
            return self.tx_chains(count);
        }
        let n = count.min(self.tx.free(count));
        let mut bytes = 0u64;
        for i in 0..n as usize {
            let addr = u64::from(self.tx_words.get(2 * i));
            let len = u64::from(self.tx_words.get(2 * i + 1));
            // Aligned mode: a descriptor must sit inside one frame (net/xdp/xsk_queue.h
            // `xp_aligned_validate_desc`); the kernel would drop it without a completion and the
            // frame would be lost to the caller's accounting.
            let in_frame = addr % self.frame_size + len <= self.frame_size;
            if len == 0 || addr >= self.umem_size || !in_frame {
                return Err(self.invalid(format!(
                    "tx[{i}] = [{addr}, {len}] is not inside one {}-byte frame of the UMEM ({} bytes)",
                    self.frame_size, self.umem_size
                )));
            }
            bytes += len;
        }
        if let Some(frames) = &mut self.frames {
            for i in 0..n as usize {
                let (addr, len) = (self.tx_words.get(2 * i), self.tx_words.get(2 * i + 1));
                l4sum::fill_tcp(frames.frame_mut(u64::from(addr), len));
            }
        }
        let words = &self.tx_words;
        let pushed = self.tx.push_with(n, |i| libc::xdp_desc {
            addr: u64::from(words.get(2 * i as usize)),
            len: words.get(2 * i as usize + 1),
            options: 0,
        });
        self.after_tx(pushed, bytes)
    }

    /// tx() on a multi-buffer socket: a packet `[addr, len]` that runs past the end of its frame
    /// is one contiguous run of UMEM frames, sent as one descriptor per frame with XDP_PKT_CONTD
    /// on all but the last (af_xdp.rst, "Multi-Buffer Support"; each descriptor must still sit
    /// inside one frame). Whole packets only: one that does not fit the ring's free slots waits.
    /// Its TCP checksum is filled over the whole run, which is contiguous in the UMEM.
    fn tx_chains(&mut self, count: u32) -> Result<u32> {
        let fs = self.frame_size;
        let mut free = self.tx.free(u32::MAX);
        let mut chain = std::mem::take(&mut self.tx_chain);
        chain.clear();
        let (mut n, mut bytes) = (0u32, 0u64);
        while n < count {
            let i = n as usize;
            let addr = u64::from(self.tx_words.get(2 * i));
            let len = u64::from(self.tx_words.get(2 * i + 1));
            let first = fs - addr % fs;
            let descs = if len <= first {
                1
            } else {
                1 + (len - first).div_ceil(fs)
            };
            if len == 0 || addr + len > self.umem_size || descs > l4sum::MAX_CHAIN as u64 {
                self.tx_chain = chain;
                return Err(self.invalid(format!(
                    "tx[{i}] = [{addr}, {len}] is not a run of at most {} frames of {fs} bytes \
                     inside the UMEM ({} bytes)",
                    l4sum::MAX_CHAIN,
                    self.umem_size
                )));
            }
            if descs > u64::from(free) {
                break;
            }
            free -= descs as u32;
            if let Some(frames) = &mut self.frames {
                l4sum::fill_tcp(frames.frame_mut(addr, len as u32));
            }
            split_into_frames(addr, len, fs, &mut chain);
            bytes += len;
            n += 1;
        }
        let pushed = self.tx.push_with(chain.len() as u32, |i| chain[i as usize]);
        debug_assert_eq!(
            pushed as usize,
            chain.len(),
            "the ring had the free slots counted"
        );
        self.tx_chain = chain;
        self.after_tx(n, bytes)
    }

    /// Counts what tx() queued and kicks the kernel if it must; returns tx()'s result.
    fn after_tx(&mut self, pushed: u32, bytes: u64) -> Result<u32> {
        Counters::add(&self.counters().tx_packets, u64::from(pushed));
        Counters::add(&self.counters().tx_bytes, bytes);
        // Copy mode transmits only inside sendto (at most a small batch per call), so kick
        // whenever descriptors are waiting and the kernel wants it (or never says). With busy
        // polling sendto also runs the NAPI poll that sends them in zero-copy mode.
        if self.tx.pending() > 0
            && (!self.need_wakeup || self.idle_syscalls() || self.tx.needs_wakeup())
        {
            self.kick_tx()?;
        }
        let still_pending = if self.tx.pending() > 0 {
            TX_STILL_PENDING
        } else {
            0
        };
        Ok(pushed | still_pending)
    }

    fn complete(&mut self, max: u32) -> u32 {
        let max = max.min(self.comp_words.len as u32);
        let words = &self.comp_words;
        self.comp
            .pop_with(max, |i, addr| words.set(i as usize, addr as u32))
    }

    /// Busy polling: a syscall whenever the rings are idle, since that runs the NAPI poll.
    fn idle_syscalls(&self) -> bool {
        self.socket.idle_syscalls.load(Ordering::Relaxed)
    }

    fn kick_tx(&mut self) -> Result<()> {
        self.kick(sys::kick_tx(self.fd), "waking TX")
    }

    /// Counts a wake-up; "busy, try later" answers are not errors.
    fn kick(&self, result: std::io::Result<()>, what: &str) -> Result<()> {
        Counters::add(&self.counters().kicks, 1);
        match result {
            Ok(()) => Ok(()),
            Err(e) => match error::errno(&e) {
                libc::EAGAIN | libc::EBUSY | libc::ENOBUFS | libc::EINTR => Ok(()),
                libc::ENETDOWN => Err(err(
                    "ENETDOWN",
                    format!("{what}: interface {} is down", self.socket.ifname),
                )),
                _ => Err(error::os(
                    &e,
                    format!("{what} on AF_XDP socket {}", self.socket.id),
                )),
            },
        }
    }

    fn invalid(&self, message: String) -> error::Error {
        Counters::add(&self.counters().invalid_descs, 1);
        err("EINVAL", message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(addr: u64, len: u64) -> Vec<(u64, u32, u32)> {
        let mut out = Vec::new();
        split_into_frames(addr, len, 4096, &mut out);
        out.iter().map(|d| (d.addr, d.len, d.options)).collect()
    }

    #[test]
    fn a_packet_inside_one_frame_is_one_descriptor() {
        assert_eq!(split(8192 + 256, 1514), vec![(8192 + 256, 1514, 0)]);
        assert_eq!(split(256, 3840), vec![(256, 3840, 0)]);
    }

    #[test]
    fn a_jumbo_frame_is_one_descriptor_per_frame_continued_but_the_last() {
        let contd = libc::XDP_PKT_CONTD;
        assert_eq!(
            split(4096 + 256, 9014),
            vec![
                (4096 + 256, 3840, contd),
                (8192, 4096, contd),
                (12288, 9014 - 3840 - 4096, 0),
            ]
        );
        assert_eq!(split(256, 3841), vec![(256, 3840, contd), (4096, 1, 0)]);
    }
}
