//! node-xdp: AF_XDP sockets, UMEM, our own XDP program and batched ring calls for Node.js.
//!
//! Module map (one concept per file):
//! - `error`   errno -> JS `Error` with `code` and an actionable message
//! - `sys`     thin safe wrappers around the raw syscalls (mmap, setsockopt, ioctl)
//! - `ethtool` the ethtool ioctl's UAPI structs, one safe call per command
//! - `genetlink` generic netlink: the netdev family's XDP and AF_XDP features of a device
//! - `ifinfo`  interface facts: ifindex, MAC, MTU, driver, channels, link state
//! - `nic`     what a NIC reports about its queues and RSS (or that it does not), for JS
//! - `umem`    UMEM registered over a JS SharedArrayBuffer
//! - `ring`    views of the kernel's mmap'd producer/consumer rings
//! - `xsk`     AF_XDP sockets (one per interface queue, shared UMEM) and their statistics
//! - `port`    the data path: batched RX / fill / TX / completion calls from any thread
//! - `poll_set` one poll(2) over the sockets of a worker that owns several queues
//! - `bpf`     our XDP program: instructions, maps, load, bpf_link attach
//! - `rss`     the Toeplitz hash (Microsoft RSS), table-driven
//! - `dispatch` the software-RSS dispatcher thread: one socket's RX spread over worker rings

use napi_derive::napi;

pub mod bpf;
pub mod data_path;
pub mod dispatch;
pub mod error;
pub mod ethtool;
pub mod genetlink;
pub mod ifinfo;
pub mod l4sum;
pub mod nic;
pub mod poll_set;
pub mod port;
pub mod ring;
pub mod rss;
pub mod sys;
pub mod umem;
pub mod xsk;

/// The addon's version, to check that JS loaded the binary it expects.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
