//! Frames as bytes plus where their layers start, the Internet checksum (RFC 1071) and the
//! builders the generators share. A builder always makes a well-formed frame with every checksum
//! right; generators then break what they mean to break, through the offsets in `Frame`.

pub const ETH_HLEN: usize = 14;
pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_IPV6: u16 = 0x86dd;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_8021AD: u16 = 0x88a8;

pub const PROTO_HOPOPTS: u8 = 0;
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ROUTING: u8 = 43;
pub const PROTO_FRAGMENT: u8 = 44;
pub const PROTO_ICMPV6: u8 = 58;
pub const PROTO_NONE: u8 = 59;
pub const PROTO_DSTOPTS: u8 = 60;

/// The network layer of a frame: where its header starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L3 {
    V4(usize),
    V6(usize),
}

/// A transport header whose checksum can be recomputed over the rest of the IP payload (absent
/// for fragments, whose transport header is split or missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L4 {
    pub off: usize,
    pub proto: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub bytes: Vec<u8>,
    pub l3: Option<L3>,
    pub l4: Option<L4>,
    /// The engine's drop reason (ts/wire/drop-reason.ts, snake case) this frame must be counted
    /// under if it reaches the engine: set where a template's one defect decides it for certain,
    /// cleared by any mutation.
    pub expect: Option<&'static str>,
}

