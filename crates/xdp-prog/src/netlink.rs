//! rtnetlink for XDP: which program an interface has (RTM_GETLINK, IFLA_XDP) and the legacy
//! attach/detach (RTM_SETLINK, IFLA_XDP_FD) used to remove a foreign program and on kernels
//! without XDP links.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result};

const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const NLA_HDRLEN: usize = 4;
const NLA_F_NESTED: u16 = 1 << 15;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | (1 << 14));

const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x01;
const NLM_F_ACK: u16 = 0x04;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

const IFLA_XDP: u16 = 43;
const IFLA_XDP_FD: u16 = 1;
const IFLA_XDP_ATTACHED: u16 = 2;
const IFLA_XDP_FLAGS: u16 = 3;
const IFLA_XDP_PROG_ID: u16 = 4;
const IFLA_XDP_DRV_PROG_ID: u16 = 5;
const IFLA_XDP_SKB_PROG_ID: u16 = 6;
const IFLA_XDP_HW_PROG_ID: u16 = 7;
const IFLA_XDP_EXPECTED_FD: u16 = 8;

// XDP_FLAGS_* (<linux/if_link.h>)
pub const XDP_FLAGS_UPDATE_IF_NOEXIST: u32 = 1 << 0;
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;
pub const XDP_FLAGS_HW_MODE: u32 = 1 << 3;
pub const XDP_FLAGS_REPLACE: u32 = 1 << 4;

/// IFLA_XDP_ATTACHED values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XdpAttached {
    None,
    Native,
    Generic,
    Offload,
    /// More than one mode at once (e.g. native and generic).
    Multi,
}

impl XdpAttached {
    fn from_raw(v: u8) -> XdpAttached {
        match v {
            1 => XdpAttached::Native,
            2 => XdpAttached::Generic,
            3 => XdpAttached::Offload,
            4 => XdpAttached::Multi,
            _ => XdpAttached::None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            XdpAttached::None => "none",
            XdpAttached::Native => "native",
            XdpAttached::Generic => "generic",
            XdpAttached::Offload => "offload",
            XdpAttached::Multi => "multi",
        }
    }
}

/// What IFLA_XDP says about an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XdpState {
    pub attached: XdpAttached,
    /// The program id when exactly one is attached.
    pub prog_id: u32,
    pub drv_prog_id: u32,
    pub skb_prog_id: u32,
    pub hw_prog_id: u32,
}

impl XdpState {
    const NONE: XdpState = XdpState {
        attached: XdpAttached::None,
        prog_id: 0,
        drv_prog_id: 0,
        skb_prog_id: 0,
        hw_prog_id: 0,
    };

    /// (mode flag, program id) for every mode that has a program.
    pub fn programs(&self) -> Vec<(u32, u32)> {
        let by_mode = match self.attached {
            XdpAttached::None => return Vec::new(),
            XdpAttached::Native => [(XDP_FLAGS_DRV_MODE, self.prog_id)].to_vec(),
            XdpAttached::Generic => [(XDP_FLAGS_SKB_MODE, self.prog_id)].to_vec(),
            XdpAttached::Offload => [(XDP_FLAGS_HW_MODE, self.prog_id)].to_vec(),
            XdpAttached::Multi => [
                (XDP_FLAGS_DRV_MODE, self.drv_prog_id),
                (XDP_FLAGS_SKB_MODE, self.skb_prog_id),
                (XDP_FLAGS_HW_MODE, self.hw_prog_id),
            ]
            .to_vec(),
        };
        by_mode.into_iter().filter(|&(_, id)| id != 0).collect()
    }
}

