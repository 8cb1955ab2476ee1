//! bpf: our XDP program for JS. The program, its maps and the attach logic live in the pure-Rust
//! `xdp-prog` crate; this module only turns them into a JS class and Node-style errors.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use napi_derive::napi;
use xdp_prog::{Attachment, LoadedProgram, Mode};

use crate::error::{err, Code, Error, Result};

/// XSKMAP size when the caller does not say: more RX queues than most NICs have.
const DEFAULT_MAX_QUEUES: u32 = 64;

/// `err.code` = the errno name xdp-prog chose, message unchanged.
fn js_error(e: xdp_prog::Error) -> Error {
    napi::Error::new(Code(Cow::Owned(e.code())), e.message().to_string())
}

fn parse_ipv4(addr: &str) -> Result<Ipv4Addr> {
    addr.trim().parse().map_err(|_| {
        err(
            "EINVAL",
            format!("{addr:?} is not an IPv4 address (expected dotted decimal such as 198.18.0.1)"),
        )
    })
}

fn parse_ipv6(addr: &str) -> Result<Ipv6Addr> {
    addr.trim().parse().map_err(|_| {
        err(
            "EINVAL",
            format!("{addr:?} is not an IPv6 address (expected a form such as 2001:2::1)"),
        )
    })
}

/// Options of `XdpProgram.attach`.
#[napi(object)]
pub struct XdpAttachOptions {
    /// 'native' runs in the driver, 'generic' on the kernel's skb path (any device), 'auto'
    /// (default) tries native first.
    #[napi(ts_type = "'auto' | 'native' | 'generic'")]
    pub mode: Option<String>,
    /// Replace an XDP program that someone else attached (default false: fail with EBUSY).
    pub force: Option<bool>,
    /// Size of the XSKMAP, i.e. the highest RX queue index + 1 that can get a socket (default 64).
    pub max_queues: Option<u32>,
    /// Load the program as taking multi-buffer packets (BPF_F_XDP_HAS_FRAGS), for AF_XDP sockets
    /// bound with multiBuffer (MTUs above what one UMEM frame holds). Default false.
    pub frags: Option<bool>,
}

/// Verdict counters, summed over CPUs.
#[napi(object)]
pub struct XdpCounters {
    /// Frames for the engine handed to the AF_XDP socket of their RX queue.
    pub redirected: i64,
    /// Frames that were not for the engine and went to the kernel.
    pub passed: i64,
    /// Frames for the engine that arrived on a queue without a socket; they went to the kernel.
    pub no_socket: i64,
}

/// The XDP program attached to an interface, as `attachedXdpProgram` reports it.
#[napi(object)]
pub struct AttachedXdpProgram {
    pub prog_id: u32,
    #[napi(ts_type = "'native' | 'generic' | 'offload' | 'multi'")]
    pub mode: String,
}

/// xdpnet's XDP program attached to one interface. It redirects frames for the engine's
/// addresses (and ARP / neighbour discovery for them) to the AF_XDP socket of the receiving queue
/// and passes everything else to the kernel. Attached with a bpf_link: it goes away when the
/// process exits, kill -9 included (on kernels before 5.9, which lack XDP links, it is attached
/// over netlink and detached by `detach()` or when the object is collected; call `detach()`
/// before exiting). Keep a reference: a collected `XdpProgram` detaches.
#[napi]
pub struct XdpProgram {
    // Field order is drop order: detach before the program and maps are released.
    attachment: Attachment,
    prog: LoadedProgram,
    ifname: String,
    ifindex: u32,
}

