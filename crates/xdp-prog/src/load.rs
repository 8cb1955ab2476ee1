//! Creates the maps, emits the program against them and loads it into the kernel.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::{Error, Result};
use crate::kernel;
use crate::maps::{Counters, Ipv4Set, Ipv6Set, XskMap};
use crate::program::{xdp_program, MapFds};
use crate::sys;

/// GPL-compatible, so every helper stays available; the kernel accepts this exact string.
const LICENSE: &std::ffi::CStr = c"Dual MIT/GPL";
const PROG_NAME: &str = "xdpnet";
/// How much of the verifier log goes into an error message. The reason for a rejection is at the
/// end of the log, after the instruction trace.
const LOG_TAIL_LINES: usize = 20;

/// The loaded (not yet attached) program and the maps it uses.
#[derive(Debug)]
pub struct LoadedProgram {
    fd: OwnedFd,
    id: u32,
    pub xsks: XskMap,
    pub ipv4: Ipv4Set,
    pub ipv6: Ipv6Set,
    pub counters: Counters,
}

impl LoadedProgram {
    /// Loads the program with an XSKMAP of `max_queues` RX queues; with `frags` it is marked as
    /// taking multi-buffer packets (BPF_F_XDP_HAS_FRAGS), which AF_XDP multi-buffer sockets need
    /// (Documentation/networking/af_xdp.rst, "Multi-Buffer Support"). The program reads only the
    /// headers, which are always in the first buffer, so the same instructions serve both.
    pub fn load(max_queues: u32, frags: bool) -> Result<Self> {
        kernel::raise_memlock_if_needed();
        let xsks = XskMap::create(max_queues)?;
        let ipv4 = Ipv4Set::create()?;
        let ipv6 = Ipv6Set::create()?;
        let counters = Counters::create()?;
        let fds = MapFds {
            xsks: xsks.fd(),
            ipv4: ipv4.fd(),
            ipv6: ipv6.fd(),
            counters: counters.fd(),
        };
        let insns = xdp_program(&fds)
            .map_err(|e| Error::new(libc::EINVAL, format!("assembling the XDP program: {e:?}")))?;
        let fd = sys::prog_load(
            sys::BPF_PROG_TYPE_XDP,
            sys::BPF_XDP,
            if frags { sys::BPF_F_XDP_HAS_FRAGS } else { 0 },
            &insns,
            LICENSE,
            PROG_NAME,
        )
        .map_err(rejected)?;
        let id = sys::prog_id(fd.as_fd())
            .map_err(|e| Error::os(&e, "reading the program id (BPF_OBJ_GET_INFO_BY_FD)"))?;
        Ok(LoadedProgram {
            fd,
            id,
            xsks,
            ipv4,
            ipv6,
            counters,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The kernel's id for the program (`ip link` shows it as `prog/xdp id N`).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Runs the program once over `frame` (BPF_PROG_TEST_RUN) and returns its XDP action.
    pub fn test_run(&self, frame: &[u8]) -> Result<u32> {
        sys::prog_test_run(self.fd(), frame).map_err(|e| Error::os(&e, "BPF_PROG_TEST_RUN"))
    }
}

fn rejected(load: sys::LoadError) -> Error {
    let errno = load.err.raw_os_error().unwrap_or(libc::EINVAL);
    if errno == libc::EPERM || load.log.is_empty() {
        return Error::os(&load.err, "BPF_PROG_LOAD");
    }
    let lines: Vec<&str> = load.log.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    Error::new(
        errno,
        format!(
            "the kernel's BPF verifier rejected the XDP program; this is a bug in xdpnet, \
             please report it with the end of the verifier log:\n{tail}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_rejection_carries_the_end_of_the_log() {
        let log = (0..30)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let err = rejected(sys::LoadError {
            err: std::io::Error::from_raw_os_error(libc::EACCES),
            log,
        });
        assert_eq!(err.code(), "EACCES");
        assert!(err.message().contains("verifier rejected"));
        assert!(err.message().ends_with("line 29"));
        assert!(!err.message().contains("line 9\n"));
    }
}
