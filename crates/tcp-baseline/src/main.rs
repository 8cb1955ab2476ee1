//! xdpnet-smoltcp-bench: the smoltcp baseline of `xdpnet perf mem-tcp-stream` and `mem-tcp-rr`.
//!
//! The same workload as the engine's pure-stack modes: two smoltcp interfaces (two MACs, two
//! IPv4 addresses) on an in-memory pair, one thread, no kernel, checksums computed on transmit
//! and verified on receive, socket buffers as given on the command line (the TypeScript side
//! passes the engine's TCP defaults).
//!
//!   stream --bytes N   A sends N bytes to B; B checks every byte against the pattern.
//!   rr --seconds S     1-byte request, 1-byte response on one connection, for S seconds
//!      [--count N]     (or N round trips); every latency goes out as an encoded HdrHistogram.
//!
//! With `--interval S`, a line `progress <packets>` goes to stderr every S seconds: data segments
//! sent (stream) or frames both ends sent (rr), so far.
//!
//! Prints one JSON object on stdout; on failure `{"error":..,"code":..}` and exit status 1
//! (2 for a usage error).

// The peer tool's encoding, so the perf harness decodes the two tools' histograms alike.
#[path = "../../xdpnet-peer/src/histogram.rs"]
mod histogram;
mod wire;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, Ipv4Address};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

const A_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x1a];
const B_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x1b];
const A_IP: Ipv4Address = Ipv4Address::new(198, 18, 15, 1);
const B_IP: Ipv4Address = Ipv4Address::new(198, 18, 15, 2);
const PORT: u16 = 9000;
const CLIENT_PORT: u16 = 49152;
/// A prime period, so a segment delivered at the wrong offset does not match by accident.
const PERIOD: usize = 65_521;
/// Largest slice sent or checked at once; the pattern buffer is PERIOD + CHUNK long.
const CHUNK: usize = 65_536;
/// A run that moves nothing for this long has wedged.
const STALL: Duration = Duration::from_secs(10);

struct Failure {
    message: String,
    code: &'static str,
}

fn fail<T>(code: &'static str, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
        code,
    })
}

struct Args {
    command: String,
    bytes: u64,
    seconds: f64,
    count: u64,
    interval: f64,
    mtu: usize,
    rx_buffer: usize,
    tx_buffer: usize,
}

fn parse_args() -> Result<Args, Failure> {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        return fail("EUSAGE", "usage: xdpnet-smoltcp-bench <stream|rr> [--bytes N] [--seconds S] [--count N] [--interval S] [--mtu M] [--rx-buffer B] [--tx-buffer B]");
    };
    let mut args = Args {
        command,
        bytes: 1 << 30,
        seconds: 5.0,
        count: 0,
        interval: 0.0,
        mtu: 1500,
        rx_buffer: 128 * 1024,
        tx_buffer: 256 * 1024,
    };
    while let Some(name) = argv.next() {
        let Some(value) = argv.next() else {
            return fail("EUSAGE", format!("{name} needs a value"));
        };
        let bad = || Failure {
            message: format!("{name}: bad value {value:?}"),
            code: "EUSAGE",
        };
        match name.as_str() {
            "--bytes" => args.bytes = value.parse().map_err(|_| bad())?,
            "--seconds" => args.seconds = value.parse().map_err(|_| bad())?,
            "--count" => args.count = value.parse().map_err(|_| bad())?,
            "--interval" => args.interval = value.parse().map_err(|_| bad())?,
            "--mtu" => args.mtu = value.parse().map_err(|_| bad())?,
            "--rx-buffer" => args.rx_buffer = value.parse().map_err(|_| bad())?,
            "--tx-buffer" => args.tx_buffer = value.parse().map_err(|_| bad())?,
            _ => return fail("EUSAGE", format!("unknown option {name}")),
        }
    }
    if args.mtu < 576 || args.rx_buffer == 0 || args.tx_buffer == 0 {
        return fail(
            "EUSAGE",
            "--mtu must be at least 576 and the buffers nonzero",
        );
    }
    Ok(args)
}

