//! `tcp-echo`: many TCP_NODELAY connections to an echo server, each with one `--size`-byte request
//! outstanding at a time (a request is answered when all its bytes are back), driven by one
//! level-triggered epoll loop. Each connection first does 20 blocking round trips (warm-up); the
//! measurement then runs until `--count` requests were answered or `--seconds` passed. The
//! latency of a request is from its send to its last byte back.
//!
//! A connection that cannot be opened or warmed up, or that the server closes (EOF) or breaks
//! (a reset) during the run, counts as one error and is left out from then on; the others go on.

use super::tcp_rr::{connect, latency_report};
use crate::cli::Options;
use crate::error::{Context, Failure};
use crate::sys::{self, Epoll};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

pub const USAGE: &str = "tcp-echo --dst <ip> --port P --conns N --size B [--count N] [--seconds S]";

/// Connect, send and receive timeout of each connection while it is set up and warmed up.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(5);
/// Blocking round trips on each connection before the measurement: slow start, JIT on the
/// server side.
const WARM_UP: u32 = 20;
/// Longest epoll wait, so the deadline and the stop flag are looked at even when nothing moves.
const POLL_TIMEOUT: Duration = Duration::from_secs(1);
/// One read per readiness event, of at most this many bytes.
const READ_BYTES: usize = 65_536;
const MAX_CONNS: usize = 65_535;
const MAX_SIZE: usize = 1 << 20;

#[derive(Debug, PartialEq)]
struct Config {
    dst: SocketAddr,
    conns: usize,
    size: usize,
    count: u64,
    seconds: f64,
}

fn config(args: &[String]) -> Result<Config, Failure> {
    let o = Options::parse(
        "tcp-echo",
        args,
        &["dst", "port", "conns", "size", "count", "seconds"],
        &[],
    )?;
    let conns: usize = o.required("conns")?;
    if !(1..=MAX_CONNS).contains(&conns) {
        return Err(Failure::usage(format!(
            "tcp-echo: --conns must be 1..={MAX_CONNS}"
        )));
    }
    let size: usize = o.required("size")?;
    if !(1..=MAX_SIZE).contains(&size) {
        return Err(Failure::usage(format!(
            "tcp-echo: --size must be 1..={MAX_SIZE}"
        )));
    }
    Ok(Config {
        dst: SocketAddr::new(o.ip("dst")?, o.required("port")?),
        conns,
        size,
        count: o.get("count")?.unwrap_or(u64::MAX),
        seconds: o.seconds(60.0, 10.0)?,
    })
}

/// The request every connection sends: bytes 0, 1, 2, ... (mod 256).
fn request(size: usize) -> Vec<u8> {
    (0..size).map(|i| i as u8).collect()
}