/// Appends one netlink attribute (header + payload, padded to 4 bytes).
fn push_attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    buf.extend_from_slice(&((NLA_HDRLEN + payload.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// nlmsghdr + ifinfomsg for `ifindex` + `attrs`.
fn link_message(msg_type: u16, flags: u16, seq: u32, ifindex: u32, attrs: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + IFINFOMSG_LEN + attrs.len();
    let mut buf = Vec::with_capacity(len);
    buf.extend_from_slice(&(len as u32).to_ne_bytes());
    buf.extend_from_slice(&msg_type.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel
    buf.push(libc::AF_UNSPEC as u8); // ifi_family
    buf.push(0);
    buf.extend_from_slice(&0u16.to_ne_bytes()); // ifi_type
    buf.extend_from_slice(&(ifindex as i32).to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // ifi_flags
    buf.extend_from_slice(&0u32.to_ne_bytes()); // ifi_change
    buf.extend_from_slice(attrs);
    buf
}

/// RTM_SETLINK carrying IFLA_XDP { FD, FLAGS [, EXPECTED_FD] }.
pub fn setlink_xdp_message(
    seq: u32,
    ifindex: u32,
    fd: i32,
    flags: u32,
    expected_fd: Option<i32>,
) -> Vec<u8> {
    let mut nested = Vec::new();
    push_attr(&mut nested, IFLA_XDP_FD, &fd.to_ne_bytes());
    push_attr(&mut nested, IFLA_XDP_FLAGS, &flags.to_ne_bytes());
    if let Some(expected) = expected_fd {
        push_attr(&mut nested, IFLA_XDP_EXPECTED_FD, &expected.to_ne_bytes());
    }
    let mut attrs = Vec::new();
    push_attr(&mut attrs, IFLA_XDP | NLA_F_NESTED, &nested);
    link_message(
        libc::RTM_SETLINK,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        ifindex,
        &attrs,
    )
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Iterates (type without flag bits, payload) over a run of netlink attributes.
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = u16_at(b, 0)? as usize;
        let kind = u16_at(b, 2)? & NLA_TYPE_MASK;
        let payload = b.get(NLA_HDRLEN..len)?;
        b = b.get(len.next_multiple_of(4)..).unwrap_or(&[]);
        Some((kind, payload))
    })
}

/// Reads IFLA_XDP out of an RTM_NEWLINK message body (after nlmsghdr).
pub fn parse_xdp_state(body: &[u8]) -> XdpState {
    let mut state = XdpState::NONE;
    let Some(link_attrs) = body.get(IFINFOMSG_LEN..) else {
        return state;
    };
    let Some((_, xdp)) = attrs(link_attrs).find(|&(kind, _)| kind == IFLA_XDP) else {
        return state;
    };
    for (kind, payload) in attrs(xdp) {
        let word = u32_at(payload, 0).unwrap_or(0);
        match kind {
            IFLA_XDP_ATTACHED => {
                state.attached = XdpAttached::from_raw(payload.first().copied().unwrap_or(0))
            }
            IFLA_XDP_PROG_ID => state.prog_id = word,
            IFLA_XDP_DRV_PROG_ID => state.drv_prog_id = word,
            IFLA_XDP_SKB_PROG_ID => state.skb_prog_id = word,
            IFLA_XDP_HW_PROG_ID => state.hw_prog_id = word,
            _ => {}
        }
    }
    state
}

/// A parsed NLMSG_ERROR: errno (0 = ACK) and the kernel's extended-ack message.
fn parse_ack(body: &[u8], flags: u16) -> (i32, Option<String>) {
    let errno = u32_at(body, 0).map(|e| -(e as i32)).unwrap_or(libc::EPROTO);
    // With NETLINK_CAP_ACK the echoed request is only its 16-byte header.
    let tlvs = body.get(4 + NLMSG_HDRLEN..).unwrap_or(&[]);
    let msg = (flags & NLM_F_ACK_TLVS != 0)
        .then(|| attrs(tlvs).find(|&(kind, _)| kind == NLMSGERR_ATTR_MSG))
        .flatten()
        .map(|(_, text)| {
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            String::from_utf8_lossy(&text[..end]).into_owned()
        });
    (errno, msg)
}

/// A NETLINK_ROUTE socket for one request/response at a time.
struct RtNetlink {
    fd: OwnedFd,
    seq: u32,
}

fn last_os_error(doing: &str) -> Error {
    Error::os(&io::Error::last_os_error(), doing)
}

impl RtNetlink {
    fn open() -> Result<Self> {
        // SAFETY: plain socket(2) call with constant arguments; no memory is passed.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(last_os_error("opening a NETLINK_ROUTE socket"));
        }
        // SAFETY: fd was just returned by socket(2) and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let one: libc::c_int = 1;
            // SAFETY: optval points to a live c_int and optlen is its size. Failure only means
            // an older kernel without extended acks, which we tolerate.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_NETLINK,
                    opt,
                    &one as *const libc::c_int as *const libc::c_void,
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
        }
        Ok(RtNetlink { fd, seq: 1 })
    }

    fn send(&self, msg: &[u8]) -> Result<()> {
        // SAFETY: msg is a live buffer of msg.len() bytes; the kernel only reads it.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                0,
            )
        };
        if n < 0 {
            return Err(last_os_error("sending an rtnetlink request"));
        }
        Ok(())
    }

    fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        loop {
            // SAFETY: buf is an exclusively borrowed buffer of buf.len() bytes.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::os(&err, "reading an rtnetlink reply"));
            }
        }
    }

    /// Sends `msg` (built with sequence number `self.seq`) and returns the first reply to it as
    /// (type, flags, body). NLMSG_ERROR replies with a nonzero errno become errors.
    fn request(&mut self, msg: &[u8], doing: &str) -> Result<(u16, u16, Vec<u8>)> {
        let seq = self.seq;
        self.seq += 1;
        self.send(msg)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.recv(&mut buf)?;
            let mut at = 0;
            while at + NLMSG_HDRLEN <= n {
                let len = u32_at(&buf, at).unwrap_or(0) as usize;
                if len < NLMSG_HDRLEN || at + len > n {
                    break;
                }
                let kind = u16_at(&buf, at + 4).unwrap_or(0);
                let flags = u16_at(&buf, at + 6).unwrap_or(0);
                let body = &buf[at + NLMSG_HDRLEN..at + len];
                if u32_at(&buf, at + 8) == Some(seq) {
                    if kind == NLMSG_ERROR {
                        let (errno, msg) = parse_ack(body, flags);
                        if errno != 0 {
                            let io = io::Error::from_raw_os_error(errno);
                            let detail = msg.map(|m| format!(" ({m})")).unwrap_or_default();
                            return Err(Error::os(&io, &format!("{doing}{detail}")));
                        }
                    }
                    return Ok((kind, flags, body.to_vec()));
                }
                at += len.next_multiple_of(4);
            }
        }
    }
}

