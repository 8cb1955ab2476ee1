//! An AF_PACKET raw socket bound to one interface (packet(7)): it sees every frame the interface
//! receives (promiscuous, all protocols) but not the ones it sends itself, and sends whole
//! Ethernet frames out of that interface. Batched with recvmmsg/sendmmsg over frame slots that
//! live in a caller's pool.

use crate::error::{Context, Failure};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Frames per recvmmsg/sendmmsg call.
pub const BATCH: usize = 64;

pub struct PacketSocket {
    fd: OwnedFd,
    pub name: String,
}

/// if_nametoindex(3); 0 means no such interface.
fn interface_index(name: &str) -> Result<libc::c_int, Failure> {
    let c_name = CString::new(name).map_err(|_| Failure::usage("wire: bad interface name"))?;
    // SAFETY: c_name is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    if index == 0 {
        return Err(io::Error::last_os_error()).doing(|| format!("find interface {name}"));
    }
    Ok(index as libc::c_int)
}

/// setsockopt with a struct value.
fn set_struct_option<T>(fd: BorrowedFd<'_>, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points at a live T of exactly the length passed; fd is borrowed open.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn packet_address(index: libc::c_int) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is a plain C struct of integers; all-zero is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = index;
    addr
}

impl PacketSocket {
    pub fn open(name: &str) -> Result<Self, Failure> {
        let index = interface_index(name)?;
        // Protocol 0: the socket receives nothing until bind() names the interface, so no frame
        // of another interface ever slips in between socket() and bind().
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error()).doing(|| "open AF_PACKET socket".into());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let doing = |what: &str| format!("{what} on {name}");
        // Never read back what this socket sends (Linux 4.20+), or the relay would loop frames.
        crate::sys::set_int_option(
            fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            1,
        )
        .doing(|| doing("set PACKET_IGNORE_OUTGOING"))?;
        if let Err(err) = crate::sys::set_receive_buffer(fd.as_fd(), 64 << 20) {
            eprintln!("wire: could not enlarge the receive buffer of {name} ({err})");
        }
        let addr = packet_address(index);
        // SAFETY: `addr` is a valid sockaddr_ll of the length passed; fd is open.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error()).doing(|| doing("bind AF_PACKET"));
        }
        let mreq = libc::packet_mreq {
            mr_ifindex: index,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        set_struct_option(
            fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            &mreq,
        )
        .doing(|| doing("enable promiscuous mode"))?;
        Ok(Self {
            fd,
            name: name.to_string(),
        })
    }

    pub fn raw_fd(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    /// Frames the kernel dropped on this socket since the last call because its receive queue
    /// was full (PACKET_STATISTICS, which resets on read; packet(7)).
    pub fn take_kernel_drops(&self) -> u64 {
        let mut stats = libc::tpacket_stats {
            tp_packets: 0,
            tp_drops: 0,
        };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `stats` is a live, writable tpacket_stats and `len` says its exact size; the
        // kernel writes at most `len` bytes. The fd is open.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            u64::from(stats.tp_drops)
        } else {
            0
        }
    }
}

/// The iovec/mmsghdr arrays of one batch; pointed into a pool right before each call.
pub struct BatchIo {
    iov: [libc::iovec; BATCH],
    headers: [libc::mmsghdr; BATCH],
}

/// What one received frame looked like.
#[derive(Clone, Copy, Default)]
pub struct Received {
    pub len: usize,
    /// Longer than its slot (cut): cannot be relayed whole.
    pub truncated: bool,
}

impl BatchIo {
    pub fn new() -> Self {
        // SAFETY: iovec and mmsghdr are plain C structs of integers and raw pointers; all-zero
        // (null pointers, zero lengths) is valid.
        unsafe { std::mem::zeroed() }
    }

