//! Generic netlink, as much of it as reading the netdev family takes: the message and attribute
//! encodings of include/uapi/linux/netlink.h and genetlink.h, resolving a family's id by name
//! (CTRL_CMD_GETFAMILY) and one request/reply exchange. The "netdev" family (Linux 6.3+,
//! include/uapi/linux/netdev.h, generated from Documentation/netlink/specs/netdev.yaml) answers
//! NETDEV_CMD_DEV_GET with what a device's driver supports for XDP and AF_XDP.
//!
//! Encoding and decoding are plain byte work over `&[u8]`, unit-tested against the UAPI layouts
//! and attribute numbers; the socket calls are the safe wrappers in `sys`.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use crate::sys;

/// `struct nlmsghdr`: len u32, type u16, flags u16, seq u32, pid u32.
pub const NLMSG_HDRLEN: usize = 16;
/// `struct genlmsghdr`: cmd u8, version u8, reserved u16.
pub const GENL_HDRLEN: usize = 4;
/// `struct nlattr`: len u16, type u16.
pub const NLA_HDRLEN: usize = 4;

/// `nlmsg_type` values below NLMSG_MIN_TYPE (0x10) are the netlink core's own.
pub const NLMSG_ERROR: u16 = 0x2;
pub const NLMSG_DONE: u16 = 0x3;
pub const NLM_F_REQUEST: u16 = 0x01;
/// The two top bits of `nla_type` are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER).
pub const NLA_TYPE_MASK: u16 = !(1 << 15 | 1 << 14);

/// The controller family, at the fixed id GENL_ID_CTRL (= NLMSG_MIN_TYPE).
pub const GENL_ID_CTRL: u16 = 0x10;
pub const CTRL_CMD_GETFAMILY: u8 = 3;
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// The netdev family (include/uapi/linux/netdev.h).
pub mod netdev {
    pub const FAMILY_NAME: &str = "netdev";
    pub const FAMILY_VERSION: u8 = 1;
    pub const CMD_DEV_GET: u8 = 1;

    pub const A_DEV_IFINDEX: u16 = 1;
    pub const A_DEV_PAD: u16 = 2;
    /// u64, `enum netdev_xdp_act` flags.
    pub const A_DEV_XDP_FEATURES: u16 = 3;
    /// u32: the most fragments a zero-copy AF_XDP frame may span (1: single-buffer only).
    pub const A_DEV_XDP_ZC_MAX_SEGS: u16 = 4;
    /// u64, `enum netdev_xdp_rx_metadata` flags (Linux 6.8+).
    pub const A_DEV_XDP_RX_METADATA_FEATURES: u16 = 5;
    /// u64, `enum netdev_xsk_flags` (Linux 6.8+).
    pub const A_DEV_XSK_FEATURES: u16 = 6;

    /// `enum netdev_xdp_act`, by the names netdev.yaml gives them.
    pub const XDP_ACT: [(u64, &str); 7] = [
        (1, "basic"),
        (2, "redirect"),
        (4, "ndo-xmit"),
        (8, "xsk-zerocopy"),
        (16, "hw-offload"),
        (32, "rx-sg"),
        (64, "ndo-xmit-sg"),
    ];
    pub const XDP_ACT_BASIC: u64 = 1;
    pub const XDP_ACT_REDIRECT: u64 = 2;
    pub const XDP_ACT_XSK_ZEROCOPY: u64 = 8;

    /// `enum netdev_xdp_rx_metadata`.
    pub const XDP_RX_METADATA: [(u64, &str); 3] = [(1, "timestamp"), (2, "hash"), (4, "vlan-tag")];

    /// `enum netdev_xsk_flags`.
    pub const XSK_FLAGS: [(u64, &str); 3] = [
        (1, "tx-timestamp"),
        (2, "tx-checksum"),
        (4, "tx-launch-time-fifo"),
    ];
}

/// Rounds up to the 4-byte alignment of netlink messages and attributes (NLMSG_ALIGN, NLA_ALIGN).
pub fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// One attribute to send: its type and payload.
pub struct OutAttr<'a> {
    pub kind: u16,
    pub payload: &'a [u8],
}

