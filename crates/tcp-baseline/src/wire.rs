//! Two smoltcp devices joined by a pair of in-memory queues: what one transmits, the other
//! receives, in order, with no loss. The in-memory counterpart of the engine's MemoryPair.
//!
//! Frames are recycled through a shared free list, so a run does not time the allocator (the
//! engine's memory pair moves frames by descriptor and allocates nothing per packet either).

use smoltcp::phy::{self, ChecksumCapabilities, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

const ETHERNET_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const IP_PROTO_TCP: u8 = 6;

#[derive(Default)]
struct Shared {
    a_to_b: VecDeque<Vec<u8>>,
    b_to_a: VecDeque<Vec<u8>>,
    free: Vec<Vec<u8>>,
}

/// One end of the pair.
pub struct End {
    shared: Rc<RefCell<Shared>>,
    is_a: bool,
    ip_mtu: usize,
    /// TCP segments with payload this end sent (retransmissions included).
    pub data_segments: u64,
    /// Every frame this end sent.
    pub frames: u64,
}

/// Both ends of a new pair whose IP MTU is `ip_mtu`.
pub fn pair(ip_mtu: usize) -> (End, End) {
    let shared = Rc::new(RefCell::new(Shared::default()));
    let end = |is_a| End {
        shared: shared.clone(),
        is_a,
        ip_mtu,
        data_segments: 0,
        frames: 0,
    };
    (end(true), end(false))
}

pub struct RxToken {
    buffer: Vec<u8>,
    shared: Rc<RefCell<Shared>>,
}

pub struct TxToken<'a> {
    end: &'a mut End,
}

impl Device for End {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // smoltcp counts the Ethernet header in an Ethernet device's MTU.
        caps.max_transmission_unit = self.ip_mtu + ETHERNET_HEADER;
        // The default computes every checksum on transmit and verifies it on receive, as the
        // engine's stack does: no offload is assumed on either side.
        caps.checksum = ChecksumCapabilities::default();
        caps
    }

    fn receive(&mut self, _timestamp: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let buffer = {
            let mut shared = self.shared.borrow_mut();
            if self.is_a {
                shared.b_to_a.pop_front()
            } else {
                shared.a_to_b.pop_front()
            }
        }?;
        let rx = RxToken {
            buffer,
            shared: self.shared.clone(),
        };
        Some((rx, TxToken { end: self }))
    }

    fn transmit(&mut self, _timestamp: Instant) -> Option<TxToken<'_>> {
        Some(TxToken { end: self })
    }
}

impl phy::RxToken for RxToken {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&[u8]) -> R,
    {
        let r = f(&self.buffer);
        self.shared.borrow_mut().free.push(self.buffer);
        r
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let end = self.end;
        let mut buffer = end.shared.borrow_mut().free.pop().unwrap_or_default();
        // Zeroed, as a fresh frame would be: smoltcp does not write every byte of one.
        buffer.clear();
        buffer.resize(len, 0);
        let r = f(&mut buffer);
        end.frames += 1;
        if carries_tcp_data(&buffer) {
            end.data_segments += 1;
        }
        let mut shared = end.shared.borrow_mut();
        if end.is_a {
            shared.a_to_b.push_back(buffer);
        } else {
            shared.b_to_a.push_back(buffer);
        }
        r
    }
}

/// True for an Ethernet/IPv4/TCP frame with a payload (a data segment, not a bare ACK).
fn carries_tcp_data(frame: &[u8]) -> bool {
    let ip = ETHERNET_HEADER;
    if frame.len() < ip + 20 || u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_IPV4 {
        return false;
    }
    if frame[ip + 9] != IP_PROTO_TCP {
        return false;
    }
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([frame[ip + 2], frame[ip + 3]]));
    let tcp = ip + ihl;
    if frame.len() < tcp + 13 {
        return false;
    }
    let data_offset = usize::from(frame[tcp + 12] >> 4) * 4;
    total > ihl + data_offset
}
