//! `udp-echo`: the kernel-side echo server for baselines; each batch from recvmmsg goes back to
//! its senders with one sendmmsg, buffers untouched.

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::json::JsonLine;
use crate::mmsg::MsgBatch;
use crate::net;
use crate::sys;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

pub const USAGE: &str =
    "udp-echo --bind <ip> --port P [--seconds S (default 300, 0 = until SIGTERM/SIGINT)] \
[--count N] [--batch 64] [--rcvbuf BYTES]";

const SLOT_SIZE: usize = 65_536;
const POLL: Duration = Duration::from_millis(100);
/// Attempts at one datagram the kernel keeps refusing before it is dropped.
const SEND_ATTEMPTS: u32 = 3;

struct Config {
    local: SocketAddr,
    /// None = run until a signal.
    seconds: Option<f64>,
    count: Option<u64>,
    batch: usize,
    rcvbuf: usize,
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "udp-echo",
        args,
        &["bind", "port", "seconds", "count", "batch", "rcvbuf"],
        &[],
    )?;
    let seconds: f64 = o.get_or("seconds", 300.0)?;
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(Failure::usage("udp-echo: --seconds must be >= 0"));
    }
    let batch: usize = o.get_or("batch", 64)?;
    if batch == 0 || batch > 1024 {
        return Err(Failure::usage("udp-echo: --batch must be 1..=1024"));
    }
    Ok(Config {
        local: SocketAddr::new(o.ip("bind")?, o.required("port")?),
        seconds: (seconds > 0.0).then_some(seconds),
        count: o.get("count")?,
        batch,
        rcvbuf: o.get_or("rcvbuf", 8 << 20)?,
    })
}

#[derive(Default)]
struct Tally {
    received: u64,
    echoed: u64,
    bytes: u64,
    errors: u64,
    dropped: u64,
}

/// Sends slots 0..n back where they came from; a datagram refused SEND_ATTEMPTS times is dropped.
fn echo_batch(socket: &UdpSocket, batch: &mut MsgBatch, n: usize, tally: &mut Tally) {
    let mut done = 0;
    let mut attempts = 0;
    while done < n {
        match batch.send(socket.as_fd(), done..n) {
            Ok(sent) => {
                done += sent;
                tally.echoed += sent as u64;
                attempts = 0;
            }
            Err(err) if sys::is_transient_send_error(&err) => {
                tally.errors += 1;
                attempts += 1;
                if attempts >= SEND_ATTEMPTS {
                    done += 1;
                    tally.dropped += 1;
                    attempts = 0;
                }
            }
            // e.g. EINVAL from an odd source address: drop that one, keep serving.
            Err(err) => {
                eprintln!("udp-echo: sendmmsg: {err}");
                tally.errors += 1;
                tally.dropped += 1;
                done += 1;
            }
        }
    }
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let socket = net::bound(cfg.local)?;
    if let Err(err) = sys::set_receive_buffer(socket.as_fd(), cfg.rcvbuf) {
        eprintln!("udp-echo: could not enlarge the receive buffer ({err})");
    }
    socket
        .set_read_timeout(Some(POLL))
        .doing(|| "set SO_RCVTIMEO".to_string())?;
    socket
        .set_write_timeout(Some(POLL))
        .doing(|| "set SO_SNDTIMEO".to_string())?;
    let mut batch = MsgBatch::new(cfg.batch, SLOT_SIZE, true, false);
    let start = Instant::now();
    let deadline = cfg.seconds.map(|s| start + Duration::from_secs_f64(s));
    let mut tally = Tally::default();
    eprintln!("udp-echo: echoing on {}", cfg.local);
    loop {
        let remaining = cfg.count.map_or(u64::MAX, |c| c - tally.received);
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        if remaining == 0 || expired || sys::stop_requested() {
            break;
        }
        let want = (cfg.batch as u64).min(remaining) as usize;
        match batch.recv(socket.as_fd(), want, libc::MSG_WAITFORONE) {
            Ok(n) => {
                tally.received += n as u64;
                tally.bytes += (0..n).map(|i| batch.len(i) as u64).sum::<u64>();
                echo_batch(&socket, &mut batch, n, &mut tally);
            }
            Err(err) if sys::is_receive_timeout(&err) => continue,
            Err(err) => return Err(err).doing(|| format!("recvmmsg on {}", cfg.local)),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(JsonLine::new()
        .int("received", tally.received)
        .int("echoed", tally.echoed)
        .int("bytes", tally.bytes)
        .int("errors", tally.errors)
        .int("dropped", tally.dropped)
        .num("seconds", seconds, 6)
        .num("pps", tally.received as f64 / seconds, 1)
        .num("cpuSeconds", sys::cpu_seconds(), 6)
        .finish())
}
