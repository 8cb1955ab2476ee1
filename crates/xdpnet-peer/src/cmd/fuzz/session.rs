//! The stateful part: TCP connections of the fuzz sources to the engine's open port, so that
//! injection can be aimed in and out of a real window (RFC 5961: blind RST, SYN and data), plus
//! the answering machine that makes the fuzz sources look like hosts: ARP replies and Neighbor
//! Advertisements for them, ACKs for what the engine sends on a connection, and RSTs for anything
//! else the engine sends them (as a host with no such connection would), so no engine state
//! lingers after a run.
//!
//! What a session sends depends on the engine's answers (its ISN), so these units are
//! reproducible from the seed only up to those numbers.

use super::gen::{Draw, Targets, G};
use super::packet::{
    arp, flags, frame4, frame6, icmp, Eth, Frame, Ip4, Ip6, Tcp, ALL_NODES, ETH_HLEN, ETH_P_ARP,
    ETH_P_IP, ETH_P_IPV6, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    SynSent,
    Established,
    /// We sent our FIN; waiting for the engine's.
    FinSent,
}

#[derive(Clone, Debug)]
struct Session {
    v6: bool,
    /// Index into Targets::src4 / src6.
    src: usize,
    sport: u16,
    state: State,
    iss: u32,
    snd_nxt: u32,
    rcv_nxt: u32,
    /// The highest ACK the engine sent: its RCV.NXT as far as we know, where a RST must be to
    /// close the connection (our snd_nxt can be ahead of it when a data segment was lost).
    peer_ack: u32,
    /// The engine's last TSval, when timestamps were agreed.
    ts_recent: Option<u32>,
    my_ts: u32,
    /// When (Sessions::now_ms) the SYN or our FIN went: how long the engine has had to answer.
    since_ms: u64,
}

/// What the answering side saw and did (the JSON line's `answered` and `fromEngine`).
#[derive(Default, Debug)]
pub struct Tally {
    pub opened: u64,
    pub established: u64,
    pub reset_by_engine: u64,
    pub reset_by_us: u64,
    pub closed: u64,
    pub arp_answered: u64,
    pub nd_answered: u64,
    pub acks_sent: u64,
    pub rsts_sent: u64,
    pub received: u64,
    pub from_engine_tcp: u64,
    pub from_engine_rst: u64,
    pub from_engine_udp: u64,
    pub from_engine_icmp4: u64,
    pub from_engine_icmp6: u64,
    pub from_engine_arp: u64,
    pub from_engine_other: u64,
}

pub struct Sessions {
    list: Vec<Session>,
    /// Connections the sessions moved on from (reset by us, timed out waiting): reset again at
    /// the end, in case the RST that closed one was lost (a full ring at the engine drops it).
    left: std::collections::VecDeque<Session>,
    ports: u32,
    pub tally: Tally,
    /// The sender's clock (ms since it started), set before each batch of units: a session
    /// waits this long for a SYN-ACK or the engine's FIN before giving up on it.
    pub now_ms: u64,
}

/// How long a SYN or a FIN of ours waits for the engine's answer.
const ANSWER_WAIT_MS: u64 = 1000;

/// Connections remembered for the final resets (Sessions::left); the oldest are forgotten.
const LEFT_LIMIT: usize = 1024;

/// Source ports of sessions: 20000..60000, from where a run starts (see Sessions::starting_at).
const PORT_BASE: u32 = 20000;
const PORT_SPAN: u32 = 40000;

const WINDOW: u16 = 65535;
const SEGMENT_LIMIT: usize = 512;

fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl Sessions {
    pub fn new(count: usize) -> Self {
        let list = (0..count)
            .map(|i| Session {
                v6: i % 3 == 2,
                src: i,
                sport: 0,
                state: State::Closed,
                iss: 0,
                snd_nxt: 0,
                rcv_nxt: 0,
                peer_ack: 0,
                ts_recent: None,
                my_ts: 0,
                since_ms: 0,
            })
            .collect();
        Self {
            list,
            left: std::collections::VecDeque::new(),
            ports: 0,
            tally: Tally::default(),
            now_ms: 0,
        }
    }

    /// Sessions whose ports start where unit `first` puts them, so that a run continuing the
    /// stream of units (--first) does not reuse the ports of the run before it.
    pub fn starting_at(count: usize, first: u64) -> Self {
        let mut s = Self::new(count);
        s.ports = (first % u64::from(PORT_SPAN)) as u32;
        s
    }

    fn next_port(&mut self) -> u16 {
        self.ports = self.ports.wrapping_add(1);
        (PORT_BASE + self.ports % PORT_SPAN) as u16
    }

    /// A segment of session `s` to the engine's open port.
    fn frame(t: &Targets, s: &Session, seg: &Tcp, payload: &[u8]) -> Frame {
        let eth = Eth::new(t.engine_mac, t.my_mac);
        let bytes = seg.segment(payload);
        if s.v6 {
            let src = t.src6[s.src % t.src6.len()];
            frame6(&eth, &Ip6::new(src, t.dst6), &[], PROTO_TCP, &bytes, true)
        } else {
            let src = t.src4[s.src % t.src4.len()];
            frame4(&eth, &Ip4::new(src, t.dst4, 0), PROTO_TCP, &bytes, true)
        }
    }

    /// Timestamps for the next segment of `s` (RFC 7323), if agreed; `tsval` overrides ours.
    fn ts_option(s: &mut Session, tsval: Option<u32>) -> Vec<u8> {
        let Some(recent) = s.ts_recent else {
            return Vec::new();
        };
        s.my_ts = s.my_ts.wrapping_add(1);
        let mut o = vec![1, 1, 8, 10];
        o.extend_from_slice(&tsval.unwrap_or(s.my_ts).to_be_bytes());
        o.extend_from_slice(&recent.to_be_bytes());
        o
    }

    /// The frames of one session unit: a connection opened, or one thing done to an open one.
    pub fn unit(&mut self, g: &mut G) -> Vec<Frame> {
        if self.list.is_empty() {
            return g.tcp_blind();
        }
        let i = g.r.below(self.list.len() as u64) as usize;
        let t = g.t;
        let state = self.list[i].state;
        let waited = self.now_ms.saturating_sub(self.list[i].since_ms);
        match state {
            State::Closed => self.open(i, g),
            // No SYN-ACK in time: a new connection on a new port.
            State::SynSent if waited >= ANSWER_WAIT_MS => self.open(i, g),
            // Still waiting: this unit goes to another open connection, or into none.
            State::SynSent => match self.established_after(i) {
                Some(j) => self.inject(j, g),
                None => g.tcp_blind(),
            },
            State::FinSent if waited >= ANSWER_WAIT_MS => {
                // The engine never finished: reset it and start again.
                let s = &mut self.list[i];
                s.state = State::Closed;
                self.tally.reset_by_us += 1;
                Self::resets(t, s)
            }
            // Half closed: what follows our FIN is also something to test.
            State::FinSent | State::Established => self.inject(i, g),
        }
    }

    /// The first established session after `i` (cyclically), if any.
    fn established_after(&self, i: usize) -> Option<usize> {
        let n = self.list.len();
        (1..n)
            .map(|k| (i + k) % n)
            .find(|&j| self.list[j].state == State::Established)
    }

    fn open(&mut self, i: usize, g: &mut G) -> Vec<Frame> {
        if self.list[i].peer_ack != 0 {
            if self.left.len() == LEFT_LIMIT {
                self.left.pop_front();
            }
            self.left.push_back(self.list[i].clone());
        }
        let port = self.next_port();
        let t = g.t;
        let s = &mut self.list[i];
        s.sport = port;
        s.iss = g.r.u32();
        s.state = State::SynSent;
        s.peer_ack = 0;
        s.since_ms = self.now_ms;
        s.ts_recent = None;
        s.my_ts = g.r.u32();
        self.tally.opened += 1;
        let seg = syn(s.sport, t.tcp_port, s.iss, g);
        vec![Self::frame(t, s, &seg, &[])]
    }

    /// One segment into an open connection, in or out of its windows (RFC 5961, RFC 7323 PAWS,
    /// RFC 2018 SACK), or ordinary data the echo app sends back.
    fn inject(&mut self, i: usize, g: &mut G) -> Vec<Frame> {
        let t = g.t;
        let now_ms = self.now_ms;
        let s = &mut self.list[i];
        let (nxt, ack) = (s.snd_nxt, s.rcv_nxt);
        let mut tsval = None;
        let mut extra = Vec::new();
        let (seq, ack, fl, payload): (u32, u32, u16, Vec<u8>) = match g.r.below(100) {
            // Ordinary data at the next sequence number.
            0..=29 => {
                let n = g.r.range(1, SEGMENT_LIMIT);
                let p = g.r.bytes(n);
                s.snd_nxt = nxt.wrapping_add(n as u32);
                (nxt, ack, flags::PSH | flags::ACK, p)
            }
            // An ACK with SACK blocks: in the window, past what the engine sent, reversed,
            // below the cumulative ACK (D-SACK).
            30..=37 => {
                let n = g.r.range(1, 3);
                extra.extend_from_slice(&[1, 1, 5, (2 + 8 * n) as u8]);
                for _ in 0..n {
                    let left = match g.r.below(4) {
                        0 => ack.wrapping_add(g.r.range(1, 4000) as u32),
                        1 => ack.wrapping_add(g.r.u32()),
                        2 => ack.wrapping_sub(g.r.range(1, 4000) as u32),
                        _ => ack,
                    };
                    let len = if g.r.chance(0.2) {
                        0u32.wrapping_sub(g.r.range(1, 100) as u32)
                    } else {
                        g.r.range(1, 3000) as u32
                    };
                    extra.extend_from_slice(&left.to_be_bytes());
                    extra.extend_from_slice(&left.wrapping_add(len).to_be_bytes());
                }
                (nxt, ack, flags::ACK, Vec::new())
            }
            // Data ahead of the next sequence number, inside the window (out of order).
            38..=45 => {
                let n = g.r.range(1, SEGMENT_LIMIT);
                let gap = g.r.range(1, 8000) as u32;
                (nxt.wrapping_add(gap), ack, flags::ACK, g.r.bytes(n))
            }
            // Data outside the receive window, ahead or behind.
            46..=53 => {
                let off = if g.r.chance(0.5) {
                    (1u32 << 30).wrapping_add(g.r.u32() >> 4)
                } else {
                    0u32.wrapping_sub(g.r.range(70_000, 1 << 24) as u32)
                };
                let n = g.r.range(1, 200);
                (nxt.wrapping_add(off), ack, flags::ACK, g.r.bytes(n))
            }
            // Data with an unacceptable ACK: ahead of what the engine sent, or far behind.
            54..=59 => {
                let bad = if g.r.chance(0.5) {
                    ack.wrapping_add(g.r.range(1, 1 << 30) as u32)
                } else {
                    ack.wrapping_sub(g.r.range(1 << 20, 1 << 31) as u32)
                };
                let n = g.r.range(1, 200);
                (nxt, bad, flags::PSH | flags::ACK, g.r.bytes(n))
            }
            // RST in the window but not at the next sequence number: a challenge ACK.
            60..=67 => (
                nxt.wrapping_add(g.r.range(1, 60000) as u32),
                ack,
                flags::RST | flags::ACK,
                Vec::new(),
            ),
            // RST outside the window: ignored.
            68..=72 => (
                nxt.wrapping_add(g.r.range(1 << 20, 1 << 31) as u32),
                0,
                flags::RST,
                Vec::new(),
            ),
            // RST at exactly the engine's next expected sequence number: the connection is gone.
            73..=74 => {
                s.state = State::Closed;
                self.tally.reset_by_us += 1;
                (s.peer_ack, 0, flags::RST, Vec::new())
            }
            // SYN on an open connection, in the window or anywhere: a challenge ACK.
            75..=80 => {
                let seq = if g.r.chance(0.5) {
                    nxt.wrapping_add(g.r.range(0, 1000) as u32)
                } else {
                    g.r.u32()
                };
                let fl = if g.r.chance(0.5) {
                    flags::SYN
                } else {
                    flags::SYN | flags::ACK
                };
                (seq, ack, fl, Vec::new())
            }
            // An old timestamp (PAWS, RFC 7323 5): dropped, answered with an ACK.
            81..=84 => {
                tsval = Some(s.my_ts.wrapping_sub(1 << 31));
                let n = g.r.range(1, 100);
                (nxt, ack, flags::PSH | flags::ACK, g.r.bytes(n))
            }
            // Our FIN: the echo app closes in turn.
            85..=87 => {
                if s.state == State::Established {
                    s.snd_nxt = nxt.wrapping_add(1);
                    s.state = State::FinSent;
                    s.since_ms = now_ms;
                }
                (nxt, ack, flags::FIN | flags::ACK, Vec::new())
            }
            // Window games: zero window, then urgent data.
            88..=91 => (nxt, ack, flags::ACK, Vec::new()),
            // Old data again with different bytes (an inconsistent retransmission).
            92..=95 => {
                let back = g.r.range(1, 600) as u32;
                let n = g.r.range(1, 600);
                (
                    nxt.wrapping_sub(back),
                    ack,
                    flags::PSH | flags::ACK,
                    g.r.bytes(n),
                )
            }
            // Malformed options on a live connection.
            _ => {
                extra = g.tcp_options();
                let n = g.r.range(0, 100);
                (nxt, ack, flags::ACK | flags::PSH, g.r.bytes(n))
            }
        };
        let s = &mut self.list[i];
        let mut seg = Tcp::new(s.sport, t.tcp_port, seq, ack, fl);
        let mut options = Self::ts_option(s, tsval);
        options.extend_from_slice(&extra);
        options.truncate(40);
        seg.options = options;
        seg.window = WINDOW;
        if g.r.chance(0.05) {
            seg.window = 0;
        }
        if g.r.chance(0.03) {
            seg.flags |= flags::URG;
            seg.urgent = g.r.u16();
        }
        vec![Self::frame(t, s, &seg, &payload)]
    }

    /// An ACK of everything received on `s`.
    fn ack(t: &Targets, s: &mut Session) -> Frame {
        let mut seg = Tcp::new(s.sport, t.tcp_port, s.snd_nxt, s.rcv_nxt, flags::ACK);
        seg.options = Self::ts_option(s, None);
        seg.window = WINDOW;
        Self::frame(t, s, &seg, &[])
    }

    /// RSTs that close `s` in the engine: at its RCV.NXT as we know it, and at our snd_nxt if
    /// that differs. One not at RCV.NXT draws a challenge ACK (RFC 5961 3.2), which, the
    /// session being closed, is answered with a RST at the ACK it carries.
    fn resets(t: &Targets, s: &Session) -> Vec<Frame> {
        let mut out = Vec::new();
        for seq in [s.peer_ack, s.snd_nxt] {
            if out.is_empty() || seq != s.peer_ack {
                let seg = Tcp::new(s.sport, t.tcp_port, seq, 0, flags::RST);
                out.push(Self::frame(t, s, &seg, &[]));
            }
        }
        out
    }

    /// Resets every open connection (the end of a run), so no engine state outlives it, and
    /// again those the sessions moved on from.
    pub fn reset_all(&mut self, t: &Targets, out: &mut Vec<Frame>) {
        for s in self.left.drain(..) {
            out.extend(Self::resets(t, &s));
        }
        for s in &mut self.list {
            if matches!(s.state, State::Established | State::FinSent) {
                out.extend(Self::resets(t, s));
                self.tally.reset_by_us += 1;
            }
            s.state = State::Closed;
        }
    }

    /// A frame the interface received: answered when it asks for a fuzz source (ARP, ND) or is
    /// the engine's TCP to one; counted either way. Answers go into `out`.
    pub fn on_frame(&mut self, t: &Targets, b: &[u8], out: &mut Vec<Frame>) {
        self.tally.received += 1;
        if b.len() < ETH_HLEN {
            return;
        }
        let from_engine = b[6..12] == t.engine_mac;
        let ethertype = u16::from_be_bytes([b[12], b[13]]);
        let l3 = &b[ETH_HLEN..];
        match ethertype {
            ETH_P_ARP => {
                if from_engine {
                    self.tally.from_engine_arp += 1;
                }
                self.on_arp(t, l3, out);
            }
            ETH_P_IP if l3.len() >= 20 && l3[0] >> 4 == 4 => {
                let ihl = usize::from(l3[0] & 0x0f) * 4;
                if l3[12..16] != t.dst4 || ihl < 20 || l3.len() < ihl {
                    return;
                }
                let Some(src) = t.src4.iter().position(|a| a[..] == l3[16..20]) else {
                    return;
                };
                match l3[9] {
                    PROTO_TCP => {
                        let mut engine = [0u8; 16];
                        engine[..4].copy_from_slice(&l3[12..16]);
                        let from = Peer {
                            v6: false,
                            src,
                            engine,
                        };
                        self.on_tcp(t, &from, &l3[ihl..], out)
                    }
                    PROTO_UDP => self.tally.from_engine_udp += 1,
                    PROTO_ICMP => self.tally.from_engine_icmp4 += 1,
                    _ => self.tally.from_engine_other += 1,
                }
            }
            ETH_P_IPV6 if l3.len() >= 40 && l3[0] >> 4 == 6 => {
                let next = l3[6];
                let body = &l3[40..];
                if next == PROTO_ICMPV6 && body.len() >= 24 && body[0] == 135 {
                    self.on_solicitation(t, l3, out);
                    return;
                }
                let engine = l3[8..24] == t.dst6 || l3[8..24] == t.ll6;
                if !engine {
                    return;
                }
                let Some(src) = t.src6.iter().position(|a| a[..] == l3[24..40]) else {
                    return;
                };
                match next {
                    PROTO_TCP => {
                        let mut engine = [0u8; 16];
                        engine.copy_from_slice(&l3[8..24]);
                        let from = Peer {
                            v6: true,
                            src,
                            engine,
                        };
                        self.on_tcp(t, &from, body, out)
                    }
                    PROTO_UDP => self.tally.from_engine_udp += 1,
                    PROTO_ICMPV6 => self.tally.from_engine_icmp6 += 1,
                    _ => self.tally.from_engine_other += 1,
                }
            }
            _ => {}
        }
    }

    /// An ARP request for a fuzz source gets a reply with our MAC (RFC 826).
    fn on_arp(&mut self, t: &Targets, a: &[u8], out: &mut Vec<Frame>) {
        if a.len() < 28 || a[..8] != [0, 1, 8, 0, 6, 4, 0, 1] {
            return;
        }
        let tpa: [u8; 4] = [a[24], a[25], a[26], a[27]];
        if !t.src4.contains(&tpa) {
            return;
        }
        let mut sha = [0u8; 6];
        sha.copy_from_slice(&a[8..14]);
        let spa: [u8; 4] = [a[14], a[15], a[16], a[17]];
        let mut b = Eth::new(sha, t.my_mac).header(ETH_P_ARP);
        b.extend(arp(2, t.my_mac, tpa, sha, spa));
        out.push(Frame::raw(b));
        self.tally.arp_answered += 1;
    }

    /// A Neighbor Solicitation for a fuzz source gets a solicited advertisement with our MAC
    /// (RFC 4861 7.2.4).
    fn on_solicitation(&mut self, t: &Targets, ip: &[u8], out: &mut Vec<Frame>) {
        let mut target = [0u8; 16];
        target.copy_from_slice(&ip[48..64]);
        if !t.src6.contains(&target) {
            return;
        }
        let mut solicitor = [0u8; 16];
        solicitor.copy_from_slice(&ip[8..24]);
        let unspecified = solicitor == [0; 16];
        let dst = if unspecified { ALL_NODES } else { solicitor };
        let eth = Eth::new(
            if unspecified {
                super::packet::multicast_mac(&ALL_NODES)
            } else {
                t.engine_mac
            },
            t.my_mac,
        );
        let solicited = if unspecified { 0 } else { 0x4000_0000 };
        let mut body = target.to_vec();
        body.extend_from_slice(&[2, 1]);
        body.extend_from_slice(&t.my_mac);
        let mut ip6 = Ip6::new(target, dst);
        ip6.hop_limit = 255;
        let msg = icmp(136, 0, solicited | 0x2000_0000, &body);
        out.push(frame6(&eth, &ip6, &[], PROTO_ICMPV6, &msg, true));
        self.tally.nd_answered += 1;
    }

    /// The engine's TCP to fuzz source `src`: moves the session on and ACKs, or resets what
    /// belongs to no session.
    fn on_tcp(&mut self, t: &Targets, from: &Peer, seg: &[u8], out: &mut Vec<Frame>) {
        let (v6, src) = (from.v6, from.src);
        if seg.len() < 20 {
            return;
        }
        self.tally.from_engine_tcp += 1;
        let sport = u16::from_be_bytes([seg[0], seg[1]]);
        let dport = u16::from_be_bytes([seg[2], seg[3]]);
        let seq = u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]);
        let ack = u32::from_be_bytes([seg[8], seg[9], seg[10], seg[11]]);
        let doff = usize::from(seg[12] >> 4) * 4;
        let fl = u16::from_be_bytes([seg[12], seg[13]]) & 0x1ff;
        if doff < 20 || doff > seg.len() {
            return;
        }
        let payload = (seg.len() - doff) as u32;
        let seglen = payload + u32::from(fl & flags::SYN != 0) + u32::from(fl & flags::FIN != 0);
        if fl & flags::RST != 0 {
            self.tally.from_engine_rst += 1;
        }
        let tsval = timestamp(&seg[20..doff]);
        let found = self.list.iter().position(|s| {
            s.v6 == v6
                && s.src % if v6 { t.src6.len() } else { t.src4.len() } == src
                && s.sport == dport
                && s.state != State::Closed
        });
        let Some(i) = found.filter(|_| sport == t.tcp_port) else {
            if fl & flags::RST == 0 {
                out.push(reset_for(t, from, seg, seq, ack, fl, seglen));
                self.tally.rsts_sent += 1;
            }
            return;
        };
        let s = &mut self.list[i];
        if fl & flags::RST != 0 {
            s.state = State::Closed;
            self.tally.reset_by_engine += 1;
            return;
        }
        if let (Some(v), true) = (tsval, fl & flags::ACK != 0) {
            if s.ts_recent.is_some() || fl & flags::SYN != 0 {
                s.ts_recent = Some(v);
            }
        }
        if s.state == State::SynSent {
            if fl & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK
                && ack == s.iss.wrapping_add(1)
            {
                s.state = State::Established;
                s.snd_nxt = ack;
                s.peer_ack = ack;
                s.rcv_nxt = seq.wrapping_add(1);
                self.tally.established += 1;
                out.push(Self::ack(t, s));
                self.tally.acks_sent += 1;
            }
            return;
        }
        if fl & flags::ACK != 0 && seq_after(ack, s.peer_ack) {
            s.peer_ack = ack;
        }
        // The engine acknowledged past our next byte: it had out-of-order data of ours.
        if fl & flags::ACK != 0
            && seq_after(ack, s.snd_nxt)
            && ack.wrapping_sub(s.snd_nxt) < 1 << 20
        {
            s.snd_nxt = ack;
        }
        if seglen == 0 {
            return;
        }
        let end = seq.wrapping_add(seglen);
        if !seq_after(seq, s.rcv_nxt) && seq_after(end, s.rcv_nxt) {
            s.rcv_nxt = end;
        }
        let fin = fl & flags::FIN != 0;
        out.push(Self::ack(t, s));
        self.tally.acks_sent += 1;
        if fin && s.state == State::FinSent && !seq_after(end, s.rcv_nxt) {
            s.state = State::Closed;
            self.tally.closed += 1;
        }
    }
}

