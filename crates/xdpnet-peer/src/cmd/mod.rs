//! One module per command; each parses its own options and returns its JSON line.

pub mod flood;
pub mod fuzz;
pub mod sink;
pub mod tcp_crr;
pub mod tcp_echo;
pub mod tcp_rr;
pub mod tcp_stream;
pub mod udp_echo;
pub mod udp_rr;
pub mod wire;
