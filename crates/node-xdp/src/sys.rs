//! Thin safe wrappers around the raw syscalls the AF_XDP code needs: socket options, mmap,
//! bind, the wake-up calls, poll and the interface ioctls. Each wrapper owns exactly one
//! `unsafe` block and says why it is sound; callers above this module stay safe.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;

/// `SOL_SOCKET` options for busy polling (include/uapi/asm-generic/socket.h); not in `libc` for
/// every architecture.
pub const SO_BUSY_POLL: libc::c_int = 46;
pub const SO_PREFER_BUSY_POLL: libc::c_int = 69;
pub const SO_BUSY_POLL_BUDGET: libc::c_int = 70;
/// The NAPI instance that last delivered to the socket (0: none yet, or the driver registers none).
pub const SO_INCOMING_NAPI_ID: libc::c_int = 56;

/// Plain-old-data: any bit pattern, all-zero included, is a valid value, so the kernel may fill
/// it in and we may hand out zeroed ones.
///
/// # Safety
/// Implement only for `#[repr(C)]` structs of integers (and arrays of them) without padding
/// invariants.
pub unsafe trait Pod: Copy {
    fn zeroed() -> Self {
        // SAFETY: `Pod` types accept every bit pattern, all-zero included.
        unsafe { MaybeUninit::<Self>::zeroed().assume_init() }
    }
}

// SAFETY: integers and the kernel's UAPI structs below are plain integer aggregates.
unsafe impl Pod for libc::c_int {}
unsafe impl Pod for u64 {}
unsafe impl Pod for libc::xdp_umem_reg {}
unsafe impl Pod for libc::xdp_mmap_offsets {}
unsafe impl Pod for libc::xdp_statistics {}
unsafe impl Pod for libc::xdp_options {}
unsafe impl Pod for libc::sockaddr_xdp {}
unsafe impl Pod for libc::sockaddr_nl {}
unsafe impl Pod for libc::timeval {}
// SAFETY: a name array and a union of integers and a data pointer; all-zero is a null pointer.
unsafe impl Pod for libc::ifreq {}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

/// A new AF_XDP socket (close-on-exec).
pub fn xsk_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; a non-negative return is a fresh fd we now own.
    let fd = check(unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A datagram socket used only as a handle for interface ioctls.
fn control_socket() -> io::Result<OwnedFd> {
    // SAFETY: as in `xsk_socket`.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })
            .or_else(|_| {
                // SAFETY: as above; AF_UNIX works where IPv4 is compiled out.
                check(unsafe {
                    libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
                })
            })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A netlink socket of family `protocol` (NETLINK_GENERIC, ...), close-on-exec.
pub fn netlink_socket(protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; a non-negative return is a fresh fd we now own.
    let fd = check(unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        )
    })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `msg` as one datagram to the kernel (netlink port 0) on a netlink socket.
pub fn netlink_send(fd: BorrowedFd, msg: &[u8]) -> io::Result<()> {
    let mut kernel = libc::sockaddr_nl::zeroed();
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `msg` is `msg.len()` readable bytes and `kernel` a complete sockaddr_nl of the
    // length passed; the kernel only reads both during the call.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    if sent as usize != msg.len() {
        // A netlink datagram goes whole or not at all; anything else is a kernel surprise.
        return Err(io::Error::from_raw_os_error(libc::EIO));
    }
    Ok(())
}

