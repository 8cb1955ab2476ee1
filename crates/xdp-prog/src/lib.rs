//! xdp-prog: xdpnet's XDP program, emitted as BPF instructions from Rust, loaded with bpf(2) and
//! attached with a bpf_link. No clang, no ELF object, no libbpf/libxdp.
//!
//! The program redirects the frames that belong to the engine (its IPv4/IPv6 destinations, ARP
//! for its IPv4 addresses, neighbour discovery for its IPv6 addresses) to the AF_XDP socket of
//! the receiving queue and passes everything else to the kernel.
//!
//! Module map (one concept per file):
//! - `insn`     BPF instruction encoding
//! - `asm`      labels and jump fix-ups over instructions
//! - `program`  the XDP program itself
//! - `sys`      safe wrappers around bpf(2) commands
//! - `maps`     XSKMAP, address sets, per-CPU counters
//! - `load`     maps + program loaded into the kernel
//! - `netlink`  rtnetlink IFLA_XDP query and legacy attach/detach
//! - `kernel`   kernel version and interface index
//! - `attach`   bpf_link attach (netlink fallback), foreign-program checks
//! - `error`    errno + actionable message

pub mod asm;
pub mod attach;
pub mod error;
pub mod insn;
pub mod kernel;
pub mod load;
pub mod maps;
pub mod netlink;
pub mod program;
pub mod sys;

pub use attach::{attach, attached_program, AttachKind, AttachedMode, Attachment, Mode};
pub use error::{Error, Result};
pub use load::LoadedProgram;
pub use maps::CounterValues;
pub use netlink::XdpAttached;
