//! The frame generator: unit `i` of seed `s` is a function of (s, i) alone (its own xorshift
//! stream), so any unit can be made again, sent again or dumped without the ones before it. A
//! unit is one template of one protocol class (a fragment train is several frames), deliberately
//! broken in one place, then, with some probability per frame, mutated at random (bit flips,
//! interesting values, truncation, growth, lying length fields) and often given fresh checksums
//! so the mutation reaches the parsers behind the checksum checks.
//!
//! Only the stateful TCP class (session.rs) depends on anything else: the engine's answers.

use super::mutate::mutate;
use super::packet::{
    arp, flags, frame4, frame6, icmp, link_local, multicast_mac, solicited_node, udp, Eth, Ext,
    Frame, Ip4, Ip6, Tcp, ALL_NODES, BROADCAST_MAC, ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP,
    ETH_P_IP, ETH_P_IPV6, L3, PROTO_DSTOPTS, PROTO_FRAGMENT, PROTO_HOPOPTS, PROTO_ICMP,
    PROTO_ICMPV6, PROTO_NONE, PROTO_ROUTING, PROTO_TCP, PROTO_UDP,
};
use super::session::Sessions;
use crate::cmd::wire::rng::Rng;

/// Who the frames are for and from.
#[derive(Clone, Debug)]
pub struct Targets {
    pub engine_mac: [u8; 6],
    /// The sending interface's MAC: the source of well-formed frames, and what the responder
    /// answers ARP/ND for the fuzz sources with.
    pub my_mac: [u8; 6],
    pub dst4: [u8; 4],
    pub dst6: [u8; 16],
    /// The engine's link-local address (from its MAC), which its XDP program also redirects.
    pub ll6: [u8; 16],
    /// Source addresses of the fuzz traffic: never the peer's own, so that nothing the fuzzer
    /// says (ARP, ND, resets) can touch the normal client's traffic.
    pub src4: Vec<[u8; 4]>,
    pub src6: Vec<[u8; 16]>,
    pub tcp_port: u16,
    pub udp_port: u16,
}

impl Targets {
    /// The IPv6 destinations the engine's XDP program redirects (ts/runtime/engine.ts: the
    /// addresses, the link-local one, all-nodes, and the solicited-node groups).
    fn engine6(&self, a: &[u8]) -> bool {
        a == self.dst6
            || a == self.ll6
            || a == ALL_NODES
            || a == solicited_node(&self.dst6)
            || a == solicited_node(&self.ll6)
    }

    /// Whether the engine's XDP program (crates/xdp-prog/src/program.rs) redirects `frame` to
    /// the engine rather than passing it to the kernel: Ethernet with at most one tag skipped,
    /// then ARP for IPv4 over Ethernet with the engine's target address, IPv4 version 4 to its
    /// address, or IPv6 version 6 to one of its addresses.
    pub fn redirected(&self, frame: &[u8]) -> bool {
        let be16 = |at: usize| u16::from_be_bytes([frame[at], frame[at + 1]]);
        if frame.len() < ETH_HLEN {
            return false;
        }
        let mut l3 = ETH_HLEN;
        let mut ethertype = be16(12);
        if ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD {
            if frame.len() < ETH_HLEN + 4 {
                return false;
            }
            ethertype = be16(16);
            l3 += 4;
        }
        let need = |n: usize| frame.len() >= l3 + n;
        match ethertype {
            ETH_P_ARP => {
                need(28)
                    && frame[l3..l3 + 6] == [0, 1, 8, 0, 6, 4]
                    && frame[l3 + 24..l3 + 28] == self.dst4
            }
            ETH_P_IP => need(20) && frame[l3] >> 4 == 4 && frame[l3 + 16..l3 + 20] == self.dst4,
            ETH_P_IPV6 => need(40) && frame[l3] >> 4 == 6 && self.engine6(&frame[l3 + 24..l3 + 40]),
            _ => false,
        }
    }
}

/// The protocol classes, each with its own templates; `weight` is its share of the units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Eth,
    Vlan,
    Arp,
    Ipv4,
    Ipv4Frag,
    Ipv6,
    Ipv6Ext,
    Ipv6Frag,
    Icmp4,
    Icmp6,
    Ndp,
    Udp4,
    Udp6,
    Tcp4,
    Tcp6,
    TcpSession,
}

impl Class {
    pub const ALL: [Class; 16] = [
        Class::Eth,
        Class::Vlan,
        Class::Arp,
        Class::Ipv4,
        Class::Ipv4Frag,
        Class::Ipv6,
        Class::Ipv6Ext,
        Class::Ipv6Frag,
        Class::Icmp4,
        Class::Icmp6,
        Class::Ndp,
        Class::Udp4,
        Class::Udp6,
        Class::Tcp4,
        Class::Tcp6,
        Class::TcpSession,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Eth => "eth",
            Class::Vlan => "vlan",
            Class::Arp => "arp",
            Class::Ipv4 => "ipv4",
            Class::Ipv4Frag => "ipv4Frag",
            Class::Ipv6 => "ipv6",
            Class::Ipv6Ext => "ipv6Ext",
            Class::Ipv6Frag => "ipv6Frag",
            Class::Icmp4 => "icmp4",
            Class::Icmp6 => "icmp6",
            Class::Ndp => "ndp",
            Class::Udp4 => "udp4",
            Class::Udp6 => "udp6",
            Class::Tcp4 => "tcp4",
            Class::Tcp6 => "tcp6",
            Class::TcpSession => "tcpSession",
        }
    }

    pub fn index(self) -> usize {
        Class::ALL.iter().position(|&c| c == self).unwrap_or(0)
    }

    /// Units of this class per 100 (fragment trains are several frames each, so they get fewer).
    fn weight(self) -> u64 {
        match self {
            Class::Eth => 5,
            Class::Vlan => 4,
            Class::Arp => 6,
            Class::Ipv4 => 8,
            Class::Ipv4Frag => 3,
            Class::Ipv6 => 7,
            Class::Ipv6Ext => 8,
            Class::Ipv6Frag => 3,
            Class::Icmp4 => 7,
            Class::Icmp6 => 7,
            Class::Ndp => 7,
            Class::Udp4 => 6,
            Class::Udp6 => 5,
            Class::Tcp4 => 8,
            Class::Tcp6 => 6,
            Class::TcpSession => 10,
        }
    }
}

/// What one unit is: its class and frames, and how many of them were mutated.
pub struct Unit {
    pub class: Class,
    pub frames: Vec<Frame>,
    pub mutated: usize,
}

/// Sampling helpers over the seeded stream.
pub trait Draw {
    fn below(&mut self, n: u64) -> u64;
    fn byte(&mut self) -> u8;
    fn u16(&mut self) -> u16;
    fn u32(&mut self) -> u32;
    fn bytes(&mut self, n: usize) -> Vec<u8>;
    fn pick<T: Copy>(&mut self, from: &[T]) -> T;
    fn range(&mut self, lo: usize, hi: usize) -> usize;
}

impl Draw for Rng {
    /// Uniform in 0..n (n > 0); the bias of the modulo is immaterial here.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
    fn u16(&mut self) -> u16 {
        self.next_u64() as u16
    }
    fn u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(n);
        out
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }
    /// Uniform in lo..=hi (lo when hi < lo).
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as usize
    }
}

/// The seeded stream of unit `index`: SplitMix-style mixing of seed and index, so neighbouring
/// units and neighbouring seeds share nothing.
pub fn unit_rng(seed: u64, index: u64) -> Rng {
    Rng::new(
        seed.rotate_left(29) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x632b_e59b_d9b4_e019,
    )
}