/// A SYN with the options a real client offers (MSS, SACK, timestamps, window scale), now and
/// then odd ones.
fn syn(sport: u16, dport: u16, iss: u32, g: &mut G) -> Tcp {
    let mut seg = Tcp::new(sport, dport, iss, 0, flags::SYN);
    let mut o = vec![2, 4, 0x05, 0xb4, 4, 2, 8, 10];
    o.extend_from_slice(&g.r.u32().to_be_bytes());
    o.extend_from_slice(&[0, 0, 0, 0, 1, 3, 3]);
    o.push(if g.r.chance(0.1) {
        g.r.pick(&[0, 14, 15, 255])
    } else {
        7
    });
    if g.r.chance(0.1) {
        o = g.tcp_options();
    }
    seg.options = o;
    seg
}

/// The TSval of a Timestamps option in `options`, if any.
fn timestamp(options: &[u8]) -> Option<u32> {
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            0 => return None,
            1 => i += 1,
            kind => {
                let len = usize::from(*options.get(i + 1)?);
                if len < 2 || i + len > options.len() {
                    return None;
                }
                if kind == 8 && len == 10 {
                    let v = &options[i + 2..i + 6];
                    return Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
                }
                i += len;
            }
        }
    }
    None
}

/// Who sent a segment to a fuzz source: the engine at `engine` (its first 4 bytes for IPv4; it
/// may be its link-local address), to fuzz source `src` of the family.
struct Peer {
    v6: bool,
    src: usize,
    engine: [u8; 16],
}