    /// Points entry i at slot slots[i] of `pool` (`lens[i]` bytes, or the whole slot).
    fn point(
        &mut self,
        pool: *mut u8,
        pool_len: usize,
        slot_size: usize,
        slots: &[u32],
        lens: Option<&[usize]>,
    ) {
        for (i, &slot) in slots.iter().enumerate() {
            let start = slot as usize * slot_size;
            let len = lens.map_or(slot_size, |l| l[i].min(slot_size));
            assert!(start + slot_size <= pool_len, "slot outside its pool");
            // wrapping_add keeps this safe code; the assert above keeps it inside the pool.
            self.iov[i] = libc::iovec {
                iov_base: pool.wrapping_add(start).cast(),
                iov_len: len,
            };
            let msg = &mut self.headers[i].msg_hdr;
            msg.msg_name = std::ptr::null_mut();
            msg.msg_namelen = 0;
            msg.msg_iov = std::ptr::addr_of_mut!(self.iov[i]);
            msg.msg_iovlen = 1;
            msg.msg_control = std::ptr::null_mut();
            msg.msg_controllen = 0;
            msg.msg_flags = 0;
            self.headers[i].msg_len = 0;
        }
    }

    /// recvmmsg without blocking into `slots` (at most BATCH) of `pool`; fills `out` per frame
    /// and returns how many arrived (0 when none were waiting).
    pub fn recv(
        &mut self,
        socket: &PacketSocket,
        pool: &mut [u8],
        slot_size: usize,
        slots: &[u32],
        out: &mut [Received; BATCH],
    ) -> io::Result<usize> {
        let count = slots.len().min(BATCH);
        if count == 0 {
            return Ok(0);
        }
        self.point(
            pool.as_mut_ptr(),
            pool.len(),
            slot_size,
            &slots[..count],
            None,
        );
        // SAFETY: the first `count` headers point at iovecs in self.iov, each covering one whole
        // slot inside `pool`, which is mutably borrowed for the call; no addresses or control
        // space. A null timeout is allowed (MSG_DONTWAIT makes the call non-blocking).
        let rc = unsafe {
            libc::recvmmsg(
                socket.raw_fd(),
                self.headers.as_mut_ptr(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return match err.raw_os_error() {
                Some(libc::EAGAIN | libc::EINTR) => Ok(0),
                _ => Err(err),
            };
        }
        let n = rc as usize;
        for (i, slot_out) in out.iter_mut().enumerate().take(n) {
            let header = &self.headers[i];
            *slot_out = Received {
                len: (header.msg_len as usize).min(slot_size),
                truncated: header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
            };
        }
        Ok(n)
    }

    /// sendmmsg without blocking of `slots` (at most BATCH) with lengths `lens`; returns how many
    /// went, counted from the first. EAGAIN and other errors are returned as errors.
    pub fn send(
        &mut self,
        socket: &PacketSocket,
        pool: &[u8],
        slot_size: usize,
        slots: &[u32],
        lens: &[usize],
    ) -> io::Result<usize> {
        let count = slots.len().min(BATCH);
        if count == 0 {
            return Ok(0);
        }
        // The kernel only reads through these pointers (sendmmsg), so a *mut from a shared
        // borrow is never written through.
        self.point(
            pool.as_ptr().cast_mut(),
            pool.len(),
            slot_size,
            &slots[..count],
            Some(lens),
        );
        // SAFETY: the first `count` headers point at iovecs in self.iov covering bytes inside
        // `pool`, borrowed for the call; sendmmsg only reads them. The socket is bound to one
        // interface, so no destination address is needed.
        let rc = unsafe {
            libc::sendmmsg(
                socket.raw_fd(),
                self.headers.as_mut_ptr(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc as usize)
    }
}

/// ppoll(2) on `fds` for at most `timeout_ns`; EINTR (a signal) counts as a wake-up.
pub fn wait(fds: &mut [libc::pollfd], timeout_ns: u64) -> io::Result<()> {
    let timeout = libc::timespec {
        tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: `fds` is a live, writable array of the length passed; `timeout` outlives the call;
    // a null signal mask leaves the mask unchanged.
    let rc = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &timeout,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
    Ok(())
}