impl Frame {
    pub fn raw(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            l3: None,
            l4: None,
            expect: None,
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn put16(&mut self, at: usize, value: u16) {
        if at + 2 <= self.bytes.len() {
            self.bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
        }
    }

    pub fn get16(&self, at: usize) -> u16 {
        if at + 2 <= self.bytes.len() {
            u16::from_be_bytes([self.bytes[at], self.bytes[at + 1]])
        } else {
            0
        }
    }

    /// XORs the byte at `at` with `mask` (nothing past the end).
    pub fn flip(&mut self, at: usize, mask: u8) {
        if let Some(b) = self.bytes.get_mut(at) {
            *b ^= mask;
        }
    }

    /// Offset of the transport checksum field, when there is a transport header.
    pub fn l4_checksum_at(&self) -> Option<usize> {
        let l4 = self.l4?;
        checksum_field(l4.proto).map(|o| l4.off + o)
    }

    /// Makes the transport checksum wrong (whatever it was).
    pub fn break_l4_checksum(&mut self) {
        if let Some(at) = self.l4_checksum_at() {
            let v = self.get16(at);
            // Never 0: a UDP checksum of 0 over IPv4 means "none", which is valid.
            let mask = if v ^ 0x5a5a == 0 { 0x5a5b } else { 0x5a5a };
            self.put16(at, v ^ mask);
        }
    }

    /// Makes the IPv4 header checksum wrong.
    pub fn break_ip_checksum(&mut self) {
        if let Some(L3::V4(off)) = self.l3 {
            let v = self.get16(off + 10);
            self.put16(off + 10, v ^ 0x0101);
        }
    }

    /// End of the IP payload the headers claim, clamped to the frame.
    fn ip_end(&self) -> usize {
        let len = self.bytes.len();
        match self.l3 {
            Some(L3::V4(off)) => (off + usize::from(self.get16(off + 2))).min(len),
            Some(L3::V6(off)) => (off + 40 + usize::from(self.get16(off + 4))).min(len),
            None => len,
        }
    }

    /// Recomputes the IPv4 header checksum and the transport checksum from the bytes as they
    /// are, so a mutated frame gets past checksum checks and into the parsers behind them.
    pub fn fix_checksums(&mut self) {
        let len = self.bytes.len();
        if let Some(L3::V4(off)) = self.l3 {
            let ihl = usize::from(self.bytes.get(off).map_or(0, |b| b & 0x0f)) * 4;
            if ihl >= 20 && off + ihl <= len {
                self.put16(off + 10, 0);
                let c = checksum(&self.bytes[off..off + ihl], 0);
                self.put16(off + 10, c);
            }
        }
        let (Some(l3), Some(l4)) = (self.l3, self.l4) else {
            return;
        };
        let Some(field) = checksum_field(l4.proto) else {
            return;
        };
        let end = self.ip_end();
        if l4.off + field + 2 > end {
            return;
        }
        self.put16(l4.off + field, 0);
        let seg_len = end - l4.off;
        let pseudo = match l3 {
            // RFC 792: the ICMP checksum has no pseudo header.
            L3::V4(_) if l4.proto == PROTO_ICMP => 0,
            L3::V4(off) => {
                if off + 20 > len {
                    return;
                }
                pseudo4(&self.bytes[off + 12..off + 20], l4.proto, seg_len)
            }
            L3::V6(off) => {
                if off + 40 > len {
                    return;
                }
                pseudo6(&self.bytes[off + 8..off + 40], l4.proto, seg_len)
            }
        };
        let mut c = checksum(&self.bytes[l4.off..end], pseudo);
        // RFC 768: a computed UDP checksum of 0 is sent as all ones (0 means "none").
        if l4.proto == PROTO_UDP && c == 0 {
            c = 0xffff;
        }
        self.put16(l4.off + field, c);
    }
}

/// Where the checksum sits in a transport header.
pub fn checksum_field(proto: u8) -> Option<usize> {
    match proto {
        PROTO_TCP => Some(16),
        PROTO_UDP => Some(6),
        PROTO_ICMP | PROTO_ICMPV6 => Some(2),
        _ => None,
    }
}

/// One's complement sum of 16-bit words (RFC 1071), not yet folded.
pub fn sum16(data: &[u8], mut acc: u64) -> u64 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// The Internet checksum of `data` with a pseudo-header sum already added.
pub fn checksum(data: &[u8], pseudo: u64) -> u16 {
    let mut acc = sum16(data, pseudo);
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// `addrs` is source then destination (8 bytes).
pub fn pseudo4(addrs: &[u8], proto: u8, len: usize) -> u64 {
    sum16(addrs, u64::from(proto) + (len as u64 & 0xffff))
}

/// `addrs` is source then destination (32 bytes).
pub fn pseudo6(addrs: &[u8], proto: u8, len: usize) -> u64 {
    sum16(
        addrs,
        u64::from(proto) + (len as u64 >> 16) + (len as u64 & 0xffff),
    )
}

/// Ethernet addressing and tags of a frame.
#[derive(Clone, Debug)]
pub struct Eth {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// (TPID, TCI) pairs, outermost first.
    pub tags: Vec<(u16, u16)>,
}

impl Eth {
    pub fn new(dst: [u8; 6], src: [u8; 6]) -> Self {
        Self {
            dst,
            src,
            tags: Vec::new(),
        }
    }

    /// The header (with tags) for `ethertype`; returns the bytes so far.
    pub fn header(&self, ethertype: u16) -> Vec<u8> {
        let mut b = Vec::with_capacity(1514);
        b.extend_from_slice(&self.dst);
        b.extend_from_slice(&self.src);
        for &(tpid, tci) in &self.tags {
            b.extend_from_slice(&tpid.to_be_bytes());
            b.extend_from_slice(&tci.to_be_bytes());
        }
        b.extend_from_slice(&ethertype.to_be_bytes());
        b
    }
}

/// An IPv4 header's fields (RFC 791); `options` are padded to a multiple of 4 with zeros (EOL).
#[derive(Clone, Debug)]
pub struct Ip4 {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub ttl: u8,
    pub tos: u8,
    pub id: u16,
    /// Flags and fragment offset as on the wire (offset in 8-byte units).
    pub flags_frag: u16,
    pub options: Vec<u8>,
}

impl Ip4 {
    pub fn new(src: [u8; 4], dst: [u8; 4], id: u16) -> Self {
        Self {
            src,
            dst,
            ttl: 64,
            tos: 0,
            id,
            flags_frag: 0,
            options: Vec::new(),
        }
    }
}

/// A whole IPv4 frame: `eth`, the header from `ip` for protocol `proto`, then `payload`.
/// `transport`: the payload starts with a complete header of `proto` whose checksum is filled.
pub fn frame4(eth: &Eth, ip: &Ip4, proto: u8, payload: &[u8], transport: bool) -> Frame {
    let mut b = eth.header(ETH_P_IP);
    let off = b.len();
    let mut options = ip.options.clone();
    options.truncate(40);
    while !options.len().is_multiple_of(4) {
        options.push(0);
    }
    let ihl = 20 + options.len();
    let total = (ihl + payload.len()).min(0xffff) as u16;
    b.push(0x40 | (ihl / 4) as u8);
    b.push(ip.tos);
    b.extend_from_slice(&total.to_be_bytes());
    b.extend_from_slice(&ip.id.to_be_bytes());
    b.extend_from_slice(&ip.flags_frag.to_be_bytes());
    b.push(ip.ttl);
    b.push(proto);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&ip.src);
    b.extend_from_slice(&ip.dst);
    b.extend_from_slice(&options);
    let l4_off = b.len();
    b.extend_from_slice(payload);
    let mut f = Frame {
        bytes: b,
        l3: Some(L3::V4(off)),
        l4: transport.then_some(L4 { off: l4_off, proto }),
        expect: None,
    };
    f.fix_checksums();
    f
}

/// An IPv6 header's fields (RFC 8200).
#[derive(Clone, Debug)]
pub struct Ip6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow: u32,
}