/// A generic netlink request: nlmsghdr, genlmsghdr, then each attribute padded to 4 bytes. The
/// port id is 0: the kernel fills in the sender's.
pub fn encode_request(family: u16, cmd: u8, version: u8, seq: u32, attrs: &[OutAttr]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(64);
    msg.extend_from_slice(&[0; NLMSG_HDRLEN]);
    msg.extend_from_slice(&[cmd, version, 0, 0]);
    for attr in attrs {
        let len = NLA_HDRLEN + attr.payload.len();
        msg.extend_from_slice(&(len as u16).to_ne_bytes());
        msg.extend_from_slice(&attr.kind.to_ne_bytes());
        msg.extend_from_slice(attr.payload);
        msg.resize(align4(msg.len()), 0);
    }
    let total = msg.len() as u32;
    msg[0..4].copy_from_slice(&total.to_ne_bytes());
    msg[4..6].copy_from_slice(&family.to_ne_bytes());
    msg[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg[8..12].copy_from_slice(&seq.to_ne_bytes());
    msg
}

/// One netlink message of a received datagram.
#[derive(Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    /// What follows the nlmsghdr (for a family's message: genlmsghdr, then attributes).
    pub payload: &'a [u8],
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed netlink {what}"),
    )
}

fn u16_at(buf: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([buf[at], buf[at + 1]])
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// The messages of one datagram, each checked to lie within it.
pub fn decode_messages(buf: &[u8]) -> io::Result<Vec<Message<'_>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLMSG_HDRLEN <= buf.len() {
        let len = u32_at(buf, at) as usize;
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            return Err(malformed("message length"));
        }
        out.push(Message {
            kind: u16_at(buf, at + 4),
            flags: u16_at(buf, at + 6),
            seq: u32_at(buf, at + 8),
            payload: &buf[at + NLMSG_HDRLEN..at + len],
        });
        at += align4(len);
    }
    Ok(out)
}

/// The errno of an NLMSG_ERROR message's `struct nlmsgerr` (0 for an acknowledgement).
pub fn decode_error(payload: &[u8]) -> io::Result<i32> {
    if payload.len() < 4 {
        return Err(malformed("error message"));
    }
    Ok(-(u32_at(payload, 0) as i32))
}

/// One received attribute: its type (flag bits masked off) and payload.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Attr<'a> {
    pub kind: u16,
    pub payload: &'a [u8],
}

impl Attr<'_> {
    /// The payload as an unsigned integer: netlink sends u8..u64 in host order, and the kernel
    /// may send a `uint` attribute in 4 or 8 bytes (nla_put_uint).
    pub fn uint(&self) -> io::Result<u64> {
        let p = self.payload;
        Ok(match p.len() {
            1 => u64::from(p[0]),
            2 => u64::from(u16_at(p, 0)),
            4 => u64::from(u32_at(p, 0)),
            8 => u64::from_ne_bytes(p.try_into().expect("8 bytes")),
            _ => return Err(malformed("integer attribute")),
        })
    }
}

/// The attributes in `buf`, each checked to lie within it.
pub fn decode_attrs(buf: &[u8]) -> io::Result<Vec<Attr<'_>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + NLA_HDRLEN <= buf.len() {
        let len = usize::from(u16_at(buf, at));
        if len < NLA_HDRLEN || at + len > buf.len() {
            return Err(malformed("attribute length"));
        }
        out.push(Attr {
            kind: u16_at(buf, at + 2) & NLA_TYPE_MASK,
            payload: &buf[at + NLA_HDRLEN..at + len],
        });
        at += align4(len);
    }
    Ok(out)
}

/// The attributes of a generic netlink message's payload (after its genlmsghdr).
pub fn genl_attrs(payload: &[u8]) -> io::Result<Vec<Attr<'_>>> {
    if payload.len() < GENL_HDRLEN {
        return Err(malformed("generic netlink header"));
    }
    decode_attrs(&payload[GENL_HDRLEN..])
}

