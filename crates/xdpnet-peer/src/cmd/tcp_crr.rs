//! `tcp-crr`: connect, 1-byte request/response, close; repeat, one connection at a time
//! (netperf TCP_CRR). A failed connection counts as an error and the next one starts.

use super::tcp_rr::{connect, latency_report, load_config, read_byte};
use crate::error::Failure;
use crate::sys;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const USAGE: &str = "tcp-crr --dst <ip> --port P [--count N] [--seconds S]";

/// Connect, send and receive timeout of each connection.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST: u8 = b'x';

/// One connection's round trip, close included.
fn transaction(dst: SocketAddr) -> io::Result<()> {
    let mut stream = connect(dst, SOCKET_TIMEOUT, true)?;
    stream.write_all(&[REQUEST])?;
    match read_byte(&mut stream)? {
        Some(REQUEST) => Ok(()),
        _ => Err(io::Error::new(io::ErrorKind::InvalidData, "bad echo")),
    }
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = load_config("tcp-crr", args)?;
    let mut latencies: Vec<u64> = Vec::with_capacity(cfg.count.min(1 << 22) as usize);
    let mut errors = 0u64;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    while (latencies.len() as u64 + errors) < cfg.count
        && Instant::now() < deadline
        && !sys::stop_requested()
    {
        let began = Instant::now();
        // The stream is dropped (closed) inside, so the latency includes close().
        match transaction(cfg.dst) {
            Ok(()) => latencies.push(began.elapsed().as_nanos() as u64),
            Err(_) if sys::stop_requested() => break,
            Err(_) => errors += 1,
        }
    }
    Ok(latency_report(
        &mut latencies,
        errors,
        start.elapsed().as_secs_f64(),
    ))
}
