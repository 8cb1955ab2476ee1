//! `flood`: send the pattern as fast as allowed with sendmmsg, over one or more flows.

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::json::JsonLine;
use crate::mmsg::MsgBatch;
use crate::net::{self, MAX_PAYLOAD};
use crate::pacer::Pacer;
use crate::pattern;
use crate::sys;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

pub const USAGE: &str = "flood --dst <ip> --port P [--src-port-base B] [--flows N] \
[--size BYTES | --sizes a,b,c] [--count N] [--seconds S] [--rate PPS] [--batch 64]";

struct Config {
    dst: SocketAddr,
    flows: usize,
    src_port_base: Option<u16>,
    sizes: Vec<usize>,
    count: Option<u64>,
    seconds: f64,
    rate: u64,
    batch: usize,
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "flood",
        args,
        &[
            "dst",
            "port",
            "src-port-base",
            "flows",
            "size",
            "sizes",
            "count",
            "seconds",
            "rate",
            "batch",
        ],
        &[],
    )?;
    let dst = SocketAddr::new(o.ip("dst")?, o.required("port")?);
    let sizes = match (o.list::<usize>("sizes")?, o.get::<usize>("size")?) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage("flood: give --size or --sizes, not both"))
        }
        (Some(list), None) => list,
        (None, Some(size)) => vec![size],
        (None, None) => vec![64],
    };
    if sizes.iter().any(|&s| s > MAX_PAYLOAD) {
        return Err(Failure::usage(format!(
            "flood: sizes must be <= {MAX_PAYLOAD} bytes"
        )));
    }
    let flows: usize = o.get_or("flows", 1)?;
    let batch: usize = o.get_or("batch", 64)?;
    if flows == 0 || batch == 0 || batch > 1024 {
        return Err(Failure::usage(
            "flood: --flows must be >= 1 and --batch 1..=1024 (UIO_MAXIOV)",
        ));
    }
    let src_port_base: Option<u16> = o.get("src-port-base")?;
    if let Some(base) = src_port_base {
        if base == 0 || usize::from(base) + flows - 1 > usize::from(u16::MAX) {
            return Err(Failure::usage(
                "flood: --src-port-base + --flows - 1 must be a port in 1..=65535",
            ));
        }
    }
    Ok(Config {
        dst,
        flows,
        src_port_base,
        sizes,
        count: o.get("count")?,
        seconds: o.seconds(60.0, 10.0)?,
        rate: o.get_or("rate", 0)?,
        batch,
    })
}

fn open_flows(cfg: &Config) -> Result<Vec<UdpSocket>, Failure> {
    (0..cfg.flows)
        .map(|i| {
            // Consecutive source ports give distinct 4-tuples, so RSS spreads the flows.
            let port = cfg.src_port_base.map_or(0, |base| base + i as u16);
            let socket = net::connected(cfg.dst, port)?;
            // A full send buffer blocks; the timeout turns that into EAGAIN so the deadline
            // is still checked.
            socket
                .set_write_timeout(Some(Duration::from_millis(100)))
                .doing(|| "set SO_SNDTIMEO".to_string())?;
            Ok(socket)
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    sent: u64,
    bytes: u64,
    errors: u64,
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let sockets = open_flows(&cfg)?;
    let slot_size = cfg.sizes.iter().copied().max().unwrap_or(0).max(1);
    let mut batch = MsgBatch::new(cfg.batch, slot_size, false, false);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    let pacer = Pacer::new(start, cfg.rate);
    let mut tally = Tally::default();
    let mut flow = 0;
    loop {
        let remaining = cfg.count.map_or(u64::MAX, |c| c - tally.sent);
        let now = Instant::now();
        if remaining == 0 || now >= deadline || sys::stop_requested() {
            break;
        }
        let allowed = pacer.allowance(now, tally.sent);
        if allowed == 0 {
            pacer.wait(now, tally.sent, deadline);
            continue;
        }
        let want = (cfg.batch as u64).min(remaining).min(allowed) as usize;
        // The sequence number is also the packet index, so sizes cycle by it.
        let seq = tally.sent;
        for j in 0..want {
            let size = cfg.sizes[((seq + j as u64) % cfg.sizes.len() as u64) as usize];
            pattern::fill(&mut batch.slot_mut(j)[..size], seq + j as u64);
            batch.set_len(j, size);
        }
        match batch.send(sockets[flow].as_fd(), 0..want) {
            Ok(n) => {
                tally.sent += n as u64;
                tally.bytes += (0..n).map(|j| batch.len(j) as u64).sum::<u64>();
                // Round-robin per batch; --batch 1 alternates flows per packet.
                flow = (flow + 1) % sockets.len();
            }
            Err(err) if sys::is_transient_send_error(&err) => {
                tally.errors += 1;
                // Let the receiver drain the queue before retrying.
                std::thread::yield_now();
            }
            Err(err) => return Err(err).doing(|| format!("sendmmsg to {}", cfg.dst)),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(JsonLine::new()
        .int("sent", tally.sent)
        .int("bytes", tally.bytes)
        .num("seconds", seconds, 6)
        .num("pps", tally.sent as f64 / seconds, 1)
        .int("errors", tally.errors)
        .int("flows", cfg.flows as u64)
        .num("cpuSeconds", sys::cpu_seconds(), 6)
        .finish())
}