/// A NUL-terminated string attribute's payload.
pub fn c_string(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// The names of the flags set in `bits`, in bit order; unknown ones as "bit-N".
pub fn flag_names(bits: u64, names: &[(u64, &str)]) -> Vec<String> {
    (0..64)
        .map(|i| 1u64 << i)
        .filter(|bit| bits & bit != 0)
        .map(|bit| match names.iter().find(|(b, _)| *b == bit) {
            Some((_, name)) => name.to_string(),
            None => format!("bit-{}", bit.trailing_zeros()),
        })
        .collect()
}

/// Replies are small (the controller's family description is the largest, a few KiB); a
/// datagram that does not fit fails with EMSGSIZE rather than being read in part.
const RECV_BUFFER: usize = 64 * 1024;

/// A NETLINK_GENERIC socket for request/reply exchanges.
pub struct GenlSocket {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl GenlSocket {
    pub fn open() -> io::Result<GenlSocket> {
        let fd = sys::netlink_socket(libc::NETLINK_GENERIC)?;
        // The kernel answers a request at once; a timeout keeps a surprise from hanging the caller.
        let timeout = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
        Ok(GenlSocket {
            fd,
            seq: 1,
            buf: vec![0; RECV_BUFFER],
        })
    }

    /// Sends one request and returns the attributes of its reply. An NLMSG_ERROR reply is the
    /// kernel's errno as an `io::Error` (ENOENT: no such family; ENODEV: no such device).
    pub fn request(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: &[OutAttr],
    ) -> io::Result<Vec<(u16, Vec<u8>)>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        sys::netlink_send(
            self.fd.as_fd(),
            &encode_request(family, cmd, version, seq, attrs),
        )?;
        loop {
            let n = sys::recv_datagram(self.fd.as_fd(), &mut self.buf)?;
            for msg in decode_messages(&self.buf[..n])? {
                if msg.seq != seq {
                    continue; // a stale answer to an earlier request
                }
                match msg.kind {
                    NLMSG_ERROR => {
                        let errno = decode_error(msg.payload)?;
                        // An acknowledgement (0) was not asked for; treat it as "no reply".
                        return Err(io::Error::from_raw_os_error(if errno == 0 {
                            libc::ENODATA
                        } else {
                            errno
                        }));
                    }
                    NLMSG_DONE => return Err(io::Error::from_raw_os_error(libc::ENODATA)),
                    kind if kind == family => {
                        return Ok(genl_attrs(msg.payload)?
                            .into_iter()
                            .map(|a| (a.kind, a.payload.to_vec()))
                            .collect());
                    }
                    _ => return Err(malformed("reply type")),
                }
            }
        }
    }

    /// The id of generic netlink family `name` (ENOENT when the kernel has no such family).
    pub fn family_id(&mut self, name: &str) -> io::Result<u16> {
        let name = c_string(name);
        let attrs = self.request(
            GENL_ID_CTRL,
            CTRL_CMD_GETFAMILY,
            1,
            &[OutAttr {
                kind: CTRL_ATTR_FAMILY_NAME,
                payload: &name,
            }],
        )?;
        attrs
            .iter()
            .find(|(kind, _)| *kind == CTRL_ATTR_FAMILY_ID)
            .map(|(kind, payload)| {
                Attr {
                    kind: *kind,
                    payload,
                }
                .uint()
            })
            .ok_or_else(|| malformed("family reply (no id)"))?
            .map(|id| id as u16)
    }
}

/// What the netdev family reports about one device (NETDEV_CMD_DEV_GET).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetdevFeatures {
    pub xdp_features: u64,
    /// None where the kernel did not send the attribute (older kernels).
    pub xdp_zc_max_segs: Option<u32>,
    pub xdp_rx_metadata_features: Option<u64>,
    pub xsk_features: Option<u64>,
}

/// The NETDEV_CMD_DEV_GET request for `ifindex`, as it goes on the wire.
pub fn dev_get_request(family: u16, seq: u32, ifindex: u32) -> Vec<u8> {
    encode_request(
        family,
        netdev::CMD_DEV_GET,
        netdev::FAMILY_VERSION,
        seq,
        &[OutAttr {
            kind: netdev::A_DEV_IFINDEX,
            payload: &ifindex.to_ne_bytes(),
        }],
    )
}

/// Decodes the attributes of a NETDEV_CMD_DEV_GET reply.
pub fn decode_dev(attrs: &[(u16, Vec<u8>)]) -> io::Result<NetdevFeatures> {
    let mut out = NetdevFeatures::default();
    for (kind, payload) in attrs {
        let value = || {
            Attr {
                kind: *kind,
                payload,
            }
            .uint()
        };
        match *kind {
            netdev::A_DEV_XDP_FEATURES => out.xdp_features = value()?,
            netdev::A_DEV_XDP_ZC_MAX_SEGS => out.xdp_zc_max_segs = Some(value()? as u32),
            netdev::A_DEV_XDP_RX_METADATA_FEATURES => out.xdp_rx_metadata_features = Some(value()?),
            netdev::A_DEV_XSK_FEATURES => out.xsk_features = Some(value()?),
            _ => {}
        }
    }
    Ok(out)
}

