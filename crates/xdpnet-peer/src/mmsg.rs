//! A batch of datagram slots for sendmmsg/recvmmsg: one allocation of payload buffers, and the
//! iovec/mmsghdr arrays pointing into it, owned together so the pointers handed to the kernel are
//! always into live memory.

use std::io;
use std::ops::Range;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Control-message space per slot: enough for SO_RXQ_OVFL (CMSG_SPACE(4) = 24 on 64-bit).
const CONTROL_SPACE: usize = 64;

pub struct MsgBatch {
    slot_size: usize,
    payload: Box<[u8]>,
    /// Bytes to send from each slot (set by the sender, or by recv to what arrived).
    lens: Box<[usize]>,
    iov: Box<[libc::iovec]>,
    /// Peer addresses; only used when the batch was created `with_addresses`.
    addresses: Box<[libc::sockaddr_storage]>,
    control: Box<[u8]>,
    headers: Box<[libc::mmsghdr]>,
}

fn zeroed_iovec() -> libc::iovec {
    libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }
}

fn zeroed_header() -> libc::mmsghdr {
    // SAFETY: mmsghdr is a plain C struct of integers and raw pointers; all-zero (null pointers,
    // zero lengths) is a valid value.
    unsafe { std::mem::zeroed() }
}

fn zeroed_address() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is a plain C struct of integers; all-zero is valid (AF_UNSPEC).
    unsafe { std::mem::zeroed() }
}

impl MsgBatch {
    /// `slots` datagrams of up to `slot_size` bytes each. `with_addresses` keeps a peer address
    /// per slot (recvmmsg fills them, sendmmsg sends back to them: the echo server);
    /// `with_control` keeps control-message space per slot (for SO_RXQ_OVFL).
    pub fn new(slots: usize, slot_size: usize, with_addresses: bool, with_control: bool) -> Self {
        let address_count = if with_addresses { slots } else { 0 };
        let control_bytes = if with_control {
            slots * CONTROL_SPACE
        } else {
            0
        };
        Self {
            slot_size,
            payload: vec![0u8; slots * slot_size].into_boxed_slice(),
            lens: vec![0usize; slots].into_boxed_slice(),
            iov: (0..slots).map(|_| zeroed_iovec()).collect(),
            addresses: (0..address_count).map(|_| zeroed_address()).collect(),
            control: vec![0u8; control_bytes].into_boxed_slice(),
            headers: (0..slots).map(|_| zeroed_header()).collect(),
        }
    }

    pub fn slots(&self) -> usize {
        self.headers.len()
    }

