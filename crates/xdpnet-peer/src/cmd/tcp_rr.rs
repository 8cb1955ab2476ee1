//! `tcp-rr`: 1-byte ping-pong on one TCP_NODELAY connection, one request in flight, after 100
//! warm-up round trips (netperf TCP_RR). Also the latency report `tcp-crr` shares.

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::histogram;
use crate::json::JsonLine;
use crate::percentile;
use crate::sys;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

pub const USAGE: &str = "tcp-rr --dst <ip> --port P [--count N] [--seconds S]";

/// Connect, send and receive timeout of the one connection; a stall this long fails the run.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(5);
/// Round trips before the measurement: ARP/ND, slow start, JIT on the server side.
const WARM_UP: u32 = 100;
const REQUEST: u8 = b'x';

/// Where to go and how long: `--count` round trips (unbounded if absent) within `--seconds`.
#[derive(Debug, PartialEq)]
pub struct LoadConfig {
    pub dst: SocketAddr,
    pub count: u64,
    pub seconds: f64,
}

pub fn load_config(command: &'static str, args: &[String]) -> Result<LoadConfig, Failure> {
    let o = Options::parse(command, args, &["dst", "port", "count", "seconds"], &[])?;
    Ok(LoadConfig {
        dst: SocketAddr::new(o.ip("dst")?, o.required("port")?),
        count: o.get("count")?.unwrap_or(u64::MAX),
        seconds: o.seconds(60.0, 10.0)?,
    })
}

/// A stream connected to `dst` within `timeout`, with TCP_NODELAY and `timeout` for every send
/// and receive.
pub fn connect(dst: SocketAddr, timeout: Duration, nodelay: bool) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&dst, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    if nodelay {
        stream.set_nodelay(true)?;
    }
    Ok(stream)
}

/// Reads one byte; `None` when the peer closed. Retries EINTR unless a stop was requested.
pub fn read_byte(stream: &mut TcpStream) -> io::Result<Option<u8>> {
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(byte[0])),
            Err(err) if err.kind() == io::ErrorKind::Interrupted && !sys::stop_requested() => {}
            Err(err) => return Err(err),
        }
    }
}

/// The JSON line of tcp-rr, tcp-crr and tcp-echo: completed requests, failed ones, wall time,
/// rate, latency percentiles in microseconds (null without samples) and every latency as an
/// encoded HdrHistogram in nanoseconds (`histogram`).
pub fn latency_report(latencies_ns: &mut [u64], errors: u64, seconds: f64) -> String {
    let requests = latencies_ns.len() as u64;
    let encoded = histogram::encode_ns(latencies_ns);
    let summary = percentile::summarise(latencies_ns);
    let us = |pick: fn(&percentile::Summary) -> u64| {
        summary
            .as_ref()
            .map_or(f64::NAN, |s| pick(s) as f64 / 1000.0)
    };
    let rps = if seconds > 0.0 {
        (requests as f64 / seconds).round() as u64
    } else {
        0
    };
    JsonLine::new()
        .int("requests", requests)
        .int("errors", errors)
        .num("seconds", seconds, 3)
        .int("rps", rps)
        .num("p50_us", us(|s| s.p50), 1)
        .num("p99_us", us(|s| s.p99), 1)
        .num("p999_us", us(|s| s.p999), 1)
        .string("histogram", &encoded)
        .finish()
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = load_config("tcp-rr", args)?;
    let mut stream =
        connect(cfg.dst, SOCKET_TIMEOUT, true).doing(|| format!("connect to {}", cfg.dst))?;
    for _ in 0..WARM_UP {
        stream
            .write_all(&[REQUEST])
            .doing(|| format!("warm-up send to {}", cfg.dst))?;
        if read_byte(&mut stream)
            .doing(|| format!("warm-up recv from {}", cfg.dst))?
            .is_none()
        {
            return Err(Failure::Os {
                doing: format!("warm-up recv from {}", cfg.dst),
                err: io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed"),
            });
        }
    }
    let mut latencies: Vec<u64> = Vec::with_capacity(cfg.count.min(1 << 22) as usize);
    let mut errors = 0u64;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    while (latencies.len() as u64) < cfg.count && !sys::stop_requested() {
        let sent_at = Instant::now();
        stream
            .write_all(&[REQUEST])
            .doing(|| format!("send to {}", cfg.dst))?;
        match read_byte(&mut stream) {
            Ok(Some(REQUEST)) => {}
            // A wrong byte or the server's FIN ends the run with one error.
            Ok(_) => {
                errors += 1;
                break;
            }
            Err(_) if sys::stop_requested() => break,
            Err(err) => return Err(err).doing(|| format!("recv from {}", cfg.dst)),
        }
        let now = Instant::now();
        latencies.push((now - sent_at).as_nanos() as u64);
        if now >= deadline {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(stream);
    Ok(latency_report(&mut latencies, errors, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_v4_and_v6_with_bounds() {
        let c = load_config(
            "tcp-rr",
            &args(&[
                "--dst",
                "10.0.0.1",
                "--port",
                "7",
                "--count=5",
                "--seconds",
                "2",
            ]),
        )
        .unwrap();
        assert_eq!(c.dst, "10.0.0.1:7".parse().unwrap());
        assert_eq!((c.count, c.seconds), (5, 2.0));
        let c = load_config("tcp-rr", &args(&["--dst", "fd00::2", "--port", "7"])).unwrap();
        assert_eq!(c.dst, "[fd00::2]:7".parse().unwrap());
        assert_eq!((c.count, c.seconds), (u64::MAX, 10.0));
    }

    #[test]
    fn rejects_bad_arguments() {
        let bad = |list: &[&str]| load_config("tcp-rr", &args(list)).is_err();
        assert!(bad(&["--port", "7"]));
        assert!(bad(&["--dst", "10.0.0.1"]));
        assert!(bad(&["--dst", "host", "--port", "7"]));
        assert!(bad(&["--dst", "10.0.0.1", "--port", "70000"]));
        assert!(bad(&["--dst", "10.0.0.1", "--port", "7", "--seconds", "0"]));
        assert!(bad(&["10.0.0.1", "7"]));
    }

    #[test]
    fn reports_like_tcp_load_py() {
        let mut lat: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let histogram = histogram::encode_ns(&lat);
        assert_eq!(
            latency_report(&mut lat, 1, 2.0),
            format!(
                r#"{{"requests":1000,"errors":1,"seconds":2.000,"rps":500,"p50_us":500.0,"p99_us":990.0,"p999_us":999.0,"histogram":"{histogram}"}}"#
            )
        );
        let empty = histogram::encode_ns(&[]);
        assert_eq!(
            latency_report(&mut [], 3, 1.5),
            format!(
                r#"{{"requests":0,"errors":3,"seconds":1.500,"rps":0,"p50_us":null,"p99_us":null,"p999_us":null,"histogram":"{empty}"}}"#
            )
        );
    }
}