/// Monotonic time since the first call: smoltcp's own Instant::now() reads the wall clock.
fn elapsed() -> Duration {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

fn now() -> Instant {
    Instant::from_micros(elapsed().as_micros() as i64)
}

/// `progress <packets>` lines on stderr, one per interval (none for interval 0).
struct Progress {
    every: Option<Duration>,
    next: Duration,
}

impl Progress {
    fn new(interval: f64) -> Progress {
        let every = (interval > 0.0).then(|| Duration::from_secs_f64(interval));
        Progress {
            every,
            next: elapsed() + every.unwrap_or_default(),
        }
    }

    /// Prints `packets()` when the interval has passed.
    fn tick(&mut self, packets: impl FnOnce() -> u64) {
        let Some(every) = self.every else { return };
        let now = elapsed();
        if now >= self.next {
            eprintln!("progress {}", packets());
            self.next = now + every;
        }
    }
}

fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// The stream's content: byte i of the stream is pattern[i % PERIOD].
fn pattern() -> Vec<u8> {
    (0..PERIOD + CHUNK)
        .map(|i| {
            let k = (i % PERIOD) as u32;
            (k.wrapping_mul(2_654_435_761) >> 24) as u8
        })
        .collect()
}

/// One side: its device end, interface and its one socket.
struct Side {
    end: wire::End,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
}

impl Side {
    fn new(end: wire::End, mac: [u8; 6], ip: Ipv4Address, args: &Args) -> Side {
        let mut end = end;
        let config = Config::new(EthernetAddress(mac).into());
        let mut iface = Interface::new(config, &mut end, now());
        iface.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::Ipv4(ip), 24))
                .expect("one address fits");
        });
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; args.rx_buffer]),
            tcp::SocketBuffer::new(vec![0; args.tx_buffer]),
        );
        // No TCP timestamps (smoltcp's default): smoltcp 0.12 sizes a segment's payload as MTU
        // - 40, not counting the 12 bytes of the timestamp option, so with a tsval generator a
        // full segment exceeds MTU 1500 and is never sent. Its segments carry 1460 bytes, the
        // engine's (timestamps on) 1448.
        let mut sockets = SocketSet::new(Vec::new());
        let handle = sockets.add(socket);
        Side {
            end,
            iface,
            sockets,
            handle,
        }
    }

    fn poll(&mut self) {
        self.iface.poll(now(), &mut self.end, &mut self.sockets);
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.handle)
    }
}

/// A connected pair: A (client) connected to B (server), both ESTABLISHED.
fn connected(args: &Args) -> Result<(Side, Side), Failure> {
    let (end_a, end_b) = wire::pair(args.mtu);
    let mut a = Side::new(end_a, A_MAC, A_IP, args);
    let mut b = Side::new(end_b, B_MAC, B_IP, args);
    if let Err(e) = b.socket().listen(PORT) {
        return fail("EADDRINUSE", format!("listen: {e}"));
    }
    let cx = a.iface.context();
    let socket = a.sockets.get_mut::<tcp::Socket>(a.handle);
    if let Err(e) = socket.connect(cx, (IpAddress::Ipv4(B_IP), PORT), CLIENT_PORT) {
        return fail("ECONNREFUSED", format!("connect: {e}"));
    }
    let deadline = elapsed() + STALL;
    loop {
        a.poll();
        b.poll();
        if a.socket().state() == tcp::State::Established
            && b.socket().state() == tcp::State::Established
        {
            return Ok((a, b));
        }
        if elapsed() > deadline {
            return fail("ETIMEDOUT", "the handshake did not complete");
        }
    }
}

fn stream(args: &Args) -> Result<String, Failure> {
    let pattern = pattern();
    let (mut a, mut b) = connected(args)?;
    let total = args.bytes;
    let mut sent: u64 = 0;
    let mut received: u64 = 0;
    let mut corrupt = false;
    let t0 = elapsed();
    let cpu0 = thread_cpu_seconds();
    let segments0 = a.end.data_segments;
    let mut last_progress = t0;
    let mut progress = Progress::new(args.interval);
    while received < total {
        a.poll();
        b.poll();
        progress.tick(|| a.end.data_segments - segments0);
        let socket = a.socket();
        while sent < total && socket.can_send() {
            let at = (sent % PERIOD as u64) as usize;
            let left = total - sent;
            let n = socket
                .send(|buf| {
                    let n = buf.len().min(CHUNK).min(left as usize);
                    buf[..n].copy_from_slice(&pattern[at..at + n]);
                    (n, n)
                })
                .map_err(|e| Failure {
                    message: format!("send: {e}"),
                    code: "EPIPE",
                })?;
            sent += n as u64;
        }
        let socket = b.socket();
        while socket.can_recv() {
            let at = (received % PERIOD as u64) as usize;
            let (n, ok) = socket
                .recv(|buf| {
                    let n = buf.len().min(CHUNK);
                    (n, (n, buf[..n] == pattern[at..at + n]))
                })
                .map_err(|e| Failure {
                    message: format!("recv: {e}"),
                    code: "ECONNRESET",
                })?;
            corrupt |= !ok;
            received += n as u64;
            last_progress = elapsed();
        }
        if elapsed() - last_progress > STALL {
            return fail(
                "ETIMEDOUT",
                format!("stalled at {received} of {total} bytes"),
            );
        }
    }
    let seconds = (elapsed() - t0).as_secs_f64();
    let cpu = thread_cpu_seconds() - cpu0;
    if corrupt {
        return fail(
            "EBADMSG",
            "the receiver saw bytes that differ from what was sent",
        );
    }
    Ok(format!(
        "{{\"workload\":\"stream\",\"bytes\":{received},\"seconds\":{seconds:.6},\"dataSegments\":{},\"cpuSeconds\":{cpu:.6},\"bps\":{:.0},\"mtu\":{},\"rxBuffer\":{},\"txBuffer\":{}}}",
        a.end.data_segments - segments0,
        received as f64 * 8.0 / seconds,
        args.mtu,
        args.rx_buffer,
        args.tx_buffer,
    ))
}

