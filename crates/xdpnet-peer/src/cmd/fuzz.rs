//! `fuzz`: malformed and mutated frames of every protocol the engine parses, from the peer's
//! interface through an AF_PACKET socket (batched with sendmmsg), seeded and reproducible.
//!
//! Unit `i` of seed `s` is made from (s, i) alone (gen.rs), so a frame that misbehaves can be
//! made again with `--dump --first i --units 1` and sent again with `--first i --units 1`. The
//! frames come from fuzz source addresses (`--src`, by default .240-.247 of the engine's /24 and
//! ::f0-::f7 of its /64), never from the peer's own, and the command answers ARP and Neighbor
//! Solicitations for them, ACKs the engine's segments on its own connections and resets any other
//! connection the engine opens to them, so the engine sees hosts behind the fuzz addresses.
//!
//! `--count` is of frames on the wire: one the interface refuses (a runt it cannot send) is
//! counted under `refused` and replaced by the next.
//!
//! Prints one JSON line: frames sent by protocol class, how many the engine's XDP program
//! redirects to it (`toEngine`; the rest go to the kernel), sessions, answers, and what came
//! back from the engine.

mod gen;
mod mutate;
mod packet;
mod session;

use crate::cli::Options;
use crate::cmd::wire::packet_socket::{self, BatchIo, PacketSocket, Received, BATCH};
use crate::error::{Context, Failure};
use crate::json::JsonLine;
use crate::pacer::Pacer;
use crate::sys;
use gen::{Class, Generator, Targets};
use packet::{link_local, Frame};
use session::Sessions;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const USAGE: &str = "fuzz --dst-mac MAC --dst4 IP --dst6 IP [--src IP,IP,...] [--iface IF] \
[--seed S] [--count N] [--rate PPS] [--seconds S] [--mutate PCT] [--sessions N] [--tcp-port P] \
[--udp-port P] [--first UNIT] [--units N] [--classes C,C,...] [--linger-ms MS] [--dump]";

/// Slot size of the send and receive pools: a 1500-byte MTU frame with tags, rounded up.
const SLOT: usize = 2048;

struct Config {
    targets: Targets,
    iface: Option<String>,
    seed: u64,
    count: u64,
    seconds: f64,
    rate: u64,
    mutate: f64,
    sessions: usize,
    first: u64,
    units: Option<u64>,
    linger: Duration,
    dump: bool,
    /// Only units of these classes are sent (the others are made and skipped, so unit numbers
    /// stay those of the full run).
    classes: Option<Vec<Class>>,
}

impl Config {
    fn wants(&self, class: Class) -> bool {
        self.classes
            .as_ref()
            .is_none_or(|list| list.contains(&class))
    }
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<u8> = text
        .split(':')
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    parts.try_into().ok()
}

fn mac_of(iface: &str) -> Result<[u8; 6], Failure> {
    let path = format!("/sys/class/net/{iface}/address");
    let text = std::fs::read_to_string(&path).doing(|| format!("read {path}"))?;
    parse_mac(text.trim()).ok_or_else(|| Failure::usage(format!("fuzz: no MAC in {path}")))
}

fn mtu_of(iface: &str) -> usize {
    std::fs::read_to_string(format!("/sys/class/net/{iface}/mtu"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1500)
}

/// The one interface of the namespace that is not loopback (the bed's peer end).
fn only_interface() -> Result<String, Failure> {
    let names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .doing(|| "list /sys/class/net".to_string())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "lo")
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Failure::usage(format!(
            "fuzz: say which interface with --iface (found {names:?})"
        ))),
    }
}