#[napi]
impl XdpProgram {
    /// Loads the program and attaches it to `ifname`. Throws EBUSY if another XDP program is
    /// attached there (unless `force`), EPERM without CAP_BPF + CAP_NET_ADMIN, ENODEV for an
    /// unknown interface.
    #[napi(factory)]
    pub fn attach(ifname: String, opts: Option<XdpAttachOptions>) -> Result<XdpProgram> {
        let opts = opts.unwrap_or(XdpAttachOptions {
            mode: None,
            force: None,
            max_queues: None,
            frags: None,
        });
        let mode = Mode::parse(opts.mode.as_deref().unwrap_or("auto")).map_err(js_error)?;
        let ifindex = xdp_prog::kernel::ifindex(&ifname).map_err(js_error)?;
        let prog = LoadedProgram::load(
            opts.max_queues.unwrap_or(DEFAULT_MAX_QUEUES),
            opts.frags.unwrap_or(false),
        )
        .map_err(js_error)?;
        let attachment = xdp_prog::attach(
            prog.fd(),
            &ifname,
            ifindex,
            mode,
            opts.force.unwrap_or(false),
        )
        .map_err(js_error)?;
        Ok(XdpProgram {
            attachment,
            prog,
            ifname,
            ifindex,
        })
    }

    /// The kernel's program id (`ip link show` prints it as `prog/xdp id N`).
    #[napi(getter)]
    pub fn prog_id(&self) -> u32 {
        self.prog.id()
    }

    #[napi(getter)]
    pub fn ifname(&self) -> String {
        self.ifname.clone()
    }

    #[napi(getter)]
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    #[napi(getter, ts_return_type = "'native' | 'generic'")]
    pub fn mode(&self) -> String {
        self.attachment.mode().name().to_string()
    }

    /// 'link' (bpf_link, goes with the process) or 'netlink' (kernels before 5.9; detached by
    /// `detach()` or at exit, but not after kill -9).
    #[napi(getter, ts_return_type = "'link' | 'netlink'")]
    pub fn attach_kind(&self) -> String {
        self.attachment.kind().name().to_string()
    }

    /// Frames to `addr` and ARP asking for it go to the engine. Adding twice is harmless.
    #[napi]
    pub fn add_ipv4(&self, addr: String) -> Result<()> {
        self.prog.ipv4.add(parse_ipv4(&addr)?).map_err(js_error)
    }

    /// Removing an address that was not added is harmless.
    #[napi]
    pub fn remove_ipv4(&self, addr: String) -> Result<()> {
        self.prog.ipv4.remove(parse_ipv4(&addr)?).map_err(js_error)
    }

    /// Frames to `addr` and to its solicited-node multicast group (neighbour discovery) go to
    /// the engine.
    #[napi]
    pub fn add_ipv6(&mut self, addr: String) -> Result<()> {
        self.prog.ipv6.add(parse_ipv6(&addr)?).map_err(js_error)
    }

    /// Also drops the solicited-node group unless another address still needs it.
    #[napi]
    pub fn remove_ipv6(&mut self, addr: String) -> Result<()> {
        self.prog.ipv6.remove(parse_ipv6(&addr)?).map_err(js_error)
    }

    /// Frames for the engine arriving on RX `queue` go to AF_XDP socket `fd` (bound to that
    /// queue of this interface).
    #[napi]
    pub fn set_socket(&self, queue: u32, fd: i32) -> Result<()> {
        self.prog.xsks.set(queue, fd).map_err(js_error)
    }

    /// Frames on `queue` go back to the kernel.
    #[napi]
    pub fn clear_socket(&self, queue: u32) -> Result<()> {
        self.prog.xsks.clear(queue).map_err(js_error)
    }

    #[napi]
    pub fn counters(&self) -> Result<XdpCounters> {
        let c = self.prog.counters.read().map_err(js_error)?;
        Ok(XdpCounters {
            redirected: c.redirected as i64,
            passed: c.passed as i64,
            no_socket: c.no_socket as i64,
        })
    }

    /// Detaches the program now (it also goes when this object is collected or the process
    /// exits). Detaching twice is harmless.
    #[napi]
    pub fn detach(&mut self) -> Result<()> {
        self.attachment.detach().map_err(js_error)
    }
}

/// The XDP program attached to `ifname` (anyone's), or null.
#[napi]
pub fn attached_xdp_program(ifname: String) -> Result<Option<AttachedXdpProgram>> {
    let ifindex = xdp_prog::kernel::ifindex(&ifname).map_err(js_error)?;
    let found = xdp_prog::attached_program(ifindex).map_err(js_error)?;
    Ok(found.map(|(prog_id, mode)| AttachedXdpProgram {
        prog_id,
        mode: mode.name().to_string(),
    }))
}