/// The XDP and AF_XDP features of device `ifindex` in this network namespace.
pub fn netdev_features(ifindex: u32) -> io::Result<NetdevFeatures> {
    let mut sock = GenlSocket::open()?;
    let family = sock.family_id(netdev::FAMILY_NAME)?;
    let attrs = sock.request(
        family,
        netdev::CMD_DEV_GET,
        netdev::FAMILY_VERSION,
        &[OutAttr {
            kind: netdev::A_DEV_IFINDEX,
            payload: &ifindex.to_ne_bytes(),
        }],
    )?;
    decode_dev(&attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uapi_numbers() {
        // include/uapi/linux/genetlink.h: GENL_ID_CTRL = NLMSG_MIN_TYPE; CTRL_CMD_UNSPEC,
        // NEWFAMILY, DELFAMILY, GETFAMILY; CTRL_ATTR_UNSPEC, FAMILY_ID, FAMILY_NAME.
        assert_eq!(GENL_ID_CTRL, 0x10);
        assert_eq!(CTRL_CMD_GETFAMILY, 3);
        assert_eq!((CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME), (1, 2));
        // include/uapi/linux/netlink.h
        assert_eq!((NLMSG_ERROR, NLMSG_DONE, NLM_F_REQUEST), (2, 3, 1));
        assert_eq!(NLA_TYPE_MASK, 0x3fff);
        assert_eq!(libc::NETLINK_GENERIC, 16);
        // include/uapi/linux/netdev.h
        assert_eq!(netdev::CMD_DEV_GET, 1);
        assert_eq!(
            (
                netdev::A_DEV_IFINDEX,
                netdev::A_DEV_PAD,
                netdev::A_DEV_XDP_FEATURES,
                netdev::A_DEV_XDP_ZC_MAX_SEGS,
                netdev::A_DEV_XDP_RX_METADATA_FEATURES,
                netdev::A_DEV_XSK_FEATURES
            ),
            (1, 2, 3, 4, 5, 6)
        );
        let mask: u64 = netdev::XDP_ACT.iter().map(|(b, _)| b).sum();
        assert_eq!(mask, 127, "NETDEV_XDP_ACT_MASK");
        assert_eq!(netdev::XDP_ACT_XSK_ZEROCOPY, 8);
    }

    #[test]
    fn header_sizes_match_the_c_structs() {
        assert_eq!(NLMSG_HDRLEN, std::mem::size_of::<libc::nlmsghdr>());
        assert_eq!(NLA_HDRLEN, std::mem::size_of::<libc::nlattr>());
        assert_eq!(GENL_HDRLEN, 4);
    }

    #[test]
    fn encodes_getfamily_for_netdev() {
        let name = c_string("netdev");
        let msg = encode_request(
            GENL_ID_CTRL,
            CTRL_CMD_GETFAMILY,
            1,
            7,
            &[OutAttr {
                kind: CTRL_ATTR_FAMILY_NAME,
                payload: &name,
            }],
        );
        // 16 (nlmsghdr) + 4 (genlmsghdr) + 4 (nlattr) + 7 ("netdev\0") padded to 8 = 32.
        assert_eq!(msg.len(), 32);
        assert_eq!(u32_at(&msg, 0), 32, "nlmsg_len");
        assert_eq!(u16_at(&msg, 4), GENL_ID_CTRL, "nlmsg_type");
        assert_eq!(u16_at(&msg, 6), NLM_F_REQUEST, "nlmsg_flags");
        assert_eq!(u32_at(&msg, 8), 7, "nlmsg_seq");
        assert_eq!(u32_at(&msg, 12), 0, "nlmsg_pid");
        assert_eq!(&msg[16..20], &[CTRL_CMD_GETFAMILY, 1, 0, 0], "genlmsghdr");
        assert_eq!(
            u16_at(&msg, 20),
            11,
            "nla_len: header + \"netdev\\0\", unpadded"
        );
        assert_eq!(u16_at(&msg, 22), CTRL_ATTR_FAMILY_NAME);
        assert_eq!(&msg[24..31], b"netdev\0");
        assert_eq!(msg[31], 0, "padding");
    }

    #[test]
    fn encodes_dev_get_with_the_ifindex() {
        let msg = dev_get_request(0x1e, 3, 42);
        assert_eq!(msg.len(), 28);
        assert_eq!(u16_at(&msg, 4), 0x1e);
        assert_eq!(&msg[16..20], &[netdev::CMD_DEV_GET, 1, 0, 0]);
        assert_eq!(u16_at(&msg, 20), 8);
        assert_eq!(u16_at(&msg, 22), netdev::A_DEV_IFINDEX);
        assert_eq!(u32_at(&msg, 24), 42);
    }

    /// A reply as the kernel would build it: nlmsghdr, genlmsghdr, then the attributes.
    fn reply(kind: u16, seq: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let out: Vec<OutAttr> = attrs
            .iter()
            .map(|(kind, payload)| OutAttr {
                kind: *kind,
                payload,
            })
            .collect();
        encode_request(kind, netdev::CMD_DEV_GET, 1, seq, &out)
    }

    #[test]
    fn decodes_a_dev_get_reply() {
        // What a zero-copy NIC with multi-buffer AF_XDP reports (ice-like), with the u64
        // attributes as the kernel puts them and NLA_F_NET_BYTEORDER-free types.
        let features: u64 = 1 | 2 | 4 | 8 | 32 | 64;
        let buf = reply(
            0x1e,
            5,
            &[
                (netdev::A_DEV_IFINDEX, &4u32.to_ne_bytes()),
                (netdev::A_DEV_XDP_FEATURES, &features.to_ne_bytes()),
                (netdev::A_DEV_XDP_ZC_MAX_SEGS, &5u32.to_ne_bytes()),
                (netdev::A_DEV_XDP_RX_METADATA_FEATURES, &3u64.to_ne_bytes()),
                (netdev::A_DEV_XSK_FEATURES, &2u64.to_ne_bytes()),
            ],
        );
        let msgs = decode_messages(&buf).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!((msgs[0].kind, msgs[0].seq), (0x1e, 5));
        let attrs: Vec<(u16, Vec<u8>)> = genl_attrs(msgs[0].payload)
            .unwrap()
            .into_iter()
            .map(|a| (a.kind, a.payload.to_vec()))
            .collect();
        let dev = decode_dev(&attrs).unwrap();
        assert_eq!(
            dev,
            NetdevFeatures {
                xdp_features: features,
                xdp_zc_max_segs: Some(5),
                xdp_rx_metadata_features: Some(3),
                xsk_features: Some(2),
            }
        );
        assert_eq!(
            flag_names(dev.xdp_features, &netdev::XDP_ACT),
            [
                "basic",
                "redirect",
                "ndo-xmit",
                "xsk-zerocopy",
                "rx-sg",
                "ndo-xmit-sg"
            ]
        );
        assert_eq!(
            flag_names(dev.xsk_features.unwrap(), &netdev::XSK_FLAGS),
            ["tx-checksum"]
        );
        assert_eq!(
            flag_names(3, &netdev::XDP_RX_METADATA),
            ["timestamp", "hash"]
        );
        assert_eq!(flag_names(1 << 9, &netdev::XDP_ACT), ["bit-9"]);
    }

    #[test]
    fn decodes_errors_and_masks_attribute_flags() {
        // NLMSG_ERROR: struct nlmsgerr { int error; struct nlmsghdr msg; }.
        let mut buf = vec![0u8; NLMSG_HDRLEN + 4 + NLMSG_HDRLEN];
        let len = buf.len() as u32;
        buf[0..4].copy_from_slice(&len.to_ne_bytes());
        buf[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        buf[16..20].copy_from_slice(&(-libc::ENOENT).to_ne_bytes());
        let msgs = decode_messages(&buf).unwrap();
        assert_eq!(msgs[0].kind, NLMSG_ERROR);
        assert_eq!(decode_error(msgs[0].payload).unwrap(), libc::ENOENT);
        // A nested attribute's type carries NLA_F_NESTED, which decoding masks off.
        let mut attr = vec![8, 0, 0, 0, 1, 0, 0, 0];
        attr[2..4].copy_from_slice(&(6u16 | 1 << 15).to_ne_bytes());
        assert_eq!(decode_attrs(&attr).unwrap()[0].kind, 6);
    }

    #[test]
    fn refuses_lengths_past_the_buffer() {
        let mut buf = dev_get_request(0x1e, 1, 1);
        buf[0..4].copy_from_slice(&64u32.to_ne_bytes());
        assert!(decode_messages(&buf).is_err());
        let attr = [12u8, 0, 1, 0, 0, 0, 0, 0];
        assert!(decode_attrs(&attr).is_err());
        let short = Attr {
            kind: 1,
            payload: &[1, 2, 3],
        };
        assert!(short.uint().is_err());
    }

    #[test]
    fn asks_the_kernel_about_loopback() {
        // Linux 6.3+ has the family; the loopback has no native XDP, so it reports none.
        match netdev_features(1) {
            Ok(dev) => assert_eq!(dev.xdp_features & netdev::XDP_ACT_XSK_ZEROCOPY, 0),
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "{e}"),
        }
        let mut sock = GenlSocket::open().unwrap();
        let e = sock.family_id("xdpnet-no-such").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }
}