    /// The whole of slot `i`, for the sender to fill; `set_len` says how much of it to send.
    pub fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.slot_size;
        &mut self.payload[start..start + self.slot_size]
    }

    pub fn set_len(&mut self, i: usize, len: usize) {
        assert!(len <= self.slot_size, "datagram longer than its slot");
        self.lens[i] = len;
    }

    pub fn len(&self, i: usize) -> usize {
        self.lens[i]
    }

    /// The datagram in slot `i` (after recv: what arrived; before send: what will go).
    pub fn datagram(&self, i: usize) -> &[u8] {
        let start = i * self.slot_size;
        &self.payload[start..start + self.lens[i]]
    }

    /// Points headers `range` at their buffers, lengths, addresses and control space. Done right
    /// before every syscall, from `&mut self`, so no pointer outlives the borrow it came from.
    fn wire(&mut self, range: Range<usize>, receiving: bool) {
        let payload = self.payload.as_mut_ptr();
        for i in range.clone() {
            let len = if receiving {
                self.slot_size
            } else {
                self.lens[i]
            };
            // wrapping_add keeps this safe code; every offset stays inside its allocation.
            self.iov[i] = libc::iovec {
                iov_base: payload.wrapping_add(i * self.slot_size).cast(),
                iov_len: len,
            };
        }
        // Raw pointers taken after the iovecs are written, so no later borrow invalidates them.
        let iov = self.iov.as_mut_ptr();
        let addresses = self.addresses.as_mut_ptr();
        let control = self.control.as_mut_ptr();
        let has_addresses = !self.addresses.is_empty();
        let has_control = !self.control.is_empty();
        for i in range {
            let msg = &mut self.headers[i].msg_hdr;
            msg.msg_iov = iov.wrapping_add(i);
            msg.msg_iovlen = 1;
            if has_addresses {
                msg.msg_name = addresses.wrapping_add(i).cast();
                if receiving {
                    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
                }
                // When sending, msg_namelen keeps what recvmmsg stored: the peer's real length.
            } else {
                msg.msg_name = std::ptr::null_mut();
                msg.msg_namelen = 0;
            }
            if has_control && receiving {
                msg.msg_control = control.wrapping_add(i * CONTROL_SPACE).cast();
                msg.msg_controllen = CONTROL_SPACE as _;
            } else {
                msg.msg_control = std::ptr::null_mut();
                msg.msg_controllen = 0;
            }
            msg.msg_flags = 0;
            self.headers[i].msg_len = 0;
        }
    }

    /// sendmmsg of slots `range`; returns how many datagrams went (from the start of the range).
    pub fn send(&mut self, fd: BorrowedFd<'_>, range: Range<usize>) -> io::Result<usize> {
        assert!(range.start <= range.end && range.end <= self.slots());
        if range.is_empty() {
            return Ok(0);
        }
        self.wire(range.clone(), false);
        let count = (range.end - range.start) as libc::c_uint;
        let first = self.headers[range.start..].as_mut_ptr();
        // SAFETY: `first` points at `count` initialised headers inside self.headers; `wire` just
        // pointed each at an iovec in self.iov covering bytes inside self.payload, and at an
        // address in self.addresses or null. All are owned by `self`, which is mutably borrowed
        // for the whole call, so nothing moves or is freed while the kernel reads them.
        let rc = unsafe { libc::sendmmsg(fd.as_raw_fd(), first, count, 0) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc as usize)
    }

    /// recvmmsg into slots `0..max`; `flags` usually MSG_WAITFORONE (block for the first
    /// datagram, up to SO_RCVTIMEO, then take only what is already queued). Sets each received
    /// slot's length; returns how many arrived.
    pub fn recv(
        &mut self,
        fd: BorrowedFd<'_>,
        max: usize,
        flags: libc::c_int,
    ) -> io::Result<usize> {
        let max = max.min(self.slots());
        if max == 0 {
            return Ok(0);
        }
        self.wire(0..max, true);
        // SAFETY: the first `max` headers were just pointed at writable iovecs over self.payload
        // (each exactly one slot long), at self.addresses entries with their full length, and at
        // self.control space of the length given; all owned by `self`, mutably borrowed for the
        // call. A null timeout is allowed (SO_RCVTIMEO bounds the wait instead).
        let rc = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                self.headers.as_mut_ptr(),
                max as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let received = rc as usize;
        for i in 0..received {
            // A datagram longer than the slot is truncated (MSG_TRUNC); msg_len is then its real
            // length, so clamp to what is in the buffer.
            self.lens[i] = (self.headers[i].msg_len as usize).min(self.slot_size);
        }
        Ok(received)
    }

    /// True when the datagram in slot `i` was longer than the slot and got cut.
    pub fn truncated(&self, i: usize) -> bool {
        self.headers[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0
    }

    /// The SO_RXQ_OVFL counter delivered with slot `i`: datagrams the kernel dropped on this
    /// socket because its receive queue was full, cumulative since the socket opened.
    pub fn dropped_counter(&self, i: usize) -> Option<u32> {
        if self.control.is_empty() {
            return None;
        }
        let filled = self.headers[i].msg_hdr.msg_controllen.min(CONTROL_SPACE);
        let start = i * CONTROL_SPACE;
        find_rxq_ovfl(&self.control[start..start + filled])
    }
}

/// Walks control messages laid out as struct cmsghdr { size_t len; int level; int type; data }
/// (aligned to size_t), looking for SOL_SOCKET/SO_RXQ_OVFL. Parsed from bytes so it needs no
/// unsafe pointer walking.
fn find_rxq_ovfl(control: &[u8]) -> Option<u32> {
    const WORD: usize = std::mem::size_of::<usize>();
    const HEADER: usize = WORD + 8;
    let mut offset = 0;
    while offset + HEADER <= control.len() {
        let field = |at: usize, n: usize| &control[offset + at..offset + at + n];
        let len = usize::from_ne_bytes(field(0, WORD).try_into().ok()?);
        let level = i32::from_ne_bytes(field(WORD, 4).try_into().ok()?);
        let kind = i32::from_ne_bytes(field(WORD + 4, 4).try_into().ok()?);
        if len < HEADER || offset + len > control.len() {
            return None;
        }
        if level == libc::SOL_SOCKET && kind == libc::SO_RXQ_OVFL && len >= HEADER + 4 {
            return Some(u32::from_ne_bytes(field(HEADER, 4).try_into().ok()?));
        }
        offset += len.div_ceil(WORD) * WORD;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rxq_ovfl_after_another_message() {
        const WORD: usize = std::mem::size_of::<usize>();
        let mut control = Vec::new();
        let mut push = |level: i32, kind: i32, data: &[u8]| {
            let len = WORD + 8 + data.len();
            control.extend_from_slice(&len.to_ne_bytes());
            control.extend_from_slice(&level.to_ne_bytes());
            control.extend_from_slice(&kind.to_ne_bytes());
            control.extend_from_slice(data);
            while control.len() % WORD != 0 {
                control.push(0);
            }
        };
        push(libc::SOL_IP, libc::IP_TOS, &[0]);
        push(libc::SOL_SOCKET, libc::SO_RXQ_OVFL, &77u32.to_ne_bytes());
        assert_eq!(find_rxq_ovfl(&control), Some(77));
        assert_eq!(find_rxq_ovfl(&control[..8]), None);
    }
}