impl Ip6 {
    pub fn new(src: [u8; 16], dst: [u8; 16]) -> Self {
        Self {
            src,
            dst,
            hop_limit: 64,
            traffic_class: 0,
            flow: 0,
        }
    }
}

/// One extension header (RFC 8200 4): its type and its bytes after the Next Header field, which
/// the chain fills in.
#[derive(Clone, Debug)]
pub struct Ext {
    pub kind: u8,
    pub body: Vec<u8>,
}

impl Ext {
    /// Hop-by-Hop or Destination Options holding `options` (TLVs), padded with PadN/Pad1 to a
    /// multiple of 8 and with its length field set.
    pub fn options(kind: u8, options: &[u8]) -> Self {
        let mut body = vec![0u8];
        body.extend_from_slice(options);
        let total = (body.len() + 1).div_ceil(8) * 8;
        let pad = total - 1 - body.len();
        match pad {
            0 => {}
            1 => body.push(0),
            n => {
                body.push(1);
                body.push((n - 2) as u8);
                body.extend(std::iter::repeat_n(0, n - 2));
            }
        }
        body[0] = (total / 8 - 1) as u8;
        Self { kind, body }
    }

    /// A Routing header of `routing_type` with `segments_left` and `data` (RFC 8200 4.4).
    pub fn routing(routing_type: u8, segments_left: u8, data: &[u8]) -> Self {
        let mut body = vec![0u8, routing_type, segments_left];
        body.extend_from_slice(data);
        let total = (body.len() + 1).div_ceil(8).max(1) * 8;
        body.resize(total - 1, 0);
        body[0] = (total / 8 - 1) as u8;
        Self {
            kind: PROTO_ROUTING,
            body,
        }
    }

    /// A Fragment header (RFC 8200 4.5): offset in bytes (a multiple of 8 unless lying).
    pub fn fragment(offset: u16, more: bool, id: u32) -> Self {
        let mut body = vec![0u8];
        body.extend_from_slice(&((offset & 0xfff8) | u16::from(more)).to_be_bytes());
        body.extend_from_slice(&id.to_be_bytes());
        Self {
            kind: PROTO_FRAGMENT,
            body,
        }
    }
}

/// The bytes of a chain of extension headers ending in `upper`, and the first Next Header.
pub fn ext_chain(exts: &[Ext], upper: u8) -> (u8, Vec<u8>) {
    let mut out = Vec::new();
    for (i, e) in exts.iter().enumerate() {
        out.push(exts.get(i + 1).map_or(upper, |n| n.kind));
        out.extend_from_slice(&e.body);
    }
    (exts.first().map_or(upper, |e| e.kind), out)
}

/// A whole IPv6 frame: `eth`, the fixed header, the extension headers, then `payload` of
/// protocol `upper` (`transport`: a complete header of it, checksum filled).
pub fn frame6(
    eth: &Eth,
    ip: &Ip6,
    exts: &[Ext],
    upper: u8,
    payload: &[u8],
    transport: bool,
) -> Frame {
    let mut b = eth.header(ETH_P_IPV6);
    let off = b.len();
    let (first, chain) = ext_chain(exts, upper);
    let plen = (chain.len() + payload.len()).min(0xffff) as u16;
    let word0 = (6u32 << 28) | (u32::from(ip.traffic_class) << 20) | (ip.flow & 0xfffff);
    b.extend_from_slice(&word0.to_be_bytes());
    b.extend_from_slice(&plen.to_be_bytes());
    b.push(first);
    b.push(ip.hop_limit);
    b.extend_from_slice(&ip.src);
    b.extend_from_slice(&ip.dst);
    b.extend_from_slice(&chain);
    let l4_off = b.len();
    b.extend_from_slice(payload);
    let mut f = Frame {
        bytes: b,
        l3: Some(L3::V6(off)),
        l4: transport.then_some(L4 {
            off: l4_off,
            proto: upper,
        }),
        expect: None,
    };
    f.fix_checksums();
    f
}

/// A UDP header and payload (RFC 768), checksum left for the frame builder.
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + payload.len());
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&((8 + payload.len()).min(0xffff) as u16).to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(payload);
    b
}

/// TCP flags (RFC 9293 3.1, RFC 3168, RFC 9768 AE in the low bit of byte 12).
pub mod flags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const AE: u16 = 0x100;
}

/// A TCP segment's header fields (RFC 9293 3.1).
#[derive(Clone, Debug)]
pub struct Tcp {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
    pub urgent: u16,
    /// Raw option bytes, padded with zeros (EOL) to a multiple of 4, at most 40.
    pub options: Vec<u8>,
}

