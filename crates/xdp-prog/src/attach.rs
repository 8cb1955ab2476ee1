//! Attaching the program to an interface.
//!
//! A bpf_link (BPF_LINK_CREATE, Linux 5.9+) ties the attachment to our fd, so the program goes
//! when the process does, kill -9 included. Older kernels fall back to the netlink attach
//! (IFLA_XDP_FD), which outlives the process unless we detach. Either way we never replace a
//! program someone else attached unless told to (`force`).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use crate::error::{Error, Result};
use crate::kernel;
use crate::netlink::{
    self, XdpAttached, XdpState, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE, XDP_FLAGS_REPLACE,
    XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST,
};
use crate::sys;

/// The mode the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Native if the driver supports it, else generic.
    Auto,
    /// In the driver (XDP_FLAGS_DRV_MODE).
    Native,
    /// On the skb path, for any device (XDP_FLAGS_SKB_MODE).
    Generic,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode> {
        match s {
            "auto" => Ok(Mode::Auto),
            "native" => Ok(Mode::Native),
            "generic" => Ok(Mode::Generic),
            _ => Err(Error::new(
                libc::EINVAL,
                format!("mode must be 'auto', 'native' or 'generic', not {s:?}"),
            )),
        }
    }

    fn tries(self) -> &'static [AttachedMode] {
        match self {
            Mode::Auto => &[AttachedMode::Native, AttachedMode::Generic],
            Mode::Native => &[AttachedMode::Native],
            Mode::Generic => &[AttachedMode::Generic],
        }
    }
}

/// The mode the program ended up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachedMode {
    Native,
    Generic,
}

impl AttachedMode {
    fn flag(self) -> u32 {
        match self {
            AttachedMode::Native => XDP_FLAGS_DRV_MODE,
            AttachedMode::Generic => XDP_FLAGS_SKB_MODE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AttachedMode::Native => "native",
            AttachedMode::Generic => "generic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachKind {
    /// A bpf_link: detaches when the last fd to it closes (process exit included).
    Link,
    /// Legacy netlink attach: detached on drop, but survives a killed process.
    Netlink,
}

impl AttachKind {
    pub fn name(self) -> &'static str {
        match self {
            AttachKind::Link => "link",
            AttachKind::Netlink => "netlink",
        }
    }
}

/// Our program attached to one interface. Dropping it detaches.
#[derive(Debug)]
pub struct Attachment {
    ifindex: u32,
    mode: AttachedMode,
    kind: AttachKind,
    /// The link fd (Link) or our own duplicate of the program fd (Netlink, so the detach can ask
    /// the kernel to remove only a program that is still ours).
    fd: Option<OwnedFd>,
}

impl Attachment {
    pub fn mode(&self) -> AttachedMode {
        self.mode
    }

    pub fn kind(&self) -> AttachKind {
        self.kind
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn is_attached(&self) -> bool {
        self.fd.is_some()
    }

    /// Detaches now. Detaching twice is a no-op.
    pub fn detach(&mut self) -> Result<()> {
        let Some(fd) = self.fd.take() else {
            return Ok(());
        };
        match self.kind {
            // BPF_LINK_DETACH also covers a duplicate of the fd in a forked child; closing `fd`
            // afterwards releases the link itself.
            AttachKind::Link => sys::link_detach(fd.as_fd())
                .map_err(|e| Error::os(&e, "detaching the XDP link (BPF_LINK_DETACH)")),
            AttachKind::Netlink => netlink::set_xdp(
                self.ifindex,
                -1,
                self.mode.flag() | XDP_FLAGS_REPLACE,
                Some(fd.as_raw_fd()),
            ),
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // Nothing useful can be done with an error here; a Link goes away with its fd anyway.
        let _ = self.detach();
    }
}

/// What is attached to `ifindex`: (program id, mode), or None.
pub fn attached_program(ifindex: u32) -> Result<Option<(u32, XdpAttached)>> {
    let state = netlink::query_xdp(ifindex)?;
    Ok(match state.attached {
        XdpAttached::None => None,
        XdpAttached::Multi => Some((state.programs().first().map_or(0, |p| p.1), state.attached)),
        mode => Some((state.prog_id, mode)),
    })
}

/// The `ip link` keyword that removes a program in a given mode.
fn ip_link_off(flag: u32) -> &'static str {
    match flag {
        XDP_FLAGS_SKB_MODE => "xdpgeneric off",
        XDP_FLAGS_HW_MODE => "xdpoffload off",
        _ => "xdpdrv off",
    }
}

fn foreign_program_error(ifname: &str, state: &XdpState) -> Error {
    let programs = state.programs();
    let ids: Vec<String> = programs.iter().map(|(_, id)| id.to_string()).collect();
    let commands: Vec<String> = programs
        .iter()
        .map(|&(flag, _)| format!("`ip link set dev {ifname} {}`", ip_link_off(flag)))
        .collect();
    Error::new(
        libc::EBUSY,
        format!(
            "{ifname} already has an XDP program attached (id {}, {} mode); \
             remove it with {} or attach with {{ force: true }} to replace it",
            ids.join(", "),
            state.attached.name(),
            commands.join(" and "),
        ),
    )
}

/// Removes every program attached to `ifindex` through netlink (force).
fn detach_foreign(ifname: &str, ifindex: u32, state: &XdpState) -> Result<()> {
    for (flag, id) in state.programs() {
        netlink::set_xdp(ifindex, -1, flag, None).map_err(|e| {
            let why = if e.errno() == libc::EBUSY {
                "it is held by a bpf_link of another process; stop that process"
            } else {
                "remove it by hand"
            };
            Error::new(
                e.errno(),
                format!(
                    "could not remove XDP program id {id} from {ifname} ({why}): {}",
                    e.message()
                ),
            )
        })?;
    }
    Ok(())
}

/// Errors for which `auto` should try generic after native failed.
fn native_unavailable(errno: i32) -> bool {
    !matches!(
        errno,
        libc::EPERM | libc::EBUSY | libc::ENODEV | libc::EEXIST
    )
}

fn link_error(err: std::io::Error, ifname: &str, mode: AttachedMode) -> Error {
    let hint = match (err.raw_os_error(), mode) {
        (Some(libc::EBUSY), _) | (Some(libc::EEXIST), _) => format!(
            "; another XDP program was attached to {ifname} meanwhile (check `ip link show {ifname}`)"
        ),
        (Some(libc::EOPNOTSUPP), AttachedMode::Native) | (Some(libc::EINVAL), AttachedMode::Native) => {
            "; the driver may not support native XDP, try mode 'generic' or 'auto'".to_string()
        }
        _ => String::new(),
    };
    Error::os(
        &err,
        &format!("attaching XDP in {} mode to {ifname}{hint}", mode.name()),
    )
}

fn try_attach(
    prog: BorrowedFd<'_>,
    ifname: &str,
    ifindex: u32,
    mode: AttachedMode,
) -> Result<Attachment> {
    match sys::link_create(prog, ifindex, sys::BPF_XDP, mode.flag()) {
        Ok(link) => Ok(Attachment {
            ifindex,
            mode,
            kind: AttachKind::Link,
            fd: Some(link),
        }),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)
            ) && !kernel::has_xdp_links() =>
        {
            attach_netlink(prog, ifindex, mode)
        }
        Err(e) => Err(link_error(e, ifname, mode)),
    }
}