/// Eight addresses of the destination's /24 (.240-.247) or /64 (::f0-::f7): close enough to be
/// on-link, far (4+ bits) from .1/.2/.3 and ::1/::2, so no mutation turns one into the peer's.
fn default_sources(dst4: [u8; 4], dst6: [u8; 16]) -> (Vec<[u8; 4]>, Vec<[u8; 16]>) {
    let v4 = (0..8)
        .map(|i| [dst4[0], dst4[1], dst4[2], 240 + i])
        .collect();
    let v6 = (0..8)
        .map(|i| {
            let mut a = dst6;
            a[8..].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0xf0 + i]);
            a
        })
        .collect();
    (v4, v6)
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "fuzz",
        args,
        &[
            "dst-mac",
            "dst4",
            "dst6",
            "src",
            "src-mac",
            "iface",
            "seed",
            "count",
            "rate",
            "seconds",
            "mutate",
            "sessions",
            "tcp-port",
            "udp-port",
            "first",
            "units",
            "linger-ms",
            "classes",
        ],
        &["dump"],
    )?;
    let dump = o.has("dump");
    let engine_mac = parse_mac(&o.required::<String>("dst-mac")?)
        .ok_or_else(|| Failure::usage("fuzz: --dst-mac is not a MAC address"))?;
    let IpAddr::V4(dst4) = o.ip("dst4")? else {
        return Err(Failure::usage("fuzz: --dst4 must be IPv4"));
    };
    let IpAddr::V6(dst6) = o.ip("dst6")? else {
        return Err(Failure::usage("fuzz: --dst6 must be IPv6"));
    };
    let (dst4, dst6) = (dst4.octets(), dst6.octets());
    let (mut src4, mut src6) = default_sources(dst4, dst6);
    if let Some(list) = o.list::<IpAddr>("src")? {
        src4 = list
            .iter()
            .filter_map(|a| match a {
                IpAddr::V4(a) => Some(a.octets()),
                IpAddr::V6(_) => None,
            })
            .collect();
        src6 = list
            .iter()
            .filter_map(|a| match a {
                IpAddr::V6(a) => Some(a.octets()),
                IpAddr::V4(_) => None,
            })
            .collect();
        if src4.is_empty() || src6.is_empty() {
            return Err(Failure::usage(
                "fuzz: --src needs at least one IPv4 and one IPv6 address",
            ));
        }
    }
    let iface = if dump {
        o.get::<String>("iface")?
    } else {
        Some(match o.get::<String>("iface")? {
            Some(i) => i,
            None => only_interface()?,
        })
    };
    let my_mac = match (o.get::<String>("src-mac")?, &iface) {
        (Some(text), _) => {
            parse_mac(&text).ok_or_else(|| Failure::usage("fuzz: --src-mac is not a MAC"))?
        }
        (None, Some(i)) => mac_of(i)?,
        (None, None) => [0x02, 0, 0, 0, 0, 0xfe],
    };
    let mutate_pct: f64 = o.get_or("mutate", 50.0)?;
    if !(0.0..=100.0).contains(&mutate_pct) {
        return Err(Failure::usage("fuzz: --mutate must be 0..100"));
    }
    let sessions: usize = o.get_or("sessions", 16)?;
    if sessions > 1024 {
        return Err(Failure::usage("fuzz: --sessions must be 0..=1024"));
    }
    let units: Option<u64> = o.get("units")?;
    let count: u64 = o.get_or("count", if units.is_some() { u64::MAX } else { 100_000 })?;
    let classes = match o.list::<String>("classes")? {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|n| {
                    Class::ALL
                        .into_iter()
                        .find(|c| c.name() == n)
                        .ok_or_else(|| Failure::usage(format!("fuzz: no class {n:?}")))
                })
                .collect::<Result<Vec<Class>, Failure>>()?,
        ),
    };
    Ok(Config {
        classes,
        targets: Targets {
            engine_mac,
            my_mac,
            dst4,
            dst6,
            ll6: link_local(&engine_mac),
            src4,
            src6,
            tcp_port: o.get_or("tcp-port", 7)?,
            udp_port: o.get_or("udp-port", 7)?,
        },
        iface,
        seed: o.get_or("seed", 1)?,
        count,
        seconds: o.seconds(600.0, 600.0)?,
        rate: o.get_or("rate", 0)?,
        mutate: mutate_pct / 100.0,
        sessions,
        first: o.get_or("first", 0)?,
        units,
        linger: Duration::from_millis(o.get_or("linger-ms", 500)?),
        dump,
    })
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Counts per class of what was generated and sent.
#[derive(Default)]
struct Counts {
    units: u64,
    sent: [u64; 16],
    to_engine: u64,
    mutated: u64,
    /// Fuzz frames the interface would not take (sendmmsg failed on them), by class.
    refused: [u64; 16],
    answers_sent: u64,
    answers_refused: u64,
    /// Frames redirected to the engine whose drop reason is certain (Frame::expect), by reason.
    expect: BTreeMap<&'static str, u64>,
}