/// The RST a host with no such connection sends (RFC 9293 3.10.7.1), to the address the
/// segment came from.
fn reset_for(
    t: &Targets,
    from: &Peer,
    seg: &[u8],
    seq: u32,
    ack: u32,
    fl: u16,
    seglen: u32,
) -> Frame {
    let sport = u16::from_be_bytes([seg[2], seg[3]]);
    let dport = u16::from_be_bytes([seg[0], seg[1]]);
    let rst = if fl & flags::ACK != 0 {
        Tcp::new(sport, dport, ack, 0, flags::RST)
    } else {
        Tcp::new(
            sport,
            dport,
            0,
            seq.wrapping_add(seglen),
            flags::RST | flags::ACK,
        )
    };
    let eth = Eth::new(t.engine_mac, t.my_mac);
    let bytes = rst.segment(&[]);
    if from.v6 {
        let ip = Ip6::new(t.src6[from.src], from.engine);
        frame6(&eth, &ip, &[], PROTO_TCP, &bytes, true)
    } else {
        let mut engine = [0u8; 4];
        engine.copy_from_slice(&from.engine[..4]);
        let ip = Ip4::new(t.src4[from.src], engine, 0);
        frame4(&eth, &ip, PROTO_TCP, &bytes, true)
    }
}

impl G<'_> {
    /// Without sessions: a segment into no connection, from a fuzz source to the open port.
    pub fn tcp_blind(&mut self) -> Vec<Frame> {
        let t = self.t;
        let fl = self
            .r
            .pick(&[flags::RST, flags::ACK, flags::PSH | flags::ACK, flags::SYN]);
        let seg = Tcp::new(self.port_any(), t.tcp_port, self.r.u32(), self.r.u32(), fl);
        let src = self.src4();
        vec![frame4(
            &self.to_engine(),
            &Ip4::new(src, t.dst4, 0),
            PROTO_TCP,
            &seg.segment(&[]),
            true,
        )]
    }

    fn port_any(&mut self) -> u16 {
        1024 + self.r.below(64000) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::super::gen::tests::targets;
    use super::*;
    use crate::cmd::wire::rng::Rng;

    fn syn_ack(t: &Targets, to: &Frame, isn: u32) -> Vec<u8> {
        // The engine's answer to the SYN in `to` (IPv4).
        let l3 = &to.bytes[ETH_HLEN..];
        let seg = &l3[20..];
        let sport = u16::from_be_bytes([seg[0], seg[1]]);
        let iss = u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]);
        let mut answer = Tcp::new(
            t.tcp_port,
            sport,
            isn,
            iss.wrapping_add(1),
            flags::SYN | flags::ACK,
        );
        answer.options = vec![1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0];
        let mut src = [0u8; 4];
        src.copy_from_slice(&l3[12..16]);
        let eth = Eth::new(t.my_mac, t.engine_mac);
        frame4(
            &eth,
            &Ip4::new(t.dst4, src, 1),
            PROTO_TCP,
            &answer.segment(&[]),
            true,
        )
        .bytes
    }

    #[test]
    fn opens_then_injects_around_the_engines_sequence_numbers() {
        let t = targets();
        let mut sessions = Sessions::new(1);
        sessions.list[0].v6 = false;
        let mut g = G {
            t: &t,
            r: Rng::new(5),
            max_len: 1514,
        };
        let first = sessions.unit(&mut g);
        assert_eq!(first.len(), 1);
        let mut out = Vec::new();
        sessions.on_frame(&t, &syn_ack(&t, &first[0], 1000), &mut out);
        assert_eq!(sessions.tally.established, 1);
        assert_eq!(out.len(), 1, "the handshake's ACK");
        let ack = &out[0].bytes[ETH_HLEN + 20..];
        assert_eq!(u32::from_be_bytes([ack[8], ack[9], ack[10], ack[11]]), 1001);
        // Every later unit aims at the window around snd_nxt/rcv_nxt (or resets and reopens).
        for _ in 0..200 {
            for f in sessions.unit(&mut g) {
                assert_eq!(f.bytes[ETH_HLEN + 9], PROTO_TCP);
            }
        }
        assert!(sessions.tally.opened >= 1);
    }

    #[test]
    fn answers_arp_and_nd_for_fuzz_sources_only() {
        let t = targets();
        let mut s = Sessions::new(0);
        let mut out = Vec::new();
        let mut b = Eth::new(super::super::packet::BROADCAST_MAC, t.engine_mac).header(ETH_P_ARP);
        b.extend(arp(1, t.engine_mac, t.dst4, [0; 6], t.src4[3]));
        s.on_frame(&t, &b, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(&out[0].bytes[14 + 14..14 + 18], &t.src4[3]);
        let mut other =
            Eth::new(super::super::packet::BROADCAST_MAC, t.engine_mac).header(ETH_P_ARP);
        other.extend(arp(1, t.engine_mac, t.dst4, [0; 6], [198, 18, 3, 2]));
        s.on_frame(&t, &other, &mut out);
        assert_eq!(
            out.len(),
            1,
            "no answer for an address that is not a fuzz source"
        );
    }
}
