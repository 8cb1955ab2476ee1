//! `tcp-stream`: send 256 KiB writes on one connection for --seconds, half-close, then read until
//! the sink's FIN, so every byte counted was read by the sink (netperf TCP_STREAM).

use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::json::JsonLine;
use crate::sys;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

pub const USAGE: &str = "tcp-stream --dst <ip> --port P [--seconds S]";

/// Connect, send and receive timeout: a stall this long fails the run.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_BYTES: usize = 256 * 1024;
const FILL: u8 = 0xa5;

struct Config {
    dst: SocketAddr,
    seconds: f64,
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse("tcp-stream", args, &["dst", "port", "seconds"], &[])?;
    Ok(Config {
        dst: SocketAddr::new(o.ip("dst")?, o.required("port")?),
        seconds: o.seconds(10.0, 10.0)?,
    })
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let dst = cfg.dst;
    let mut stream =
        super::tcp_rr::connect(dst, SOCKET_TIMEOUT, false).doing(|| format!("connect to {dst}"))?;
    let buf = vec![FILL; WRITE_BYTES];
    let mut sent = 0u64;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    while Instant::now() < deadline && !sys::stop_requested() {
        match stream.write_all(&buf) {
            Ok(()) => sent += WRITE_BYTES as u64,
            Err(_) if sys::stop_requested() => break,
            Err(err) => return Err(err).doing(|| format!("send to {dst}")),
        }
    }
    stream
        .shutdown(Shutdown::Write)
        .doing(|| format!("shutdown(SHUT_WR) to {dst}"))?;
    // The sink closes after it has read everything.
    let mut inbox = vec![0u8; 65_536];
    loop {
        match stream.read(&mut inbox) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted && !sys::stop_requested() => {}
            Err(err) => return Err(err).doing(|| format!("wait for the FIN of {dst}")),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(stream);
    Ok(JsonLine::new()
        .int("bytes", sent)
        .num("seconds", seconds, 3)
        .int("bps", (sent as f64 * 8.0 / seconds).round() as u64)
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_and_rejects() {
        let c = config(&args(&[
            "--dst",
            "[fd00::1]",
            "--port",
            "9",
            "--seconds",
            "3",
        ]))
        .unwrap();
        assert_eq!(c.dst, "[fd00::1]:9".parse().unwrap());
        assert_eq!(c.seconds, 3.0);
        assert!(config(&args(&["--dst", "fd00::1", "--port", "9", "--count", "3"])).is_err());
        assert!(config(&args(&["--dst", "fd00::1"])).is_err());
    }
}