impl Counts {
    fn total(&self) -> u64 {
        self.sent.iter().sum()
    }

    fn count(&mut self, class: Class, frame: &[u8], expect: Option<&'static str>, t: &Targets) {
        self.sent[class.index()] += 1;
        if t.redirected(frame) {
            self.to_engine += 1;
            if let Some(reason) = expect {
                *self.expect.entry(reason).or_default() += 1;
            }
        }
    }

    fn expect_json(&self) -> String {
        let mut j = JsonLine::new();
        for (reason, n) in &self.expect {
            j = j.int(reason, *n);
        }
        j.finish()
    }

    fn classes_json(&self) -> String {
        self.by_class(&self.sent)
    }

    fn by_class(&self, counts: &[u64; 16]) -> String {
        let mut j = JsonLine::new();
        for c in Class::ALL {
            j = j.int(c.name(), counts[c.index()]);
        }
        j.finish()
    }
}

/// `--dump`: each frame of units first..first+units as `unit class hex` lines, nothing sent.
fn dump(cfg: &Config, generator: &Generator) -> String {
    let mut sessions = Sessions::starting_at(cfg.sessions, cfg.first);
    let mut counts = Counts::default();
    let units = cfg.units.unwrap_or(100);
    let mut out = std::io::stdout().lock();
    for i in cfg.first..cfg.first + units {
        let unit = generator.unit(i, &mut sessions);
        if !cfg.wants(unit.class) {
            continue;
        }
        for f in &unit.frames {
            let _ = std::io::Write::write_all(
                &mut out,
                format!("{i} {} {}\n", unit.class.name(), hex(&f.bytes)).as_bytes(),
            );
            counts.count(unit.class, &f.bytes, f.expect, &generator.targets);
        }
        counts.units += 1;
        counts.mutated += unit.mutated as u64;
    }
    JsonLine::new()
        .int("seed", cfg.seed)
        .int("units", counts.units)
        .int("frames", counts.total())
        .int("toEngine", counts.to_engine)
        .int("mutated", counts.mutated)
        .raw("classes", &counts.classes_json())
        .raw("expect", &counts.expect_json())
        .finish()
}

/// A frame waiting to go: fuzz frames count against --count and the rate, answers do not.
struct Outgoing {
    bytes: Vec<u8>,
    class: Option<Class>,
    expect: Option<&'static str>,
}

struct Sender {
    socket: PacketSocket,
    io: BatchIo,
    tx_pool: Vec<u8>,
    rx_pool: Vec<u8>,
    received: [Received; BATCH],
    slots: Vec<u32>,
    lens: Vec<usize>,
}

impl Sender {
    fn new(socket: PacketSocket) -> Self {
        Self {
            socket,
            io: BatchIo::new(),
            tx_pool: vec![0; BATCH * SLOT],
            rx_pool: vec![0; BATCH * SLOT],
            received: [Received::default(); BATCH],
            slots: (0..BATCH as u32).collect(),
            lens: Vec::with_capacity(BATCH),
        }
    }

    /// Reads what arrived (without waiting) and lets the sessions answer it.
    fn receive(&mut self, t: &Targets, sessions: &mut Sessions, queue: &mut VecDeque<Outgoing>) {
        let mut answers: Vec<Frame> = Vec::new();
        // A few batches at most per pass, so sending is never starved.
        for _ in 0..4 {
            let n = self
                .io
                .recv(
                    &self.socket,
                    &mut self.rx_pool,
                    SLOT,
                    &self.slots,
                    &mut self.received,
                )
                .unwrap_or_default();
            for i in 0..n {
                let len = self.received[i].len;
                let start = i * SLOT;
                sessions.on_frame(t, &self.rx_pool[start..start + len], &mut answers);
            }
            if n < BATCH {
                break;
            }
        }
        // Answers go before pending fuzz frames: a host answers at once.
        for f in answers.into_iter().rev() {
            queue.push_front(Outgoing {
                bytes: f.bytes,
                class: None,
                expect: None,
            });
        }
    }