impl Tcp {
    pub fn new(sport: u16, dport: u16, seq: u32, ack: u32, flags: u16) -> Self {
        Self {
            sport,
            dport,
            seq,
            ack,
            flags,
            window: 65535,
            urgent: 0,
            options: Vec::new(),
        }
    }

    /// Header and payload, checksum left for the frame builder.
    pub fn segment(&self, payload: &[u8]) -> Vec<u8> {
        let mut options = self.options.clone();
        options.truncate(40);
        while !options.len().is_multiple_of(4) {
            options.push(0);
        }
        let doff = (20 + options.len()) / 4;
        let mut b = Vec::with_capacity(20 + options.len() + payload.len());
        b.extend_from_slice(&self.sport.to_be_bytes());
        b.extend_from_slice(&self.dport.to_be_bytes());
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.ack.to_be_bytes());
        b.push(((doff as u8) << 4) | ((self.flags >> 8) as u8 & 0x0f));
        b.push(self.flags as u8);
        b.extend_from_slice(&self.window.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.urgent.to_be_bytes());
        b.extend_from_slice(&options);
        b.extend_from_slice(payload);
        b
    }
}

/// An ICMP or ICMPv6 message: type, code, the 4 bytes after the checksum, then `body`.
pub fn icmp(kind: u8, code: u8, rest: u32, body: &[u8]) -> Vec<u8> {
    let mut b = vec![kind, code, 0, 0];
    b.extend_from_slice(&rest.to_be_bytes());
    b.extend_from_slice(body);
    b
}

/// An ARP packet for IPv4 over Ethernet (RFC 826).
pub fn arp(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    let mut b = vec![0, 1, 0x08, 0x00, 6, 4];
    b.extend_from_slice(&op.to_be_bytes());
    b.extend_from_slice(&sha);
    b.extend_from_slice(&spa);
    b.extend_from_slice(&tha);
    b.extend_from_slice(&tpa);
    b
}

/// ff02::1:ffXX:XXXX for `addr` (RFC 4291 2.7.1).
pub fn solicited_node(addr: &[u8; 16]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xff;
    a[1] = 0x02;
    a[11] = 1;
    a[12] = 0xff;
    a[13..].copy_from_slice(&addr[13..]);
    a
}

/// The Ethernet address of an IPv6 multicast group (RFC 2464 7).
pub fn multicast_mac(group: &[u8; 16]) -> [u8; 6] {
    [0x33, 0x33, group[12], group[13], group[14], group[15]]
}

/// fe80::/64 with the modified EUI-64 of `mac` (RFC 4291 2.5.6, appendix A).
pub fn link_local(mac: &[u8; 6]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[8] = mac[0] ^ 0x02;
    a[9] = mac[1];
    a[10] = mac[2];
    a[11] = 0xff;
    a[12] = 0xfe;
    a[13] = mac[3];
    a[14] = mac[4];
    a[15] = mac[5];
    a
}

pub const ALL_NODES: [u8; 16] = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

#[cfg(test)]
mod tests {
    use super::*;

    fn eth() -> Eth {
        Eth::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
    }

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 4.1: 0001 f203 f4f5 f6f7 sums to ddf2 (complement 220d).
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], 0),
            0x220d
        );
    }

    #[test]
    fn built_frames_verify() {
        let ip = Ip4::new([198, 18, 0, 240], [198, 18, 0, 1], 7);
        let f = frame4(&eth(), &ip, PROTO_UDP, &udp(1000, 7, b"hello"), true);
        assert_eq!(checksum(&f.bytes[14..34], 0), 0);
        let p = pseudo4(&f.bytes[26..34], PROTO_UDP, 13);
        assert_eq!(checksum(&f.bytes[34..], p), 0);

        let mut src = [0u8; 16];
        src[0] = 0x20;
        src[15] = 0xf0;
        let ip6 = Ip6::new(src, ALL_NODES);
        let exts = [Ext::options(PROTO_HOPOPTS, &[5, 2, 0, 0])];
        let seg = Tcp::new(1, 7, 5, 0, flags::SYN).segment(b"");
        let f = frame6(&eth(), &ip6, &exts, PROTO_TCP, &seg, true);
        assert_eq!(f.bytes[20], PROTO_HOPOPTS);
        assert_eq!(f.bytes[54], PROTO_TCP);
        assert_eq!(f.bytes.len() % 2, 0);
        let l4 = f.l4.unwrap().off;
        assert_eq!(l4, 14 + 40 + 8);
        let p = pseudo6(&f.bytes[22..54], PROTO_TCP, f.bytes.len() - l4);
        assert_eq!(checksum(&f.bytes[l4..], p), 0);
    }
}