pub struct Generator {
    pub seed: u64,
    pub targets: Targets,
    /// Longest frame the interface sends (MTU + Ethernet header).
    pub max_len: usize,
    /// Chance that a frame is mutated after its template (0..=1).
    pub mutate: f64,
}

impl Generator {
    /// Unit `index`. `sessions` holds the stateful TCP class's connections.
    pub fn unit(&self, index: u64, sessions: &mut Sessions) -> Unit {
        let mut g = G {
            t: &self.targets,
            r: unit_rng(self.seed, index),
            max_len: self.max_len,
        };
        let total: u64 = Class::ALL.iter().map(|c| c.weight()).sum();
        let mut pick = g.r.below(total);
        let mut class = Class::Eth;
        for c in Class::ALL {
            if pick < c.weight() {
                class = c;
                break;
            }
            pick -= c.weight();
        }
        let mut frames = match class {
            Class::Eth => g.eth(),
            Class::Vlan => g.vlan(),
            Class::Arp => g.arp(),
            Class::Ipv4 => g.ipv4(),
            Class::Ipv4Frag => g.frag4(),
            Class::Ipv6 => g.ipv6(),
            Class::Ipv6Ext => g.ipv6_ext(),
            Class::Ipv6Frag => g.frag6(),
            Class::Icmp4 => g.icmp4(),
            Class::Icmp6 => g.icmp6(),
            Class::Ndp => g.ndp(),
            Class::Udp4 => g.udp(false),
            Class::Udp6 => g.udp(true),
            Class::Tcp4 => g.tcp(false),
            Class::Tcp6 => g.tcp(true),
            Class::TcpSession => sessions.unit(&mut g),
        };
        // Session segments are mutated less: most must stay in the connection to test it.
        let chance = if class == Class::TcpSession {
            self.mutate / 4.0
        } else {
            self.mutate
        };
        let mut mutated = 0;
        for f in &mut frames {
            // A session's RSTs stay whole: a mangled one would leave its connection open in the
            // engine for good, the session having moved on.
            let keep = class == Class::TcpSession && is_reset(f);
            if !keep && g.r.chance(chance) {
                mutate(&mut g.r, f, self.max_len);
                mutated += 1;
            }
            f.bytes.truncate(self.max_len);
        }
        Unit {
            class,
            frames,
            mutated,
        }
    }
}

/// Whether `f` is a TCP segment with RST set.
fn is_reset(f: &Frame) -> bool {
    f.l4.is_some_and(|l4| {
        l4.proto == PROTO_TCP && f.bytes.get(l4.off + 13).is_some_and(|b| b & 0x04 != 0)
    })
}

/// One unit's generation: the targets and the unit's own stream.
pub struct G<'a> {
    pub t: &'a Targets,
    pub r: Rng,
    pub max_len: usize,
}

const IPV4_OPTION_KINDS: [u8; 10] = [7, 68, 130, 131, 133, 134, 136, 137, 148, 25];
const UNKNOWN_PROTOCOLS: [u8; 12] = [0, 2, 4, 41, 47, 50, 51, 103, 132, 137, 253, 255];