    /// Only answers (and sends what is queued) until `end`.
    fn answer_until(
        &mut self,
        end: Instant,
        t: &Targets,
        sessions: &mut Sessions,
        queue: &mut VecDeque<Outgoing>,
        counts: &mut Counts,
    ) {
        while Instant::now() < end && !sys::stop_requested() {
            self.receive(t, sessions, queue);
            if queue.is_empty() {
                std::thread::sleep(Duration::from_millis(2));
            } else {
                self.send(queue, counts, t);
            }
        }
    }

    /// Sends the front of `queue` (one sendmmsg). A frame the interface refuses (one too short
    /// for the link, say) is counted as a send error and dropped; a full queue waits for room.
    fn send(&mut self, queue: &mut VecDeque<Outgoing>, counts: &mut Counts, t: &Targets) {
        let n = queue.len().min(BATCH);
        if n == 0 {
            return;
        }
        self.lens.clear();
        for (i, out) in queue.iter().take(n).enumerate() {
            let len = out.bytes.len().min(SLOT);
            self.tx_pool[i * SLOT..i * SLOT + len].copy_from_slice(&out.bytes[..len]);
            self.lens.push(len);
        }
        let sent = match self.io.send(
            &self.socket,
            &self.tx_pool,
            SLOT,
            &self.slots[..n],
            &self.lens,
        ) {
            Ok(sent) => sent,
            Err(err) if sys::is_transient_send_error(&err) => {
                let mut fds = [libc::pollfd {
                    fd: self.socket.raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                }];
                let _ = packet_socket::wait(&mut fds, 10_000_000);
                return;
            }
            Err(_) => {
                // sendmmsg fails only on its first message: that one is refused.
                if let Some(out) = queue.pop_front() {
                    match out.class {
                        Some(c) => counts.refused[c.index()] += 1,
                        None => counts.answers_refused += 1,
                    }
                }
                return;
            }
        };
        for out in queue.drain(..sent) {
            match out.class {
                Some(c) => counts.count(c, &out.bytes, out.expect, t),
                None => counts.answers_sent += 1,
            }
        }
    }
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let max_len = cfg.iface.as_deref().map_or(1500, mtu_of).min(SLOT - 64) + packet::ETH_HLEN;
    let generator = Generator {
        seed: cfg.seed,
        targets: cfg.targets.clone(),
        max_len,
        mutate: cfg.mutate,
    };
    if cfg.dump {
        return Ok(dump(&cfg, &generator));
    }
    let iface = cfg.iface.clone().unwrap_or_default();
    let mut sender = Sender::new(PacketSocket::open(&iface)?);
    let t = &generator.targets;
    let mut sessions = Sessions::starting_at(cfg.sessions, cfg.first);
    let mut counts = Counts::default();
    let mut queue: VecDeque<Outgoing> = VecDeque::new();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    let pacer = Pacer::new(start, cfg.rate);
    let last_unit = cfg.units.map_or(u64::MAX, |u| cfg.first.saturating_add(u));
    let mut next_unit = cfg.first;
    // Fuzz frames taken from units that went or are waiting in the queue (--count is of frames
    // on the wire: one the interface refused is replaced by the next).
    let mut taken: u64 = 0;
    loop {
        let now = Instant::now();
        if now >= deadline || sys::stop_requested() {
            break;
        }
        sender.receive(t, &mut sessions, &mut queue);
        let refused: u64 = counts.refused.iter().sum();
        let taken_now = taken - refused;
        let done = taken_now >= cfg.count || next_unit >= last_unit;
        let fuzz_waiting = queue.iter().any(|o| o.class.is_some());
        if done && !fuzz_waiting && queue.is_empty() {
            break;
        }
        let sent_so_far = counts.total() + counts.refused.iter().sum::<u64>();
        let allowed = pacer.allowance(now, sent_so_far);
        // Generate while the queue is short and the pacer allows.
        let mut room = allowed.saturating_sub(queue.len() as u64).min(BATCH as u64);
        sessions.now_ms = start.elapsed().as_millis() as u64;
        let mut taken_now = taken_now;
        while room > 0 && !done && taken_now < cfg.count && next_unit < last_unit {
            let unit = generator.unit(next_unit, &mut sessions);
            next_unit += 1;
            if !cfg.wants(unit.class) {
                continue;
            }
            counts.units += 1;
            counts.mutated += unit.mutated as u64;
            for f in unit.frames {
                if taken_now >= cfg.count {
                    break;
                }
                taken += 1;
                taken_now += 1;
                room = room.saturating_sub(1);
                queue.push_back(Outgoing {
                    bytes: f.bytes,
                    class: Some(unit.class),
                    expect: f.expect,
                });
            }
        }
        if queue.is_empty() {
            if allowed == 0 {
                pacer.wait(now, sent_so_far, deadline);
            }
            continue;
        }
        // Answers always go; fuzz frames only as the pacer allows.
        let answers_first = queue.front().is_some_and(|o| o.class.is_none());
        if !answers_first && allowed == 0 {
            pacer.wait(now, sent_so_far, deadline);
            continue;
        }
        sender.send(&mut queue, &mut counts, t);
    }
    // The end: first a quiet half of --linger-ms, answering only, so the engine acknowledges
    // what is in flight and its last ACK on each connection is its RCV.NXT; then a RST there for
    // every connection we hold, and the other half answering (the RSTs' ARP, the last segments,
    // the challenge ACK of any RST that missed).
    queue.retain(|o| o.class.is_none());
    sender.answer_until(
        Instant::now() + cfg.linger / 2,
        t,
        &mut sessions,
        &mut queue,
        &mut counts,
    );
    let mut closing = Vec::new();
    sessions.reset_all(t, &mut closing);
    for f in closing {
        queue.push_back(Outgoing {
            bytes: f.bytes,
            class: None,
            expect: None,
        });
    }
    sender.answer_until(
        Instant::now() + cfg.linger / 2,
        t,
        &mut sessions,
        &mut queue,
        &mut counts,
    );
    let seconds = start.elapsed().as_secs_f64();
    let sent = counts.total();
    let k = &sessions.tally;
    let session_json = JsonLine::new()
        .int("opened", k.opened)
        .int("established", k.established)
        .int("resetByEngine", k.reset_by_engine)
        .int("resetByUs", k.reset_by_us)
        .int("closed", k.closed)
        .finish();
    let answered = JsonLine::new()
        .int("arp", k.arp_answered)
        .int("nd", k.nd_answered)
        .int("acks", k.acks_sent)
        .int("rsts", k.rsts_sent)
        .finish();
    let from_engine = JsonLine::new()
        .int("tcp", k.from_engine_tcp)
        .int("tcpRst", k.from_engine_rst)
        .int("udp", k.from_engine_udp)
        .int("icmp4", k.from_engine_icmp4)
        .int("icmp6", k.from_engine_icmp6)
        .int("arp", k.from_engine_arp)
        .int("other", k.from_engine_other)
        .finish();
    Ok(JsonLine::new()
        .int("seed", cfg.seed)
        .int("firstUnit", cfg.first)
        .int("units", counts.units)
        .int("sent", sent)
        .int("toEngine", counts.to_engine)
        .int("mutated", counts.mutated)
        .int("refused", counts.refused.iter().sum())
        .raw("refusedByClass", &counts.by_class(&counts.refused))
        .num("seconds", seconds, 3)
        .num("pps", sent as f64 / seconds, 1)
        .raw("classes", &counts.classes_json())
        .raw("expect", &counts.expect_json())
        .raw("sessions", &session_json)
        .int("received", k.received)
        .raw("answered", &answered)
        .int("answersSent", counts.answers_sent)
        .int("answersRefused", counts.answers_refused)
        .raw("fromEngine", &from_engine)
        .int("kernelDrops", sender.socket.take_kernel_drops())
        .num("cpuSeconds", sys::cpu_seconds(), 3)
        .finish())
}