fn rr(args: &Args) -> Result<String, Failure> {
    let (mut a, mut b) = connected(args)?;
    let limit = Duration::from_secs_f64(args.seconds);
    let mut latencies_ns: Vec<u64> = Vec::new();
    let mut requests: u64 = 0;
    let mut outstanding = false;
    let mut asked_at = Duration::ZERO;
    let t0 = elapsed();
    let cpu0 = thread_cpu_seconds();
    let frames0 = a.end.frames + b.end.frames;
    let mut progress = Progress::new(args.interval);
    let mut one = [0u8; 1];
    loop {
        progress.tick(|| a.end.frames + b.end.frames - frames0);
        let t = elapsed();
        if !outstanding {
            let done = if args.count > 0 {
                requests >= args.count
            } else {
                t - t0 >= limit
            };
            if done {
                break;
            }
            let request = [requests as u8];
            if a.socket().send_slice(&request).ok() != Some(1) {
                return fail("EPIPE", "the request did not fit");
            }
            outstanding = true;
            asked_at = t;
        }
        a.poll();
        b.poll();
        let server = b.socket();
        if server.can_recv() {
            // The server echoes the request byte: the client checks it came back.
            let n = server.recv_slice(&mut one).unwrap_or(0);
            if n == 1 && server.send_slice(&one).ok() != Some(1) {
                return fail("EPIPE", "the response did not fit");
            }
        }
        let client = a.socket();
        if client.can_recv() {
            let n = client.recv_slice(&mut one).unwrap_or(0);
            if n == 1 {
                if one[0] != requests as u8 {
                    return fail(
                        "EBADMSG",
                        format!("response {} to request {requests}", one[0]),
                    );
                }
                latencies_ns.push((elapsed() - asked_at).as_nanos() as u64);
                requests += 1;
                outstanding = false;
            }
        }
        if outstanding && elapsed() - asked_at > STALL {
            return fail("ETIMEDOUT", format!("request {requests} got no response"));
        }
    }
    let seconds = (elapsed() - t0).as_secs_f64();
    let cpu = thread_cpu_seconds() - cpu0;
    let frames = a.end.frames + b.end.frames - frames0;
    let encoded = histogram::encode_ns(&latencies_ns);
    latencies_ns.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies_ns.is_empty() {
            return 0.0;
        }
        let i = ((latencies_ns.len() as f64 * p).ceil() as usize).clamp(1, latencies_ns.len());
        latencies_ns[i - 1] as f64 / 1e3
    };
    Ok(format!(
        "{{\"workload\":\"rr\",\"requests\":{requests},\"seconds\":{seconds:.6},\"cpuSeconds\":{cpu:.6},\"rps\":{:.0},\"p50_us\":{:.3},\"p99_us\":{:.3},\"p999_us\":{:.3},\"frames\":{frames},\"histogram\":\"{encoded}\",\"mtu\":{},\"rxBuffer\":{},\"txBuffer\":{}}}",
        requests as f64 / seconds,
        pct(0.5),
        pct(0.99),
        pct(0.999),
        args.mtu,
        args.rx_buffer,
        args.tx_buffer,
    ))
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| match args.command.as_str() {
        "stream" => stream(&args),
        "rr" => rr(&args),
        other => fail(
            "EUSAGE",
            format!("unknown workload {other:?}: stream or rr"),
        ),
    });
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            let message = f.message.replace('\\', "\\\\").replace('"', "\\\"");
            println!("{{\"error\":\"{message}\",\"code\":\"{}\"}}", f.code);
            ExitCode::from(if f.code == "EUSAGE" { 2 } else { 1 })
        }
    }
}