/// The XDP program(s) attached to `ifindex`.
pub fn query_xdp(ifindex: u32) -> Result<XdpState> {
    let mut nl = RtNetlink::open()?;
    let msg = link_message(libc::RTM_GETLINK, NLM_F_REQUEST, nl.seq, ifindex, &[]);
    let (kind, _, body) = nl.request(&msg, "querying the interface's XDP program")?;
    if kind != libc::RTM_NEWLINK {
        return Err(Error::new(
            libc::EPROTO,
            format!("unexpected rtnetlink reply type {kind} to RTM_GETLINK"),
        ));
    }
    Ok(parse_xdp_state(&body))
}

/// Attaches (`fd` >= 0) or detaches (`fd` = -1) the XDP program of `ifindex` in the mode given by
/// `flags`. With `expected_fd` and XDP_FLAGS_REPLACE only a program that is still that one is
/// replaced.
pub fn set_xdp(ifindex: u32, fd: i32, flags: u32, expected_fd: Option<i32>) -> Result<()> {
    let mut nl = RtNetlink::open()?;
    let msg = setlink_xdp_message(nl.seq, ifindex, fd, flags, expected_fd);
    let doing = if fd < 0 {
        "detaching an XDP program over netlink"
    } else {
        "attaching the XDP program over netlink"
    };
    nl.request(&msg, doing).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setlink_message_layout() {
        let msg = setlink_xdp_message(7, 3, 9, XDP_FLAGS_SKB_MODE, None);
        // 16 nlmsghdr + 16 ifinfomsg + 4 IFLA_XDP header + 2 × 8 nested attributes
        assert_eq!(msg.len(), 52);
        assert_eq!(u32_at(&msg, 0), Some(52));
        assert_eq!(u16_at(&msg, 4), Some(libc::RTM_SETLINK));
        assert_eq!(u16_at(&msg, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(u32_at(&msg, 8), Some(7));
        assert_eq!(u32_at(&msg, 20), Some(3)); // ifi_index
        assert_eq!(u16_at(&msg, 32), Some(20)); // IFLA_XDP len
        assert_eq!(u16_at(&msg, 34), Some(IFLA_XDP | NLA_F_NESTED));
        assert_eq!(u16_at(&msg, 38), Some(IFLA_XDP_FD));
        assert_eq!(u32_at(&msg, 40), Some(9));
        assert_eq!(u16_at(&msg, 46), Some(IFLA_XDP_FLAGS));
        assert_eq!(u32_at(&msg, 48), Some(XDP_FLAGS_SKB_MODE));
    }

    #[test]
    fn parses_ifla_xdp_out_of_newlink() {
        let mut xdp = Vec::new();
        push_attr(&mut xdp, IFLA_XDP_ATTACHED, &[2]);
        push_attr(&mut xdp, IFLA_XDP_SKB_PROG_ID, &42u32.to_ne_bytes());
        push_attr(&mut xdp, IFLA_XDP_PROG_ID, &42u32.to_ne_bytes());
        let mut body = vec![0u8; IFINFOMSG_LEN];
        push_attr(&mut body, 3, b"h2e0\0"); // IFLA_IFNAME, padded
        push_attr(&mut body, IFLA_XDP | NLA_F_NESTED, &xdp);
        let state = parse_xdp_state(&body);
        assert_eq!(state.attached, XdpAttached::Generic);
        assert_eq!(state.prog_id, 42);
        assert_eq!(state.programs(), vec![(XDP_FLAGS_SKB_MODE, 42)]);
    }

    #[test]
    fn no_ifla_xdp_means_nothing_attached() {
        let body = vec![0u8; IFINFOMSG_LEN];
        assert_eq!(parse_xdp_state(&body), XdpState::NONE);
        assert!(XdpState::NONE.programs().is_empty());
    }

    #[test]
    fn ack_with_extended_message() {
        let mut body = Vec::new();
        body.extend_from_slice(&(-libc::EBUSY).to_ne_bytes());
        body.extend_from_slice(&[0u8; NLMSG_HDRLEN]);
        push_attr(
            &mut body,
            NLMSGERR_ATTR_MSG,
            b"Can't replace active BPF XDP link\0",
        );
        let (errno, msg) = parse_ack(&body, NLM_F_ACK_TLVS);
        assert_eq!(errno, libc::EBUSY);
        assert_eq!(msg.as_deref(), Some("Can't replace active BPF XDP link"));
    }

    #[test]
    fn truncated_attributes_stop_iteration() {
        let bytes = [8u8, 0, 1, 0, 1, 2]; // claims 8 bytes, has 6
        assert_eq!(attrs(&bytes).count(), 0);
    }
}