/// The pre-5.9 way: IFLA_XDP_FD with UPDATE_IF_NOEXIST so a program attached meanwhile is never
/// replaced. Public so tests can stand in for a "foreign" program.
pub fn attach_netlink(
    prog: BorrowedFd<'_>,
    ifindex: u32,
    mode: AttachedMode,
) -> Result<Attachment> {
    let own = prog
        .try_clone_to_owned()
        .map_err(|e| Error::os(&e, "duplicating the program fd"))?;
    netlink::set_xdp(
        ifindex,
        own.as_raw_fd(),
        mode.flag() | XDP_FLAGS_UPDATE_IF_NOEXIST,
        None,
    )?;
    Ok(Attachment {
        ifindex,
        mode,
        kind: AttachKind::Netlink,
        fd: Some(own),
    })
}

/// Attaches `prog` to `ifname`. Fails with EBUSY if another program is attached, unless `force`.
pub fn attach(
    prog: BorrowedFd<'_>,
    ifname: &str,
    ifindex: u32,
    mode: Mode,
    force: bool,
) -> Result<Attachment> {
    let state = netlink::query_xdp(ifindex)?;
    if state.attached != XdpAttached::None {
        if !force {
            return Err(foreign_program_error(ifname, &state));
        }
        detach_foreign(ifname, ifindex, &state)?;
    }
    let mut last_err = None;
    for &m in mode.tries() {
        match try_attach(prog, ifname, ifindex, m) {
            Ok(attachment) => return Ok(attachment),
            Err(e)
                if mode == Mode::Auto
                    && m == AttachedMode::Native
                    && native_unavailable(e.errno()) =>
            {
                last_err = Some(e)
            }
            Err(e) => {
                return Err(match last_err {
                    Some(native) => Error::new(
                        e.errno(),
                        format!(
                            "{} (native mode failed first: {})",
                            e.message(),
                            native.message()
                        ),
                    ),
                    None => e,
                })
            }
        }
    }
    Err(last_err.unwrap_or_else(|| Error::new(libc::EINVAL, "no XDP mode to try")))
}

/// Detaches whatever program runs on `ifindex` in `mode`, ours or not (cleanup in tests/tools).
pub fn detach_any(ifindex: u32, mode: AttachedMode) -> Result<()> {
    netlink::set_xdp(ifindex, -1, mode.flag(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_reject() {
        assert_eq!(Mode::parse("auto").unwrap(), Mode::Auto);
        assert_eq!(
            Mode::parse("generic").unwrap().tries(),
            &[AttachedMode::Generic]
        );
        assert_eq!(Mode::parse("skb").unwrap_err().code(), "EINVAL");
    }

    #[test]
    fn foreign_program_message_names_id_mode_and_remedies() {
        let state = XdpState {
            attached: XdpAttached::Generic,
            prog_id: 42,
            drv_prog_id: 0,
            skb_prog_id: 42,
            hw_prog_id: 0,
        };
        let err = foreign_program_error("h2e0", &state);
        assert_eq!(err.code(), "EBUSY");
        let msg = err.message();
        assert!(msg.contains("id 42"), "{msg}");
        assert!(msg.contains("generic mode"), "{msg}");
        assert!(msg.contains("ip link set dev h2e0 xdpgeneric off"), "{msg}");
        assert!(msg.contains("force: true"), "{msg}");
    }
}