/// A blocking, warmed-up connection: connect, TCP_NODELAY, WARM_UP round trips.
fn open(dst: SocketAddr, msg: &[u8], inbox: &mut [u8]) -> io::Result<TcpStream> {
    let mut stream = connect(dst, SOCKET_TIMEOUT, true)?;
    for _ in 0..WARM_UP {
        stream.write_all(msg)?;
        let mut got = 0;
        while got < msg.len() {
            let want = (msg.len() - got).min(inbox.len());
            match stream.read(&mut inbox[..want]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted && !sys::stop_requested() => {}
                Err(err) => return Err(err),
            }
        }
    }
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// One connection in the measurement.
struct Conn {
    stream: TcpStream,
    /// When the outstanding request was sent.
    sent_at: Instant,
    /// Bytes of its echo received so far.
    got: usize,
    /// Bytes of the request not yet accepted by the kernel (only when the send buffer is full).
    unsent: usize,
    /// Whether epoll also watches for EPOLLOUT (while `unsent` > 0).
    watching_out: bool,
}

impl Conn {
    /// Sends what is left of the request without blocking; watches for EPOLLOUT while some is.
    fn flush(&mut self, msg: &[u8], epoll: &Epoll, token: u64) -> io::Result<()> {
        while self.unsent > 0 {
            match self.stream.write(&msg[msg.len() - self.unsent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.unsent -= n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        let want_out = self.unsent > 0;
        if want_out != self.watching_out {
            let events = if want_out {
                libc::EPOLLIN | libc::EPOLLOUT
            } else {
                libc::EPOLLIN
            };
            epoll.modify(self.stream.as_fd(), events as u32, token)?;
            self.watching_out = want_out;
        }
        Ok(())
    }

    /// One read. `Ok(true)` when it completed the outstanding request.
    fn receive(&mut self, size: usize, inbox: &mut [u8]) -> io::Result<bool> {
        match self.stream.read(inbox) {
            Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                self.got += n;
                Ok(self.got >= size)
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }
}

/// How long epoll may wait: POLL_TIMEOUT, or less if the deadline is nearer (rounded up to a
/// millisecond so a wait never ends just short of it).
fn wait_ms(deadline: Instant, now: Instant) -> i32 {
    let left = deadline.saturating_duration_since(now).min(POLL_TIMEOUT);
    left.as_micros().div_ceil(1000) as i32
}

pub fn run(args: &[String]) -> Result<String, Failure> {
    let cfg = config(args)?;
    let dst = cfg.dst;
    let msg = request(cfg.size);
    let mut inbox = vec![0u8; READ_BYTES];
    let mut errors = 0u64;

    // Connections are opened and warmed up one after another, as blocking sockets.
    let mut streams = Vec::with_capacity(cfg.conns);
    for i in 0..cfg.conns {
        if sys::stop_requested() {
            break;
        }
        match open(dst, &msg, &mut inbox) {
            Ok(stream) => streams.push(stream),
            Err(err) => {
                errors += 1;
                eprintln!("xdpnet-peer tcp-echo: connection {i} to {dst}: {err}");
            }
        }
    }

    let epoll = Epoll::new().doing(|| "epoll_create1".to_string())?;
    let mut latencies: Vec<u64> = Vec::with_capacity(cfg.count.min(1 << 22) as usize);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(cfg.seconds);
    let mut conns: Vec<Option<Conn>> = Vec::with_capacity(streams.len());
    for (token, stream) in streams.into_iter().enumerate() {
        let token = token as u64;
        epoll
            .add(stream.as_fd(), libc::EPOLLIN as u32, token)
            .doing(|| "epoll_ctl(EPOLL_CTL_ADD)".to_string())?;
        let mut conn = Conn {
            stream,
            sent_at: Instant::now(),
            got: 0,
            unsent: cfg.size,
            watching_out: false,
        };
        match conn.flush(&msg, &epoll, token) {
            Ok(()) => conns.push(Some(conn)),
            Err(_) => {
                errors += 1;
                let _ = epoll.delete(conn.stream.as_fd());
                conns.push(None);
            }
        }
    }

    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; conns.len().max(1)];
    'run: while (latencies.len() as u64) < cfg.count && !sys::stop_requested() {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let ready = match epoll.wait(&mut events, wait_ms(deadline, now)) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err).doing(|| "epoll_wait".to_string()),
        };
        for event in &events[..ready] {
            // Copies out of the (packed) epoll_event.
            let (flags, token) = (event.events, event.u64);
            let slot = &mut conns[token as usize];
            let Some(conn) = slot.as_mut() else {
                continue;
            };
            let mut result = Ok(());
            if flags & libc::EPOLLOUT as u32 != 0 {
                result = conn.flush(&msg, &epoll, token);
            }
            if result.is_ok() && flags & !(libc::EPOLLOUT as u32) != 0 {
                result = match conn.receive(cfg.size, &mut inbox) {
                    Ok(true) => {
                        let now = Instant::now();
                        latencies.push((now - conn.sent_at).as_nanos() as u64);
                        conn.sent_at = now;
                        // Bytes beyond this request's (a server that echoes more) carry over.
                        conn.got -= cfg.size;
                        conn.unsent = cfg.size;
                        if latencies.len() as u64 >= cfg.count {
                            break 'run;
                        }
                        conn.flush(&msg, &epoll, token)
                    }
                    Ok(false) => Ok(()),
                    Err(err) => Err(err),
                };
            }
            if result.is_err() {
                // EOF, a reset or a failed send: this connection is done.
                errors += 1;
                let _ = epoll.delete(conn.stream.as_fd());
                *slot = None;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(conns);
    Ok(latency_report(&mut latencies, errors, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_with_bounds_and_defaults() {
        let c = config(&args(&[
            "--dst",
            "10.0.0.1",
            "--port",
            "7",
            "--conns",
            "32",
            "--size=64",
            "--count",
            "1000",
            "--seconds",
            "3",
        ]))
        .unwrap();
        assert_eq!(
            c,
            Config {
                dst: "10.0.0.1:7".parse().unwrap(),
                conns: 32,
                size: 64,
                count: 1000,
                seconds: 3.0,
            }
        );
        let c = config(&args(&[
            "--dst",
            "[fd00::2]",
            "--port",
            "7",
            "--conns",
            "1",
            "--size",
            "1",
        ]))
        .unwrap();
        assert_eq!(c.dst, "[fd00::2]:7".parse().unwrap());
        assert_eq!((c.count, c.seconds), (u64::MAX, 10.0));
    }

    #[test]
    fn rejects_bad_arguments() {
        let base = ["--dst", "10.0.0.1", "--port", "7"];
        let bad = |more: &[&str]| {
            let mut list = base.to_vec();
            list.extend_from_slice(more);
            config(&args(&list)).is_err()
        };
        assert!(!bad(&["--conns", "2", "--size", "64"]));
        assert!(bad(&["--size", "64"]));
        assert!(bad(&["--conns", "2"]));
        assert!(bad(&["--conns", "0", "--size", "64"]));
        assert!(bad(&["--conns", "2", "--size", "0"]));
        assert!(bad(&["--conns", "2", "--size", "2000000"]));
        assert!(bad(&["--conns", "2", "--size", "64", "--seconds", "0"]));
        assert!(bad(&["--conns", "2", "--size", "64", "--count", "-1"]));
        assert!(bad(&["--conns", "2", "--size", "64", "--rate", "5"]));
    }

    #[test]
    fn request_counts_up_and_wraps() {
        let r = request(258);
        assert_eq!((r[0], r[1], r[255], r[256], r[257]), (0, 1, 255, 0, 1));
    }

    #[test]
    fn wait_is_capped_and_rounded_up() {
        let now = Instant::now();
        assert_eq!(wait_ms(now + Duration::from_secs(5), now), 1000);
        assert_eq!(wait_ms(now + Duration::from_micros(1500), now), 2);
        assert_eq!(wait_ms(now, now + Duration::from_secs(1)), 0);
    }

    /// An echo server on loopback that serves `conns` connections, each on its own thread, and
    /// closes connection 0 after `close_first_after` bytes when given.
    fn echo_server(conns: usize, close_first_after: Option<usize>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for i in 0..conns {
                let (mut s, _) = listener.accept().unwrap();
                let limit = if i == 0 { close_first_after } else { None };
                thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut echoed = 0;
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        echoed += n;
                        if limit.is_some_and(|l| echoed >= l) {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    fn field(line: &str, key: &str) -> String {
        let start = line.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
        let rest = &line[start..];
        rest[..rest.find([',', '}']).unwrap()].to_string()
    }

    #[test]
    fn echoes_until_the_count_on_loopback() {
        let addr = echo_server(4, None);
        let line = run(&args(&[
            "--dst",
            "127.0.0.1",
            "--port",
            &addr.port().to_string(),
            "--conns",
            "4",
            "--size",
            "300",
            "--count",
            "2000",
            "--seconds",
            "20",
        ]))
        .unwrap();
        assert_eq!(field(&line, "requests"), "2000", "{line}");
        assert_eq!(field(&line, "errors"), "0", "{line}");
        assert_ne!(field(&line, "p50_us"), "null", "{line}");
    }

    #[test]
    fn counts_a_closed_connection_and_a_refused_one_as_errors() {
        // Connection 0 is closed by the server after warm-up and 5 requests; the others go on.
        let addr = echo_server(3, Some((WARM_UP as usize + 5) * 64));
        let line = run(&args(&[
            "--dst",
            "127.0.0.1",
            "--port",
            &addr.port().to_string(),
            "--conns",
            "3",
            "--size",
            "64",
            "--count",
            "500",
            "--seconds",
            "20",
        ]))
        .unwrap();
        assert_eq!(field(&line, "requests"), "500", "{line}");
        assert_eq!(field(&line, "errors"), "1", "{line}");

        // Nothing listens on a port just released: every connection fails, the run still reports.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let line = run(&args(&[
            "--dst",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--conns",
            "2",
            "--size",
            "64",
            "--seconds",
            "0.2",
        ]))
        .unwrap();
        assert_eq!(
            (field(&line, "requests"), field(&line, "errors")),
            ("0".to_string(), "2".to_string()),
            "{line}"
        );
    }
}