/// Receives one datagram into `buf` and returns its length; EMSGSIZE when it did not fit (with
/// MSG_TRUNC the kernel reports the datagram's real length, so truncation cannot pass unseen).
pub fn recv_datagram(fd: BorrowedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is `buf.len()` writable bytes; the kernel writes at most that many.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_TRUNC,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize > buf.len() {
        return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    Ok(n as usize)
}

/// setsockopt(2) with a value of type `T`.
pub fn setsockopt<T: Pod>(fd: BorrowedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to `size_of::<T>()` readable bytes for the duration of the call.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// getsockopt(2) into a zeroed `T`; returns the value and the length the kernel wrote.
pub fn getsockopt<T: Pod>(fd: BorrowedFd, level: i32, name: i32) -> io::Result<(T, usize)> {
    let mut value = T::zeroed();
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` is `len` writable bytes and `len` is a valid in/out length; any bytes the
    // kernel writes form a valid `T` because `T: Pod`.
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut T).cast(),
            &mut len,
        )
    })?;
    Ok((value, len as usize))
}

/// bind(2) an AF_XDP socket.
pub fn bind_xdp(fd: BorrowedFd, addr: &libc::sockaddr_xdp) -> io::Result<()> {
    // SAFETY: `addr` is a complete sockaddr_xdp and the length passed is its size.
    check(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (addr as *const libc::sockaddr_xdp).cast(),
            size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Wakes the kernel to process the TX ring (copy mode transmits only inside this call).
pub fn kick_tx(fd: RawFd) -> io::Result<()> {
    // SAFETY: a zero-length send with null buffer and address; the kernel reads nothing.
    let ret = unsafe {
        libc::sendto(
            fd,
            std::ptr::null(),
            0,
            libc::MSG_DONTWAIT,
            std::ptr::null(),
            0,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Wakes the kernel to refill RX from the fill ring.
pub fn kick_rx(fd: RawFd) -> io::Result<()> {
    // SAFETY: a zero-length receive with null buffer and address; the kernel writes nothing.
    let ret = unsafe {
        libc::recvfrom(
            fd,
            std::ptr::null_mut(),
            0,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// poll(2) one fd for POLLIN; true if it became readable before `timeout_ms`.
pub fn poll_readable(fd: RawFd, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd and we pass a count of 1.
    let n = check(unsafe { libc::poll(&mut pfd, 1, timeout_ms) })?;
    Ok(n > 0 && pfd.revents & libc::POLLIN != 0)
}

/// poll(2) several fds for POLLIN; true if any became readable before `timeout_ms`.
pub fn poll_any_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<bool> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfds, which the kernel writes
    // `revents` into; it lives until the call returns.
    let n =
        check(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) })?;
    Ok(n > 0 && pfds.iter().any(|p| p.revents & libc::POLLIN != 0))
}

/// A shared memory mapping of a socket's ring, unmapped on drop.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; who may touch which bytes is governed by the ring
// protocol (producer/consumer indices with acquire/release), not by the thread holding `Mmap`.
unsafe impl Send for Mmap {}
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Maps `len` bytes of `fd` at page offset `offset` (one of the XDP_*_PGOFF_* values).
    pub fn ring(fd: BorrowedFd, len: usize, offset: u64) -> io::Result<Mmap> {
        // SAFETY: a fresh shared mapping chosen by the kernel (addr null), so it aliases no Rust
        // object; failure is MAP_FAILED and checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(ptr.cast()).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        Ok(Mmap { ptr, len })
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, unmapped once; every ring view
        // into it is owned by something that keeps this `Mmap` alive (an `Arc`) until it is gone.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// An `ifreq` with `name` filled in; `EINVAL`-style error for names that do not fit.
fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    let cname = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let bytes = cname.as_bytes_with_nul();
    if bytes.len() > libc::IFNAMSIZ {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let mut req = libc::ifreq::zeroed();
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    Ok(req)
}

/// Runs one `SIOCGIF*` ioctl and returns the filled `ifreq`.
pub fn ifreq_ioctl(name: &str, request: libc::c_ulong) -> io::Result<libc::ifreq> {
    let sock = control_socket()?;
    let mut req = ifreq_for(name)?;
    // SAFETY: SIOCGIF* requests read the name and write within the `ifreq` we pass.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), request as _, &mut req as *mut libc::ifreq) })?;
    Ok(req)
}

/// Runs one `SIOCETHTOOL` request on interface `name` with `arg` as its argument; the command
/// is the `cmd` word at the start of `arg`. The ethtool module wraps each command it uses in a
/// safe call.
///
/// # Safety
/// The kernel reads and writes the argument by the layout of the struct the command defines,
/// and for a struct with a flexible array (`ethtool_rxfh`) as far as the lengths in its header
/// say. `T` must be that struct, `#[repr(C)]` with the UAPI layout, and long enough for the
/// lengths its header declares: then every byte the kernel touches is inside `arg`.
pub unsafe fn ethtool<T: Pod>(name: &str, arg: &mut T) -> io::Result<()> {
    let sock = control_socket()?;
    let mut req = ifreq_for(name)?;
    req.ifr_ifru.ifru_data = (arg as *mut T).cast();
    // SAFETY: the ifreq is complete and names the interface; `ifru_data` points to `arg`, which
    // outlives the call and is as long as the command needs (the caller's contract above).
    check(unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCETHTOOL as _,
            &mut req as *mut libc::ifreq,
        )
    })?;
    Ok(())
}

/// A C string field (NUL-padded bytes) as a Rust string.
pub fn c_field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_field_stops_at_nul() {
        assert_eq!(c_field(b"veth\0\0\0"), "veth");
        assert_eq!(c_field(b"full"), "full");
    }

    #[test]
    fn ifreq_rejects_long_names() {
        assert!(ifreq_for("0123456789abcdef").is_err());
        assert!(ifreq_for("0123456789abcde").is_ok());
    }

    #[test]
    fn uapi_struct_sizes() {
        assert_eq!(size_of::<libc::sockaddr_xdp>(), 16);
        assert_eq!(size_of::<libc::xdp_desc>(), 16);
        assert_eq!(size_of::<libc::xdp_statistics>(), 48);
    }
}