impl G<'_> {
    pub fn src4(&mut self) -> [u8; 4] {
        let i = self.r.below(self.t.src4.len() as u64) as usize;
        self.t.src4[i]
    }

    pub fn src6(&mut self) -> [u8; 16] {
        let i = self.r.below(self.t.src6.len() as u64) as usize;
        self.t.src6[i]
    }

    pub fn to_engine(&self) -> Eth {
        Eth::new(self.t.engine_mac, self.t.my_mac)
    }

    /// Ethernet to an IPv6 destination: its group MAC for multicast, else the engine's.
    fn eth6(&self, dst: &[u8; 16]) -> Eth {
        if dst[0] == 0xff {
            Eth::new(multicast_mac(dst), self.t.my_mac)
        } else {
            self.to_engine()
        }
    }

    /// Mostly the engine's global address, sometimes its link-local one or all-nodes.
    fn dst6(&mut self) -> [u8; 16] {
        match self.r.below(10) {
            0 => self.t.ll6,
            1 => ALL_NODES,
            _ => self.t.dst6,
        }
    }

    fn port(&mut self) -> u16 {
        1024 + self.r.below(64000) as u16
    }

    /// A destination port: the open one mostly, else a closed one, rarely 0.
    fn dport(&mut self, open: u16) -> u16 {
        match self.r.below(20) {
            0 => 0,
            1..=6 => 1 + self.r.below(65535) as u16,
            _ => open,
        }
    }

    /// Payload bytes: short ones mostly, sometimes up to `room`.
    fn payload(&mut self, room: usize) -> Vec<u8> {
        let n = match self.r.below(4) {
            0 => 0,
            1 | 2 => self.r.range(1, 64.min(room)),
            _ => self.r.range(0, room),
        };
        self.r.bytes(n.min(room))
    }

    /// Room for an upper-layer payload after IPv4 (or IPv6) and `more` header bytes.
    fn room(&self, v6: bool, more: usize) -> usize {
        self.max_len
            .saturating_sub(ETH_HLEN + if v6 { 40 } else { 20 } + more)
    }

    /// An upper-layer message for IPv4: (protocol, bytes, whether a checksummed transport
    /// header starts it). `room`: the most bytes it may take.
    fn upper4(&mut self, room: usize) -> (u8, Vec<u8>, bool) {
        let room = room.max(8);
        match self.r.below(6) {
            0 | 1 => {
                let p = self.payload(room.saturating_sub(8));
                let port = self.t.udp_port;
                (PROTO_UDP, udp(self.port(), port, &p), true)
            }
            2 => {
                let p = self.payload(room.saturating_sub(8));
                (PROTO_ICMP, icmp(8, 0, self.r.u32(), &p), true)
            }
            3 | 4 => {
                let port = self.t.tcp_port;
                let tcp = Tcp::new(self.port(), port, self.r.u32(), 0, flags::SYN);
                let p = if self.r.chance(0.3) {
                    self.payload(room.saturating_sub(20))
                } else {
                    Vec::new()
                };
                (PROTO_TCP, tcp.segment(&p), true)
            }
            _ => {
                let p = self.payload(room);
                (self.r.pick(&UNKNOWN_PROTOCOLS), p, false)
            }
        }
    }

    /// The same for IPv6 (ICMPv6 echo instead of ICMP, No Next Header among the others).
    fn upper6(&mut self, room: usize) -> (u8, Vec<u8>, bool) {
        let room = room.max(8);
        match self.r.below(6) {
            0 | 1 => {
                let p = self.payload(room.saturating_sub(8));
                let port = self.t.udp_port;
                (PROTO_UDP, udp(self.port(), port, &p), true)
            }
            2 => {
                let p = self.payload(room.saturating_sub(8));
                (PROTO_ICMPV6, icmp(128, 0, self.r.u32(), &p), true)
            }
            3 | 4 => {
                let port = self.t.tcp_port;
                let tcp = Tcp::new(self.port(), port, self.r.u32(), 0, flags::SYN);
                (PROTO_TCP, tcp.segment(&[]), true)
            }
            _ => {
                let p = self.payload(room);
                let proto = if self.r.chance(0.5) {
                    PROTO_NONE
                } else {
                    self.r.pick(&UNKNOWN_PROTOCOLS)
                };
                (proto, p, false)
            }
        }
    }

    /// A well-formed IPv4 frame to the engine from a fuzz source.
    fn valid4(&mut self) -> Frame {
        let (proto, body, transport) = self.upper4(self.room(false, 0).min(600));
        let ip = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
        frame4(&self.to_engine(), &ip, proto, &body, transport)
    }

    /// A well-formed IPv6 frame to the engine from a fuzz source.
    fn valid6(&mut self) -> Frame {
        let (proto, body, transport) = self.upper6(self.room(true, 0).min(600));
        let dst = self.dst6();
        let ip = Ip6::new(self.src6(), dst);
        frame6(&self.eth6(&dst), &ip, &[], proto, &body, transport)
    }

    // ---- Ethernet and VLAN -----------------------------------------------------------------

    fn eth(&mut self) -> Vec<Frame> {
        let t = self.t;
        let mut f = match self.r.below(9) {
            // Runts: shorter than an Ethernet header (the kernel pads what it sends to 14).
            0 => {
                let n = self.r.range(1, 13);
                Frame::raw(self.r.bytes(n))
            }
            // A header and a few bytes, any EtherType.
            1 => {
                let n = self.r.range(14, 24);
                let mut b = self.r.bytes(n);
                b[..6].copy_from_slice(&t.engine_mac);
                Frame::raw(b)
            }
            // Foreign or length-field EtherTypes with a payload.
            2 => {
                let kind = self
                    .r
                    .pick(&[0x0000, 0x05dc, 0x0600, 0x88cc, 0x8863, 0x9000, 0x0842]);
                let kind = if self.r.chance(0.3) {
                    self.r.u16()
                } else {
                    kind
                };
                let mut b = Eth::new(t.engine_mac, t.my_mac).header(kind);
                let n = self.r.range(0, 200);
                b.extend(self.r.bytes(n));
                Frame::raw(b)
            }
            // A good packet from a group source address (IEEE 802: never a source).
            3 => {
                let mut f = self.valid4();
                f.bytes[6] |= 1;
                f.expect = Some("eth_src_multicast");
                f
            }
            // A good packet to another station, or to an IPv4 multicast MAC.
            4 => {
                let mut f = if self.r.chance(0.5) {
                    self.valid4()
                } else {
                    self.valid6()
                };
                let mac = if self.r.chance(0.5) {
                    [
                        0x02,
                        0x11,
                        0x22,
                        self.r.byte(),
                        self.r.byte(),
                        self.r.byte(),
                    ]
                } else {
                    [0x01, 0x00, 0x5e, 0x00, 0x00, self.r.byte()]
                };
                f.bytes[..6].copy_from_slice(&mac);
                f.expect = Some("eth_not_for_us");
                f
            }
            // A good packet to the broadcast MAC.
            5 => {
                let mut f = self.valid4();
                f.bytes[..6].copy_from_slice(&BROADCAST_MAC);
                f
            }
            // IPv4 or IPv6 EtherType over random bytes that keep the engine's address.
            6 => {
                let v6 = self.r.chance(0.4);
                let mut b = self
                    .to_engine()
                    .header(if v6 { ETH_P_IPV6 } else { ETH_P_IP });
                let n = self.r.range(20, 300);
                b.extend(self.r.bytes(n));
                if v6 && b.len() >= 54 {
                    b[14] = 0x60 | (b[14] & 0x0f);
                    b[38..54].copy_from_slice(&t.dst6);
                } else if !v6 {
                    b[14] = 0x40 | (b[14] & 0x0f);
                    b[30..34].copy_from_slice(&t.dst4);
                }
                Frame::raw(b)
            }
            // The longest frame the link takes.
            7 => {
                let mut f = self.valid4();
                let n = self.max_len.saturating_sub(f.len());
                f.bytes.extend(self.r.bytes(n));
                f
            }
            // Ethernet padding after a short packet (as a NIC adds up to 60 bytes).
            _ => {
                let mut f = self.valid4();
                while f.bytes.len() < 60 {
                    f.bytes.push(0);
                }
                f
            }
        };
        if f.bytes.is_empty() {
            f.bytes.push(0);
        }
        vec![f]
    }

    fn vlan(&mut self) -> Vec<Frame> {
        let tci = match self.r.below(4) {
            0 => 0, // priority-tagged (802.1p), VID 0
            1 => 0xfff,
            _ => self.r.u16(),
        };
        let outer = self.r.pick(&[ETH_P_8021Q, ETH_P_8021Q, ETH_P_8021AD]);
        let mut eth = self.to_engine();
        eth.tags.push((outer, tci));
        match self.r.below(6) {
            // A second and a third tag.
            0 => eth.tags.push((ETH_P_8021Q, self.r.u16())),
            1 => {
                eth.tags.push((ETH_P_8021Q, self.r.u16()));
                eth.tags.push((ETH_P_8021Q, self.r.u16()));
            }
            // The frame ends inside the tag.
            2 => {
                let mut b = eth.header(ETH_P_IP);
                b.truncate(ETH_HLEN + self.r.range(0, 3));
                return vec![Frame::raw(b)];
            }
            _ => {}
        }
        let single = eth.tags.len() == 1;
        let mut f = match self.r.below(4) {
            0 => {
                let body = arp(1, self.t.my_mac, self.src4(), [0; 6], self.t.dst4);
                let mut b = eth.header(ETH_P_ARP);
                b.extend(body);
                Frame::raw(b)
            }
            1 => {
                let (proto, body, transport) = self.upper6(400);
                frame6(
                    &eth,
                    &Ip6::new(self.src6(), self.t.dst6),
                    &[],
                    proto,
                    &body,
                    transport,
                )
            }
            _ => {
                let (proto, body, transport) = self.upper4(400);
                let ip = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
                frame4(&eth, &ip, proto, &body, transport)
            }
        };
        f.bytes.truncate(self.max_len);
        if single {
            f.expect = Some("eth_vlan_not_configured");
        }
        vec![f]
    }

    // ---- ARP ------------------------------------------------------------------------------

    fn arp(&mut self) -> Vec<Frame> {
        let t = self.t;
        let me = t.my_mac;
        let src = self.src4();
        let mut expect = None;
        let (dst_mac, mut body) = match self.r.below(10) {
            0..=2 => (BROADCAST_MAC, arp(1, me, src, [0; 6], t.dst4)),
            3 => (t.engine_mac, arp(1, me, src, [0; 6], t.dst4)),
            // An unsolicited reply (learned only if for us).
            4 => (t.engine_mac, arp(2, me, src, t.engine_mac, t.dst4)),
            // Someone else claims the engine's address (RFC 5227 2.4 conflict).
            5 => {
                let other = [0x02, 0x99, self.r.byte(), self.r.byte(), 1, 2];
                expect = Some("arp_address_conflict");
                (BROADCAST_MAC, arp(1, other, t.dst4, [0; 6], t.dst4))
            }
            // An RFC 5227 probe: sender 0.0.0.0.
            6 => (BROADCAST_MAC, arp(1, me, [0; 4], [0; 6], t.dst4)),
            // Operations other than request and reply (RARP 3/4, InARP 8/9, junk).
            7 => {
                let any = self.r.u16();
                let op = self.r.pick(&[0, 3, 4, 8, 9, 0xffff, any]);
                if op != 1 && op != 2 {
                    expect = Some("arp_bad_operation");
                }
                (BROADCAST_MAC, arp(op, me, src, [0; 6], t.dst4))
            }
            // Hardware/protocol types or address lengths that are not Ethernet/IPv4 (the XDP
            // program passes them to the kernel).
            8 => {
                let mut b = arp(1, me, src, [0; 6], t.dst4);
                let at = self.r.below(6) as usize;
                b[at] ^= 1 << self.r.below(8);
                (BROADCAST_MAC, b)
            }
            // A group or broadcast sender hardware address.
            _ => {
                let sha = if self.r.chance(0.5) {
                    BROADCAST_MAC
                } else {
                    [0x01, 0, 0x5e, 0, 0, 1]
                };
                (BROADCAST_MAC, arp(1, sha, src, [0; 6], t.dst4))
            }
        };
        match self.r.below(6) {
            0 => body.truncate(self.r.range(0, 27)),
            1 => {
                let n = self.r.range(1, 40);
                body.extend(self.r.bytes(n));
            }
            _ => {}
        }
        let mut b = Eth::new(dst_mac, me).header(ETH_P_ARP);
        b.extend(body);
        let mut f = Frame::raw(b);
        f.expect = expect;
        vec![f]
    }

    // ---- IPv4 -----------------------------------------------------------------------------

    /// IPv4 options: well-formed ones the engine skips, and malformed ones it must drop.
    fn ip4_options(&mut self) -> Vec<u8> {
        let mut o = Vec::new();
        for _ in 0..self.r.range(1, 4) {
            match self.r.below(8) {
                0 => o.push(1),
                1 => {
                    o.push(0);
                    let n = self.r.range(0, 6);
                    o.extend(self.r.bytes(n));
                }
                2 => o.extend_from_slice(&[148, 4, 0, 0]),
                3 | 4 => {
                    let kind = self.r.pick(&IPV4_OPTION_KINDS);
                    let n = self.r.range(0, 3) * 4;
                    o.extend_from_slice(&[kind, (3 + n) as u8, 4]);
                    o.extend(self.r.bytes(n));
                }
                5 => {
                    let kind = self.r.pick(&IPV4_OPTION_KINDS);
                    o.extend_from_slice(&[kind, self.r.pick(&[0, 1])]);
                }
                6 => {
                    let kind = self.r.pick(&IPV4_OPTION_KINDS);
                    o.extend_from_slice(&[kind, self.r.range(20, 255) as u8, 0]);
                }
                _ => {
                    let kind = self.r.byte();
                    let n = self.r.range(0, 6);
                    o.extend_from_slice(&[kind, (2 + n) as u8]);
                    o.extend(self.r.bytes(n));
                }
            }
        }
        o.truncate(40);
        o
    }

    fn ipv4(&mut self) -> Vec<Frame> {
        let (proto, body, transport) = self.upper4(self.room(false, 40).min(800));
        let mut ip = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
        if self.r.chance(0.3) {
            ip.options = self.ip4_options();
        }
        if self.r.chance(0.2) {
            ip.ttl = self.r.pick(&[0, 1, 255]);
        }
        if self.r.chance(0.2) {
            ip.tos = self.r.byte();
        }
        if self.r.chance(0.15) {
            ip.flags_frag = 0x4000;
        }
        if self.r.chance(0.15) {
            let d = self.t.dst4;
            ip.src = self.r.pick(&[
                [224, 0, 0, 1],
                [255, 255, 255, 255],
                [0, 0, 0, 0],
                [127, 0, 0, 1],
                d,
                [d[0], d[1], d[2], 255],
                [240, 0, 0, 1],
            ]);
        }
        let mut f = frame4(&self.to_engine(), &ip, proto, &body, transport);
        let off = ETH_HLEN;
        let ihl = usize::from(f.bytes[off] & 0x0f) * 4;
        let total = f.get16(off + 2);
        let mut expect = None;
        match self.r.below(11) {
            0 => f.bytes[off] = (self.r.pick(&[0u8, 5, 6, 15]) << 4) | (f.bytes[off] & 0x0f),
            1 => {
                f.bytes[off] = 0x40 | self.r.below(5) as u8;
                expect = Some("ipv4_bad_header_length");
            }
            2 => f.bytes[off] = 0x40 | self.r.range(ihl / 4 + 1, 15).min(15) as u8,
            3 => {
                f.put16(off + 2, self.r.below(ihl as u64) as u16);
                expect = Some("ipv4_bad_total_length");
            }
            4 => {
                f.put16(off + 2, total + self.r.range(1, 1000) as u16);
                expect = Some("ipv4_total_length_exceeds_frame");
            }
            // Ethernet padding or trailing bytes after the datagram: valid.
            5 => {
                let n = self.r.range(1, 30);
                f.bytes.extend(self.r.bytes(n));
            }
            6 => {
                f.break_ip_checksum();
                f.expect = Some("ipv4_bad_checksum");
                return vec![f];
            }
            7 => {
                f.put16(off + 6, f.get16(off + 6) | 0x8000);
                expect = Some("ipv4_reserved_flag_set");
            }
            8 => f.bytes[off + 9] = self.r.pick(&UNKNOWN_PROTOCOLS),
            _ => {}
        }
        f.fix_checksums();
        f.expect = expect;
        vec![f]
    }

    /// The pieces a datagram payload of `len` bytes is cut into, in sending order: (offset in
    /// bytes, length, more-fragments flag). Some patterns are hostile: overlaps, duplicates, tiny
    /// pieces, too many pieces, a piece past 65535, a missing piece, a non-final piece whose
    /// length is not a multiple of 8.
    fn pieces(&mut self, len: usize) -> Vec<(usize, usize, bool)> {
        let chunk = match self.r.below(4) {
            0 => 8,
            1 => 8 * self.r.range(1, 8),
            _ => 8 * self.r.range(8, 90),
        };
        let mut p = Vec::new();
        let mut at = 0;
        while at < len && p.len() < 140 {
            let n = chunk.min(len - at);
            p.push((at, n, at + n < len));
            at += n;
        }
        if p.is_empty() {
            p.push((0, 0, false));
        }
        match self.r.below(11) {
            0 => p.reverse(),
            1 => {
                for i in (1..p.len()).rev() {
                    let j = self.r.below(i as u64 + 1) as usize;
                    p.swap(i, j);
                }
            }
            // An overlapping piece (its bytes differ from the original's).
            2 => {
                let (o, n, _) = p[self.r.below(p.len() as u64) as usize];
                let start = (o + n / 2) & !7;
                p.insert(
                    self.r.below(p.len() as u64 + 1) as usize,
                    (start, self.r.range(8, 64), true),
                );
            }
            3 => {
                let i = self.r.below(p.len() as u64) as usize;
                p.insert(i, p[i]);
            }
            // A missing piece: the datagram never completes (reassembly times out).
            4 if p.len() > 2 => {
                p.remove(self.r.range(1, p.len() - 2));
            }
            // The ping of death: a piece that ends past 65535.
            5 => p.push((65528, self.r.range(16, 200), false)),
            // A non-final piece whose length is not a multiple of 8.
            6 => {
                let i = self.r.below(p.len() as u64) as usize;
                p[i] = (p[i].0, p[i].1 + self.r.range(1, 7), true);
            }
            // Only the last piece.
            7 => {
                let last = p[p.len() - 1];
                p = vec![last];
            }
            // A zero-length piece.
            8 => p.insert(0, (self.r.range(0, len / 8) * 8, 0, true)),
            _ => {}
        }
        p
    }

    /// The bytes of `piece` of `data`; past its end, random filler.
    fn piece_bytes(&mut self, data: &[u8], (off, len, _): (usize, usize, bool)) -> Vec<u8> {
        let mut b: Vec<u8> = data.iter().skip(off).take(len).copied().collect();
        if self.r.chance(0.05) && !b.is_empty() {
            let i = self.r.below(b.len() as u64) as usize;
            b[i] ^= 0xff;
        }
        let more = len - b.len();
        b.extend(self.r.bytes(more));
        b
    }

    fn frag4(&mut self) -> Vec<Frame> {
        let room = self.room(false, 0);
        let size = match self.r.below(3) {
            0 => self.r.range(16, 200),
            1 => self.r.range(200, 1600),
            _ => self.r.range(1040, 3000),
        };
        let (proto, body, transport) = self.upper4(size.min(65000));
        // Transport checksums cover the whole datagram: build it whole, then cut it.
        let base = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
        let whole = frame4(&self.to_engine(), &base, proto, &body, transport);
        let data = whole.bytes[ETH_HLEN + 20..].to_vec();
        let eth = self.to_engine();
        let mut out = Vec::new();
        for piece in self.pieces(data.len()) {
            let bytes = self.piece_bytes(&data, piece);
            let mut ip = base.clone();
            ip.flags_frag = ((piece.0 / 8) as u16 & 0x1fff) | if piece.2 { 0x2000 } else { 0 };
            if piece.1 > room {
                continue;
            }
            out.push(frame4(&eth, &ip, proto, &bytes, false));
        }
        out
    }

    // ---- IPv6 -----------------------------------------------------------------------------

    fn ipv6(&mut self) -> Vec<Frame> {
        let (proto, body, transport) = self.upper6(self.room(true, 0).min(800));
        let dst = if self.r.chance(0.1) {
            solicited_node(&self.t.dst6)
        } else {
            self.dst6()
        };
        let mut ip = Ip6::new(self.src6(), dst);
        if self.r.chance(0.2) {
            ip.hop_limit = self.r.pick(&[0, 1, 255]);
        }
        if self.r.chance(0.2) {
            ip.traffic_class = self.r.byte();
            ip.flow = self.r.u32();
        }
        if self.r.chance(0.15) {
            let mut mapped = [0u8; 16];
            mapped[10] = 0xff;
            mapped[11] = 0xff;
            mapped[12..].copy_from_slice(&self.t.src4[0]);
            let mut lo = [0u8; 16];
            lo[15] = 1;
            ip.src = self.r.pick(&[
                ALL_NODES,
                [0; 16],
                lo,
                self.t.dst6,
                mapped,
                link_local(&self.t.my_mac),
            ]);
        }
        let mut f = frame6(&self.eth6(&dst), &ip, &[], proto, &body, transport);
        let off = ETH_HLEN;
        let plen = f.get16(off + 4);
        match self.r.below(9) {
            0 => f.bytes[off] = (self.r.pick(&[0u8, 4, 7, 15]) << 4) | (f.bytes[off] & 0x0f),
            1 => {
                f.put16(off + 4, plen + self.r.range(1, 1000) as u16);
                f.expect = Some("ipv6_payload_length_exceeds_frame");
            }
            2 => f.put16(off + 4, self.r.below(u64::from(plen) + 1) as u16),
            3 => {
                let n = self.r.range(1, 30);
                f.bytes.extend(self.r.bytes(n));
            }
            4 => f.bytes[off + 6] = self.r.pick(&UNKNOWN_PROTOCOLS),
            5 => {
                f.break_l4_checksum();
                return vec![f];
            }
            6 => f.put16(off + 4, 0),
            _ => {}
        }
        f.fix_checksums();
        vec![f]
    }

    /// Options of a Hop-by-Hop or Destination Options header: padding, router alert, jumbo
    /// payload, unknown options with each of the four actions, lengths past the end.
    fn ip6_options(&mut self) -> Vec<u8> {
        let mut o = Vec::new();
        for _ in 0..self.r.range(0, 4) {
            match self.r.below(8) {
                0 => o.push(0),
                1 => {
                    let n = self.r.range(0, 6);
                    o.extend_from_slice(&[1, n as u8]);
                    o.extend(std::iter::repeat_n(0, n));
                }
                2 => o.extend_from_slice(&[5, 2, 0, 0]),
                3 => {
                    o.extend_from_slice(&[0xc2, 4]);
                    o.extend(self.r.bytes(4));
                }
                4 => o.extend_from_slice(&[self.r.byte(), self.r.range(20, 255) as u8]),
                _ => {
                    let action = self.r.below(4) as u8;
                    let kind = (action << 6) | (2 + self.r.below(60) as u8);
                    let n = self.r.range(0, 8);
                    o.extend_from_slice(&[kind, n as u8]);
                    o.extend(self.r.bytes(n));
                }
            }
        }
        o
    }

    fn ext_header(&mut self, kind: u8) -> Ext {
        match kind {
            PROTO_ROUTING => {
                let kind = self.r.pick(&[0, 1, 2, 3, 4, 253]);
                let left = if self.r.chance(0.5) {
                    0
                } else {
                    self.r.range(1, 255) as u8
                };
                let n = self.r.pick(&[0, 4, 16, 20, 36]);
                let data = self.r.bytes(n);
                Ext::routing(kind, left, &data)
            }
            PROTO_FRAGMENT => Ext::fragment(0, false, self.r.u32()),
            _ => {
                let opts = self.ip6_options();
                Ext::options(kind, &opts)
            }
        }
    }

    fn ipv6_ext(&mut self) -> Vec<Frame> {
        let count = match self.r.below(10) {
            0 => self.r.range(9, 12),
            1..=3 => self.r.range(3, 8),
            _ => self.r.range(1, 2),
        };
        let mut exts = Vec::new();
        for i in 0..count {
            let kind = if i == 0 && self.r.chance(0.5) {
                PROTO_HOPOPTS
            } else {
                self.r.pick(&[
                    PROTO_DSTOPTS,
                    PROTO_DSTOPTS,
                    PROTO_ROUTING,
                    PROTO_FRAGMENT,
                    PROTO_HOPOPTS,
                ])
            };
            exts.push(self.ext_header(kind));
        }
        let (proto, body, transport) = self.upper6(300);
        let dst = self.dst6();
        let ip = Ip6::new(self.src6(), dst);
        let mut f = frame6(&self.eth6(&dst), &ip, &exts, proto, &body, transport);
        let first = ETH_HLEN + 40;
        match self.r.below(6) {
            // A length field that runs past the payload.
            0 => {
                if let Some(b) = f.bytes.get_mut(first + 1) {
                    *b = b.wrapping_add(self.r.range(1, 100) as u8);
                }
            }
            // The packet ends inside the chain.
            1 => {
                let cut = self.r.range(first, f.len());
                f.bytes.truncate(cut);
                let plen = (cut - first) as u16;
                f.put16(ETH_HLEN + 4, plen);
            }
            _ => {}
        }
        f.fix_checksums();
        vec![f]
    }

    fn frag6(&mut self) -> Vec<Frame> {
        let size = match self.r.below(3) {
            0 => self.r.range(16, 200),
            1 => self.r.range(200, 1600),
            _ => self.r.range(1040, 3000),
        };
        let (proto, body, transport) = self.upper6(size);
        let dst = self.dst6();
        let ip = Ip6::new(self.src6(), dst);
        let eth = self.eth6(&dst);
        // The fragmentable part: maybe a Destination Options header, then the upper layer.
        let inner: Vec<Ext> = if self.r.chance(0.2) {
            vec![self.ext_header(PROTO_DSTOPTS)]
        } else {
            Vec::new()
        };
        let whole = frame6(&eth, &ip, &inner, proto, &body, transport);
        let data = whole.bytes[ETH_HLEN + 40..].to_vec();
        let first_next = whole.bytes[ETH_HLEN + 6];
        // The unfragmentable part: maybe a Hop-by-Hop header.
        let outer: Vec<Ext> = if self.r.chance(0.2) {
            vec![self.ext_header(PROTO_HOPOPTS)]
        } else {
            Vec::new()
        };
        let id = self.r.u32();
        let room = self.room(true, 8 + 64);
        let mut out = Vec::new();
        let pieces = if self.r.chance(0.1) {
            // An atomic fragment (offset 0, M 0: RFC 6946 whole packet).
            vec![(0, data.len(), false)]
        } else {
            self.pieces(data.len())
        };
        for piece in pieces {
            let bytes = self.piece_bytes(&data, piece);
            if piece.1 > room {
                continue;
            }
            let mut exts = outer.clone();
            exts.push(Ext::fragment(piece.0 as u16, piece.2, id));
            out.push(frame6(&eth, &ip, &exts, first_next, &bytes, false));
        }
        out
    }

    // ---- ICMP, ICMPv6, ND -----------------------------------------------------------------

    /// An IPv4 header and 8 bytes of the engine's own packet to a fuzz source, as an ICMP error
    /// quotes it (RFC 792); `len` bytes of it.
    fn quote4(&mut self, len: usize) -> Vec<u8> {
        let proto = self.r.pick(&[PROTO_TCP, PROTO_UDP, PROTO_ICMP, 47]);
        let sport = if proto == PROTO_TCP {
            self.t.tcp_port
        } else {
            self.t.udp_port
        };
        let mut l4 = Vec::new();
        l4.extend_from_slice(&sport.to_be_bytes());
        l4.extend_from_slice(&self.port().to_be_bytes());
        l4.extend(self.r.bytes(4));
        let ip = Ip4::new(self.t.dst4, self.src4(), self.r.u16());
        let f = frame4(&self.to_engine(), &ip, proto, &l4, false);
        let mut q = f.bytes[ETH_HLEN..].to_vec();
        q.truncate(len);
        q
    }

    fn icmp4(&mut self) -> Vec<Frame> {
        let room = self.room(false, 8);
        let (kind, code, rest, body) = match self.r.below(11) {
            0..=2 => (8, 0, self.r.u32(), self.payload(room.min(1400))),
            3 => (13, 0, self.r.u32(), self.r.bytes(12)),
            4 => (
                self.r.pick(&[15, 17, 9, 10, 30, 40, 200]),
                self.r.byte(),
                self.r.u32(),
                self.payload(64),
            ),
            // A code beyond the type's largest.
            5 => {
                let kind = self.r.pick(&[0u8, 3, 4, 5, 8, 11, 12, 13]);
                (
                    kind,
                    self.r.range(16, 255) as u8,
                    self.r.u32(),
                    self.payload(48),
                )
            }
            // Errors quoting the engine's packets, whole or too short.
            6..=8 => {
                let kind = self.r.pick(&[3u8, 3, 4, 5, 11, 12]);
                let code = match kind {
                    3 => self.r.below(16) as u8,
                    5 => self.r.below(4) as u8,
                    11 => self.r.below(2) as u8,
                    12 => self.r.below(3) as u8,
                    _ => 0,
                };
                // Fragmentation needed: the next-hop MTU in the low 16 bits.
                let rest = if kind == 3 && code == 4 {
                    u32::from(
                        self.r
                            .pick(&[0u16, 1, 68, 296, 576, 1280, 1500, 9000, 65535]),
                    )
                } else {
                    self.r.u32() & 0xff00_0000
                };
                let len = if self.r.chance(0.2) {
                    self.r.range(0, 27)
                } else {
                    28
                };
                (kind, code, rest, self.quote4(len))
            }
            9 => (0, 0, self.r.u32(), self.payload(64)),
            _ => (8, 0, self.r.u32(), Vec::new()),
        };
        let ip = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
        let mut f = frame4(
            &self.to_engine(),
            &ip,
            PROTO_ICMP,
            &icmp(kind, code, rest, &body),
            true,
        );
        match self.r.below(8) {
            0 => {
                f.break_l4_checksum();
                f.expect = Some("icmpv4_bad_checksum");
            }
            1 => {
                // Shorter than the ICMP header.
                let cut = ETH_HLEN + 20 + self.r.range(0, 7);
                f.bytes.truncate(cut);
                f.put16(ETH_HLEN + 2, (cut - ETH_HLEN) as u16);
                f.fix_checksums();
            }
            _ => {}
        }
        vec![f]
    }

    /// An IPv6 header and 8 bytes of the engine's packet to a fuzz source (RFC 4443 2.4 quotes).
    fn quote6(&mut self, len: usize) -> Vec<u8> {
        let proto = self
            .r
            .pick(&[PROTO_TCP, PROTO_UDP, PROTO_ICMPV6, PROTO_FRAGMENT]);
        let mut l4 = Vec::new();
        l4.extend_from_slice(&self.t.tcp_port.to_be_bytes());
        l4.extend_from_slice(&self.port().to_be_bytes());
        l4.extend(self.r.bytes(4));
        let ip = Ip6::new(self.t.dst6, self.src6());
        let f = frame6(&self.to_engine(), &ip, &[], proto, &l4, false);
        let mut q = f.bytes[ETH_HLEN..].to_vec();
        q.truncate(len);
        q
    }

    fn icmp6(&mut self) -> Vec<Frame> {
        let room = self.room(true, 8);
        let (kind, code, rest, body) = match self.r.below(11) {
            0..=2 => (128, 0, self.r.u32(), self.payload(room.min(1400))),
            3 => (129, 0, self.r.u32(), self.payload(64)),
            // Errors quoting the engine's packets: unreachable, packet too big (with MTUs below
            // the IPv6 minimum), time exceeded, parameter problem; whole or too short.
            4..=6 => {
                let kind = self.r.pick(&[1u8, 2, 2, 3, 4]);
                let code = match kind {
                    1 => self.r.below(7) as u8,
                    3 => self.r.below(2) as u8,
                    4 => self.r.below(4) as u8,
                    _ => 0,
                };
                let rest = match kind {
                    2 => self
                        .r
                        .pick(&[0u32, 68, 576, 1279, 1280, 1500, 9000, u32::MAX]),
                    4 => self.r.below(80) as u32,
                    _ => 0,
                };
                let len = if self.r.chance(0.2) {
                    self.r.range(0, 47)
                } else {
                    48
                };
                (kind, code, rest, self.quote6(len))
            }
            // Codes beyond the type's largest.
            7 => {
                let kind = self.r.pick(&[1u8, 3, 4, 128, 129, 135, 136]);
                (
                    kind,
                    self.r.range(8, 255) as u8,
                    self.r.u32(),
                    self.payload(48),
                )
            }
            // MLD, private experimentation, unassigned.
            8 => (
                self.r
                    .pick(&[130u8, 131, 132, 143, 100, 101, 127, 200, 201, 255]),
                0,
                self.r.u32(),
                self.payload(64),
            ),
            9 => (128, 0, self.r.u32(), Vec::new()),
            _ => (self.r.byte(), self.r.byte(), self.r.u32(), self.payload(64)),
        };
        let dst = self.dst6();
        let ip = Ip6::new(self.src6(), dst);
        let mut f = frame6(
            &self.eth6(&dst),
            &ip,
            &[],
            PROTO_ICMPV6,
            &icmp(kind, code, rest, &body),
            true,
        );
        match self.r.below(8) {
            0 => {
                f.break_l4_checksum();
                f.expect = Some("icmpv6_bad_checksum");
            }
            1 => {
                let cut = ETH_HLEN + 40 + self.r.range(0, 7);
                f.bytes.truncate(cut);
                f.put16(ETH_HLEN + 4, (cut - ETH_HLEN - 40) as u16);
                f.fix_checksums();
            }
            _ => {}
        }
        vec![f]
    }

    /// Neighbor Discovery options: link-layer addresses, MTU, prefix information, and the
    /// malformed: zero length, running past the end, truncated.
    fn nd_options(&mut self, lladdr_type: u8) -> Vec<u8> {
        let mut o = Vec::new();
        for _ in 0..self.r.range(0, 3) {
            match self.r.below(8) {
                0..=2 => {
                    o.extend_from_slice(&[lladdr_type, 1]);
                    o.extend_from_slice(&self.t.my_mac);
                }
                3 => {
                    o.extend_from_slice(&[5, 1, 0, 0]);
                    o.extend_from_slice(&self.r.u32().to_be_bytes());
                }
                4 => {
                    o.extend_from_slice(&[3, 4, 64, 0xc0]);
                    o.extend(self.r.bytes(28));
                }
                5 => o.extend_from_slice(&[self.r.byte(), 0, 1, 2, 3, 4, 5, 6]),
                6 => {
                    o.extend_from_slice(&[lladdr_type, self.r.range(2, 40) as u8]);
                    o.extend_from_slice(&self.t.my_mac);
                }
                _ => o.push(lladdr_type),
            }
        }
        o
    }

    fn ndp(&mut self) -> Vec<Frame> {
        let t = self.t;
        let me = link_local(&t.my_mac);
        let target = match self.r.below(8) {
            0..=2 => t.dst6,
            3 => t.ll6,
            4 => self.src6(),
            5 => ALL_NODES,
            _ => {
                let mut a = t.dst6;
                a[15] = self.r.byte();
                a
            }
        };
        let mut src = self.src6();
        let (dst, kind, rest, body) = match self.r.below(10) {
            // Neighbor Solicitation, to the target's solicited-node group or unicast; a DAD
            // probe from the unspecified address, with or without a link-layer option.
            0..=3 => {
                let dst = if self.r.chance(0.7) {
                    solicited_node(&target)
                } else {
                    t.dst6
                };
                if self.r.chance(0.2) {
                    src = [0; 16];
                }
                let mut body = target.to_vec();
                body.extend(self.nd_options(1));
                (dst, 135u8, 0u32, body)
            }
            // Neighbor Advertisement: solicited or not, override or not, to us or all-nodes.
            4..=6 => {
                let dst = if self.r.chance(0.5) {
                    t.dst6
                } else {
                    ALL_NODES
                };
                let fl = (self.r.below(8) as u32) << 29;
                let mut body = target.to_vec();
                body.extend(self.nd_options(2));
                (dst, 136, fl, body)
            }
            // Router Solicitation (from :: with a link-layer option is malformed).
            7 => {
                if self.r.chance(0.4) {
                    src = [0; 16];
                }
                (ALL_NODES, 133, 0, self.nd_options(1))
            }
            // Router Advertisement, from a link-local router or (malformed) a global address.
            8 => {
                if self.r.chance(0.7) {
                    src = me;
                }
                let mut body = self.r.bytes(8);
                body.extend(self.nd_options(1));
                (ALL_NODES, 134, self.r.u32(), body)
            }
            // Redirect.
            _ => {
                if self.r.chance(0.7) {
                    src = me;
                }
                let mut body = target.to_vec();
                body.extend_from_slice(&t.dst6);
                body.extend(self.nd_options(2));
                (t.dst6, 137, 0, body)
            }
        };
        let mut ip = Ip6::new(src, dst);
        ip.hop_limit = if self.r.chance(0.85) {
            255
        } else {
            self.r.pick(&[0, 1, 64, 254])
        };
        let mut f = frame6(
            &self.eth6(&dst),
            &ip,
            &[],
            PROTO_ICMPV6,
            &icmp(kind, 0, rest, &body),
            true,
        );
        match self.r.below(10) {
            0 => {
                f.break_l4_checksum();
                f.expect = Some("icmpv6_bad_checksum");
            }
            1 => {
                // Shorter than the message's fixed part.
                let cut = ETH_HLEN + 40 + self.r.range(4, 23);
                f.bytes.truncate(cut);
                f.put16(ETH_HLEN + 4, (cut - ETH_HLEN - 40) as u16);
                f.fix_checksums();
            }
            2 => {
                f.bytes[ETH_HLEN + 41] = self.r.range(1, 255) as u8;
                f.fix_checksums();
            }
            _ => {}
        }
        vec![f]
    }

    // ---- UDP and TCP ----------------------------------------------------------------------

    fn udp(&mut self, v6: bool) -> Vec<Frame> {
        let port = self.t.udp_port;
        let dport = self.dport(port);
        let sport = if self.r.chance(0.05) { 0 } else { self.port() };
        let p = self.payload(self.room(v6, 8).min(1472));
        let seg = udp(sport, dport, &p);
        let mut f = if v6 {
            let dst = self.dst6();
            let ip = Ip6::new(self.src6(), dst);
            frame6(&self.eth6(&dst), &ip, &[], PROTO_UDP, &seg, true)
        } else {
            let ip = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
            frame4(&self.to_engine(), &ip, PROTO_UDP, &seg, true)
        };
        let l4 = f.l4.map_or(0, |l| l.off);
        let len = f.get16(l4 + 4);
        match self.r.below(10) {
            0 => {
                f.break_l4_checksum();
                f.expect = Some("udp_bad_checksum");
            }
            1 => {
                f.put16(l4 + 4, self.r.below(8) as u16);
                f.expect = Some("udp_bad_length");
            }
            2 => {
                f.put16(l4 + 4, len + self.r.range(1, 500) as u16);
                f.expect = Some("udp_length_exceeds_packet");
            }
            // Shorter than the IP payload: the rest is not the datagram's (valid, RFC 768).
            3 if len > 8 => {
                let short = self.r.range(8, usize::from(len) - 1) as u16;
                f.put16(l4 + 4, short);
                udp_checksum_over_length(&mut f, v6);
            }
            // No checksum: allowed over IPv4, not over IPv6 (RFC 8200 8.1).
            4 => {
                f.put16(l4 + 6, 0);
                if v6 {
                    f.expect = Some("udp6_zero_checksum");
                }
            }
            _ => {}
        }
        vec![f]
    }

    /// TCP options as the engine may meet them: each kind it knows with right and wrong lengths
    /// and odd values, SACK blocks, unknown kinds, lengths of 0 and 1, EOL then junk, NOP sleds.
    pub fn tcp_options(&mut self) -> Vec<u8> {
        let mut o = Vec::new();
        for _ in 0..self.r.range(0, 6) {
            match self.r.below(14) {
                0 => {
                    let mss = self.r.pick(&[0u16, 1, 88, 536, 1220, 1460, 9000, 65535]);
                    o.extend_from_slice(&[2, 4]);
                    o.extend_from_slice(&mss.to_be_bytes());
                }
                1 => o.extend_from_slice(&[2, self.r.pick(&[2, 3, 5, 6]), 5, 0xb4, 0]),
                2 => o.extend_from_slice(&[3, 3, self.r.pick(&[0, 7, 14, 15, 255])]),
                3 => o.extend_from_slice(&[3, self.r.pick(&[2, 4]), 7, 0]),
                4 => o.extend_from_slice(&[4, 2]),
                5 => o.extend_from_slice(&[4, 3, 0]),
                6 => {
                    let n = self.r.range(1, 4);
                    o.extend_from_slice(&[5, (2 + 8 * n) as u8]);
                    o.extend(self.r.bytes(8 * n));
                }
                7 => {
                    o.extend_from_slice(&[5, self.r.pick(&[2, 3, 9, 11, 18, 42])]);
                    o.extend(self.r.bytes(8));
                }
                8 => {
                    o.extend_from_slice(&[8, 10]);
                    o.extend(self.r.bytes(8));
                }
                9 => {
                    o.extend_from_slice(&[8, self.r.pick(&[2, 9, 11])]);
                    o.extend(self.r.bytes(8));
                }
                10 => {
                    let kind = self.r.pick(&[19u8, 28, 29, 30, 34, 253, 254, 99]);
                    let n = self.r.range(0, 10);
                    o.extend_from_slice(&[kind, (2 + n) as u8]);
                    o.extend(self.r.bytes(n));
                }
                11 => o.extend_from_slice(&[self.r.byte(), self.r.pick(&[0, 1, 40, 255])]),
                12 => {
                    o.push(0);
                    let n = self.r.range(1, 8);
                    o.extend(self.r.bytes(n));
                }
                _ => o.extend(std::iter::repeat_n(1, self.r.range(1, 12))),
            }
        }
        o.truncate(40);
        o
    }

    fn tcp(&mut self, v6: bool) -> Vec<Frame> {
        let port = self.t.tcp_port;
        let dport = self.dport(port);
        let sport = if self.r.chance(0.05) { 0 } else { self.port() };
        let fl = match self.r.below(13) {
            0..=3 => flags::SYN,
            4 => flags::ACK,
            5 => flags::RST,
            6 => flags::RST | flags::ACK,
            7 => flags::FIN | flags::ACK,
            8 => flags::PSH | flags::ACK,
            9 => 0,
            10 => flags::FIN | flags::PSH | flags::URG,
            11 => flags::SYN | self.r.pick(&[flags::FIN, flags::RST, flags::ACK]),
            _ => self.r.u16() & 0x1ff,
        };
        let fl = if self.r.chance(0.1) {
            fl | self
                .r
                .pick(&[flags::ECE | flags::CWR, flags::AE, flags::URG])
        } else {
            fl
        };
        let mut seg = Tcp::new(sport, dport, self.r.u32(), self.r.u32(), fl);
        if self.r.chance(0.6) {
            seg.options = self.tcp_options();
        }
        if self.r.chance(0.2) {
            let any = self.r.u16();
            seg.window = self.r.pick(&[0, 1, any]);
        }
        if fl & flags::URG != 0 || self.r.chance(0.05) {
            seg.urgent = self.r.u16();
        }
        let payload = if fl & flags::SYN == 0 || self.r.chance(0.1) {
            self.payload(self.room(v6, 60).min(1000))
        } else {
            Vec::new()
        };
        let bytes = seg.segment(&payload);
        let mut f = if v6 {
            let dst = self.dst6();
            let ip = Ip6::new(self.src6(), dst);
            frame6(&self.eth6(&dst), &ip, &[], PROTO_TCP, &bytes, true)
        } else {
            let ip = Ip4::new(self.src4(), self.t.dst4, self.r.u16());
            frame4(&self.to_engine(), &ip, PROTO_TCP, &bytes, true)
        };
        let l4 = f.l4.map_or(0, |l| l.off);
        match self.r.below(10) {
            0 => {
                f.bytes[l4 + 12] = ((self.r.below(5) as u8) << 4) | (f.bytes[l4 + 12] & 0x0f);
                f.fix_checksums();
                f.expect = Some("tcp_bad_data_offset");
            }
            1 => {
                f.bytes[l4 + 12] = (self.r.range(6, 15) as u8) << 4 | (f.bytes[l4 + 12] & 0x0f);
                f.fix_checksums();
            }
            2 => {
                f.break_l4_checksum();
                f.expect = Some("tcp_bad_checksum");
            }
            _ => {}
        }
        vec![f]
    }
}

