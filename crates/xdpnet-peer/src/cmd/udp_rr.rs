//! `udp-rr`: one request in flight, wait for its echo, record the round-trip time
//! (netperf UDP_RR / sockperf ping-pong).

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::histogram;
use crate::json::JsonLine;
use crate::net::{self, MAX_PAYLOAD};
use crate::pattern::{self, Seq};
use crate::percentile;
use crate::sys;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

pub const USAGE: &str = "udp-rr --dst <ip> --port P [--count N] [--seconds S] [--size 64]";

/// A request with no reply within this is lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(1);

struct Config {
    dst: SocketAddr,
    count: Option<u64>,
    seconds: f64,
    size: usize,
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "udp-rr",
        args,
        &["dst", "port", "count", "seconds", "size"],
        &[],
    )?;
    let size: usize = o.get_or("size", 64)?;
    if !(pattern::SEQ_LEN..=MAX_PAYLOAD).contains(&size) {
        // Replies are matched to requests by their 8-byte sequence number.
        return Err(Failure::usage(format!(
            "udp-rr: --size must be 8..={MAX_PAYLOAD}"
        )));
    }
    Ok(Config {
        dst: SocketAddr::new(o.ip("dst")?, o.required("port")?),
        count: o.get("count")?,
        seconds: o.seconds(60.0, 10.0)?,
        size,
    })
}

#[derive(Default)]
struct Tally {
    requests: u64,
    replies: u64,
    lost: u64,
    /// Replies to earlier requests that had already been given up as lost.
    late: u64,
    /// Datagrams that were neither the awaited reply nor a late one.
    mismatched: u64,
    send_errors: u64,
    /// Requests answered by ICMP port unreachable (counted in `lost` too).
    refused: u64,
    rtts_ns: Vec<u64>,
}

enum Outcome {
    Reply(Duration),
    Lost,
    Stopped,
}

/// Waits for the echo of `request` (sequence `seq`), at most REPLY_TIMEOUT after `sent_at`.
fn await_reply(
    socket: &UdpSocket,
    request: &[u8],
    seq: u64,
    sent_at: Instant,
    inbox: &mut [u8],
    tally: &mut Tally,
) -> io::Result<Outcome> {
    let mut timeout_shortened = false;
    let outcome = loop {
        match socket.recv(inbox) {
            Ok(n) if inbox[..n] == *request => break Outcome::Reply(sent_at.elapsed()),
            Ok(n) => {
                match pattern::read_seq(&inbox[..n]) {
                    Seq::Full(old) if old < seq => tally.late += 1,
                    _ => tally.mismatched += 1,
                }
                let left = REPLY_TIMEOUT.saturating_sub(sent_at.elapsed());
                if left.is_zero() {
                    break Outcome::Lost;
                }
                // Keep the 1 s budget per request even while stale replies trickle in.
                socket.set_read_timeout(Some(left))?;
                timeout_shortened = true;
            }
            Err(_) if sys::stop_requested() => break Outcome::Stopped,
            Err(err) if err.raw_os_error() == Some(libc::EINTR) => continue,
            // ICMP port unreachable: nobody echoes. Pause so a missing server is not hammered.
            Err(err) if err.raw_os_error() == Some(libc::ECONNREFUSED) => {
                tally.refused += 1;
                std::thread::sleep(Duration::from_millis(1));
                break Outcome::Lost;
            }
            // EAGAIN: SO_RCVTIMEO expired.
            Err(err) if sys::is_receive_timeout(&err) => break Outcome::Lost,
            Err(err) => return Err(err),
        }
    };
    if timeout_shortened {
        socket.set_read_timeout(Some(REPLY_TIMEOUT))?;
    }
    Ok(outcome)
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let socket = net::connected(cfg.dst, 0)?;
    socket
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .doing(|| "set SO_RCVTIMEO".to_string())?;
    socket
        .set_write_timeout(Some(REPLY_TIMEOUT))
        .doing(|| "set SO_SNDTIMEO".to_string())?;
    let mut request = vec![0u8; cfg.size];
    let mut inbox = vec![0u8; 65_536];
    let mut tally = Tally {
        rtts_ns: Vec::with_capacity(cfg.count.unwrap_or(1 << 20).min(1 << 24) as usize),
        ..Tally::default()
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    while cfg.count.is_none_or(|c| tally.requests < c)
        && Instant::now() < deadline
        && !sys::stop_requested()
    {
        let seq = tally.requests;
        pattern::fill(&mut request, seq);
        let sent_at = Instant::now();
        tally.requests += 1;
        if let Err(err) = socket.send(&request) {
            if !sys::is_transient_send_error(&err) {
                return Err(err).doing(|| format!("send to {}", cfg.dst));
            }
            // Typically ECONNREFUSED from an earlier ICMP unreachable: no echo server yet.
            tally.send_errors += 1;
            tally.lost += 1;
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        match await_reply(&socket, &request, seq, sent_at, &mut inbox, &mut tally)
            .doing(|| format!("recv from {}", cfg.dst))?
        {
            Outcome::Reply(rtt) => {
                tally.replies += 1;
                tally.rtts_ns.push(rtt.as_nanos() as u64);
            }
            Outcome::Lost => tally.lost += 1,
            // Interrupted mid-wait: neither answered nor lost.
            Outcome::Stopped => tally.requests -= 1,
        }
    }
    Ok(report(&mut tally, start.elapsed().as_secs_f64()))
}

fn report(tally: &mut Tally, seconds: f64) -> String {
    let encoded = histogram::encode_ns(&tally.rtts_ns);
    let summary = percentile::summarise(&mut tally.rtts_ns);
    let us = |pick: fn(&percentile::Summary) -> u64| {
        summary
            .as_ref()
            .map_or(f64::NAN, |s| pick(s) as f64 / 1000.0)
    };
    JsonLine::new()
        .int("requests", tally.requests)
        .int("replies", tally.replies)
        .int("lost", tally.lost)
        .int("late", tally.late)
        .int("mismatched", tally.mismatched)
        .int("sendErrors", tally.send_errors)
        .int("refused", tally.refused)
        .num("p50_us", us(|s| s.p50), 2)
        .num("p99_us", us(|s| s.p99), 2)
        .num("p999_us", us(|s| s.p999), 2)
        .num("min_us", us(|s| s.min), 2)
        .num("max_us", us(|s| s.max), 2)
        .num("mean_us", us(|s| s.mean), 2)
        .num("rps", tally.replies as f64 / seconds, 1)
        .num("seconds", seconds, 6)
        .num("cpuSeconds", sys::cpu_seconds(), 6)
        .string("histogram", &encoded)
        .finish()
}
