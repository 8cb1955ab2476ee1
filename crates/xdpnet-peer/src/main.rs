//! xdpnet-peer: the kernel-side UDP load generator, sink, ping-pong client and echo server, the TCP
//! request/response, connect/request/response, many-connection echo and bulk clients (`tcp-rr`,
//! `tcp-crr`, `tcp-echo`, `tcp-stream`) of the xdpnet test bed, run in the peer namespace with
//! `ip netns exec`, and the impairing L2 wire (`wire`) that stands in for netem between the engine
//! and the peer.
//!
//! Every command ends by printing exactly one JSON line on stdout (on failure
//! `{"error":..,"code":..}`); progress and diagnostics go to stderr. The latency commands
//! (`udp-rr`, `tcp-rr`, `tcp-crr`, `tcp-echo`) add every sample as an encoded HdrHistogram.

mod cli;
mod cmd;
mod error;
mod histogram;
mod json;
mod mmsg;
mod net;
mod pacer;
mod pattern;
mod percentile;
mod seqtrack;
mod sys;

use error::Failure;
use json::JsonLine;
use std::process::ExitCode;

fn usage() -> String {
    format!(
        "usage: xdpnet-peer <command> [options]\n\n  {}\n  {}\n  {}\n  {}\n  {}\n  {}\n  {}\n  {}\n  {}\n  {}\n\n\
Payload: bytes 0..8 = sequence number (u64 big endian), byte i >= 8 = (seq + i) & 0xff.\n\
Without --count a run stops after --seconds (default 10; 60 with --count).\n\
Each command prints one JSON line on stdout at the end.",
        cmd::flood::USAGE,
        cmd::sink::USAGE,
        cmd::udp_rr::USAGE,
        cmd::udp_echo::USAGE,
        cmd::tcp_rr::USAGE,
        cmd::tcp_crr::USAGE,
        cmd::tcp_echo::USAGE,
        cmd::tcp_stream::USAGE,
        cmd::wire::USAGE,
        cmd::fuzz::USAGE
    )
}

fn run(args: &[String]) -> Result<String, Failure> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Failure::usage("missing command"));
    };
    match command.as_str() {
        "flood" => cmd::flood::run(rest),
        "fuzz" => cmd::fuzz::run(rest),
        "sink" => cmd::sink::run(rest),
        "udp-rr" => cmd::udp_rr::run(rest),
        "tcp-rr" => cmd::tcp_rr::run(rest),
        "tcp-crr" => cmd::tcp_crr::run(rest),
        "tcp-echo" => cmd::tcp_echo::run(rest),
        "tcp-stream" => cmd::tcp_stream::run(rest),
        "udp-echo" => cmd::udp_echo::run(rest),
        "wire" => cmd::wire::run(rest),
        other => Err(Failure::usage(format!("unknown command {other:?}"))),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", usage());
        return ExitCode::SUCCESS;
    }
    if let Err(err) = sys::install_stop_handler() {
        eprintln!("xdpnet-peer: could not install SIGINT/SIGTERM handlers: {err}");
    }
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("xdpnet-peer: {failure}");
            let line = JsonLine::new()
                .string("error", &failure.to_string())
                .string("code", failure.code())
                .finish();
            println!("{line}");
            ExitCode::from(if matches!(failure, Failure::Usage(_)) {
                2
            } else {
                1
            })
        }
    }
}
