//! `sink`: receive with recvmmsg, check the pattern, and count what arrived how.

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::json::JsonLine;
use crate::mmsg::MsgBatch;
use crate::net;
use crate::pattern::{self, Seq};
use crate::seqtrack::SeqTracker;
use crate::sys;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

pub const USAGE: &str = "sink --bind <ip> --port P [--count N] [--seconds S] [--verify] \
[--idle S] [--batch 64] [--rcvbuf BYTES]";

/// Large enough for any UDP payload, so nothing is ever truncated.
const SLOT_SIZE: usize = 65_536;

/// How often a quiet receive wakes up to look at the clock and the stop flag.
const POLL: Duration = Duration::from_millis(100);

struct Config {
    local: SocketAddr,
    count: Option<u64>,
    seconds: f64,
    /// Stop this long after the last datagram (0 = never); ends a run whose tail was lost.
    idle: f64,
    verify: bool,
    batch: usize,
    rcvbuf: usize,
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "sink",
        args,
        &[
            "bind", "port", "count", "seconds", "idle", "batch", "rcvbuf",
        ],
        &["verify"],
    )?;
    let batch: usize = o.get_or("batch", 64)?;
    if batch == 0 || batch > 1024 {
        return Err(Failure::usage("sink: --batch must be 1..=1024"));
    }
    let idle: f64 = o.get_or("idle", 0.0)?;
    if !(idle.is_finite() && idle >= 0.0) {
        return Err(Failure::usage("sink: --idle must be >= 0"));
    }
    Ok(Config {
        local: SocketAddr::new(o.ip("bind")?, o.required("port")?),
        count: o.get("count")?,
        seconds: o.seconds(60.0, 10.0)?,
        idle,
        verify: o.has("verify"),
        batch,
        rcvbuf: o.get_or("rcvbuf", 8 << 20)?,
    })
}

#[derive(Default)]
struct Tally {
    received: u64,
    bytes: u64,
    corrupt: u64,
    truncated: u64,
    /// Empty datagrams: counted as received, but they carry no sequence number.
    unsequenced: u64,
    kernel_drops: u64,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
    seqs: SeqTracker,
}

impl Tally {
    fn datagram(&mut self, data: &[u8], verify: bool) {
        self.received += 1;
        self.bytes += data.len() as u64;
        let seq = match pattern::read_seq(data) {
            Seq::Full(seq) => seq,
            // An empty datagram carries no sequence number at all.
            Seq::Partial { bytes: 0, .. } => {
                self.unsequenced += 1;
                return;
            }
            Seq::Partial { low, bytes } => {
                pattern::widen(low, bytes, self.seqs.highest.unwrap_or(0))
            }
        };
        if verify && !pattern::body_matches(data, seq) {
            // Its sequence field may be the corrupted part, so it is not counted as seen.
            self.corrupt += 1;
            return;
        }
        self.seqs.record(seq);
    }
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let socket = net::bound(cfg.local)?;
    if let Err(err) = sys::set_receive_buffer(socket.as_fd(), cfg.rcvbuf) {
        eprintln!("sink: could not enlarge the receive buffer ({err}); bursts may drop");
    }
    // Ask the kernel to report receive-queue drops with each datagram (socket(7) SO_RXQ_OVFL).
    let drops_reported =
        sys::set_int_option(socket.as_fd(), libc::SOL_SOCKET, libc::SO_RXQ_OVFL, 1).is_ok();
    socket
        .set_read_timeout(Some(POLL))
        .doing(|| "set SO_RCVTIMEO".to_string())?;
    let mut batch = MsgBatch::new(cfg.batch, SLOT_SIZE, false, drops_reported);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    let idle = Duration::from_secs_f64(cfg.idle);
    let mut tally = Tally::default();
    eprintln!("sink: listening on {}", cfg.local);
    loop {
        let remaining = cfg.count.map_or(u64::MAX, |c| c - tally.received);
        let now = Instant::now();
        let quiet = tally
            .last_at
            .is_some_and(|t| !idle.is_zero() && now - t >= idle);
        if remaining == 0 || now >= deadline || quiet || sys::stop_requested() {
            break;
        }
        let want = (cfg.batch as u64).min(remaining) as usize;
        match batch.recv(socket.as_fd(), want, libc::MSG_WAITFORONE) {
            Ok(n) => {
                let now = Instant::now();
                tally.first_at.get_or_insert(now);
                tally.last_at = Some(now);
                for i in 0..n {
                    tally.truncated += u64::from(batch.truncated(i));
                    tally.datagram(batch.datagram(i), cfg.verify);
                }
                if let Some(dropped) = (0..n).rev().find_map(|i| batch.dropped_counter(i)) {
                    tally.kernel_drops = u64::from(dropped);
                }
            }
            Err(err) if sys::is_receive_timeout(&err) => continue,
            Err(err) => return Err(err).doing(|| format!("recvmmsg on {}", cfg.local)),
        }
    }
    Ok(report(&tally, start, cfg.verify))
}

fn report(tally: &Tally, start: Instant, verify: bool) -> String {
    let wall = start.elapsed().as_secs_f64();
    // Rate over the span traffic was arriving, not the time spent waiting for the flood to start.
    let active = match (tally.first_at, tally.last_at) {
        (Some(first), Some(last)) if last > first => (last - first).as_secs_f64(),
        _ => wall,
    };
    let s = &tally.seqs;
    JsonLine::new()
        .int("received", tally.received)
        .int("bytes", tally.bytes)
        .num("seconds", active, 6)
        .num("pps", tally.received as f64 / active, 1)
        .boolean("verified", verify)
        .int("corrupt", tally.corrupt)
        .opt_int("firstSeq", s.first)
        .opt_int("lastSeq", s.last)
        .opt_int("maxSeq", s.highest)
        .int("distinct", s.distinct)
        .int("outOfOrder", s.out_of_order)
        .int("duplicates", s.duplicates)
        .int("untracked", s.untracked)
        .int("truncated", tally.truncated)
        .int("unsequenced", tally.unsequenced)
        .int("kernelDrops", tally.kernel_drops)
        .num("wallSeconds", wall, 6)
        .num("cpuSeconds", sys::cpu_seconds(), 6)
        .finish()
}