/// Recomputes a UDP checksum over the UDP length field's bytes only (when it is shorter than
/// the IP payload, the rest is not part of the datagram).
fn udp_checksum_over_length(f: &mut Frame, v6: bool) {
    use super::packet::{checksum, pseudo4, pseudo6};
    let (Some(l3), Some(l4)) = (f.l3, f.l4) else {
        return;
    };
    let len = usize::from(f.get16(l4.off + 4));
    if l4.off + len > f.len() {
        return;
    }
    f.put16(l4.off + 6, 0);
    let pseudo = match (l3, v6) {
        (L3::V6(off), true) => pseudo6(&f.bytes[off + 8..off + 40], PROTO_UDP, len),
        (L3::V4(off), false) => pseudo4(&f.bytes[off + 12..off + 20], PROTO_UDP, len),
        _ => return,
    };
    let c = checksum(&f.bytes[l4.off..l4.off + len], pseudo);
    f.put16(l4.off + 6, if c == 0 { 0xffff } else { c });
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn targets() -> Targets {
        let engine_mac = [0x02, 0x78, 0x6e, 0, 3, 1];
        let mut dst6 = [0u8; 16];
        dst6[..4].copy_from_slice(&[0x20, 0x01, 0, 2]);
        dst6[15] = 1;
        Targets {
            engine_mac,
            my_mac: [0x02, 0x78, 0x6e, 0, 3, 2],
            dst4: [198, 18, 3, 1],
            dst6,
            ll6: link_local(&engine_mac),
            src4: (0..8).map(|i| [198, 18, 3, 240 + i]).collect(),
            src6: (0..8)
                .map(|i| {
                    let mut a = dst6;
                    a[15] = 0xf0 + i;
                    a
                })
                .collect(),
            tcp_port: 7,
            udp_port: 7,
        }
    }

    pub fn generator(seed: u64) -> Generator {
        Generator {
            seed,
            targets: targets(),
            max_len: 1514,
            mutate: 0.5,
        }
    }

    fn run(seed: u64, units: u64) -> Vec<(Class, Vec<Vec<u8>>)> {
        let g = generator(seed);
        let mut sessions = Sessions::new(16);
        (0..units)
            .map(|i| {
                let u = g.unit(i, &mut sessions);
                (u.class, u.frames.into_iter().map(|f| f.bytes).collect())
            })
            .collect()
    }

    #[test]
    fn same_seed_same_bytes() {
        let a = run(42, 3000);
        let b = run(42, 3000);
        assert!(a == b, "seed 42 made different frames on a second run");
        let c = run(43, 3000);
        assert!(a != c, "seeds 42 and 43 made the same frames");
    }

    #[test]
    fn a_unit_does_not_depend_on_the_units_before_it() {
        let g = generator(9);
        let all = run(9, 500);
        for i in [0u64, 17, 250, 499] {
            let u = g.unit(i, &mut Sessions::new(16));
            if u.class == Class::TcpSession {
                continue; // depends on the session table, as documented
            }
            let bytes: Vec<Vec<u8>> = u.frames.into_iter().map(|f| f.bytes).collect();
            assert_eq!(bytes, all[i as usize].1, "unit {i}");
        }
    }

    #[test]
    fn every_class_appears_and_frames_fit_the_link() {
        let units = run(1, 20000);
        for c in Class::ALL {
            let n = units.iter().filter(|(k, _)| *k == c).count();
            assert!(n > 200, "class {} only {n} times", c.name());
        }
        let t = targets();
        let (mut frames, mut redirected) = (0, 0);
        for (_, fs) in &units {
            for f in fs {
                assert!(
                    !f.is_empty() && f.len() <= 1514,
                    "frame of {} bytes",
                    f.len()
                );
                frames += 1;
                redirected += usize::from(t.redirected(f));
            }
        }
        // Most frames must reach the engine to test it; some must test the XDP program's
        // pass-to-kernel path.
        assert!(
            redirected * 10 > frames * 7,
            "{redirected} of {frames} to the engine"
        );
        assert!(redirected < frames);
    }

    #[test]
    fn xdp_rule_matches_the_program() {
        let t = targets();
        let mut g = G {
            t: &t,
            r: Rng::new(1),
            max_len: 1514,
        };
        let f = g.valid4();
        assert!(t.redirected(&f.bytes));
        let mut other = f.bytes.clone();
        other[33] ^= 1;
        assert!(!t.redirected(&other));
        let mut v5 = f.bytes.clone();
        v5[14] = 0x55;
        assert!(!t.redirected(&v5));
        let mut tagged = f.bytes[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0, 0, 5]);
        tagged.extend_from_slice(&f.bytes[12..]);
        assert!(t.redirected(&tagged));
        let f6 = g.valid6();
        assert!(t.redirected(&f6.bytes));
        assert!(!t.redirected(&f6.bytes[..50]));
        let mut a = Eth::new(BROADCAST_MAC, t.my_mac).header(ETH_P_ARP);
        a.extend(arp(1, t.my_mac, t.src4[0], [0; 6], t.dst4));
        assert!(t.redirected(&a));
        a[14 + 4] = 8;
        assert!(!t.redirected(&a));
    }
}
